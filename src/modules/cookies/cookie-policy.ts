import { createHash } from 'node:crypto';
import { canonicalJson, type Cookie, type Policy, type RetentionRule } from '../../kernel/policy/index.js';
import { AppError } from '../../platform/errors.js';

/** The categories a visitor chooses: every cookie category of the policy but the functional one. */
export type ConsentCategory = 'analytical' | 'tracking';
export const CONSENT_CATEGORIES: readonly ConsentCategory[] = ['analytical', 'tracking'];

/** The cookie that keeps the visitor's choice (and so its consent id) on the provider's site. */
export const CONSENT_COOKIE = 'kluis_consent';

/** How long a choice holds when the policy names no lifetime for the consent cookie. */
const DEFAULT_CONSENT_LIFETIME = 'P6M';

/**
 * The version of the policy's cookie section: a content hash, so any change to a cookie, its
 * lifetime, provider or purpose makes a new version and everyone is asked again (VK-20).
 */
export function cookieSectionVersion(policy: Policy): string {
  const section = { consentAtFirstVisit: policy.cookies.consentAtFirstVisit, items: policy.cookies.items };
  return createHash('sha256').update(canonicalJson(section)).digest('hex').slice(0, 12);
}

/** Whether the policy asks for a banner: cookies are named and consent is asked at the first visit. */
export function isBannerOffered(policy: Policy): boolean {
  return policy.cookies.consentAtFirstVisit && policy.cookies.items.length > 0;
}

/** The policy, or a 404 when its statement promises no cookie banner (Voxtra's refers elsewhere). */
export function assertBannerOffered(policy: Policy): void {
  if (!isBannerOffered(policy))
    throw new AppError('not_found', 'policy has no cookie banner', {
      publicMessage: 'this provider’s policy asks for no cookie banner',
    });
}

/** The categories a visitor is asked about, in a fixed order: only those the policy's cookies use. */
export function askedCategories(policy: Policy): ConsentCategory[] {
  const used = new Set(policy.cookies.items.map((cookie) => cookie.category));
  return CONSENT_CATEGORIES.filter((category) => used.has(category));
}

export function cookiesOf(policy: Policy, category: Cookie['category']): Cookie[] {
  return policy.cookies.items.filter((cookie) => cookie.category === category);
}

/** The lifetime the policy gives the consent cookie: how long a choice holds before it is asked again. */
export function consentLifetime(policy: Policy): string {
  const lifetime = policy.cookies.items.find((cookie) => cookie.name === CONSENT_COOKIE)?.lifetime;
  return lifetime === undefined || lifetime === 'session' ? DEFAULT_CONSENT_LIFETIME : lifetime;
}

/** Months a rule keeps data counted from collection, or undefined when the rule is not a duration. */
function monthsOf(rule: RetentionRule | undefined): number | undefined {
  switch (rule?.kind) {
    case 'after_collection':
    case 'until_bill_uncontestable':
      return rule.months;
    case 'until_withdrawn':
      return rule.maxYears === undefined ? undefined : rule.maxYears * 12;
    case 'inactivity':
    case 'after_contract_end':
    case 'accounting':
      return rule.years * 12;
    case 'contract_duration':
    case 'on_termination':
    case 'inherited':
    case undefined:
      return undefined;
  }
}

function purposeMonths(policy: Policy, purposeKey: string | undefined): number | undefined {
  if (purposeKey === undefined || !Object.hasOwn(policy.purposes, purposeKey)) return undefined;
  const ruleKey = policy.purposes[purposeKey]?.retention;
  return ruleKey === undefined ? undefined : monthsOf(policy.retentionRules[ruleKey]);
}

/**
 * The purposes of the visit log (VK-3): the one on legitimate interest that keeps website visitors'
 * addresses (administration, traffic filtering) and the analytical cookie's purpose (statistics,
 * on consent). Undefined when the policy declares no such purpose: then no visit is recorded.
 */
export function visitLogPurposes(policy: Policy): { administration?: string; statistics?: string } {
  const administration = Object.entries(policy.purposes).find(
    ([, purpose]) =>
      purpose.legalBasis === 'legitimate_interests' &&
      purpose.subjectTypes.includes('website_visitor') &&
      purpose.categories.includes('user.device.ip_address'),
  )?.[0];
  const statistics = cookiesOf(policy, 'analytical').find((cookie) => cookie.purposeKey)?.purposeKey;
  return {
    ...(administration === undefined ? {} : { administration }),
    ...(statistics === undefined ? {} : { statistics }),
  };
}

/** How long visits are kept: without analytics consent the administration purpose's rule, with it the longer of both. */
export function visitRetentionMonths(policy: Policy): { plain: number; consented: number } | undefined {
  const purposes = visitLogPurposes(policy);
  const plain = purposeMonths(policy, purposes.administration);
  if (plain === undefined) return undefined;
  return { plain, consented: Math.max(plain, purposeMonths(policy, purposes.statistics) ?? plain) };
}

/**
 * How long a receipt is kept after the choice it records stops holding (docs/decisions/0140): as
 * long as the longest retention of what was collected under the consent (the purposes of the
 * non-functional cookies), so the proof lasts as long as the data it justifies.
 */
export function receiptRetentionMonths(policy: Policy): number {
  const months = policy.cookies.items
    .filter((cookie) => cookie.category !== 'functional')
    .map((cookie) => purposeMonths(policy, cookie.purposeKey) ?? 0);
  return Math.max(0, ...months);
}
