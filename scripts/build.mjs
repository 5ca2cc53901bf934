// Compiles src/ to dist/ (tsconfig.build.json, incremental) and stamps the build, so bin/kluis.js
// runs the compiled code only when it is at least as new as every source file. Then builds the
// staff back office (web/, React + Vite) into dist/web, which `kluis serve` serves at `/`.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const stamp = new URL('dist/.built', root);
const require = createRequire(import.meta.url);
rmSync(stamp, { force: true });
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
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

let vite;
try {
  vite = await import('vite');
} catch {
  console.warn('kluis: vite is not installed; skipping the web build (the back office is not served)');
  process.exit(0);
}
await vite.build({
  configFile: fileURLToPath(new URL('web/vite.config.ts', root)),
  logLevel: 'warn',
});
