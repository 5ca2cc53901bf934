import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { partiesDataMap } from './datamap.js';

/** The category a parental consent record is kept under (with the birth date it answers). */
const CONSENT_CATEGORY = 'user.demographic.date_of_birth';

export interface NewParentalConsent {
  subjectId: number;
  relation: 'parent' | 'guardian';
  verificationMethod: string;
  evidenceReference: string | null;
  recordedByStaffId: number | null;
  at: Date;
}

/**
 * Records a parental consent (relation, how it was verified, a reference to the evidence) under
 * a write grant for the minor; the evidence reference is scanned like any typed text (VK-16).
 * A second consent for the same minor keeps the first.
 */
export async function insertParentalConsent(tx: Tx, grant: Grant, row: NewParentalConsent): Promise<void> {
  grant.assertWritable();
  grant.assertCovers(CONSENT_CATEGORY, row.subjectId);
  assertFreeTextAllowed(tableMap(partiesDataMap, 'parental_consents'), [
    { column: 'evidence_reference', field: 'evidenceReference', value: row.evidenceReference },
  ]);
  await tx
    .insertInto('parental_consents')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      relation: row.relation,
      verification_method: row.verificationMethod,
      evidence_reference: row.evidenceReference,
      recorded_by_staff_id: row.recordedByStaffId,
      recorded_at: row.at,
    })
    .onConflict((conflict) => conflict.columns(['tenant_id', 'subject_id']).doNothing())
    .execute();
}
