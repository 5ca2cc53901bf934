import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './cli.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-open-files-'));
  // As root, the embedded server runs as the `postgres` user: it must reach the data folder.
  await chmod(dataDir, 0o755);
});
afterAll(async () => rm(dataDir, { recursive: true, force: true }));

describe('kluis serve with few file descriptors (session 19, decision 0882)', () => {
  it(
    'under `ulimit -n 256` kluis serve starts its embedded PostgreSQL, sets up the first run, answers /health and stops cleanly on SIGTERM (it died with EMFILE while loading its modules)',
    { timeout: 240_000 },
    async () => {
      const env = { KLUIS_DATA_DIR: dataDir, KLUIS_PORT: '0', KLUIS_PG_PORT: '0', KLUIS_DEMO: 'false' };
      const server = await startServer(env, 180_000, undefined, { openFileLimit: 256 });
      try {
        // The limit is the server's own (sh exec'd node: the same pid).
        const limits = readFileSync(`/proc/${server.child.pid}/limits`, 'utf8');
        expect(limits).toMatch(/^Max open files\s+256\s+256\s+files/m);
        const health = await fetch(`${server.url}/health`);
        expect(health.status).toBe(200);
        expect(await health.json()).toEqual({ status: 'ok', db: 'ok' });
      } finally {
        server.child.kill('SIGTERM');
      }
      expect(await server.exited).toBe(0);
      expect(server.output()).not.toMatch(/EMFILE|too many open files/);
    },
  );
});
