import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';
import type { CallDispositionColumn } from './telephony.tables.js';

const PRODUCT = 'kluis.contract.product';

/** A customer's own plan from a day (kluis.contract.product, written through the grant). */
export async function insertCustomerPlan(
  tx: Tx,
  grant: Grant,
  row: { subjectId: number; planId: number; validFrom: string; createdAt: Date },
): Promise<void> {
  grant.assertWritable();
  grant.assertCovers(PRODUCT, row.subjectId);
  await tx
    .insertInto('customer_rating_plans')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      valid_from: row.validFrom,
      plan_id: row.planId,
      created_at: row.createdAt,
    })
    .onConflict((oc) =>
      oc
        .columns(['tenant_id', 'subject_id', 'valid_from'])
        .doUpdateSet({ plan_id: row.planId, created_at: row.createdAt }),
    )
    .execute();
}

/** The customers' own plans with their activation days (kluis.contract.product). */
export async function selectCustomerPlans(
  tx: Tx,
  grant: Grant,
  subjectIds: readonly number[],
): Promise<Map<number, Array<{ planId: number; validFrom: string }>>> {
  const plans = new Map<number, Array<{ planId: number; validFrom: string }>>();
  if (subjectIds.length === 0) return plans;
  for (const id of subjectIds) grant.assertCovers(PRODUCT, id);
  const rows = await tx
    .selectFrom('customer_rating_plans')
    .select(['subject_id', 'plan_id', 'valid_from'])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .execute();
  for (const row of rows) {
    const list = plans.get(Number(row.subject_id)) ?? [];
    list.push({ planId: Number(row.plan_id), validFrom: row.valid_from });
    plans.set(Number(row.subject_id), list);
  }
  return plans;
}

export interface MonthCallRow {
  subjectId: number;
  startedAt: Date;
  dedupKey: string;
  destination: string;
  answeredAt: Date | null;
  billableSeconds: number;
  disposition: CallDispositionColumn;
  isBillableLeg: boolean;
  costMicros: number | null;
}

/** The customers' calls in the window, per customer in call order (kluis.telephony.call_record). */
export async function selectMonthCalls(
  tx: Tx,
  grant: Grant,
  window: { from: Date; to: Date },
  subjectIds: readonly number[],
): Promise<MonthCallRow[]> {
  if (subjectIds.length === 0) return [];
  for (const id of subjectIds) grant.assertCovers(TELEPHONY_CATEGORIES.callRecord, id);
  const rows = await tx
    .selectFrom('call_records')
    .select([
      'subject_id',
      'started_at',
      'dedup_key',
      'destination',
      'answered_at',
      'billable_seconds',
      'disposition',
      'is_billable_leg',
      'cost_micros',
    ])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .where('started_at', '>=', window.from)
    .where('started_at', '<', window.to)
    .orderBy('subject_id')
    .orderBy('started_at')
    .orderBy('dedup_key')
    .execute();
  return rows.map((row) => ({
    subjectId: Number(row.subject_id),
    startedAt: row.started_at,
    dedupKey: row.dedup_key,
    destination: row.destination,
    answeredAt: row.answered_at,
    billableSeconds: row.billable_seconds,
    disposition: row.disposition,
    isBillableLeg: row.is_billable_leg,
    costMicros: row.cost_micros === null ? null : Number(row.cost_micros),
  }));
}

/** The provider's own numbers and when they were its own (on-net calls). The inventory, no holder. */
export async function selectOnNetNumbers(tx: Tx): Promise<Map<string, { from: number; to: number }>> {
  const rows = await tx
    .selectFrom('phone_numbers')
    .select(['e164', 'ported_in_at', 'ported_out_at'])
    .execute();
  return new Map(
    rows.map((row) => [
      row.e164,
      {
        from: row.ported_in_at?.getTime() ?? Number.NEGATIVE_INFINITY,
        to: row.ported_out_at?.getTime() ?? Number.POSITIVE_INFINITY,
      },
    ]),
  );
}
