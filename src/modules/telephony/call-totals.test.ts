import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { eraseSubject } from '../../kernel/erasure/index.js';
import { parseDateOrInstant } from './date-input.js';
import { purgeExpiredCallRecords, rerateCalls, type CallMonthBilling } from './call-record.service.js';
import { importCdrFile } from './cdr-import.service.js';
import { assignNumber } from './number.service.js';
import { importTariff } from './tariff.service.js';
import {
  answeredCall,
  asteriskLine,
  bulkConnection,
  registerCustomers,
  TARIFF_CSV,
  TELEPHONY_SERVICE,
  tempDir,
  writeLines,
} from './telephony.test-helpers.js';
import { DATA_MAP } from '../data-map.js';

// Decision 0500: per-customer monthly call totals are kept with the calls by triggers, in the
// transaction that changes them. After each kind of change they equal a recount of the calls.

const clock = fixedClock(new Date('2024-06-01T00:00:00Z'));
let database: TestDatabase;
let kernel: Kernel;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  dir = await tempDir();
});
afterAll(async () => database.close());

const COLUMNS = `calls, chargeable_calls, chargeable_seconds, chargeable_cost_micros, chargeable_unrated,
  charged_calls, charged_seconds, charged_cost_micros, unrated`;

/** The tenant's totals, and the same figures counted again from its calls, as comparable lines. */
async function totalsAndRecount(tenantId: number): Promise<{ kept: string[]; recount: string[] }> {
  const kept = await runAsOwner<{ row: string }>(
    database.ownerUrl,
    `select concat_ws('|', subject_id, month, head, ${COLUMNS}) as row
       from call_record_month_totals where tenant_id = $1 order by subject_id, month, head`,
    [tenantId],
  );
  const recount = await runAsOwner<{ row: string }>(
    database.ownerUrl,
    `with c as (
       select subject_id, date_trunc('month', started_at at time zone 'Europe/Brussels')::date as month,
              left(destination, 8) as head, billable_seconds, cost_micros, is_billable_leg,
              (is_billable_leg and billable_seconds > 0 and disposition = 'answered') as chargeable
         from call_records where tenant_id = $1)
     select concat_ws('|', subject_id, month, head, count(*),
              count(*) filter (where chargeable),
              coalesce(sum(billable_seconds) filter (where chargeable), 0),
              coalesce(sum(cost_micros) filter (where chargeable), 0),
              count(*) filter (where chargeable and cost_micros is null),
              count(*) filter (where cost_micros > 0),
              coalesce(sum(billable_seconds) filter (where cost_micros > 0), 0),
              coalesce(sum(cost_micros) filter (where cost_micros > 0), 0),
              count(*) filter (where is_billable_leg and billable_seconds > 0 and cost_micros is null)) as row
       from c group by subject_id, month, head order by subject_id, month, head`,
    [tenantId],
  );
  return { kept: kept.rows.map((row) => row.row), recount: recount.rows.map((row) => row.row) };
}

async function expectExact(tenantId: number): Promise<string[]> {
  const { kept, recount } = await totalsAndRecount(tenantId);
  expect(kept).toEqual(recount);
  return kept;
}

const brussels = (text: string): Date => parseDateOrInstant(text, 'Europe/Brussels', 'test');

describe('per-customer monthly call totals (decision 0500)', () => {
  it('equal a recount of the calls after an import, a re-import of duplicates, a late call, a rerate, a retention sweep and the erasure of a person', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const [a, b] = (await registerCustomers(kernel, tenant, 2)) as [number, number];
    const context = { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' } as const };
    await assignNumber(
      kernel,
      { ...context, purpose: TELEPHONY_SERVICE },
      { number: '056 22 33 44', subjectId: a, from: brussels('2024-01-01') },
    );
    await assignNumber(
      kernel,
      { ...context, purpose: TELEPHONY_SERVICE },
      { number: '056 99 88 77', subjectId: b, from: brussels('2024-01-01') },
    );
    await importTariff(kernel, tenant.tenantId, TARIFF_CSV);
    const deps = { kernel, connection: bulkConnection(database) };
    const file = await writeLines(dir, 'totals.csv', [
      answeredCall('t.1', '056223344', '0470123456', '2024-03-10 10:00:00', 65),
      answeredCall('t.2', '056223344', '0470123999', '2024-03-11 10:00:00', 30),
      answeredCall('t.3', '056223344', '022345678', '2024-03-12 10:00:00', 100),
      // 23:30 UTC on 29 February: the UTC-February partition, the March bill.
      answeredCall('t.4', '056223344', '022345678', '2024-03-01 00:30:00', 10),
      // Not answered: a call, not chargeable.
      asteriskLine({
        src: '056223344',
        dst: '022345678',
        start: '2024-03-12 11:00:00',
        end: '2024-03-12 11:00:20',
        duration: 20,
        billsec: 0,
        disposition: 'NO ANSWER',
        uniqueId: 't.5',
        sequence: 5,
      }),
      // No rate for the United Kingdom: chargeable and unrated.
      answeredCall('t.6', '056998877', '00442071234567', '2024-03-15 09:00:00', 60),
      answeredCall('t.7', '056998877', '0031201234567', '2024-04-02 09:00:00', 42),
    ]);
    const first = await importCdrFile(deps, { tenantId: tenant.tenantId, file, batchSize: 3 });
    expect(first).toMatchObject({ imported: 7, duplicates: 0 });
    const afterImport = await expectExact(tenant.tenantId);
    // A: two mobile calls under one head and three fixed ones; B: the UK in March, the Netherlands in April.
    expect(afterImport).toHaveLength(4);
    expect(afterImport.some((row) => row.startsWith(`${b}|2024-03-01|+4420712|1|1|60|0|1|0|0|0|1`))).toBe(
      true,
    );

    // The same file again: every line a duplicate, nothing counted twice.
    const again = await importCdrFile(deps, { tenantId: tenant.tenantId, file });
    expect(again).toMatchObject({ imported: 0, duplicates: 7 });
    expect(await expectExact(tenant.tenantId)).toEqual(afterImport);

    // A late call of March arrives in May.
    const late = await writeLines(dir, 'totals-late.csv', [
      answeredCall('t.8', '056223344', '0470123456', '2024-03-28 18:00:00', 12),
    ]);
    expect(await importCdrFile(deps, { tenantId: tenant.tenantId, file: late })).toMatchObject({
      imported: 1,
    });
    await expectExact(tenant.tenantId);

    // A new tariff rates the British call and changes the mobile price: the rerate's updates.
    await importTariff(
      kernel,
      tenant.tenantId,
      `${TARIFF_CSV.replace('3247,0.12,', '3247,0.24,')}\n44,0.30,1,1,0,2020-01-01,`,
    );
    const rerated = await rerateCalls(kernel, tenant.tenantId, {
      from: brussels('2024-03-01'),
      to: brussels('2024-05-01'),
    });
    expect(rerated.changed).toBeGreaterThan(0);
    const afterRerate = await expectExact(tenant.tenantId);
    expect(afterRerate.some((row) => row.startsWith(`${b}|2024-03-01|+4420712|1|1|60|`))).toBe(true);
    expect(afterRerate.every((row) => !row.endsWith('|1'))).toBe(true);

    // Retention: February and March are past their contest period in 2025; the UTC-February
    // partition (with the first hour of March) is dropped whole, March's rows deleted.
    clock.set(new Date('2025-06-15T12:00:00Z'));
    const billed = (month: string): [string, CallMonthBilling] => [
      month,
      { lastDueDate: '2024-05-20', disputed: false, unbilledCalls: 0 },
    ];
    const purged = await purgeExpiredCallRecords(kernel, tenant.tenantId, {
      billing: new Map([billed('2024-02'), billed('2024-03')]),
    });
    expect(purged.droppedPartitions).toEqual([`call_records_t${tenant.tenantId}_2024_02`]);
    expect(purged.deletedRows).toBeGreaterThan(0);
    const afterPurge = await expectExact(tenant.tenantId);
    expect(afterPurge.every((row) => !row.includes('|2024-03-01|'))).toBe(true);
    expect(afterPurge.some((row) => row.startsWith(`${b}|2024-04-01|`))).toBe(true);

    // Erasure of B: B's calls and totals go in the same transaction.
    await eraseSubject(kernel, DATA_MAP, {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' },
      purpose: 'rights_requests',
      subjectId: b,
    });
    const afterErasure = await expectExact(tenant.tenantId);
    expect(afterErasure.filter((row) => row.startsWith(`${b}|`))).toEqual([]);
  });

  it('are read by the application only: it can neither write nor change them', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const [a] = (await registerCustomers(kernel, tenant, 1)) as [number];
    await expect(
      kernel.plain(tenant.tenantId, (tx) =>
        sql`insert into call_record_month_totals (tenant_id, subject_id, month, head, ${sql.raw(COLUMNS)})
            values (${tenant.tenantId}, ${a}, date '2024-03-01', '+32', 1, 1, 1, 1, 0, 1, 1, 1, 0)`.execute(
          tx,
        ),
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it('migration 0502 fills the totals of the calls stored before them, tenant by tenant, as 0500 did', async () => {
    clock.set(new Date('2024-06-01T00:00:00Z'));
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const [a] = (await registerCustomers(kernel, tenant, 1)) as [number];
    await assignNumber(
      kernel,
      { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose: TELEPHONY_SERVICE },
      { number: '056 22 33 44', subjectId: a, from: brussels('2024-01-01') },
    );
    await importTariff(kernel, tenant.tenantId, TARIFF_CSV);
    const file = await writeLines(dir, 'totals-0502.csv', [
      answeredCall('m.1', '056223344', '0470123456', '2024-04-10 10:00:00', 65),
      answeredCall('m.2', '056223344', '022345678', '2024-05-01 00:30:00', 30),
    ]);
    await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: tenant.tenantId, file },
    );
    const kept = await expectExact(tenant.tenantId);
    expect(kept).toHaveLength(2);
    // As if the calls had been stored before the totals existed.
    await runAsOwner(database.ownerUrl, 'delete from call_record_month_totals where tenant_id = $1', [
      tenant.tenantId,
    ]);
    expect((await totalsAndRecount(tenant.tenantId)).kept).toEqual([]);
    await runAsOwner(
      database.ownerUrl,
      await readFile(path.join(ROOT, 'migrations', '0502_call_record_month_totals_per_tenant.sql'), 'utf8'),
    );
    expect(await expectExact(tenant.tenantId)).toEqual(kept);
  });
});
