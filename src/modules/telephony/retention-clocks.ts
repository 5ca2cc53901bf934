import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';

/**
 * The billing months (YYYY-MM, Belgian calendar months) in which each of the grant's subjects
 * has call records still stored (G-1: call records are kept until every invoice that billed them
 * can no longer be contested, never before they are invoiced). Read from the monthly totals kept
 * with the calls (decision 0500); subjects without call records are absent. The grant is
 * retention's decision for a page of people (decision 0280).
 */
export async function readCallMonths(tx: Tx, grant: Grant): Promise<Map<number, string[]>> {
  const months = new Map<number, string[]>();
  const subjectIds = [...grant.subjectIds];
  for (const subjectId of subjectIds) grant.assertCovers(TELEPHONY_CATEGORIES.callRecord, subjectId);
  if (subjectIds.length === 0) return months;
  const rows = await tx
    .selectFrom('call_record_month_totals')
    .select(['subject_id', 'month'])
    .distinct()
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subjectIds)))
    .orderBy('subject_id')
    .orderBy('month')
    .execute();
  for (const row of rows) {
    const subjectId = Number(row.subject_id);
    const list = months.get(subjectId) ?? [];
    list.push(String(row.month).slice(0, 7));
    months.set(subjectId, list);
  }
  return months;
}
