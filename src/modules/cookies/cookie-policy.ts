import { createHash } from 'node:crypto';
import { canonicalJson, purposeMonths, type Cookie, type Policy } from '../../kernel/policy/index.js';
import { AppError } from '../../platform/errors.js';

/** The categories a visitor chooses: every cookie category of the policy but the functional one. */
export type ConsentCategory = 'analytical' | 'tracking';
export const CONSENT_CATEGORIES: readonly ConsentCategory[] = ['analytical', 'tracking'];

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
