import { spawn } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { prepareDatabases } from '../main.js';
import { createLogger } from './logger.js';

// Decision 0588: `kluis serve` waits for the live Kluis that runs its data folder's embedded
// PostgreSQL, and gives up after OWNER_WAIT_MS (90 s) naming that process. The wait is shortened
// here through the internal `ownerWaitMs`; the owner is a live node process that never stops.
let dataDir: string;
let owner: ReturnType<typeof spawn>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mend-owner-wait-'));
  owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise<void>((resolve) => owner.once('spawn', () => resolve()));
  await writeFile(
    path.join(dataDir, 'embedded-server.json'),
    JSON.stringify({ pid: owner.pid, port: 47681 }),
  );
});
afterAll(async () => {
  owner.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

describe('a starting server and the live owner of its embedded PostgreSQL (decision 0588)', () => {
  it('a server whose data folder’s PostgreSQL stays run by another live Kluis gives up after the wait, naming that process, and starts nothing', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: { write: (line: string) => lines.push(line) },
    });
    const config = loadConfig({ KLUIS_DATA_DIR: dataDir, KLUIS_PG_PORT: '47682' }, dataDir);
    await expect(prepareDatabases(config, logger, { server: true, ownerWaitMs: 600 })).rejects.toThrow(
      `another Kluis (pid ${owner.pid}) still runs the embedded PostgreSQL of ${dataDir} after 1 s; stop it first`,
    );
    expect(lines.join('')).toContain(
      'another Kluis runs the embedded PostgreSQL of this data folder; waiting',
    );
    // Nothing was started or initialised: the cluster folder was never made.
    await expect(access(path.join(dataDir, 'pg', 'postmaster.pid'))).rejects.toThrow();
    await expect(access(path.join(dataDir, 'pg', 'PG_VERSION'))).rejects.toThrow();
  });
});
