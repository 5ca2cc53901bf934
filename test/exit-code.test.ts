import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli.js';

describe('the test run itself', () => {
  it('a failing test makes the run exit non-zero, even with the embedded PostgreSQL loaded (its exit hook would say 0)', () => {
    const result = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--config',
        'test/fixtures/exit-code/vitest.config.ts',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(result.stdout + result.stderr).toMatch(/fails on purpose/);
    expect(result.status).toBe(1);
  });
});
