import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';
import type { CallDirectionColumn, CallDispositionColumn } from './telephony.tables.js';

export interface StoredCallRecord {
  subjectId: number;
  startedAt: Date;
  dedupKey: string;
  callerE164: string;
  destination: string;
  answeredAt: Date | null;
  endedAt: Date;
  durationSeconds: number;
  billableSeconds: number;
  disposition: CallDispositionColumn;
  isBillableLeg: boolean;
  linkedId: string | null;
  costMicros: number | null;
  /** outbound and forwarded legs are chargeable; inbound and internal calls are not (decision 0230). */
  direction: CallDirectionColumn;
}

export interface CallRecordKey {
  startedAt: Date;
  dedupKey: string;
  subjectId: number;
}

function assertReadable(grant: Grant): void {
  for (const subjectId of grant.subjectIds) grant.assertCovers(TELEPHONY_CATEGORIES.callRecord, subjectId);
}

/** Subject ids with calls in [from, to): what a read of that period must be authorised for. */
export async function selectCallerSubjectIds(
  tx: Tx,
  range: { from: Date; to: Date; subjectId?: number },
): Promise<number[]> {
  let query = tx
    .selectFrom('call_records')
    .select('subject_id')
    .distinct()
    .where('started_at', '>=', range.from)
    .where('started_at', '<', range.to);
  if (range.subjectId !== undefined) query = query.where('subject_id', '=', range.subjectId);
  return (await query.execute()).map((row) => row.subject_id);
}

/** The call records of the grant's subjects in [from, to), oldest first. */
export async function selectCallRecords(
  tx: Tx,
  grant: Grant,
  range: { from: Date; to: Date; limit: number },
): Promise<StoredCallRecord[]> {
  assertReadable(grant);
  const subjectIds = [...grant.subjectIds];
  if (subjectIds.length === 0) return [];
  const rows = await tx
    .selectFrom('call_records')
    .selectAll()
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subjectIds)))
    .where('started_at', '>=', range.from)
    .where('started_at', '<', range.to)
    .orderBy('started_at')
    .orderBy('dedup_key')
    .limit(range.limit)
    .execute();
  return rows.map((row) => ({
    subjectId: row.subject_id,
    startedAt: row.started_at,
    dedupKey: row.dedup_key,
    callerE164: row.caller_e164,
    destination: row.destination,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
    durationSeconds: row.duration_seconds,
    billableSeconds: row.billable_seconds,
    disposition: row.disposition,
    isBillableLeg: row.is_billable_leg,
    linkedId: row.linked_id,
    costMicros: row.cost_micros,
    direction: row.direction,
  }));
}

/** The next page of keys in [from, to) after `after` (keyset order: started_at, dedup_key). */
export interface CallRecordBatch {
  from: Date;
  to: Date;
  after: { startedAt: Date; dedupKey: string } | null;
  limit: number;
}

/** The callers of one batch of call records: the subjects the gate is asked about, nothing else. */
export async function selectCallRecordBatchSubjects(tx: Tx, range: CallRecordBatch): Promise<number[]> {
  let query = tx
    .selectFrom('call_records')
    .select('subject_id')
    .where('started_at', '>=', range.from)
    .where('started_at', '<', range.to);
  const after = range.after;
  if (after !== null) {
    query = query.where(sql<boolean>`(started_at, dedup_key) > (${after.startedAt}, ${after.dedupKey})`);
  }
  const rows = await query.orderBy('started_at').orderBy('dedup_key').limit(range.limit).execute();
  return [...new Set(rows.map((row) => row.subject_id))];
}

/**
 * The keys (start, dedup key, caller) of one batch of call records, through a grant for their
 * callers (the same batch as selectCallRecordBatchSubjects: keep the two queries alike). Rows of a
 * caller the grant leaves out (one the gate refused) are skipped and counted; only their position
 * is read, to move the cursor past them.
 */
export async function selectCallRecordKeys(
  tx: Tx,
  grant: Grant,
  range: CallRecordBatch,
): Promise<{ keys: CallRecordKey[]; skipped: number; last: Omit<CallRecordKey, 'subjectId'> | undefined }> {
  let query = tx
    .selectFrom('call_records')
    .select(['started_at', 'dedup_key', 'subject_id'])
    .where('started_at', '>=', range.from)
    .where('started_at', '<', range.to);
  const after = range.after;
  if (after !== null) {
    query = query.where(sql<boolean>`(started_at, dedup_key) > (${after.startedAt}, ${after.dedupKey})`);
  }
  const rows = await query.orderBy('started_at').orderBy('dedup_key').limit(range.limit).execute();
  const keys: CallRecordKey[] = [];
  for (const row of rows) {
    if (!grant.subjectIds.has(row.subject_id)) continue;
    grant.assertCovers(TELEPHONY_CATEGORIES.callRecord, row.subject_id);
    keys.push({ startedAt: row.started_at, dedupKey: row.dedup_key, subjectId: row.subject_id });
  }
  const lastRow = rows.at(-1);
  return {
    keys,
    skipped: rows.length - keys.length,
    last: lastRow && { startedAt: lastRow.started_at, dedupKey: lastRow.dedup_key },
  };
}

export interface RatingInput {
  startedAt: Date;
  dedupKey: string;
  destination: string;
  billableSeconds: number;
  disposition: CallDispositionColumn;
  isBillableLeg: boolean;
  costMicros: number | null;
}

/** What rating needs of the given records (grant over their subjects). */
export async function selectRatingInputs(
  tx: Tx,
  grant: Grant,
  keys: readonly CallRecordKey[],
): Promise<RatingInput[]> {
  assertReadable(grant);
  if (keys.length === 0) return [];
  const rows = await sql<{
    started_at: Date;
    dedup_key: string;
    destination: string;
    billable_seconds: number;
    disposition: CallDispositionColumn;
    is_billable_leg: boolean;
    cost_micros: number | null;
  }>`
    select c.started_at, c.dedup_key, c.destination, c.billable_seconds, c.disposition, c.is_billable_leg, c.cost_micros
      from call_records c
      join unnest(${keys.map((key) => key.startedAt)}::timestamptz[], ${keys.map((key) => key.dedupKey)}::text[]) as k(started_at, dedup_key)
        on c.started_at = k.started_at and c.dedup_key = k.dedup_key
     where c.subject_id = any(${[...grant.subjectIds]}::bigint[])`.execute(tx);
  return rows.rows.map((row) => ({
    startedAt: row.started_at,
    dedupKey: row.dedup_key,
    destination: row.destination,
    billableSeconds: row.billable_seconds,
    disposition: row.disposition,
    isBillableLeg: row.is_billable_leg,
    costMicros: row.cost_micros,
  }));
}

export async function updateCosts(
  tx: Tx,
  grant: Grant,
  changes: ReadonlyArray<{ startedAt: Date; dedupKey: string; costMicros: number | null }>,
): Promise<number> {
  grant.assertWritable();
  if (changes.length === 0) return 0;
  const result = await sql`
    update call_records c set cost_micros = k.cost
      from unnest(${changes.map((c) => c.startedAt)}::timestamptz[], ${changes.map((c) => c.dedupKey)}::text[],
                  ${changes.map((c) => (c.costMicros === null ? null : String(c.costMicros)))}::bigint[]) as k(started_at, dedup_key, cost)
     where c.started_at = k.started_at and c.dedup_key = k.dedup_key
       and c.subject_id = any(${[...grant.subjectIds]}::bigint[])`.execute(tx);
  return Number(result.numAffectedRows ?? 0n);
}

export interface PartitionRow {
  /** 'YYYY-MM' of the UTC month the partition holds. */
  month: string;
  name: string;
}

export async function selectPartitions(tx: Tx): Promise<PartitionRow[]> {
  const rows = await tx
    .selectFrom('call_record_partitions')
    .select([sql<string>`to_char(month, 'YYYY-MM')`.as('month'), 'partition_name'])
    .orderBy('month')
    .execute();
  return rows.map((row) => ({ month: row.month, name: row.partition_name }));
}

/**
 * Drops a whole month of the transaction's tenant under an erase grant (schema-owner function):
 * the month is locked, and dropped only when every row of it belongs to a subject the grant
 * names (else nothing changes and the call fails). Returns the rows it held.
 */
export async function dropPartition(tx: Tx, grant: Grant, month: string): Promise<number> {
  if (grant.action !== 'erase' || !grant.categories.has(TELEPHONY_CATEGORIES.callRecord)) {
    throw new AppError('forbidden', `a ${grant.action} grant cannot drop call records`);
  }
  const subjects = [...grant.subjectIds];
  const result = await sql<{
    rows: number;
  }>`select kluis_drop_granted_call_record_partition(${`${month}-01`}::date, ${subjects}::bigint[]) as rows`.execute(
    tx,
  );
  return Number(result.rows[0]?.rows ?? 0);
}

/** The callers with call records before the cutoff: the subjects the purge asks the gate about. */
export async function selectSubjectsWithCallsBefore(tx: Tx, cutoff: Date): Promise<number[]> {
  const rows = await tx
    .selectFrom('call_records')
    .select('subject_id')
    .distinct()
    .where('started_at', '<', cutoff)
    .execute();
  return rows.map((row) => row.subject_id);
}

/** The retention purge of the rows of a month that expired in part, under a grant for their callers. */
export async function deleteCallRecordsBefore(
  tx: Tx,
  grant: Grant,
  cutoff: Date,
  from?: Date,
): Promise<number> {
  grant.assertWritable();
  if (!grant.categories.has(TELEPHONY_CATEGORIES.callRecord))
    throw new AppError('category_not_allowed', 'the grant does not cover call records');
  let query = tx.deleteFrom('call_records').where('started_at', '<', cutoff);
  // Only the cutoff month's older rows: earlier months are dropped whole or kept on purpose.
  if (from !== undefined) query = query.where('started_at', '>=', from);
  const result = await query
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...grant.subjectIds])))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Chargeable calls with no cost: billed seconds, a billable leg, no rate found. */
const isUnrated = sql<boolean>`is_billable_leg and billable_seconds > 0 and cost_micros is null`;

/** Customers with unrated calls in [from, to): what a read of them must be authorised for. */
export async function selectUnratedSubjectIds(tx: Tx, range: { from: Date; to: Date }): Promise<number[]> {
  const rows = await tx
    .selectFrom('call_records')
    .select('subject_id')
    .distinct()
    .where('started_at', '>=', range.from)
    .where('started_at', '<', range.to)
    .where(isUnrated)
    .execute();
  return rows.map((row) => row.subject_id);
}

/** How many unrated calls of the grant's subjects [from, to) holds. */
export async function countUnrated(tx: Tx, grant: Grant, range: { from: Date; to: Date }): Promise<number> {
  assertReadable(grant);
  const subjectIds = [...grant.subjectIds];
  if (subjectIds.length === 0) return 0;
  const row = await tx
    .selectFrom('call_records')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subjectIds)))
    .where('started_at', '>=', range.from)
    .where('started_at', '<', range.to)
    .where(isUnrated)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** A page of the unrated calls of the grant's subjects in [from, to), in keyset order after `after`. */
export async function selectUnratedCalls(
  tx: Tx,
  grant: Grant,
  range: { from: Date; to: Date; limit: number; after?: { startedAt: Date; dedupKey: string } },
): Promise<StoredCallRecord[]> {
  assertReadable(grant);
  const subjectIds = [...grant.subjectIds];
  if (subjectIds.length === 0) return [];
  let query = tx
    .selectFrom('call_records')
    .selectAll()
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subjectIds)))
    .where('started_at', '>=', range.from)
    .where('started_at', '<', range.to)
    .where(isUnrated);
  const after = range.after;
  if (after)
    query = query.where((eb) =>
      eb(eb.refTuple('started_at', 'dedup_key'), '>', eb.tuple(after.startedAt, after.dedupKey)),
    );
  const rows = await query.orderBy('started_at').orderBy('dedup_key').limit(range.limit).execute();
  return rows.map((row) => ({
    subjectId: row.subject_id,
    startedAt: row.started_at,
    dedupKey: row.dedup_key,
    callerE164: row.caller_e164,
    destination: row.destination,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
    durationSeconds: row.duration_seconds,
    billableSeconds: row.billable_seconds,
    disposition: row.disposition,
    isBillableLeg: row.is_billable_leg,
    linkedId: row.linked_id,
    costMicros: row.cost_micros,
    direction: row.direction,
  }));
}
