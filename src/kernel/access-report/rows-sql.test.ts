import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { DATA_MAP } from '../../modules/data-map.js';
import { createPerson } from '../../modules/parties/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import type { Kernel } from '../kernel.js';
import { csvRecord } from '../../platform/csv.js';
import { buildAccessReport, describeAccessReport, renderRow, writeAccessReportJson } from './index.js';
import { readRenderedRows, renderedRowsQuery } from './rows-sql.js';
import { readSubjectRows } from './access-report.service.js';

// Rows PostgreSQL renders (docs/decisions/0251) must be exactly what renderRow gives.

let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let subjectId: number;

const options = () => ({
  tenantId: tenant.tenantId,
  actor: { kind: 'system' as const, job: 'test' },
  purpose: 'rights_requests',
  subjectId,
  language: 'en' as const,
});

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: 'Ñandú "Quote"',
      givenName: 'Zoë',
      email: 'zoe@example.be',
      phone: '+32470000009',
    },
  );
  subjectId = person.subjectId;
  await runAsOwner(
    database.ownerUrl,
    `select set_config('app.tenant', $1, false), kluis_ensure_call_record_partition(date '2026-03-01')`,
    [String(tenant.tenantId)],
  );
  // Quotes, backslashes, a line break, non-ASCII, microseconds, nulls: what JSON and time zones trip on.
  await runAsOwner(
    database.ownerUrl,
    `insert into call_records (tenant_id, started_at, dedup_key, subject_id, caller_e164, destination, answered_at,
        ended_at, duration_seconds, billable_seconds, disposition, is_billable_leg, linked_id, cost_micros)
     values ($1, timestamptz '2026-03-02 10:11:12.345678+01', $3, $2, '+32470000009', $4, null,
             timestamptz '2026-03-02 10:12:00+00', 48, 47, 'answered', true, 'l-é', 1234567),
            ($1, timestamptz '2026-03-31 23:59:59.999+00', 'k2', $2, '+32470000009', $5,
             null, timestamptz '2026-03-31 23:59:59+00', 0, 0, 'no_answer', false, null, 0)`,
    [tenant.tenantId, subjectId, 'k"1\\', '+3256 "x", y', 'line\nbreak\ttab'],
  );
});
afterAll(async () => database.close());

describe('rows rendered by PostgreSQL', () => {
  it('are exactly the cells renderRow gives, for the report and for the export', async () => {
    const map = DATA_MAP.find((entry) => entry.table === 'call_records');
    if (!map) throw new Error('no call_records map');
    const compared = await kernel.transact(tenant.tenantId, async (atx) => {
      const grant = await kernel.gate.authorize(
        atx,
        { kind: 'system', job: 'test' },
        {
          purpose: 'rights_requests',
          action: 'export',
          categories: ['kluis.telephony.call_record'],
          subjectIds: [subjectId],
        },
      );
      const expected: unknown[] = [];
      for await (const row of readSubjectRows(atx.tx, map, subjectId))
        expected.push(await renderRow(grant, map, row, subjectId));
      const report = await renderedRowsQuery(atx.tx, map, subjectId, 'report');
      const record = await renderedRowsQuery(atx.tx, map, subjectId, 'record');
      if (!report || !record) throw new Error('call records should be rendered by PostgreSQL');
      const reportRows: unknown[] = [];
      for await (const row of readRenderedRows(atx.tx, report.query, 'c1')) reportRows.push(JSON.parse(row));
      const recordRows: unknown[] = [];
      for await (const row of readRenderedRows(atx.tx, record.query, 'c2')) recordRows.push(JSON.parse(row));
      const csv = await renderedRowsQuery(atx.tx, map, subjectId, 'csv');
      if (!csv) throw new Error('call records should be written as CSV by PostgreSQL');
      const csvRows: string[] = [];
      for await (const row of readRenderedRows(atx.tx, csv.query, 'c3')) csvRows.push(row);
      return { expected, reportRows, recordRows, csvRows };
    });
    const byKey = (rows: unknown[]) =>
      [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(compared.expected).toHaveLength(2);
    expect(byKey(compared.reportRows)).toEqual(byKey(compared.expected));
    const records = compared.expected.map((cells) =>
      Object.fromEntries(
        Object.entries(cells as Record<string, { value: unknown }>).map(([column, cell]) => [
          column,
          cell.value,
        ]),
      ),
    );
    expect(byKey(compared.recordRows)).toEqual(byKey(records));
    const columns = Object.keys(map.personal).map((column) => column.replace(/_enc$/, ''));
    const csvExpected = records.map((record) => csvRecord(columns.map((column) => record[column])));
    expect([...compared.csvRows].sort()).toEqual([...csvExpected].sort());
  });

  it('kluis_csv_cell writes a cell as csvRecord does: formulas defused, quotes doubled, line breaks quoted', async () => {
    const values = [
      '',
      'plain',
      '+32470000001',
      '-5',
      '=SUM(A1)',
      '@x',
      '\tx',
      '\rx',
      '＝x',
      'a,b',
      'say "hi"',
      'two\nlines',
      'cr\rin',
      'crlf\r\nin',
      'ends\r',
      '+a,"b"',
      "it's",
      'é ñ 漢字',
      ' lead space',
      '\\back',
    ];
    const result = await runAsOwner<{ cells: string[] }>(
      database.ownerUrl,
      'select array_agg(kluis_csv_cell(v) order by n) as cells from unnest($1::text[]) with ordinality as t(v, n)',
      [values],
    );
    expect(result.rows[0]?.cells).toEqual(values.map((value) => csvRecord([value]).slice(0, -2)));
    // A lone LF or CR is quoted too: a reader that ends a record at LF must not split the row.
    expect(csvRecord(['two\nlines', 'cr\rin'])).toBe('"two\nlines","cr\rin"\r\n');
  });

  it('the streamed report is the same document as the one built in memory; its description names the same tables and categories', async () => {
    const built = await buildAccessReport(kernel, DATA_MAP, options());
    let text = '';
    await writeAccessReportJson(
      kernel,
      DATA_MAP,
      options(),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          text += chunk.toString('utf8');
          done();
        },
      }),
    );
    const streamed = JSON.parse(text) as typeof built;
    expect({ ...streamed, generatedAt: '' }).toEqual({ ...built, generatedAt: '' });
    expect(built.data.map((table) => table.table)).toContain('call_records');
    const described = await describeAccessReport(kernel, DATA_MAP, options());
    expect(described).toEqual({
      categories: built.categories.map((category) => category.key),
      tables: built.data.map((table) => table.table),
    });
  });
});
