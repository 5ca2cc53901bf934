import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant } from '../../test/kernel.js';
import { closeProxiedKernel, createProxiedKernel } from '../../test/proxied-kernel.js';
import { startProxy, type TcpProxy } from '../../test/tcp-proxy.js';
import { DatabaseSilentError, unlessDatabaseSilent, withTenant, type Db } from '../platform/db.js';
import { handleError } from './error-handler.js';
import { runHandlerAsRequest } from './head.js';

// Attack S15-3, decision 0810: the bound of decisions 0726 and 0767 (a statement or a connection
// wait unanswered for the silence limit, then a probe unanswered for 5 s) holds once per request:
// once a request has found the database silent, its later statements and connection waits fail at
// once instead of each waiting its own bound. 1 s of silence here instead of 30 s; the probe 5 s.
const SILENCE_MS = 1000;

let database: TestDatabase;
let proxy: TcpProxy;
let proxied: Db;
let app: FastifyInstance;
let tenantId: number;

/** What the test routes saw of their second database call. */
const seen: { second?: { error: unknown; waitedMs: number } } = {};

/** The route's second database call, as it ended. */
function secondCall(): { error: unknown; waitedMs: number } {
  if (!seen.second) throw new Error('the route made no second call');
  return seen.second;
}

const selectOne = () => withTenant(proxied, tenantId, (tx) => sql`select 1`.execute(tx));

async function timed(work: () => Promise<unknown>): Promise<void> {
  const started = Date.now();
  try {
    await work();
    seen.second = { error: undefined, waitedMs: Date.now() - started };
  } catch (error) {
    seen.second = { error, waitedMs: Date.now() - started };
    throw error;
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startProxy(new URL(database.ownerUrl));
  const made = createProxiedKernel(database, proxy, { statementSilenceMs: SILENCE_MS });
  proxied = made.db;
  tenantId = (await createPolicyTenant(made.kernel, 'voxtra')).tenantId;
  app = Fastify();
  app.addHook('onRoute', runHandlerAsRequest);
  app.setErrorHandler(handleError);
  // A request that goes on after its first transaction failed (a denial recorded, a fallback),
  // then takes a connection again.
  app.post('/two-transactions', async () => {
    proxy.freeze();
    await selectOne().catch(() => undefined);
    await timed(selectOne);
    return { done: true };
  });
  // A request holding a connection (its transaction answered once) while another of its
  // transactions finds the database silent: the held transaction's next statement is refused
  // unsent, and its connection is not pooled again.
  app.post('/held-transaction', async () =>
    withTenant(proxied, tenantId, async (tx) => {
      await sql`select 1`.execute(tx);
      proxy.freeze();
      await selectOne().catch(() => undefined);
      await timed(() => sql`select 1`.execute(tx));
      return { done: true };
    }),
  );
  await app.ready();
}, 120_000);
afterAll(async () => closeProxiedKernel({ app, proxied, proxy, database }));

async function databaseBack(): Promise<void> {
  await proxy.cut();
  await proxy.restore();
  // The pool may still hand out a connection of the freeze once: the next one is fresh.
  await selectOne().catch(() => selectOne());
}

describe('a request meets a frozen database once, not once per statement (attack S15-3, decision 0810)', () => {
  it('a request of two transactions answers 503 database_unavailable within one bound: its second connection wait is refused at once, not waited for another 30 s + 5 s', async () => {
    delete seen.second;
    const started = Date.now();
    const answer = await app.inject({ method: 'POST', url: '/two-transactions' });
    const waited = Date.now() - started;
    expect(answer.statusCode, answer.body).toBe(503);
    expect(answer.json<{ code: string; details?: unknown }>()).toMatchObject({
      code: 'database_unavailable',
    });
    // Nothing of the request committed: the plain 503.
    expect(answer.json<{ details?: unknown }>().details).toBeUndefined();
    expect(answer.headers['retry-after']).toBe('5');
    // Refused unsent: a watched wait cannot end before its silence limit.
    expect(secondCall().error).toBeInstanceOf(DatabaseSilentError);
    expect(secondCall().waitedMs).toBeLessThan(SILENCE_MS);
    // One bound (1 s + the probe's 5 s) on a loaded machine, not two.
    expect(waited).toBeLessThan(20_000);
    await databaseBack();
    const again = await app.inject({ method: 'POST', url: '/two-transactions' });
    expect(again.statusCode).toBe(503);
    await databaseBack();
  }, 60_000);

  it('a statement of a transaction the request holds is refused unsent once another of its transactions found the database silent, and that connection is dropped: the pool answers once the database is back', async () => {
    delete seen.second;
    const answer = await app.inject({ method: 'POST', url: '/held-transaction' });
    expect(answer.statusCode, answer.body).toBe(503);
    expect(answer.json<{ code: string }>().code).toBe('database_unavailable');
    expect(secondCall().error).toBeInstanceOf(DatabaseSilentError);
    expect(secondCall().waitedMs).toBeLessThan(SILENCE_MS);
    await databaseBack();
    // Every connection of the pool answers (none was pooled again inside an open transaction).
    const reads = await Promise.all([1, 2, 3, 4].map(() => selectOne()));
    expect(reads).toHaveLength(4);
  }, 60_000);

  it('a request’s after-work wait (the chain run after its commit) ends when the pool finds the database silent, not when the work does', async () => {
    proxy.freeze();
    const never = new Promise<string>(() => undefined);
    const waiting = unlessDatabaseSilent(proxied, never);
    // A statement of the pool goes unanswered: its probe finds the database silent.
    await selectOne().catch(() => undefined);
    await expect(waiting).resolves.toBeUndefined();
    // Still silent, nothing answered since: a new wait ends at once.
    await expect(unlessDatabaseSilent(proxied, never)).resolves.toBeUndefined();
    await databaseBack();
    await expect(unlessDatabaseSilent(proxied, Promise.resolve('chained'))).resolves.toBe('chained');
  }, 60_000);
});
