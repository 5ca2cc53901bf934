import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../../test/cli.js';
import { crashEnv, runChild } from '../../../test/crash.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { systemClock } from '../../platform/clock.js';
import type { Tenant } from '../tenants/index.js';
import { billingPurpose, createCustomer, prepareTenant, startContract } from './billing.test-helpers.js';

/*
 * The house rule for jobs: a crash in the middle loses nothing and duplicates nothing. The
 * invoice run commits one batch of customers per transaction (decisions 0040, 0420): the
 * counter row locked, the numbers advanced and the invoices inserted together. A run killed
 * (SIGKILL, as a power cut) after a committed batch, and one killed inside a batch after its
 * invoices were inserted, leave no invoice twice, no number skipped and the audit chain whole;
 * `kluis invoices run` started again bills exactly the customers still to bill.
 */

const masterKey = randomBytes(32);
const PERIOD = '2025-02';
const ISSUE_DATE = '2025-03-01';
const CUSTOMERS = 5;
const BATCH = 2;
let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
const customers: number[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  const catalogue = await prepareTenant(kernel, tenant);
  for (let index = 1; index <= CUSTOMERS; index += 1) {
    const subjectId = await createCustomer(kernel, tenant, { familyName: `Peeters${index}` });
    await startContract(kernel, tenant, subjectId, {
      startDate: '2025-01-01',
      lines: [{ productId: catalogue.subscription }],
    });
    customers.push(subjectId);
  }
}, 120_000);
afterAll(async () => database.close());

const env = (extra: Record<string, string> = {}) =>
  crashEnv(database, masterKey, { KLUIS_DEMO: 'false', ...extra });

/** The invoice run in batches of BATCH customers, in a child that dies at `point`. */
const runUntilKilledAt = (point: string) =>
  runChild(
    [
      '--import',
      'tsx',
      path.join(ROOT, 'test/children/run-invoices.ts'),
      String(tenant.tenantId),
      billingPurpose(tenant),
      PERIOD,
      ISSUE_DATE,
      String(BATCH),
    ],
    env({ KLUIS_TEST_HOOK: `${point}:kill` }),
  );

interface InvoiceRow {
  subject_id: string;
  number: number;
  invoice_number: string;
  lines: string;
}

async function invoicesOfPeriod(): Promise<InvoiceRow[]> {
  const result = await runAsOwner<InvoiceRow>(
    database.ownerUrl,
    `select i.subject_id::text, i.number, i.invoice_number,
            (select count(*) from invoice_lines l
              where l.tenant_id = i.tenant_id and l.invoice_id = i.invoice_id)::text as lines
       from invoices i
      where i.tenant_id = $1 and i.kind = 'invoice' and i.period_start = $2
      order by i.number`,
    [tenant.tenantId, `${PERIOD}-01`],
  );
  return result.rows;
}

async function counter(): Promise<number | null> {
  const result = await runAsOwner<{ last_number: number }>(
    database.ownerUrl,
    `select last_number from invoice_counters where tenant_id = $1 and series = 'F' and year = 2025`,
    [tenant.tenantId],
  );
  return result.rows[0]?.last_number ?? null;
}

describe('the invoice run survives a crash (house rule: loses nothing, duplicates nothing)', () => {
  it('VX-3: an invoice run killed (SIGKILL) after its first committed batch and again inside a batch before its commit; `kluis invoices run` again bills every customer once, numbers gapless, counter and audit chain consistent', async () => {
    // 1. Killed once the first batch (two customers) has committed.
    const afterBatch = await runUntilKilledAt('invoice-run.after-batch');
    expect(afterBatch.signal, afterBatch.stderr).toBe('SIGKILL');
    const first = await invoicesOfPeriod();
    expect(first.map((row) => row.invoice_number)).toEqual(['F2025-000001', 'F2025-000002']);
    expect(await counter()).toBe(2);

    // 2. Killed inside the next batch, its invoices inserted and the counter advanced, uncommitted.
    const beforeCommit = await runUntilKilledAt('invoice-run.before-commit');
    expect(beforeCommit.signal, beforeCommit.stderr).toBe('SIGKILL');
    expect(await invoicesOfPeriod()).toEqual(first);
    expect(await counter()).toBe(2);

    // 3. Started again, without a hook: the three customers left, numbered on from 3.
    const again = await runCli(
      [
        'invoices',
        'run',
        '--tenant',
        tenant.slug,
        '--period',
        PERIOD,
        '--issue-date',
        ISSUE_DATE,
        '--calls-purpose',
        'call_billing',
      ],
      env(),
      120_000,
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(
      `${PERIOD}: 3 invoices (F2025-000003 … F2025-000005), total € 54.45 incl. VAT; ` +
        '3 customers to bill, 0 with nothing to bill, 2 already billed, 0 refused',
    );

    const invoices = await invoicesOfPeriod();
    // Every customer exactly once, each invoice whole (its subscription line).
    expect(invoices.map((row) => Number(row.subject_id)).sort((a, b) => a - b)).toEqual(
      [...customers].sort((a, b) => a - b),
    );
    expect(invoices.every((row) => row.lines === '1')).toBe(true);
    // Gapless and unique in the series and year; the counter stands at the last number.
    expect(invoices.map((row) => row.number)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(invoices.map((row) => row.invoice_number)).size).toBe(CUSTOMERS);
    expect(await counter()).toBe(CUSTOMERS);

    // 4. Once more: nobody billed twice, nothing numbered.
    const repeat = await runCli(
      [
        'invoices',
        'run',
        '--tenant',
        tenant.slug,
        '--period',
        PERIOD,
        '--issue-date',
        ISSUE_DATE,
        '--calls-purpose',
        'call_billing',
      ],
      env(),
      120_000,
    );
    expect(repeat.code, repeat.stderr).toBe(0);
    expect(repeat.stdout).toContain(`${PERIOD}: 0 invoices, total € 0.00 incl. VAT; 0 customers to bill`);
    expect(repeat.stdout).toContain(`${CUSTOMERS} already billed`);
    expect(await counter()).toBe(CUSTOMERS);

    // The audit chain the killed transactions wrote into still verifies end to end.
    const audit = await runCli(['audit', 'verify', '--tenant', tenant.slug], env(), 120_000);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(audit.stdout).toContain(`audit ${tenant.slug}: intact`);
  }, 300_000);
});
