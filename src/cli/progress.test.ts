import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../test/kernel.js';
import { unzip } from '../../test/zip.js';
import type { Kernel } from '../kernel/kernel.js';
import {
  billingContext,
  createBusiness,
  createCustomer,
  prepareTenant,
  startContract,
} from '../modules/billing/billing.test-helpers.js';
import { listInvoices, runInvoices } from '../modules/billing/index.js';
import type { Tenant } from '../modules/tenants/index.js';

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let env: Record<string, string>;
let dir: string;
let tenant: Tenant;
let communications: string[];

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-progress-');
  ({ database, env, dir } = workspace);
  kernel = createTestKernel(database, fixedClock(new Date('2026-11-05T10:00:00Z')), workspace.masterKey);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  const catalogue = await prepareTenant(kernel, tenant);
  const business = await createBusiness(kernel, tenant, 'Bakkerij Claes BV');
  for (const [familyName, organisationId] of [
    ['Vermeulen', undefined],
    ['Desmet', undefined],
    ['Claes', business],
  ] as const) {
    const customer = await createCustomer(kernel, tenant, {
      familyName,
      ...(organisationId ? { organisationId } : {}),
    });
    await startContract(kernel, tenant, customer, {
      ...(organisationId ? { organisationId } : {}),
      startDate: '2026-09-01',
      lines: [{ productId: catalogue.subscription }],
    });
  }
  await runInvoices(kernel, billingContext(tenant), { period: '2026-10', callsPurpose: 'call_billing' });
  const invoices = await listInvoices(kernel, billingContext(tenant), { limit: 10, period: '2026-10' });
  communications = invoices.items.map((invoice) => invoice.structuredCommunication);
}, 120_000);
afterAll(async () => workspace.close());

/** The last bar line cli-progress drew for a label (one line per redraw when not a terminal). */
function lastBar(stderr: string, label: string): string | undefined {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith(`${label} [`))
    .at(-1);
}

async function count(table: string): Promise<number> {
  const result = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    `select count(*)::int as n from ${table} where tenant_id = $1`,
    [tenant.tenantId],
  );
  return result.rows[0]?.n ?? -1;
}

describe('progress of long CLI work (issue 12)', () => {
  it('payments import draws its progress with KLUIS_PROGRESS=always, to the last line, and imports the statement', async () => {
    expect(communications).toHaveLength(3);
    const file = path.join(dir, 'statement.csv');
    await writeFile(
      file,
      [
        'date,amount,communication,reference',
        ...communications.map((ogm, index) => `2026-11-1${index},18.15,${ogm},BNK-${index}`),
        '2026-11-14,-35.00,,BNK-OUT',
      ].join('\n'),
    );
    const result = await runCli(['payments', 'import', '--tenant', tenant.slug, file], {
      ...env,
      KLUIS_PROGRESS: 'always',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(lastBar(result.stderr, 'payments')).toMatch(/100% 4\/4 lines/);
    expect(result.stdout).toContain('4 lines: 3 imported (3 matched, 0 unmatched)');
    expect(await count('payments')).toBe(3);
  });

  it('tariff import draws its progress with KLUIS_PROGRESS=always and replaces the tariff', async () => {
    const file = path.join(dir, 'tariff.csv');
    const rates = Array.from({ length: 4500 }, (_, index) => `32${1000 + index},0.06,60,60,0,2026-01-01,`);
    await writeFile(
      file,
      [
        'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to',
        ...rates,
      ].join('\n'),
    );
    const result = await runCli(['tariff', 'import', '--tenant', tenant.slug, file], {
      ...env,
      KLUIS_PROGRESS: 'always',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(lastBar(result.stderr, 'tariff')).toMatch(/100% 4500\/4500 rates/);
    expect(await count('tariff_rates')).toBe(4500);
  });

  it('invoices export draws its progress and writes each document into the ZIP (HTML and PDF, and Peppol UBL for the business); a second run refuses to overwrite it', async () => {
    const out = path.join(dir, 'invoices-2026-10.zip');
    const result = await runCli(
      ['invoices', 'export', '--tenant', tenant.slug, '--period', '2026-10', '--out', out],
      { ...env, KLUIS_PROGRESS: 'always' },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(lastBar(result.stderr, 'invoices')).toMatch(/100% 3\/3 documents/);
    const files = await unzip(await readFile(out));
    const names = [...files.keys()].sort();
    expect(names.filter((name) => name.endsWith('.html'))).toHaveLength(3);
    const pdfs = names.filter((name) => name.endsWith('.pdf'));
    expect(pdfs).toHaveLength(3);
    expect(files.get(pdfs[0] ?? '')?.slice(0, 5)).toBe('%PDF-');
    const xml = names.filter((name) => name.endsWith('.xml'));
    expect(xml).toHaveLength(1);
    expect(files.get(xml[0] ?? '')).toContain('urn:cen.eu:en16931:2017');
    expect(result.stdout).toContain('3 documents of 2026-10 (1 also as Peppol UBL)');
    await expect(stat(`${out}.partial`)).rejects.toThrow();

    const again = await runCli(
      ['invoices', 'export', '--tenant', tenant.slug, '--period', '2026-10', '--out', out],
      env,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists');
  });

  it('without a terminal and without KLUIS_PROGRESS the same work draws nothing; a bad KLUIS_PROGRESS is named', async () => {
    const file = path.join(dir, 'statement-again.csv');
    await writeFile(file, `date,amount,communication,reference\n2026-11-20,5.00,,BNK-QUIET\n`);
    const quiet = await runCli(['payments', 'import', '--tenant', tenant.slug, file], env);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    const bad = await runCli(['payments', 'import', '--tenant', tenant.slug, file], {
      ...env,
      KLUIS_PROGRESS: 'sometimes',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('KLUIS_PROGRESS');
  });
});
