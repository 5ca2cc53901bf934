import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';

/**
 * All SQL that reads or writes the personal columns of `staff_users` (e-mail, display name,
 * password hash, TOTP secret, recovery codes). Locators find the account's subject by its e-mail
 * or staff id; the gate then decides, and the values are read and written through its Grant.
 */

const NAME = 'user.name';
const EMAIL = 'user.contact.email';
const CREDENTIALS = 'user.authorization.credentials';

function assertCovers(grant: Grant, categories: readonly string[], subjectId: number | null): void {
  if (subjectId === null) throw new Error('a staff account without a subject has no personal data to grant');
  for (const category of categories) grant.assertCovers(category, subjectId);
}

/** Locator: the subject of the account with this e-mail address (none or one). */
export async function locateStaffByEmail(tx: Tx, email: string): Promise<number[]> {
  const rows = await tx
    .selectFrom('staff_users')
    .select('subject_id')
    .where('email', '=', email)
    .where('subject_id', 'is not', null)
    .execute();
  return rows.flatMap((row) => (row.subject_id === null ? [] : [row.subject_id]));
}

/** Locator: whether an account with this e-mail address exists. */
export async function isStaffEmailTaken(tx: Tx, email: string): Promise<boolean> {
  const row = await tx
    .selectFrom('staff_users')
    .select('staff_id')
    .where('email', '=', email)
    .executeTakeFirst();
  return row !== undefined;
}

export interface NewStaffRow {
  subjectId: number;
  email: string;
  displayName: string;
  role: string;
  passwordHash: string;
}

/** Writes a new account (name, e-mail, password hash) under a write grant for its subject. */
export async function insertStaffUser(
  tx: Tx,
  grant: Grant,
  row: NewStaffRow,
): Promise<{ staffId: number; email: string; role: string }> {
  grant.assertWritable();
  assertCovers(grant, [NAME, EMAIL, CREDENTIALS], row.subjectId);
  const inserted = await tx
    .insertInto('staff_users')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      email: row.email,
      display_name: row.displayName,
      role: row.role,
      password_hash: row.passwordHash,
    })
    .returning(['staff_id', 'email', 'role'])
    .executeTakeFirstOrThrow();
  return { staffId: inserted.staff_id, email: inserted.email, role: inserted.role };
}

/** A staff account as read for administration (no password hash, TOTP secret or code hashes). */
export interface StaffRow {
  staff_id: number;
  subject_id: number | null;
  email: string;
  display_name: string;
  role: string;
  status: 'active' | 'disabled';
  must_change_password: boolean;
  totp_enabled_at: Date | null;
  locked_until: Date | null;
  created_at: Date;
}

/** The accounts of the grant's subjects (name and e-mail), ordered by staff id. */
export async function selectStaffRows(
  tx: Tx,
  grant: Grant,
  staffIds: readonly number[],
): Promise<StaffRow[]> {
  if (staffIds.length === 0) return [];
  const rows = await tx
    .selectFrom('staff_users')
    .select([
      'staff_id',
      'subject_id',
      'email',
      'display_name',
      'role',
      'status',
      'must_change_password',
      'totp_enabled_at',
      'locked_until',
      'created_at',
    ])
    .where('staff_id', '=', (eb) => eb.fn.any(eb.val([...staffIds])))
    .orderBy('staff_id')
    .execute();
  for (const row of rows) assertCovers(grant, [NAME, EMAIL], row.subject_id);
  return rows;
}

/** What a login needs of the grant's account: its password hash and state. */
export interface LoginAccountRow {
  staff_id: number;
  subject_id: number;
  role: string;
  password_hash: string;
  status: 'active' | 'disabled';
  must_change_password: boolean;
  totp_enabled_at: Date | null;
  locked_until: Date | null;
}

export async function selectLoginAccount(
  tx: Tx,
  grant: Grant,
  subjectId: number,
): Promise<LoginAccountRow | undefined> {
  assertCovers(grant, [CREDENTIALS], subjectId);
  const row = await tx
    .selectFrom('staff_users')
    .select([
      'staff_id',
      'role',
      'password_hash',
      'status',
      'must_change_password',
      'totp_enabled_at',
      'locked_until',
    ])
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return row && { ...row, subject_id: subjectId };
}

/** One's own password hash and e-mail address (to check a password change). */
export async function selectOwnCredentials(
  tx: Tx,
  grant: Grant,
  staffId: number,
  subjectId: number,
): Promise<{ passwordHash: string; email: string } | undefined> {
  assertCovers(grant, [CREDENTIALS, EMAIL], subjectId);
  const row = await tx
    .selectFrom('staff_users')
    .select(['password_hash', 'email'])
    .where('staff_id', '=', staffId)
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return row && { passwordHash: row.password_hash, email: row.email };
}

/**
 * The account's password hash, its row locked till the transaction ends: a password change checks
 * under the lock that the hash it verified the current password against is still the stored one.
 */
export async function lockPasswordHash(
  tx: Tx,
  grant: Grant,
  account: { staffId: number; subjectId: number },
): Promise<string | undefined> {
  assertCovers(grant, [CREDENTIALS], account.subjectId);
  const row = await tx
    .selectFrom('staff_users')
    .select('password_hash')
    .where('staff_id', '=', account.staffId)
    .where('subject_id', '=', account.subjectId)
    .forUpdate()
    .executeTakeFirst();
  return row?.password_hash;
}

/** Sets the password hash; `mustChange` for a one-time password. */
export async function updatePasswordHash(
  tx: Tx,
  grant: Grant,
  account: { staffId: number; subjectId: number },
  passwordHash: string,
  mustChange: boolean,
): Promise<void> {
  grant.assertWritable();
  assertCovers(grant, [CREDENTIALS], account.subjectId);
  await tx
    .updateTable('staff_users')
    .set({ password_hash: passwordHash, must_change_password: mustChange })
    .where('staff_id', '=', account.staffId)
    .where('subject_id', '=', account.subjectId)
    .execute();
}

/** The encrypted TOTP secret of an account (null while none is set up). */
export async function selectTotpSecret(
  tx: Tx,
  grant: Grant,
  account: { staffId: number; subjectId: number },
): Promise<Buffer | null> {
  assertCovers(grant, [CREDENTIALS], account.subjectId);
  const row = await tx
    .selectFrom('staff_users')
    .select('totp_secret')
    .where('staff_id', '=', account.staffId)
    .where('subject_id', '=', account.subjectId)
    .executeTakeFirst();
  return row?.totp_secret ?? null;
}

/** One's own e-mail address (the label of the authenticator's entry). */
export async function selectStaffEmail(
  tx: Tx,
  grant: Grant,
  account: { staffId: number; subjectId: number },
): Promise<string | undefined> {
  assertCovers(grant, [EMAIL], account.subjectId);
  const row = await tx
    .selectFrom('staff_users')
    .select('email')
    .where('staff_id', '=', account.staffId)
    .where('subject_id', '=', account.subjectId)
    .executeTakeFirst();
  return row?.email;
}

/**
 * A staff member's name and e-mail address by subject, for a letter to them (a breach letter,
 * GDPR Art. 34: staff are persons too); the grant must cover both categories.
 */
export async function selectStaffContact(
  tx: Tx,
  grant: Grant,
  subjectId: number,
): Promise<{ email: string; name: string } | undefined> {
  assertCovers(grant, [NAME, EMAIL], subjectId);
  const row = await tx
    .selectFrom('staff_users')
    .select(['email', 'display_name'])
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return row ? { email: row.email, name: row.display_name } : undefined;
}

/** Stores a new (unconfirmed) TOTP secret, encrypted through the grant by the caller. */
export async function updateTotpSecret(
  tx: Tx,
  grant: Grant,
  account: { staffId: number; subjectId: number },
  ciphertext: Buffer,
): Promise<void> {
  grant.assertWritable();
  assertCovers(grant, [CREDENTIALS], account.subjectId);
  await tx
    .updateTable('staff_users')
    .set({ totp_secret: ciphertext, totp_last_step: null })
    .where('staff_id', '=', account.staffId)
    .execute();
}

/** Confirms the second factor: enabled now, the first accepted step, the recovery code hashes. */
export async function enableSecondFactor(
  tx: Tx,
  grant: Grant,
  account: { staffId: number; subjectId: number },
  enabled: { at: Date; step: number; recoveryCodeHashes: Buffer[] },
): Promise<void> {
  grant.assertWritable();
  assertCovers(grant, [CREDENTIALS], account.subjectId);
  await tx
    .updateTable('staff_users')
    .set({
      totp_enabled_at: enabled.at,
      totp_last_step: enabled.step,
      recovery_code_hashes: enabled.recoveryCodeHashes,
    })
    .where('staff_id', '=', account.staffId)
    .execute();
}

/** Removes the second factor (an admin's reset). */
export async function clearSecondFactor(
  tx: Tx,
  grant: Grant,
  account: { staffId: number; subjectId: number },
): Promise<void> {
  grant.assertWritable();
  assertCovers(grant, [CREDENTIALS], account.subjectId);
  await tx
    .updateTable('staff_users')
    .set({ totp_secret: null, totp_enabled_at: null, totp_last_step: null, recovery_code_hashes: [] })
    .where('staff_id', '=', account.staffId)
    .execute();
}

/**
 * Uses up a recovery code: array_remove under the row lock of UPDATE, so two requests with one
 * code cannot both succeed. True when the code was there.
 */
export async function useRecoveryCode(
  tx: Tx,
  grant: Grant,
  account: { staffId: number; subjectId: number },
  hash: Buffer,
): Promise<boolean> {
  grant.assertWritable();
  assertCovers(grant, [CREDENTIALS], account.subjectId);
  const used = await tx
    .updateTable('staff_users')
    .set((eb) => ({
      recovery_code_hashes: eb.fn<Buffer[]>('array_remove', ['recovery_code_hashes', eb.val(hash)]),
    }))
    .where('staff_id', '=', account.staffId)
    .where((eb) => eb(eb.val(hash), '=', eb.fn.any('recovery_code_hashes')))
    .executeTakeFirst();
  return used.numUpdatedRows > 0n;
}
