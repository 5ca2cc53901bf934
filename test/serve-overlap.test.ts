import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './cli.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-overlap-'));
});
afterAll(async () => rm(dataDir, { recursive: true, force: true }));

async function health(url: string): Promise<unknown> {
  const response = await fetch(`${url}/health`);
  return { status: response.status, body: await response.json() };
}

async function waitForMatch(output: () => string, pattern: RegExp, timeoutMs = 120_000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const match = pattern.exec(output());
    if (match?.[1]) return match[1];
    if (Date.now() - started > timeoutMs) throw new Error(`no ${String(pattern)} in: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a restart that overlaps the old server’s shutdown (attack S9-2, decision 0588)', () => {
  it(
    'a second kluis serve on the same data folder waits for the first to end, then runs its own embedded PostgreSQL and stays healthy',
    { timeout: 240_000 },
    async () => {
      const env = { KLUIS_DATA_DIR: dataDir, KLUIS_PORT: '0', KLUIS_PG_PORT: '0' };
      const first = await startServer(env);
      expect(await health(first.url)).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });

      // The successor starts while the first still runs (and holds the cluster): it waits.
      const second = await startServer(env, 120_000, /(waiting for it to stop)/);
      try {
        expect(second.output()).not.toMatch(/Kluis is running at/);
        expect(await health(first.url)).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });

        first.child.kill('SIGTERM');
        await first.exited;
        const url = await waitForMatch(() => second.output(), /Kluis is running at (http:\/\/\S+)/);
        // The successor started the cluster itself: the first one's stop did not take it away.
        const owner = JSON.parse(await readFile(path.join(dataDir, 'embedded-server.json'), 'utf8')) as {
          pid: number;
        };
        expect(owner.pid).toBe(second.child.pid);
        expect(await health(url)).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });
        const login = await fetch(`${url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            tenant: 'voiceking',
            email: 'nobody@voiceking.example',
            password: 'wrong password 1',
          }),
        });
        expect(login.status).toBe(401);
      } finally {
        second.child.kill('SIGINT');
        await second.exited;
      }
    },
  );
});
