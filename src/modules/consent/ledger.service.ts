import { NOT_AVAILABLE, type Actor, type Grant } from '../../kernel/gate/gate.js';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { findPurpose } from '../../kernel/policy/policy.query.js';
import type { Language, Policy, Purpose } from '../../kernel/policy/policy.schema.js';
import { setMarketingObjection, setPurposeState, type PurposeState } from '../../kernel/subjects/index.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { AppError } from '../../platform/errors.js';
import { dossierPurposes, eraseDossierWithin, type DossierErasure } from '../dossier/index.js';
import { consentDataMap } from './datamap.js';
import { endPendingSignups, selectPendingSignup } from './signup.repository.js';
import type { ConsentChannel, ConsentEvent } from './consent.tables.js';
import {
  deleteInterestProfile,
  deleteTrackingEvents,
  insertConsentRecord,
  lockConsentLedger,
  selectConsentRecords,
  selectLatestConsentRecord,
  upsertConsentText,
  type ConsentRecord,
  type NewConsentRecord,
} from './ledger.repository.js';

/** Who acts, under which declared purpose (staff), from which request: plain data. */
export interface ConsentContext {
  tenantId: number;
  actor: Actor;
  /** The purpose staff declared (x-kluis-purpose); subjects and system jobs act under the record's. */
  purpose?: string;
  requestId?: string;
}

export interface RecordConsentInput {
  subjectId: number;
  /** null only with `objected_marketing` (Art. 21(2): every marketing purpose). */
  purpose: string | null;
  event: ConsentEvent;
  channel: ConsentChannel;
  /** The exact wording the person was shown or told (stored once, by hash). */
  wording?: { language: Language; text: string } | undefined;
  /** What the person said (staff on the phone), scanned on write (VK-16). */
  statement?: string | undefined;
  proofReference?: string | undefined;
}

const LEDGER_MAP = tableMap(consentDataMap, 'consent_records');
const SIGNUP_END: Actor = { kind: 'system', job: 'newsletter-signup-end' };

/** What a stop did beyond the gate's state, for a caller that reports it (a fulfilled request). */
export interface StopEffects {
  dossierErased?: DossierErasure['removed'];
}

const STATE_OF: Record<Exclude<ConsentEvent, 'objected_marketing'>, PurposeState> = {
  signed_up: 'pending',
  given: 'consented',
  withdrawn: 'withdrawn',
  objected: 'objected',
};

const invalid = (message: string): AppError =>
  new AppError('validation_failed', message, { publicMessage: message });

/** The purpose whose category is the interest profile (VK-6), if the policy has one. */
export function interestPurposeOf(policy: Policy): string | undefined {
  return Object.entries(policy.purposes).find(([, purpose]) =>
    purpose.categories.includes('kluis.marketing.interest_profile'),
  )?.[0];
}

/** The purpose of mail tracking (VK-19), if the policy asks for it. */
export function trackingPurposeOf(policy: Policy): string | undefined {
  const tracking = policy.newsletter?.tracking;
  return tracking?.opensAndClicks ? tracking.purpose : undefined;
}

/** The opt-in newsletter purpose when the policy asks for a double opt-in (VK-17, VX-9). */
export function doubleOptInPurposeOf(policy: Policy): string | undefined {
  const optIn = policy.newsletter?.optIn;
  return optIn?.doubleOptIn ? optIn.purpose : undefined;
}

/** Whether an event fits the purpose's legal basis: consent is given/withdrawn, legitimate interest objected to. */
function checkEvent(purpose: Purpose, key: string, event: ConsentEvent): void {
  const basis = purpose.legalBasis;
  const fits =
    (event === 'signed_up' && basis === 'consent') ||
    (event === 'given' && (basis === 'consent' || basis === 'legitimate_interests')) ||
    (event === 'withdrawn' && basis === 'consent') ||
    (event === 'objected' && basis === 'legitimate_interests');
  if (!fits) {
    throw invalid(
      basis === 'consent' || basis === 'legitimate_interests'
        ? `event ${event} does not apply to ${key}, which rests on ${basis.replaceAll('_', ' ')}`
        : `${key} rests on ${basis.replaceAll('_', ' ')}: there is no consent to give or withdraw`,
    );
  }
}

/** The event that stops a purpose: withdrawal of consent, or an objection to a legitimate interest. */
export function optOutEventFor(purpose: Purpose): 'withdrawn' | 'objected' {
  return purpose.legalBasis === 'consent' ? 'withdrawn' : 'objected';
}

/** The purpose the gate checks the actor under for a record (the marketing objection: any marketing purpose). */
function gatePurposeOf(policy: Policy, context: ConsentContext, input: RecordConsentInput): string {
  if (input.purpose !== null) return input.purpose;
  if (context.purpose !== undefined) {
    if (!findPurpose(policy, context.purpose)?.marketing)
      throw invalid('an objection to direct marketing is recorded under a marketing purpose');
    return context.purpose;
  }
  const marketing = Object.entries(policy.purposes).find(([, purpose]) => purpose.marketing)?.[0];
  if (!marketing) throw invalid('this policy has no marketing purpose to object to');
  return marketing;
}

/**
 * Appends one record to the consent ledger inside the caller's transaction and moves the gate's
 * state with it, so the next gate decision already sees it: a withdrawal or objection stops the
 * purpose at once. The actor's role is checked by the gate under the record's purpose (staff: the
 * declared one must be it); the subject must be of a type the purpose reaches. Withdrawing
 * profiling consent, or objecting to marketing, deletes the interest profile in the same
 * transaction (VK-6); withdrawing tracking consent deletes the tracking events (VK-19).
 */
export async function appendConsentWithin(
  kernel: Kernel,
  atx: AuditedTx,
  context: ConsentContext,
  input: RecordConsentInput,
  effects: StopEffects = {},
): Promise<ConsentRecord> {
  const { policy, statementVersion } = await kernel.policies.current(context.tenantId);
  if ((input.purpose === null) !== (input.event === 'objected_marketing'))
    throw invalid('an objection to all direct marketing names no purpose; every other record names one');
  const purpose = input.purpose === null ? undefined : findPurpose(policy, input.purpose);
  if (input.purpose !== null) {
    if (!purpose) throw invalid(`purpose: the policy has no purpose "${input.purpose}"`);
    checkEvent(purpose, input.purpose, input.event);
  }
  if (context.actor.kind === 'staff' && input.purpose !== null && context.purpose !== input.purpose)
    throw invalid('purpose: must be the purpose declared in x-kluis-purpose');
  // Only the e-mail confirmation gives a double opt-in (decision 0910); the other doors ask for it
  // (signup.service.ts:recordConsentOrAskConfirmation), so this refusal is the last line.
  if (
    input.event === 'given' &&
    input.channel !== 'double_opt_in' &&
    input.purpose !== null &&
    input.purpose === doubleOptInPurposeOf(policy) &&
    (await readPurposeState(atx, input.subjectId, input.purpose)) !== 'consented'
  )
    throw invalid(`${input.purpose} is given only by confirming the e-mail sent for it (double opt-in)`);
  if (input.statement !== undefined)
    assertFreeTextAllowed(LEDGER_MAP, [{ column: 'statement', field: 'statement', value: input.statement }]);
  const grant = await kernel.gate.authorize(atx, context.actor, {
    purpose: gatePurposeOf(policy, context, input),
    action: 'store',
    categories: [],
    subjectIds: [],
    ...(context.requestId ? { requestId: context.requestId } : {}),
  });
  await assertSubjectReached(atx, input.subjectId, purpose);
  const now = kernel.clock.now();
  const textHash = input.wording
    ? await upsertConsentText(atx.tx, context.tenantId, input.wording.language, input.wording.text, now)
    : null;
  const newRecord: NewConsentRecord = {
    subjectId: input.subjectId,
    purpose: input.purpose,
    event: input.event,
    channel: input.channel,
    policyVersion: statementVersion,
    textHash,
    staffId: context.actor.kind === 'staff' ? context.actor.staffId : null,
    statement: input.statement ?? null,
    proofReference: input.proofReference ?? null,
    at: now,
  };
  // The same event sent twice at once (a mail client's one-click and the person's click) is one
  // state change: under the lock, a repeat of the latest record is answered with that record
  // (attack S20-9; decision 0921).
  await lockConsentLedger(atx.tx, context.tenantId, input.subjectId, input.purpose);
  const latest = await selectLatestConsentRecord(atx.tx, grant, input.subjectId, input.purpose);
  if (latest !== undefined && isSameRecord(latest, newRecord))
    return readRecord(atx, grant, input.subjectId, latest.recordId);
  const recordId = await insertConsentRecord(atx.tx, grant, newRecord);
  if (input.event === 'objected_marketing') {
    await setMarketingObjection(atx, input.subjectId, now);
  } else if (input.purpose !== null) {
    await setPurposeState(atx, {
      subjectId: input.subjectId,
      purpose: input.purpose,
      state: STATE_OF[input.event],
      policyVersion: statementVersion,
      channel: input.channel,
      at: now,
    });
  }
  await applyStopEffects(kernel, atx, grant, policy, input, effects);
  return readRecord(atx, grant, input.subjectId, recordId);
}

async function readRecord(
  atx: AuditedTx,
  grant: Grant,
  subjectId: number,
  recordId: number,
): Promise<ConsentRecord> {
  const [record] = (await selectConsentRecords(atx.tx, grant, subjectId)).filter(
    (candidate) => candidate.recordId === recordId,
  );
  if (!record) throw new AppError('internal', 'ledger record vanished');
  return record;
}

/** Whether a new record says nothing the stored one does not: same event, channel, wording, words and proof. */
function isSameRecord(stored: Omit<NewConsentRecord, 'at'>, next: NewConsentRecord): boolean {
  return (
    stored.event === next.event &&
    stored.channel === next.channel &&
    stored.policyVersion === next.policyVersion &&
    (stored.textHash === null ? next.textHash === null : next.textHash?.equals(stored.textHash) === true) &&
    stored.staffId === next.staffId &&
    stored.statement === next.statement &&
    stored.proofReference === next.proofReference
  );
}

/** Records a consent event in its own transaction (see appendConsentWithin). */
export async function recordConsent(
  kernel: Kernel,
  context: ConsentContext,
  input: RecordConsentInput,
): Promise<ConsentRecord> {
  return kernel.transact(context.tenantId, (atx) => appendConsentWithin(kernel, atx, context, input));
}

/** The gate's current state of a person for a purpose (none recorded: undefined). */
export async function readPurposeState(
  atx: AuditedTx,
  subjectId: number,
  purpose: string,
): Promise<PurposeState | undefined> {
  const row = await atx.tx
    .selectFrom('subject_purpose_states')
    .select('state')
    .where('subject_id', '=', subjectId)
    .where('purpose', '=', purpose)
    .executeTakeFirst();
  return row?.state;
}

async function assertSubjectReached(
  atx: AuditedTx,
  subjectId: number,
  purpose: Purpose | undefined,
): Promise<void> {
  const subject = await atx.tx
    .selectFrom('data_subjects')
    .select(['subject_type', 'erased_at'])
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  // A person who does not exist, is erased, or is of a type the purpose does not reach: one answer.
  if (
    !subject ||
    subject.erased_at !== null ||
    (purpose && !purpose.subjectTypes.includes(subject.subject_type))
  )
    throw new AppError('not_found', 'no such subject for this purpose', { publicMessage: NOT_AVAILABLE });
}

async function applyStopEffects(
  kernel: Kernel,
  atx: AuditedTx,
  grant: Grant,
  policy: Policy,
  input: RecordConsentInput,
  effects: StopEffects,
): Promise<void> {
  const stops =
    input.event === 'withdrawn' || input.event === 'objected' || input.event === 'objected_marketing';
  if (!stops) return;
  // A confirmation still asked for the opt-in newsletter ends with the stop: its link, mailed
  // before, confirms nothing after (attack S21-1, decision 0990).
  const optIn = policy.newsletter?.optIn?.purpose;
  const now = kernel.clock.now();
  if (
    optIn !== undefined &&
    (input.purpose === optIn ||
      (input.event === 'objected_marketing' && policy.purposes[optIn]?.marketing)) &&
    (await selectPendingSignup(atx.tx, input.subjectId, optIn, now)) !== undefined
  ) {
    const erase = await kernel.gate.authorize(atx, SIGNUP_END, {
      purpose: optIn,
      action: 'erase',
      categories: ['user.contact.email'],
      subjectIds: [input.subjectId],
    });
    await endPendingSignups(atx.tx, erase, input.subjectId, optIn, now);
  }
  // The technical dossier goes with the objection to keeping it, whatever the door: the portal,
  // staff on the phone or a fulfilled request (decision 0915, attack S21-3).
  if (
    input.event === 'objected' &&
    input.purpose !== null &&
    dossierPurposes(policy).includes(input.purpose)
  ) {
    const erased = await eraseDossierWithin(kernel, atx, {
      subjectId: input.subjectId,
      purpose: input.purpose,
      trigger: 'objection',
    });
    effects.dossierErased = erased.removed;
  }
  const interest = interestPurposeOf(policy);
  const marketingInterest = interest !== undefined && policy.purposes[interest]?.marketing === true;
  if (
    interest !== undefined &&
    (input.purpose === interest || (input.event === 'objected_marketing' && marketingInterest))
  ) {
    await deleteInterestProfile(atx.tx, grant, input.subjectId);
  }
  const tracking = trackingPurposeOf(policy);
  const marketingTracking = tracking !== undefined && policy.purposes[tracking]?.marketing === true;
  if (
    tracking !== undefined &&
    (input.purpose === tracking || (input.event === 'objected_marketing' && marketingTracking))
  ) {
    await deleteTrackingEvents(atx.tx, grant, input.subjectId);
  }
}

/** The ledger of a person; staff see the records of the purpose they declared (need to know). */
export async function listConsentRecords(
  kernel: Kernel,
  context: ConsentContext,
  subjectId: number,
): Promise<ConsentRecord[]> {
  const { policy } = await kernel.policies.current(context.tenantId);
  return kernel.transact(context.tenantId, async (atx) => {
    const purposeKey = context.purpose;
    const purpose = purposeKey === undefined ? undefined : findPurpose(policy, purposeKey);
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: purposeKey ?? rightsPurpose(policy),
      action: 'read',
      categories: [],
      subjectIds: [],
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    await assertSubjectReached(atx, subjectId, context.actor.kind === 'staff' ? purpose : undefined);
    return selectConsentRecords(
      atx.tx,
      grant,
      subjectId,
      context.actor.kind === 'staff' && purposeKey !== undefined
        ? { purposes: [purposeKey], withMarketingObjections: purpose?.marketing === true }
        : {},
    );
  });
}

/**
 * The consent records of a person for purposes the policy in force no longer declares (decision
 * 0982, 1041): the ledger is read per declared purpose, so only the rights purpose (the privacy
 * officer's) reads these, as the person's own access report lists them. Oldest first.
 */
export async function listUndeclaredConsentRecords(
  kernel: Kernel,
  context: ConsentContext,
  subjectId: number,
): Promise<ConsentRecord[]> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const rights = rightsPurpose(policy);
  if (context.purpose !== rights)
    throw new AppError('purpose_not_allowed', 'undeclared-purpose ledger read outside the rights purpose', {
      publicMessage: `the consent records of purposes no longer in the policy are read under the purpose ${rights}`,
    });
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: rights,
      action: 'read',
      categories: [],
      subjectIds: [],
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    await assertSubjectReached(atx, subjectId, findPurpose(policy, rights));
    return selectConsentRecords(atx.tx, grant, subjectId, { outsidePurposes: Object.keys(policy.purposes) });
  });
}

/** The person's own view of their ledger is their right of access: the policy's rights purpose. */
function rightsPurpose(policy: Policy): string {
  const found = Object.entries(policy.purposes).find(([, purpose]) => purpose.wholePerson === 'rights');
  if (!found) throw new AppError('invalid_policy', 'the policy has no purpose for rights requests');
  return found[0];
}

/** What the privacy portal shows and stores when a person gives consent for a purpose. */
export function consentWording(policy: Policy, purposeKey: string, language: Language): string {
  const purpose = findPurpose(policy, purposeKey);
  const label = purpose?.label[language] ?? purposeKey;
  const controller = `${policy.controller.legalName} ${policy.controller.legalForm}`;
  switch (language) {
    case 'nl':
      return `Ik geef ${controller} toestemming voor: ${label}. Ik kan deze toestemming op elk moment intrekken, even eenvoudig als ik ze gaf.`;
    case 'fr':
      return `Je donne mon consentement à ${controller} pour : ${label}. Je peux retirer ce consentement à tout moment, aussi facilement que je l'ai donné.`;
    case 'en':
      return `I consent to ${controller} ${label.charAt(0).toLowerCase()}${label.slice(1)}. I can withdraw this consent at any time, as easily as I gave it.`;
  }
}

/** One purpose a person can consent to or object to, with their current state. */
export interface ConsentState {
  purpose: string;
  label: string;
  legalBasis: 'consent' | 'legitimate_interests';
  marketing: boolean;
  state: PurposeState | 'none';
  since: Date | null;
  /** The wording shown (and stored) when the person gives consent here. */
  wording: string;
}

/** The person's current choices per purpose that rests on consent or legitimate interest, for their portal. */
export async function listConsentStates(
  kernel: Kernel,
  context: ConsentContext & { actor: { kind: 'subject'; subjectId: number } },
  language: Language,
): Promise<{ marketingObjectedAt: Date | null; purposes: ConsentState[] }> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const subjectId = context.actor.subjectId;
  return kernel.transact(context.tenantId, async (atx) => {
    const subject = await atx.tx
      .selectFrom('data_subjects')
      .select(['subject_type', 'marketing_objected_at'])
      .where('subject_id', '=', subjectId)
      .executeTakeFirstOrThrow();
    const states = await atx.tx
      .selectFrom('subject_purpose_states')
      .select(['purpose', 'state', 'changed_at'])
      .where('subject_id', '=', subjectId)
      .execute();
    const byPurpose = new Map(states.map((row) => [row.purpose, row]));
    const purposes: ConsentState[] = [];
    for (const [key, purpose] of Object.entries(policy.purposes)) {
      if (!purpose.subjectTypes.includes(subject.subject_type)) continue;
      const basis = purpose.legalBasis;
      if (basis !== 'consent' && basis !== 'legitimate_interests') continue;
      const state = byPurpose.get(key);
      purposes.push({
        purpose: key,
        label: purpose.label[language],
        legalBasis: basis,
        marketing: purpose.marketing === true,
        state: state?.state ?? 'none',
        since: state?.changed_at ?? null,
        wording: consentWording(policy, key, language),
      });
    }
    return { marketingObjectedAt: subject.marketing_objected_at, purposes };
  });
}
