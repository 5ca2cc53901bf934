import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditedTx } from '../../kernel/audit/index.js';
import { eraseSubject, isErasureHeld } from '../../kernel/erasure/index.js';
import { coveredBy } from '../../kernel/gate/access.js';
import { AccessDenied, type Actor } from '../../kernel/gate/gate.js';
import type { Language, Policy } from '../../kernel/policy/policy.schema.js';
import { registerSubject, type PurposeState } from '../../kernel/subjects/index.js';
import { AppError, describeUnexpected } from '../../platform/errors.js';
import { findPersonOfTypeAt, hasPersonRecord, readPeopleUnderGrant } from '../parties/index.js';
import { assertAllowed, countAttempt, type Limit } from '../throttle/index.js';
import type { Tenant } from '../tenants/index.js';
import type { MailLanguage } from './consent.tables.js';
import type { ConsentDeps } from './deps.js';
import type { ConsentRecord } from './ledger.repository.js';
import {
  appendConsentWithin,
  consentWording,
  doubleOptInPurposeOf,
  readPurposeState,
  recordConsent,
  type ConsentContext,
  type RecordConsentInput,
} from './ledger.service.js';
import { lockConsentLedger, selectConsentRecords } from './ledger.repository.js';
import {
  endPendingSignups,
  insertSignup,
  selectPendingSignup,
  isSignupAddress,
  selectSignupAddresses,
  selectSubjectIdsBySignupAddress,
  selectSubjectSignedUpAt,
  hasOtherLiveSignup,
} from './signup.repository.js';

/** An unconfirmed sign-up is erased after a week (decision 0131). */
export const SIGNUP_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;
/** A staff or portal ask repeated within this window, to the same address, sends no second mail (0990). */
export const REPEAT_WINDOW_MS = 10 * 60 * 1000;
const SIGNUP: Actor = { kind: 'system', job: 'newsletter-signup' };
const EMAIL = 'user.contact.email';
const EXPIRY: Actor = { kind: 'system', job: 'newsletter-signup-expiry' };

/** The sign-up form is a public door: per client address, per typed address, per tenant. */
export const SIGNUP_LIMITS = {
  byAddress: { bucket: 'newsletter-signup.address', mode: 'block', max: 20, windowMs: HOUR },
  byTarget: { bucket: 'newsletter-signup.target', mode: 'block', max: 3, windowMs: HOUR },
  byTenant: { bucket: 'newsletter-signup.tenant', mode: 'block', max: 1000, windowMs: HOUR },
} as const satisfies Record<string, Limit>;

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();
const emailSchema = z.string().trim().toLowerCase().max(320).email('expected an e-mail address');

/** The opt-in newsletter of the policy that needs a confirmation (VK-17, VX-9), or a 404. */
function optInOf(policy: Policy): { purpose: string; subjectType: string } {
  const optIn = policy.newsletter?.optIn;
  const subjectType = optIn?.subjectTypes[0];
  if (!optIn || !subjectType)
    throw new AppError('not_found', 'no newsletter sign-up', {
      publicMessage: 'this provider has no newsletter to sign up for',
    });
  return { purpose: optIn.purpose, subjectType };
}

export function mailLanguageOf(policy: Policy, asked: string | undefined): MailLanguage {
  const languages: readonly Language[] = policy.statement.languages;
  const found = languages.find((language) => language === asked);
  return found ?? languages[0] ?? 'nl';
}

const CONFIRM_MAIL: Record<MailLanguage, { subject: string; text: string }> = {
  nl: {
    subject: 'Bevestig uw inschrijving op onze nieuwsbrief',
    text: 'Iemand, hopelijk u, schreef dit adres in op de nieuwsbrief van {controller}. Bevestig via deze link (7 dagen geldig):\n\n{link}\n\nWas u het niet? Dan hoeft u niets te doen: zonder bevestiging wissen we het adres.',
  },
  fr: {
    subject: 'Confirmez votre inscription à notre lettre d’information',
    text: 'Quelqu’un, vous espérons-le, a inscrit cette adresse à la lettre d’information de {controller}. Confirmez via ce lien (valable 7 jours) :\n\n{link}\n\nCe n’était pas vous ? Vous n’avez rien à faire : sans confirmation, nous effaçons l’adresse.',
  },
  en: {
    subject: 'Confirm your newsletter subscription',
    text: 'Someone, hopefully you, signed this address up for the newsletter of {controller}. Confirm with this link (valid for 7 days):\n\n{link}\n\nWasn’t it you? Then do nothing: without a confirmation we erase the address.',
  },
};

export function controllerName(policy: Policy): string {
  return `${policy.controller.legalName} ${policy.controller.legalForm}`;
}

/**
 * A newsletter sign-up from the public form (double opt-in, VK-17): a new data subject whose state
 * for the opt-in purpose is pending, the wording shown recorded in the ledger, the address kept
 * encrypted, and a confirmation link mailed to it. Nothing is sent to the address but that mail
 * until it is confirmed. An address signed up before asks that subscriber again (its newest link
 * confirms), and a subscribed one is left as it is (decision 1022); so does the address of a
 * person on record of the type the form makes (decision 1140). The answer is the same whatever
 * the address.
 */
export async function signUp(
  deps: ConsentDeps,
  tenantSlug: string,
  input: { email: string; language?: string | undefined },
  clientAddress: string,
): Promise<void> {
  const { kernel } = deps;
  const tenant = await kernel.tenants.bySlug(tenantSlug);
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const { purpose, subjectType } = optInOf(policy);
  const parsed = emailSchema.safeParse(input.email);
  if (!parsed.success)
    throw new AppError('validation_failed', 'bad e-mail address', {
      publicMessage: 'email: expected an e-mail address',
      details: { issues: [{ path: 'body/email', message: 'expected an e-mail address' }] },
    });
  const email = parsed.data;
  assertAllowed(
    await countAttempt(kernel, tenant.tenantId, [
      { limit: SIGNUP_LIMITS.byAddress, value: clientAddress },
      { limit: SIGNUP_LIMITS.byTarget, value: email },
      { limit: SIGNUP_LIMITS.byTenant, value: '' },
    ]),
    'too many sign-ups',
  );
  const language = mailLanguageOf(policy, input.language);
  const token = randomBytes(32).toString('base64url');
  const tokenHash = sha256(token);
  const now = kernel.clock.now();
  const context = { tenantId: tenant.tenantId, actor: SIGNUP };
  const wording = { language, text: consentWording(policy, purpose, language) };
  let askingKnownSubject = false;
  const asked = kernel.transact(tenant.tenantId, async (atx) => {
    const search = await kernel.gate.authorize(atx, SIGNUP, {
      purpose,
      action: 'read',
      categories: [EMAIL],
      subjectIds: [],
    });
    // One address, one subscriber (attack S21-B-8, decision 1022): the form sent again for an
    // address signed up before asks that subscriber again instead of making a second one. A
    // person on record of the type the form makes, with this address, is asked the same way
    // (attack S23-4, decision 1140): the click then records the consent on the one subject the
    // portal reaches. The people lock first, then the sign-up lock: the staff route's order.
    const onRecord = await findPersonOfTypeAt(atx.tx, search, subjectType, email);
    const earlier =
      (await selectSubjectSignedUpAt(atx.tx, search, purpose, email, now)) ??
      (onRecord === undefined ? undefined : { subjectId: onRecord, isKept: true });
    if (earlier) {
      askingKnownSubject = true;
      const { subjectId } = earlier;
      await lockConsentLedger(atx.tx, tenant.tenantId, subjectId, purpose);
      // Subscribed already: nothing to ask, and the public answer is the same (no mail, no record).
      if ((await readPurposeState(atx, subjectId, purpose)) === 'consented') return false;
      if ((await selectPendingSignup(atx.tx, subjectId, purpose, now)) !== undefined) {
        // The newest link is the one that confirms; the earlier ones confirm nothing (0990).
        const erase = await kernel.gate.authorize(atx, SIGNUP, {
          purpose,
          action: 'erase',
          categories: [EMAIL],
          subjectIds: [subjectId],
        });
        await endPendingSignups(atx.tx, erase, subjectId, purpose, now);
      }
      await appendConsentWithin(kernel, atx, context, {
        subjectId,
        purpose,
        event: 'signed_up',
        channel: 'web_form',
        wording,
        proofReference: `signup_link:${tokenHash.toString('hex').slice(0, 16)}`,
      });
      await storeSignup(kernel, atx, { subjectId, purpose, email, language, tokenHash, now }, earlier.isKept);
      return true;
    }
    const subjectId = await registerSubject(atx, subjectType, now);
    await appendConsentWithin(kernel, atx, context, {
      subjectId,
      purpose,
      event: 'signed_up',
      channel: 'web_form',
      wording,
    });
    await storeSignup(kernel, atx, { subjectId, purpose, email, language, tokenHash, now }, false);
    return true;
  });
  // A known subject the gate may not ask (one who objected to direct marketing, a minor without
  // parental consent) gets the answer anyone gets, and nothing is recorded or mailed: a public
  // form must not tell who is on record or what they chose (decision 1140).
  const mailed = await asked.catch((error: unknown) => {
    if (askingKnownSubject && error instanceof AccessDenied) return false;
    throw error;
  });
  // The address in hand is the one the link goes to; it is never read back before confirmation.
  if (mailed) sendConfirmation(deps, tenant, policy, { email, language, token });
}

/** Keeps a sign-up's address: while pending, the gate lets the system store it, nothing more. */
async function storeSignup(
  kernel: ConsentDeps['kernel'],
  atx: AuditedTx,
  signup: {
    subjectId: number;
    purpose: string;
    email: string;
    language: MailLanguage;
    tokenHash: Buffer;
    now: Date;
  },
  forExistingSubject: boolean,
): Promise<void> {
  const grant = await kernel.gate.authorize(atx, SIGNUP, {
    purpose: signup.purpose,
    action: 'store',
    categories: [EMAIL],
    subjectIds: [signup.subjectId],
  });
  await insertSignup(atx.tx, grant, {
    subjectId: signup.subjectId,
    purpose: signup.purpose,
    email: signup.email,
    language: signup.language,
    tokenHash: signup.tokenHash,
    at: signup.now,
    expiresAt: new Date(signup.now.getTime() + SIGNUP_TTL_MS),
    forExistingSubject,
  });
}

/** The confirmation mail of a sign-up (the same for the public form and every other door). */
function sendConfirmation(
  deps: Pick<ConsentDeps, 'mailer' | 'publicUrl' | 'logger'>,
  tenant: { slug: string },
  policy: Policy,
  signup: { email: string; language: MailLanguage; token: string },
): void {
  const text = CONFIRM_MAIL[signup.language];
  const link = `${deps.publicUrl}/t/${tenant.slug}/newsletter/confirm/${signup.token}`;
  deps.mailer
    .send({
      to: signup.email,
      subject: text.subject,
      text: text.text.replace('{controller}', controllerName(policy)).replace('{link}', link),
      fromName: controllerName(policy),
    })
    .catch((error: unknown) =>
      deps.logger.error({ err: describeUnexpected(error) }, 'newsletter confirmation mail failed'),
    );
}

/** A consent event and the gate's state of the purpose after it. */
export interface ConsentOutcome {
  record: ConsentRecord;
  state: PurposeState | 'none';
}

/**
 * Records a consent event from staff (phone, import) or from the person's privacy portal. Consent
 * to a double opt-in newsletter (VK-17, VX-9) is not given by these doors (decision 0910): it is
 * recorded as a sign-up (state pending, with the wording and what the person said), and the
 * public form's confirmation mail goes to the address the person gave staff (`email`), or in the
 * portal to the address on their record; only the confirmation makes it `consented`. A person
 * who already confirmed keeps their consent. Every other event is recorded as it comes.
 * Categories: user.contact.email (stored encrypted for the confirmation) under the opt-in purpose.
 */
export async function recordConsentOrAskConfirmation(
  deps: Pick<ConsentDeps, 'kernel' | 'mailer' | 'publicUrl' | 'logger'>,
  context: ConsentContext,
  input: RecordConsentInput & { email?: string | undefined },
): Promise<ConsentOutcome> {
  const { kernel } = deps;
  const { policy } = await kernel.policies.current(context.tenantId);
  const purpose = input.purpose;
  const asksConfirmation =
    input.event === 'given' &&
    purpose !== null &&
    purpose === doubleOptInPurposeOf(policy) &&
    input.channel !== 'double_opt_in';
  if (!asksConfirmation || purpose === null) {
    const record = await recordConsent(kernel, context, input);
    return { record, state: stateAfter(record) };
  }
  const tenant = await kernel.tenants.byId(context.tenantId);
  const language = mailLanguageOf(policy, input.wording?.language);
  const token = randomBytes(32).toString('base64url');
  const tokenHash = sha256(token);
  const now = kernel.clock.now();
  const asked = await kernel.transact(context.tenantId, async (atx) => {
    // One ask at a time per person and purpose: concurrent asks wait here and see the first one's
    // sign-up (attack S21-4, decision 0990).
    await lockConsentLedger(atx.tx, context.tenantId, input.subjectId, purpose);
    if ((await readPurposeState(atx, input.subjectId, purpose)) === 'consented') {
      const record = await appendConsentWithin(kernel, atx, context, input);
      return { record, email: undefined };
    }
    const email = await confirmationAddress(deps, atx, context, policy, input.subjectId, input.email);
    const pending = await selectPendingSignup(atx.tx, input.subjectId, purpose, now);
    if (pending) {
      const grant = await kernel.gate.authorize(atx, SIGNUP, {
        purpose,
        action: 'store',
        categories: [EMAIL],
        subjectIds: [input.subjectId],
      });
      const sameAddress = await isSignupAddress(atx.tx, grant, input.subjectId, pending.signupId, email);
      // The same address asked again within minutes (a double click, five at once): the mail is
      // on its way, its link stays the one; nothing is sent again.
      if (sameAddress && now.getTime() - pending.createdAt.getTime() < REPEAT_WINDOW_MS) {
        const record = await latestSignedUp(kernel, atx, context, input.subjectId, purpose);
        if (record) return { record, email: undefined };
      }
      // Otherwise the new ask supersedes: the earlier links (perhaps to a mistyped address)
      // confirm nothing from now on.
      const erase = await kernel.gate.authorize(atx, SIGNUP, {
        purpose,
        action: 'erase',
        categories: [EMAIL],
        subjectIds: [input.subjectId],
      });
      await endPendingSignups(atx.tx, erase, input.subjectId, purpose, now);
    }
    // Each ask is its own ledger record, its proof the sign-up whose link was mailed.
    const record = await appendConsentWithin(kernel, atx, context, {
      ...input,
      event: 'signed_up',
      proofReference: `signup_link:${tokenHash.toString('hex').slice(0, 16)}`,
    });
    // Pending now: the gate lets the system store the address the confirmation goes to, nothing more.
    const grant = await kernel.gate.authorize(atx, SIGNUP, {
      purpose,
      action: 'store',
      categories: [EMAIL],
      subjectIds: [input.subjectId],
    });
    await insertSignup(atx.tx, grant, {
      subjectId: input.subjectId,
      purpose,
      email,
      language,
      tokenHash,
      at: now,
      expiresAt: new Date(now.getTime() + SIGNUP_TTL_MS),
      forExistingSubject: true,
    });
    return { record, email };
  });
  if (asked.email !== undefined)
    sendConfirmation(deps, tenant, policy, { email: asked.email, language, token });
  return { record: asked.record, state: asked.record.event === 'signed_up' ? 'pending' : 'consented' };
}

/** The person's latest sign-up record for the purpose (the ask a repeat is answered with). */
async function latestSignedUp(
  kernel: ConsentDeps['kernel'],
  atx: AuditedTx,
  context: ConsentContext,
  subjectId: number,
  purpose: string,
): Promise<ConsentRecord | undefined> {
  const grant = await kernel.gate.authorize(atx, context.actor, {
    purpose,
    action: 'read',
    categories: [],
    subjectIds: [],
    ...(context.requestId ? { requestId: context.requestId } : {}),
  });
  const records = await selectConsentRecords(atx.tx, grant, subjectId, { purposes: [purpose] });
  return records.filter((record) => record.event === 'signed_up').at(-1);
}

function stateAfter(record: ConsentRecord): PurposeState | 'none' {
  switch (record.event) {
    case 'signed_up':
      return 'pending';
    case 'given':
      return 'consented';
    case 'withdrawn':
      return 'withdrawn';
    case 'objected':
      return 'objected';
    case 'objected_marketing':
      return 'none';
  }
}

/**
 * Where the confirmation goes: the address the person gave staff (as on the public form), or, in
 * their own portal, the one on file: their record's, else that of their confirmed sign-up (a
 * subscriber of the public form has no other). Read as the person, on their own data, under the
 * rights purpose: the opt-in purpose may not cover the person's type or state, and asking again
 * after a withdrawal is the person's right (attack S21-B-2, decision 1021). Staff never read it
 * here: without the consent the gate gives them no address under this purpose.
 */
async function confirmationAddress(
  deps: Pick<ConsentDeps, 'kernel'>,
  atx: AuditedTx,
  context: ConsentContext,
  policy: Policy,
  subjectId: number,
  given: string | undefined,
): Promise<string> {
  const missing = (message: string): AppError =>
    new AppError('validation_failed', 'no address for the double opt-in', {
      publicMessage: message,
      details: { issues: [{ path: 'body/email', message }], reason: NO_CONFIRMATION_ADDRESS },
    });
  if (context.actor.kind !== 'subject') {
    if (given === undefined)
      throw missing(
        'email: the address the person gave for the newsletter; the confirmation mail goes there (double opt-in)',
      );
    const parsed = emailSchema.safeParse(given);
    if (!parsed.success) throw missing('email: expected an e-mail address');
    return parsed.data;
  }
  const rights = rightsPurposeOf(policy);
  try {
    if (rights !== undefined && coveredBy(policy, rights, [EMAIL]).length > 0) {
      const grant = await deps.kernel.gate.authorize(atx, context.actor, {
        purpose: rights,
        action: 'read',
        categories: [EMAIL],
        subjectIds: [subjectId],
        ...(context.requestId ? { requestId: context.requestId } : {}),
      });
      const [person] = await readPeopleUnderGrant(atx.tx, grant, [subjectId]);
      if (person?.email) return person.email;
      const signedUp = (await selectSignupAddresses(atx.tx, grant, [subjectId])).get(subjectId);
      if (signedUp) return signedUp.email;
    }
  } catch (error) {
    if (!(error instanceof AccessDenied)) throw error;
  }
  throw missing('we have no e-mail address of yours to send the confirmation to');
}

/** `details.reason` of the refusal when no address is on file for a portal ask (the portal says so). */
export const NO_CONFIRMATION_ADDRESS = 'no_confirmation_address';

/** The purpose the policy declares for the data subject's rights (wholePerson: rights). */
function rightsPurposeOf(policy: Policy): string | undefined {
  return Object.entries(policy.purposes).find(([, candidate]) => candidate.wholePerson === 'rights')?.[0];
}

/** `used`: confirmed once, but the person has stopped the newsletter since (sign up again). */
export type ConfirmOutcome = 'confirmed' | 'used' | 'unknown';

/** The page language of a confirmation token (its sign-up's), or the policy's first. */
export async function signupLanguage(
  deps: ConsentDeps,
  tenant: Tenant,
  token: string,
): Promise<MailLanguage> {
  const row = await deps.kernel.plain(tenant.tenantId, (tx) =>
    tx
      .selectFrom('newsletter_signups')
      .select('language')
      .where('token_hash', '=', sha256(token))
      .executeTakeFirst(),
  );
  if (row) return row.language;
  const { policy } = await deps.kernel.policies.current(tenant.tenantId);
  return mailLanguageOf(policy, undefined);
}

/**
 * The confirmation (a POST from the page the link opens, never the GET a mail scanner makes):
 * the ledger records the consent with the sign-up as its proof, and from then on the person is in
 * the opt-in audience. A second confirmation changes nothing and says so truthfully: `confirmed`
 * while the consent holds, `used` once it was withdrawn since (attack S21-2). An expired link, one
 * superseded by a newer ask, or one whose sign-up was withdrawn before it was confirmed is
 * unknown (attack S21-1, decision 0990).
 */
export async function confirmSignup(
  deps: ConsentDeps,
  tenant: Tenant,
  token: string,
): Promise<ConfirmOutcome> {
  const { kernel } = deps;
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const now = kernel.clock.now();
  return kernel.transact(tenant.tenantId, async (atx) => {
    const signup = await atx.tx
      .selectFrom('newsletter_signups')
      .select(['signup_id', 'subject_id', 'purpose', 'language', 'expires_at', 'confirmed_at'])
      .where('token_hash', '=', sha256(token))
      .forUpdate()
      .executeTakeFirst();
    if (!signup) return 'unknown';
    const state = await readPurposeState(atx, signup.subject_id, signup.purpose);
    const outcome = judgeLink(signup, state, now);
    if (outcome !== 'confirmable') return outcome;
    await appendConsentWithin(
      kernel,
      atx,
      { tenantId: tenant.tenantId, actor: SIGNUP },
      {
        subjectId: signup.subject_id,
        purpose: signup.purpose,
        event: 'given',
        channel: 'double_opt_in',
        wording: { language: signup.language, text: consentWording(policy, signup.purpose, signup.language) },
        proofReference: `signup:${signup.signup_id}`,
      },
    );
    await atx.tx
      .updateTable('newsletter_signups')
      .set({ confirmed_at: now })
      .where('signup_id', '=', signup.signup_id)
      .execute();
    return 'confirmed';
  });
}

/**
 * What a confirmation link would do now. Only a sign-up still waiting is confirmed; a stop ended
 * it (the row expired with it), and a confirmed one says whether the consent still holds.
 */
function judgeLink(
  signup: { confirmed_at: Date | null; expires_at: Date },
  state: PurposeState | undefined,
  now: Date,
): ConfirmOutcome | 'confirmable' {
  if (signup.confirmed_at !== null) return state === 'consented' ? 'confirmed' : 'used';
  if (signup.expires_at <= now || state !== 'pending') return 'unknown';
  return 'confirmable';
}

/**
 * What the confirmation link's page offers, read without changing anything (the GET a click or a
 * mail scanner makes; attack S21-B-5, decision 0990 amended): the button only for a link that
 * still confirms, else the page the POST would answer. The token is the link's secret: whoever
 * holds it may learn what pressing would do, and nothing is spent.
 */
export async function peekSignup(
  deps: ConsentDeps,
  tenant: Tenant,
  token: string,
): Promise<ConfirmOutcome | 'confirmable'> {
  const now = deps.kernel.clock.now();
  return deps.kernel.plain(tenant.tenantId, async (tx) => {
    const signup = await tx
      .selectFrom('newsletter_signups as n')
      .leftJoin('subject_purpose_states as p', (join) =>
        join
          .onRef('p.tenant_id', '=', 'n.tenant_id')
          .onRef('p.subject_id', '=', 'n.subject_id')
          .onRef('p.purpose', '=', 'n.purpose'),
      )
      .select(['n.confirmed_at', 'n.expires_at', 'p.state'])
      .where('n.token_hash', '=', sha256(token))
      .executeTakeFirst();
    return signup ? judgeLink(signup, signup.state ?? undefined, now) : 'unknown';
  });
}

/**
 * Unconfirmed sign-ups past their expiry are erased with their subject (the subject was made for
 * the sign-up and holds nothing else). A subject that holds more — another live sign-up (1022), or
 * a person record staff wrote on it while the sign-up waited (1140) — keeps everything but the
 * expired row. Idempotent: an erased subject's rows are gone.
 */
export async function expireSignups(deps: ConsentDeps, tenantId: number): Promise<number> {
  const { kernel } = deps;
  const { policy } = await kernel.policies.current(tenantId);
  const purpose = rightsPurposeOf(policy);
  if (!purpose) return 0;
  const now = kernel.clock.now();
  const due = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('newsletter_signups')
      .select(['signup_id', 'subject_id', 'purpose', 'for_existing_subject'])
      .where('confirmed_at', 'is', null)
      .where('expires_at', '<=', now)
      .execute(),
  );
  let erased = 0;
  for (const { signup_id: signupId, subject_id: subjectId, ...signup } of due) {
    // A subject asked again (a repeated public sign-up, decision 1022) keeps its newer or
    // confirmed sign-up: only this row goes.
    if (signup.for_existing_subject || (await holdsMoreThan(kernel, tenantId, subjectId, signupId, now))) {
      // The person was on record before: only the address kept for the confirmation goes (0910).
      await dropSignup(kernel, tenantId, { signupId, subjectId, purpose: signup.purpose });
      continue;
    }
    try {
      await eraseSubject(kernel, deps.dataMap, { tenantId, actor: EXPIRY, purpose, subjectId });
    } catch (error) {
      // Under a legal hold the person stays until it ends (decision 0415); the others go.
      if (isErasureHeld(error)) continue;
      throw error;
    }
    erased += 1;
  }
  return erased;
}

/** Whether a subject holds a live sign-up besides this one, or a person record (never erased here). */
async function holdsMoreThan(
  kernel: ConsentDeps['kernel'],
  tenantId: number,
  subjectId: number,
  signupId: number,
  now: Date,
): Promise<boolean> {
  return kernel.plain(
    tenantId,
    async (tx) =>
      (await hasOtherLiveSignup(tx, subjectId, signupId, now)) || (await hasPersonRecord(tx, subjectId)),
  );
}

/** An expired confirmation asked of a person on record: its row goes, as erasure under its purpose. */
async function dropSignup(
  kernel: ConsentDeps['kernel'],
  tenantId: number,
  signup: { signupId: number; subjectId: number; purpose: string },
): Promise<void> {
  await kernel.transact(tenantId, async (atx) => {
    await kernel.gate.authorize(atx, EXPIRY, {
      purpose: signup.purpose,
      action: 'erase',
      categories: [EMAIL],
      subjectIds: [signup.subjectId],
    });
    await atx.tx.deleteFrom('newsletter_signups').where('signup_id', '=', signup.signupId).execute();
  });
}

/** A person known by the address of their confirmed newsletter sign-up. */
export interface SignupContact {
  subjectId: number;
  email: string;
  language: MailLanguage;
}

/**
 * The people whose confirmed sign-up is at this address (attack S21-5, decision 0991): a
 * subscriber made by the public form has no address but that one, and their rights (a request's
 * code, a portal login link) reach them there. Searched and read under the caller's purpose (the
 * rights portal's); a refusal of the gate reads as no match.
 */
export async function findSignupContacts(
  kernel: ConsentDeps['kernel'],
  context: { tenantId: number; actor: Actor; purpose: string },
  email: string,
): Promise<SignupContact[]> {
  const parsed = emailSchema.safeParse(email);
  if (!parsed.success) return [];
  try {
    return await kernel.transact(context.tenantId, async (atx) => {
      const search = await kernel.gate.authorize(atx, context.actor, {
        purpose: context.purpose,
        action: 'read',
        categories: [EMAIL],
        subjectIds: [],
      });
      const subjectIds = await selectSubjectIdsBySignupAddress(
        atx.tx,
        await search.blindIndex(EMAIL, 'email', parsed.data),
      );
      if (subjectIds.length === 0) return [];
      const grant = await kernel.gate.authorize(atx, context.actor, {
        purpose: context.purpose,
        action: 'read',
        categories: [EMAIL],
        subjectIds,
      });
      const addresses = await selectSignupAddresses(atx.tx, grant, subjectIds);
      return subjectIds.flatMap((subjectId) => {
        const found = addresses.get(subjectId);
        return found ? [{ subjectId, ...found }] : [];
      });
    });
  } catch (error) {
    if (error instanceof AccessDenied) return [];
    throw error;
  }
}
