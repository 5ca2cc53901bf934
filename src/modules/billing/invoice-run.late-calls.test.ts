import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { MIGRATIONS_DIR } from '../../platform/migrate.js';
import {
  billingContext,
  createCustomer,
  insertCalls,
  prepareTenant,
  startContract,
  type TestCall,
} from './billing.test-helpers.js';
import { rerateCalls } from '../telephony/index.js';
import { runInvoices } from './invoice-run.service.js';

// "Today" is Thursday 5 November 2026 in Belgium: October 2026 can be billed.
const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));
const CUSTOMERS = 4;

let database: TestDatabase;
let kernel: Kernel;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
});
afterAll(async () => database.close());

/**
 * October's calls billed per customer over all invoices (October's own record on its invoice and
 * the late rows of invoice_call_months, decision 0695), and stored.
 */
async function octoberCounts(
  tenantId: number,
): Promise<{ billed: Map<number, number>; stored: Map<number, number> }> {
  const billed = await runAsOwner<{ subject_id: string; calls: number }>(
    database.ownerUrl,
    `select subject_id, sum(calls)::int as calls from (
       select i.subject_id, i.period_calls as calls from invoices i
        where i.tenant_id = $1 and i.period_start = date '2026-10-01' and i.kind = 'invoice'
          and i.period_calls is not null
       union all
       select i.subject_id, c.calls
         from invoice_call_months c join invoices i on i.tenant_id = c.tenant_id and i.invoice_id = c.invoice_id
        where c.tenant_id = $1 and c.calls_month = date '2026-10-01' and i.kind = 'invoice') billed
      group by 1`,
    [tenantId],
  );
  const stored = await runAsOwner<{ subject_id: string; calls: number }>(
    database.ownerUrl,
    `select subject_id, count(*)::int as calls from call_records
      where tenant_id = $1 and started_at >= '2026-10-01' and started_at < '2026-11-01' group by 1`,
    [tenantId],
  );
  const toMap = (rows: Array<{ subject_id: string; calls: number }>) =>
    new Map(rows.map((row) => [Number(row.subject_id), row.calls]));
  return { billed: toMap(billed.rows), stored: toMap(stored.rows) };
}

function callsOf(subjects: readonly number[], day: string, perCustomer: number): TestCall[] {
  return subjects.flatMap((subjectId, i) =>
    Array.from({ length: perCustomer }, (_, k) => ({
      subjectId,
      startedAt: `${day}T10:${String(i).padStart(2, '0')}:${String(k).padStart(2, '0')}Z`,
      destination: '+3292123456',
      seconds: 90,
      costMicros: 85_000,
    })),
  );
}

describe('late calls under concurrent invoice runs of different months (attack S7-1, decision 0426)', () => {
  it('two runs of different months started at once bill each late call exactly once; calls arriving later are billed by the next run', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const catalogue = await prepareTenant(kernel, tenant);
    const subjects: number[] = [];
    for (let i = 0; i < CUSTOMERS; i += 1) {
      const subjectId = await createCustomer(kernel, tenant, { familyName: `Laat${i}` });
      await startContract(kernel, tenant, subjectId, {
        startDate: '2026-08-01',
        lines: [{ productId: catalogue.subscription }],
      });
      subjects.push(subjectId);
    }
    const context = billingContext(tenant);
    await insertCalls(kernel, tenant, callsOf(subjects, '2026-10-10', 1));
    const october = await runInvoices(kernel, context, {
      callsPurpose: 'call_billing',
      period: '2026-10',
      issueDate: '2026-11-05',
    });
    expect(october.invoiced).toBe(CUSTOMERS);

    // Two October calls per customer arrive after October's invoices.
    await insertCalls(kernel, tenant, callsOf(subjects, '2026-10-20', 2));
    // A month is billed once it has started (attack S7-8): the clock moves on to January.
    clock.set(new Date('2027-01-05T10:00:00Z'));
    const [november, december] = await Promise.all([
      runInvoices(kernel, context, {
        callsPurpose: 'call_billing',
        period: '2026-11',
        issueDate: '2027-01-05',
      }),
      runInvoices(kernel, context, {
        callsPurpose: 'call_billing',
        period: '2026-12',
        issueDate: '2027-01-05',
      }),
    ]);
    expect([november.invoiced, december.invoiced]).toEqual([CUSTOMERS, CUSTOMERS]);
    expect(november.lateCalls.billed + december.lateCalls.billed).toBe(2 * CUSTOMERS);
    let counts = await octoberCounts(tenant.tenantId);
    for (const subjectId of subjects) {
      expect(counts.stored.get(subjectId)).toBe(3);
      expect(counts.billed.get(subjectId)).toBe(3);
    }
    // The late-call lines: two calls per customer in total, on one of the two runs' invoices.
    const lines = await runAsOwner<{ subject_id: string; calls: number }>(
      database.ownerUrl,
      `select i.subject_id, sum(l.call_count)::int as calls
         from invoice_lines l join invoices i on i.tenant_id = l.tenant_id and i.invoice_id = l.invoice_id
        where l.tenant_id = $1 and l.calls_month = date '2026-10-01' group by 1`,
      [tenant.tenantId],
    );
    expect(new Map(lines.rows.map((row) => [Number(row.subject_id), row.calls]))).toEqual(
      new Map(subjects.map((id) => [id, 2])),
    );

    // One more October call per customer arrives: the next run bills it, once.
    await insertCalls(kernel, tenant, callsOf(subjects, '2026-10-25', 1));
    clock.set(new Date('2027-02-05T10:00:00Z'));
    const january = await runInvoices(kernel, context, {
      callsPurpose: 'call_billing',
      period: '2027-01',
      issueDate: '2027-02-05',
    });
    expect(january.lateCalls.billed).toBe(CUSTOMERS);
    expect(january.lateCalls.months).toEqual(['2026-10']);
    counts = await octoberCounts(tenant.tenantId);
    for (const subjectId of subjects) {
      expect(counts.stored.get(subjectId)).toBe(4);
      expect(counts.billed.get(subjectId)).toBe(4);
    }
  });
});

describe('a month run again after the next month billed its calls as late calls (attack S8-5, decision 0532)', () => {
  it('bills each call exactly once: the month’s own run bills only what no invoice billed yet (one "not billed before" line in the invoice’s language), and later calls of it are billed once by the next run', async () => {
    clock.set(new Date('2026-11-05T10:00:00Z'));
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const catalogue = await prepareTenant(kernel, tenant);
    const context = billingContext(tenant);
    const run = (period: string, issueDate: string) =>
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period, issueDate });
    // A, billed for October on time; X, calls only; Y, whose October contract is recorded late.
    const a = await createCustomer(kernel, tenant, { familyName: 'Optijd' });
    await startContract(kernel, tenant, a, {
      startDate: '2026-08-01',
      lines: [{ productId: catalogue.subscription }],
    });
    const x = await createCustomer(kernel, tenant, { familyName: 'Zondercontract' });
    const y = await createCustomer(kernel, tenant, { familyName: 'Laatgeboekt' });
    await insertCalls(kernel, tenant, callsOf([a], '2026-10-10', 1));
    expect((await run('2026-10', '2026-11-05')).invoiced).toBe(1);

    // X's and Y's October calls arrive after October's run, Y's contract too.
    await insertCalls(kernel, tenant, callsOf([x, y], '2026-10-12', 5));
    await startContract(kernel, tenant, y, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    clock.set(new Date('2026-12-05T10:00:00Z'));
    const november = await run('2026-11', '2026-12-05');
    expect(november.lateCalls.billed).toBe(10);
    let counts = await octoberCounts(tenant.tenantId);
    expect([counts.billed.get(x), counts.billed.get(y)]).toEqual([5, 5]);
    // Billed as late calls, their October calls keep their billed price through a re-rate (0540).
    const rerate = await rerateCalls(kernel, tenant.tenantId, {
      from: new Date('2026-10-01T00:00:00+02:00'),
      to: new Date('2026-11-01T00:00:00+01:00'),
    });
    expect(rerate.keptInvoicedCustomers).toEqual([a, x, y]);
    expect(rerate.calls).toBe(0);

    // Two more calls of Y's October, then October is run again (it picks up who it missed).
    await insertCalls(kernel, tenant, callsOf([y], '2026-10-28', 2));
    const again = await run('2026-10', '2026-12-05');
    // Y: October's subscription and the rest of its calls; X: nothing left, no invoice.
    expect(again.invoiced).toBe(1);
    counts = await octoberCounts(tenant.tenantId);
    for (const [subjectId, stored] of [
      [a, 1],
      [x, 5],
      [y, 7],
    ] as const) {
      expect(counts.stored.get(subjectId)).toBe(stored);
      expect(counts.billed.get(subjectId)).toBe(stored);
    }
    const lines = await runAsOwner<{ description: string; call_count: number | null }>(
      database.ownerUrl,
      `select l.description, l.call_count
         from invoice_lines l join invoices i on i.tenant_id = l.tenant_id and i.invoice_id = l.invoice_id
        where l.tenant_id = $1 and i.subject_id = $2 and i.period_start = date '2026-10-01' and l.kind = 'calls'`,
      [tenant.tenantId, y],
    );
    expect(lines.rows).toEqual([
      {
        description: 'Gesprekken van 2026-10 nog niet gefactureerd: 2 gesprekken, 3 min 00 s',
        call_count: 2,
      },
    ]);

    // One more October call of X: the next run bills it once, as a late call.
    await insertCalls(kernel, tenant, callsOf([x], '2026-10-30', 1));
    clock.set(new Date('2027-01-05T10:00:00Z'));
    const december = await run('2026-12', '2027-01-05');
    expect(december.lateCalls.billed).toBe(1);
    counts = await octoberCounts(tenant.tenantId);
    expect(counts.billed.get(x)).toBe(6);
    expect(counts.stored.get(x)).toBe(6);
  });
});

describe('call lines in the invoice’s language, late-call lines true for every customer (attack S8-4)', () => {
  it('writes the per-destination-group lines in the customer’s language, and a late-call line says "not on that month’s invoice" to a customer who had one and "not billed before" to one who had none', async () => {
    clock.set(new Date('2026-11-05T10:00:00Z'));
    // VoiceKing keeps its customers' preferred language (Voxtra does not).
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const catalogue = await prepareTenant(kernel, tenant);
    const context = billingContext(tenant);
    const run = (period: string, issueDate: string) =>
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period, issueDate });
    const customers: Record<'nl' | 'fr' | 'en', number> = { nl: 0, fr: 0, en: 0 };
    for (const language of ['nl', 'fr', 'en'] as const) {
      customers[language] = await createCustomer(kernel, tenant, {
        familyName: `Taal${language}`,
        preferredLanguage: language,
      });
      await startContract(kernel, tenant, customers[language], {
        startDate: '2026-08-01',
        lines: [{ productId: catalogue.subscription }],
      });
    }
    const late = await createCustomer(kernel, tenant, {
      familyName: 'Zonderfactuur',
      preferredLanguage: 'nl',
    });
    await insertCalls(kernel, tenant, [
      ...callsOf(Object.values(customers), '2026-10-10', 1),
      ...Object.values(customers).map((subjectId) => ({
        subjectId,
        startedAt: '2026-10-11T09:00:00Z',
        destination: '+32470123456',
        seconds: 3725,
        costMicros: 1_234_567,
      })),
    ]);
    expect((await run('2026-10', '2026-11-05')).invoiced).toBe(3);
    const callLines = async (subjectId: number, period: string) =>
      (
        await runAsOwner<{ description: string }>(
          database.ownerUrl,
          `select l.description
             from invoice_lines l join invoices i on i.tenant_id = l.tenant_id and i.invoice_id = l.invoice_id
            where l.tenant_id = $1 and i.subject_id = $2 and i.period_start = $3::date and l.kind = 'calls'
            order by l.line_no`,
          [tenant.tenantId, subjectId, period],
        )
      ).rows.map((row) => row.description);
    expect(await callLines(customers.nl, '2026-10-01')).toEqual([
      'Gesprekken naar Belgische vaste nummers: 1 gesprek, 1 min 30 s',
      'Gesprekken naar Belgische mobiele nummers: 1 gesprek, 1 h 02 min 05 s',
    ]);
    expect(await callLines(customers.fr, '2026-10-01')).toEqual([
      'Appels vers des numéros fixes belges : 1 appel, 1 min 30 s',
      'Appels vers des numéros mobiles belges : 1 appel, 1 h 02 min 05 s',
    ]);
    expect(await callLines(customers.en, '2026-10-01')).toEqual([
      'Calls to Belgian fixed numbers: 1 call, 1 min 30 s',
      'Calls to Belgian mobile numbers: 1 call, 1 h 02 min 05 s',
    ]);

    // October calls arrive after October's run: of a customer who had October's invoice, and of
    // one who had none (no contract, calls only).
    await insertCalls(kernel, tenant, callsOf([customers.nl, late], '2026-10-20', 2));
    clock.set(new Date('2026-12-05T10:00:00Z'));
    const november = await run('2026-11', '2026-12-05');
    expect(november.lateCalls.billed).toBe(4);
    expect(await callLines(customers.nl, '2026-11-01')).toEqual([
      'Gesprekken van 2026-10 niet op de factuur van die maand: 2 gesprekken, 3 min 00 s',
    ]);
    expect(await callLines(late, '2026-11-01')).toEqual([
      'Gesprekken van 2026-10 nog niet gefactureerd: 2 gesprekken, 3 min 00 s',
    ]);
  });
});

describe("an invoice's own month on its row (issue 21, decision 0695)", () => {
  /** Per invoice: its own month's record and the months of invoice_call_months, as text. */
  const recordsOf = async (tenantId: number) =>
    (
      await runAsOwner<{ row: string }>(
        database.ownerUrl,
        `select concat_ws('|', i.invoice_number, i.period_calls, i.period_call_seconds, i.period_call_cost_micros,
                (select string_agg(concat_ws(':', c.calls_month, c.calls, c.seconds, c.cost_micros), ','
                                   order by c.calls_month)
                   from invoice_call_months c where c.tenant_id = i.tenant_id and c.invoice_id = i.invoice_id)) as row
           from invoices i where i.tenant_id = $1 order by i.invoice_number`,
        [tenantId],
      )
    ).rows.map((row) => row.row);

  it('migration 0695 moves the own month of invoices written before it onto their rows, late months stay, and late calls are then billed exactly once', async () => {
    clock.set(new Date('2026-11-05T10:00:00Z'));
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const catalogue = await prepareTenant(kernel, tenant);
    const subjects: number[] = [];
    for (let i = 0; i < 2; i += 1) {
      const subjectId = await createCustomer(kernel, tenant, { familyName: `Rij${i}` });
      await startContract(kernel, tenant, subjectId, {
        startDate: '2026-08-01',
        lines: [{ productId: catalogue.subscription }],
      });
      subjects.push(subjectId);
    }
    const context = billingContext(tenant);
    const run = (period: string, issueDate: string) =>
      runInvoices(kernel, context, { callsPurpose: 'call_billing', period, issueDate });
    await insertCalls(kernel, tenant, callsOf(subjects, '2026-10-10', 1));
    expect((await run('2026-10', '2026-11-05')).invoiced).toBe(2);
    await insertCalls(kernel, tenant, callsOf(subjects, '2026-10-20', 2));
    clock.set(new Date('2026-12-05T10:00:00Z'));
    expect((await run('2026-11', '2026-12-05')).lateCalls.billed).toBe(4);
    const written = await recordsOf(tenant.tenantId);
    // Each invoice carries its own month; November's invoices keep October's late calls as rows.
    expect(written).toEqual([
      'F2026-000001|1|90|85000',
      'F2026-000002|1|90|85000',
      'F2026-000003|0|0|0|2026-10-01:2:180:170000',
      'F2026-000004|0|0|0|2026-10-01:2:180:170000',
    ]);

    // As before migration 0695: every month, the own one too, a row of invoice_call_months.
    await runAsOwner(
      database.ownerUrl,
      `insert into invoice_call_months (tenant_id, invoice_id, calls_month, calls, seconds, cost_micros)
       select tenant_id, invoice_id, period_start, period_calls, period_call_seconds, period_call_cost_micros
         from invoices where tenant_id = $1 and period_calls is not null`,
      [tenant.tenantId],
    );
    await runAsOwner(
      database.ownerUrl,
      `update invoices set period_calls = null, period_call_seconds = null, period_call_cost_micros = null
        where tenant_id = $1`,
      [tenant.tenantId],
    );
    const migration = await readFile(path.join(MIGRATIONS_DIR, '0695_invoice_period_calls.sql'), 'utf8');
    const backfill = migration.slice(migration.indexOf('DO $$'));
    expect(backfill).toMatch(/END \$\$;\s*$/);
    await runAsOwner(database.ownerUrl, backfill);
    expect(await recordsOf(tenant.tenantId)).toEqual(written);

    // One more October call each: December's run finds it (own records and late rows read
    // together) and bills it once.
    await insertCalls(kernel, tenant, callsOf(subjects, '2026-10-25', 1));
    clock.set(new Date('2027-01-05T10:00:00Z'));
    const december = await run('2026-12', '2027-01-05');
    expect(december.lateCalls.billed).toBe(2);
    expect(december.lateCalls.months).toEqual(['2026-10']);
    const counts = await octoberCounts(tenant.tenantId);
    for (const subjectId of subjects) {
      expect(counts.stored.get(subjectId)).toBe(4);
      expect(counts.billed.get(subjectId)).toBe(4);
    }
    const december2 = await run('2026-12', '2027-01-05');
    expect(december2.lateCalls.billed).toBe(0);
  });
});
