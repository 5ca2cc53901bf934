import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNCLEAN_STOP_EXIT_CODE } from '../src/platform/bounded-stop.js';
import { anchoredServerEnv, failLogin, runCli, startServer } from './cli.js';
import { isAlive, postgresProcesses, waitUntil } from './processes.js';

// Attack S14-4 (decision 0785): a stop while the embedded PostgreSQL is frozen (SIGSTOP of the
// postmaster and its backends) took the sum of every step's limit and more (80 s and still
// alive). It now asks the database first, skips the checkpoint when it does not answer, waits a
// short grace, says so in one line and exits UNCLEAN_STOP_EXIT_CODE; the next start takes the
// checkpoint.

let dataDir: string;
/** Processes this test stopped, continued whatever happens. */
let frozen: number[] = [];
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-frozen-stop-'));
});
afterAll(async () => {
  signal(frozen, 'SIGCONT');
  await rm(dataDir, { recursive: true, force: true });
});

function signal(pids: readonly number[], name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  }
}

/** The highest sequence number anchored for `tenantId` in the anchor file. */
async function anchoredSeq(anchorFile: string, tenantId: number): Promise<number> {
  const text = await readFile(anchorFile, 'utf8').catch(() => '');
  const seqs = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { tenantId: number; seq: number })
    .filter((anchor) => anchor.tenantId === tenantId)
    .map((anchor) => anchor.seq);
  return Math.max(0, ...seqs);
}

describe('a stop while the database is frozen (attack S14-4, decision 0785)', () => {
  it(
    'ends within its bound, says so in one log line and exits non-zero; the next start with the database back takes the checkpoint and the chain verifies',
    { timeout: 300_000 },
    async () => {
      const { env, anchorFile } = anchoredServerEnv(dataDir);
      const server = await startServer(env, 90_000, undefined, { detached: true });
      // A failed login is audited: an entry after the start's checkpoint.
      await failLogin(server.url, 'wrong 1');
      const postmaster = Number(
        (await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0],
      );
      frozen = postgresProcesses(postmaster);
      signal(frozen, 'SIGSTOP');

      const started = Date.now();
      server.child.kill('SIGTERM');
      const code = await server.exited;
      const stoppedMs = Date.now() - started;
      signal(frozen, 'SIGCONT');

      expect(code).toBe(UNCLEAN_STOP_EXIT_CODE);
      // The probe's 5 s and the grace's 5 s, on a loaded machine: far below the 60 s limit, and
      // below the 80 s (and more) of the attack.
      expect(stoppedMs).toBeLessThan(30_000);
      const lines = server
        .output()
        .split('\n')
        .filter((line) => line.includes('stop not clean'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
        level: 50,
        checkpoint: 'skipped',
        database: 'silent',
      });
      // The continued postmaster carries out the stop it was asked for.
      await waitUntil(() => !isAlive(postmaster), 30_000);

      const listed = await runCli(['tenant', 'list'], env);
      const voiceking = Number(/^voiceking\s+(\d+)/m.exec(listed.stdout)?.[1]);
      const before = await runCli(['audit', 'verify', '--tenant', 'voiceking'], env);
      expect(before.code, before.stdout + before.stderr).toBe(0);
      const entries = Number(/intact \((\d+) entries/.exec(before.stdout)?.[1]);
      // The stop anchored nothing: the failed login is after the last checkpoint.
      expect(await anchoredSeq(anchorFile, voiceking)).toBeLessThan(entries);

      const next = await startServer(env, 90_000, undefined, { detached: true });
      // The start's checkpoint covers the whole chain of before.
      await waitUntil(async () => (await anchoredSeq(anchorFile, voiceking)) >= entries, 60_000);
      process.kill(-(next.child.pid ?? 0), 'SIGINT');
      expect(await next.exited).toBe(0);
      expect(next.output()).not.toMatch(/stop not clean/);
      const after = await runCli(['audit', 'verify', '--tenant', 'voiceking'], env);
      expect(after.code, after.stdout + after.stderr).toBe(0);
    },
  );
});
