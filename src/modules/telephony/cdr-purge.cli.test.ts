import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { requestsDeps } from '../../../test/service-deps.js';
import { CDR_PURGE_JOB, cdrPurgeJob } from '../../jobs/cdr-purge.job.js';
import { type Kernel } from '../../kernel/kernel.js';
import { generateStatement } from '../../kernel/policy/statement.generator.js';
import { addDays, addMonths, belgianDay } from '../../platform/calendar.js';
import { startJobQueue } from '../../platform/job-queue.js';
import {
  billingContext,
  createCustomer,
  insertCalls,
  prepareTenant,
  startContract,
} from '../billing/billing.test-helpers.js';
import { disputeInvoice, listInvoices, runInvoices, settleDispute } from '../billing/index.js';
import { ENFORCED_PROMISES } from '../enforcement.js';
import { registerStaffRequest } from '../requests/index.js';
import path from 'node:path';
import type { Tenant } from '../tenants/index.js';

// G-1: call records stay until the invoice that billed them can no longer be contested (its due
// date + the policy's contest period), while it is disputed, and whenever the month was never
// invoiced. The CLI and the scheduled job run the same purge. Months are set relative to today
// (the CLI runs on the real clock).

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let env: Record<string, string>;

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-purge-');
  ({ database, kernel, env } = workspace);
});
afterAll(async () => workspace.close());

const today = belgianDay(new Date());
/** 'YYYY-MM' of the month `n` months before this one. */
const monthsAgo = (n: number): string => addMonths(`${today.slice(0, 7)}-01`, -n).slice(0, 7);

interface Months {
  /** Invoiced right after it ended, long ago: uncontestable, purged. */
  old: string;
  /** Invoiced only two months ago (due last month): still contestable, kept. */
  lateInvoiced: string;
  /** Invoiced long ago but disputed: kept while the dispute lasts. */
  disputed: string;
  /** Never invoiced: kept, whatever its age. */
  neverInvoiced: string;
}

async function setUp(): Promise<{
  tenant: Tenant;
  months: Months;
  disputedInvoice: number;
  customer: number;
}> {
  const tenant = await createPolicyTenant(kernel, 'voxtra');
  const catalogue = await prepareTenant(kernel, tenant);
  const customer = await createCustomer(kernel, tenant, { familyName: 'Claes' });
  const months: Months = {
    old: monthsAgo(30),
    disputed: monthsAgo(28),
    neverInvoiced: monthsAgo(26),
    lateInvoiced: monthsAgo(20),
  };
  await startContract(kernel, tenant, customer, {
    startDate: `${months.old}-01`,
    lines: [{ productId: catalogue.subscription }],
  });
  const calls = Object.values(months).flatMap((month) => [
    // Mid-month, and 23:45 UTC on the eve of the 1st (the 1st in Brussels, the previous UTC
    // month's partition).
    {
      subjectId: customer,
      startedAt: `${month}-15T10:00:00Z`,
      destination: '+3292123456',
      seconds: 60,
      costMicros: 60_000,
    },
    {
      subjectId: customer,
      startedAt: new Date(Date.parse(`${month}-01T00:00:00Z`) - 15 * 60_000).toISOString(),
      destination: '+3292123456',
      seconds: 60,
      costMicros: 60_000,
    },
  ]);
  await insertCalls(kernel, tenant, calls);
  const context = billingContext(tenant);
  const nextMonthDay = (month: string, day: string): string =>
    `${addMonths(`${month}-01`, 1).slice(0, 7)}-${day}`;
  for (const [month, issueDate] of [
    [months.old, nextMonthDay(months.old, '05')],
    [months.disputed, nextMonthDay(months.disputed, '05')],
    [months.lateInvoiced, addMonths(today, -2)],
  ] as const) {
    const run = await runInvoices(kernel, context, {
      period: month,
      issueDate,
      callsPurpose: 'call_billing',
    });
    expect(run.invoiced).toBe(1);
  }
  const page = await listInvoices(kernel, context, { limit: 10, period: months.disputed });
  const disputedInvoice = page.items[0]?.invoiceId ?? 0;
  await disputeInvoice(kernel, context, disputedInvoice, {
    reason: 'Customer contests the calls of this month',
  });
  return { tenant, months, disputedInvoice, customer };
}

async function storedMonths(tenant: Tenant): Promise<string[]> {
  const result = await runAsOwner<{ month: string }>(
    database.ownerUrl,
    `select distinct to_char(started_at at time zone 'Europe/Brussels', 'YYYY-MM') as month
       from call_records where tenant_id = $1 order by 1`,
    [tenant.tenantId],
  );
  return result.rows.map((row) => row.month);
}

describe('the call-record purge keeps contestable, disputed and never-invoiced months (G-1)', () => {
  it('G-1: `kluis cdr purge` removes only the month whose invoice can no longer be contested; a late-invoiced, a disputed and a never-invoiced month stay, and it says why', async () => {
    const { tenant, months } = await setUp();
    expect(await storedMonths(tenant)).toEqual(
      [months.old, months.disputed, months.neverInvoiced, months.lateInvoiced].sort(),
    );
    const result = await runCli(['cdr', 'purge', '--tenant', tenant.slug], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`call records of 1 month(s) removed (2 records`);
    expect(result.stdout).toContain(`contest period 12 months after the due date`);
    expect(result.stdout).toContain(`kept ${months.disputed}: disputed`);
    expect(result.stdout).toContain(`kept ${months.neverInvoiced}: not invoiced`);
    // Invoiced two months ago, due 30 days later: contestable for 12 months after that.
    expect(result.stdout).toContain(
      `kept ${months.lateInvoiced}: contestable until ${addMonths(addDays(addMonths(today, -2), 30), 12)}`,
    );
    expect(await storedMonths(tenant)).toEqual(
      [months.disputed, months.neverInvoiced, months.lateInvoiced].sort(),
    );
    const audit = await runAsOwner<{ action: string; records: number }>(
      database.ownerUrl,
      `select action, records from audit_log where tenant_id = $1 and actor_id = 'cdr-retention' order by seq`,
      [tenant.tenantId],
    );
    expect(audit.rows.map((row) => row.action)).toEqual(['erase', 'retention.erase']);
    expect(audit.rows[1]?.records).toBe(2);
    // The statement's retention sentence states the same rule, with the same period.
    const { policy } = await kernel.policies.current(tenant.tenantId);
    expect(generateStatement(policy, { lang: 'en', enforced: ENFORCED_PROMISES })).toContain(
      'until the invoice that billed them can no longer be contested: 12 months after its due date (longer while it is disputed); never before they are invoiced',
    );
  }, 600_000);

  it('G-1: the scheduled cdr-purge job runs the same purge through the gate; once the dispute is settled its month goes too', async () => {
    const { tenant, months, disputedInvoice } = await setUp();
    await settleDispute(kernel, billingContext(tenant), disputedInvoice);
    const queue = await startJobQueue({
      connectionString: database.ownerUrl,
      logger: testLogger,
      pollingIntervalSeconds: 0.5,
    });
    try {
      const job = cdrPurgeJob(kernel, testLogger);
      expect(job.cron).toBe('10 3 * * *');
      await queue.register(job);
      await queue.runNow(CDR_PURGE_JOB);
      await queue.drain(CDR_PURGE_JOB, 60_000);
    } finally {
      await queue.stop();
    }
    expect(await storedMonths(tenant)).toEqual([months.neverInvoiced, months.lateInvoiced].sort());
  }, 600_000);
});

describe("an access request holds the caller's call records (VK-14, decision 0970)", () => {
  it("VK-14, G-1: a month whose bills can no longer be contested keeps its call records while a caller's access request runs, `kluis cdr purge` says why, and the first purge after the request's last day removes them", async () => {
    const { tenant, months, customer } = await setUp();
    const deps = requestsDeps(kernel, path.join(workspace.dir, 'outbox'));
    const request = await registerStaffRequest(
      deps,
      { tenantId: tenant.tenantId, actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' } },
      { kind: 'access', channel: 'phone', subjectId: customer, verificationMethod: 'id_card_seen' },
    );
    const held = await runCli(['cdr', 'purge', '--tenant', tenant.slug], env);
    expect(held.stderr).toBe('');
    expect(held.code).toBe(0);
    expect(held.stdout).toContain(`kept ${months.old}: held for rights request`);
    expect(await storedMonths(tenant)).toContain(months.old);
    // Past its due date and never answered, the request holds nothing more (decision 0970).
    await runAsOwner(
      database.ownerUrl,
      `update rights_requests set received_at = received_at - interval '40 days', due_on = due_on - 40
        where tenant_id = $1 and request_id = $2`,
      [tenant.tenantId, request.requestId],
    );
    const after = await runCli(['cdr', 'purge', '--tenant', tenant.slug], env);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`call records of 1 month(s) removed (2 records`);
    expect(await storedMonths(tenant)).not.toContain(months.old);
  }, 600_000);
});

describe("a restriction keeps the caller's call records (VX-14, decision 1200)", () => {
  it("VX-14, G-1: `kluis cdr purge` keeps a restricted caller's records of a month whose bills can no longer be contested, says so, and removes them once the announced lifting day has come", async () => {
    const { tenant, months, customer } = await setUp();
    await runAsOwner(
      database.ownerUrl,
      'update data_subjects set restricted_at = now() where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, customer],
    );
    const kept = await runCli(['cdr', 'purge', '--tenant', tenant.slug], env);
    expect(kept.stderr).toBe('');
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('call records of 1 month(s) removed (0 records');
    expect(kept.stdout).toContain(
      'kept the records of 1 caller(s) whose processing is restricted (GDPR Art. 18), until lifted',
    );
    expect(await storedMonths(tenant)).toContain(months.old);
    // The lifting was announced to the person and its day has come.
    await runAsOwner(
      database.ownerUrl,
      'update data_subjects set restriction_lift_on = current_date where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, customer],
    );
    const after = await runCli(['cdr', 'purge', '--tenant', tenant.slug], env);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('call records of 1 month(s) removed (2 records');
    expect(after.stdout).not.toContain('whose processing is restricted');
    expect(await storedMonths(tenant)).not.toContain(months.old);
  }, 600_000);
});
