import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { type Kernel } from '../../kernel/kernel.js';
import { assignNumber } from './index.js';
import type { Tenant } from '../tenants/index.js';
import { createCustomer, prepareTenant, startContract } from '../billing/billing.test-helpers.js';
import { answeredCall } from './telephony.test-helpers.js';

// Issue 13: rating plans — time bands, included minutes in call order, activation dates with a
// fallback to the tenant's default, free on-net calls — managed and applied through the CLI;
// the month re-rated before it is invoiced, reported, and left alone once invoiced.

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-plans-');
  ({ database, kernel, env, dir } = workspace);
});
afterAll(async () => workspace.close());

const TARIFF = [
  'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to,group,group_label',
  '32,0.06,0,1,0,2020-01-01,,national_fixed,National fixed',
  '324,0.12,0,1,0,2020-01-01,,national_mobile,National mobile',
].join('\n');

const BASIC = {
  timeBands: [
    { band: 'off_peak', days: [1, 2, 3, 4, 5], from: '19:00', to: '24:00' },
    { band: 'weekend', days: [6, 7], from: '00:00', to: '24:00' },
  ],
  prices: [
    { group: '*', band: 'off_peak', pricePerMinute: '0.03' },
    { group: '*', band: 'weekend', pricePerMinute: '0.01' },
  ],
  onNetFree: true,
};
const MOBILE10 = { included: [{ groups: ['national_mobile'], minutes: 10 }] };

async function runMonth(tenant: Tenant, period: string, issueDate: string): Promise<string> {
  const result = await runCli(
    [
      'invoices',
      'run',
      '--tenant',
      tenant.slug,
      '--period',
      period,
      '--issue-date',
      issueDate,
      '--calls-purpose',
      'call_billing',
    ],
    env,
  );
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

async function linesOf(tenant: Tenant, period: string): Promise<string[]> {
  const result = await runAsOwner<{ line: string }>(
    database.ownerUrl,
    `select concat_ws('|', l.kind, coalesce(l.destination_group, ''), coalesce(l.calls_month::text, ''),
                      l.description, l.amount_cents) as line
       from invoice_lines l join invoices i using (tenant_id, invoice_id)
      where i.tenant_id = $1 and i.period_start = $2::date order by l.line_no`,
    [tenant.tenantId, `${period}-01`],
  );
  return result.rows.map((row) => row.line);
}

async function cli(args: string[]): Promise<string> {
  const result = await runCli(args, env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

async function costs(tenant: Tenant): Promise<string[]> {
  const result = await runAsOwner<{ row: string }>(
    database.ownerUrl,
    `select concat_ws('|', dedup_key, cost_micros) as row from call_records where tenant_id = $1 order by started_at`,
    [tenant.tenantId],
  );
  return result.rows.map((row) => row.row);
}

describe('rating plans (issue 13)', () => {
  it("VX-5: plans from the CLI: time bands split a call, on-net calls are free, a customer's plan from its activation day consumes included minutes in call order; the month is re-rated before it is invoiced and left alone after", async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const catalogue = await prepareTenant(kernel, tenant);
    const a = await createCustomer(kernel, tenant, { familyName: 'Claes' });
    const b = await createCustomer(kernel, tenant, { familyName: 'Maes' });
    await startContract(kernel, tenant, a, {
      startDate: '2026-01-01',
      lines: [{ productId: catalogue.subscription }],
    });
    const context = {
      tenantId: tenant.tenantId,
      actor: { kind: 'system' as const, job: 'test' },
      purpose: 'telephony_service',
    };
    for (const [number, subjectId] of [
      ['+3292000001', a],
      ['+3292000002', b],
    ] as const) {
      await assignNumber(kernel, context, { number, subjectId, from: new Date('2026-01-01T00:00:00Z') });
    }
    const files = path.join(dir, tenant.slug);
    await writeFile(`${files}-tariff.csv`, TARIFF);
    await writeFile(`${files}-basic.json`, JSON.stringify(BASIC));
    await writeFile(`${files}-mobile10.json`, JSON.stringify(MOBILE10));
    await cli(['tariff', 'import', '--tenant', tenant.slug, `${files}-tariff.csv`]);
    const slug = ['--tenant', tenant.slug];
    expect(
      await cli(['plans', 'create', ...slug, '--code', 'BASIC', '--name', 'Basic', `${files}-basic.json`]),
    ).toContain('plan BASIC created');
    await cli([
      'plans',
      'create',
      ...slug,
      '--code',
      'MOBILE10',
      '--name',
      'Mobile 10',
      `${files}-mobile10.json`,
    ]);
    await cli(['plans', 'assign', ...slug, '--plan', 'BASIC', '--default', '--from', '2026-01-01']);
    expect(
      await cli([
        'plans',
        'assign',
        ...slug,
        '--plan',
        'MOBILE10',
        '--customer',
        String(a),
        '--from',
        '2026-09-15',
      ]),
    ).toContain(`plan MOBILE10 applies to customer ${a} from 2026-09-15`);
    const file = `${files}-september.csv`;
    await writeFile(
      file,
      [
        // Monday 18:59, 2 min to a fixed number: 1 min peak (€0.06) + 1 min off-peak (€0.03).
        answeredCall('p-1', '092000001', '092123456', '2026-09-07 18:59:00', 120),
        // Tuesday, 1 min to the provider's own number (B): on-net, free under BASIC.
        answeredCall('p-2', '092000001', '092000002', '2026-09-08 10:00:00', 60),
        // Saturday, 1 min fixed: weekend, €0.01.
        answeredCall('p-3', '092000001', '092123456', '2026-09-12 10:00:00', 60),
        // From the 15th A has MOBILE10: 8 min to a mobile, included.
        answeredCall('p-4', '092000001', '0470123456', '2026-09-16 10:00:00', 480),
        // 5 min: the 2 included minutes left, then 3 min at €0.12 = €0.36.
        answeredCall('p-5', '092000001', '0470123456', '2026-09-17 10:00:00', 300),
        // MOBILE10 has no bands and no on-net rule: the tariff, €0.06.
        answeredCall('p-6', '092000001', '092123456', '2026-09-18 20:00:00', 60),
      ].join('\n') + '\n',
    );
    await cli(['cdr', 'import', ...slug, file]);
    // Import rates with the tariff alone.
    const imported = [
      'p-1#1|120000',
      'p-2#1|60000',
      'p-3#1|60000',
      'p-4#1|960000',
      'p-5#1|600000',
      'p-6#1|60000',
    ];
    expect(await costs(tenant)).toEqual(imported);
    const dry = await cli(['plans', 'rerate', ...slug, '--month', '2026-09', '--dry-run']);
    expect(dry).toContain(
      '2026-09 (dry run): 6 calls of 1 customer(s), 5 changed, 0 without a rate; total € 1.86 → € 0.52',
    );
    expect(dry).toContain(`customer ${a}: 5 call(s) changed, € 1.86 → € 0.52`);
    expect(await costs(tenant)).toEqual(imported);
    // The invoice run rates the month under the plans before it bills it.
    expect(await runMonth(tenant, '2026-09', '2026-10-05')).toContain('2026-09: 1 invoices');
    expect(await costs(tenant)).toEqual([
      'p-1#1|90000',
      'p-2#1|0',
      'p-3#1|10000',
      'p-4#1|0',
      'p-5#1|360000',
      'p-6#1|60000',
    ]);
    expect(await linesOf(tenant, '2026-09')).toEqual([
      'subscription|||VoIP line basic (2026-09)|1500',
      'calls|national_fixed||National fixed: 3 gesprekken, 4 min 00 s|16',
      'calls|national_mobile||National mobile: 1 gesprek, 5 min 00 s|36',
    ]);
    // Once invoiced, a re-rating leaves the customer's month alone and says so.
    const after = await cli(['plans', 'rerate', ...slug, '--month', '2026-09']);
    expect(after).toContain(`already invoiced, left alone: customer(s) ${a}`);
    expect(await costs(tenant)).toEqual([
      'p-1#1|90000',
      'p-2#1|0',
      'p-3#1|10000',
      'p-4#1|0',
      'p-5#1|360000',
      'p-6#1|60000',
    ]);
  }, 600_000);

  it('a plan whose definition is wrong is refused with the field named, and nothing is stored', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const file = path.join(dir, `${tenant.slug}-bad.json`);
    await writeFile(
      file,
      JSON.stringify({ timeBands: [{ band: 'evening', days: [8], from: '19:00', to: '18:00' }] }),
    );
    const result = await runCli(
      ['plans', 'create', '--tenant', tenant.slug, '--code', 'BAD', '--name', 'Bad', file],
      env,
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('definition.timeBands.0.days.0');
    const plans = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from rating_plans where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(plans.rows[0]?.n).toBe(0);
  }, 120_000);
});
