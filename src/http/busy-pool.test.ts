import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant } from '../../test/kernel.js';
import { closeProxiedKernel, createProxiedKernel } from '../../test/proxied-kernel.js';
import { startProxy, type TcpProxy } from '../../test/tcp-proxy.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Tenant } from '../modules/tenants/index.js';
import type { Db } from '../platform/db.js';
import { BUSY_RETRY_AFTER_SECONDS } from './error-handler.js';

// Decision 0787: a request that waited its whole limit for a connection of a full pool answers
// `503 database_busy` when the server answers the probe, `503 database_unavailable` when it does
// not. A pool of two and a wait of 1 s here (35 s in a server); the probe's own limit is 5 s.
const POOL_SIZE = 2;
const WAIT_MS = 1000;

let database: TestDatabase;
let proxy: TcpProxy;
let proxied: Db;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let sales: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startProxy(new URL(database.ownerUrl));
  ({ db: proxied, kernel } = createProxiedKernel(database, proxy, {
    max: POOL_SIZE,
    connectionTimeoutMillis: WAIT_MS,
    statementSilenceMs: WAIT_MS,
  }));
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  sales = await loginAs(app, kernel, voxtra, 'sales');
}, 120_000);
afterAll(async () => closeProxiedKernel({ app, proxied, proxy, database }));

const PURPOSE = 'customer_administration';

/**
 * Holds every connection of the pool (each has just been answered `select 1`) until `release`:
 * resolves once all are held.
 */
async function holdEveryConnection(): Promise<{ release(): Promise<void> }> {
  let letGo: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  let held = 0;
  let allHeld: () => void = () => undefined;
  const holding = new Promise<void>((resolve) => {
    allHeld = resolve;
  });
  const holders = Array.from({ length: POOL_SIZE }, () =>
    proxied.connection().execute(async (connection) => {
      await sql`select 1`.execute(connection);
      held += 1;
      if (held === POOL_SIZE) allHeld();
      await released;
    }),
  );
  await holding;
  return {
    release: async () => {
      letGo();
      await Promise.allSettled(holders);
    },
  };
}

async function readPerson(id: number) {
  return requestAs(app, sales, PURPOSE)('GET', `/api/v1/people/${id}`);
}

describe('a request that finds every connection of the pool in use (decision 0787)', () => {
  let id: number;
  beforeAll(async () => {
    const created = await requestAs(app, sales, PURPOSE)('POST', '/api/v1/people', {
      subjectType: 'customer',
      familyName: 'Drukbezet',
      givenName: 'Els',
    });
    expect(created.statusCode, created.body).toBe(201);
    id = created.json<{ subjectId: number }>().subjectId;
  });

  it('with the database up, answers 503 database_busy with Retry-After after its wait, not database_unavailable; once a connection is free the next request answers 200', async () => {
    const hold = await holdEveryConnection();
    try {
      const started = Date.now();
      const busy = await readPerson(id);
      expect(busy.statusCode, busy.body).toBe(503);
      expect(busy.json<{ code: string }>().code).toBe('database_busy');
      expect(busy.headers['retry-after']).toBe(String(BUSY_RETRY_AFTER_SECONDS));
      expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS);
    } finally {
      await hold.release();
    }
    const again = await readPerson(id);
    expect(again.statusCode, again.body).toBe(200);
  });

  it('with the database frozen, answers 503 database_unavailable after its wait and the probe’s; once the database is back the next request answers 200', async () => {
    const hold = await holdEveryConnection();
    proxy.freeze();
    try {
      const started = Date.now();
      const unavailable = await readPerson(id);
      expect(unavailable.statusCode, unavailable.body).toBe(503);
      expect(unavailable.json<{ code: string }>().code).toBe('database_unavailable');
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await proxy.cut();
      await hold.release();
      await proxy.restore();
    }
    let again = await readPerson(id);
    // The pool may still hand out a connection of the freeze once: the next one is fresh.
    if (again.statusCode === 503) again = await readPerson(id);
    expect(again.statusCode, again.body).toBe(200);
  }, 60_000);
});
