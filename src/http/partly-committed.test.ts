import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant } from '../../test/kernel.js';
import { closeProxiedKernel, createProxiedKernel } from '../../test/proxied-kernel.js';
import { startProxy, type TcpProxy } from '../../test/tcp-proxy.js';
import { CommitOutcomeUnknown, withTenant, type Db } from '../platform/db.js';
import { withoutNotingCommits } from '../platform/request-scope.js';
import { handleError, PARTLY_COMMITTED } from './error-handler.js';
import { runHandlerAsRequest } from './head.js';

// Decision 0762: a request made of several transactions that loses the database after one of
// them committed answers 503 with details.outcome "partial", not the plain 503 that means
// "nothing of this request was saved".

let database: TestDatabase;
let proxy: TcpProxy;
let proxied: Db;
let app: FastifyInstance;
let tenantId: number;

/** One transaction of the tenant on the proxied pool, committed. */
const oneTransaction = () => withTenant(proxied, tenantId, (tx) => sql`select 1`.execute(tx));

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startProxy(new URL(database.ownerUrl));
  const made = createProxiedKernel(database, proxy);
  proxied = made.db;
  tenantId = (await createPolicyTenant(made.kernel, 'voxtra')).tenantId;
  // The app's own hook and error handler, on routes of the test's making.
  app = Fastify();
  app.addHook('onRoute', runHandlerAsRequest);
  app.setErrorHandler(handleError);
  app.post('/two-transactions', async () => {
    await oneTransaction();
    await proxy.cut();
    await oneTransaction();
    return { done: true };
  });
  app.post('/bookkeeping-then-one', async () => {
    // As an Idempotency-Key's row is claimed in a transaction of its own before the work.
    await withoutNotingCommits(oneTransaction);
    await proxy.cut();
    await oneTransaction();
    return { done: true };
  });
  app.post('/one-transaction', async () => {
    await proxy.cut();
    await oneTransaction();
    return { done: true };
  });
  app.post('/commit-lost', () => {
    throw new CommitOutcomeUnknown(Object.assign(new Error('Connection terminated'), { code: 'ECONNRESET' }));
  });
  await app.ready();
}, 120_000);
afterAll(async () => closeProxiedKernel({ app, proxied, proxy, database }));

describe('a request that loses the database after one of its transactions committed (decision 0762)', () => {
  it('answers 503 database_unavailable with details.outcome "partial" and says part of it was saved; one that committed nothing, or only its bookkeeping, answers the plain 503', async () => {
    const partly = await app.inject({ method: 'POST', url: '/two-transactions' });
    expect(partly.statusCode, partly.body).toBe(503);
    expect(partly.json()).toMatchObject({
      code: 'database_unavailable',
      detail: PARTLY_COMMITTED,
      details: { outcome: 'partial' },
    });
    await proxy.restore();

    for (const url of ['/one-transaction', '/bookkeeping-then-one']) {
      const nothing = await app.inject({ method: 'POST', url });
      expect(nothing.statusCode, nothing.body).toBe(503);
      const body = nothing.json<{ code: string; details?: unknown }>();
      expect(body.code).toBe('database_unavailable');
      expect(body.details).toBeUndefined();
      await proxy.restore();
    }
  });
});

describe('every 503 database_unavailable says when to try again (decisions 0767, 0813)', () => {
  it('the plain, the partial and the commit-unknown 503 each carry Retry-After: 5', async () => {
    for (const url of ['/one-transaction', '/two-transactions', '/commit-lost']) {
      const answer = await app.inject({ method: 'POST', url });
      expect(answer.statusCode, `${url}: ${answer.body}`).toBe(503);
      expect(answer.json<{ code: string }>().code).toBe('database_unavailable');
      expect(answer.headers['retry-after'], url).toBe('5');
      await proxy.restore();
    }
  });
});
