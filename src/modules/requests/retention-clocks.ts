import type { Tx } from '../../platform/db.js';

/**
 * When each subject's latest rights request was received: the request file is kept for a period
 * after it (the policy's rights purpose). Instants only; subjects without requests are absent.
 */
export async function readLastRequests(tx: Tx, subjectIds: readonly number[]): Promise<Map<number, Date>> {
  const last = new Map<number, Date>();
  if (subjectIds.length === 0) return last;
  const rows = await tx
    .selectFrom('rights_requests')
    .select((eb) => ['subject_id', eb.fn.max('received_at').as('last_request')])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .groupBy('subject_id')
    .execute();
  for (const row of rows) {
    if (row.subject_id !== null && row.last_request !== null)
      last.set(Number(row.subject_id), new Date(row.last_request));
  }
  return last;
}
