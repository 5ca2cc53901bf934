import { authorize } from '../../kernel/gate/access.js';
import { AccessDenied, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { COOKIE_CHOICES_CATEGORY, type Language, LANGUAGES } from '../../kernel/policy/index.js';
import type { Tx } from '../../platform/db.js';
import { CONSENT_COOKIE } from '../../kernel/policy/index.js';
import { CONSENT_CATEGORIES, type ConsentCategory } from './cookie-policy.js';
import { CONSENT_ID, CONSENT_KEY } from './receipt.service.js';

/**
 * A consent id joins a person's data only when that person logs in to the privacy portal from a
 * browser that holds it (issue 15, docs/decisions/0290): the link is written in the person's own
 * name under the rights purpose (the purpose their access report is read under), after the login.
 */

/** The purpose the link is written and read under; both seed policies give it the category. */
const RIGHTS_PURPOSE = 'rights_requests';

/** What a portal login hands over: whose session it opened and the cookies the request carried. */
export interface PortalSignIn {
  tenantId: number;
  subjectId: number;
  cookies: Readonly<Record<string, string | undefined>>;
}

/**
 * The consent id in the visitor's `kluis_consent` cookie (`<id>.<version>.<categories>.<expiry>`,
 * as the banner and the settings page write it), or undefined when there is none or it is malformed.
 */
export function consentIdOfCookie(value: string | undefined): string | undefined {
  if (value === undefined || value.length > 200) return undefined;
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return undefined;
  }
  const id = decoded.split('.')[0] ?? '';
  return CONSENT_ID.test(id) ? id : undefined;
}

/** The secret the cookie keeps next to its consent id (the fifth part), if any (decision 0410). */
export function consentKeyOfCookie(value: string | undefined): string | undefined {
  if (value === undefined || value.length > 200) return undefined;
  try {
    const key = decodeURIComponent(value).split('.')[4] ?? '';
    return CONSENT_KEY.test(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the link of one consent id to one person (a Grant for the cookie-choices category). */
async function insertConsentLink(
  tx: Tx,
  grant: Grant,
  link: { tenantId: number; consentId: string; subjectId: number; at: Date },
): Promise<boolean> {
  grant.assertCovers(COOKIE_CHOICES_CATEGORY, link.subjectId);
  grant.assertWritable();
  const result = await tx
    .insertInto('cookie_consent_links')
    .values({
      tenant_id: link.tenantId,
      consent_id: link.consentId,
      subject_id: link.subjectId,
      linked_at: link.at,
    })
    .onConflict((conflict) => conflict.columns(['tenant_id', 'consent_id', 'subject_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/**
 * After a portal login: links the consent id of the request's cookie to the person, when the id
 * has receipts of this tenant (an id nobody chose under, or another provider's, links nothing) and
 * the tenant's policy declares the category. Answers whether a new link was written. A refusal of
 * the gate (a restricted person) links nothing.
 */
export async function linkConsentAtSignIn(kernel: Kernel, signIn: PortalSignIn): Promise<boolean> {
  const consentId = consentIdOfCookie(signIn.cookies[CONSENT_COOKIE]);
  if (consentId === undefined) return false;
  const { policy } = await kernel.policies.current(signIn.tenantId);
  if (policy.categories[COOKIE_CHOICES_CATEGORY] === undefined) return false;
  const known = await kernel.plain(signIn.tenantId, (tx) =>
    tx
      .selectFrom('cookie_receipts')
      .select('receipt_id')
      .where('consent_id', '=', consentId)
      .limit(1)
      .executeTakeFirst(),
  );
  if (!known) return false;
  try {
    return await kernel.transact(signIn.tenantId, async (atx) => {
      const grant = await authorize(
        kernel,
        atx,
        {
          tenantId: signIn.tenantId,
          actor: { kind: 'subject', subjectId: signIn.subjectId },
          purpose: RIGHTS_PURPOSE,
        },
        'write',
        [COOKIE_CHOICES_CATEGORY],
        [signIn.subjectId],
      );
      return insertConsentLink(atx.tx, grant, {
        tenantId: signIn.tenantId,
        consentId,
        subjectId: signIn.subjectId,
        at: kernel.clock.now(),
      });
    });
  } catch (error) {
    if (error instanceof AccessDenied) return false;
    throw error;
  }
}

/** One cookie choice of a consent id linked to the person, as "my consents" lists it. */
export interface LinkedCookieChoice {
  consentId: string;
  categories: ConsentCategory[];
  language: Language;
  source: 'banner' | 'settings' | 'gpc';
  gpc: boolean;
  givenAt: Date;
  expiresAt: Date;
}

/** The linked choices of one person, newest first (read through a Grant for the category). */
async function selectLinkedChoices(tx: Tx, grant: Grant, subjectId: number): Promise<LinkedCookieChoice[]> {
  grant.assertCovers(COOKIE_CHOICES_CATEGORY, subjectId);
  const rows = await tx
    .selectFrom('cookie_choices_of_subjects')
    .select(['consent_id', 'categories', 'language', 'source', 'gpc', 'given_at', 'expires_at'])
    .where('subject_id', '=', subjectId)
    .orderBy('given_at', 'desc')
    .orderBy('receipt_id', 'desc')
    .limit(100)
    .execute();
  return rows.map((row) => ({
    consentId: row.consent_id,
    categories: row.categories.filter((category): category is ConsentCategory =>
      (CONSENT_CATEGORIES as readonly string[]).includes(category),
    ),
    language: (LANGUAGES as readonly string[]).includes(row.language) ? (row.language as Language) : 'nl',
    source: row.source,
    gpc: row.gpc,
    givenAt: row.given_at,
    expiresAt: row.expires_at,
  }));
}

/**
 * The person's own cookie choices (the receipts of the consent ids linked to them), for the
 * portal's "my consents": read in their name under the rights purpose. Empty when the policy does
 * not declare the category or nothing is linked.
 */
export async function readOwnCookieChoices(
  kernel: Kernel,
  session: { tenantId: number; subjectId: number },
): Promise<LinkedCookieChoice[]> {
  const { policy } = await kernel.policies.current(session.tenantId);
  if (policy.categories[COOKIE_CHOICES_CATEGORY] === undefined) return [];
  return kernel.transact(session.tenantId, async (atx) => {
    const grant = await authorize(
      kernel,
      atx,
      {
        tenantId: session.tenantId,
        actor: { kind: 'subject', subjectId: session.subjectId },
        purpose: RIGHTS_PURPOSE,
      },
      'read',
      [COOKIE_CHOICES_CATEGORY],
      [session.subjectId],
    );
    return selectLinkedChoices(atx.tx, grant, session.subjectId);
  });
}
