import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import type { Kernel } from '../../kernel/kernel.js';
import { setRestriction } from '../../kernel/subjects/index.js';
import type { Tenant } from '../tenants/index.js';
import {
  billingContext,
  createBusiness,
  createCustomer,
  prepareTenant,
  startContract,
} from './billing.test-helpers.js';
import { listInvoices, runInvoices } from './index.js';

const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let voiceking: Tenant;
let billing: StaffSession;
let technician: StaffSession;
let otherBilling: StaffSession;
let business: number;
let person: number;
let catalogue: Awaited<ReturnType<typeof prepareTenant>>;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  catalogue = await prepareTenant(kernel, voxtra);
  const organisation = await createBusiness(kernel, voxtra);
  business = await createCustomer(kernel, voxtra, { familyName: 'Janssens', organisationId: organisation });
  person = await createCustomer(kernel, voxtra, { familyName: 'Peeters' });
  await startContract(kernel, voxtra, business, {
    startDate: '2026-10-01',
    organisationId: organisation,
    lines: [{ productId: catalogue.subscription }],
  });
  await startContract(kernel, voxtra, person, {
    startDate: '2026-10-01',
    lines: [{ productId: catalogue.subscription }],
  });
  billing = await loginAs(app, kernel, voxtra, 'billing');
  technician = await loginAs(app, kernel, voxtra, 'technician');
  otherBilling = await loginAs(app, kernel, voiceking, 'billing');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(
  session: StaffSession,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method,
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      'x-kluis-purpose': defaultPurposeOf(session, url),
      ...headers,
    },
    ...(payload === undefined ? {} : { payload: payload as string }),
  });
}

/** The purpose each call declares unless the test names one: the tenant's purpose for the work. */
function defaultPurposeOf(session: StaffSession, url: string): string {
  if (url.includes('/credit-scores')) return 'solvency';
  return session === otherBilling ? 'billing' : 'invoicing';
}

describe('billing API (VX-3, VK-2)', () => {
  it('VX-3: a billing clerk runs October, lists the invoices, downloads UBL and HTML, and imports a statement', async () => {
    const run = await call(billing, 'POST', '/api/v1/invoice-runs', {
      period: '2026-10',
      callsPurpose: 'call_billing',
    });
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({
      invoiced: 2,
      firstNumber: 'F2026-000001',
      lastNumber: 'F2026-000002',
    });

    const list = await call(billing, 'GET', '/api/v1/invoices?period=2026-10', undefined, {
      'x-kluis-purpose': 'invoicing',
    });
    expect(list.statusCode).toBe(200);
    const items = list.json<{
      items: Array<{ invoiceId: number; subjectId: number; structuredCommunication: string; status: string }>;
    }>().items;
    expect(items).toHaveLength(2);
    const businessInvoice = items.find((item) => item.subjectId === business);
    const personInvoice = items.find((item) => item.subjectId === person);
    if (!businessInvoice || !personInvoice) throw new Error('missing');

    const ubl = await call(billing, 'GET', `/api/v1/invoices/${businessInvoice.invoiceId}/ubl`);
    expect(ubl.statusCode).toBe(200);
    expect(ubl.headers['content-type']).toContain('application/xml');
    expect(ubl.body).toContain('schemeID="0208"');
    expect((await call(billing, 'GET', `/api/v1/invoices/${personInvoice.invoiceId}/ubl`)).statusCode).toBe(
      409,
    );

    const html = await call(billing, 'GET', `/api/v1/invoices/${personInvoice.invoiceId}/html`);
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain('An Peeters');

    const ogm = parseStructuredCommunication(personInvoice.structuredCommunication);
    const csv = `date,amount,communication,reference\n2026-11-10,18.15,${ogm.ok ? ogm.formatted : ''},STMT-1\n`;
    const imported = await app.inject({
      method: 'POST',
      url: '/api/v1/payments/import',
      headers: {
        cookie: billing.cookie,
        'x-csrf-token': billing.csrfToken,
        'x-kluis-purpose': 'invoicing',
        'content-type': 'text/csv',
      },
      payload: csv,
    });
    expect(imported.statusCode).toBe(200);
    expect(imported.json()).toMatchObject({ imported: 1, matched: 1 });
    const detail = await call(billing, 'GET', `/api/v1/invoices/${personInvoice.invoiceId}`);
    expect(detail.json()).toMatchObject({
      status: 'paid',
      payments: [{ bankReference: 'STMT-1', amountCents: 1815 }],
    });

    const credit = await call(billing, 'POST', `/api/v1/invoices/${businessInvoice.invoiceId}/credit-notes`, {
      reasonCode: 'goodwill',
      amountExclVatCents: 100,
    });
    expect(credit.statusCode).toBe(201);
    expect(credit.json()).toMatchObject({
      kind: 'credit_note',
      invoiceNumber: 'C2026-000001',
      status: 'credit_note',
    });
  });

  it('VK-2: bank accounts are billing data: a billing clerk adds and reads them, a technician is refused', async () => {
    const bad = await call(billing, 'POST', `/api/v1/customers/${person}/bank-accounts`, {
      iban: 'BE00 0000 0000 0000',
    });
    expect(bad.statusCode).toBe(400);
    const added = await call(billing, 'POST', `/api/v1/customers/${person}/bank-accounts`, {
      iban: 'BE68 5390 0754 7034',
    });
    expect(added.statusCode).toBe(201);
    expect(added.json()).toMatchObject({ iban: 'BE68539007547034' });
    const read = await call(billing, 'GET', `/api/v1/customers/${person}/bank-accounts`);
    expect(read.json()).toMatchObject({ items: [{ iban: 'BE68539007547034' }] });
    const refused = await call(technician, 'GET', `/api/v1/customers/${person}/bank-accounts`);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'role_not_allowed' });
    expect(refused.body).not.toContain('BE68');
    // The technician's own purpose does not cover bank accounts either.
    const ownPurpose = await call(technician, 'GET', `/api/v1/customers/${person}/bank-accounts`, undefined, {
      'x-kluis-purpose': 'technical_dossier',
    });
    expect(ownPurpose.statusCode).toBe(403);
    expect(ownPurpose.body).not.toContain('BE68');
    // A key that is no purpose of the policy is bad input, not a refusal.
    const unknown = await call(technician, 'GET', `/api/v1/customers/${person}/bank-accounts`, undefined, {
      'x-kluis-purpose': 'technical_support',
    });
    expect(unknown.statusCode).toBe(400);
  });

  it('VK-2: a credit score is recorded and read under solvency with its source', async () => {
    const recorded = await call(billing, 'POST', `/api/v1/customers/${person}/credit-scores`, {
      score: 705,
      source: 'graydon',
      observedOn: '2026-10-20',
    });
    expect(recorded.statusCode).toBe(201);
    const read = await call(billing, 'GET', `/api/v1/customers/${person}/credit-scores`);
    expect(read.json()).toMatchObject({
      items: [{ score: 705, source: 'graydon', observedOn: '2026-10-20' }],
    });
    expect((await call(technician, 'GET', `/api/v1/customers/${person}/credit-scores`)).statusCode).toBe(403);
  });

  it("a billing clerk of another tenant sees none of this tenant's invoices", async () => {
    const list = await call(otherBilling, 'GET', '/api/v1/invoices');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ items: [] });
    const own = await call(billing, 'GET', '/api/v1/invoices');
    const first = own.json<{ items: Array<{ invoiceId: number }> }>().items[0];
    expect((await call(otherBilling, 'GET', `/api/v1/invoices/${first?.invoiceId}`)).statusCode).toBe(404);
  });

  it('a restricted customer’s invoice is refused as restricted (403 subject_restricted), not as erased; lifted, it reads again', async () => {
    const rows = await runAsOwner<{ invoice_id: number }>(
      database.ownerUrl,
      'select invoice_id from invoices where tenant_id = $1 and subject_id = $2 order by invoice_id limit 1',
      [voxtra.tenantId, person],
    );
    const invoiceId = rows.rows[0]?.invoice_id;
    expect(invoiceId).toBeDefined();
    await kernel.transact(voxtra.tenantId, (atx) => setRestriction(atx, person, true, clock.now()));
    try {
      for (const url of [`/api/v1/invoices/${invoiceId}`, `/api/v1/invoices/${invoiceId}/html`]) {
        const refused = await call(billing, 'GET', url);
        expect(refused.statusCode, url).toBe(403);
        expect(refused.json<{ code: string }>().code).toBe('subject_restricted');
      }
    } finally {
      await kernel.transact(voxtra.tenantId, (atx) => setRestriction(atx, person, false, clock.now()));
    }
    expect((await call(billing, 'GET', `/api/v1/invoices/${invoiceId}`)).statusCode).toBe(200);
  });

  it('writes need the CSRF token', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/invoice-runs',
      headers: { cookie: billing.cookie },
      payload: { period: '2026-10' },
    });
    expect(response.statusCode).toBe(403);
  });

  it('disputes (under the billing purpose, or the books’ purpose, decision 0950) and hand-overs for collection (under the billing purpose only) are refused under other purposes: the Voxtra privacy officer under legal_disclosure and the admin under business_transfer (both cover payment data) are refused, and nothing is written', async () => {
    await runInvoices(kernel, billingContext(voxtra), { period: '2026-10', callsPurpose: 'call_billing' });
    const [invoice] = (await listInvoices(kernel, billingContext(voxtra), { limit: 1 })).items;
    if (!invoice) throw new Error('no invoice');
    const officer = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const admin = await loginAs(app, kernel, voxtra, 'admin');
    const written = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          `select (select count(*)::int from invoice_disputes where tenant_id = $1)
                + (select count(*)::int from invoice_collections where tenant_id = $1)
                + (select count(*)::int from invoices where tenant_id = $1 and kind = 'credit_note') as n`,
          [voxtra.tenantId],
        )
      ).rows[0]?.n;
    const before = await written();
    for (const [session, purpose] of [
      [officer, 'legal_disclosure'],
      [admin, 'business_transfer'],
    ] as const) {
      for (const [url, body] of [
        [`/api/v1/invoices/${invoice.invoiceId}/dispute`, { reason: 'the customer contests the calls' }],
        [`/api/v1/invoices/${invoice.invoiceId}/collection`, undefined],
        [
          `/api/v1/invoices/${invoice.invoiceId}/credit-notes`,
          { reasonCode: 'billing_error', amountExclVatCents: 100 },
        ],
      ] as const) {
        const response = await call(session, 'POST', url, body, { 'x-kluis-purpose': purpose });
        expect(response.statusCode, `${purpose} ${url}: ${response.body}`).toBe(403);
        expect(response.json()).toMatchObject({ code: 'purpose_not_allowed' });
      }
    }
    expect(await written()).toBe(before);
  });

  it('money documents are made under the policy’s billing purpose only: VoiceKing sales under order_processing (which covers payment data) can neither credit an invoice nor import or match payments; a made-up credit reason is a 400; nothing is written', async () => {
    const catalogue = await prepareTenant(kernel, voiceking);
    const customer = await createCustomer(kernel, voiceking, { familyName: 'Vermeulen' });
    await startContract(kernel, voiceking, customer, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await runInvoices(kernel, billingContext(voiceking), { period: '2026-10', callsPurpose: 'call_billing' });
    const [invoice] = (await listInvoices(kernel, billingContext(voiceking), { limit: 1 })).items;
    if (!invoice) throw new Error('no invoice');
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const count = async () =>
      (
        await runAsOwner<{ notes: number; payments: number }>(
          database.ownerUrl,
          `select (select count(*)::int from invoices where tenant_id = $1 and kind = 'credit_note') as notes,
                  (select count(*)::int from payments where tenant_id = $1) as payments`,
          [voiceking.tenantId],
        )
      ).rows[0];
    const before = await count();
    const creditUrl = `/api/v1/invoices/${invoice.invoiceId}/credit-notes`;
    const statement = `date,amount,communication,reference\n2026-11-10,18.15,${invoice.structuredCommunication},VK-SALES-1\n`;
    const importAs = (session: StaffSession, purpose: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/payments/import',
        headers: {
          cookie: session.cookie,
          'x-csrf-token': session.csrfToken,
          'x-kluis-purpose': purpose,
          'content-type': 'text/csv',
        },
        payload: statement,
      });

    for (const [session, purpose, code] of [
      [sales, 'order_processing', 'purpose_not_allowed'],
      [sales, 'billing', 'role_not_allowed'],
      [otherBilling, 'order_processing', 'purpose_not_allowed'],
    ] as const) {
      const note = await call(
        session,
        'POST',
        creditUrl,
        { reasonCode: 'goodwill' },
        { 'x-kluis-purpose': purpose },
      );
      expect(note.statusCode, `${purpose}: ${note.body}`).toBe(403);
      expect(note.json()).toMatchObject({ code });
      const imported = await importAs(session, purpose);
      expect(imported.statusCode, `${purpose}: ${imported.body}`).toBe(403);
      expect(imported.json()).toMatchObject({ code });
    }
    const unmatched = await call(
      sales,
      'POST',
      '/api/v1/payments/1/match',
      { invoiceId: invoice.invoiceId },
      {
        'x-kluis-purpose': 'order_processing',
      },
    );
    expect(unmatched.statusCode).toBe(403);
    for (const reasonCode of ['made_up', 'wrong_quantity', 'Goodwill']) {
      const bad = await call(otherBilling, 'POST', creditUrl, { reasonCode });
      expect(bad.statusCode, reasonCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'validation_failed' });
    }
    expect(await count()).toEqual(before);

    // The billing clerk under the billing purpose makes both.
    expect(
      (
        await call(otherBilling, 'POST', creditUrl, {
          reasonCode: 'price_correction',
          amountExclVatCents: 100,
        })
      ).statusCode,
    ).toBe(201);
    expect((await importAs(otherBilling, 'billing')).statusCode).toBe(200);
    expect(await count()).toEqual({ notes: (before?.notes ?? 0) + 1, payments: (before?.payments ?? 0) + 1 });
  });

  it('invoice numbers follow the dates: a later run with an issue date before the last one of the series is a 409 issue_date_before_last naming that date, and creates nothing', async () => {
    // October was issued on 2026-11-05 (the clock) by the first test; a customer billable for
    // September is then run with an earlier issue date.
    const late = await createCustomer(kernel, voxtra, { familyName: 'Claes' });
    await startContract(kernel, voxtra, late, {
      startDate: '2026-09-01',
      lines: [{ productId: catalogue.subscription }],
    });
    const count = async () =>
      (
        await runAsOwner<{ invoices: number; last: number }>(
          database.ownerUrl,
          `select (select count(*)::int from invoices where tenant_id = $1) as invoices,
                  (select last_number from invoice_counters where tenant_id = $1 and series = 'F' and year = 2026) as last`,
          [voxtra.tenantId],
        )
      ).rows[0];
    const before = await count();
    const refused = await call(billing, 'POST', '/api/v1/invoice-runs', {
      period: '2026-09',
      issueDate: '2026-10-01',
      callsPurpose: 'call_billing',
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'conflict',
      details: { reason: 'issue_date_before_last', lastIssueDate: '2026-11-05' },
    });
    expect(refused.json<{ detail: string }>().detail).toContain('2026-11-05');
    expect(await count()).toEqual(before);

    // The same day as the last one is in order: the next number.
    const run = await call(billing, 'POST', '/api/v1/invoice-runs', {
      period: '2026-09',
      issueDate: '2026-11-05',
      callsPurpose: 'call_billing',
    });
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({
      invoiced: 1,
      firstNumber: `F2026-${String((before?.last ?? 0) + 1).padStart(6, '0')}`,
    });
  });

  it('a run for a month that has not started is a 409 period_not_started and bills nothing, whatever its issue date (attack S7-8)', async () => {
    const count = async () =>
      (
        await runAsOwner<{ invoices: number; counters: number; audit: number }>(
          database.ownerUrl,
          `select (select count(*)::int from invoices where tenant_id = $1) as invoices,
                  (select count(*)::int from invoice_counters where tenant_id = $1) as counters,
                  (select count(*)::int from audit_log where tenant_id = $1) as audit`,
          [voxtra.tenantId],
        )
      ).rows[0];
    const before = await count();
    // Today is 2026-11-05: December and January have not started.
    for (const body of [
      { period: '2026-12', issueDate: '2027-01-05' },
      { period: '2027-01', issueDate: '2027-02-01' },
      { period: '2027-01' },
    ]) {
      const refused = await call(billing, 'POST', '/api/v1/invoice-runs', {
        ...body,
        callsPurpose: 'call_billing',
      });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({
        code: 'conflict',
        details: { reason: 'period_not_started', period: body.period, today: '2026-11-05' },
      });
      expect(refused.json<{ detail: string }>().detail).toContain(`${body.period} has not started`);
    }
    expect(await count()).toEqual(before);
  });

  it('an issue date after today is a 400 validation_failed naming issueDate and bills nothing (attack S8-4, decision 0541)', async () => {
    const count = async () =>
      (
        await runAsOwner<{ invoices: number; counters: number }>(
          database.ownerUrl,
          `select (select count(*)::int from invoices where tenant_id = $1) as invoices,
                  (select count(*)::int from invoice_counters where tenant_id = $1) as counters`,
          [voxtra.tenantId],
        )
      ).rows[0];
    const before = await count();
    // Today is 2026-11-05: October has ended, but 2026-11-06 has not come yet.
    const refused = await call(billing, 'POST', '/api/v1/invoice-runs', {
      period: '2026-10',
      issueDate: '2026-11-06',
      callsPurpose: 'call_billing',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'validation_failed', details: { field: 'issueDate' } });
    expect(refused.json<{ detail: string }>().detail).toContain('after today (2026-11-05)');
    expect(await count()).toEqual(before);
  });
});
