import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

let root: string;
let dataDir: string;
let brokenPolicies: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kluis-start-failure-'));
  // As root, the embedded server runs as the `postgres` user: it must reach the data folder.
  await chmod(root, 0o755);
  dataDir = path.join(root, 'data');
  brokenPolicies = path.join(root, 'policies');
  await mkdir(brokenPolicies);
  // A policy folder whose one file is no policy: the first-run setup fails on it, after listening.
  await writeFile(path.join(brokenPolicies, 'broken.yaml'), 'controller: [not a policy\n');
});
afterAll(async () => {
  // A run of the code before the fix leaves its PostgreSQL running: stopped here, not left behind.
  for (const pid of postgresOf(path.join(dataDir, 'pg'))) process.kill(pid, 'SIGINT');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await rm(root, { recursive: true, force: true });
});

/** The pids of the processes of this machine that run PostgreSQL on `clusterDir` (Linux /proc). */
function postgresOf(clusterDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = args.indexOf('-D');
      if (at >= 0 && args[at + 1] === clusterDir) pids.push(Number(entry));
    } catch {
      // Ended while we looked.
    }
  }
  return pids;
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

/** Nothing of the data folder's PostgreSQL runs, and its lock file is gone. */
function expectNoServerLeft(): void {
  expect(postgresOf(path.join(dataDir, 'pg'))).toEqual([]);
  expect(() => readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toThrow(/ENOENT/);
}

describe('a start that fails stops what it started (session 19, decision 0880)', () => {
  it(
    'kluis serve whose first-run setup fails after it listens stops its HTTP server, job queue and embedded PostgreSQL, and exits 1 with one line naming the cause',
    { timeout: 240_000 },
    async () => {
      const env = {
        KLUIS_DATA_DIR: dataDir,
        KLUIS_PORT: '0',
        KLUIS_PG_PORT: '0',
        KLUIS_POLICY_DIR: brokenPolicies,
      };
      const result = await runCli(['serve'], env, 180_000);

      expect(result.code).toBe(1);
      // It had listened: the failure came after "Server listening".
      expect(result.stdout).toMatch(/Kluis is starting at http:\/\//);
      expect(result.stdout).not.toMatch(/Kluis is running/);
      expect(lines(result.stderr)).toEqual([
        'kluis: the first-run setup failed: The policy has 1 error(s). (invalid_policy)',
      ]);
      expectNoServerLeft();
    },
  );

  it(
    'kluis serve whose transfer CA file cannot be read stops the embedded PostgreSQL it started and exits 1 with one line naming the setting',
    { timeout: 240_000 },
    async () => {
      const env = {
        KLUIS_DATA_DIR: dataDir,
        KLUIS_PORT: '0',
        KLUIS_PG_PORT: '0',
        KLUIS_TRANSFER_CA_FILE: path.join(root, 'missing-ca.pem'),
      };
      const result = await runCli(['serve'], env, 180_000);

      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toEqual(['kluis: KLUIS_TRANSFER_CA_FILE: cannot read the file']);
      expectNoServerLeft();
    },
  );
});
