import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from '../../platform/database.js';
import type { Tx } from '../../platform/db.js';
import type { AuditedTx } from '../audit/index.js';
import type { PurposeState } from './subject.tables.js';

/**
 * Registers a new data subject and returns its id. The caller then writes the person's data
 * under a grant for that id; the registration itself carries no personal data.
 */
export async function registerSubject(atx: AuditedTx, subjectType: string, at: Date): Promise<number> {
  const row = await atx.tx
    .insertInto('data_subjects')
    .values({
      tenant_id: atx.tenantId,
      subject_type: subjectType,
      last_activity_at: at,
      last_received_at: at,
      created_at: at,
    })
    .returning('subject_id')
    .executeTakeFirstOrThrow();
  return row.subject_id;
}

/**
 * What moves a person's clocks: `received` (the default), data received from or about them (a
 * quote, order or contract, a bank account, a consent given), moves both the inactivity clock
 * (VK-13) and the collection clock that "12 months after we received it" counts from; `contact`
 * (a privacy-portal login, a rights request) moves the inactivity clock only (decision 0916).
 */
export type SubjectTouch = 'received' | 'contact';

/** The inactivity clock (VK-13): any interaction of the person with the provider moves it. */
export async function touchSubjects(
  atx: AuditedTx,
  subjectIds: readonly number[],
  at: Date,
  touch: SubjectTouch = 'received',
): Promise<void> {
  if (subjectIds.length === 0) return;
  const ids = (eb: ExpressionBuilder<Database, 'data_subjects'>) => eb.fn.any(eb.val([...subjectIds]));
  if (touch === 'contact') {
    await atx.tx
      .updateTable('data_subjects')
      .set({ last_activity_at: at })
      .where('subject_id', '=', ids)
      .where('last_activity_at', '<', at)
      .execute();
    return;
  }
  await atx.tx
    .updateTable('data_subjects')
    .set({
      last_activity_at: sql<Date>`greatest(last_activity_at, ${at})`,
      last_received_at: sql<Date>`greatest(last_received_at, ${at})`,
    })
    .where('subject_id', '=', ids)
    .where((eb) => eb.or([eb('last_activity_at', '<', at), eb('last_received_at', '<', at)]))
    .execute();
}

/**
 * Holds the subjects against erasure until the transaction ends (decision 0584). Erasure takes
 * each subject's row FOR UPDATE before it deletes anything, which waits for this FOR KEY SHARE
 * lock; and a lock taken here while an erasure is in progress waits for it to commit, so what
 * the transaction reads (and the gate decides) afterwards sees the subject erased. Rows are
 * locked in subject id order, the order `eraseSubjects` takes them in. A key share does not
 * block the touches and consent changes that update the row without its key.
 */
export async function holdSubjectsAgainstErasure(
  atx: AuditedTx,
  subjectIds: readonly number[],
): Promise<void> {
  if (subjectIds.length === 0) return;
  await atx.tx
    .selectFrom('data_subjects')
    .select('subject_id')
    .where('tenant_id', '=', atx.tenantId)
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...new Set(subjectIds)])))
    .orderBy('subject_id')
    .forKeyShare()
    .execute();
}

export interface PurposeStateChange {
  subjectId: number;
  purpose: string;
  state: PurposeState;
  policyVersion: string;
  channel: string;
  at: Date;
}

/** Records consent, its withdrawal, or an objection; the gate enforces it from the next decision on. */
export async function setPurposeState(atx: AuditedTx, change: PurposeStateChange): Promise<void> {
  await atx.tx
    .insertInto('subject_purpose_states')
    .values({
      tenant_id: atx.tenantId,
      subject_id: change.subjectId,
      purpose: change.purpose,
      state: change.state,
      policy_version: change.policyVersion,
      channel: change.channel,
      changed_at: change.at,
    })
    .onConflict((conflict) =>
      conflict.columns(['tenant_id', 'subject_id', 'purpose']).doUpdateSet({
        state: change.state,
        policy_version: change.policyVersion,
        channel: change.channel,
        changed_at: change.at,
      }),
    )
    .execute();
  // A confirmed opt-in is the person's own act: it moves the inactivity clock (decision 0095).
  if (change.state === 'consented') await touchSubjects(atx, [change.subjectId], change.at);
  atx.audit.record({
    actor: { kind: 'system', id: `purpose-state.${change.channel}` },
    role: null,
    purpose: change.purpose,
    action: `purpose_state.${change.state}`,
    subjectIds: [change.subjectId],
    decision: 'allowed',
  });
}

/** GDPR Art. 18: set or lift a restriction. */
export async function setRestriction(
  atx: AuditedTx,
  subjectId: number,
  restricted: boolean,
  at: Date,
): Promise<void> {
  await atx.tx
    .updateTable('data_subjects')
    .set({ restricted_at: restricted ? at : null, restriction_lift_on: null })
    .where('subject_id', '=', subjectId)
    .execute();
  atx.audit.record({
    actor: { kind: 'system', id: 'subject-state' },
    role: null,
    purpose: null,
    action: restricted ? 'subject.restrict' : 'subject.unrestrict',
    subjectIds: [subjectId],
    decision: 'allowed',
  });
}

/**
 * Every subject whose processing is restricted on `today` (Art. 18), with the instant it took
 * effect: what every purge keeps (decision 1200). A restriction whose announced lifting day has
 * come holds nothing more, even before the sweep records its end. Processing state only.
 */
export async function readRestrictedSubjects(tx: Tx, today: string): Promise<Map<number, Date>> {
  const rows = await tx
    .selectFrom('data_subjects')
    .select(['subject_id', 'restricted_at'])
    .where('restricted_at', 'is not', null)
    .where('erased_at', 'is', null)
    .where((eb) => eb.or([eb('restriction_lift_on', 'is', null), eb('restriction_lift_on', '>', today)]))
    .execute();
  const restricted = new Map<number, Date>();
  for (const row of rows) if (row.restricted_at) restricted.set(row.subject_id, row.restricted_at);
  return restricted;
}

/** Whether a restriction holds on `today`: set, and its announced lifting day (if any) not come. */
export function isRestrictionInForce(
  subject: { restricted_at: Date | null; restriction_lift_on: string | null },
  today: string,
): boolean {
  return subject.restricted_at !== null && (subject.restriction_lift_on ?? '9999-12-31') > today;
}

/**
 * Art. 18(3): records that the restriction of a person ends on `liftOn`, after the letter that
 * tells them so was sealed (the caller's transaction). Audited; the gate keeps enforcing the
 * restriction until the sweep ends it on that day (`endAnnouncedRestrictions`).
 */
export async function announceRestrictionLift(
  atx: AuditedTx,
  subjectId: number,
  liftOn: string,
): Promise<void> {
  await atx.tx
    .updateTable('data_subjects')
    .set({ restriction_lift_on: liftOn })
    .where('subject_id', '=', subjectId)
    .where('restricted_at', 'is not', null)
    .execute();
}

/**
 * Ends every restriction whose announced lifting day has come (decision 1200): the retention
 * sweep calls it before judging, so the person is judged as usual from that day. One audit
 * entry per person (`subject.unrestrict`).
 */
export async function endAnnouncedRestrictions(atx: AuditedTx, today: string): Promise<number[]> {
  const rows = await atx.tx
    .updateTable('data_subjects')
    .set({ restricted_at: null, restriction_lift_on: null })
    .where('restricted_at', 'is not', null)
    .where('restriction_lift_on', '<=', today)
    .returning('subject_id')
    .execute();
  for (const row of rows) {
    atx.audit.record({
      actor: { kind: 'system', id: 'subject-state' },
      role: null,
      purpose: null,
      action: 'subject.unrestrict',
      subjectIds: [row.subject_id],
      decision: 'allowed',
    });
  }
  return rows.map((row) => row.subject_id);
}

/** GDPR Art. 21(2)-(3): an objection to direct marketing stops every marketing purpose. */
export async function setMarketingObjection(atx: AuditedTx, subjectId: number, at: Date): Promise<void> {
  await atx.tx
    .updateTable('data_subjects')
    .set({ marketing_objected_at: at })
    .where('subject_id', '=', subjectId)
    .execute();
  atx.audit.record({
    actor: { kind: 'system', id: 'subject-state' },
    role: null,
    purpose: null,
    action: 'subject.object_marketing',
    subjectIds: [subjectId],
    decision: 'allowed',
  });
}

/** Bulk registration (demo data, imports): one insert for many subjects, ids in input order. */
export async function registerSubjects(
  atx: AuditedTx,
  subjectTypes: readonly string[],
  at: Date,
): Promise<number[]> {
  if (subjectTypes.length === 0) return [];
  const rows = await atx.tx
    .insertInto('data_subjects')
    .values(
      subjectTypes.map((subjectType) => ({
        tenant_id: atx.tenantId,
        subject_type: subjectType,
        last_activity_at: at,
        last_received_at: at,
        created_at: at,
      })),
    )
    .returning('subject_id')
    .execute();
  return rows.map((row) => row.subject_id);
}
