import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { DATA_MAP } from '../../modules/data-map.js';
import { createPerson } from '../../modules/parties/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import type { AuditedTx } from '../audit/index.js';
import { kernelCore, type Kernel } from '../kernel.js';
import { copyOutClient } from '../../platform/copy-out.js';
import { csvField, csvRecord } from '../../platform/csv.js';
import {
  buildAccessReport,
  describeAccessReport,
  renderRow,
  streamPortabilityZip,
  writeAccessReportJson,
} from './index.js';
import {
  copyPlan,
  CopyPairWriter,
  CopyRowWriter,
  readCopiedRows,
  type CopyPlan,
  type RowShape,
} from './copy-rows.js';
import { copyOut } from '../../platform/copy-out.js';
import { unzip } from '../../../test/zip.js';
import { readSubjectRows } from './access-report.service.js';

// Rows written from `COPY … TO` text (docs/decisions/0430) must be exactly what renderRow gives.

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
  // Quotes, backslashes, tabs and line breaks (which COPY escapes), non-ASCII, formulas,
  // microseconds (and a fraction a float multiplies badly), BC, five-digit years, infinity, nulls:
  // what JSON, CSV and time zones trip on. (Not in `destination`: the monthly call totals keep its
  // first 8 characters as a head without spaces or controls, decision 0500.)
  await runAsOwner(
    database.ownerUrl,
    `insert into call_records (tenant_id, started_at, dedup_key, subject_id, caller_e164, destination, answered_at,
        ended_at, duration_seconds, billable_seconds, disposition, is_billable_leg, linked_id, cost_micros)
     values ($1, timestamptz '2026-03-02 10:11:12.345678+01', $3, $2, $4, '+3256000001', null,
             timestamptz '2026-03-02 10:12:00+00', 48, 47, 'answered', true, 'l-é', 1234567),
            ($1, timestamptz '2026-03-31 23:59:59.999+00', 'k2', $2, $5, '+3256000002',
             null, timestamptz '2026-03-31 23:59:59+00', 0, 0, 'no_answer', false, null, 0),
            ($1, timestamptz '2026-03-03 00:00:00.291+00', $6, $2, '=1+1', '-5', timestamptz 'infinity',
             timestamptz '0044-03-15 12:00:00.5+00 BC', 3, 0, 'busy', false, E'cr\\rand\\x01ctl', 9007199254740993),
            ($1, timestamptz '2026-03-04 05:06:07.000001+00', 'k4', $2, '@x', '＝漢字', timestamptz '12026-01-01 00:00:00+00',
             timestamptz '-infinity', 0, 0, 'unknown', true, '', null)`,
    [tenant.tenantId, subjectId, 'k"1\\', '+3256 "x", y', 'line\nbreak\ttab', 'back\\slash\\\\N'],
  );
  // Someone else's calls in the same tenant: never in this person's export.
  const other = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    { subjectType: 'customer', familyName: 'Ander', givenName: 'Otto', email: 'otto@example.be' },
  );
  await runAsOwner(
    database.ownerUrl,
    `insert into call_records (tenant_id, started_at, dedup_key, subject_id, caller_e164, destination, answered_at,
        ended_at, duration_seconds, billable_seconds, disposition, is_billable_leg, linked_id, cost_micros)
     values ($1, timestamptz '2026-03-05 08:00:00+00', 'other-1', $2, '+32470000077', '+3256000077', null,
             timestamptz '2026-03-05 08:01:00+00', 60, 60, 'answered', true, null, 500)`,
    [tenant.tenantId, other.subjectId],
  );
});
afterAll(async () => database.close());

const callRecords = () => {
  const map = DATA_MAP.find((entry) => entry.table === 'call_records');
  if (!map) throw new Error('no call_records map');
  return map;
};

type Records = Array<Record<string, unknown>>;

/** The person's call records as renderRow gives them ({column: value}), read in `atx`. */
async function renderedRecords(atx: AuditedTx): Promise<Records> {
  const map = callRecords();
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
  const records: Records = [];
  for await (const row of readSubjectRows(atx.tx, map, subjectId)) {
    const cells = await renderRow(grant, map, row, subjectId);
    records.push(Object.fromEntries(Object.entries(cells).map(([column, cell]) => [column, cell.value])));
  }
  return records;
}

/** Rows in an order that does not depend on the order they were read in. */
const byKey = (rows: unknown[]) =>
  [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** The CSV header and lines (sorted) csvRecord writes for the call records `records`. */
function csvLinesOf(records: Records): { header: string; lines: string[] } {
  const columns = Object.keys(callRecords().personal).map((column) => column.replace(/_enc$/, ''));
  return {
    header: csvRecord(columns),
    lines: records.map((record) => csvRecord(columns.map((column) => record[column]))).sort(),
  };
}

/** All a writer gives for `copy` pushed whole, as text. */
const writtenWhole = (writer: CopyRowWriter, copy: Buffer): string =>
  Buffer.concat([writer.push(copy), writer.end()]).toString('utf8');

/** A sink that keeps what is written, and the text of it. */
function collected(): { sink: Writable; text: () => string; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks), text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The person's call records as renderRow gives them ({column: value}), and their COPY text. */
async function renderedAndCopied(): Promise<{ records: Records; copy: Buffer; plan: CopyPlan }> {
  const map = callRecords();
  return kernel.transact(tenant.tenantId, async (atx) => {
    const records = await renderedRecords(atx);
    const client = await copyOutClient(kernelCore(kernel).db, atx.tx);
    const plan = await copyPlan(atx.tx, map, subjectId);
    if (!client || !plan) throw new Error('call records should be read by COPY');
    const chunks: Buffer[] = [];
    for await (const chunk of copyOut(client, plan.statement)) chunks.push(chunk);
    return { records, copy: Buffer.concat(chunks), plan };
  });
}

describe('rows written from COPY text', () => {
  it('are exactly the cells renderRow gives, for the report, the export and its CSV', async () => {
    const map = callRecords();
    const compared = await kernel.transact(tenant.tenantId, async (atx) => {
      const expected = await renderedRecords(atx);
      const client = await copyOutClient(kernelCore(kernel).db, atx.tx);
      const plan = await copyPlan(atx.tx, map, subjectId);
      if (!client || !plan) throw new Error('call records should be read by COPY');
      const read = async (shape: RowShape, separator: string) => {
        const pieces: Buffer[] = [];
        for await (const piece of readCopiedRows(client, plan, shape, separator).pieces) pieces.push(piece);
        return Buffer.concat(pieces).toString('utf8');
      };
      const recordRows = JSON.parse(`[${await read('record', ',\n')}]`) as unknown[];
      const csvRows = (await read('csv', '')).split(/(?<=\r\n)/);
      // The transaction goes on after the COPYs: the connection is back in its hands.
      await sql`select 1`.execute(atx.tx);
      return { expected, recordRows, csvRows };
    });
    expect(compared.expected).toHaveLength(4);
    // As JSON: the report and the export are JSON (an infinite timestamp is null in both).
    expect(JSON.stringify(byKey(compared.recordRows))).toBe(JSON.stringify(byKey(compared.expected)));
    expect([...compared.csvRows].sort()).toEqual(csvLinesOf(compared.expected).lines);
  });

  it('csvField writes a cell as csvRecord does: formulas defused, quotes doubled, line breaks quoted', () => {
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
      '＋x',
      '－x',
      '＠x',
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
    expect(values.map((value) => csvField(value))).toEqual(
      values.map((value) => csvRecord([value]).slice(0, -2)),
    );
    // A lone LF or CR is quoted too: a reader that ends a record at LF must not split the row.
    expect(csvRecord(['two\nlines', 'cr\rin'])).toBe('"two\nlines","cr\rin"\r\n');
  });

  it('writes the same rows however the COPY bytes are cut, inside a character or a row', () => {
    const plan: CopyPlan = {
      table: 't',
      statement: '',
      columns: [
        { column: 'a', name: 'a', category: 'c.a', kind: 'text' },
        { column: 'b', name: 'b', category: 'c.b', kind: 'hidden' },
        { column: 'n', name: 'n', category: 'c.n', kind: 'integer' },
      ],
    };
    const copy = Buffer.from('é漢\\tx\t1\n\\N\t2\n\\N\t\\N\n\t-3\n', 'utf8');
    for (const shape of ['record', 'csv'] as const) {
      const whole = new CopyRowWriter(plan, shape, ';');
      const expected = writtenWhole(whole, copy);
      const bytewise = new CopyRowWriter(plan, shape, ';');
      const pieces: Buffer[] = [];
      for (let index = 0; index < copy.length; index += 1)
        pieces.push(bytewise.push(copy.subarray(index, index + 1)));
      pieces.push(bytewise.end());
      expect(Buffer.concat(pieces).toString('utf8')).toBe(expected);
      expect(bytewise.rows).toBe(3);
    }
    const report = new CopyRowWriter(plan, 'record', ',');
    expect(JSON.parse(`[${writtenWhole(report, copy)}]`)).toEqual([
      { a: 'é漢\tx', n: 1 },
      { n: 2 },
      { a: '', n: -3 },
    ]);
    expect(report.categories).toEqual(['c.a', 'c.n']);
    const csv = new CopyRowWriter(plan, 'csv');
    expect(writtenWhole(csv, copy)).toBe('é漢\tx,,1\r\n,,2\r\n,,-3\r\n');
  });

  it('the export writes JSON and CSV in one pass (or the CSV alone), byte for byte what the two writers give, however the bytes are cut and pieced', async () => {
    const synthetic: CopyPlan = {
      table: 't',
      statement: '',
      columns: [
        { column: 'a', name: 'a', category: 'c.a', kind: 'text' },
        { column: 'b', name: 'b', category: 'c.b', kind: 'hidden' },
        { column: 'n', name: 'n', category: 'c.n', kind: 'integer' },
        { column: 'j', name: 'j', category: 'c.j', kind: 'json' },
        { column: 'f', name: 'f', category: 'c.f', kind: 'bool' },
        { column: 't', name: 't', category: 'c.t', kind: 'timestamp' },
      ],
    };
    // Text with commas, a formula start, a full-width one, escapes; negative and big integers;
    // a JSON null (a row that then shows nothing), JSON values; timestamps with and without a
    // fraction, BC, infinity, a five-digit year; no line break after the last row.
    const syntheticCopy = Buffer.from(
      [
        'é漢\\tx\t1\t\\N\tt\t2026-01-01 00:00:00.5',
        '\\N\t2\tnull\t\\N\t\\N',
        'a,b\t-3\t{"k": [1, "x,y"]}\tf\t2026-12-31 23:59:59.123456',
        '=1+1\t12345678901234567890\t"str"\t\\N\t0044-03-15 12:00:00.5 BC',
        '＝x\t\\N\t\\N\tt\tinfinity',
        '\\N\t\\N\tnull\t\\N\t\\N',
        '\\N\t\\N\t\\N\t\\N\t12026-01-01 00:00:00',
        '\t0\t\\N\tf\t2026-01-02 03:04:05',
      ].join('\n'),
      'utf8',
    );
    const { copy, plan } = await renderedAndCopied();
    for (const [name, cases] of [
      ['synthetic', { plan: synthetic, copy: syntheticCopy }],
      ['call records', { plan, copy }],
    ] as const) {
      const json = new CopyRowWriter(cases.plan, 'record', ',\n');
      const csv = new CopyRowWriter(cases.plan, 'csv');
      const expected = {
        json: writtenWhole(json, cases.copy),
        csv: writtenWhole(csv, cases.copy),
      };
      expect(json.rows, name).toBeGreaterThan(2);
      for (const [cut, pieceBytes] of <Array<[number, number]>>[
        [cases.copy.length, 256 * 1024],
        [1, 256 * 1024],
        [7, 16],
        [3, 1],
      ]) {
        const pair = new CopyPairWriter(cases.plan, ',\n', pieceBytes);
        const pieces = [];
        for (let index = 0; index < cases.copy.length; index += cut)
          pieces.push(...pair.push(cases.copy.subarray(index, index + cut)));
        pieces.push(pair.end());
        const written = {
          json: Buffer.concat(pieces.map((piece) => piece.json)).toString('utf8'),
          csv: Buffer.concat(pieces.map((piece) => piece.csv)).toString('utf8'),
        };
        expect(written, `${name}, cut every ${cut} bytes, pieces of ${pieceBytes}`).toEqual(expected);
        expect(pair.rows).toBe(json.rows);
        // The same when each piece is read at once and its buffers handed back (decision 0660).
        const recycling = new CopyPairWriter(cases.plan, ',\n', pieceBytes);
        const read = { json: [] as string[], csv: [] as string[] };
        const memory = new Set<ArrayBufferLike>();
        const take = (taken: Array<{ json: Buffer; csv: Buffer }>) => {
          for (const piece of taken) {
            read.json.push(piece.json.toString('utf8'));
            read.csv.push(piece.csv.toString('utf8'));
            memory.add(piece.json.buffer).add(piece.csv.buffer);
            recycling.recycle(piece.json);
            recycling.recycle(piece.csv);
          }
        };
        for (let index = 0; index < cases.copy.length; index += cut)
          take(recycling.push(cases.copy.subarray(index, index + cut)));
        take([recycling.end()]);
        expect({ json: read.json.join(''), csv: read.csv.join('') }).toEqual(expected);
        if (pieces.length > 4) expect(memory.size).toBeLessThan(pieces.length);
        // The CSV alone (decision 0825): the same CSV bytes, no JSON.
        const csvOnly = new CopyPairWriter(cases.plan, ',\n', pieceBytes, 'csv');
        const alone = [];
        for (let index = 0; index < cases.copy.length; index += cut)
          alone.push(...csvOnly.push(cases.copy.subarray(index, index + cut)));
        alone.push(csvOnly.end());
        expect(
          {
            json: Buffer.concat(alone.map((piece) => piece.json)).toString('utf8'),
            csv: Buffer.concat(alone.map((piece) => piece.csv)).toString('utf8'),
          },
          `${name}, CSV only, cut every ${cut} bytes, pieces of ${pieceBytes}`,
        ).toEqual({ json: '', csv: expected.csv });
        expect(csvOnly.rows).toBe(json.rows);
      }
    }
    const pair = new CopyPairWriter(synthetic, ',');
    const [piece] = [...pair.push(syntheticCopy), pair.end()];
    expect(JSON.parse(`[${piece?.json.toString('utf8') ?? ''}]`)).toEqual([
      { a: 'é漢\tx', n: 1, f: true, t: '2026-01-01T00:00:00.500Z' },
      { n: 2 },
      { a: 'a,b', n: -3, j: { k: [1, 'x,y'] }, f: false, t: '2026-12-31T23:59:59.123Z' },
      { a: '=1+1', n: 12345678901234567000, j: 'str', t: '-000043-03-15T12:00:00.500Z' },
      { a: '＝x', f: true, t: null },
      { t: '+012026-01-01T00:00:00.000Z' },
      { a: '', n: 0, f: false, t: '2026-01-02T03:04:05.000Z' },
    ]);
    expect(piece?.csv.toString('utf8')).toBe(
      'é漢\tx,,1,,true,2026-01-01T00:00:00.500Z\r\n,,2,,,\r\n' +
        '"a,b",,-3,"{""k"":[1,""x,y""]}",false,2026-12-31T23:59:59.123Z\r\n' +
        "'=1+1,,12345678901234567000,str,,'-000043-03-15T12:00:00.500Z\r\n'＝x,,,,true,null\r\n" +
        ",,,,,'+012026-01-01T00:00:00.000Z\r\n,,0,,false,2026-01-02T03:04:05.000Z\r\n",
    );
  });

  it("the portability ZIP's call records, in CSV only, are exactly the person's rows as renderRow gives them, and no one else's", async () => {
    const { records } = await renderedAndCopied();
    expect(records).toHaveLength(4);
    const zip = collected();
    await streamPortabilityZip(kernel, DATA_MAP, options(), zip.sink);
    const files = await unzip(zip.bytes());
    // One file for the call records (decision 0825); the manifest names the files there are.
    expect(files.has('call_records.json')).toBe(false);
    const manifest = JSON.parse(files.get('manifest.json') ?? '{}') as { format?: string; files?: string[] };
    expect(manifest.format).toBe('kluis.portability.v2');
    expect(manifest.files).toContain('call_records.csv');
    expect(manifest.files).not.toContain('call_records.json');
    expect([...files.keys()].sort()).toEqual(['manifest.json', ...(manifest.files ?? [])].sort());
    const csv = (files.get('call_records.csv') ?? '').split(/(?<=\r\n)/);
    const expectedCsv = csvLinesOf(records);
    expect(csv[0]).toBe(expectedCsv.header);
    expect(csv.slice(1).sort()).toEqual(expectedCsv.lines);
    expect(files.get('call_records.csv')).not.toContain('other-1');
  });

  it('two portability ZIPs of unchanged data are the same although their rows were written again in reverse order: every table in its key order (attack S16, noticed; decision 0838)', async () => {
    const first = collected();
    await streamPortabilityZip(kernel, DATA_MAP, options(), first.sink);
    // Every row of the person deleted and written again, last row first (triggers off): the heap
    // and the indexes now hold them in the reverse order.
    let reversed = 0;
    for (const map of DATA_MAP) {
      if (!map.subjectColumn) continue;
      const where = `"${map.subjectColumn}" = ${subjectId}`;
      try {
        await runAsOwner(
          database.ownerUrl,
          `do $$ begin
             set local session_replication_role = replica;
             create temp table moved on commit drop as select * from ${map.table} where ${where};
             delete from ${map.table} where ${where};
             insert into ${map.table} select * from moved order by ctid desc;
           end $$`,
        );
        reversed += 1;
      } catch {
        // A table with generated columns or the like: left as it is.
      }
    }
    expect(reversed).toBeGreaterThan(5);
    const second = collected();
    await streamPortabilityZip(kernel, DATA_MAP, options(), second.sink);
    const before = await unzip(first.bytes());
    const after = await unzip(second.bytes());
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, text] of before) if (name !== 'manifest.json') expect(after.get(name), name).toBe(text);
    // The call records (four rows of the person) are in their key's order, not the heap's.
    const plan = await kernel.plain(tenant.tenantId, (tx) =>
      copyPlan(tx, DATA_MAP.find((map) => map.table === 'call_records') ?? DATA_MAP[0]!, subjectId),
    );
    expect(plan?.statement).toMatch(/ ORDER BY "tenant_id", [^)]+\) TO STDOUT$/);
  });

  it('the streamed report is the same document as the one built in memory; its description names the same tables and categories', async () => {
    const built = await buildAccessReport(kernel, DATA_MAP, options());
    const report = collected();
    await writeAccessReportJson(kernel, DATA_MAP, options(), report.sink);
    const streamed = JSON.parse(report.text()) as typeof built;
    expect({ ...streamed, generatedAt: '', consultations: [] }).toEqual({
      ...built,
      generatedAt: '',
      consultations: [],
    });
    // Each report lists the exports before it (decision 0590): the second, the first one too.
    const exportsIn = (report: typeof built): number =>
      report.consultations
        .filter((line) => line.action === 'export' && line.decision === 'allowed')
        .reduce((sum, line) => sum + line.times, 0);
    expect(exportsIn(streamed)).toBe(exportsIn(built) + 1);
    expect(built.data.map((table) => table.table)).toContain('call_records');
    const described = await describeAccessReport(kernel, DATA_MAP, options());
    expect(described).toEqual({
      categories: built.categories.map((category) => category.key),
      tables: built.data.map((table) => table.table),
    });
  });
});
