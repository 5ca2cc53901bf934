import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import type { MailLanguage } from './consent.tables.js';

const EMAIL = 'user.contact.email';
const ref = (signupId: number) => ({
  table: 'newsletter_signups',
  column: 'email_enc',
  rowId: String(signupId),
});

/** Stores a sign-up's address, encrypted under the new subject's key (a store grant while pending). */
export async function insertSignup(
  tx: Tx,
  grant: Grant,
  row: {
    subjectId: number;
    purpose: string;
    email: string;
    language: MailLanguage;
    tokenHash: Buffer;
    at: Date;
    expiresAt: Date;
    /** Asked of a person already on record (decision 0910): its expiry keeps the person. */
    forExistingSubject?: boolean;
  },
): Promise<number> {
  grant.assertCovers(EMAIL, row.subjectId);
  const bidx = await grant.blindIndex(EMAIL, 'email', row.email);
  // The row id is bound into the ciphertext: insert first, then encrypt under it.
  const inserted = await tx
    .insertInto('newsletter_signups')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      purpose: row.purpose,
      email_enc: Buffer.alloc(0),
      email_bidx: bidx,
      language: row.language,
      token_hash: row.tokenHash,
      created_at: row.at,
      expires_at: row.expiresAt,
      for_existing_subject: row.forExistingSubject ?? false,
    })
    .returning('signup_id')
    .executeTakeFirstOrThrow();
  const encrypted = await grant.encrypt(EMAIL, row.subjectId, ref(inserted.signup_id), row.email);
  await tx
    .updateTable('newsletter_signups')
    .set({ email_enc: encrypted })
    .where('signup_id', '=', inserted.signup_id)
    .execute();
  return inserted.signup_id;
}

/** The confirmed sign-up addresses of subjects, decrypted through the grant. */
export async function selectSignupAddresses(
  tx: Tx,
  grant: Grant,
  subjectIds: readonly number[],
): Promise<Map<number, { email: string; language: MailLanguage }>> {
  const result = new Map<number, { email: string; language: MailLanguage }>();
  if (subjectIds.length === 0 || !grant.categories.has(EMAIL)) return result;
  const rows = await tx
    .selectFrom('newsletter_signups')
    .select(['signup_id', 'subject_id', 'email_enc', 'language'])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .where('confirmed_at', 'is not', null)
    .orderBy('signup_id', 'desc')
    .execute();
  for (const row of rows) {
    if (result.has(row.subject_id)) continue;
    const email = await grant.decrypt(EMAIL, row.subject_id, ref(row.signup_id), row.email_enc);
    if (email !== null) result.set(row.subject_id, { email, language: row.language });
  }
  return result;
}

/** The newest unconfirmed, unexpired sign-up of a person for a purpose (a confirmation still asked). */
export async function selectPendingSignup(
  tx: Tx,
  subjectId: number,
  purpose: string,
  now: Date,
): Promise<{ signupId: number; createdAt: Date } | undefined> {
  const row = await tx
    .selectFrom('newsletter_signups')
    .select(['signup_id', 'created_at'])
    .where('subject_id', '=', subjectId)
    .where('purpose', '=', purpose)
    .where('confirmed_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('signup_id', 'desc')
    .executeTakeFirst();
  return row && { signupId: row.signup_id, createdAt: row.created_at };
}

/** Whether a sign-up was asked for `email` (its blind index, through the grant on the address). */
export async function isSignupAddress(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  signupId: number,
  email: string,
): Promise<boolean> {
  grant.assertCovers(EMAIL, subjectId);
  const row = await tx
    .selectFrom('newsletter_signups')
    .select('email_bidx')
    .where('signup_id', '=', signupId)
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return row !== undefined && row.email_bidx.equals(await grant.blindIndex(EMAIL, 'email', email));
}

/**
 * Ends the confirmations still asked of a person for a purpose (a withdrawal, an objection, or a
 * newer ask superseding them; decision 0990): their links confirm nothing from now on. The row of
 * a person on record goes at once with its address; the row of a person the public form made
 * expires now, and the expiry erases it with that person (who holds nothing else).
 */
export async function endPendingSignups(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  purpose: string,
  now: Date,
): Promise<number> {
  grant.assertCovers(EMAIL, subjectId);
  const deleted = await tx
    .deleteFrom('newsletter_signups')
    .where('subject_id', '=', subjectId)
    .where('purpose', '=', purpose)
    .where('confirmed_at', 'is', null)
    .where('for_existing_subject', '=', true)
    .executeTakeFirst();
  const expired = await tx
    .updateTable('newsletter_signups')
    .set({ expires_at: now })
    .where('subject_id', '=', subjectId)
    .where('purpose', '=', purpose)
    .where('confirmed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows) + Number(expired.numUpdatedRows);
}

/** The people whose confirmed sign-up is at an address (by its blind index), newest first. */
export async function selectSubjectIdsBySignupAddress(tx: Tx, emailBidx: Buffer): Promise<number[]> {
  const rows = await tx
    .selectFrom('newsletter_signups')
    .select('subject_id')
    .where('email_bidx', '=', emailBidx)
    .where('confirmed_at', 'is not', null)
    .orderBy('signup_id', 'desc')
    .execute();
  return [...new Set(rows.map((row) => row.subject_id))];
}

/** Takes the lock per tenant and address under which sign-ups are looked up and made (decision 1022). */
async function lockSignupAddress(tx: Tx, tenantId: number, index: Buffer): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`kluis.signup_email:${index.toString('hex')}`}, ${tenantId}))`.execute(
    tx,
  );
}

/** A subject already signed up at an address: the one a repeated public sign-up is asked of. */
export interface SignedUpSubject {
  subjectId: number;
  /** Confirmed once, or asked of a person on record: an expiry must never erase this subject. */
  isKept: boolean;
}

/**
 * The newest subject, not erased, with a sign-up for the purpose at an address (its blind index)
 * that is confirmed or still waiting (decision 1022). Under a lock per tenant and address, so a
 * form sent twice at once finds the first one's subject.
 */
export async function selectSubjectSignedUpAt(
  tx: Tx,
  grant: Grant,
  purpose: string,
  email: string,
  now: Date,
): Promise<SignedUpSubject | undefined> {
  const index = await grant.blindIndex(EMAIL, 'email', email);
  await lockSignupAddress(tx, grant.tenantId, index);
  const rows = await tx
    .selectFrom('newsletter_signups as n')
    .innerJoin('data_subjects as s', (join) =>
      join.onRef('s.tenant_id', '=', 'n.tenant_id').onRef('s.subject_id', '=', 'n.subject_id'),
    )
    .select(['n.subject_id', 'n.confirmed_at', 'n.for_existing_subject'])
    .where('n.email_bidx', '=', index)
    .where('n.purpose', '=', purpose)
    .where('s.erased_at', 'is', null)
    .where((eb) => eb.or([eb('n.confirmed_at', 'is not', null), eb('n.expires_at', '>', now)]))
    .orderBy('n.signup_id', 'desc')
    .execute();
  const [newest] = rows;
  if (!newest) return undefined;
  const ofSubject = rows.filter((row) => row.subject_id === newest.subject_id);
  return {
    subjectId: newest.subject_id,
    isKept: ofSubject.some((row) => row.confirmed_at !== null || row.for_existing_subject),
  };
}

/** Whether a subject holds a sign-up other than `signupId` that is confirmed or still waiting. */
export async function hasOtherLiveSignup(
  tx: Tx,
  subjectId: number,
  signupId: number,
  now: Date,
): Promise<boolean> {
  const row = await tx
    .selectFrom('newsletter_signups')
    .select('signup_id')
    .where('subject_id', '=', subjectId)
    .where('signup_id', '<>', signupId)
    .where((eb) => eb.or([eb('confirmed_at', 'is not', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The subjects of one type, neither erased nor restricted, whose sign-up at an address (its blind
 * index through the caller's grant) is confirmed or still waiting: the subscribers a person of that
 * type made by staff with this address would hide (attack S21-B-4, decision 1020; a waiting one,
 * attack S23-4, decision 1140). Under the form's lock per tenant and address, so a form sent while
 * staff record the address sees the one subject either way. Newest first; ids only.
 */
export async function selectSubscribersOfType(
  tx: Tx,
  grant: Grant,
  subjectType: string,
  email: string,
  now: Date,
): Promise<number[]> {
  const index = await grant.blindIndex(EMAIL, 'email', email);
  await lockSignupAddress(tx, grant.tenantId, index);
  const rows = await tx
    .selectFrom('newsletter_signups as n')
    .innerJoin('data_subjects as s', (join) =>
      join.onRef('s.tenant_id', '=', 'n.tenant_id').onRef('s.subject_id', '=', 'n.subject_id'),
    )
    .select('n.subject_id')
    .where('n.email_bidx', '=', index)
    .where((eb) => eb.or([eb('n.confirmed_at', 'is not', null), eb('n.expires_at', '>', now)]))
    .where('s.subject_type', '=', subjectType)
    .where('s.erased_at', 'is', null)
    .where('s.restricted_at', 'is', null)
    .orderBy('n.signup_id', 'desc')
    .execute();
  return [...new Set(rows.map((row) => row.subject_id))];
}
