import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './cli.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-recovery-'));
});
afterAll(async () => rm(dataDir, { recursive: true, force: true }));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function postmasterPid(): Promise<number> {
  return Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

async function health(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/health`);
  return { status: response.status, body: await response.json() };
}

describe('the embedded database going away under a running Kluis (issue 12)', () => {
  it('kill -9 of the embedded PostgreSQL: /health says it is being restarted, then Kluis serves again', async () => {
    const server = await startServer(
      { KLUIS_DATA_DIR: dataDir, KLUIS_PORT: '0', KLUIS_PG_PORT: '0', KLUIS_DEMO: 'false' },
      120_000,
    );
    try {
      expect(await health(server.url)).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });
      const killed = await postmasterPid();
      process.kill(killed, 'SIGKILL');
      while (isAlive(killed)) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(server.child.exitCode, server.output()).toBeNull();
      expect(await health(server.url)).toEqual({
        status: 503,
        body: { status: 'degraded', db: 'unreachable', recovery: 'restarting-embedded-server' },
      });
      let after = await health(server.url);
      for (let attempt = 0; attempt < 300 && after.status !== 200; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        after = await health(server.url);
      }
      expect(after).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });
      const restarted = await postmasterPid();
      expect(restarted).not.toBe(killed);
      expect(isAlive(restarted)).toBe(true);
      expect(server.output()).toContain('embedded PostgreSQL server stopped unexpectedly');
    } finally {
      server.child.kill('SIGINT');
      await server.exited;
    }
  }, 180_000);
});
