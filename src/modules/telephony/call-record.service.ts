import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { retentionRulesFor } from '../../kernel/policy/policy.query.js';
import { AppError } from '../../platform/errors.js';
import type { UseCaseContext } from '../parties/index.js';
import {
  deleteCallRecordsBefore,
  dropPartition,
  selectCallerSubjectIds,
  selectCallRecordBatchSubjects,
  selectCallRecordKeys,
  selectSubjectsWithCallsBefore,
  selectCallRecords,
  selectPartitions,
  selectRatingInputs,
  updateCosts,
  type StoredCallRecord,
} from './call-record.repository.js';
import { CALL_BILLING_PURPOSE } from './cdr-import.service.js';
import { TELEPHONY_CATEGORIES, telephonyDataMap } from './datamap.js';
import { startOfMonthBefore } from './date-input.js';
import { rateCall, selectBillableSeconds } from './rating.js';
import { loadRatingTable } from './tariff.service.js';

export type { StoredCallRecord };

/** Billing months are calendar months where the provider is. */
export const BILLING_TIME_ZONE = 'Europe/Brussels';

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
  return kernel.transact(context.tenantId, async (atx) => {
    const subjectIds = await selectCallerSubjectIds(atx.tx, query);
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [TELEPHONY_CATEGORIES.callRecord],
      subjectIds,
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    return selectCallRecords(atx.tx, grant, { from: query.from, to: query.to, limit: query.limit ?? 10_000 });
  });
}

export interface RerateResult {
  calls: number;
  changed: number;
  unrated: number;
}

export const CDR_RERATE_ACTOR: Actor = { kind: 'system', job: 'cdr-rerate' };

/**
 * Rates every call in [from, to) again with the tariff now in force (after a tariff correction).
 * Writes kluis.telephony.call_record (the cost) under call_billing, one gate decision per batch.
 */
export async function rerateCalls(
  kernel: Kernel,
  tenantId: number,
  options: { from: Date; to: Date; actor?: Actor; batchSize?: number },
): Promise<RerateResult> {
  const actor = options.actor ?? CDR_RERATE_ACTOR;
  const limit = options.batchSize ?? 5_000;
  const table = await kernel.transact(tenantId, (atx) => loadRatingTable(atx.tx));
  const result: RerateResult = { calls: 0, changed: 0, unrated: 0 };
  type Cursor = { startedAt: Date; dedupKey: string } | null;
  let after: Cursor = null;
  for (;;) {
    const cursor: Cursor = after;
    const last: Cursor = await kernel.transact(tenantId, async (atx) => {
      const batch = { from: options.from, to: options.to, after: cursor, limit };
      // The gate decides on the batch's callers before any call record is read.
      const callers = await selectCallRecordBatchSubjects(atx.tx, batch);
      if (callers.length === 0) return null;
      const grant = await kernel.gate.authorize(atx, actor, {
        purpose: CALL_BILLING_PURPOSE,
        action: 'write',
        categories: [TELEPHONY_CATEGORIES.callRecord],
        subjectIds: callers,
      });
      const keys = await selectCallRecordKeys(atx.tx, grant, batch);
      const lastKey = keys.at(-1);
      if (lastKey === undefined) return null;
      const changes: Array<{ startedAt: Date; dedupKey: string; costMicros: number | null }> = [];
      for (const call of await selectRatingInputs(atx.tx, grant, keys)) {
        const seconds = selectBillableSeconds(call);
        let cost: number | null = 0;
        if (seconds > 0) {
          const rated = call.destination.startsWith('+')
            ? rateCall(table, call.destination, seconds, call.startedAt)
            : 'no_rate';
          cost = rated === 'no_rate' ? null : rated;
        }
        if (cost === null) result.unrated += 1;
        if (cost !== call.costMicros)
          changes.push({ startedAt: call.startedAt, dedupKey: call.dedupKey, costMicros: cost });
      }
      result.calls += keys.length;
      result.changed += await updateCosts(atx.tx, grant, changes);
      return { startedAt: lastKey.startedAt, dedupKey: lastKey.dedupKey };
    });
    if (last === null) return result;
    after = last;
  }
}

export interface PurgeResult {
  months: number;
  cutoff: Date;
  droppedPartitions: string[];
  deletedRows: number;
  droppedRows: number;
  /** Months past the cutoff kept because a disputed invoice bills them. */
  keptMonths: string[];
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

/**
 * G-1: call records are kept only while the bill can be contested. A call of billing month M is
 * on the bill issued when M ends; that bill can be contested for the policy's
 * `until_bill_uncontestable` months. So at time `now` every call before the start of billing
 * month (current − N) has expired. Whole UTC-month partitions before that cutoff are dropped;
 * the one partition the cutoff falls in (billing months are Brussels months) loses its earlier
 * rows. One audit entry records how many records went. The retention job calls this.
 */
export async function purgeExpiredCallRecords(
  kernel: Kernel,
  tenantId: number,
  options: {
    timeZone?: string;
    /** Months (YYYY-MM) whose calls a disputed invoice bills: kept until the dispute is settled. */
    keepMonths?: ReadonlySet<string>;
  } = {},
): Promise<PurgeResult> {
  const { policy } = await kernel.policies.current(tenantId);
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
  const cutoff = startOfMonthBefore(kernel.clock.now(), months, options.timeZone ?? BILLING_TIME_ZONE);
  return kernel.transact(tenantId, async (atx) => {
    const result: PurgeResult = {
      months,
      cutoff,
      droppedPartitions: [],
      deletedRows: 0,
      droppedRows: 0,
      keptMonths: [],
    };
    const partitions = (await selectPartitions(atx.tx)).map((partition) => {
      const [year, month] = partition.month.split('-').map(Number) as [number, number];
      return { ...partition, start: Date.UTC(year, month - 1, 1), end: Date.UTC(year, month, 1) };
    });
    const keep = options.keepMonths ?? new Set<string>();
    result.keptMonths = partitions
      .filter((partition) => partition.start < cutoff.getTime() && keep.has(partition.month))
      .map((partition) => partition.month);
    const whole = partitions.filter(
      (partition) => partition.end <= cutoff.getTime() && !keep.has(partition.month),
    );
    const partial = partitions.find(
      (partition) =>
        partition.start < cutoff.getTime() && partition.end > cutoff.getTime() && !keep.has(partition.month),
    );
    if (whole.length === 0 && !partial) return result;
    // One gate decision for everything that expires: an erase by the retention job under
    // call_billing (the purpose that kept the records), over every caller with a record before
    // the cutoff, for the categories the data map gives call_records. Audited with the purge.
    const grant = await kernel.gate.authorize(atx, CDR_RETENTION, {
      purpose: CALL_BILLING_PURPOSE,
      action: 'erase',
      categories: CALL_RECORD_CATEGORIES,
      subjectIds: await selectSubjectsWithCallsBefore(atx.tx, cutoff),
    });
    // Whole months stay a partition drop (no row-by-row delete); each is checked to hold only
    // the grant's subjects before it goes.
    for (const partition of whole) {
      result.droppedRows += await dropPartition(atx.tx, grant, partition.month);
      result.droppedPartitions.push(partition.name);
    }
    if (partial) {
      result.deletedRows += await deleteCallRecordsBefore(atx.tx, grant, cutoff, new Date(partial.start));
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
        reason: `until_bill_uncontestable: ${result.droppedPartitions.length} monthly partition(s) dropped, older rows of the cutoff month deleted`,
      });
    }
    return result;
  });
}
