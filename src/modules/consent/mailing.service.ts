import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditedTx } from '../../kernel/audit/index.js';
import { refuseSensitiveText } from '../../kernel/datamap/free-text.js';
import { authorizeBatch, coveredBy, type AccessContext } from '../../kernel/gate/access.js';
import { AccessDenied, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { AppError } from '../../platform/errors.js';
import { readPeopleUnderGrant } from '../parties/index.js';
import type { MailLanguage } from './consent.tables.js';
import { trackingPurposeOf } from './ledger.service.js';
import { selectSignupAddresses } from './signup.repository.js';
import { assertMailingsCanBeSigned } from './settings.service.js';

const EMAIL = 'user.contact.email';
const LANGUAGE = 'user.demographic.language';
const ENGAGEMENT = 'kluis.marketing.email_engagement';
const MAIL_LANGUAGES = ['nl', 'fr', 'en'] as const;

const textSchema = z.object({
  subject: z.string().trim().min(1).max(200),
  body: z.string().trim().min(1).max(100_000),
});

export const createMailingInputSchema = z
  .object({
    texts: z
      .object({ nl: textSchema.optional(), fr: textSchema.optional(), en: textSchema.optional() })
      .refine(
        (texts) => Object.values(texts).some((text) => text !== undefined),
        'give a text in at least one language',
      )
      .describe('one subject and body per language; each person gets their preferred language'),
  })
  .meta({
    example: {
      texts: {
        nl: {
          subject: 'Glasvezel in uw straat',
          body: 'Beste klant,\n\nLees meer: https://www.example.be/glasvezel',
        },
        fr: {
          subject: 'La fibre dans votre rue',
          body: 'Cher client,\n\nEn savoir plus : https://www.example.be/fibre',
        },
      },
    },
  });
export type CreateMailingInput = z.infer<typeof createMailingInputSchema>;

export interface Mailing {
  mailingId: number;
  purpose: string;
  state: 'draft' | 'sending' | 'sent';
  createdAt: Date;
  queuedAt: Date | null;
  finishedAt: Date | null;
  languages: MailLanguage[];
  links: string[];
  recipients: Record<'pending' | 'sending' | 'sent' | 'skipped' | 'uncertain' | 'bounced', number>;
}

/** The purposes a mailing may be sent under: the policy's newsletter purposes (VK-17, VX-9). */
export function mailingPurposes(policy: Policy): string[] {
  const newsletter = policy.newsletter;
  if (!newsletter) return [];
  return [newsletter.legitimateInterest.purpose, ...(newsletter.optIn ? [newsletter.optIn.purpose] : [])];
}

function assertMailingPurpose(policy: Policy, purpose: string): void {
  if (!mailingPurposes(policy).includes(purpose))
    throw new AppError('validation_failed', 'not a newsletter purpose', {
      publicMessage: `x-kluis-purpose: mailings are sent under a newsletter purpose of the policy (${mailingPurposes(policy).join(', ') || 'none'})`,
    });
}

const URL_PATTERN = /https?:\/\/[^\s<>"')\]]+/g;

/** The links of a text, in order of appearance, without trailing punctuation. */
export function linksOf(text: string): string[] {
  return [...text.matchAll(URL_PATTERN)].map((match) => match[0].replace(/[.,;:!?]+$/, ''));
}

/** Staff compose a mailing under the newsletter purpose they declare; it is a draft until sent. */
export async function createMailing(
  kernel: Kernel,
  context: AccessContext & { actor: { kind: 'staff'; staffId: number; role: string } },
  input: CreateMailingInput,
): Promise<Mailing> {
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMailingPurpose(policy, context.purpose);
  const texts = MAIL_LANGUAGES.flatMap((language) => {
    const text = input.texts[language];
    return text ? [{ language, ...text }] : [];
  });
  for (const text of texts) {
    refuseSensitiveText(text.subject, `texts.${text.language}.subject`, 'identifiers');
    refuseSensitiveText(text.body, `texts.${text.language}.body`, 'identifiers');
  }
  const links = [...new Set(texts.flatMap((text) => linksOf(text.body)))];
  if (links.some((link) => link.length > 2048))
    throw new AppError('validation_failed', 'link too long', {
      publicMessage: 'texts: a link is longer than 2048 characters',
    });
  const now = kernel.clock.now();
  // The draft and the read of the answer in one transaction (decision 0725).
  return kernel.transact(context.tenantId, async (atx) => {
    // The role must hold the purpose (audited), whoever the mailing will reach.
    await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: [],
      subjectIds: [],
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    const mailing = await atx.tx
      .insertInto('mailings')
      .values({
        tenant_id: context.tenantId,
        purpose: context.purpose,
        state: 'draft',
        created_by_staff_id: context.actor.staffId,
        created_at: now,
      })
      .returning('mailing_id')
      .executeTakeFirstOrThrow();
    await atx.tx
      .insertInto('mailing_texts')
      .values(texts.map((text) => ({ tenant_id: context.tenantId, mailing_id: mailing.mailing_id, ...text })))
      .execute();
    if (links.length > 0)
      await atx.tx
        .insertInto('mailing_links')
        .values(
          links.map((url, index) => ({
            tenant_id: context.tenantId,
            mailing_id: mailing.mailing_id,
            link_no: index + 1,
            url,
          })),
        )
        .execute();
    return readAuthorized(kernel, atx, context, mailing.mailing_id);
  });
}

/** A mailing of the declared purpose with its counts per recipient state; another purpose's is a 404. */
export async function getMailing(
  kernel: Kernel,
  context: AccessContext,
  mailingId: number,
): Promise<Mailing> {
  return kernel.transact(context.tenantId, (atx) => readAuthorized(kernel, atx, context, mailingId));
}

/** The read of a mailing under the declared purpose: the gate's decision (audited), then the rows. */
async function readAuthorized(
  kernel: Kernel,
  atx: AuditedTx,
  context: AccessContext,
  mailingId: number,
): Promise<Mailing> {
  await kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action: 'read',
    categories: [],
    subjectIds: [],
    ...(context.requestId ? { requestId: context.requestId } : {}),
  });
  return readMailing(atx, mailingId, context.purpose);
}

async function readMailing(atx: AuditedTx, mailingId: number, purpose: string | undefined): Promise<Mailing> {
  let query = atx.tx.selectFrom('mailings').selectAll().where('mailing_id', '=', mailingId);
  if (purpose !== undefined) query = query.where('purpose', '=', purpose);
  const mailing = await query.executeTakeFirst();
  if (!mailing)
    throw new AppError('not_found', 'no such mailing', {
      publicMessage: 'no such mailing under this purpose',
    });
  const texts = await atx.tx
    .selectFrom('mailing_texts')
    .select('language')
    .where('mailing_id', '=', mailingId)
    .orderBy('language')
    .execute();
  const links = await atx.tx
    .selectFrom('mailing_links')
    .select('url')
    .where('mailing_id', '=', mailingId)
    .orderBy('link_no')
    .execute();
  const counts = await atx.tx
    .selectFrom('mailing_recipients')
    .select(['state', (eb) => eb.fn.countAll<string>().as('count')])
    .where('mailing_id', '=', mailingId)
    .groupBy('state')
    .execute();
  const recipients = { pending: 0, sending: 0, sent: 0, skipped: 0, uncertain: 0, bounced: 0 };
  for (const row of counts) recipients[row.state] = Number(row.count);
  return {
    mailingId: mailing.mailing_id,
    purpose: mailing.purpose,
    state: mailing.state,
    createdAt: mailing.created_at,
    queuedAt: mailing.queued_at,
    finishedAt: mailing.finished_at,
    languages: texts.map((text) => text.language),
    links: links.map((link) => link.url),
    recipients,
  };
}

export interface AudienceMember {
  subjectId: number;
  email: string;
  addressBidx: Buffer;
  source: 'person' | 'signup';
  language: MailLanguage;
  tracked: boolean;
}

export interface Audience {
  members: AudienceMember[];
  /** Why candidates were left out, as counts (no one is named). */
  leftOut: {
    refusedByGate: number;
    minors: number;
    noAddress: number;
    suppressed: number;
    duplicates: number;
  };
}

/** A person's language if the mailing has it, else the policy's first that it has, else any it has. */
function pickLanguage(
  policy: Policy,
  available: readonly MailLanguage[],
  preferred: string | null | undefined,
): MailLanguage {
  const candidates = [preferred, ...policy.statement.languages, ...available];
  const found = candidates.find((language): language is MailLanguage =>
    available.includes(language as MailLanguage),
  );
  return found ?? available[0] ?? 'nl';
}

/**
 * Who a mailing under `purpose` reaches (VK-17, VX-9): the soft opt-in customers of the
 * legitimate-interest purpose, or those who confirmed the opt-in. Everyone passes the gate under
 * the purpose (objected, restricted, withdrawn, erased, unconfirmed and, for consent, minors are
 * refused by it); minors without parental consent are also left out of the legitimate-interest
 * audience; suppressed addresses (unsubscribed, hard bounces) are left out; one mail per address.
 * `tracked` when the person consented to mail tracking (VK-19).
 */
export async function computeAudience(
  kernel: Kernel,
  atx: AuditedTx,
  context: AccessContext,
  languages: readonly MailLanguage[],
): Promise<Audience> {
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMailingPurpose(policy, context.purpose);
  const newsletter = policy.newsletter;
  const leftOut = { refusedByGate: 0, minors: 0, noAddress: 0, suppressed: 0, duplicates: 0 };
  if (!newsletter) return { members: [], leftOut };
  const isSoftOptIn = context.purpose === newsletter.legitimateInterest.purpose;
  const candidates = isSoftOptIn
    ? await atx.tx
        .selectFrom('data_subjects')
        .select('subject_id')
        .where('subject_type', '=', (eb) =>
          eb.fn.any(eb.val([...newsletter.legitimateInterest.subjectTypes])),
        )
        .where('erased_at', 'is', null)
        .orderBy('subject_id')
        .execute()
    : await atx.tx
        .selectFrom('subject_purpose_states')
        .select('subject_id')
        .where('purpose', '=', context.purpose)
        .where('state', '=', 'consented')
        .orderBy('subject_id')
        .execute();
  const ids = candidates.map((row) => row.subject_id);
  if (ids.length === 0) return { members: [], leftOut };
  const categories = coveredBy(policy, context.purpose, [EMAIL, LANGUAGE]);
  const { grant, refused } = await authorizeBatch(kernel, atx, context, 'read', categories, ids);
  leftOut.refusedByGate = refused.length;
  const allowed = ids.filter((id) => !refused.includes(id));
  const today = kernel.clock.now().toISOString().slice(0, 10);
  const minors = new Set(
    (
      await atx.tx
        .selectFrom('data_subjects')
        .select('subject_id')
        .where('subject_id', '=', (eb) => eb.fn.any(eb.val(allowed)))
        .where('minor_until', '>', today)
        .where('parental_consent_at', 'is', null)
        .execute()
    ).map((row) => row.subject_id),
  );
  leftOut.minors = minors.size;
  const reachable = allowed.filter((id) => !minors.has(id));
  const members = await readAddresses(atx, grant, policy, reachable, languages, leftOut);
  const suppressed = await atx.tx
    .selectFrom('mail_suppressions')
    .select('address_bidx')
    .where((eb) => eb.or([eb('purpose', '=', context.purpose), eb('purpose', 'is', null)]))
    .execute();
  const blocked = new Set(suppressed.map((row) => row.address_bidx.toString('hex')));
  const seen = new Set<string>();
  const result: AudienceMember[] = [];
  for (const member of members) {
    const key = member.addressBidx.toString('hex');
    if (blocked.has(key)) {
      leftOut.suppressed += 1;
      continue;
    }
    if (seen.has(key)) {
      leftOut.duplicates += 1;
      continue;
    }
    seen.add(key);
    result.push(member);
  }
  await markTracked(kernel, atx, context, policy, result);
  return { members: result, leftOut };
}

async function readAddresses(
  atx: AuditedTx,
  grant: Grant,
  policy: Policy,
  subjectIds: readonly number[],
  languages: readonly MailLanguage[],
  leftOut: Audience['leftOut'],
): Promise<AudienceMember[]> {
  const signups = await selectSignupAddresses(atx.tx, grant, subjectIds);
  const people = new Map(
    (await readPeopleUnderGrant(atx.tx, grant, subjectIds)).map((person) => [person.subjectId, person]),
  );
  const members: AudienceMember[] = [];
  for (const subjectId of subjectIds) {
    // The address a person confirmed for the newsletter wins over the one on their record.
    const signup = signups.get(subjectId);
    const person = people.get(subjectId);
    const email = signup?.email ?? person?.email ?? null;
    if (!email) {
      leftOut.noAddress += 1;
      continue;
    }
    members.push({
      subjectId,
      email,
      addressBidx: await grant.blindIndex(EMAIL, 'email', email.trim().toLowerCase()),
      source: signup ? 'signup' : 'person',
      language: pickLanguage(policy, languages, person?.preferredLanguage ?? signup?.language),
      tracked: false,
    });
  }
  return members;
}

/** VK-19: only recipients who consented to mail tracking get a pixel and tracked links. */
async function markTracked(
  kernel: Kernel,
  atx: AuditedTx,
  context: AccessContext,
  policy: Policy,
  members: AudienceMember[],
): Promise<void> {
  const tracking = trackingPurposeOf(policy);
  if (!tracking || members.length === 0) return;
  const tracker = {
    tenantId: context.tenantId,
    actor: { kind: 'system', job: 'mail-tracking' } as const,
    purpose: tracking,
  };
  const eligible = members;
  try {
    const { refused } = await authorizeBatch(
      kernel,
      atx,
      tracker,
      'write',
      [ENGAGEMENT],
      eligible.map((member) => member.subjectId),
    );
    const refusedSet = new Set(refused);
    for (const member of eligible) member.tracked = !refusedSet.has(member.subjectId);
  } catch (error) {
    // A policy whose tracking purpose does not cover engagement data tracks no one.
    if (!(error instanceof AccessDenied)) throw error;
  }
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Sending: the audience is computed again under the purpose and written to the outbox (one row
 * per recipient, pending) in one transaction, and the mailing turns to `sending`. Once only: a
 * mailing that is no draft any more is a conflict, so a retried or doubled request sends nothing twice.
 */
export async function queueMailing(
  kernel: Kernel,
  context: AccessContext,
  mailingId: number,
  /** Mail leaves the machine (Mailer.delivers): refused without the tenant's sender and key (0837). */
  delivers = false,
): Promise<Mailing> {
  // The mailing first: an id the tenant does not hold is not_found, whatever its mail settings
  // (a settings refusal first would tell that the id exists elsewhere; attack S19).
  const held = await kernel.plain(context.tenantId, (tx) =>
    tx
      .selectFrom('mailings')
      .select('mailing_id')
      .where('mailing_id', '=', mailingId)
      .where('purpose', '=', context.purpose)
      .executeTakeFirst(),
  );
  if (!held)
    throw new AppError('not_found', 'no such mailing', {
      publicMessage: 'no such mailing under this purpose',
    });
  // Before the transaction: opening the key takes no second connection while this one is held.
  await assertMailingsCanBeSigned(kernel, context.tenantId, delivers);
  const now = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const mailing = await atx.tx
      .selectFrom('mailings')
      .select(['state', 'purpose'])
      .where('mailing_id', '=', mailingId)
      .where('purpose', '=', context.purpose)
      .forUpdate()
      .executeTakeFirst();
    if (!mailing)
      throw new AppError('not_found', 'no such mailing', {
        publicMessage: 'no such mailing under this purpose',
      });
    if (mailing.state !== 'draft')
      throw new AppError('conflict', 'mailing already queued', {
        publicMessage: `this mailing is already ${mailing.state}`,
      });
    const languages = (
      await atx.tx
        .selectFrom('mailing_texts')
        .select('language')
        .where('mailing_id', '=', mailingId)
        .execute()
    ).map((row) => row.language);
    const audience = await computeAudience(kernel, atx, context, languages);
    for (let start = 0; start < audience.members.length; start += 1000) {
      await atx.tx
        .insertInto('mailing_recipients')
        .values(
          audience.members.slice(start, start + 1000).map((member) => ({
            tenant_id: context.tenantId,
            mailing_id: mailingId,
            subject_id: member.subjectId,
            address_bidx: member.addressBidx,
            address_source: member.source,
            language: member.language,
            // Replaced by the token the mail carries when the sender claims the row.
            token_hash: sha256(randomBytes(32).toString('base64url')),
            tracked: member.tracked,
            state: 'pending',
          })),
        )
        .execute();
    }
    await atx.tx
      .updateTable('mailings')
      .set({
        state: audience.members.length > 0 ? 'sending' : 'sent',
        queued_at: now,
        ...(audience.members.length > 0 ? {} : { finished_at: now }),
      })
      .where('mailing_id', '=', mailingId)
      .execute();
    return readMailing(atx, mailingId, context.purpose);
  });
}

/** What staff see before sending: how many, in which language, how many tracked. */
export async function previewAudience(
  kernel: Kernel,
  context: AccessContext,
  mailingId: number,
): Promise<{
  count: number;
  byLanguage: Record<string, number>;
  tracked: number;
  leftOut: Audience['leftOut'];
}> {
  return kernel.transact(context.tenantId, async (atx) => {
    const mailing = await readMailing(atx, mailingId, context.purpose);
    const audience = await computeAudience(kernel, atx, context, mailing.languages);
    const byLanguage: Record<string, number> = {};
    for (const member of audience.members)
      byLanguage[member.language] = (byLanguage[member.language] ?? 0) + 1;
    return {
      count: audience.members.length,
      byLanguage,
      tracked: audience.members.filter((member) => member.tracked).length,
      leftOut: audience.leftOut,
    };
  });
}

/** The operator's view (`kluis mailings status`): a mailing's counts, whatever its purpose; no personal data. */
export async function readMailingStatus(
  kernel: Kernel,
  tenantId: number,
  mailingId: number,
): Promise<Mailing> {
  return kernel.transact(tenantId, (atx) => readMailing(atx, mailingId, undefined));
}
