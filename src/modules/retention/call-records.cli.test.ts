import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import {
  billingContext,
  createCustomer,
  insertCalls,
  prepareTenant,
  startContract,
} from '../billing/billing.test-helpers.js';
import { disputeInvoice, runInvoices, settleDispute } from '../billing/index.js';
import type { Tenant } from '../tenants/index.js';
import { addDays, addMonths, belgianDay } from './dates.js';
import { CERTIFICATE_ACTION, type RetentionPlan } from './index.js';

// G-1 through the daily sweep's command (decision 0914): a customer's call records are kept until
// the invoices that billed them can no longer be contested, longer while one is disputed, and
// never before they are invoiced. The CLI runs on the real clock: months are set relative to today.

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let env: Record<string, string>;

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-retention-calls-');
  ({ database, kernel, env } = workspace);
});
afterAll(async () => workspace.close());

const today = belgianDay(new Date());
/** 'YYYY-MM' of the month `n` months before this one. */
const monthsAgo = (n: number): string => addMonths(`${today.slice(0, 7)}-01`, -n).slice(0, 7);

async function callsOf(tenant: Tenant, subjectId: number): Promise<number> {
  const rows = await runAsOwner<{ calls: number }>(
    database.ownerUrl,
    'select count(*)::int as calls from call_records where tenant_id = $1 and subject_id = $2',
    [tenant.tenantId, subjectId],
  );
  return rows.rows[0]?.calls ?? -1;
}

async function invoiceOf(tenant: Tenant, subjectId: number, month: string) {
  const rows = await runAsOwner<{ invoice_id: number; due: string }>(
    database.ownerUrl,
    `select invoice_id, due_date::text as due from invoices
      where tenant_id = $1 and subject_id = $2 and kind = 'invoice' and period_start = $3::date`,
    [tenant.tenantId, subjectId, `${month}-01`],
  );
  const row = rows.rows[0];
  if (!row) throw new Error('no invoice');
  return row;
}

async function sweep(tenant: Tenant): Promise<string> {
  const result = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

describe('the retention sweep keeps call records until their invoice can no longer be contested (G-1)', () => {
  it('G-1: `kluis retention run` erases the call records of an invoice past its contest period only; never-invoiced, still contestable and disputed ones stay, and a settled dispute lets them go', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const catalogue = await prepareTenant(kernel, tenant);
    const months = {
      uncontestable: monthsAgo(30),
      disputed: monthsAgo(28),
      neverInvoiced: monthsAgo(26),
      contestable: monthsAgo(20),
    };
    const customers = {
      uncontestable: await createCustomer(kernel, tenant, { familyName: 'Verjaard' }),
      disputed: await createCustomer(kernel, tenant, { familyName: 'Betwist' }),
      neverInvoiced: await createCustomer(kernel, tenant, { familyName: 'Ongefactureerd' }),
      contestable: await createCustomer(kernel, tenant, { familyName: 'Betwistbaar' }),
    };
    for (const key of Object.keys(months) as Array<keyof typeof months>) {
      const month = months[key];
      // Each contract starts in its customer's call month: a run of an earlier month bills no one later.
      await startContract(kernel, tenant, customers[key], {
        startDate: `${month}-01`,
        lines: [{ productId: catalogue.subscription }],
      });
      await insertCalls(kernel, tenant, [
        {
          subjectId: customers[key],
          startedAt: `${month}-10T09:00:00Z`,
          destination: '+3292123456',
          seconds: 60,
          costMicros: 60_000,
        },
        {
          subjectId: customers[key],
          startedAt: `${month}-15T09:00:00Z`,
          destination: '+3292123457',
          seconds: 60,
          costMicros: 60_000,
        },
      ]);
    }
    const context = billingContext(tenant);
    for (const [month, issueDate] of [
      [months.uncontestable, `${addMonths(`${months.uncontestable}-01`, 1).slice(0, 7)}-05`],
      [months.disputed, `${addMonths(`${months.disputed}-01`, 1).slice(0, 7)}-05`],
      // Issued two months ago: due last month, contestable for a year after that.
      [months.contestable, addMonths(today, -2)],
    ] as const) {
      const run = await runInvoices(kernel, context, {
        period: month,
        issueDate,
        callsPurpose: 'call_billing',
      });
      expect(run.invoiced).toBeGreaterThan(0);
    }
    const disputed = await invoiceOf(tenant, customers.disputed, months.disputed);
    await disputeInvoice(kernel, context, disputed.invoice_id, {
      reason: 'The customer contests these calls',
    });
    const uncontestable = await invoiceOf(tenant, customers.uncontestable, months.uncontestable);
    const contestable = await invoiceOf(tenant, customers.contestable, months.contestable);
    expect(addMonths(uncontestable.due, 12) < today).toBe(true);
    expect(addMonths(contestable.due, 12) >= today).toBe(true);

    // The dry run names only the call records whose invoice can no longer be contested.
    const planned = await runCli(['retention', 'plan', '--tenant', tenant.slug, '--json'], env);
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout) as RetentionPlan;
    const pseudonymOf = (subjectId: number) => kernel.keys.pseudonym(tenant.tenantId, subjectId);
    expect(plan.people.map((entry) => entry.pseudonym)).toEqual([await pseudonymOf(customers.uncontestable)]);
    expect(plan.people[0]).toMatchObject({
      scope: 'categories',
      categories: [
        {
          category: 'kluis.telephony.call_record',
          rule: 'cdr_until_uncontestable',
          purpose: 'call_billing',
          dueOn: addDays(addMonths(uncontestable.due, 12), 1),
        },
      ],
    });

    expect(await sweep(tenant)).toMatch(/0 people erased, 1 partly erased, 0 held/);
    expect(await callsOf(tenant, customers.uncontestable)).toBe(0);
    expect(await callsOf(tenant, customers.neverInvoiced)).toBe(2);
    expect(await callsOf(tenant, customers.contestable)).toBe(2);
    expect(await callsOf(tenant, customers.disputed)).toBe(2);
    const certificates = await runAsOwner<{ reason: string }>(
      database.ownerUrl,
      `select reason from audit_log where tenant_id = $1 and action = $2 and subject_pseudonyms @> array[$3]::text[]`,
      [tenant.tenantId, CERTIFICATE_ACTION, await pseudonymOf(customers.uncontestable)],
    );
    expect(certificates.rows.map((row) => row.reason)).toEqual([
      expect.stringMatching(/rule cdr_until_uncontestable \(until_bill_uncontestable\); scope categories/),
    ]);
    const people = await runAsOwner<{ erased: number }>(
      database.ownerUrl,
      'select count(*)::int as erased from data_subjects where tenant_id = $1 and erased_at is not null',
      [tenant.tenantId],
    );
    expect(people.rows[0]?.erased).toBe(0);

    // Settled, the dispute no longer keeps them: its invoice was due long ago.
    await settleDispute(kernel, context, disputed.invoice_id);
    expect(await sweep(tenant)).toMatch(/0 people erased, 1 partly erased, 0 held/);
    expect(await callsOf(tenant, customers.disputed)).toBe(0);
    expect(await callsOf(tenant, customers.neverInvoiced)).toBe(2);
    expect(await callsOf(tenant, customers.contestable)).toBe(2);
  }, 600_000);
});
