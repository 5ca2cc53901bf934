import type { AuditedTx } from '../../kernel/audit/index.js';
import { authorizeBatch } from '../../kernel/gate/access.js';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { retentionRulesFor } from '../../kernel/policy/policy.query.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { selectBilledSubjectsOfMonth } from '../billing/index.js';
import type { UseCaseContext } from '../parties/index.js';
import { selectMonthsWithCalls, selectSubjectsWithCallsIn } from './call-record-retention.repository.js';
import {
  deleteCallRecordsBefore,
  dropPartition,
  selectCallerSubjectIds,
  selectCallRecordBatchSubjects,
  selectCallRecordKeys,
  selectCallRecords,
  selectPartitions,
  selectRatingInputs,
  updateCosts,
  type StoredCallRecord,
} from './call-record.repository.js';
import { CALL_BILLING_PURPOSE } from './cdr-import.service.js';
import { TELEPHONY_CATEGORIES, telephonyDataMap } from './datamap.js';
import { resolveWallClock } from './local-time.js';
import { BILLING_TIME_ZONE } from './date-input.js';
import { addMonths, belgianDay } from '../../platform/calendar.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { rateCall, selectBillableSeconds } from './rating.js';
import { loadRatingTable } from './tariff.service.js';

export type { StoredCallRecord };

export { BILLING_TIME_ZONE };

/**
 * Characters of a destination the per-customer monthly call totals keep (`call_record_month_totals`,
 * migration 0500, decision 0500): '+' and a 7-digit prefix. Their months are BILLING_TIME_ZONE's.
 */
export const CALL_TOTALS_HEAD_LENGTH = 8;

export interface FindCallRecordsQuery {
  from: Date;
  to: Date;
  subjectId?: number;
  limit?: number;
}

/**
 * Call records in [from, to), of one customer or of all: kluis.telephony.call_record of every
 * caller listed, read under the context's purpose. Only call_billing covers call records, and
 * only its roles (billing) may use it; anything else is refused by the gate and audited.
 */
export async function findCallRecords(
  kernel: Kernel,
  context: UseCaseContext,
  query: FindCallRecordsQuery,
): Promise<StoredCallRecord[]> {
  return kernel.transact(context.tenantId, (atx) =>
    // One customer named: the gate is asked about that customer even without calls in the range,
    // so an id the tenant does not hold is not_found rather than an empty list (decision 0877).
    query.subjectId === undefined
      ? findCallRecordsIn(kernel, atx, context, query)
      : readCallRecordsOf(kernel, atx, context, query, [query.subjectId]),
  );
}

/**
 * `findCallRecords` inside the caller's transaction (an authority disclosure): a use case that
 * holds a transaction never opens a second one beside it (decision 0583).
 */
export async function findCallRecordsIn(
  kernel: Kernel,
  atx: AuditedTx,
  context: UseCaseContext,
  query: FindCallRecordsQuery,
): Promise<StoredCallRecord[]> {
  return readCallRecordsOf(kernel, atx, context, query, await selectCallerSubjectIds(atx.tx, query));
}

async function readCallRecordsOf(
  kernel: Kernel,
  atx: AuditedTx,
  context: UseCaseContext,
  query: FindCallRecordsQuery,
  subjectIds: number[],
): Promise<StoredCallRecord[]> {
  const grant = await kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action: 'read',
    categories: [TELEPHONY_CATEGORIES.callRecord],
    subjectIds,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  });
  return selectCallRecords(atx.tx, grant, { from: query.from, to: query.to, limit: query.limit ?? 10_000 });
}

export interface RerateResult {
  /** Calls rated again. */
  calls: number;
  changed: number;
  unrated: number;
  /**
   * Calls left alone because their customer is already invoiced for the call's billing month: a
   * billed price changes by a credit note and a new invoice, not by re-rating (decision 0540).
   */
  keptInvoiced: number;
  /** The customers (subject ids) those calls belong to, ascending. */
  keptInvoicedCustomers: number[];
  /** The billing months (YYYY-MM) in which calls were left alone, ascending. */
  keptInvoicedMonths: string[];
  /**
   * Calls left alone because the gate refused their customer under call billing: restricted
   * (Art. 18) or a minor without a parent's consent (VK-15). Re-pricing is processing; each
   * refusal is on the audit trail, and the calls keep their price until a re-rate after the
   * refusal ends (decision 0903).
   */
  keptRefused: number;
  /** Those customers (subject ids), ascending. */
  keptRefusedCustomers: number[];
  /** Why, as the gate's codes (`subject_restricted`, `consent_missing`, …), ascending. */
  keptRefusedReasons: string[];
}

/** The billing months (YYYY-MM, Belgian calendar) that [from, to) touches. */
function billingMonthsOf(from: Date, to: Date): string[] {
  if (to.getTime() <= from.getTime()) return [];
  const last = belgianDay(new Date(to.getTime() - 1)).slice(0, 7);
  const months: string[] = [];
  for (let month = belgianDay(from).slice(0, 7); month <= last;) {
    months.push(month);
    month = addMonths(`${month}-01`, 1).slice(0, 7);
  }
  return months;
}

export const CDR_RERATE_ACTOR: Actor = { kind: 'system', job: 'cdr-rerate' };

/**
 * Rates every call in [from, to) again with the tariff now in force (after a tariff correction).
 * Calls of a customer already invoiced for the call's billing month are left alone and counted
 * (decision 0540): the invoice's late-call lines bill stored cost minus billed cost, so a changed
 * cost there would land on the customer's next late call.
 * Writes kluis.telephony.call_record (the cost) under call_billing, one gate decision per batch;
 * a customer the gate refuses is left out with their calls, counted (decision 0903).
 */
export async function rerateCalls(
  kernel: Kernel,
  tenantId: number,
  options: { from: Date; to: Date; actor?: Actor; batchSize?: number },
): Promise<RerateResult> {
  const actor = options.actor ?? CDR_RERATE_ACTOR;
  const limit = options.batchSize ?? 5_000;
  const months = billingMonthsOf(options.from, options.to);
  const { table, invoiced } = await kernel.transact(tenantId, async (atx) => ({
    table: await loadRatingTable(atx.tx),
    // Customers already invoiced per billing month: their calls keep the cost that was billed.
    invoiced: new Map(
      await Promise.all(
        months.map(
          async (month) => [month, await selectBilledSubjectsOfMonth(atx.tx, `${month}-01`)] as const,
        ),
      ),
    ),
  }));
  const result: RerateResult = {
    calls: 0,
    changed: 0,
    unrated: 0,
    keptInvoiced: 0,
    keptInvoicedCustomers: [],
    keptInvoicedMonths: [],
    keptRefused: 0,
    keptRefusedCustomers: [],
    keptRefusedReasons: [],
  };
  const refusedCustomers = new Set<number>();
  const refusedReasons = new Set<string>();
  const keptCustomers = new Set<number>();
  const keptMonths = new Set<string>();
  type Cursor = { startedAt: Date; dedupKey: string } | null;
  let after: Cursor = null;
  for (;;) {
    const cursor: Cursor = after;
    const last: Cursor = await kernel.transact(tenantId, async (atx) => {
      const batch = { from: options.from, to: options.to, after: cursor, limit };
      // The gate decides on the batch's callers before any call record is read.
      const callers = await selectCallRecordBatchSubjects(atx.tx, batch);
      if (callers.length === 0) return null;
      // A caller refused for their own state (restricted, a minor without consent) is left out
      // and audited on their own; everyone else's calls are re-rated (decision 0903).
      const { grant, denials } = await authorizeBatch(
        kernel,
        atx,
        { tenantId, actor, purpose: CALL_BILLING_PURPOSE },
        'write',
        [TELEPHONY_CATEGORIES.callRecord],
        callers,
      );
      for (const [subjectId, denial] of denials) {
        refusedCustomers.add(subjectId);
        refusedReasons.add(denial.code);
      }
      const { keys, skipped, last: lastKey } = await selectCallRecordKeys(atx.tx, grant, batch);
      if (lastKey === undefined) return null;
      result.keptRefused += skipped;
      const open = keys.filter((key) => {
        const month = belgianDay(key.startedAt).slice(0, 7);
        if (invoiced.get(month)?.has(key.subjectId) !== true) return true;
        keptCustomers.add(key.subjectId);
        keptMonths.add(month);
        return false;
      });
      result.keptInvoiced += keys.length - open.length;
      const changes: Array<{ startedAt: Date; dedupKey: string; costMicros: number | null }> = [];
      for (const call of await selectRatingInputs(atx.tx, grant, open)) {
        const seconds = selectBillableSeconds(call);
        let cost: number | null = 0;
        if (seconds > 0) {
          const rated = rateCall(table, call.destination, seconds, call.startedAt);
          cost = rated === 'no_rate' ? null : rated;
        }
        if (cost === null) result.unrated += 1;
        if (cost !== call.costMicros)
          changes.push({ startedAt: call.startedAt, dedupKey: call.dedupKey, costMicros: cost });
      }
      result.calls += open.length;
      result.changed += await updateCosts(atx.tx, grant, changes);
      return { startedAt: lastKey.startedAt, dedupKey: lastKey.dedupKey };
    });
    if (last === null) {
      result.keptInvoicedCustomers = [...keptCustomers].sort((a, b) => a - b);
      result.keptInvoicedMonths = [...keptMonths].sort();
      result.keptRefusedCustomers = [...refusedCustomers].sort((a, b) => a - b);
      result.keptRefusedReasons = [...refusedReasons].sort();
      return result;
    }
    after = last;
  }
}

/** What billing knows of a month's calls (billing's readCallMonthBilling gives it). */
export interface CallMonthBilling {
  /** The latest due date (YYYY-MM-DD) of the invoices that billed the month's calls. */
  lastDueDate: string;
  disputed: boolean;
  /** Chargeable calls of the month not billed yet (late calls). */
  unbilledCalls: number;
}

/** Why a month's call records stay, or that they go. */
export type CallMonthVerdict =
  | { month: string; purge: true; contestableUntil: string }
  | {
      month: string;
      purge: false;
      reason: 'not_invoiced' | 'late_calls_unbilled' | 'disputed' | 'held_for_rights_request';
    }
  | { month: string; purge: false; reason: 'contestable'; contestableUntil: string };

/**
 * The months of the policy's contest period: the `until_bill_uncontestable` rule of the purpose
 * that keeps call records. The statement's retention sentence prints the same rule.
 */
export function contestMonthsOf(policy: Policy): number {
  const months = Math.max(
    0,
    ...retentionRulesFor(policy, TELEPHONY_CATEGORIES.callRecord).map((ref) =>
      ref.rule.kind === 'until_bill_uncontestable' ? ref.rule.months : 0,
    ),
  );
  if (months === 0) {
    throw new AppError('invalid_policy', 'no until_bill_uncontestable rule for call records', {
      publicMessage: 'the policy has no until_bill_uncontestable retention rule for call records',
    });
  }
  return months;
}

/**
 * G-1, one billing month: its call records go only once every invoice that billed them can no
 * longer be contested (the last due date + the contest period has passed), none of those
 * invoices is disputed, and none of its calls still waits to be billed. A month never invoiced
 * stays whatever its age.
 */
export function judgeCallMonth(
  month: string,
  billing: CallMonthBilling | undefined,
  contestMonths: number,
  today: string,
): CallMonthVerdict {
  if (billing === undefined) return { month, purge: false, reason: 'not_invoiced' };
  if (billing.disputed) return { month, purge: false, reason: 'disputed' };
  if (billing.unbilledCalls > 0) return { month, purge: false, reason: 'late_calls_unbilled' };
  const contestableUntil = addMonths(billing.lastDueDate, contestMonths);
  return today > contestableUntil
    ? { month, purge: true, contestableUntil }
    : { month, purge: false, reason: 'contestable', contestableUntil };
}

/**
 * A month that would go stays whole while a caller with records in it waits for their data
 * (VK-14, decision 0970): the month purge cannot spare one person's rows of a partition it drops,
 * and the hold ends within the request's due date or its link's seven days.
 */
async function holdMonthsOfRequesters(
  tx: Tx,
  verdicts: Map<string, CallMonthVerdict>,
  heldCallers: readonly number[],
  timeZone: string,
): Promise<void> {
  const going = [...verdicts.values()].filter((verdict) => verdict.purge).map((verdict) => verdict.month);
  const held = await selectMonthsWithCalls(
    tx,
    going.map((month) => ({
      month,
      from: new Date(monthStart(month, timeZone)),
      to: new Date(monthStart(shiftMonth(month, 1), timeZone)),
    })),
    heldCallers,
  );
  for (const month of held) verdicts.set(month, { month, purge: false, reason: 'held_for_rights_request' });
}

export interface PurgeResult {
  /** The policy's contest period in months. */
  contestMonths: number;
  /** Billing months whose call records were removed. */
  purgedMonths: string[];
  droppedPartitions: string[];
  deletedRows: number;
  droppedRows: number;
  /** Months with call records that stay, and why. */
  kept: Array<Extract<CallMonthVerdict, { purge: false }>>;
  /**
   * Callers whose processing is restricted (Art. 18, decision 1200) with records in the months
   * that went: their records stay, the others' of those months went.
   */
  sparedCallers: number;
}

export const CDR_RETENTION_ACTOR = { kind: 'system', id: 'cdr-retention' } as const;
const CDR_RETENTION: Actor = { kind: 'system', job: 'cdr-retention' };

/** The categories the data map gives call_records: what a purge erases. */
const CALL_RECORD_CATEGORIES = [
  ...new Set(
    telephonyDataMap
      .filter((map) => map.table === 'call_records')
      .flatMap((map) => Object.values(map.personal).map((column) => column.category)),
  ),
];

/** 'YYYY-MM' + n months. */
function shiftMonth(month: string, n: number): string {
  const [year, number] = month.split('-').map(Number) as [number, number];
  const index = year * 12 + (number - 1) + n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The instant a billing month starts in the zone. */
function monthStart(month: string, timeZone: string): number {
  const [year, number] = month.split('-').map(Number) as [number, number];
  const [first] = resolveWallClock({ year, month: number, day: 1, hour: 0, minute: 0, second: 0 }, timeZone);
  if (first === undefined) throw new Error('no month start');
  return first;
}

/**
 * G-1: call records are kept until the invoice that billed them can no longer be contested.
 * Per billing month (a calendar month in the provider's zone) `judgeCallMonth` decides, from
 * what billing says of the month's invoices (`billing`: due dates, disputes, calls not billed
 * yet). A UTC-month partition whose billing months all go is dropped whole; otherwise the rows
 * of the months that go are deleted from it. One gate decision (an erase by the retention job
 * under call_billing over the callers concerned) and one audit entry per purge. The scheduled
 * job `cdr-purge` and `kluis cdr purge` call this.
 */
export async function purgeExpiredCallRecords(
  kernel: Kernel,
  tenantId: number,
  options: {
    billing: ReadonlyMap<string, CallMonthBilling>;
    /** Callers whose access or portability request holds their data (decision 0970). */
    heldCallers?: readonly number[];
    /**
     * Callers whose processing is restricted (Art. 18, decision 1200): their records stay, for as
     * long as the restriction lasts; the month's other records go, row by row.
     */
    sparedCallers?: readonly number[];
    timeZone?: string;
  },
): Promise<PurgeResult> {
  const { policy } = await kernel.policies.current(tenantId);
  const contestMonths = contestMonthsOf(policy);
  const timeZone = options.timeZone ?? BILLING_TIME_ZONE;
  const today = belgianDay(kernel.clock.now());
  return kernel.transact(tenantId, async (atx) => {
    const result: PurgeResult = {
      contestMonths,
      purgedMonths: [],
      droppedPartitions: [],
      deletedRows: 0,
      droppedRows: 0,
      kept: [],
      sparedCallers: 0,
    };
    const partitions = await selectPartitions(atx.tx);
    // A UTC month holds the end of its own billing month and the first hour(s) of the next one
    // (billing months start at midnight in Brussels, before midnight UTC).
    const verdicts = new Map<string, CallMonthVerdict>();
    for (const partition of partitions) {
      for (const month of [partition.month, shiftMonth(partition.month, 1)]) {
        if (!verdicts.has(month))
          verdicts.set(month, judgeCallMonth(month, options.billing.get(month), contestMonths, today));
      }
    }
    await holdMonthsOfRequesters(atx.tx, verdicts, options.heldCallers ?? [], timeZone);
    const gone = (month: string): boolean => verdicts.get(month)?.purge === true;
    const spared = [...new Set(options.sparedCallers ?? [])];
    const utcWindow = (month: string) => ({
      month,
      from: new Date(`${month}-01T00:00:00Z`),
      to: new Date(`${shiftMonth(month, 1)}-01T00:00:00Z`),
    });
    const droppable = partitions.filter(
      (partition) => gone(partition.month) && gone(shiftMonth(partition.month, 1)),
    );
    // A partition holding a restricted caller's records is not dropped: its other rows are deleted.
    const withSpared = await selectMonthsWithCalls(
      atx.tx,
      droppable.map((partition) => utcWindow(partition.month)),
      spared,
    );
    const whole = droppable.filter((partition) => !withSpared.has(partition.month));
    const ranges: Array<{ from: Date; to: Date }> = [];
    for (const partition of partitions) {
      if (whole.includes(partition)) continue;
      const start = Date.parse(`${partition.month}-01T00:00:00Z`);
      const end = Date.parse(`${shiftMonth(partition.month, 1)}-01T00:00:00Z`);
      for (const month of [partition.month, shiftMonth(partition.month, 1)]) {
        if (!gone(month)) continue;
        const from = Math.max(start, monthStart(month, timeZone));
        const to = Math.min(end, monthStart(shiftMonth(month, 1), timeZone));
        if (from < to) ranges.push({ from: new Date(from), to: new Date(to) });
      }
    }
    const stored = await selectMonthsWithCalls(
      atx.tx,
      [...verdicts.keys()].map((month) => ({
        month,
        from: new Date(monthStart(month, timeZone)),
        to: new Date(monthStart(shiftMonth(month, 1), timeZone)),
      })),
    );
    for (const verdict of verdicts.values()) {
      if (!stored.has(verdict.month)) continue;
      if (verdict.purge) result.purgedMonths.push(verdict.month);
      else result.kept.push(verdict);
    }
    result.purgedMonths.sort();
    result.kept.sort((a, b) => (a.month < b.month ? -1 : 1));
    if (whole.length === 0 && ranges.length === 0) return result;
    const callers = await selectSubjectsWithCallsIn(atx.tx, [
      ...whole.map((partition) => utcWindow(partition.month)),
      ...ranges,
    ]);
    const sparedSet = new Set(spared);
    result.sparedCallers = callers.filter((caller) => sparedSet.has(caller)).length;
    // One gate decision for everything that goes: an erase by the retention job under
    // call_billing (the purpose that kept the records), over every caller with a record in it
    // but the restricted ones, whose rows the grant-bound delete leaves.
    const grant = await kernel.gate.authorize(atx, CDR_RETENTION, {
      purpose: CALL_BILLING_PURPOSE,
      action: 'erase',
      categories: CALL_RECORD_CATEGORIES,
      subjectIds: callers.filter((caller) => !sparedSet.has(caller)),
    });
    // Whole months stay a partition drop (no row-by-row delete); each is checked to hold only
    // the grant's subjects before it goes.
    for (const partition of whole) {
      result.droppedRows += await dropPartition(atx.tx, grant, partition.month);
      result.droppedPartitions.push(partition.name);
    }
    for (const range of ranges) {
      result.deletedRows += await deleteCallRecordsBefore(atx.tx, grant, range.to, range.from);
    }
    const removed = result.droppedRows + result.deletedRows;
    if (removed > 0 || result.droppedPartitions.length > 0) {
      atx.audit.record({
        actor: CDR_RETENTION_ACTOR,
        role: null,
        purpose: CALL_BILLING_PURPOSE,
        action: 'retention.erase',
        categories: [TELEPHONY_CATEGORIES.callRecord],
        records: removed,
        decision: 'allowed',
        reason: `until_bill_uncontestable (due date + ${contestMonths} months): ${result.droppedPartitions.length} monthly partition(s) dropped, rows of ${result.purgedMonths.length} billing month(s) removed`,
      });
    }
    return result;
  });
}
