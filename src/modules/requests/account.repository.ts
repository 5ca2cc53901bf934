import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';

/** The SQL that names a portal account's password hash (user.authorization.credentials). */
const CREDENTIALS = 'user.authorization.credentials';

/**
 * The account's password hash, or undefined when the person has set none. `forUpdate` first takes
 * the account's lock till the transaction ends, so that changes of one account's password happen
 * one after another.
 */
export async function selectPortalPasswordHash(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  options: { forUpdate?: boolean } = {},
): Promise<string | undefined> {
  grant.assertCovers(CREDENTIALS, subjectId);
  if (options.forUpdate) {
    // A lock on the person's account, held till the transaction ends; a first password has no
    // row yet to lock, so it is an advisory lock rather than FOR UPDATE.
    await sql`select pg_advisory_xact_lock(hashtextextended(${`kluis.portal_password.${grant.tenantId}.${subjectId}`}, 0))`.execute(
      tx,
    );
  }
  const row = await tx
    .selectFrom('subject_accounts')
    .select('password_hash')
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return row?.password_hash ?? undefined;
}

/** Sets (or replaces) the account's password hash. */
export async function upsertPortalPassword(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  passwordHash: string,
  at: Date,
): Promise<void> {
  grant.assertWritable();
  grant.assertCovers(CREDENTIALS, subjectId);
  await tx
    .insertInto('subject_accounts')
    .values({ tenant_id: grant.tenantId, subject_id: subjectId, password_hash: passwordHash, created_at: at })
    .onConflict((conflict) =>
      conflict.columns(['tenant_id', 'subject_id']).doUpdateSet({ password_hash: passwordHash }),
    )
    .execute();
}
