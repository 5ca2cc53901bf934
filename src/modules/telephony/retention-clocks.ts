import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';

/**
 * When each of the grant's subjects' latest call started (G-1: call records are kept until the
 * bill of the last one can no longer be contested). Instants only; subjects without call records
 * are absent. The grant is retention's decision for a page of people (decision 0280).
 */
export async function readLastCalls(tx: Tx, grant: Grant): Promise<Map<number, Date>> {
  const last = new Map<number, Date>();
  const subjectIds = [...grant.subjectIds];
  for (const subjectId of subjectIds) grant.assertCovers(TELEPHONY_CATEGORIES.callRecord, subjectId);
  if (subjectIds.length === 0) return last;
  const rows = await tx
    .selectFrom('call_records')
    .select((eb) => ['subject_id', eb.fn.max('started_at').as('last_call')])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subjectIds)))
    .groupBy('subject_id')
    .execute();
  for (const row of rows) {
    if (row.subject_id !== null && row.last_call !== null)
      last.set(Number(row.subject_id), new Date(row.last_call));
  }
  return last;
}
