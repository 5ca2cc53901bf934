import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { sharedPath } from '../../../test/shared.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { billingContext, createCustomer, prepareTenant, startContract } from './billing.test-helpers.js';
import { listInvoices, runInvoices, type InvoiceSummary } from './index.js';

/**
 * Attack finding A5 (issue 22, decision 0405): a statement line above 1 000 000 000.00 € is
 * refused, an invoice's payments never add up beyond that, and no stored paid sum breaks a read.
 */

/** 1 000 000 000.00 € in cents (decision 0405), written out so the test also runs against older code. */
const MAX_PAYMENT_CENTS = 100_000_000_000;

const clock = fixedClock(new Date('2026-11-20T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;
let first: InvoiceSummary;
let second: InvoiceSummary;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  billing = await loginAs(app, kernel, voxtra, 'billing');
  const catalogue = await prepareTenant(kernel, voxtra);
  for (const name of ['Aerts', 'Baert']) {
    const subjectId = await createCustomer(kernel, voxtra, { familyName: name });
    await startContract(kernel, voxtra, subjectId, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
  }
  await runInvoices(kernel, billingContext(voxtra), { period: '2026-10', callsPurpose: 'call_billing' });
  const [a, b] = (await listInvoices(kernel, billingContext(voxtra), { limit: 10 })).items;
  if (!a || !b) throw new Error('missing invoices');
  first = a;
  second = b;
});
afterAll(async () => {
  await app.close();
  await database.close();
});

let keys = 0;
function send(
  method: 'GET' | 'POST',
  url: string,
  options: { payload?: string | object; contentType?: string } = {},
) {
  keys += 1;
  return app.inject({
    method,
    url,
    headers: {
      cookie: billing.cookie,
      'x-csrf-token': billing.csrfToken,
      'x-kluis-purpose': 'invoicing',
      'idempotency-key': `amounts-${keys}`,
      ...(options.contentType ? { 'content-type': options.contentType } : {}),
    },
    ...(options.payload === undefined ? {} : { payload: options.payload }),
  });
}

const ogmOf = (invoice: InvoiceSummary): string => {
  const digits = invoice.structuredCommunication;
  return `+++${digits.slice(0, 3)}/${digits.slice(3, 7)}/${digits.slice(7)}+++`;
};

/** sample1.cod with its first credit movement carrying this amount (cents) and communication. */
function codaWith(cents: number, ogm: string): string {
  let done = false;
  return readFileSync(sharedPath('coda', 'sample1.cod'), 'latin1')
    .split(/\r?\n/)
    .map((record) => {
      if (done || !record.startsWith('21')) return record;
      done = true;
      const amount = String(cents * 10).padStart(15, '0');
      return (
        record.slice(0, 32) + amount + record.slice(47, 61) + `1101${ogm}`.padEnd(54, ' ') + record.slice(115)
      );
    })
    .join('\n');
}

async function stored(): Promise<{ payments: number; paid: Record<string, string> }> {
  const payments = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    'select count(*)::int as n from payments where tenant_id = $1',
    [voxtra.tenantId],
  );
  const invoices = await runAsOwner<{ invoice_number: string; paid_cents: string }>(
    database.ownerUrl,
    'select invoice_number, paid_cents::text from invoices where tenant_id = $1 order by invoice_id',
    [voxtra.tenantId],
  );
  return {
    payments: payments.rows[0]?.n ?? -1,
    paid: Object.fromEntries(invoices.rows.map((row) => [row.invoice_number, row.paid_cents])),
  };
}

describe('absurd payment amounts (attack A5, issue 22)', () => {
  it('A5 (#22): a statement line above 1 000 000 000.00 € (CSV or CODA) is refused with 400 naming the line, and nothing is imported', async () => {
    const before = await stored();
    const csv =
      'date,amount,communication,reference,counterparty\n' +
      `2026-11-19,60.50,${ogmOf(first)},OK-1,X\n` +
      `2026-11-19,9999999999999.99,${ogmOf(first)},OVF-1,X\n`;
    const refused = await send('POST', '/api/v1/payments/import', { payload: csv, contentType: 'text/csv' });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({
      code: 'validation_failed',
      detail: 'line 3: amount: at most 1000000000.00 € per line',
      details: { issues: [{ line: 3 }] },
    });
    const coda = await send('POST', '/api/v1/payments/import', {
      payload: codaWith(MAX_PAYMENT_CENTS + 1, first.structuredCommunication),
      contentType: 'text/plain',
    });
    expect(coda.statusCode, coda.body).toBe(400);
    expect(coda.json()).toMatchObject({ code: 'validation_failed' });
    expect(coda.json<{ detail: string }>().detail).toMatch(/amount is at most 1000000000\.00 €/);
    expect(await stored()).toEqual(before);
  });

  it("A5 (#22): an invoice's payments never add up beyond the cap: an import is refused whole (400, the line), a match by hand with 409, nothing changes", async () => {
    const before = await stored();
    const twice =
      'date,amount,communication,reference\n' +
      `2026-11-19,600000000.00,${ogmOf(first)},BIG-1\n` +
      `2026-11-19,600000000.00,${ogmOf(first)},BIG-2\n`;
    const refused = await send('POST', '/api/v1/payments/import', {
      payload: twice,
      contentType: 'text/csv',
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'validation_failed', details: { issues: [{ line: 3 }] } });
    expect(await stored()).toEqual(before);

    // One such line is taken (overpaid); another, unmatched, cannot be matched to the same invoice.
    const one =
      'date,amount,communication,reference\n' +
      `2026-11-19,600000000.00,${ogmOf(first)},BIG-3\n` +
      '2026-11-19,600000000.00,no communication,BIG-4\n';
    const taken = await send('POST', '/api/v1/payments/import', { payload: one, contentType: 'text/csv' });
    expect(taken.statusCode, taken.body).toBe(200);
    expect(taken.json()).toMatchObject({
      imported: 2,
      matched: 1,
      unmatched: 1,
      overpaid: [first.invoiceNumber],
    });
    const unmatched = await send('GET', '/api/v1/payments/unmatched');
    const paymentId = unmatched.json<{ items: Array<{ paymentId: number }> }>().items[0]?.paymentId;
    const afterImport = await stored();
    const match = await send('POST', `/api/v1/payments/${paymentId}/match`, {
      payload: { invoiceId: first.invoiceId },
    });
    expect(match.statusCode, match.body).toBe(409);
    expect(await stored()).toEqual(afterImport);
    expect(afterImport.paid[first.invoiceNumber]).toBe('60000000000');
  });

  it('A5 (#22): a paid sum stored beyond the safe range (before the cap) does not make the invoice, the list or its reminders answer 5xx', async () => {
    await runAsOwner(
      database.ownerUrl,
      'update invoices set paid_cents = $1 where tenant_id = $2 and invoice_id = $3',
      ['99999999999999990', voxtra.tenantId, second.invoiceId],
    );
    for (const url of [
      `/api/v1/invoices/${second.invoiceId}`,
      '/api/v1/invoices?limit=3',
      `/api/v1/invoices/${second.invoiceId}/reminders`,
    ]) {
      const response = await send('GET', url);
      expect({ url, status: response.statusCode }).toEqual({ url, status: 200 });
    }
    const one = await send('GET', `/api/v1/invoices/${second.invoiceId}`);
    expect(one.json()).toMatchObject({ paidCents: MAX_PAYMENT_CENTS, status: 'overpaid' });
  });
});
