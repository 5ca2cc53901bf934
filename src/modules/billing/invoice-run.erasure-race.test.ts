import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { eraseCategories, eraseSubject, type ErasureOutcome } from '../../kernel/erasure/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { systemClock } from '../../platform/clock.js';
import { DATA_MAP } from '../data-map.js';
import type { Tenant } from '../tenants/index.js';
import { billingContext, createCustomer, prepareTenant, startContract } from './billing.test-helpers.js';
import { createCreditNote } from './invoice.service.js';
import { runInvoices, type InvoiceRunSummary } from './invoice-run.service.js';

/*
 * Attack S9-3 (decision 0584): an erasure that lands while an invoice run drafts its customer.
 * The two are driven by hand with database locks, no timing: a transaction of the test holds a
 * lock one of them needs next, the test waits until PostgreSQL reports the other one waiting,
 * then lets go. Either the invoice commits before the erasure (which keeps it under the
 * accounting hold and counts it), or the run refuses the customer the erasure took.
 */

const masterKey = randomBytes(32);
let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let subscription: number;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  subscription = (await prepareTenant(kernel, tenant)).subscription;
}, 120_000);
afterAll(async () => database.close());

async function customerWithContract(familyName: string): Promise<number> {
  const subjectId = await createCustomer(kernel, tenant, { familyName });
  await startContract(kernel, tenant, subjectId, {
    startDate: '2025-01-01',
    // Ended: a contract that still runs keeps its holder from erasure (decision 0940).
    endDate: '2025-12-31',
    lines: [{ productId: subscription }],
  });
  return subjectId;
}

const erase = (subjectId: number): Promise<ErasureOutcome> =>
  eraseSubject(kernel, DATA_MAP, {
    tenantId: tenant.tenantId,
    actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' },
    purpose: 'rights_requests',
    subjectId,
  });

const ADDRESS = 'user.contact.address';

const eraseAddress = (subjectId: number) =>
  eraseCategories(kernel, DATA_MAP, {
    tenantId: tenant.tenantId,
    actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' },
    purpose: 'rights_requests',
    subjectId,
    categories: [ADDRESS],
  });

/** Whether the customer's invoice of the period carries a street (the party snapshot). */
async function invoiceHasStreet(subjectId: number, period: string): Promise<boolean> {
  const result = await runAsOwner<{ street: boolean }>(
    database.ownerUrl,
    `select buyer_street is not null as street from invoices
      where tenant_id = $1 and subject_id = $2 and period_start = $3::date and kind = 'invoice'`,
    [tenant.tenantId, subjectId, `${period}-01`],
  );
  return result.rows[0]?.street ?? false;
}

/** Backends of this database waiting for a lock of the given kinds (pg_stat_activity). */
async function waiting(events: readonly string[]): Promise<number> {
  const result = await runAsOwner<{ count: string }>(
    database.ownerUrl,
    `select count(*)::text as count from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and wait_event = any($1)`,
    [events],
  );
  return Number(result.rows[0]?.count ?? 0);
}

/** Polls until `ready` holds (a state of the database, not a duration); fails after 30 s. */
async function until(ready: () => boolean | Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 1500; attempt += 1) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the awaited lock state never came');
}

const ROW_LOCKS = ['transactionid', 'tuple'];

/** Work the test started and lets run while it drives the locks. */
interface Started<T> {
  done: Promise<T>;
  finished(): boolean;
}

function start<T>(work: Promise<T>): Started<T> {
  let finished = false;
  const done = work.finally(() => {
    finished = true;
  });
  return { done, finished: () => finished };
}

/** Until `started` has finished or `count` backends wait for a lock of the given kinds. */
async function untilFinishedOrWaiting(
  started: Started<unknown>,
  events: readonly string[],
  count: number,
): Promise<void> {
  await until(async () => started.finished() || (await waiting(events)) >= count);
}

const runMonth = (period: string, issueDate: string): Promise<InvoiceRunSummary> =>
  runInvoices(kernel, billingContext(tenant), { period, issueDate, callsPurpose: 'call_billing' });

async function invoicesOf(subjectId: number, period?: string): Promise<number> {
  const result = await runAsOwner<{ count: string }>(
    database.ownerUrl,
    `select count(*)::text as count from invoices
      where tenant_id = $1 and subject_id = $2 and ($3::date is null or period_start = $3::date)`,
    [tenant.tenantId, subjectId, period ? `${period}-01` : null],
  );
  return Number(result.rows[0]?.count ?? 0);
}

/** A transaction of the test's own, holding a lock until `release`. */
async function holdWith(text: string, values: unknown[]): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: database.ownerUrl });
  await client.connect();
  await client.query('begin');
  await client.query(text, values);
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await client.query('commit');
    await client.end();
  };
  // A failed expectation must not leave the lock to the next test.
  onTestFinished(release);
  return { release };
}

/**
 * The run's batch stops at the invoice-run lock, after it read its customers and their contracts;
 * then `erasure` starts. It must wait for the batch holding its customer.
 */
async function erasureAfterTheRunReadItsCustomer<E>(
  month: [period: string, issueDate: string],
  erasure: () => Promise<E>,
): Promise<{ summary: InvoiceRunSummary; outcome: E }> {
  const held = await holdWith('select pg_advisory_xact_lock(hashtextextended($1, 0))', [
    `kluis.invoice_run.${tenant.tenantId}`,
  ]);
  const run = start(runMonth(...month));
  await untilFinishedOrWaiting(run, ['advisory'], 1);
  expect(run.finished()).toBe(false);
  const erasing = start(erasure());
  await untilFinishedOrWaiting(erasing, ROW_LOCKS, 1);
  // Before decisions 0584 (full) and 0622 (by category) the erasure committed here, and the run
  // wrote the invoice afterwards from what the erasure had removed.
  expect(erasing.finished()).toBe(false);
  await held.release();
  const summary = await run.done;
  return { summary, outcome: await erasing.done };
}

/**
 * The erasure stops at the lock `holdSql` takes, after it took its customer's subject row; then
 * the run starts. It must wait at that customer, behind the erasure.
 */
async function runAfterTheErasureTookItsCustomer<E>(
  hold: [holdSql: string, values: unknown[]],
  erasure: () => Promise<E>,
  month: [period: string, issueDate: string],
): Promise<{ summary: InvoiceRunSummary; outcome: E }> {
  const held = await holdWith(...hold);
  const erasing = start(erasure());
  await untilFinishedOrWaiting(erasing, ROW_LOCKS, 1);
  expect(erasing.finished()).toBe(false);
  const run = start(runMonth(...month));
  await untilFinishedOrWaiting(run, ROW_LOCKS, 2);
  expect(run.finished()).toBe(false);
  await held.release();
  const outcome = await erasing.done;
  return { summary: await run.done, outcome };
}

describe('an erasure during an invoice run (attack S9-3)', () => {
  it('S9-3: an erasure arriving after the run read its customer waits for the invoice and counts it as kept', async () => {
    const customer = await customerWithContract('Michiels');
    const { summary, outcome } = await erasureAfterTheRunReadItsCustomer(['2025-02', '2025-03-01'], () =>
      erase(customer),
    );
    expect(summary.invoiced).toBeGreaterThanOrEqual(1);
    expect(await invoicesOf(customer, '2025-02')).toBe(1);
    const kept = outcome.kept.find((entry) => entry.table === 'invoices');
    expect(kept?.rows).toBe(await invoicesOf(customer));
    expect(kept?.rows).toBe(1);
  }, 60_000);

  it('S9-3: a run reaching a customer whose erasure is in progress waits for it and bills nobody erased', async () => {
    const customer = await customerWithContract('Hermans');
    const other = await customerWithContract('Peeters');
    const { summary, outcome } = await runAfterTheErasureTookItsCustomer(
      [
        'select 1 from contracts where tenant_id = $1 and subject_id = $2 for update',
        [tenant.tenantId, customer],
      ],
      () => erase(customer),
      ['2025-03', '2025-04-01'],
    );
    expect(await invoicesOf(customer, '2025-03')).toBe(0);
    expect(await invoicesOf(other, '2025-03')).toBe(1);
    expect(summary.refused).toBe(1);
    const kept = outcome.kept.find((entry) => entry.table === 'invoices');
    expect(kept?.rows ?? 0).toBe(await invoicesOf(customer));
  }, 60_000);
});

describe('a category erasure during an invoice run (decision 0622)', () => {
  it('an address erasure arriving after the run read its customer waits for the invoice (kept, with the street it was drafted with)', async () => {
    const customer = await customerWithContract('Claes');
    const { outcome } = await erasureAfterTheRunReadItsCustomer(['2025-04', '2025-05-01'], () =>
      eraseAddress(customer),
    );
    expect(outcome.erased).toContainEqual(expect.objectContaining({ table: 'people', rows: 1 }));
    expect(await invoiceHasStreet(customer, '2025-04')).toBe(true);
  }, 60_000);

  it('a run reaching a customer whose address erasure is in progress waits for it and never invoices them at the erased street: with no address left they are held back (billing_address_missing, decision 1290)', async () => {
    const customer = await customerWithContract('Wouters');
    const { summary } = await runAfterTheErasureTookItsCustomer(
      [
        'select 1 from people where tenant_id = $1 and subject_id = $2 for update',
        [tenant.tenantId, customer],
      ],
      () => eraseAddress(customer),
      ['2025-05', '2025-06-01'],
    );
    // Drafted before the erasure, the invoice would carry the street; after it, there is no
    // address to invoice at, so the customer waits for one (decision 1290 amends 0622's "drafts
    // the invoice without the street").
    expect(await invoicesOf(customer, '2025-05')).toBe(0);
    expect(summary.refusedCustomers).toContainEqual({ subjectId: customer, code: 'billing_address_missing' });
  }, 60_000);
});

describe('an erasure while a credit note is drafted (decision 0622)', () => {
  async function invoiceOf(subjectId: number, period: string, issueDate: string): Promise<number> {
    await runMonth(period, issueDate);
    const result = await runAsOwner<{ invoice_id: string }>(
      database.ownerUrl,
      `select invoice_id::text from invoices
        where tenant_id = $1 and subject_id = $2 and period_start = $3::date and kind = 'invoice'`,
      [tenant.tenantId, subjectId, `${period}-01`],
    );
    return Number(result.rows[0]?.invoice_id);
  }

  it('an erasure arriving while a credit note is drafted waits for it and counts it among the invoices kept', async () => {
    const customer = await customerWithContract('Jacobs');
    const invoiceId = await invoiceOf(customer, '2025-06', '2025-07-01');
    // The credit note stops at its series' counter, after it read the invoice it credits.
    const held = await holdWith(
      `insert into invoice_counters (tenant_id, series, year, last_number) values ($1, 'C', $2, 0)
         on conflict (tenant_id, series, year) do update set last_number = invoice_counters.last_number`,
      [tenant.tenantId, new Date().getUTCFullYear()],
    );
    const credit = start(
      createCreditNote(kernel, billingContext(tenant), invoiceId, {
        reasonCode: 'billing_error',
      }),
    );
    await untilFinishedOrWaiting(credit, ROW_LOCKS, 1);
    expect(credit.finished()).toBe(false);
    const erasure = start(erase(customer));
    await untilFinishedOrWaiting(erasure, ROW_LOCKS, 2);
    // Without the credit note holding its customer, the erasure committed here ("kept: invoices,
    // 1 row") and the credit note was written afterwards.
    expect(erasure.finished()).toBe(false);
    await held.release();
    await credit.done;
    const outcome = await erasure.done;
    const kept = outcome.kept.find((entry) => entry.table === 'invoices');
    expect(await invoicesOf(customer)).toBe(2);
    expect(kept?.rows).toBe(2);
  }, 60_000);

  it('a credit note asked while its customer’s erasure is in progress waits for it; the erasure’s count of what it kept stays true', async () => {
    const customer = await customerWithContract('Mertens');
    const invoiceId = await invoiceOf(customer, '2025-07', '2025-08-01');
    const held = await holdWith(
      'select 1 from contracts where tenant_id = $1 and subject_id = $2 for update',
      [tenant.tenantId, customer],
    );
    const erasure = start(erase(customer));
    await untilFinishedOrWaiting(erasure, ROW_LOCKS, 1);
    expect(erasure.finished()).toBe(false);
    const credit = start(
      createCreditNote(kernel, billingContext(tenant), invoiceId, { reasonCode: 'billing_error' }).then(
        () => 'credited',
        (error: unknown) => (error instanceof Error ? error.message : 'refused'),
      ),
    );
    await untilFinishedOrWaiting(credit, ROW_LOCKS, 2);
    expect(credit.finished()).toBe(false);
    await held.release();
    const outcome = await erasure.done;
    await credit.done;
    const kept = outcome.kept.find((entry) => entry.table === 'invoices');
    expect(kept?.rows).toBe(await invoicesOf(customer));
  }, 60_000);
});
