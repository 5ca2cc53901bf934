import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, fixedClock } from '../../../test/kernel.js';
import { LocalKeyManagementService } from '../../kernel/keyring/kms.js';
import { createKernel, type Kernel } from '../../kernel/kernel.js';
import { createAppDb, type Db } from '../../platform/db.js';
import type { Tenant } from '../tenants/index.js';
import { createCustomer, prepareTenant, startContract } from './billing.test-helpers.js';

// billing.test.ts once hung with the invoice counter's lock held and the test pool (6) used up: a
// gate decision inside a transaction read the policy in force (its 5 s cache had run out) on a
// second pooled connection, while the other connections waited for that lock. Here the whole
// billing path runs on ONE pooled connection with the policy read again at every use: any path
// that holds a connection and asks for another fails after 3 s instead of passing (decision 0583).
const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));
const masterKey = randomBytes(32);

let database: TestDatabase;
let single: Db;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;
let sales: StaffSession;
let officer: StaffSession;
let customer: number;

function kernelOn(db: Db, policyCacheMs?: number): Kernel {
  return createKernel({
    db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock,
    ...(policyCacheMs === undefined ? {} : { policyCacheMs }),
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  // Set up on the usual pool.
  const setup = kernelOn(database.db);
  voxtra = await createPolicyTenant(setup, 'voxtra');
  const catalogue = await prepareTenant(setup, voxtra);
  customer = await createCustomer(setup, voxtra, { familyName: 'Eenlijn' });
  const other = await createCustomer(setup, voxtra, { familyName: 'Eenlijnmans' });
  for (const subject of [customer, other])
    await startContract(setup, voxtra, subject, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
  // The app under test: one connection, and no waiting for a second.
  single = createAppDb({
    connectionString: database.ownerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 1,
    connectionTimeoutMillis: 3_000,
  }).db;
  kernel = kernelOn(single, 0);
  app = await createTestApp(kernel);
  billing = await loginAs(app, kernel, voxtra, 'billing');
  sales = await loginAs(app, kernel, voxtra, 'sales');
  officer = await loginAs(app, kernel, voxtra, 'privacy_officer');
});
afterAll(async () => {
  await app?.close();
  await single?.destroy();
  await database?.close();
});

function call(session: StaffSession, method: 'GET' | 'POST', url: string, purpose: string, payload?: object) {
  return app.inject({
    method,
    url,
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'x-kluis-purpose': purpose },
    ...(payload === undefined ? {} : { payload }),
  });
}

describe('a request never needs two pooled connections at once (decision 0583)', () => {
  it('on a pool of one connection, with the policy read again at every use: an invoice run, a credit note, a gated read, a list, a refused read and the person’s trail all answer', async () => {
    const run = await call(billing, 'POST', '/api/v1/invoice-runs', 'invoicing', {
      period: '2026-10',
      issueDate: '2026-11-01',
      callsPurpose: 'call_billing',
    });
    expect(run.statusCode, run.body).toBe(200);
    const { rows } = await runAsOwner<{ invoice_id: string }>(
      database.ownerUrl,
      `select invoice_id::text from invoices where tenant_id = $1 and kind = 'invoice' order by invoice_id`,
      [voxtra.tenantId],
    );
    expect(rows).toHaveLength(2);
    const credit = await call(
      billing,
      'POST',
      `/api/v1/invoices/${rows[0]?.invoice_id}/credit-notes`,
      'invoicing',
      { reasonCode: 'goodwill', amountExclVatCents: 100 },
    );
    expect(credit.statusCode, credit.body).toBe(201);
    const read = await call(sales, 'GET', `/api/v1/people/${customer}`, 'customer_administration');
    expect(read.statusCode, read.body).toBe(200);
    const list = await call(sales, 'GET', '/api/v1/people?name=Eenlijn&limit=10', 'customer_administration');
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json<{ items: unknown[] }>().items).toHaveLength(2);
    // A refusal is recorded after its transaction rolled back: still one connection at a time.
    const refused = await call(sales, 'GET', `/api/v1/people/${customer}`, 'invoicing');
    expect(refused.statusCode).toBe(403);
    const denied = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log where tenant_id = $1 and decision = 'denied' and role = 'sales'`,
      [voxtra.tenantId],
    );
    expect(denied.rows[0]?.n).toBeGreaterThan(0);
    // The privacy officer's trail of the person chains the pending entries first.
    const trail = await call(officer, 'GET', `/api/v1/people/${customer}/audit`, 'rights_requests');
    expect(trail.statusCode, trail.body).toBe(200);
    expect(trail.json<{ items: Array<{ role: string }> }>().items.map((entry) => entry.role)).toContain(
      'sales',
    );
  });
});
