import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import { createCustomer, prepareTenant, startContract } from '../modules/billing/billing.test-helpers.js';
import type { Tenant } from '../modules/tenants/index.js';

const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;
let invoiceIds: number[];

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  const catalogue = await prepareTenant(kernel, voxtra);
  for (const familyName of ['Aerts', 'Claes']) {
    const customer = await createCustomer(kernel, voxtra, { familyName });
    await startContract(kernel, voxtra, customer, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
  }
  billing = await loginAs(app, kernel, voxtra, 'billing');
  const run = await post('/api/v1/invoice-runs', { period: '2026-10', callsPurpose: 'call_billing' });
  expect(run.statusCode).toBe(200);
  const list = await app.inject({
    method: 'GET',
    url: '/api/v1/invoices',
    headers: { cookie: billing.cookie, 'x-kluis-purpose': 'invoicing' },
  });
  invoiceIds = list.json<{ items: { invoiceId: number }[] }>().items.map((item) => item.invoiceId);
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function post(url: string, payload: unknown, key?: string) {
  return app.inject({
    method: 'POST',
    url,
    headers: {
      cookie: billing.cookie,
      'x-csrf-token': billing.csrfToken,
      'x-kluis-purpose': 'invoicing',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    payload: payload as Record<string, unknown>,
  });
}

async function creditNoteCount(): Promise<number> {
  const rows = await runAsOwner<{ count: string }>(
    database.ownerUrl,
    `select count(*) from invoices where tenant_id = ${voxtra.tenantId} and kind = 'credit_note'`,
  );
  return Number(rows.rows[0]?.count);
}

describe('Idempotency-Key', () => {
  it('the same key under another declared purpose is another request: refused, not the first answer replayed', async () => {
    const url = `/api/v1/invoices/${invoiceIds[0]}/credit-notes`;
    const before = await creditNoteCount();
    const first = await post(url, { reasonCode: 'goodwill', amountExclVatCents: 90 }, 'credit-purpose-1');
    expect(first.statusCode).toBe(201);
    const underSolvency = await app.inject({
      method: 'POST',
      url,
      headers: {
        cookie: billing.cookie,
        'x-csrf-token': billing.csrfToken,
        'x-kluis-purpose': 'solvency',
        'idempotency-key': 'credit-purpose-1',
      },
      payload: { reasonCode: 'goodwill', amountExclVatCents: 90 },
    });
    expect(underSolvency.statusCode).toBe(422);
    expect(underSolvency.json<{ code: string }>().code).toBe('idempotency_key_reused');
    expect(underSolvency.headers['idempotent-replayed']).toBeUndefined();
    expect(await creditNoteCount()).toBe(before + 1);
  });

  it('two identical credit-note POSTs with the same key make one credit note and answer the same', async () => {
    const url = `/api/v1/invoices/${invoiceIds[0]}/credit-notes`;
    const before = await creditNoteCount();
    const first = await post(url, { reasonCode: 'goodwill', amountExclVatCents: 100 }, 'credit-7f3a');
    const second = await post(url, { reasonCode: 'goodwill', amountExclVatCents: 100 }, 'credit-7f3a');
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await creditNoteCount()).toBe(before + 1);

    // Without a key, each POST is a new credit note (the key is what makes a retry safe).
    await post(url, { reasonCode: 'goodwill', amountExclVatCents: 100 });
    expect(await creditNoteCount()).toBe(before + 2);
  });

  it('the same key with a different body is refused with a stable code and makes nothing', async () => {
    const url = `/api/v1/invoices/${invoiceIds[1]}/credit-notes`;
    const first = await post(url, { reasonCode: 'goodwill', amountExclVatCents: 100 }, 'credit-9b21');
    expect(first.statusCode).toBe(201);
    const before = await creditNoteCount();
    const other = await post(url, { reasonCode: 'goodwill', amountExclVatCents: 200 }, 'credit-9b21');
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'idempotency_key_reused' });
    expect(await creditNoteCount()).toBe(before);
  });

  it('a refused first call does not burn the key: the corrected request with the same key goes through', async () => {
    const url = `/api/v1/invoices/${invoiceIds[1]}/credit-notes`;
    const refused = await post(
      url,
      { reasonCode: 'goodwill', amountExclVatCents: 999_999_999 },
      'credit-c0de',
    );
    expect(refused.statusCode).toBeGreaterThanOrEqual(400);
    expect(refused.statusCode).toBeLessThan(500);
    const corrected = await post(url, { reasonCode: 'goodwill', amountExclVatCents: 100 }, 'credit-c0de');
    expect(corrected.statusCode).toBe(201);
  });

  it('a second invoice run with the same key replays the first answer', async () => {
    const run = await post(
      '/api/v1/invoice-runs',
      { period: '2026-09', callsPurpose: 'call_billing' },
      'run-2026-09',
    );
    const again = await post(
      '/api/v1/invoice-runs',
      { period: '2026-09', callsPurpose: 'call_billing' },
      'run-2026-09',
    );
    expect(again.json()).toEqual(run.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('keys are per tenant: the same key at another provider is a different operation', async () => {
    const voiceking = await createPolicyTenant(kernel, 'voiceking');
    await prepareTenant(kernel, voiceking);
    const other = await loginAs(app, kernel, voiceking, 'billing');
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/invoice-runs',
      headers: {
        cookie: other.cookie,
        'x-csrf-token': other.csrfToken,
        'x-kluis-purpose': 'billing',
        'idempotency-key': 'run-2026-09',
      },
      payload: { period: '2026-09', callsPurpose: 'call_billing' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['idempotent-replayed']).toBeUndefined();
    const rows = await runAsOwner<{ tenant_id: number }>(
      database.ownerUrl,
      `select tenant_id from idempotency_keys where idempotency_key = 'run-2026-09' order by tenant_id`,
    );
    expect(rows.rows.map((row) => row.tenant_id)).toEqual(
      [voxtra.tenantId, voiceking.tenantId].sort((a, b) => a - b),
    );
  });
});
