import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { withTenant } from '../../platform/db.js';
import { registerSubject } from '../../kernel/subjects/index.js';
import type { Tenant } from '../tenants/index.js';
import {
  findCallRecords,
  purgeExpiredCallRecords,
  rerateCalls,
  type CallMonthBilling as PurgeMonthBilling,
} from './call-record.service.js';
import { CdrLayoutError } from './cdr.parse.js';
import { importCdrFile, CALL_BILLING_PURPOSE } from './cdr-import.service.js';
import { listImports } from './cdr-import-log.js';
import { parseDateOrInstant } from './date-input.js';
import { assignNumber, listNumberAssignments } from './number.service.js';
import { importTariff } from './tariff.service.js';
import {
  asteriskLine,
  bulkConnection,
  registerCustomers,
  TARIFF_CSV,
  TELEPHONY_SERVICE,
  tempDir,
  writeLines,
} from './telephony.test-helpers.js';

let database: TestDatabase;
let kernel: Kernel;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  dir = await tempDir();
});
afterAll(async () => database.close());

const staff = (role: string): Actor => ({ kind: 'staff', staffId: 1, role });
const cli: Actor = { kind: 'system', job: 'test' };
const brussels = (text: string): Date => parseDateOrInstant(text, 'Europe/Brussels', 'test');

/** Customer A held 056 22 33 44 from 1 January 2024; from 1 June customer B holds it. */
async function setUpTenant(k: Kernel = kernel): Promise<{ tenant: Tenant; a: number; b: number }> {
  const tenant = await createPolicyTenant(k, 'voxtra');
  const [a, b] = (await registerCustomers(k, tenant, 2)) as [number, number];
  const context = { tenantId: tenant.tenantId, actor: cli, purpose: TELEPHONY_SERVICE };
  await assignNumber(k, context, {
    number: '056 22 33 44',
    subjectId: a,
    from: brussels('2024-01-01'),
    contractRef: 'C-1',
  });
  await assignNumber(k, context, { number: '+32 56 22 33 44', subjectId: b, from: brussels('2024-06-01') });
  await importTariff(k, tenant.tenantId, TARIFF_CSV);
  return { tenant, a, b };
}

const LINES = {
  answered: asteriskLine({
    src: '056223344',
    dst: '0470123456',
    start: '2024-05-10 10:00:00',
    answer: '2024-05-10 10:00:05',
    end: '2024-05-10 10:01:10',
    duration: 70,
    billsec: 65,
    uniqueId: '1715328000.1',
    sequence: 1,
  }),
  unanswered: asteriskLine({
    src: '056223344',
    dst: '022345678',
    start: '2024-05-10 11:00:00',
    end: '2024-05-10 11:00:20',
    duration: 20,
    billsec: 0,
    uniqueId: '1715331600.2',
    sequence: 2,
  }),
  unheld: asteriskLine({
    src: '0471999999',
    dst: '022345678',
    start: '2024-05-10 12:00:00',
    answer: '2024-05-10 12:00:02',
    end: '2024-05-10 12:00:30',
    duration: 30,
    billsec: 28,
    uniqueId: '1715335200.3',
    sequence: 3,
  }),
  anonymous: asteriskLine({
    src: 'anonymous',
    dst: '022345678',
    start: '2024-05-10 12:30:00',
    end: '2024-05-10 12:30:10',
    duration: 10,
    billsec: 0,
    uniqueId: '1715337000.4',
    sequence: 4,
  }),
  broken: '"","056223344","0470123456","from-internal"',
  movedToB: asteriskLine({
    src: '056223344',
    dst: '0031201234567',
    start: '2024-06-02 10:00:00',
    answer: '2024-06-02 10:00:03',
    end: '2024-06-02 10:00:33',
    duration: 33,
    billsec: 30,
    uniqueId: '1717315200.6',
    sequence: 6,
    name: 'Zoë "Zo" Ørsted',
  }),
  shortCode: asteriskLine({
    src: '056223344',
    dst: '1207',
    start: '2024-06-02 11:00:00',
    answer: '2024-06-02 11:00:01',
    end: '2024-06-02 11:00:21',
    duration: 21,
    billsec: 20,
    uniqueId: '1717318800.7',
    sequence: 7,
  }),
  beforeAnyHolder: asteriskLine({
    src: '056223344',
    dst: '022345678',
    start: '2023-12-31 23:00:00',
    answer: '2023-12-31 23:00:02',
    end: '2023-12-31 23:00:12',
    duration: 12,
    billsec: 10,
    uniqueId: '1704060000.9',
    sequence: 9,
  }),
};

const FILE_LINES = [
  LINES.answered,
  LINES.unanswered,
  LINES.unheld,
  LINES.anonymous,
  LINES.broken,
  LINES.movedToB,
  LINES.shortCode,
  LINES.answered, // the switch wrote it twice
  LINES.beforeAnyHolder,
];

const billing = (tenant: Tenant, actor: Actor = staff('billing'), purpose = CALL_BILLING_PURPOSE) => ({
  tenantId: tenant.tenantId,
  actor,
  purpose,
});
const ALL_TIME = { from: new Date('2000-01-01T00:00:00Z'), to: new Date('2100-01-01T00:00:00Z') };

/** What billing would report of months invoiced with the given due dates (G-1 purge input). */
function invoicedMonths(dueDates: Record<string, string>): Map<string, PurgeMonthBilling> {
  return new Map(
    Object.entries(dueDates).map(([month, lastDueDate]) => [
      month,
      { lastDueDate, disputed: false, unbilledCalls: 0 },
    ]),
  );
}
// The May partition also holds the first hours of June in Brussels: both months invoiced.
const MAY_INVOICED = invoicedMonths({ '2024-05': '2024-06-20', '2024-06': '2024-06-20' });

describe('CDR import (VX-5)', () => {
  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('normalises, attributes each call to the holder at its start, rates answered calls, and rejects with line and reason', async () => {
    const { tenant, a, b } = await setUpTenant();
    const file = await writeLines(dir, 'basic.csv', FILE_LINES);
    const summary = await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: tenant.tenantId, file, batchSize: 3 },
    );
    expect(summary).toMatchObject({ linesRead: 9, imported: 4, rejected: 4, duplicates: 1, unrated: 1 });
    expect(summary.imported + summary.rejected + summary.duplicates).toBe(summary.linesRead);
    expect(summary.rejectFile).toBe(`${file}.rejects.csv`);
    const rejects = (await readFile(`${file}.rejects.csv`, 'utf8')).trim().split('\n');
    expect(rejects[0]).toBe('line,reason,message');
    expect(rejects.slice(1).map((line) => line.split(',').slice(0, 2).join(','))).toEqual([
      '3,not_attributed',
      '4,not_attributed',
      '5,wrong_column_count',
      '9,not_attributed',
    ]);
    // The reject file says what is wrong, never the line itself: no number in it.
    expect(rejects.join('\n')).not.toMatch(/0471999999|056223344/);

    const calls = await findCallRecords(kernel, billing(tenant), ALL_TIME);
    expect(calls.map((call) => [call.subjectId, call.callerE164, call.destination, call.costMicros])).toEqual(
      [
        // 65 s at 30/6 are charged as 66 s at 0.12 €/min, plus 0.05 € connection fee.
        [a, '+3256223344', '+32470123456', 182_000],
        [a, '+3256223344', '+3222345678', 0],
        // after the number moved to B on 1 June; 30 s per second at 0.10 €/min
        [b, '+3256223344', '+31201234567', 50_000],
        // a short code: kept as dialled, chargeable but without a rate
        [b, '+3256223344', '1207', null],
      ],
    );
    expect(calls[0]).toMatchObject({
      dedupKey: '1715328000.1#1',
      billableSeconds: 65,
      disposition: 'answered',
    });
    expect(calls[0]?.startedAt.toISOString()).toBe('2024-05-10T08:00:00.000Z');
  });

  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('the same file twice adds nothing; an overlapping file adds only its new lines', async () => {
    const { tenant } = await setUpTenant();
    const file = await writeLines(dir, 'twice.csv', FILE_LINES);
    const deps = { kernel, connection: bulkConnection(database) };
    await importCdrFile(deps, { tenantId: tenant.tenantId, file });
    const again = await importCdrFile(deps, { tenantId: tenant.tenantId, file });
    expect(again).toMatchObject({ linesRead: 9, imported: 0, rejected: 4, duplicates: 5 });

    const extra = asteriskLine({
      src: '056223344',
      dst: '0470123456',
      start: '2024-06-03 09:00:00',
      answer: '2024-06-03 09:00:04',
      end: '2024-06-03 09:00:14',
      duration: 14,
      billsec: 10,
      uniqueId: '1717398000.10',
      sequence: 10,
    });
    const overlapping = await writeLines(dir, 'overlap.csv', [LINES.movedToB, LINES.shortCode, extra]);
    const third = await importCdrFile(deps, { tenantId: tenant.tenantId, file: overlapping });
    expect(third).toMatchObject({ linesRead: 3, imported: 1, rejected: 0, duplicates: 2, rejectFile: null });
    expect(existsSync(`${overlapping}.rejects.csv`)).toBe(false);
    expect(await findCallRecords(kernel, billing(tenant), ALL_TIME)).toHaveLength(5);
  });

  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('records without a switch id deduplicate on their hash (16-column Master.csv)', async () => {
    const { tenant } = await setUpTenant();
    const sixteen = LINES.answered.split(',').slice(0, 16).join(',');
    const file = await writeLines(dir, 'sixteen.csv', [sixteen, sixteen]);
    const deps = { kernel, connection: bulkConnection(database) };
    const first = await importCdrFile(deps, { tenantId: tenant.tenantId, file });
    expect(first).toMatchObject({ linesRead: 2, imported: 1, duplicates: 1 });
    const [call] = await findCallRecords(kernel, billing(tenant), ALL_TIME);
    expect(call?.dedupKey).toMatch(/^[0-9a-f]{64}$/);
  });

  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('a line whose duration or billable seconds do not fit the integer columns is rejected as value_out_of_range; the other lines are imported', async () => {
    const { tenant } = await setUpTenant();
    const call = (duration: number, billsec: number, sequence: number) =>
      asteriskLine({
        src: '056223344',
        dst: '0470123456',
        start: '2024-05-20 09:00:00',
        answer: '2024-05-20 09:00:04',
        end: '2024-05-20 09:00:14',
        duration,
        billsec,
        uniqueId: `1716188400.${sequence}`,
        sequence,
      });
    const file = await writeLines(dir, 'oversized.csv', [
      call(14, 10, 1),
      call(99_999_999_999, 10, 2),
      call(14, 2_147_483_648, 3),
      call(2_147_483_647, 10, 4),
    ]);
    const summary = await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: tenant.tenantId, file },
    );
    expect(summary).toMatchObject({ linesRead: 4, imported: 2, rejected: 2, duplicates: 0 });
    expect(summary.rejectsByReason).toEqual({ value_out_of_range: 2 });
    const rejects = (await readFile(`${file}.rejects.csv`, 'utf8')).trim().split('\n');
    expect(rejects.slice(1).map((line) => line.split(',').slice(0, 2).join(','))).toEqual([
      '2,value_out_of_range',
      '3,value_out_of_range',
    ]);
    const calls = await findCallRecords(kernel, billing(tenant), ALL_TIME);
    expect(calls.map((row) => row.dedupKey).sort()).toEqual(['1716188400.1#1', '1716188400.4#4']);
  });

  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('a line whose unique id is longer than the dedup key allows is rejected as value_out_of_range; the other lines are imported (attack S10-5)', async () => {
    const { tenant } = await setUpTenant();
    const call = (uniqueId: string, sequence: number) =>
      asteriskLine({
        src: '056223344',
        dst: '0470123456',
        start: '2024-05-21 09:00:00',
        answer: '2024-05-21 09:00:04',
        end: '2024-05-21 09:00:14',
        duration: 14,
        billsec: 10,
        uniqueId,
        sequence,
      });
    const file = await writeLines(dir, 'long-id.csv', [
      call('1716274800.1', 1),
      call('9'.repeat(3000), 2),
      call('1716274800.3', 3),
    ]);
    const summary = await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: tenant.tenantId, file },
    );
    expect(summary).toMatchObject({ linesRead: 3, imported: 2, rejected: 1, duplicates: 0 });
    expect(summary.rejectsByReason).toEqual({ value_out_of_range: 1 });
    const rejects = (await readFile(`${file}.rejects.csv`, 'utf8')).trim().split('\n');
    expect(rejects.slice(1).map((line) => line.split(',').slice(0, 2).join(','))).toEqual([
      '2,value_out_of_range',
    ]);
    const calls = await findCallRecords(kernel, billing(tenant), ALL_TIME);
    expect(calls.map((row) => row.dedupKey).sort()).toEqual(['1716274800.1#1', '1716274800.3#3']);
  });

  it('a file that breaks a database constraint fails with the constraint named in the import log, and nothing of it is kept', async () => {
    const { tenant } = await setUpTenant();
    // No line the parser accepts breaks a constraint of ours today (S10-5 closed the last one), so
    // the test adds one the parser does not know.
    const constraint = 'call_records_test_no_0499';
    await runAsOwner(
      database.ownerUrl,
      `alter table call_records add constraint ${constraint} check (destination not like '+32499%') not valid`,
    );
    onTestFinished(() =>
      runAsOwner(database.ownerUrl, `alter table call_records drop constraint ${constraint}`).then(
        () => undefined,
      ),
    );
    const call = (dst: string, sequence: number) =>
      asteriskLine({
        src: '056223344',
        dst,
        start: '2024-05-22 09:00:00',
        answer: '2024-05-22 09:00:04',
        end: '2024-05-22 09:00:14',
        duration: 14,
        billsec: 10,
        uniqueId: `1716361200.${sequence}`,
        sequence,
      });
    const file = await writeLines(dir, 'constraint.csv', [call('0470123456', 1), call('0499123456', 2)]);
    await expect(
      importCdrFile({ kernel, connection: bulkConnection(database) }, { tenantId: tenant.tenantId, file }),
    ).rejects.toThrow();
    const logged = await listImports(kernel, tenant.tenantId, cli, { limit: 1 });
    expect(logged.items[0]).toMatchObject({ status: 'failed', errorCode: constraint });
    expect(await findCallRecords(kernel, billing(tenant), ALL_TIME)).toEqual([]);
  });

  it('a file in an unexpected layout is refused before anything is written', async () => {
    const { tenant } = await setUpTenant();
    const file = await writeLines(dir, 'wrong.csv', ['a,b,c,d,e,f,g,h,i,j', '1,2,3,4,5,6,7,8,9,10']);
    await expect(
      importCdrFile({ kernel, connection: bulkConnection(database) }, { tenantId: tenant.tenantId, file }),
    ).rejects.toThrow(CdrLayoutError);
    expect(existsSync(`${file}.rejects.csv`)).toBe(false);
    const count = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from call_records where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(count.rows[0]?.n).toBe(0);
  });

  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('rerating a period after a tariff correction updates the stored costs', async () => {
    const { tenant } = await setUpTenant();
    const file = await writeLines(dir, 'rerate.csv', FILE_LINES);
    await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: tenant.tenantId, file },
    );
    await importTariff(kernel, tenant.tenantId, TARIFF_CSV.replace('3247,0.12,', '3247,0.24,'));
    const result = await rerateCalls(kernel, tenant.tenantId, {
      from: brussels('2024-05-01'),
      to: brussels('2024-06-01'),
      batchSize: 1,
    });
    expect(result).toEqual({
      calls: 2,
      changed: 1,
      unrated: 0,
      keptInvoiced: 0,
      keptInvoicedCustomers: [],
      keptInvoicedMonths: [],
      keptRefused: 0,
      keptRefusedCustomers: [],
      keptRefusedReasons: [],
    });
    const [answered] = await findCallRecords(kernel, billing(tenant), ALL_TIME);
    expect(answered?.costMicros).toBe(264_000 + 50_000);
  });
});

describe('call records are used for billing only (VX-5)', () => {
  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('billing reads call records under call_billing; support and sales are refused, and the refusal is audited', async () => {
    const { tenant } = await setUpTenant();
    const file = await writeLines(dir, 'purpose.csv', FILE_LINES);
    await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: tenant.tenantId, file },
    );

    await expect(findCallRecords(kernel, billing(tenant), ALL_TIME)).resolves.toHaveLength(4);
    await expect(findCallRecords(kernel, billing(tenant, staff('support')), ALL_TIME)).rejects.toMatchObject({
      code: 'role_not_allowed',
    });
    await expect(findCallRecords(kernel, billing(tenant, staff('sales')), ALL_TIME)).rejects.toMatchObject({
      code: 'role_not_allowed',
    });
    // Support may manage numbers, but that purpose does not cover call records.
    await expect(
      findCallRecords(kernel, billing(tenant, staff('support'), TELEPHONY_SERVICE), ALL_TIME),
    ).rejects.toMatchObject({ code: 'category_not_allowed' });

    const audit = await runAsOwner<{
      actor_id: string;
      role: string;
      purpose: string;
      action: string;
      decision: string;
      reason: string | null;
      records: number;
    }>(
      database.ownerUrl,
      'select actor_id, role, purpose, action, decision, reason, records from audit_log where tenant_id = $1 order by seq',
      [tenant.tenantId],
    );
    const imports = audit.rows.filter((row) => row.actor_id === 'cdr-import' && row.action === 'write');
    // one decision for the single batch, covering its two subjects
    expect(imports).toEqual([
      expect.objectContaining({ purpose: 'call_billing', decision: 'allowed', records: 2 }),
    ]);
    expect(
      audit.rows.filter((row) => row.decision === 'denied').map((row) => [row.role, row.reason]),
    ).toEqual([
      ['support', 'role_not_allowed'],
      ['sales', 'role_not_allowed'],
      ['support', 'category_not_allowed'],
    ]);
  });

  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('one gate decision per batch, not per row', async () => {
    const { tenant } = await setUpTenant();
    const file = await writeLines(dir, 'batches.csv', FILE_LINES);
    const summary = await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: tenant.tenantId, file, batchSize: 2 },
    );
    expect(summary.batches).toBe(3);
    const audit = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from audit_log where tenant_id = $1 and actor_id = 'cdr-import' and action = 'write'",
      [tenant.tenantId],
    );
    expect(audit.rows[0]?.n).toBe(3);
  });
});

describe('numbers (VX-5)', () => {
  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('a number moves between customers with its history kept; overlapping holders are refused', async () => {
    const { tenant, a, b } = await setUpTenant();
    const context = { tenantId: tenant.tenantId, actor: cli, purpose: TELEPHONY_SERVICE };
    const history = await listNumberAssignments(kernel, context, { number: '056223344' });
    expect(
      history.map((row) => [
        row.subjectId,
        row.validFrom.toISOString(),
        row.validTo?.toISOString() ?? null,
        row.contractRef,
      ]),
    ).toEqual([
      [a, '2023-12-31T23:00:00.000Z', '2024-05-31T22:00:00.000Z', 'C-1'],
      [b, '2024-05-31T22:00:00.000Z', null, null],
    ]);
    await assignNumber(kernel, context, {
      number: '0470 11 22 33',
      subjectId: a,
      from: brussels('2024-01-01'),
      to: brussels('2024-03-01'),
    });
    await expect(
      assignNumber(kernel, context, {
        number: '0470 11 22 33',
        subjectId: b,
        from: brussels('2024-02-01'),
        to: brussels('2024-04-01'),
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    await expect(
      assignNumber(kernel, context, { number: '0412 34 56 78', subjectId: a, from: brussels('2024-01-01') }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });

  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it('a number can be given to a customer only, under a purpose that covers numbers', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const prospect = await kernel.transact(tenant.tenantId, (atx) =>
      registerSubject(atx, 'prospect', new Date()),
    );
    const [customer] = (await registerCustomers(kernel, tenant, 1)) as [number];
    await expect(
      assignNumber(
        kernel,
        { tenantId: tenant.tenantId, actor: cli, purpose: TELEPHONY_SERVICE },
        { number: '0470 99 88 77', subjectId: prospect, from: brussels('2024-01-01') },
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      assignNumber(
        kernel,
        { tenantId: tenant.tenantId, actor: staff('sales'), purpose: TELEPHONY_SERVICE },
        { number: '0470 99 88 77', subjectId: customer, from: brussels('2024-01-01') },
      ),
    ).rejects.toMatchObject({ code: 'role_not_allowed' });
  });
});

describe('retention of call records (G-1)', () => {
  // Part of G-1, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('whole months past the contest period are dropped as partitions; the month the cutoff falls in loses its older rows', async () => {
    const clock = fixedClock(new Date('2024-06-01T00:00:00Z'));
    const k = createTestKernel(database, clock);
    const { tenant } = await setUpTenant(k);
    const call = (start: string, end: string, id: string, sequence: number) =>
      asteriskLine({
        src: '056223344',
        dst: '022345678',
        start,
        answer: start,
        end,
        duration: 10,
        billsec: 10,
        uniqueId: id,
        sequence,
      });
    const file = await writeLines(dir, 'retention.csv', [
      call('2024-01-15 10:00:00', '2024-01-15 10:00:10', 'j.1', 1),
      // 22:30 UTC on 31 January: UTC-January partition, January bill
      call('2024-01-31 23:30:00', '2024-01-31 23:30:10', 'j.2', 2),
      call('2024-02-10 10:00:00', '2024-02-10 10:00:10', 'f.1', 3),
      // 23:30 UTC on 29 February: UTC-February partition, but on the March bill
      call('2024-03-01 00:30:00', '2024-03-01 00:30:10', 'm.1', 4),
      call('2024-03-20 10:00:00', '2024-03-20 10:00:10', 'm.2', 5),
    ]);
    await importCdrFile(
      { kernel: k, connection: bulkConnection(database) },
      { tenantId: tenant.tenantId, file },
    );
    const partitions = async () =>
      (
        await runAsOwner<{ name: string }>(
          database.ownerUrl,
          'select partition_name as name from call_record_partitions where tenant_id = $1 order by month',
          [tenant.tenantId],
        )
      ).rows.map((row) => row.name);
    expect(await partitions()).toEqual([
      `call_records_t${tenant.tenantId}_2024_01`,
      `call_records_t${tenant.tenantId}_2024_02`,
      `call_records_t${tenant.tenantId}_2024_03`,
    ]);

    // Voxtra keeps call records 12 months after the bill. In March 2025 the February 2024 bill is past it.
    clock.set(new Date('2025-03-15T12:00:00Z'));
    // The contest periods (12 months after the due date) of January and February ended by 15 March 2025.
    const billed = invoicedMonths({
      '2024-01': '2024-03-14',
      '2024-02': '2024-03-14',
      '2024-03': '2024-05-14',
    });
    const nothingYet = await purgeExpiredCallRecords(k, tenant.tenantId, { billing: billed });
    expect(nothingYet).toMatchObject({
      contestMonths: 12,
      purgedMonths: ['2024-01', '2024-02'],
      droppedPartitions: [`call_records_t${tenant.tenantId}_2024_01`],
      droppedRows: 2,
      deletedRows: 1,
    });
    expect(await partitions()).toEqual([
      `call_records_t${tenant.tenantId}_2024_02`,
      `call_records_t${tenant.tenantId}_2024_03`,
    ]);
    const left = await findCallRecords(k, billing(tenant), ALL_TIME);
    expect(left.map((row) => row.dedupKey)).toEqual(['m.1#4', 'm.2#5']);

    const audit = await runAsOwner<{ action: string; records: number; actor_id: string }>(
      database.ownerUrl,
      "select action, records, actor_id from audit_log where tenant_id = $1 and action = 'retention.erase'",
      [tenant.tenantId],
    );
    expect(audit.rows).toEqual([{ action: 'retention.erase', records: 3, actor_id: 'cdr-retention' }]);

    // A purge with nothing expired changes nothing and audits nothing.
    const again = await purgeExpiredCallRecords(k, tenant.tenantId, { billing: billed });
    expect(again).toMatchObject({ droppedPartitions: [], deletedRows: 0 });
  });

  // Part of G-1, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it("dropping one tenant's month leaves another tenant's same month alone", async () => {
    const clock = fixedClock(new Date('2024-06-01T00:00:00Z'));
    const k = createTestKernel(database, clock);
    const one = await setUpTenant(k);
    const two = await setUpTenant(k);
    const file = await writeLines(dir, 'two-tenants.csv', [LINES.answered]);
    for (const { tenant } of [one, two]) {
      await importCdrFile(
        { kernel: k, connection: bulkConnection(database) },
        { tenantId: tenant.tenantId, file },
      );
    }
    clock.set(new Date('2025-07-01T12:00:00Z'));
    const purged = await purgeExpiredCallRecords(k, one.tenant.tenantId, { billing: MAY_INVOICED });
    expect(purged.droppedRows).toBe(1);
    expect(await findCallRecords(k, billing(one.tenant), ALL_TIME)).toHaveLength(0);
    expect(await findCallRecords(k, billing(two.tenant), ALL_TIME)).toHaveLength(1);
  });

  /** A tenant with one May 2024 call of customer a, and the clock in July 2025 (May 2024 expired). */
  async function tenantWithExpiredMay(): Promise<{ k: Kernel; tenant: Tenant; a: number; b: number }> {
    const clock = fixedClock(new Date('2024-06-01T00:00:00Z'));
    const k = createTestKernel(database, clock);
    const set = await setUpTenant(k);
    const file = await writeLines(dir, 'may.csv', [LINES.answered]);
    await importCdrFile(
      { kernel: k, connection: bulkConnection(database) },
      { tenantId: set.tenant.tenantId, file },
    );
    clock.set(new Date('2025-07-01T12:00:00Z'));
    return { k, ...set };
  }

  const partitionsOf = async (tenant: Tenant): Promise<string[]> =>
    (
      await runAsOwner<{ name: string }>(
        database.ownerUrl,
        'select partition_name as name from call_record_partitions where tenant_id = $1 order by month',
        [tenant.tenantId],
      )
    ).rows.map((row) => row.name);

  // Part of issue 10 (the purge goes through the gate), below the HTTP/CLI edge.
  it("a whole-month drop is an erase decision of the gate under call_billing over the month's callers, audited with the purge", async () => {
    const { k, tenant } = await tenantWithExpiredMay();
    const purged = await purgeExpiredCallRecords(k, tenant.tenantId, { billing: MAY_INVOICED });
    expect(purged.droppedPartitions).toEqual([`call_records_t${tenant.tenantId}_2024_05`]);
    const audit = await runAsOwner<{
      action: string;
      purpose: string;
      actor_id: string;
      decision: string;
      subjects: number;
      categories: string[];
    }>(
      database.ownerUrl,
      `select action, purpose, actor_id, decision, cardinality(subject_pseudonyms) as subjects, categories
         from audit_log where tenant_id = $1 and actor_id = 'cdr-retention' order by seq`,
      [tenant.tenantId],
    );
    expect(audit.rows).toEqual([
      {
        action: 'erase',
        purpose: CALL_BILLING_PURPOSE,
        actor_id: 'cdr-retention',
        decision: 'allowed',
        subjects: 1,
        categories: ['kluis.telephony.call_record'],
      },
      expect.objectContaining({ action: 'retention.erase', decision: 'allowed' }),
    ]);
  });

  // Part of issue 10, below the HTTP/CLI edge.
  it('a month holding call records of a subject the gate refuses is not dropped, and the refusal is audited', async () => {
    const { k, tenant } = await tenantWithExpiredMay();
    // A staff member's row in May 2024: call_billing is not a purpose for staff.
    const staffSubject = await k.transact(tenant.tenantId, (atx) =>
      registerSubject(atx, 'staff', k.clock.now()),
    );
    await runAsOwner(
      database.ownerUrl,
      `insert into call_records (tenant_id, started_at, dedup_key, subject_id, caller_e164, destination, ended_at,
         duration_seconds, billable_seconds, disposition, is_billable_leg)
       select tenant_id, started_at + interval '1 hour', 'staff.1', $2, caller_e164, destination, ended_at + interval '1 hour',
         duration_seconds, billable_seconds, disposition, is_billable_leg
         from call_records where tenant_id = $1 limit 1`,
      [tenant.tenantId, staffSubject],
    );
    await expect(
      purgeExpiredCallRecords(k, tenant.tenantId, { billing: MAY_INVOICED }),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(await partitionsOf(tenant)).toEqual([`call_records_t${tenant.tenantId}_2024_05`]);
    const denied = await runAsOwner<{ action: string; decision: string }>(
      database.ownerUrl,
      "select action, decision from audit_log where tenant_id = $1 and actor_id = 'cdr-retention'",
      [tenant.tenantId],
    );
    expect(denied.rows).toEqual([{ action: 'erase', decision: 'denied' }]);
  });

  // Part of issue 10, below the HTTP/CLI edge.
  it('the database drops a month only when the grant names every caller in it; the unchecked drop is gone', async () => {
    const { tenant, a, b } = await tenantWithExpiredMay();
    const asApp = (text: string, values: unknown[]) =>
      withTenant(database.db, tenant.tenantId, (tx) =>
        sql.raw(text.replace(/\$(\d)/g, (_, n: string) => `'${String(values[Number(n) - 1])}'`)).execute(tx),
      );
    await expect(
      asApp('select kluis_drop_granted_call_record_partition(date $1, $2::bigint[])', [
        '2024-05-01',
        `{${b}}`,
      ]),
    ).rejects.toThrow(/grant does not name/);
    await expect(asApp('select kluis_drop_call_record_partition(date $1)', ['2024-05-01'])).rejects.toThrow(
      /permission denied/,
    );
    expect(await partitionsOf(tenant)).toEqual([`call_records_t${tenant.tenantId}_2024_05`]);
    await asApp('select kluis_drop_granted_call_record_partition(date $1, $2::bigint[])', [
      '2024-05-01',
      `{${a}}`,
    ]);
    expect(await partitionsOf(tenant)).toEqual([]);
  });
});
