import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { createCustomer, prepareTenant, startContract } from './billing.test-helpers.js';

let workspace: CliWorkspace;
let app: FastifyInstance;
let tenant: Tenant;
let billing: StaffSession;

// A month that has ended on the real clock (the CLI child runs on it).
const now = new Date();
const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
const PERIOD = lastMonth.toISOString().slice(0, 7);

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-calls-purpose-');
  const { kernel } = workspace;
  app = await createTestApp(kernel);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  const catalogue = await prepareTenant(kernel, tenant);
  const customer = await createCustomer(kernel, tenant, { familyName: 'Claes' });
  await startContract(kernel, tenant, customer, {
    startDate: `${PERIOD}-01`,
    lines: [{ productId: catalogue.subscription }],
  });
  billing = await loginAs(app, kernel, tenant, 'billing');
}, 120_000);
afterAll(async () => {
  await app.close();
  await workspace.close();
});

const invoiceCount = async (): Promise<number> =>
  (
    await runAsOwner<{ n: number }>(
      workspace.database.ownerUrl,
      'select count(*)::int as n from invoices where tenant_id = $1',
      [tenant.tenantId],
    )
  ).rows[0]?.n ?? -1;

describe('the purpose an invoice run reads the calls under (decision 0881)', () => {
  it("VX-3: POST /api/v1/invoice-runs and `kluis invoices run` without a calls purpose read the calls under the same default, the run's own purpose: both refuse it when it does not cover call records, naming it and the purpose that does, and bill nothing (G-1, decision 0061)", async () => {
    const before = await invoiceCount();
    const api = await app.inject({
      method: 'POST',
      url: '/api/v1/invoice-runs',
      headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'x-kluis-purpose': 'billing' },
      payload: { period: PERIOD },
    });
    expect(api.statusCode, api.body).toBe(403);
    expect(api.json()).toMatchObject({
      code: 'category_not_allowed',
      details: { callsPurpose: 'billing', validPurposes: ['call_billing'] },
    });
    const apiMessage = api.json<{ detail: string }>().detail;
    expect(apiMessage).toContain('purpose billing does not cover call records');

    // The CLI runs under the policy's purpose for billing (`billing` in VoiceKing's policy).
    const cli = await runCli(['invoices', 'run', '--tenant', tenant.slug, '--period', PERIOD], workspace.env);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toBe(`kluis: ${apiMessage} (category_not_allowed)\n`);
    expect(await invoiceCount()).toBe(before);

    // Declared, the calls purpose is the same key through both doors: the CLI bills the month.
    const declared = await runCli(
      ['invoices', 'run', '--tenant', tenant.slug, '--period', PERIOD, '--calls-purpose', 'call_billing'],
      workspace.env,
    );
    expect(declared.code, declared.stderr).toBe(0);
    expect(declared.stdout).toContain(`${PERIOD}: 1 invoices`);
    expect(await invoiceCount()).toBe(before + 1);
  }, 120_000);
});
