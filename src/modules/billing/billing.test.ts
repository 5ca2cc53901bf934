import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { eraseSubject } from '../../kernel/erasure/index.js';
import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import type { Kernel } from '../../kernel/kernel.js';
import { setRestriction } from '../../kernel/subjects/index.js';
import { DATA_MAP } from '../data-map.js';
import type { Tenant } from '../tenants/index.js';
import { destinationClassOf } from './amounts.js';
import {
  billingContext,
  createCustomer,
  insertCalls,
  prepareTenant,
  startContract,
  SYSTEM,
  type Catalogue,
} from './billing.test-helpers.js';
import { setContractBillingOptions } from './contract-options.service.js';
import { getInvoiceHtml } from './documents.service.js';
import {
  addBankAccount,
  listBankAccounts,
  listCreditScores,
  recordCreditScore,
} from './financial.service.js';
import { builtInGroupOf } from '../telephony/index.js';
import { runInvoices } from './invoice-run.service.js';
import { createCreditNote, getInvoice, listInvoices } from './invoice.service.js';
import { importPayments } from './payment.service.js';
import { releaseExpiredInvoices } from './retention.service.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../../../test/cli.js';
import { dumpWholeDatabase } from '../../../test/dump.js';

// "Today" is Thursday 5 November 2026 in Belgium: October 2026 can be billed.
const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
});
afterAll(async () => database.close());

async function freshTenant(
  policy: 'voiceking' | 'voxtra' = 'voxtra',
): Promise<{ tenant: Tenant; catalogue: Catalogue }> {
  const tenant = await createPolicyTenant(kernel, policy);
  return { tenant, catalogue: await prepareTenant(kernel, tenant) };
}

async function numbers(tenant: Tenant, series: 'F' | 'C' = 'F'): Promise<number[]> {
  const result = await runAsOwner<{ number: number }>(
    database.ownerUrl,
    'select number from invoices where tenant_id = $1 and series = $2 order by number',
    [tenant.tenantId, series],
  );
  return result.rows.map((row) => row.number);
}

describe('invoice run (VX-3)', () => {
  // Part of VX-3, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('bills subscriptions (pro-rated), one-off products and calls summarised per destination class, with 21 % VAT and a valid structured communication', async () => {
    const { tenant, catalogue } = await freshTenant();
    const full = await createCustomer(kernel, tenant, { familyName: 'Claes' });
    const partial = await createCustomer(kernel, tenant, { familyName: 'Wouters' });
    await startContract(kernel, tenant, full, {
      startDate: '2026-01-01',
      lines: [{ productId: catalogue.subscription }],
    });
    // Starts on 16 October: 16 of 31 days, plus the installation.
    await startContract(kernel, tenant, partial, {
      startDate: '2026-10-16',
      lines: [{ productId: catalogue.subscription, quantity: 2 }, { productId: catalogue.install }],
    });
    await insertCalls(kernel, tenant, [
      {
        subjectId: full,
        startedAt: '2026-10-03T09:00:00Z',
        destination: '+32470123456',
        seconds: 60,
        costMicros: 150_000,
      },
      {
        subjectId: full,
        startedAt: '2026-10-04T09:00:00Z',
        destination: '+32478000000',
        seconds: 125,
        costMicros: 312_500,
      },
      {
        subjectId: full,
        startedAt: '2026-10-05T09:00:00Z',
        destination: '+3292000001',
        seconds: 30,
        costMicros: 20_000,
      },
      {
        subjectId: full,
        startedAt: '2026-10-06T09:00:00Z',
        destination: '+33123456789',
        seconds: 60,
        costMicros: 400_000,
      },
      // 30 September 23:30 in Brussels (UTC+2): September's call, not October's.
      {
        subjectId: full,
        startedAt: '2026-09-30T21:30:00Z',
        destination: '+32470123456',
        seconds: 60,
        costMicros: 999_000,
      },
      // 31 October 23:30 in Brussels (UTC+1 since the 25th): still October.
      {
        subjectId: full,
        startedAt: '2026-10-31T22:30:00Z',
        destination: '+32470123456',
        seconds: 60,
        costMicros: 150_000,
      },
    ]);
    const summary = await runInvoices(kernel, billingContext(tenant), {
      callsPurpose: 'call_billing',
      period: '2026-10',
    });
    expect(summary).toMatchObject({
      candidates: 2,
      invoiced: 2,
      empty: 0,
      firstNumber: 'F2026-000001',
      lastNumber: 'F2026-000002',
    });

    const page = await listInvoices(kernel, billingContext(tenant), { limit: 10, period: '2026-10' });
    const first = page.items.find((item) => item.subjectId === full);
    const second = page.items.find((item) => item.subjectId === partial);
    if (!first || !second) throw new Error('missing invoice');
    const one = await getInvoice(kernel, billingContext(tenant), first.invoiceId);
    expect(one.lines.map((line) => [line.kind, line.description, line.amountCents])).toEqual([
      ['subscription', 'VoIP line basic (2026-10)', 1500],
      ['calls', 'Gesprekken naar Belgische vaste nummers: 1 gesprek, 0 min 30 s', 2],
      ['calls', 'Gesprekken naar Belgische mobiele nummers: 3 gesprekken, 4 min 05 s', 61],
      ['calls', 'Internationale gesprekken: 1 gesprek, 1 min 00 s', 40],
    ]);
    expect(one).toMatchObject({
      totalExclVatCents: 1603,
      vatCents: 337,
      totalInclVatCents: 1940,
      status: 'open',
    });
    expect(one.buyer).toMatchObject({
      name: 'An Claes',
      street: 'Veldstraat 1',
      city: 'Gent',
      country: 'BE',
    });
    expect(one.holdUntil).toBe('2037-01-01');
    expect(one.dueDate).toBe('2026-12-05');
    expect(parseStructuredCommunication(one.structuredCommunication)).toMatchObject({ ok: true });

    const two = await getInvoice(kernel, billingContext(tenant), second.invoiceId);
    // 2 × €15 for 16 of 31 days = €15.48; the installation in full.
    expect(
      two.lines.map((line) => [line.description, line.quantity, line.unitPriceCents, line.amountCents]),
    ).toEqual([
      ['2 × VoIP line basic (2026-10-16 – 2026-10-31)', 1, 1548, 1548],
      ['Installation', 1, 5000, 5000],
    ]);
    expect(two).toMatchObject({ totalExclVatCents: 6548, vatCents: 1375, totalInclVatCents: 7923 });

    const again = await runInvoices(kernel, billingContext(tenant), {
      callsPurpose: 'call_billing',
      period: '2026-10',
    });
    expect(again).toMatchObject({ candidates: 0, invoiced: 0 });
    expect(await numbers(tenant)).toEqual([1, 2]);
  });

  // Part of VX-3, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('refuses to bill a month with unrated chargeable calls, unless told to leave them out', async () => {
    const { tenant, catalogue } = await freshTenant('voiceking');
    const customer = await createCustomer(kernel, tenant);
    await startContract(kernel, tenant, customer, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await insertCalls(kernel, tenant, [
      {
        subjectId: customer,
        startedAt: '2026-10-03T09:00:00Z',
        destination: '+88212345',
        seconds: 60,
        costMicros: null,
      },
    ]);
    await expect(
      runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
    const summary = await runInvoices(kernel, billingContext(tenant), {
      callsPurpose: 'call_billing',
      period: '2026-10',
      allowUnrated: true,
    });
    expect(summary.invoiced).toBe(1);
  });

  // Part of VX-3, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('numbering stays gapless and nobody is billed twice when runs and credit notes race', async () => {
    const { tenant, catalogue } = await freshTenant();
    const customers: number[] = [];
    for (let i = 0; i < 24; i += 1) {
      const id = await createCustomer(kernel, tenant, { familyName: `Klant${i}` });
      await startContract(kernel, tenant, id, {
        startDate: '2026-08-01',
        lines: [{ productId: catalogue.subscription }],
      });
      customers.push(id);
    }
    const context = billingContext(tenant);
    // Four runs of October and two of September at once, in batches of 5: every batch locks the counter.
    const runs = await Promise.all([
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period: '2026-10', batchSize: 5 }),
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period: '2026-10', batchSize: 5 }),
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period: '2026-09', batchSize: 5 }),
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period: '2026-10', batchSize: 3 }),
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period: '2026-09', batchSize: 7 }),
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period: '2026-10', batchSize: 5 }),
    ]);
    expect(runs.reduce((sum, run) => sum + run.invoiced, 0)).toBe(48);
    expect(await numbers(tenant)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    const perCustomer = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from invoices where tenant_id = $1 group by subject_id, period_start having count(*) > 1`,
      [tenant.tenantId],
    );
    expect(perCustomer.rows).toEqual([]);

    const invoices = (await listInvoices(kernel, context, { limit: 100 })).items;
    await Promise.all(
      invoices.slice(0, 8).map((invoice) =>
        createCreditNote(kernel, context, invoice.invoiceId, {
          reasonCode: 'goodwill',
          amountExclVatCents: 100,
        }),
      ),
    );
    expect(await numbers(tenant, 'C')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  // Part of VX-3, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('a restricted customer is left out of the run (audited), the others are billed', async () => {
    const { tenant, catalogue } = await freshTenant();
    const a = await createCustomer(kernel, tenant);
    const b = await createCustomer(kernel, tenant);
    for (const id of [a, b])
      await startContract(kernel, tenant, id, {
        startDate: '2026-10-01',
        lines: [{ productId: catalogue.subscription }],
      });
    await kernel.transact(tenant.tenantId, (atx) => setRestriction(atx, b, true, clock.now()));
    const summary = await runInvoices(kernel, billingContext(tenant), {
      callsPurpose: 'call_billing',
      period: '2026-10',
    });
    expect(summary).toMatchObject({ invoiced: 1, refused: 1 });
    const billed = await runAsOwner<{ subject_id: number }>(
      database.ownerUrl,
      'select subject_id from invoices where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(billed.rows.map((row) => row.subject_id)).toEqual([a]);
    const refusals = await runAsOwner<{ reason: string }>(
      database.ownerUrl,
      "select reason from audit_log where tenant_id = $1 and decision = 'denied'",
      [tenant.tenantId],
    );
    expect(refusals.rows.map((row) => row.reason)).toContain('subject_restricted');
  });
});

describe('credit notes (VX-3)', () => {
  // Part of VX-3, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a credit note references its invoice, has its own gapless series, and lowers what is due', async () => {
    const { tenant, catalogue } = await freshTenant();
    const customer = await createCustomer(kernel, tenant);
    await startContract(kernel, tenant, customer, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    const [invoice] = (await listInvoices(kernel, billingContext(tenant), { limit: 10 })).items;
    if (!invoice) throw new Error('no invoice');
    const partial = await createCreditNote(kernel, billingContext(tenant), invoice.invoiceId, {
      reasonCode: 'service_outage',
      amountExclVatCents: 500,
    });
    expect(partial).toMatchObject({
      kind: 'credit_note',
      invoiceNumber: 'C2026-000001',
      creditedInvoiceNumber: invoice.invoiceNumber,
      totalExclVatCents: 500,
      vatCents: 105,
      totalInclVatCents: 605,
      creditReason: 'service_outage',
    });
    expect(await getInvoice(kernel, billingContext(tenant), invoice.invoiceId)).toMatchObject({
      creditedCents: 605,
      balanceCents: 1815 - 605,
      status: 'open',
    });
    await expect(
      createCreditNote(kernel, billingContext(tenant), invoice.invoiceId, {
        reasonCode: 'goodwill',
        amountExclVatCents: 1001,
      }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(
      createCreditNote(kernel, billingContext(tenant), invoice.invoiceId, { reasonCode: 'goodwill' }),
    ).rejects.toMatchObject({ code: 'conflict' });
    await createCreditNote(kernel, billingContext(tenant), invoice.invoiceId, {
      reasonCode: 'goodwill',
      amountExclVatCents: 1000,
    });
    expect(await getInvoice(kernel, billingContext(tenant), invoice.invoiceId)).toMatchObject({
      status: 'credited',
      balanceCents: 0,
    });
    await expect(
      createCreditNote(kernel, billingContext(tenant), partial.invoiceId, { reasonCode: 'goodwill' }),
    ).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('payments (VX-3)', () => {
  // Part of VX-3, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('payments are matched by structured communication; partial, complete and over-payments; re-importing adds nothing', async () => {
    const { tenant, catalogue } = await freshTenant();
    const a = await createCustomer(kernel, tenant);
    const b = await createCustomer(kernel, tenant);
    for (const id of [a, b])
      await startContract(kernel, tenant, id, {
        startDate: '2026-10-01',
        lines: [{ productId: catalogue.subscription }],
      });
    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    const [first, second] = (await listInvoices(kernel, billingContext(tenant), { limit: 10 })).items;
    if (!first || !second) throw new Error('no invoices');
    const ogm = (digits: string) => parseStructuredCommunication(digits);
    const firstOgm = ogm(first.structuredCommunication);
    const secondOgm = ogm(second.structuredCommunication);
    if (!firstOgm.ok || !secondOgm.ok) throw new Error('bad ogm');
    const csv = [
      'date;amount;communication;reference;counterparty',
      `2026-11-10;10,00;${firstOgm.formatted};BANK-1;An Peeters`,
      `12/11/2026;20.00;***${secondOgm.digits.slice(0, 3)}/${secondOgm.digits.slice(3, 7)}/${secondOgm.digits.slice(7)}***;BANK-2;Someone`,
      `2026-11-12;5,00;free text invoice ${first.invoiceNumber};BANK-3;Someone`,
      `2026-11-12;-3,00;;BANK-4;Bank costs`,
    ].join('\n');
    const summary = await importPayments(kernel, billingContext(tenant), csv);
    expect(summary).toMatchObject({
      lines: 4,
      imported: 3,
      matched: 2,
      unmatched: 1,
      outgoing: 1,
      duplicates: 0,
    });
    expect(summary.partiallyPaid).toEqual([first.invoiceNumber]);
    expect(summary.overpaid).toEqual([second.invoiceNumber]);
    expect(await getInvoice(kernel, billingContext(tenant), first.invoiceId)).toMatchObject({
      paidCents: 1000,
      balanceCents: 815,
      status: 'partially_paid',
    });
    expect(await getInvoice(kernel, billingContext(tenant), second.invoiceId)).toMatchObject({
      status: 'overpaid',
      balanceCents: -185,
    });
    const rest = `date,amount,communication,reference\n2026-11-11,8.15,${firstOgm.digits},BANK-5\n`;
    expect(await importPayments(kernel, billingContext(tenant), rest)).toMatchObject({
      imported: 1,
      matched: 1,
    });
    const paid = await getInvoice(kernel, billingContext(tenant), first.invoiceId);
    expect(paid).toMatchObject({ status: 'paid', balanceCents: 0 });
    expect(paid.payments.map((payment) => payment.bankReference)).toEqual(['BANK-1', 'BANK-5']);
    expect(await importPayments(kernel, billingContext(tenant), csv)).toMatchObject({
      imported: 0,
      duplicates: 3,
    });
    expect((await getInvoice(kernel, billingContext(tenant), first.invoiceId)).paidCents).toBe(1815);
    const stored = await runAsOwner(database.ownerUrl, 'select * from payments where tenant_id = $1', [
      tenant.tenantId,
    ]);
    expect(JSON.stringify(stored.rows)).not.toContain('Someone');
    expect(JSON.stringify(stored.rows)).not.toContain('free text');
  });

  // Part of VX-3, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('a statement with a bad line is refused whole, naming the line, and changes nothing', async () => {
    const { tenant } = await freshTenant();
    const csv = 'date,amount,communication,reference\n2026-11-10,10.00,,OK-1\n2026-13-10,1.00,,BAD-1\n';
    await expect(importPayments(kernel, billingContext(tenant), csv)).rejects.toMatchObject({
      code: 'validation_failed',
      publicMessage: 'line 3: date: expected YYYY-MM-DD or DD/MM/YYYY',
    });
    const count = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from payments where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(count.rows[0]?.n).toBe(0);
  });
});

describe('bank accounts and credit scores (VK-2)', () => {
  // Part of VK-2, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('an IBAN is validated, stored encrypted with a blind index, and read back through the gate', async () => {
    const { tenant } = await freshTenant('voiceking');
    const customer = await createCustomer(kernel, tenant);
    const context = billingContext(tenant);
    await expect(
      addBankAccount(kernel, context, customer, { iban: 'BE68 5390 0754 7035' }),
    ).rejects.toMatchObject({
      code: 'validation_failed',
    });
    const account = await addBankAccount(kernel, context, customer, { iban: 'be68 5390 0754 7034' });
    expect(account.iban).toBe('BE68539007547034');
    await expect(
      addBankAccount(kernel, context, customer, { iban: 'BE68539007547034' }),
    ).rejects.toMatchObject({ code: 'conflict' });
    const raw = await runAsOwner(database.ownerUrl, 'select * from bank_accounts where tenant_id = $1', [
      tenant.tenantId,
    ]);
    expect(raw.rows).toHaveLength(1);
    expect(JSON.stringify(raw.rows)).not.toContain('539007547034');
    expect(await listBankAccounts(kernel, context, customer)).toMatchObject([{ iban: 'BE68539007547034' }]);
  });

  // Part of VK-2, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('a technician cannot read bank accounts; the refusal is audited', async () => {
    const { tenant } = await freshTenant('voiceking');
    const customer = await createCustomer(kernel, tenant);
    await addBankAccount(kernel, billingContext(tenant), customer, { iban: 'BE68539007547034' });
    const technician = { kind: 'staff' as const, staffId: 999, role: 'technician' };
    // Under billing the technician's role may not act; under their own purpose there are no bank accounts.
    await expect(
      listBankAccounts(kernel, billingContext(tenant, technician), customer),
    ).rejects.toMatchObject({
      code: 'role_not_allowed',
    });
    await expect(
      listBankAccounts(
        kernel,
        { ...billingContext(tenant, technician), purpose: 'installation_support' },
        customer,
      ),
    ).rejects.toMatchObject({ code: 'category_not_allowed' });
    const denied = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from audit_log where tenant_id = $1 and decision = 'denied'",
      [tenant.tenantId],
    );
    expect(denied.rows[0]?.n).toBeGreaterThanOrEqual(2);
  });

  // Part of VK-2, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('a credit score is stored encrypted with its source and date, and reads name the source', async () => {
    const { tenant } = await freshTenant();
    const customer = await createCustomer(kernel, tenant);
    const context = { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'solvency' };
    await recordCreditScore(kernel, context, customer, {
      score: 712,
      source: 'graydon',
      observedOn: '2026-10-01',
    });
    await recordCreditScore(kernel, context, customer, {
      score: 640,
      source: 'creditsafe',
      observedOn: '2026-11-01',
    });
    expect(await listCreditScores(kernel, context, customer)).toMatchObject([
      { score: 640, source: 'creditsafe', observedOn: '2026-11-01' },
      { score: 712, source: 'graydon', observedOn: '2026-10-01' },
    ]);
    const raw = await runAsOwner<{ score_enc: Buffer }>(
      database.ownerUrl,
      'select score_enc from credit_scores where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(raw.rows.every((row) => !row.score_enc.toString('latin1').includes('712'))).toBe(true);
    // Voxtra's invoicing purpose does not cover credit scores.
    await expect(listCreditScores(kernel, billingContext(tenant), customer)).rejects.toMatchObject({
      code: 'category_not_allowed',
    });
  });
});

describe('accounting legal hold (VX-8, VK-14)', () => {
  // Part of VX-8, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('erasing a customer keeps the invoices, payments and their party snapshot under the accounting hold, and lists them as kept', async () => {
    const { tenant, catalogue } = await freshTenant();
    const customer = await createCustomer(kernel, tenant, { familyName: 'Vermeulen' });
    // Ended: a contract that still runs keeps its holder from erasure (decision 0940).
    await startContract(kernel, tenant, customer, {
      startDate: '2026-10-01',
      endDate: '2026-10-31',
      lines: [{ productId: catalogue.subscription }],
    });
    await addBankAccount(kernel, billingContext(tenant), customer, {
      iban: 'BE68539007547034',
      directDebitMandate: 'MANDATE-001',
      mandateSignedOn: '2026-09-20',
    });
    await recordCreditScore(
      kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'solvency' },
      customer,
      {
        score: 500,
        source: 'graydon',
        observedOn: '2026-10-01',
      },
    );
    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    const [invoice] = (await listInvoices(kernel, billingContext(tenant), { limit: 10 })).items;
    if (!invoice) throw new Error('no invoice');
    expect(invoice.buyer).toMatchObject({ iban: 'BE**********7034', mandate: 'MANDATE-001' });
    const ogm = parseStructuredCommunication(invoice.structuredCommunication);
    await importPayments(
      kernel,
      billingContext(tenant),
      `date,amount,communication,reference\n2026-11-10,18.15,${ogm.ok ? ogm.formatted : ''},B-1\n`,
    );

    const outcome = await eraseSubject(kernel, DATA_MAP, {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' },
      purpose: 'rights_requests',
      subjectId: customer,
    });
    expect(outcome.kept.map((kept) => [kept.table, kept.rows, kept.legalHold])).toEqual([
      ['payments', 1, 'accounting'],
      ['invoices', 1, 'accounting'],
    ]);
    expect(outcome.kept[0]?.retention).toBe('accounting (10 years)');
    expect(outcome.erased.map((erased) => erased.table)).toEqual(
      expect.arrayContaining(['credit_scores', 'bank_accounts', 'people']),
    );
    // Nothing encrypted is held: the person's key is shredded.
    expect(outcome.keyDestroyed).toBe(true);

    // The invoice still shows who was billed, under the accounting purpose only.
    const accounting = {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff' as const, staffId: 2, role: 'billing' },
      purpose: 'accounting',
    };
    expect(await getInvoice(kernel, accounting, invoice.invoiceId)).toMatchObject({
      buyer: { name: 'An Vermeulen', street: 'Veldstraat 1', iban: 'BE**********7034' },
      paidCents: 1815,
      status: 'paid',
      holdUntil: '2037-01-01',
    });
    await expect(getInvoice(kernel, billingContext(tenant), invoice.invoiceId)).rejects.toMatchObject({
      code: 'subject_erased',
    });
    // The hold ends on 1 January 2037: the snapshot and the link to the person go, the amounts stay.
    expect(await releaseExpiredInvoices(kernel, tenant.tenantId, { today: '2036-12-31' })).toEqual({
      invoices: 0,
      payments: 0,
      kept: [],
    });
    expect(await releaseExpiredInvoices(kernel, tenant.tenantId, { today: '2037-01-01' })).toEqual({
      invoices: 1,
      payments: 1,
      kept: [],
    });
    // The purge went through the gate: an audited erase decision of the retention job.
    const decisions = await runAsOwner(
      database.ownerUrl,
      `select actor_kind, actor_id, purpose, action, decision from audit_log
        where tenant_id = $1 and actor_id = 'invoice-retention' order by seq`,
      [tenant.tenantId],
    );
    expect(decisions.rows).toEqual([
      {
        actor_kind: 'system',
        actor_id: 'invoice-retention',
        purpose: 'accounting',
        action: 'store',
        decision: 'allowed',
      },
      {
        actor_kind: 'system',
        actor_id: 'invoice-retention',
        purpose: 'accounting',
        action: 'retention.erase',
        decision: 'allowed',
      },
    ]);
    const after = await runAsOwner(
      database.ownerUrl,
      'select subject_id, buyer_name, buyer_street, buyer_iban, total_incl_vat_cents from invoices where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(after.rows).toEqual([
      {
        subject_id: null,
        buyer_name: null,
        buyer_street: null,
        buyer_iban: null,
        total_incl_vat_cents: 1815,
      },
    ]);
  });
});

describe('the IBAN on an invoice (issue 10, decision 0066)', () => {
  // Part of VX-8, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('an invoice keeps the IBAN it was collected from only masked: after erasure neither the invoice nor the database yields it in clear', async () => {
    const { tenant, catalogue } = await freshTenant();
    const customer = await createCustomer(kernel, tenant, { familyName: 'Wuyts' });
    // Ended: a contract that still runs keeps its holder from erasure (decision 0940).
    await startContract(kernel, tenant, customer, {
      startDate: '2026-10-01',
      endDate: '2026-10-31',
      lines: [{ productId: catalogue.subscription }],
    });
    await addBankAccount(kernel, billingContext(tenant), customer, {
      iban: 'BE71 0961 2345 6769',
      directDebitMandate: 'MANDATE-WUYTS',
      mandateSignedOn: '2026-09-20',
    });
    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    const [invoice] = (await listInvoices(kernel, billingContext(tenant), { limit: 10 })).items;
    if (!invoice) throw new Error('no invoice');
    expect(invoice.buyer.iban).toBe('BE**********6769');
    const billingStaff = { kind: 'staff' as const, staffId: 3, role: 'billing' };
    expect(await getInvoiceHtml(kernel, billingContext(tenant, billingStaff), invoice.invoiceId)).toContain(
      // Voxtra keeps no preferred language: the document is in the tenant's (Dutch).
      'van BE** **** **** 6769',
    );

    await eraseSubject(kernel, DATA_MAP, {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' },
      purpose: 'rights_requests',
      subjectId: customer,
    });
    const accounting = { tenantId: tenant.tenantId, actor: billingStaff, purpose: 'accounting' };
    const held = await getInvoice(kernel, accounting, invoice.invoiceId);
    expect(held.buyer).toMatchObject({ name: 'An Wuyts', iban: 'BE**********6769' });
    const html = await getInvoiceHtml(kernel, accounting, invoice.invoiceId);
    expect(html).toContain('BE** **** **** 6769');
    for (const clear of ['BE71096123456769', 'BE71 0961 2345 6769', '096123456769'])
      expect(html).not.toContain(clear);
    const dump = await dumpWholeDatabase(database.ownerUrl);
    expect(dump).not.toContain('BE71096123456769');
    expect(dump).not.toContain('0961234567');
  });

  it('migration 0066 masks the IBANs of existing invoices and the column refuses a clear one afterwards', async () => {
    const { tenant, catalogue } = await freshTenant();
    const customer = await createCustomer(kernel, tenant, { familyName: 'Oudfactuur' });
    await startContract(kernel, tenant, customer, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    // An invoice as written before 0066: the clear IBAN in the snapshot.
    await runAsOwner(database.ownerUrl, 'alter table invoices drop constraint invoices_buyer_iban_masked');
    await runAsOwner(
      database.ownerUrl,
      "update invoices set buyer_iban = 'BE68539007547034', buyer_mandate = 'M-1' where tenant_id = $1",
      [tenant.tenantId],
    );
    const migration = await readFile(path.join(ROOT, 'migrations', '0066_invoice_iban_masked.sql'), 'utf8');
    await runAsOwner(database.ownerUrl, migration);
    const after = await runAsOwner<{ buyer_iban: string }>(
      database.ownerUrl,
      'select buyer_iban from invoices where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(after.rows).toEqual([{ buyer_iban: 'BE**********7034' }]);
    await expect(
      runAsOwner(
        database.ownerUrl,
        "update invoices set buyer_iban = 'BE68539007547034' where tenant_id = $1",
        [tenant.tenantId],
      ),
    ).rejects.toThrow(/invoices_buyer_iban_masked/);
  });
});

describe('documents', () => {
  // Part of VX-3, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('the HTML invoice escapes party data; calls are itemised only when the contract asks for it', async () => {
    const { tenant, catalogue } = await freshTenant();
    const plain = await createCustomer(kernel, tenant, { familyName: '<script>alert(1)</script>' });
    const itemised = await createCustomer(kernel, tenant, { familyName: 'Maes' });
    await startContract(kernel, tenant, plain, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    const contract = await startContract(kernel, tenant, itemised, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await setContractBillingOptions(kernel, billingContext(tenant), contract, { itemisedCalls: true });
    await insertCalls(kernel, tenant, [
      {
        subjectId: plain,
        startedAt: '2026-10-03T09:00:00Z',
        destination: '+32470111111',
        seconds: 60,
        costMicros: 150_000,
      },
      {
        subjectId: itemised,
        startedAt: '2026-10-03T09:00:00Z',
        destination: '+32470222222',
        seconds: 60,
        costMicros: 150_000,
      },
    ]);
    await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    const items = (await listInvoices(kernel, billingContext(tenant), { limit: 10 })).items;
    const plainInvoice = items.find((item) => item.subjectId === plain);
    const itemisedInvoice = items.find((item) => item.subjectId === itemised);
    if (!plainInvoice || !itemisedInvoice) throw new Error('missing');
    const billingStaff = { kind: 'staff' as const, staffId: 3, role: 'billing' };
    const plainHtml = await getInvoiceHtml(
      kernel,
      billingContext(tenant, billingStaff),
      plainInvoice.invoiceId,
    );
    expect(plainHtml).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(plainHtml).not.toContain('<script>');
    expect(plainHtml).not.toContain('+32470111111');
    expect(plainHtml).toContain('Gesprekken naar Belgische mobiele nummers: 1 gesprek');
    const itemisedHtml = await getInvoiceHtml(
      kernel,
      billingContext(tenant, billingStaff),
      itemisedInvoice.invoiceId,
      { callsPurpose: 'call_billing' },
    );
    expect(itemisedHtml).toContain('+32470222222');
    // Under the invoicing purpose alone (it does not cover call records) the list is left out.
    const withoutCalls = await getInvoiceHtml(
      kernel,
      billingContext(tenant, billingStaff),
      itemisedInvoice.invoiceId,
    );
    expect(withoutCalls).not.toContain('+32470222222');
    expect(withoutCalls).toContain('niet beschikbaar voor dit doel');
  });

  it("without tariff groups, calls fall in telephony's built-in classes, the same as billing's", () => {
    const samples = [
      '+3292000000',
      '+32470123456',
      '+32800123',
      '+3270123456',
      '+31201234567',
      '1234',
      '*98',
      '+3249',
    ];
    expect(samples.map((sample) => builtInGroupOf(sample).key)).toEqual(samples.map(destinationClassOf));
  });
});

describe('tenant isolation', () => {
  it("a tenant never sees another tenant's invoices, and numbers per tenant from 1", async () => {
    const a = await freshTenant();
    const b = await freshTenant();
    for (const { tenant, catalogue } of [a, b]) {
      const customer = await createCustomer(kernel, tenant);
      await startContract(kernel, tenant, customer, {
        startDate: '2026-10-01',
        lines: [{ productId: catalogue.subscription }],
      });
      await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-10' });
    }
    const [invoiceA] = (await listInvoices(kernel, billingContext(a.tenant), { limit: 10 })).items;
    const listB = (await listInvoices(kernel, billingContext(b.tenant), { limit: 10 })).items;
    if (!invoiceA) throw new Error('none');
    expect(listB).toHaveLength(1);
    expect(listB[0]?.invoiceNumber).toBe('F2026-000001');
    expect(invoiceA.invoiceNumber).toBe('F2026-000001');
    expect(listB.some((item) => item.invoiceId === invoiceA.invoiceId)).toBe(false);
    await expect(getInvoice(kernel, billingContext(b.tenant), invoiceA.invoiceId)).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});
