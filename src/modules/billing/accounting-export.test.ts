import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import {
  billingContext,
  createBusiness,
  createCustomer,
  prepareTenant,
  startContract,
} from './billing.test-helpers.js';
import {
  ACCOUNTING_CSV_COLUMNS,
  createCreditNote,
  importPayments,
  listInvoices,
  runInvoices,
} from './index.js';

const clock = fixedClock(new Date('2026-08-20T10:00:00Z'));

let workspace: CliWorkspace;
let kernel: Kernel;
let app: FastifyInstance;
let tenant: Tenant;
let billing: StaffSession;
let sales: StaffSession;

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-accounting-csv-');
  kernel = createTestKernel(workspace.database, clock, workspace.masterKey);
  app = await createTestApp(kernel);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  const catalogue = await prepareTenant(kernel, tenant);
  const organisation = await createBusiness(kernel, tenant, 'Bakkerij Claes BV');
  for (const [name, organisationId] of [
    ['Claes', organisation],
    ['Maes', undefined],
    ['Jacobs', undefined],
  ] as const) {
    const id = await createCustomer(kernel, tenant, {
      familyName: name,
      ...(organisationId ? { organisationId } : {}),
    });
    await startContract(kernel, tenant, id, {
      startDate: '2026-06-01',
      ...(organisationId ? { organisationId } : {}),
      lines: [{ productId: catalogue.subscription }, { productId: catalogue.install }],
    });
  }
  const context = billingContext(tenant);
  await runInvoices(kernel, context, {
    period: '2026-06',
    issueDate: '2026-07-01',
    callsPurpose: 'call_billing',
  });
  await runInvoices(kernel, context, {
    period: '2026-07',
    issueDate: '2026-08-01',
    callsPurpose: 'call_billing',
  });
  const july = await listInvoices(kernel, context, { limit: 50, period: '2026-07' });
  const [first, second] = july.items;
  if (!first || !second) throw new Error('no July invoices');
  // A partial credit note today (2026-08-20) on the first July invoice.
  await createCreditNote(kernel, context, first.invoiceId, {
    reasonCode: 'goodwill',
    amountExclVatCents: 500,
  });
  // Paid: the second July invoice on 10 August; 3.00 nobody could match on 11 August; an older
  // payment of June's, outside the period.
  await importPayments(
    kernel,
    context,
    [
      'date;amount;communication;reference',
      `2026-08-10;${(second.totalInclVatCents / 100).toFixed(2).replace('.', ',')};${second.structuredCommunication};BANK-1`,
      '2026-08-11;3,00;;BANK-2',
      '2026-06-30;1,00;;BANK-0',
    ].join('\n'),
  );
  billing = await loginAs(app, kernel, tenant, 'billing');
  sales = await loginAs(app, kernel, tenant, 'sales');
}, 120_000);
afterAll(async () => {
  await app.close();
  await workspace.close();
});

const exportUrl = (from: string, to: string) => `/api/v1/accounting/export?from=${from}&to=${to}`;

function get(url: string, session: StaffSession, purpose = 'accounting') {
  return app.inject({
    method: 'GET',
    url,
    headers: { cookie: session.cookie, 'x-kluis-purpose': purpose },
  });
}

type Row = Record<(typeof ACCOUNTING_CSV_COLUMNS)[number], string>;

/** Euros with a dot, as the export writes them, back to cents. */
const cents = (text: string): number => Math.round(Number(text) * 100);
const sum = (rows: readonly Row[], column: keyof Row): number =>
  rows.reduce((total, row) => total + cents(row[column]), 0);

async function dbSum(query: string): Promise<number> {
  const result = await runAsOwner<{ n: string | null }>(workspace.database.ownerUrl, query, [
    tenant.tenantId,
  ]);
  return Number(result.rows[0]?.n ?? 0);
}

describe('the CSV for the bookkeeper (issue 22)', () => {
  it('VX-3: GET /api/v1/accounting/export streams the invoices, credit notes and payments of a period; re-read, its sums are the database’s', async () => {
    const response = await get(exportUrl('2026-08-01', '2026-08-31'), billing);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(
      'attachment; filename="accounting-2026-08-01-2026-08-31.csv"',
    );
    const header = response.body.split('\r\n')[0];
    expect(header).toBe(ACCOUNTING_CSV_COLUMNS.join(','));
    const rows = parse<Row>(response.body, { columns: true, skip_empty_lines: true });
    const of = (type: string) => rows.filter((row) => row.type === type);

    // Documents issued in August only: the three July invoices (1 August) and the credit note.
    expect(new Set(of('invoice').map((row) => row.date))).toEqual(new Set(['2026-08-01']));
    expect(new Set(of('invoice').map((row) => row.number)).size).toBe(3);
    const inPeriod = `tenant_id = $1 and issue_date between '2026-08-01' and '2026-08-31'`;
    expect(sum(of('invoice'), 'total')).toBe(
      await dbSum(
        `select sum(total_incl_vat_cents) as n from invoices where ${inPeriod} and kind = 'invoice'`,
      ),
    );
    expect(sum(of('invoice'), 'taxable')).toBe(
      await dbSum(
        `select sum(total_excl_vat_cents) as n from invoices where ${inPeriod} and kind = 'invoice'`,
      ),
    );
    expect(sum(of('invoice'), 'vat')).toBe(
      await dbSum(`select sum(vat_cents) as n from invoices where ${inPeriod} and kind = 'invoice'`),
    );
    // Credit notes: positive amounts, their type says they lower the turnover; they name the invoice.
    const notes = of('credit_note');
    expect(notes).toHaveLength(1);
    expect(sum(notes, 'total')).toBe(
      await dbSum(
        `select sum(total_incl_vat_cents) as n from invoices where ${inPeriod} and kind = 'credit_note'`,
      ),
    );
    expect(notes[0]).toMatchObject({ date: '2026-08-20', taxable: '5.00', vat: '1.05', total: '6.05' });
    expect(notes[0]?.related_number).toMatch(/^F2026-00000[4-6]$/);
    // Payments received in the period, matched or not; June's is left out.
    expect(of('payment').map((row) => row.number)).toEqual(['BANK-1', 'BANK-2']);
    expect(sum(of('payment'), 'total')).toBe(
      await dbSum(
        `select sum(amount_cents) as n from payments where tenant_id = $1 and value_date between '2026-08-01' and '2026-08-31'`,
      ),
    );
    expect(of('payment')[0]?.related_number).toMatch(/^F2026-/);
    // The buyer as the accounting purpose covers it; VAT per group (21 % here).
    expect(
      of('invoice')
        .map((row) => row.customer_name)
        .sort(),
    ).toEqual(expect.arrayContaining([expect.stringContaining('Bakkerij Claes BV')]));
    expect(of('invoice').every((row) => row.vat_category === 'S' && row.vat_rate === '21')).toBe(true);
    expect(rows.every((row) => row.customer_withheld === '')).toBe(true);
  });

  it('a bad period is a 400 naming the field; a role without the accounting purpose is refused, nothing streamed', async () => {
    const backwards = await get(exportUrl('2026-08-31', '2026-08-01'), billing);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json()).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'to' }] },
    });
    const absurd = await get(exportUrl('2026-02-30', '2026-03-01'), billing);
    expect(absurd.statusCode).toBe(400);
    const tooLong = await get(exportUrl('2020-01-01', '2026-01-01'), billing);
    expect(tooLong.statusCode).toBe(400);
    const refused = await get(exportUrl('2026-08-01', '2026-08-31'), sales);
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toContain('application/problem+json');
  });

  it('S8-4: HEAD /api/v1/accounting/export answers the CSV’s headers without reading anything or writing an audit entry; a role without the purpose is refused as for GET', async () => {
    const entries = () =>
      dbSum(
        'select (select count(*) from audit_log where tenant_id = $1) + (select count(*) from audit_pending where tenant_id = $1) as n',
      );
    const before = await entries();
    const head = await app.inject({
      method: 'HEAD',
      url: exportUrl('2026-08-01', '2026-08-31'),
      headers: { cookie: billing.cookie, 'x-kluis-purpose': 'accounting' },
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(head.headers['content-disposition']).toBe(
      'attachment; filename="accounting-2026-08-01-2026-08-31.csv"',
    );
    expect(head.headers['content-length']).toBeUndefined();
    expect(head.body).toBe('');
    expect(await entries()).toBe(before);
    const refused = await app.inject({
      method: 'HEAD',
      url: exportUrl('2026-08-01', '2026-08-31'),
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'accounting' },
    });
    expect(refused.statusCode).toBe(403);
    // The GET still reads and audits.
    expect((await get(exportUrl('2026-08-01', '2026-08-31'), billing)).statusCode).toBe(200);
    expect(await entries()).toBeGreaterThan(before);
  });

  it('VX-3: `kluis invoices export --from --to --out` writes the same CSV; `kluis invoices run` of a billed month says who was billed already', async () => {
    const out = path.join(workspace.dir, 'august.csv');
    const exportAugust = () =>
      runCli(
        [
          'invoices',
          'export',
          '--tenant',
          tenant.slug,
          '--from',
          '2026-08-01',
          '--to',
          '2026-08-31',
          '--out',
          out,
        ],
        workspace.env,
        120_000,
      );
    const result = await exportAugust();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${out}: 6 rows of 2026-08-01 … 2026-08-31`);
    const http = await get(exportUrl('2026-08-01', '2026-08-31'), billing);
    expect(await readFile(out, 'utf8')).toBe(http.body);
    // The file exists now: a second export refuses to overwrite it.
    const again = await exportAugust();
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists; choose another file');
    const mixed = await runCli(
      [
        'invoices',
        'export',
        '--tenant',
        tenant.slug,
        '--period',
        '2026-07',
        '--from',
        '2026-08-01',
        '--out',
        out,
      ],
      workspace.env,
      120_000,
    );
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain('give either --period');

    const rerun = await runCli(
      [
        'invoices',
        'run',
        '--tenant',
        tenant.slug,
        '--period',
        '2026-07',
        '--issue-date',
        '2026-08-01',
        '--calls-purpose',
        'call_billing',
      ],
      workspace.env,
      120_000,
    );
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('2026-07: 0 invoices');
    expect(rerun.stdout).toContain('3 already billed');
  }, 180_000);
});
