import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleError } from '../src/http/error-handler.js';
import { runHandlerAsRequest } from '../src/http/head.js';
import { createAppDb, DatabaseSilentError, withTenant, type Db } from '../src/platform/db.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../src/platform/embedded-postgres.js';
import { testLogger } from './database.js';
import { postgresProcesses } from './processes.js';

// Attack S15-3, decision 0810, on a really frozen server: a PostgreSQL of the test's own (the
// shared one serves every other test file), its postmaster and backends stopped with SIGSTOP as the
// attack did. A request that goes on after its first transaction met the silence answers within
// one bound (1 s of silence here instead of 30 s, and the probe's 5 s), not two.
const SILENCE_MS = 1000;

let server: EmbeddedServer;
let dataDir: string;
let db: Db;
let app: FastifyInstance;
/** Processes this test stopped, continued whatever happens. */
let frozen: number[] = [];
const seen: { second?: { error: unknown; waitedMs: number } } = {};

function signal(pids: readonly number[], name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  }
}

/** The postmaster of the test's server and its children. */
async function serverProcesses(): Promise<number[]> {
  const postmaster = Number(
    (await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0],
  );
  return postgresProcesses(postmaster);
}

const selectOne = () => withTenant(db, 1, (tx) => sql`select 1`.execute(tx));

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-frozen-request-'));
  server = await startEmbeddedPostgres({ dataDir, preferredPort: 0, logger: testLogger, persistent: false });
  ({ db } = createAppDb({
    connectionString: server.url('postgres'),
    assumeAppRole: false,
    logger: testLogger,
    max: 4,
    statementSilenceMs: SILENCE_MS,
  }));
  app = Fastify();
  app.addHook('onRoute', runHandlerAsRequest);
  app.setErrorHandler(handleError);
  app.post('/two-transactions', async () => {
    // The first transaction meets the frozen server and is cut; the request goes on (a fallback,
    // a refusal recorded) and takes a connection again.
    await selectOne().catch(() => undefined);
    const started = Date.now();
    try {
      await selectOne();
    } catch (error) {
      seen.second = { error, waitedMs: Date.now() - started };
      throw error;
    }
    return { done: true };
  });
  await app.ready();
}, 120_000);

afterAll(async () => {
  signal(frozen, 'SIGCONT');
  await app.close();
  await db.destroy();
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a request into a SIGSTOPped PostgreSQL (attack S15-3, decision 0810)', () => {
  it('a request of two transactions answers 503 database_unavailable within one bound: its second is refused at once; once the server runs again the next request answers', async () => {
    // Warm connections, as under load.
    await Promise.all([selectOne(), selectOne()]);
    frozen = await serverProcesses();
    signal(frozen, 'SIGSTOP');
    const started = Date.now();
    const answer = await app.inject({ method: 'POST', url: '/two-transactions' });
    const waited = Date.now() - started;
    signal(frozen, 'SIGCONT');
    expect(answer.statusCode, answer.body).toBe(503);
    expect(answer.json<{ code: string }>().code).toBe('database_unavailable');
    expect(answer.headers['retry-after']).toBe('5');
    expect(seen.second?.error).toBeInstanceOf(DatabaseSilentError);
    // Refused unsent: a watched wait cannot end before its silence limit.
    expect(seen.second?.waitedMs).toBeLessThan(SILENCE_MS);
    // One bound (1 s + the probe's 5 s) on a loaded machine; two would be 12 s and more.
    expect(waited).toBeLessThan(20_000);

    // The server runs again: a new request is not refused (it has met no silence).
    const again = await app.inject({ method: 'POST', url: '/two-transactions' });
    expect(again.statusCode, again.body).toBe(200);
  }, 60_000);
});
