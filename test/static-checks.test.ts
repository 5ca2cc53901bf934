/**
 * `npm run check` (scripts/check.mjs, decision 1300) gates `npm test` and CI: it must fail when any
 * of its checks fails, and its type check must cover every TypeScript project of the repository,
 * the back office's own (web/, decision 0170) included (attack S27-4).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';

let dir: string;
let fakeNpm: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kluis-check-'));
  // Stands in for npm: `run --silent <script>` exits with the code the test gives that script.
  fakeNpm = path.join(dir, 'fake-npm.cjs');
  await writeFile(
    fakeNpm,
    `const script = process.argv[4];
process.stdout.write('ran ' + script + '\\n');
const code = JSON.parse(process.env.FAKE_CODES)[script];
if (code === 'killed') process.kill(process.pid, 'SIGKILL');
else process.exit(code);
`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runCheck(codes: Record<string, number | 'killed'>): { status: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts/check.mjs')], {
    cwd: ROOT,
    env: { ...process.env, npm_execpath: fakeNpm, FAKE_CODES: JSON.stringify(codes) },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout };
}

describe('npm run check (decision 1300, attack S27-4)', () => {
  it('decision 1300: scripts/check.mjs exits 1 when tsc, eslint or prettier fails or is killed, 0 only when all three pass, and prints each one’s output', () => {
    const passing = { typecheck: 0, lint: 0, 'format:check': 0 };
    const allPass = runCheck(passing);
    expect(allPass.status).toBe(0);
    for (const script of ['typecheck', 'lint', 'format:check'])
      expect(allPass.stdout).toContain(`> ${script}: passed\nran ${script}`);
    for (const [script, code] of [
      ['typecheck', 2],
      ['lint', 1],
      ['format:check', 1],
      ['typecheck', 'killed'],
    ] as const) {
      const failed = runCheck({ ...passing, [script]: code });
      expect(failed.status, `${script} ${code}`).toBe(1);
      expect(failed.stdout).toContain(`> ${script}: failed (exit ${code === 'killed' ? 1 : code})`);
    }
  });

  it('decision 0170: npm run typecheck type-checks the back office (web/tsconfig.json) as well as the server, tests and benches', async () => {
    const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const projects = [...(manifest.scripts.typecheck ?? '').matchAll(/tsc --noEmit -p (\S+)/g)].map(
      (match) => match[1],
    );
    // Before: only `-p .`, whose include (src, test, bench) leaves web/ out: a type error in the
    // back office passed `npm run check` and `npm test`.
    expect(projects).toEqual(['.', 'web']);
    const rootConfig = JSON.parse(await readFile(path.join(ROOT, 'tsconfig.json'), 'utf8')) as {
      include: string[];
    };
    expect(rootConfig.include).not.toContain('web');
  });
});
