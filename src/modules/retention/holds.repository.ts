import { sql } from 'kysely';
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

/**
 * Serialises placements that could repeat each other (the same hold on a person, a case of the
 * same name) until the transaction ends, so a request sent twice at once still makes one.
 */
export async function lockHoldPlacement(tx: Tx, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`kluis.retention.${key}`}, 0))`.execute(tx);
}

/**
 * Locator: the person's open holds (alone, not released, not part of a case) with exactly this
 * reason and end; the values are only compared, never returned.
 */
export async function findOpenHold(
  tx: Tx,
  hold: { subjectId: number; reason: string; endsOn: string },
): Promise<number[]> {
  const rows = await tx
    .selectFrom('legal_holds')
    .select('hold_id')
    .where('subject_id', '=', hold.subjectId)
    .where('case_id', 'is', null)
    .where('released_at', 'is', null)
    .where('reason', '=', hold.reason)
    .where('ends_on', '=', hold.endsOn)
    .orderBy('hold_id')
    .execute();
  return rows.map((row) => row.hold_id);
}

/** When a hold was placed (bookkeeping, not personal). */
export async function selectHoldPlacedAt(tx: Tx, holdId: number): Promise<Date> {
  const row = await tx
    .selectFrom('legal_holds')
    .select('placed_at')
    .where('hold_id', '=', holdId)
    .executeTakeFirstOrThrow();
  return row.placed_at;
}

/** Locator: the members of a case whose hold carries exactly this reason; the reason is only compared. */
export async function findCaseMembersWithReason(tx: Tx, caseId: number, reason: string): Promise<number[]> {
  const rows = await tx
    .selectFrom('legal_holds')
    .select('subject_id')
    .where('case_id', '=', caseId)
    .where('reason', '=', reason)
    .execute();
  return rows.map((row) => row.subject_id);
}
