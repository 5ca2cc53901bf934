import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../test/kernel.js';
import { parseStructuredCommunication } from '../kernel/identifiers/structured-communication.js';
import type { Kernel } from '../kernel/kernel.js';
import { createCustomer, prepareTenant, startContract } from '../modules/billing/billing.test-helpers.js';
import type { Tenant } from '../modules/tenants/index.js';

const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;
const customers: number[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  const catalogue = await prepareTenant(kernel, voxtra);
  for (const familyName of ['Aerts', 'Claes', 'Dubois']) {
    const customer = await createCustomer(kernel, voxtra, { familyName });
    customers.push(customer);
    await startContract(kernel, voxtra, customer, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
  }
  billing = await loginAs(app, kernel, voxtra, 'billing');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

/** Billing routes take the purpose of the access (Voxtra bills under `invoicing`). */
const purposeFor = (url: string) =>
  url.startsWith('/api/v1/invoices') ? { 'x-kluis-purpose': 'invoicing' } : {};

function get(session: StaffSession, url: string) {
  return app.inject({ method: 'GET', url, headers: { cookie: session.cookie, ...purposeFor(url) } });
}

interface InvoicePage {
  items: { invoiceId: number; status: string; structuredCommunication: string }[];
  nextCursor: string | null;
}

describe('list filters filter', () => {
  it('GET /api/v1/invoices?status= returns only invoices in that status (open, paid, credited, credit_note)', async () => {
    const headers = {
      cookie: billing.cookie,
      'x-csrf-token': billing.csrfToken,
      'x-kluis-purpose': 'invoicing',
    };
    const run = await app.inject({
      method: 'POST',
      url: '/api/v1/invoice-runs',
      headers,
      payload: { period: '2026-10', callsPurpose: 'call_billing' },
    });
    expect(run.json()).toMatchObject({ invoiced: 3 });
    const all = (await get(billing, '/api/v1/invoices')).json<InvoicePage>().items;
    const [toPay, toCredit, stayOpen] = all;
    if (!toPay || !toCredit || !stayOpen) throw new Error('three invoices expected');
    const ogm = parseStructuredCommunication(toPay.structuredCommunication);
    if (!ogm.ok) throw new Error('OGM expected');
    const paid = await app.inject({
      method: 'POST',
      url: '/api/v1/payments/import',
      headers: { ...headers, 'content-type': 'text/csv' },
      payload: `date,amount,communication,reference\n2026-11-10,18.15,${ogm.formatted},STMT-9\n`,
    });
    expect(paid.json()).toMatchObject({ matched: 1 });
    const credited = await app.inject({
      method: 'POST',
      url: `/api/v1/invoices/${toCredit.invoiceId}/credit-notes`,
      headers,
      payload: { reasonCode: 'billing_error' },
    });
    expect(credited.statusCode).toBe(201);

    const byStatus = async (status: string) =>
      (await get(billing, `/api/v1/invoices?status=${status}`))
        .json<InvoicePage>()
        .items.map((item) => [item.invoiceId, item.status]);
    expect(await byStatus('open')).toEqual([[stayOpen.invoiceId, 'open']]);
    expect(await byStatus('paid')).toEqual([[toPay.invoiceId, 'paid']]);
    expect(await byStatus('credited')).toEqual([[toCredit.invoiceId, 'credited']]);
    expect((await byStatus('credit_note')).map(([, status]) => status)).toEqual(['credit_note']);
    expect(await byStatus('overdue')).toEqual([]);
    expect((await get(billing, '/api/v1/invoices?status=nonsense')).statusCode).toBe(400);
  });

  it('GET /api/v1/products?active=false returns only withdrawn products, active=all both', async () => {
    const admin = await loginAs(app, kernel, voxtra, 'admin');
    const created = await requestAs(app, admin)('POST', '/api/v1/products', {
      code: 'OLD-LINE',
      name: 'Old line',
      kind: 'subscription',
      priceCents: 900,
      vatRatePercent: 21,
    });
    expect(created.statusCode).toBe(201);
    const productId = created.json<{ productId: number }>().productId;
    const withdrawn = await requestAs(app, admin)('PATCH', `/api/v1/products/${productId}`, {
      isActive: false,
    });
    expect(withdrawn.statusCode).toBe(200);
    const codes = async (active: string) =>
      (await get(admin, `/api/v1/products?active=${active}`))
        .json<{ items: { code: string }[] }>()
        .items.map((item) => item.code)
        .sort();
    expect(await codes('false')).toEqual(['OLD-LINE']);
    expect(await codes('true')).toEqual(['INSTALL', 'VOIP-BASIC']);
    expect(await codes('all')).toEqual(['INSTALL', 'OLD-LINE', 'VOIP-BASIC']);
  });
});

describe('one pagination style', () => {
  it('every page answers nextCursor and an RFC 8288 Link rel="next" that keeps the filters', async () => {
    const first = await get(billing, '/api/v1/invoices?kind=invoice&limit=2');
    expect(first.statusCode).toBe(200);
    const page1 = first.json<InvoicePage>();
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).not.toBeNull();
    const link = first.headers.link;
    expect(link).toBe(`</api/v1/invoices?kind=invoice&limit=2&cursor=${page1.nextCursor}>; rel="next"`);
    const next = /^<([^>]+)>; rel="next"$/.exec(String(link))?.[1] ?? '';
    const second = await get(billing, next);
    const page2 = second.json<InvoicePage>();
    expect(page2.items.map((item) => item.invoiceId)).not.toContain(page1.items[0]?.invoiceId);
    expect(page2.nextCursor).toBeNull();
    expect(second.headers.link).toBeUndefined();
  });

  it('the request list pages with cursor and Link like every other list; a forged cursor is a 400', async () => {
    const privacy = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const headers = { cookie: privacy.cookie, 'x-csrf-token': privacy.csrfToken };
    for (const subjectId of customers) {
      const registered = await app.inject({
        method: 'POST',
        url: '/api/v1/requests',
        headers,
        payload: { kind: 'access', channel: 'letter', subjectId },
      });
      expect(registered.statusCode, registered.body).toBe(201);
    }
    const seen: string[] = [];
    let url: string | undefined = '/api/v1/requests?limit=2';
    let pages = 0;
    while (url) {
      const page = await get(privacy, url);
      expect(page.statusCode).toBe(200);
      const body = page.json<{ items: { requestId: string }[]; nextCursor: string | null }>();
      seen.push(...body.items.map((item) => item.requestId));
      url = /^<([^>]+)>; rel="next"$/.exec(String(page.headers.link ?? ''))?.[1];
      expect(url === undefined).toBe(body.nextCursor === null);
      pages += 1;
    }
    expect(pages).toBe(2);
    expect(new Set(seen).size).toBe(3);
    const forged = await get(privacy, '/api/v1/requests?cursor=abc');
    expect(forged.statusCode).toBe(400);
    expect(forged.json()).toMatchObject({ code: 'validation_failed' });
  });
});
