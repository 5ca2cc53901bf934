import { createHash } from 'node:crypto';
import type { Grant } from '../../kernel/gate/gate.js';
import { sql } from 'kysely';
import type { Tx } from '../../platform/db.js';
import type { ConsentChannel, ConsentEvent } from './consent.tables.js';

/** One record of the consent ledger, as read under a grant. */
export interface ConsentRecord {
  recordId: number;
  subjectId: number;
  /** null: the objection to all direct marketing. */
  purpose: string | null;
  event: ConsentEvent;
  channel: ConsentChannel;
  recordedAt: Date;
  policyVersion: string;
  wording: { hash: string; language: string; text: string } | null;
  staffId: number | null;
  statement: string | null;
  proofReference: string | null;
}

export interface NewConsentRecord {
  subjectId: number;
  purpose: string | null;
  event: ConsentEvent;
  channel: ConsentChannel;
  policyVersion: string;
  textHash: Buffer | null;
  staffId: number | null;
  statement: string | null;
  proofReference: string | null;
  at: Date;
}

/** Stores a wording once per tenant by its SHA-256 (policy or staff text, no personal data). */
export async function upsertConsentText(
  tx: Tx,
  tenantId: number,
  language: 'nl' | 'fr' | 'en' | 'de',
  body: string,
  at: Date,
): Promise<Buffer> {
  const hash = createHash('sha256').update(body, 'utf8').digest();
  await tx
    .insertInto('consent_texts')
    .values({ tenant_id: tenantId, text_hash: hash, language, body, created_at: at })
    .onConflict((conflict) => conflict.columns(['tenant_id', 'text_hash']).doNothing())
    .execute();
  return hash;
}

/** Appends a ledger record (the statement, typed by staff, is the person's words: correspondence). */
export async function insertConsentRecord(tx: Tx, grant: Grant, row: NewConsentRecord): Promise<number> {
  if (grant.tenantId <= 0) throw new Error('grant without tenant');
  const inserted = await tx
    .insertInto('consent_records')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      purpose: row.purpose,
      event: row.event,
      text_hash: row.textHash,
      policy_version: row.policyVersion,
      channel: row.channel,
      recorded_at: row.at,
      staff_id: row.staffId,
      statement: row.statement,
      proof_reference: row.proofReference,
    })
    .returning('record_id')
    .executeTakeFirstOrThrow();
  return inserted.record_id;
}

/**
 * Makes the ledger of one person and purpose (null: the objection to all direct marketing) take
 * turns until the transaction ends, so an append compares with the latest record committed.
 */
export async function lockConsentLedger(
  tx: Tx,
  tenantId: number,
  subjectId: number,
  purpose: string | null,
): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`kluis.consent.${tenantId}.${subjectId}.${purpose ?? ''}`}, 0))`.execute(
    tx,
  );
}

/** The latest record of one person and purpose (null: the marketing objection), as stored. */
export async function selectLatestConsentRecord(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  purpose: string | null,
): Promise<(Omit<NewConsentRecord, 'at'> & { recordId: number }) | undefined> {
  if (grant.tenantId <= 0) throw new Error('grant without tenant');
  const row = await tx
    .selectFrom('consent_records')
    .select([
      'record_id',
      'subject_id',
      'purpose',
      'event',
      'channel',
      'policy_version',
      'text_hash',
      'staff_id',
      'statement',
      'proof_reference',
    ])
    .where('subject_id', '=', subjectId)
    .where((eb) => (purpose === null ? eb('purpose', 'is', null) : eb('purpose', '=', purpose)))
    .orderBy('record_id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : {
        recordId: row.record_id,
        subjectId: row.subject_id,
        purpose: row.purpose,
        event: row.event,
        channel: row.channel,
        policyVersion: row.policy_version,
        textHash: row.text_hash,
        staffId: row.staff_id,
        statement: row.statement,
        proofReference: row.proof_reference,
      };
}

/**
 * A person's ledger, oldest first; `purposes` narrows it to those purposes (and, with
 * `withMarketingObjections`, the objections to all direct marketing).
 */
export async function selectConsentRecords(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  filter: {
    purposes?: readonly string[];
    withMarketingObjections?: boolean;
    /** Only records of a purpose outside these (those the policy no longer declares). */
    outsidePurposes?: readonly string[];
  } = {},
): Promise<ConsentRecord[]> {
  if (grant.tenantId <= 0) throw new Error('grant without tenant');
  let query = tx
    .selectFrom('consent_records as r')
    .leftJoin('consent_texts as t', (join) =>
      join.onRef('t.tenant_id', '=', 'r.tenant_id').onRef('t.text_hash', '=', 'r.text_hash'),
    )
    .select([
      'r.record_id',
      'r.subject_id',
      'r.purpose',
      'r.event',
      'r.channel',
      'r.recorded_at',
      'r.policy_version',
      'r.text_hash',
      't.language',
      't.body',
      'r.staff_id',
      'r.statement',
      'r.proof_reference',
    ])
    .where('r.subject_id', '=', subjectId);
  const purposes = filter.purposes;
  if (purposes !== undefined) {
    query = query.where((eb) => {
      const alternatives = [];
      if (purposes.length > 0) alternatives.push(eb('r.purpose', '=', eb.fn.any(eb.val([...purposes]))));
      if (filter.withMarketingObjections) alternatives.push(eb('r.purpose', 'is', null));
      return alternatives.length > 0 ? eb.or(alternatives) : eb.val(false);
    });
  }
  const outside = filter.outsidePurposes;
  if (outside !== undefined) {
    query = query
      .where('r.purpose', 'is not', null)
      .$if(outside.length > 0, (narrowed) =>
        narrowed.where((eb) => eb.not(eb('r.purpose', '=', eb.fn.any(eb.val([...outside]))))),
      );
  }
  const rows = await query.orderBy('r.record_id').execute();
  return rows.map((row) => ({
    recordId: row.record_id,
    subjectId: row.subject_id,
    purpose: row.purpose,
    event: row.event,
    channel: row.channel,
    recordedAt: row.recorded_at,
    policyVersion: row.policy_version,
    wording:
      row.text_hash && row.body !== null && row.language !== null
        ? { hash: row.text_hash.toString('hex'), language: row.language, text: row.body }
        : null,
    staffId: row.staff_id,
    statement: row.statement,
    proofReference: row.proof_reference,
  }));
}

/** VK-6: an interest profile goes at once when its consent is withdrawn or objected to. */
export async function deleteInterestProfile(tx: Tx, grant: Grant, subjectId: number): Promise<number> {
  if (grant.tenantId <= 0) throw new Error('grant without tenant');
  const result = await tx
    .deleteFrom('interest_profiles')
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** VK-19: tracking events go when tracking consent is withdrawn (retention: until withdrawn). */
export async function deleteTrackingEvents(tx: Tx, grant: Grant, subjectId: number): Promise<number> {
  if (grant.tenantId <= 0) throw new Error('grant without tenant');
  const result = await tx
    .deleteFrom('tracking_events')
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
