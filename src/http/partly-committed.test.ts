import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant } from '../../test/kernel.js';
import { closeProxiedKernel, createProxiedKernel } from '../../test/proxied-kernel.js';
import { startProxy, type TcpProxy } from '../../test/tcp-proxy.js';
import { readEvent } from '../kernel/audit/audit.test-helpers.js';
import { TenantPolicyStore } from '../kernel/tenant-policy/tenant-policy.service.js';
import type { Kernel } from '../kernel/kernel.js';
import { createApiToken, createStaffUser } from '../modules/staff/index.js';
import { authenticateApiToken } from '../modules/staff/token.service.js';
import { CommitOutcomeUnknown, DatabaseBusyError, withTenant, type Db } from '../platform/db.js';
import { withoutNotingCommits } from '../platform/request-scope.js';
import { BUSY_PARTLY_COMMITTED, handleError, PARTLY_COMMITTED } from './error-handler.js';
import { runHandlerAsRequest } from './head.js';

// Decision 0762: a request made of several transactions that loses the database after one of
// them committed answers 503 with details.outcome "partial", not the plain 503 that means
// "nothing of this request was saved".

let database: TestDatabase;
let proxy: TcpProxy;
let proxied: Db;
let app: FastifyInstance;
let tenantId: number;
let kernel: Kernel;
/** An API token of the tenant, found afresh by each request (its use recorded at most once a minute). */
let token: string;

/** One transaction of the tenant on the proxied pool that only reads, committed. */
const oneTransaction = () => withTenant(proxied, tenantId, (tx) => sql`select 1`.execute(tx));
/** One transaction of the tenant on the proxied pool that counts an attempt (it writes), committed. */
const oneWrite = () =>
  withTenant(proxied, tenantId, (tx) =>
    sql`insert into throttle_counters (tenant_id, bucket, key_hash, window_started_at, last_hit_at, hits)
        values (${tenantId}, 'test.partial', decode(md5(random()::text), 'hex'), now(), now(), 1)`.execute(
      tx,
    ),
  );

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startProxy(new URL(database.ownerUrl));
  const made = createProxiedKernel(database, proxy);
  proxied = made.db;
  kernel = made.kernel;
  tenantId = (await createPolicyTenant(made.kernel, 'voxtra')).tenantId;
  // voiceking's policy lets a billing token be made without a second factor (voxtra's does not).
  const voiceking = (await createPolicyTenant(made.kernel, 'voiceking')).tenantId;
  const maker = await createStaffUser(
    kernel,
    voiceking,
    { kind: 'system', job: 'test' },
    { email: 'sync@staff.example', displayName: 'sync', role: 'billing' },
  );
  ({ token } = await createApiToken(
    kernel,
    voiceking,
    { kind: 'staff', staffId: maker.staffId, role: 'billing' },
    { label: 'sync', role: 'billing' },
  ));
  // The app's own hook and error handler, on routes of the test's making.
  app = Fastify();
  app.addHook('onRoute', runHandlerAsRequest);
  app.setErrorHandler(handleError);
  app.post('/two-transactions', async () => {
    await oneWrite();
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
  // As a pool that stayed full for the whole wait while the server answers (decision 0787).
  const busy = () => new DatabaseBusyError({ cause: new Error('timeout exceeded when trying to connect') });
  app.post('/commit-then-busy', async () => {
    await oneWrite();
    throw busy();
  });
  // A read's own transactions (decision 0762 amended): committed, but they saved nothing; and one
  // that sent nothing at all.
  app.post('/read-then-busy', async () => {
    await oneTransaction();
    await withTenant(proxied, tenantId, () => Promise.resolve());
    throw busy();
  });
  app.post('/read-then-lost', async () => {
    await oneTransaction();
    await proxy.cut();
    await oneTransaction();
    return { done: true };
  });
  // A read under the gate writes its audit entry: that is saved, so "partial" holds.
  app.post('/audit-then-busy', async () => {
    await kernel.transact(tenantId, (atx) => {
      atx.audit.record(readEvent([], { purpose: 'customer_administration', role: 'sales' }));
      return Promise.resolve();
    });
    throw busy();
  });
  // A read's housekeeping before its work: the token found (its last use recorded), the policy
  // read afresh (a cache of 0 ms), a chain run; then the pool is full.
  app.post('/housekeeping-then-busy', async () => {
    await authenticateApiToken(kernel, token);
    await new TenantPolicyStore(proxied, 0).current(tenantId);
    await kernel.auditLog.chainPending(tenantId);
    throw busy();
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

describe('a request whose committed transactions only read (decision 0762 amended)', () => {
  it('answers the plain 503 database_busy or database_unavailable after read-only commits: nothing was saved; after an audit-only append it is "partial"', async () => {
    const busy = await app.inject({ method: 'POST', url: '/read-then-busy' });
    expect(busy.statusCode, busy.body).toBe(503);
    const busyBody = busy.json<{ code: string; detail: string; details?: unknown }>();
    expect(busyBody.code).toBe('database_busy');
    expect(busyBody.detail).toMatch(/nothing of this request was done/);
    expect(busyBody.details).toBeUndefined();

    const lost = await app.inject({ method: 'POST', url: '/read-then-lost' });
    expect(lost.statusCode, lost.body).toBe(503);
    const lostBody = lost.json<{ code: string; details?: unknown }>();
    expect(lostBody.code).toBe('database_unavailable');
    expect(lostBody.details).toBeUndefined();
    await proxy.restore();

    const audited = await app.inject({ method: 'POST', url: '/audit-then-busy' });
    expect(audited.statusCode, audited.body).toBe(503);
    expect(audited.json()).toMatchObject({ code: 'database_busy', details: { outcome: 'partial' } });
  });
});

describe('a busy pool part-way through a request (attack S15-5, decision 0812)', () => {
  it('after a committed transaction answers 503 database_busy with details.outcome "partial" and the busy wording, not "the database was lost"', async () => {
    const answer = await app.inject({ method: 'POST', url: '/commit-then-busy' });
    expect(answer.statusCode, answer.body).toBe(503);
    expect(answer.json()).toMatchObject({
      code: 'database_busy',
      detail: BUSY_PARTLY_COMMITTED,
      details: { outcome: 'partial' },
    });
    expect(answer.json<{ detail: string }>().detail).not.toMatch(/lost/);
    expect(answer.headers['retry-after']).toBe('5');
  });

  it('after only housekeeping (an API token found, the policy read, a chain run) answers the plain 503 database_busy: nothing of the request was saved', async () => {
    const answer = await app.inject({ method: 'POST', url: '/housekeeping-then-busy' });
    expect(answer.statusCode, answer.body).toBe(503);
    const body = answer.json<{ code: string; detail: string; details?: unknown }>();
    expect(body.code).toBe('database_busy');
    expect(body.detail).toMatch(/nothing of this request was done/);
    expect(body.details).toBeUndefined();
  });
});
