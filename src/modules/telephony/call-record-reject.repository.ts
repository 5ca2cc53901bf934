/**
 * The kept rejected lines of uploaded call-record imports (decision 0360): call records of someone
 * (kluis.telephony.call_record), written, read and removed only under a Grant of the call-billing
 * purpose.
 */
import { sql } from 'kysely';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Grant } from '../../kernel/gate/gate.js';
import { AppError } from '../../platform/errors.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';

export interface KeptReject {
  lineNumber: number;
  reason: string;
  subjectId: number | null;
  line: string;
}

function assertCallRecords(grant: Grant): void {
  if (!grant.categories.has(TELEPHONY_CATEGORIES.callRecord))
    throw new AppError('category_not_allowed', 'grant does not cover call records');
}

/** Stores rejected lines of one import; a line stored by an earlier attempt stays as it was. */
export async function insertRejects(
  atx: AuditedTx,
  grant: Grant,
  importId: number,
  rejects: readonly KeptReject[],
): Promise<number> {
  grant.assertWritable();
  assertCallRecords(grant);
  if (rejects.length === 0) return 0;
  for (const reject of rejects)
    if (reject.subjectId !== null) grant.assertCovers(TELEPHONY_CATEGORIES.callRecord, reject.subjectId);
  const result = await atx.tx
    .insertInto('call_record_import_rejects')
    .values(
      rejects.map((reject) => ({
        tenant_id: atx.tenantId,
        import_id: importId,
        line_number: reject.lineNumber,
        reason: reject.reason,
        subject_id: reject.subjectId,
        line: reject.line,
      })),
    )
    .onConflict((conflict) => conflict.columns(['tenant_id', 'import_id', 'line_number']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

/** The customers some of an import's kept lines were attributed to (for the gate's decision). */
export async function selectRejectSubjects(atx: AuditedTx, importIds: readonly number[]): Promise<number[]> {
  if (importIds.length === 0) return [];
  const rows = await atx.tx
    .selectFrom('call_record_import_rejects')
    .select('subject_id')
    .distinct()
    .where('import_id', '=', (eb) => eb.fn.any(eb.val([...importIds])))
    .where('subject_id', 'is not', null)
    .execute();
  return rows.map((row) => Number(row.subject_id));
}

/** An import's kept lines in file order, from a line on, at most `limit`. */
export async function selectRejects(
  atx: AuditedTx,
  grant: Grant,
  importId: number,
  page: { afterLine: number; limit: number },
): Promise<KeptReject[]> {
  assertCallRecords(grant);
  const rows = await atx.tx
    .selectFrom('call_record_import_rejects')
    .select(['line_number', 'reason', 'subject_id', 'line'])
    .where('import_id', '=', importId)
    .where('line_number', '>', page.afterLine)
    .orderBy('line_number')
    .limit(page.limit)
    .execute();
  return rows.map((row) => {
    const subjectId = row.subject_id === null ? null : Number(row.subject_id);
    if (subjectId !== null) grant.assertCovers(TELEPHONY_CATEGORIES.callRecord, subjectId);
    return { lineNumber: Number(row.line_number), reason: row.reason, subjectId, line: row.line };
  });
}

/** Removes the kept lines of these imports (their time is up); the grant is an erase decision. */
export async function deleteRejects(
  atx: AuditedTx,
  grant: Grant,
  importIds: readonly number[],
): Promise<number> {
  assertCallRecords(grant);
  if (grant.action !== 'erase') throw new AppError('forbidden', 'removing kept rejects needs an erase grant');
  if (importIds.length === 0) return 0;
  const subjects = await selectRejectSubjects(atx, importIds);
  for (const subjectId of subjects) grant.assertCovers(TELEPHONY_CATEGORIES.callRecord, subjectId);
  const result = await sql`delete from call_record_import_rejects
     where import_id = any(${[...importIds]}::bigint[])`.execute(atx.tx);
  return Number(result.numAffectedRows ?? 0n);
}
