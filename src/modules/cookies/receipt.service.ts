import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { LANGUAGES, type Language, type Policy } from '../../kernel/policy/index.js';
import { AppError } from '../../platform/errors.js';
import { addPeriod } from '../../platform/calendar.js';
import { consentLifetime } from '../../kernel/policy/index.js';
import {
  askedCategories,
  assertBannerOffered,
  cookieSectionVersion,
  CONSENT_CATEGORIES,
  type ConsentCategory,
} from './cookie-policy.js';

export const CONSENT_ID = /^[A-Za-z0-9_-]{22}$/;
/** The secret kept next to a consent id: 256 random bits, base64url (decision 0410). */
export const CONSENT_KEY = /^[A-Za-z0-9_-]{43}$/;
const VERSION = /^[0-9a-f]{12}$/;

export const receiptInputSchema = z
  .strictObject({
    consentId: z.string().regex(CONSENT_ID).optional(),
    /** The id's secret, proof that the sender holds the id (needed for anything but a refusal). */
    consentKey: z.string().regex(CONSENT_KEY).optional(),
    categories: z.array(z.enum(CONSENT_CATEGORIES as [ConsentCategory, ...ConsentCategory[]])).max(2),
    policyVersion: z.string().regex(VERSION),
    bannerVersion: z.string().regex(VERSION),
    language: z.enum(LANGUAGES),
    source: z.enum(['banner', 'settings', 'gpc']),
    gpc: z.boolean().default(false),
  })
  .meta({
    example: {
      consentId: 'q3Xb8RkTn2VwYzL5mPa7Cw',
      categories: ['analytical'],
      policyVersion: '24c74b718c37',
      bannerVersion: '0a1b2c3d4e5f',
      language: 'nl',
      source: 'banner',
      gpc: false,
    },
  });
export type ReceiptInput = z.input<typeof receiptInputSchema>;

export interface Receipt {
  receiptId: string;
  consentId: string;
  categories: ConsentCategory[];
  policyVersion: string;
  bannerVersion: string;
  language: Language;
  source: 'banner' | 'settings' | 'gpc';
  gpc: boolean;
  givenAt: Date;
  expiresAt: Date;
  /** The secret of a consent id made by this choice: given once, to the browser that keeps the id. */
  consentKey?: string;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** A fresh consent id: 128 random bits, base64url (22 characters). */
function newConsentId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Records a visitor's choice (VK-20) and answers the receipt. The choice must be made under the
 * cookie section in force (a stale banner is told to reload); a browser that sent Global Privacy
 * Control gets no non-functional category unless the choice was an explicit one in the banner or
 * on the settings page (source `banner`/`settings`); the GPC signal alone (`gpc`) records a refusal.
 * A consent id the server does not know for this tenant is replaced by a new one, so an id cannot
 * be planted or carried over from another provider. Anyone may record a refusal under a known id;
 * an acceptance or any other change only with the id's secret (`consentKey`), else it is recorded
 * under a new id with a new secret, never in the id's name (attack finding A10, decision 0410).
 */
export async function recordChoice(
  kernel: Kernel,
  tenantId: number,
  input: z.output<typeof receiptInputSchema>,
  signals: { gpcHeader: boolean },
): Promise<Receipt> {
  const { policy } = await kernel.policies.current(tenantId);
  assertBannerOffered(policy);
  const version = cookieSectionVersion(policy);
  if (input.policyVersion !== version)
    throw new AppError('conflict', 'choice made under another cookie section', {
      publicMessage: 'the cookie policy changed: reload the page and choose again',
      details: { policyVersion: version },
    });
  const asked = askedCategories(policy);
  const unknown = input.categories.filter((category) => !asked.includes(category));
  if (unknown.length > 0)
    throw new AppError('validation_failed', 'category not asked', {
      publicMessage: 'a category this policy does not ask about',
      details: { issues: [{ path: 'body/categories', message: `not asked: ${unknown.join(', ')}` }] },
    });
  const gpc = input.gpc || signals.gpcHeader;
  const categories = input.source === 'gpc' ? [] : [...new Set(input.categories)];
  const now = kernel.clock.now();
  const expiresAt = addPeriod(now, consentLifetime(policy));
  return kernel.plain(tenantId, async (tx) => {
    let consentId = input.consentId;
    if (consentId !== undefined) {
      const known = await tx
        .selectFrom('cookie_receipts')
        .select('receipt_id')
        .where('consent_id', '=', consentId)
        .limit(1)
        .executeTakeFirst();
      if (!known) consentId = undefined;
      else if (categories.length > 0 && !(await holdsKey(tx, consentId, input.consentKey)))
        consentId = undefined;
    }
    let consentKey: string | undefined;
    if (consentId === undefined) {
      consentId = newConsentId();
      consentKey = randomBytes(32).toString('base64url');
      await tx
        .insertInto('cookie_consent_keys')
        .values({ tenant_id: tenantId, consent_id: consentId, key_hash: sha256(consentKey), created_at: now })
        .execute();
    }
    await tx
      .insertInto('cookie_policy_versions')
      .values({
        tenant_id: tenantId,
        version,
        cookies: JSON.stringify(policy.cookies),
        first_used_at: now,
      })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'version']).doNothing())
      .execute();
    const row = await tx
      .insertInto('cookie_receipts')
      .values({
        tenant_id: tenantId,
        consent_id: consentId,
        categories: sql<string[]>`${sql.val(categories)}::text[]`,
        policy_version: version,
        banner_version: input.bannerVersion,
        language: input.language,
        source: input.source,
        gpc,
        given_at: now,
        expires_at: expiresAt,
      })
      .returning('receipt_id')
      .executeTakeFirstOrThrow();
    return {
      receiptId: String(row.receipt_id),
      consentId,
      categories,
      policyVersion: version,
      bannerVersion: input.bannerVersion,
      language: input.language,
      source: input.source,
      gpc,
      givenAt: now,
      expiresAt,
      ...(consentKey === undefined ? {} : { consentKey }),
    };
  });
}

/** Whether `key` is the secret of `consentId` (an id made before secrets existed has none). */
async function holdsKey(tx: Tx, consentId: string, key: string | undefined): Promise<boolean> {
  if (key === undefined) return false;
  const row = await tx
    .selectFrom('cookie_consent_keys')
    .select('key_hash')
    .where('consent_id', '=', consentId)
    .executeTakeFirst();
  return row !== undefined && timingSafeEqual(row.key_hash, sha256(key));
}

type ReceiptRow = {
  receipt_id: string;
  consent_id: string;
  categories: string[];
  policy_version: string;
  banner_version: string;
  language: string;
  source: 'banner' | 'settings' | 'gpc';
  gpc: boolean;
  given_at: Date;
  expires_at: Date;
};

function toReceipt(row: ReceiptRow): Receipt {
  return {
    receiptId: String(row.receipt_id),
    consentId: row.consent_id,
    categories: row.categories.filter((category): category is ConsentCategory =>
      (CONSENT_CATEGORIES as readonly string[]).includes(category),
    ),
    policyVersion: row.policy_version,
    bannerVersion: row.banner_version,
    language: (LANGUAGES as readonly string[]).includes(row.language) ? (row.language as Language) : 'nl',
    source: row.source,
    gpc: row.gpc,
    givenAt: row.given_at,
    expiresAt: row.expires_at,
  };
}

/** Every receipt of a consent id, newest first (empty when the id is unknown to this tenant). */
export async function listReceipts(kernel: Kernel, tenantId: number, consentId: string): Promise<Receipt[]> {
  if (!CONSENT_ID.test(consentId)) return [];
  const rows = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('cookie_receipts')
      .select([
        'receipt_id',
        'consent_id',
        'categories',
        'policy_version',
        'banner_version',
        'language',
        'source',
        'gpc',
        'given_at',
        'expires_at',
      ])
      .where('consent_id', '=', consentId)
      .orderBy('given_at', 'desc')
      .orderBy('receipt_id', 'desc')
      .execute(),
  );
  return rows.map(toReceipt);
}

/**
 * The choice that holds now for a consent id: its newest receipt, if made under the cookie section
 * in force and not expired. Anything else means no consent (VK-20: asked again).
 */
export function holdingChoice(receipts: readonly Receipt[], policy: Policy, now: Date): Receipt | undefined {
  const newest = receipts[0];
  if (!newest) return undefined;
  if (newest.policyVersion !== cookieSectionVersion(policy) || newest.expiresAt <= now) return undefined;
  return newest;
}

export async function currentChoice(
  kernel: Kernel,
  tenantId: number,
  consentId: string | undefined,
): Promise<Receipt | undefined> {
  if (consentId === undefined) return undefined;
  const { policy } = await kernel.policies.current(tenantId);
  return holdingChoice(await listReceipts(kernel, tenantId, consentId), policy, kernel.clock.now());
}

/** The cookie sections the receipts of a consent id were given under, as they were then. */
export async function policyVersionsOf(
  kernel: Kernel,
  tenantId: number,
  versions: readonly string[],
): Promise<Array<{ version: string; cookies: unknown; firstUsedAt: Date }>> {
  if (versions.length === 0) return [];
  const rows = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('cookie_policy_versions')
      .select(['version', 'cookies', 'first_used_at'])
      .where('version', 'in', [...new Set(versions)])
      .orderBy('first_used_at')
      .execute(),
  );
  return rows.map((row) => ({ version: row.version, cookies: row.cookies, firstUsedAt: row.first_used_at }));
}

export interface ConsentRates {
  from: string;
  to: string;
  /** Visitors (consent ids) whose newest choice in the period is counted. */
  choices: number;
  /** Of those, how many came with Global Privacy Control. */
  withGpc: number;
  categories: Array<{ category: ConsentCategory; granted: number; rate: number }>;
}

/** Consent rates per category over the newest choice of each consent id made in [from, to]. */
export async function consentRates(
  kernel: Kernel,
  tenantId: number,
  range: { from: string; to: string },
): Promise<ConsentRates> {
  const { policy } = await kernel.policies.current(tenantId);
  assertBannerOffered(policy);
  const rows = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom((inner) =>
        inner
          .selectFrom('cookie_receipts')
          .distinctOn('consent_id')
          .select(['consent_id', 'categories', 'gpc'])
          .where('given_at', '>=', new Date(`${range.from}T00:00:00Z`))
          .where('given_at', '<', sql<Date>`${range.to}::date + 1`)
          .orderBy('consent_id')
          .orderBy('given_at', 'desc')
          .orderBy('receipt_id', 'desc')
          .as('newest'),
      )
      .select([
        sql<string>`count(*)`.as('choices'),
        sql<string>`count(*) filter (where gpc)`.as('with_gpc'),
        sql<string>`count(*) filter (where 'analytical' = any(categories))`.as('analytical'),
        sql<string>`count(*) filter (where 'tracking' = any(categories))`.as('tracking'),
      ])
      .executeTakeFirstOrThrow(),
  );
  const choices = Number(rows.choices);
  return {
    ...range,
    choices,
    withGpc: Number(rows.with_gpc),
    categories: askedCategories(policy).map((category) => {
      const granted = Number(rows[category]);
      return {
        category,
        granted,
        rate: choices === 0 ? 0 : Math.round((granted / choices) * 10_000) / 10_000,
      };
    }),
  };
}
