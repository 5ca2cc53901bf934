import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { sharedPath } from '../../../test/shared.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { billingContext, createCustomer, prepareTenant, startContract } from './billing.test-helpers.js';
import { listInvoices, runInvoices } from './index.js';

const clock = fixedClock(new Date('2026-11-20T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;
let support: StaffSession;
let voiceking: Tenant;
let otherBilling: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  billing = await loginAs(app, kernel, voxtra, 'billing');
  support = await loginAs(app, kernel, voxtra, 'support');
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  otherBilling = await loginAs(app, kernel, voiceking, 'billing');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function send(
  method: 'GET' | 'POST',
  url: string,
  options: { payload?: unknown; contentType?: string; session?: StaffSession } = {},
) {
  const session = options.session ?? billing;
  return app.inject({
    method,
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      'x-kluis-purpose': session === otherBilling ? 'billing' : 'invoicing',
      ...(options.contentType ? { 'content-type': options.contentType } : {}),
    },
    ...(options.payload === undefined ? {} : { payload: options.payload as string }),
  });
}

const sample = (name: string) => readFileSync(sharedPath('coda', name), 'latin1');

/** A sample's movement record (2.1) with our amount (in cents) and structured communication. */
function movement(record: string, cents: number, ogm: string | null): string {
  const amount = String(cents * 10).padStart(15, '0');
  const communication = ogm === null ? record.slice(61, 115) : `1101${ogm}`.padEnd(54, ' ');
  return record.slice(0, 32) + amount + record.slice(47, 61) + communication + record.slice(115);
}

/** sample1.cod with its four credit movements carrying these amounts and communications. */
function codaStatement(payments: ReadonlyArray<{ cents: number; ogm: string | null }>): string {
  let index = 0;
  return sample('sample1.cod')
    .split(/\r?\n/)
    .map((record) => {
      if (!record.startsWith('21')) return record;
      const payment = payments[index];
      index += 1;
      return payment ? movement(record, payment.cents, payment.ogm) : record;
    })
    .join('\n');
}

async function paymentsTable(tenant: Tenant = voxtra): Promise<unknown[]> {
  return kernel.plain(tenant.tenantId, (tx) =>
    tx.selectFrom('payments').selectAll().orderBy('payment_id').execute(),
  );
}

describe('bank statements as Belgian banks deliver them (issue 22)', () => {
  it('VX-3: a CODA statement and a semicolon CSV export are matched by structured communication, the rest is listed and matched by hand, and importing the same files again changes nothing (HTTP in, database out)', async () => {
    const catalogue = await prepareTenant(kernel, voxtra);
    for (const name of ['Aerts', 'Baert', 'Claes']) {
      const subjectId = await createCustomer(kernel, voxtra, { familyName: name });
      await startContract(kernel, voxtra, subjectId, {
        startDate: '2026-10-01',
        lines: [{ productId: catalogue.subscription }],
      });
    }
    await runInvoices(kernel, billingContext(voxtra), { period: '2026-10', callsPurpose: 'call_billing' });
    const [a, b, c] = (await listInvoices(kernel, billingContext(voxtra), { limit: 10 })).items;
    if (!a || !b || !c) throw new Error('missing invoices');
    expect(a.totalInclVatCents).toBe(1815);

    // CODA: A paid in full, B half, an unknown communication, and one without any.
    const coda = codaStatement([
      { cents: 1815, ogm: a.structuredCommunication },
      { cents: 900, ogm: b.structuredCommunication },
      { cents: 915, ogm: '000000000097' },
      { cents: 4000, ogm: null },
    ]);
    const imported = await send('POST', '/api/v1/payments/import', {
      payload: coda,
      contentType: 'text/plain',
    });
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({ lines: 4, imported: 4, matched: 2, unmatched: 2, duplicates: 0 });
    expect(imported.json<{ partiallyPaid: string[] }>().partiallyPaid).toEqual([b.invoiceNumber]);

    // A bank's CSV export: semicolons, Dutch headers, dd/mm/yyyy dates, decimal commas.
    const formatted = `+++${c.structuredCommunication.slice(0, 3)}/${c.structuredCommunication.slice(3, 7)}/${c.structuredCommunication.slice(7)}+++`;
    const csv =
      'Datum;Bedrag;Mededeling;Referentie;Tegenpartij\n' +
      `12/11/2026;18,15;${formatted};KBC-2026-0001;Claes An\n` +
      '13/11/2026;-25,00;;KBC-2026-0002;Proximus\n' +
      '13/11/2026;1.250,00;factuur november;KBC-2026-0003;Iemand\n';
    const fromCsv = await send('POST', '/api/v1/payments/import', { payload: csv, contentType: 'text/csv' });
    expect(fromCsv.statusCode, fromCsv.body).toBe(200);
    expect(fromCsv.json()).toMatchObject({ lines: 3, imported: 2, matched: 1, unmatched: 1, outgoing: 1 });
    // Neither the counterparty nor a free-text communication is kept.
    expect(JSON.stringify(await paymentsTable())).not.toMatch(/Claes|Iemand|factuur|KLANT/);

    const listed = await send('GET', '/api/v1/payments/unmatched');
    expect(listed.statusCode).toBe(200);
    const items = listed.json<{
      items: Array<{ paymentId: number; amountCents: number; bankReference: string }>;
    }>().items;
    expect(items.map((item) => item.amountCents)).toEqual([915, 4000, 125_000]);
    const paged = await send('GET', '/api/v1/payments/unmatched?limit=2');
    expect(paged.json<{ nextCursor: string | null }>().nextCursor).not.toBeNull();
    expect(paged.headers.link).toContain('rel="next"');

    // The 9.15 with the unknown communication is B's other half.
    const [unknown] = items;
    if (!unknown) throw new Error('missing');
    const match = await send('POST', `/api/v1/payments/${unknown.paymentId}/match`, {
      payload: { invoiceId: b.invoiceId },
    });
    expect(match.statusCode, match.body).toBe(200);
    expect(match.json()).toEqual({
      paymentId: unknown.paymentId,
      invoiceId: b.invoiceId,
      invoiceNumber: b.invoiceNumber,
      amountCents: 915,
      status: 'paid',
      balanceCents: 0,
    });
    const twice = await send('POST', `/api/v1/payments/${unknown.paymentId}/match`, {
      payload: { invoiceId: c.invoiceId },
    });
    expect(twice.statusCode).toBe(409);
    expect(
      (await send('POST', '/api/v1/payments/999999/match', { payload: { invoiceId: c.invoiceId } }))
        .statusCode,
    ).toBe(404);
    const refused = await send('POST', `/api/v1/payments/${items[1]?.paymentId}/match`, {
      payload: { invoiceId: c.invoiceId },
      session: support,
    });
    expect(refused.statusCode).toBe(403);

    const invoices = await listInvoices(kernel, billingContext(voxtra), { limit: 10 });
    expect(invoices.items.map((invoice) => [invoice.paidCents, invoice.status])).toEqual([
      [1815, 'paid'],
      [1815, 'paid'],
      [1815, 'paid'],
    ]);

    // The same files again: nothing new, nothing paid twice.
    const before = await paymentsTable();
    const again = await send('POST', '/api/v1/payments/import', { payload: coda, contentType: 'text/plain' });
    expect(again.json()).toMatchObject({ imported: 0, duplicates: 4, matched: 0 });
    const againCsv = await send('POST', '/api/v1/payments/import', { payload: csv, contentType: 'text/csv' });
    expect(againCsv.json()).toMatchObject({ imported: 0, duplicates: 2 });
    expect(await paymentsTable()).toEqual(before);
    const still = await listInvoices(kernel, billingContext(voxtra), { limit: 10 });
    expect(still.items.map((invoice) => invoice.paidCents)).toEqual([1815, 1815, 1815]);

    // A statement cut short is refused whole, naming the line; nothing changes.
    const cut = coda.split('\n').slice(0, -2).join('\n');
    const bad = await send('POST', '/api/v1/payments/import', { payload: cut, contentType: 'text/plain' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });
    expect(bad.json<{ detail: string }>().detail).toContain('trailer');
    expect(await paymentsTable()).toEqual(before);
  });

  it('the CODA samples of Belgian banks import: credits kept with amount, date and reference only, debits skipped', async () => {
    const expected: Record<string, { lines: number; imported: number; outgoing: number }> = {
      'sample1.cod': { lines: 4, imported: 4, outgoing: 0 },
      'sample2.cod': { lines: 2, imported: 0, outgoing: 2 },
      'sample5.cod': { lines: 3, imported: 3, outgoing: 0 },
    };
    for (const [name, summary] of Object.entries(expected)) {
      const response = await send('POST', '/api/v1/payments/import', {
        payload: sample(name),
        contentType: 'text/plain',
        session: otherBilling,
      });
      expect(response.statusCode, `${name}: ${response.body}`).toBe(200);
      expect(response.json(), name).toMatchObject({ ...summary, matched: 0 });
    }
    const rows = (await paymentsTable(voiceking)) as Array<{ bank_reference: string; amount_cents: number }>;
    expect(
      rows
        .filter((row) => row.bank_reference.startsWith('coda/138536152215/139/'))
        .map((row) => row.amount_cents),
    ).toEqual([500, 2500, 2000, 3000]);
    expect(JSON.stringify(rows)).not.toMatch(/KLANT|HASSELT|ANTWERPEN/);
  });

  it('a payment dated before 2000 or more than a week ahead is refused, naming the line, and nothing is imported (CSV and CODA)', async () => {
    const before = await paymentsTable();
    const csv = (date: string) =>
      'date;amount;communication;reference\n' +
      '12/11/2026;10,00;;WINDOW-OK\n' +
      `${date};10,00;;WINDOW-${date.replaceAll('/', '')}\n`;
    for (const date of ['01/01/9999', '31/12/1999', '2026-11-28']) {
      const refused = await send('POST', '/api/v1/payments/import', {
        payload: csv(date),
        contentType: 'text/csv',
      });
      expect(refused.statusCode, date).toBe(400);
      expect(refused.json(), date).toMatchObject({
        code: 'validation_failed',
        details: { issues: [{ line: 3, message: 'date: must lie between 2000-01-01 and 2026-11-27' }] },
      });
    }
    // A CODA movement dated 31/12/2099 (CODA's DDMMYY years are this century's).
    const coda = codaStatement([{ cents: 1000, ogm: null }])
      .split('\n')
      .map((record) => (record.startsWith('21') ? `${record.slice(0, 47)}311299${record.slice(53)}` : record))
      .join('\n');
    const refused = await send('POST', '/api/v1/payments/import', {
      payload: coda,
      contentType: 'text/plain',
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json<{ detail: string }>().detail).toMatch(
      /^line \d+: movement: the value date must lie between/,
    );
    expect(await paymentsTable()).toEqual(before);
  });
});
