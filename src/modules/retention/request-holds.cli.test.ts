import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { addMonths, belgianDay } from '../../platform/calendar.js';
import { createMailer } from '../../platform/mailer.js';
import {
  billingContext,
  createCustomer,
  prepareTenant,
  startContract,
} from '../billing/billing.test-helpers.js';
import { runInvoices } from '../billing/index.js';
import { DATA_MAP } from '../data-map.js';
import { registerStaffRequest } from '../requests/index.js';
import type { Tenant } from '../tenants/index.js';

// VK-14 (decision 0970, 1040): every purge that erases a person's data waits while the person's
// access or portability request runs, and says so: the release of documents by hand (`kluis
// invoices purge`) and the purge of the cookie receipts linked to the person (`kluis retention
// run`). The CLI runs on the real clock; the request is made today and shifted past its due date.

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let env: Record<string, string>;

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-request-holds-');
  ({ database, kernel, env } = workspace);
});
afterAll(async () => workspace.close());

const today = belgianDay(new Date());

/** An access request registered by the privacy officer (identity seen): it holds from today. */
async function askForData(tenant: Tenant, subjectId: number): Promise<{ requestId: string; dueOn: string }> {
  const deps = {
    kernel,
    mailer: createMailer({
      smtpUrl: undefined,
      from: 'privacy@kluis.test',
      outboxDir: path.join(workspace.dir, 'outbox'),
      logger: testLogger,
    }),
    dataMap: DATA_MAP,
    publicUrl: 'http://localhost',
    logger: testLogger,
  };
  const request = await registerStaffRequest(
    deps,
    { tenantId: tenant.tenantId, actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' } },
    { kind: 'access', channel: 'phone', subjectId, verificationMethod: 'id_card_seen' },
  );
  const dueOn = (
    await runAsOwner<{ due_on: string }>(
      database.ownerUrl,
      'select due_on::text from rights_requests where tenant_id = $1 and request_id = $2',
      [tenant.tenantId, request.requestId],
    )
  ).rows[0]?.due_on;
  return { requestId: request.requestId, dueOn: dueOn ?? '' };
}

/** Received 40 days ago and never answered: past its due date, it holds nothing (decision 0970). */
async function letRequestLapse(tenant: Tenant, requestId: string): Promise<void> {
  await runAsOwner(
    database.ownerUrl,
    `update rights_requests set received_at = received_at - interval '40 days', due_on = due_on - 40
      where tenant_id = $1 and request_id = $2`,
    [tenant.tenantId, requestId],
  );
}

/** Two customers, each with one invoice whose accounting hold ended yesterday. */
async function customersWithEndedHolds(
  tenant: Tenant,
): Promise<{ asked: number; other: number; numberOf: Map<number, string> }> {
  const catalogue = await prepareTenant(kernel, tenant);
  const asked = await createCustomer(kernel, tenant, { familyName: 'Vraagt' });
  const other = await createCustomer(kernel, tenant, { familyName: 'Andere' });
  const month = addMonths(`${today.slice(0, 7)}-01`, -3).slice(0, 7);
  for (const subjectId of [asked, other]) {
    await startContract(kernel, tenant, subjectId, {
      startDate: `${month}-01`,
      lines: [{ productId: catalogue.subscription }],
    });
  }
  const run = await runInvoices(kernel, billingContext(tenant), {
    period: month,
    issueDate: `${addMonths(`${month}-01`, 1).slice(0, 7)}-05`,
    callsPurpose: 'call_billing',
  });
  expect(run.invoiced).toBe(2);
  // Ten years on: the documents' accounting hold ended yesterday.
  const rows = await runAsOwner<{ subject_id: string; invoice_number: string }>(
    database.ownerUrl,
    `update invoices set hold_until = current_date - 1 where tenant_id = $1
      returning subject_id, invoice_number`,
    [tenant.tenantId],
  );
  return {
    asked,
    other,
    numberOf: new Map(rows.rows.map((row) => [Number(row.subject_id), row.invoice_number])),
  };
}

async function linkedInvoices(tenant: Tenant): Promise<number[]> {
  const rows = await runAsOwner<{ subject_id: string }>(
    database.ownerUrl,
    'select subject_id from invoices where tenant_id = $1 and subject_id is not null order by 1',
    [tenant.tenantId],
  );
  return rows.rows.map((row) => Number(row.subject_id));
}

describe('`kluis invoices purge` honours a running access request (VK-14, decision 1040)', () => {
  it('VK-14, VX-8: `kluis invoices purge` releases the documents whose accounting hold ended but keeps those of a person whose access request runs, says which and why, and releases them once the request has lapsed', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const { asked, other, numberOf } = await customersWithEndedHolds(tenant);
    const { requestId, dueOn } = await askForData(tenant, asked);

    const held = await runCli(['invoices', 'purge', '--tenant', tenant.slug], env);
    expect(held.stderr).toBe('');
    expect(held.code).toBe(0);
    expect(held.stdout).toContain('1 documents and 0 payments released from the accounting hold');
    expect(held.stdout).toContain(
      `kept ${numberOf.get(asked)}: held for rights request (access request of ${today} open, until ${dueOn})`,
    );
    expect(held.stdout).not.toContain(`kept ${numberOf.get(other)}`);
    expect(await linkedInvoices(tenant)).toEqual([asked]);

    await letRequestLapse(tenant, requestId);
    const after = await runCli(['invoices', 'purge', '--tenant', tenant.slug], env);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('1 documents and 0 payments released from the accounting hold');
    expect(after.stdout).not.toContain('held for rights request');
    expect(await linkedInvoices(tenant)).toEqual([]);
  }, 600_000);
});

describe("the sweep's website purge honours a running access request (VK-14, decision 1040)", () => {
  it('VK-14, VK-20: `kluis retention run` deletes the cookie receipts past their retention but keeps those linked to a person whose access request runs, and their documents, through a run killed (SIGKILL) between the two purges and its rerun, says so, and deletes them once the request has lapsed', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const { asked, other } = await customersWithEndedHolds(tenant);
    const { requestId } = await askForData(tenant, asked);
    // Three choices made eleven years ago, expired ten years ago: past any retention. One
    // consent id was linked to the person who asked (a portal login), one to the other customer.
    const consent = (letter: string): string => letter.repeat(22);
    await runAsOwner(
      database.ownerUrl,
      `insert into cookie_policy_versions (tenant_id, version, cookies, first_used_at)
         values ($1, 'abcdefabcdef', '[]'::jsonb, now() - interval '11 years')`,
      [tenant.tenantId],
    );
    await runAsOwner(
      database.ownerUrl,
      `insert into cookie_receipts (tenant_id, consent_id, categories, policy_version, banner_version,
                                    language, source, gpc, given_at, expires_at)
       select $1, c, '{analytical}', 'abcdefabcdef', 'abcdefabcdef', 'nl', 'banner', false,
              now() - interval '11 years', now() - interval '10 years'
         from unnest($2::text[]) as c`,
      [tenant.tenantId, [consent('a'), consent('b'), consent('c')]],
    );
    await runAsOwner(
      database.ownerUrl,
      `insert into cookie_consent_links (tenant_id, consent_id, subject_id, linked_at) values
         ($1, $2, $3, now() - interval '11 years'), ($1, $4, $5, now() - interval '11 years')`,
      [tenant.tenantId, consent('a'), asked, consent('b'), other],
    );
    const receipts = async (): Promise<string[]> =>
      (
        await runAsOwner<{ consent_id: string }>(
          database.ownerUrl,
          'select consent_id from cookie_receipts where tenant_id = $1 order by 1',
          [tenant.tenantId],
        )
      ).rows.map((row) => row.consent_id);
    expect(await receipts()).toEqual([consent('a'), consent('b'), consent('c')]);

    // Killed after the documents' release committed, before the website purge.
    const killed = await runCli(['retention', 'run', '--tenant', tenant.slug], {
      ...env,
      KLUIS_TEST_HOOK: 'retention.before-website-purge:kill',
    });
    expect(killed.code).toBeNull();
    expect(await linkedInvoices(tenant)).toEqual([asked]);
    expect(await receipts()).toEqual([consent('a'), consent('b'), consent('c')]);

    const rerun = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('0 documents released');
    expect(rerun.stdout).toContain('2 cookie receipts deleted');
    expect(rerun.stdout).toContain(
      'kept for an access or portability request: 1 documents, 1 cookie receipts',
    );
    expect(await receipts()).toEqual([consent('a')]);
    expect(await linkedInvoices(tenant)).toEqual([asked]);

    await letRequestLapse(tenant, requestId);
    const after = await runCli(['retention', 'run', '--tenant', tenant.slug], env);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('1 documents released');
    expect(after.stdout).toContain('1 cookie receipts deleted');
    expect(after.stdout).not.toContain('kept for an access or portability request');
    expect(await receipts()).toEqual([]);
    expect(await linkedInvoices(tenant)).toEqual([]);
  }, 600_000);
});
