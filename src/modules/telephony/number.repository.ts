import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';

export interface NumberAssignment {
  assignmentId: number;
  e164: string;
  subjectId: number;
  contractRef: string | null;
  validFrom: Date;
  validTo: Date | null;
}

export interface PhoneNumberRow {
  e164: string;
  portedInAt: Date | null;
  portedOutAt: Date | null;
}

/** Adds the number to the inventory when missing and locks it, so changes to one number queue up. */
export async function lockPhoneNumber(tx: Tx, tenantId: number, e164: string): Promise<PhoneNumberRow> {
  await tx
    .insertInto('phone_numbers')
    .values({ tenant_id: tenantId, e164 })
    .onConflict((conflict) => conflict.columns(['tenant_id', 'e164']).doNothing())
    .execute();
  const row = await tx
    .selectFrom('phone_numbers')
    .select(['e164', 'ported_in_at', 'ported_out_at'])
    .where('e164', '=', e164)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return { e164: row.e164, portedInAt: row.ported_in_at, portedOutAt: row.ported_out_at };
}

export async function updatePorting(
  tx: Tx,
  e164: string,
  change: { portedInAt?: Date | null; portedOutAt?: Date | null },
): Promise<void> {
  await tx
    .updateTable('phone_numbers')
    .set({
      ...(change.portedInAt === undefined ? {} : { ported_in_at: change.portedInAt }),
      ...(change.portedOutAt === undefined ? {} : { ported_out_at: change.portedOutAt }),
    })
    .where('e164', '=', e164)
    .execute();
}

/** Holders of a number whose period is still open or ends after `at`: ids only, for the gate. */
export async function selectHoldersAfter(tx: Tx, e164: string, at: Date): Promise<number[]> {
  const rows = await tx
    .selectFrom('number_assignments')
    .select('subject_id')
    .where('e164', '=', e164)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', at)]))
    .execute();
  return [...new Set(rows.map((row) => row.subject_id))];
}

/** Subject ids of every assignment, or of one number's: what a read has to be authorised for. */
export async function selectAssignedSubjectIds(tx: Tx, e164?: string): Promise<number[]> {
  let query = tx.selectFrom('number_assignments').select('subject_id').distinct();
  if (e164 !== undefined) query = query.where('e164', '=', e164);
  return (await query.execute()).map((row) => row.subject_id);
}

/** Ends the open period of a number at `at` (the number moves on or leaves). */
export async function closeOpenAssignment(tx: Tx, grant: Grant, e164: string, at: Date): Promise<void> {
  grant.assertWritable();
  await tx
    .updateTable('number_assignments')
    .set({ valid_to: at })
    .where('e164', '=', e164)
    .where('valid_to', 'is', null)
    .where('valid_from', '<', at)
    .execute();
}

export async function insertAssignment(
  tx: Tx,
  grant: Grant,
  row: Omit<NumberAssignment, 'assignmentId'>,
): Promise<NumberAssignment> {
  grant.assertWritable();
  grant.assertCovers(TELEPHONY_CATEGORIES.number, row.subjectId);
  const inserted = await tx
    .insertInto('number_assignments')
    .values({
      tenant_id: grant.tenantId,
      e164: row.e164,
      subject_id: row.subjectId,
      contract_ref: row.contractRef,
      valid_from: row.validFrom,
      valid_to: row.validTo,
    })
    .returning('assignment_id')
    .executeTakeFirstOrThrow();
  return { assignmentId: inserted.assignment_id, ...row };
}

/** Assignments of the grant's subjects (optionally of one number), oldest first. */
export async function selectAssignments(tx: Tx, grant: Grant, e164?: string): Promise<NumberAssignment[]> {
  const subjectIds = [...grant.subjectIds];
  if (subjectIds.length === 0) return [];
  for (const id of subjectIds) grant.assertCovers(TELEPHONY_CATEGORIES.number, id);
  let query = tx
    .selectFrom('number_assignments')
    .select(['assignment_id', 'e164', 'subject_id', 'contract_ref', 'valid_from', 'valid_to'])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subjectIds)))
    .orderBy('e164')
    .orderBy('valid_from');
  if (e164 !== undefined) query = query.where('e164', '=', e164);
  const rows = await query.execute();
  return rows.map((row) => ({
    assignmentId: row.assignment_id,
    e164: row.e164,
    subjectId: row.subject_id,
    contractRef: row.contract_ref,
    validFrom: row.valid_from,
    validTo: row.valid_to,
  }));
}
