import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { WRITTEN_CHANNELS, type TerminationChannel } from './contracts.tables.js';
import { CONTRACT_CATEGORIES } from './datamap.js';

export interface Termination {
  terminatedOn: string;
  channel: TerminationChannel;
  reasonCode: string;
  recordedAt: Date;
  recordedByStaffId: number | null;
}

export interface ContractRow {
  contractId: number;
  subjectId: number | null;
  organisationId: number | null;
  orderId: number | null;
  startDate: string;
  endDate: string | null;
  termination: Termination | null;
  createdByStaffId: number | null;
  createdAt: Date;
}

const columns = [
  'contract_id',
  'subject_id',
  'organisation_id',
  'order_id',
  sql<string>`start_date::text`.as('start_date'),
  sql<string | null>`end_date::text`.as('end_date'),
  sql<string | null>`terminated_on::text`.as('terminated_on'),
  'termination_channel',
  'termination_reason',
  'termination_recorded_at',
  'terminated_by_staff_id',
  'created_by_staff_id',
  'created_at',
] as const;

function toRow(row: {
  contract_id: number;
  subject_id: number | null;
  organisation_id: number | null;
  order_id: number | null;
  start_date: string;
  end_date: string | null;
  terminated_on: string | null;
  termination_channel: TerminationChannel | null;
  termination_reason: string | null;
  termination_recorded_at: Date | null;
  terminated_by_staff_id: number | null;
  created_by_staff_id: number | null;
  created_at: Date;
}): ContractRow {
  return {
    contractId: row.contract_id,
    subjectId: row.subject_id,
    organisationId: row.organisation_id,
    orderId: row.order_id,
    startDate: row.start_date,
    endDate: row.end_date,
    termination:
      row.terminated_on !== null &&
      row.termination_channel !== null &&
      row.termination_reason !== null &&
      row.termination_recorded_at !== null
        ? {
            terminatedOn: row.terminated_on,
            channel: row.termination_channel,
            reasonCode: row.termination_reason,
            recordedAt: row.termination_recorded_at,
            recordedByStaffId: row.terminated_by_staff_id,
          }
        : null,
    createdByStaffId: row.created_by_staff_id,
    createdAt: row.created_at,
  };
}

export interface NewContractRow {
  subjectId: number;
  organisationId: number | null;
  orderId: number | null;
  startDate: string;
  endDate: string | null;
  createdByStaffId: number | null;
  at: Date;
}

export async function insertContract(tx: Tx, grant: Grant, row: NewContractRow): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(CONTRACT_CATEGORIES.product, row.subjectId);
  const inserted = await tx
    .insertInto('contracts')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      organisation_id: row.organisationId,
      order_id: row.orderId,
      start_date: row.startDate,
      end_date: row.endDate,
      created_by_staff_id: row.createdByStaffId,
      created_at: row.at,
    })
    .returning('contract_id')
    .executeTakeFirstOrThrow();
  return inserted.contract_id;
}

export async function selectContract(
  tx: Tx,
  contractId: number,
  forUpdate = false,
): Promise<ContractRow | undefined> {
  let query = tx.selectFrom('contracts').select(columns).where('contract_id', '=', contractId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && toRow(row);
}

export async function selectContractPage(
  tx: Tx,
  options: { afterId: number; limit: number; subjectId?: number },
): Promise<ContractRow[]> {
  let query = tx
    .selectFrom('contracts')
    .select(columns)
    .where('contract_id', '>', options.afterId)
    .orderBy('contract_id')
    .limit(options.limit);
  if (options.subjectId !== undefined) query = query.where('subject_id', '=', options.subjectId);
  return (await query.execute()).map(toRow);
}

/** Every contract period of a subject, for the derived customer status. */
export async function selectContractPeriods(
  tx: Tx,
  grant: Grant,
  subjectId: number,
): Promise<Array<{ startDate: string; endDate: string | null }>> {
  grant.assertCovers(CONTRACT_CATEGORIES.product, subjectId);
  const rows = await tx
    .selectFrom('contracts')
    .select([
      sql<string>`start_date::text`.as('start_date'),
      sql<string | null>`end_date::text`.as('end_date'),
    ])
    .where('subject_id', '=', subjectId)
    .execute();
  return rows.map((row) => ({ startDate: row.start_date, endDate: row.end_date }));
}

/**
 * Locks every contract of a customer, in contract order. A termination takes these locks before it
 * counts the customer's other open contracts: two terminations at once would otherwise each count
 * the other contract as open, and neither would end the relation (attack S16-2, decision 0815).
 */
export async function lockCustomerContracts(tx: Tx, subjectId: number): Promise<void> {
  await tx
    .selectFrom('contracts')
    .select('contract_id')
    .where('subject_id', '=', subjectId)
    .orderBy('contract_id')
    .forUpdate()
    .execute();
}

/**
 * Where the customer relation stands, besides one contract: how many other contracts still run
 * (or are yet to start) without a termination, and whether any termination came in writing.
 */
export async function selectRelationState(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  exceptContractId: number,
  today: string,
): Promise<{ otherOpenContracts: number; writtenNoticeOnRecord: boolean; othersLastDay: string | null }> {
  grant.assertCovers(CONTRACT_CATEGORIES.product, subjectId);
  const row = await tx
    .selectFrom('contracts')
    .select([
      sql<number>`count(*) filter (where contract_id <> ${exceptContractId} and terminated_on is null and (end_date is null or end_date >= ${today}::date))::int`.as(
        'open',
      ),
      sql<boolean>`coalesce(bool_or(termination_channel in (${sql.join([...WRITTEN_CHANNELS])})), false)`.as(
        'written',
      ),
      sql<
        string | null
      >`to_char(max(end_date) filter (where contract_id <> ${exceptContractId}), 'YYYY-MM-DD')`.as(
        'others_last_day',
      ),
    ])
    .where('subject_id', '=', subjectId)
    .executeTakeFirstOrThrow();
  return {
    otherOpenContracts: row.open,
    writtenNoticeOnRecord: row.written,
    othersLastDay: row.others_last_day,
  };
}

export interface TerminationRow {
  terminatedOn: string;
  channel: TerminationChannel;
  reasonCode: string;
  recordedByStaffId: number | null;
  at: Date;
}

/** Records the termination; the contract's end date becomes the day it takes effect. */
export async function updateTermination(
  tx: Tx,
  grant: Grant,
  contract: { contractId: number; subjectId: number },
  termination: TerminationRow,
): Promise<void> {
  grant.assertWritable();
  grant.assertCovers(CONTRACT_CATEGORIES.product, contract.subjectId);
  await tx
    .updateTable('contracts')
    .set({
      end_date: termination.terminatedOn,
      terminated_on: termination.terminatedOn,
      termination_channel: termination.channel,
      termination_reason: termination.reasonCode,
      termination_recorded_at: termination.at,
      terminated_by_staff_id: termination.recordedByStaffId,
    })
    .where('contract_id', '=', contract.contractId)
    .execute();
}

/** The subject's type (kernel bookkeeping, not personal data); undefined when there is none. */
export async function selectSubjectType(tx: Tx, subjectId: number): Promise<string | undefined> {
  const row = await tx
    .selectFrom('data_subjects')
    .select('subject_type')
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return row?.subject_type;
}

/** A contract's customer (null once the contract belongs to no one); undefined when there is none. */
export async function selectContractHolder(
  tx: Tx,
  contractId: number,
): Promise<{ subjectId: number | null } | undefined> {
  const row = await tx
    .selectFrom('contracts')
    .select('subject_id')
    .where('contract_id', '=', contractId)
    .executeTakeFirst();
  return row && { subjectId: row.subject_id === null ? null : Number(row.subject_id) };
}

/** A product on a customer's contract with the contract's days (YYYY-MM-DD, end inclusive or open). */
export interface ContractProductDays {
  productId: number;
  startDate: string;
  endDate: string | null;
}

/** The products on the customers' contracts with the contracts' days (kluis.contract.product). */
export async function selectContractProductDays(
  tx: Tx,
  grant: Grant,
  subjectIds: readonly number[],
): Promise<Map<number, ContractProductDays[]>> {
  const products = new Map<number, ContractProductDays[]>();
  if (subjectIds.length === 0) return products;
  for (const id of subjectIds) grant.assertCovers(CONTRACT_CATEGORIES.product, id);
  const result = await sql<{
    subject_id: number;
    product_id: number;
    start_date: string;
    end_date: string | null;
  }>`
    select c.subject_id, l.product_id, c.start_date::text as start_date, c.end_date::text as end_date
      from contracts c join contract_lines l on l.tenant_id = c.tenant_id and l.contract_id = c.contract_id
     where c.subject_id = any(${[...subjectIds]}::bigint[])`.execute(tx);
  for (const row of result.rows) {
    const list = products.get(Number(row.subject_id)) ?? [];
    list.push({ productId: Number(row.product_id), startDate: row.start_date, endDate: row.end_date });
    products.set(Number(row.subject_id), list);
  }
  return products;
}

/**
 * Holders whose customer relation ran out on `day`: a contract of theirs ended that day on its
 * agreed end date (no termination; a termination emits its own event) and none of their contracts
 * runs or starts after it (decision 1032). Subject ids only.
 */
export async function selectRelationsRunOutOn(
  tx: Tx,
  day: string,
): Promise<Array<{ subjectId: number; lastDay: string }>> {
  // A contract ended on `day` by its agreed end date, and no contract of the holder is open-ended
  // or still to end by its own agreed date after it: a later contract already terminated only
  // moves the relation's last day (its own termination found another contract open, decision 1032).
  const rows = await tx
    .selectFrom('contracts as ended')
    .select([
      'ended.subject_id',
      sql<string>`(select to_char(max(every.end_date), 'YYYY-MM-DD') from contracts every
        where every.tenant_id = ended.tenant_id and every.subject_id = ended.subject_id)`.as('last_day'),
    ])
    .distinct()
    .where('ended.subject_id', 'is not', null)
    .where('ended.end_date', '=', sql<string>`${day}::date`)
    .where('ended.terminated_on', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('contracts as later')
            .select('later.contract_id')
            .whereRef('later.subject_id', '=', 'ended.subject_id')
            .where((inner) =>
              inner.or([
                inner('later.end_date', 'is', null),
                inner.and([
                  inner('later.terminated_on', 'is', null),
                  inner('later.end_date', '>', sql<string>`${day}::date`),
                ]),
              ]),
            ),
        ),
      ),
    )
    .orderBy('ended.subject_id')
    .execute();
  return rows.flatMap((row) =>
    row.subject_id === null ? [] : [{ subjectId: Number(row.subject_id), lastDay: row.last_day }],
  );
}

/** A holder's customer relation in days: how many contracts, and the last day when every one has an end. */
export interface RelationSpan {
  contracts: number;
  /** The latest end date (YYYY-MM-DD); null when a contract is open-ended or there is none. */
  lastDay: string | null;
}

/**
 * The holder's relation span for a number period given to them (decision 1160). Locks the holder's
 * contracts for share, so a termination recorded meanwhile waits for the period (and its handler
 * then finds it) or is seen by it. Days only; nothing is read of the holder.
 */
export async function selectRelationSpan(tx: Tx, subjectId: number): Promise<RelationSpan> {
  const rows = await tx
    .selectFrom('contracts')
    .select(sql<string | null>`to_char(end_date, 'YYYY-MM-DD')`.as('end_day'))
    .where('subject_id', '=', subjectId)
    .forShare()
    .execute();
  let lastDay: string | null = null;
  for (const { end_day: end } of rows) {
    if (end === null) return { contracts: rows.length, lastDay: null };
    if (lastDay === null || end > lastDay) lastDay = end;
  }
  return { contracts: rows.length, lastDay };
}

/**
 * Of the given holders, those whose customer relation has ended before `today`: they had
 * contracts and none is open-ended or ends on or after `today` (none runs or starts later), with
 * the relation's last day (decision 1160, the daily job's safety net). Ids and days only.
 */
export async function selectEndedRelationsAmong(
  tx: Tx,
  subjectIds: readonly number[],
  today: string,
): Promise<Array<{ subjectId: number; lastDay: string }>> {
  if (subjectIds.length === 0) return [];
  const rows = await tx
    .selectFrom('contracts')
    .select(['subject_id', sql<string>`to_char(max(end_date), 'YYYY-MM-DD')`.as('last_day')])
    .where(sql<boolean>`subject_id = any(${[...subjectIds]}::bigint[])`)
    .groupBy('subject_id')
    .having(sql<boolean>`bool_and(end_date is not null) and max(end_date) < ${today}::date`)
    .orderBy('subject_id')
    .execute();
  return rows.flatMap((row) =>
    row.subject_id === null ? [] : [{ subjectId: Number(row.subject_id), lastDay: row.last_day }],
  );
}
