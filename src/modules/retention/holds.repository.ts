import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';

/** The category of a hold's reason and end (both seed policies declare it). */
const HOLD_CATEGORY = 'kluis.communication.correspondence';

export interface LegalHoldRow {
  hold_id: number;
  subject_id: number;
  reason: string;
  ends_on: string;
  placed_at: Date;
  released_at: Date | null;
  case_id: number | null;
}

/** Places a hold on one person alone (its reason and end), under a write grant for them. */
export async function insertLegalHold(
  tx: Tx,
  grant: Grant,
  hold: { subjectId: number; reason: string; endsOn: string; placedAt: Date; placedBy: number | null },
): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(HOLD_CATEGORY, hold.subjectId);
  const row = await tx
    .insertInto('legal_holds')
    .values({
      tenant_id: grant.tenantId,
      subject_id: hold.subjectId,
      reason: hold.reason,
      ends_on: hold.endsOn,
      placed_at: hold.placedAt,
      placed_by_staff_id: hold.placedBy,
    })
    .returning(['hold_id'])
    .executeTakeFirstOrThrow();
  return row.hold_id;
}

/** A person's holds, newest first, under a read grant for them. */
export async function selectLegalHolds(tx: Tx, grant: Grant, subjectId: number): Promise<LegalHoldRow[]> {
  grant.assertCovers(HOLD_CATEGORY, subjectId);
  return tx
    .selectFrom('legal_holds')
    .select(['hold_id', 'subject_id', 'reason', 'ends_on', 'placed_at', 'released_at', 'case_id'])
    .where('subject_id', '=', subjectId)
    .orderBy('hold_id', 'desc')
    .execute();
}
