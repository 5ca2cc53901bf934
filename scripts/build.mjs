// Compiles src/ to dist/ (tsconfig.build.json, incremental) and stamps the build, so bin/kluis.js
// runs the compiled code only when it is at least as new as every source file.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url);
const stamp = new URL('dist/.built', root);
rmSync(stamp, { force: true });
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without dev dependencies has no compiler: bin/kluis.js then runs the sources (tsx).
  console.warn('kluis: typescript is not installed; skipping the build (the CLI runs the sources)');
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(stamp, `${new Date().toISOString()}\n`);
