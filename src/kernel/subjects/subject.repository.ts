import type { Tx } from '../../platform/db.js';
import type { PurposeState } from './subject.tables.js';

export interface SubjectStateRow {
  subjectId: number;
  subjectType: string;
  restrictedAt: Date | null;
  marketingObjectedAt: Date | null;
  erasedAt: Date | null;
  /** VK-15: the day the person reaches the policy's age (YYYY-MM-DD), while a minor. */
  minorUntil: string | null;
  parentalConsentAt: Date | null;
  /** State for the purpose asked about, if any was recorded. */
  purposeState: PurposeState | null;
}

/** One query for a whole batch: the gate decides per batch, not per row. */
export async function selectSubjectStates(
  tx: Tx,
  subjectIds: readonly number[],
  purpose: string,
): Promise<SubjectStateRow[]> {
  if (subjectIds.length === 0) return [];
  const rows = await tx
    .selectFrom('data_subjects as s')
    .leftJoin('subject_purpose_states as p', (join) =>
      join
        .onRef('p.tenant_id', '=', 's.tenant_id')
        .onRef('p.subject_id', '=', 's.subject_id')
        .on('p.purpose', '=', purpose),
    )
    .select([
      's.subject_id',
      's.subject_type',
      's.restricted_at',
      's.marketing_objected_at',
      's.erased_at',
      's.minor_until',
      's.parental_consent_at',
      'p.state',
    ])
    .where('s.subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .execute();
  return rows.map((row) => ({
    subjectId: row.subject_id,
    subjectType: row.subject_type,
    restrictedAt: row.restricted_at,
    marketingObjectedAt: row.marketing_objected_at,
    erasedAt: row.erased_at,
    minorUntil: row.minor_until === null ? null : String(row.minor_until),
    parentalConsentAt: row.parental_consent_at,
    purposeState: row.state,
  }));
}
