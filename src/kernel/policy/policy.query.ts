/**
 * Typed questions about a validated policy, for the access gate and the generators.
 * All functions are pure; they never throw for an unknown key, they return undefined / [].
 */
import type { Category, LegalHold, Policy, Purpose, Recipient, RetentionRule } from './policy.schema.js';

// EU member states (ISO 3166-1 alpha-2; Greece is GR here, not the EU's own "EL").
const EU_COUNTRIES = new Set([
  'AT',
  'BE',
  'BG',
  'HR',
  'CY',
  'CZ',
  'DK',
  'EE',
  'FI',
  'FR',
  'DE',
  'GR',
  'HU',
  'IE',
  'IT',
  'LV',
  'LT',
  'LU',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SK',
  'SI',
  'ES',
  'SE',
]);
const EEA_ONLY_COUNTRIES = new Set(['IS', 'LI', 'NO']);

export function isEuCountry(code: string): boolean {
  return EU_COUNTRIES.has(code.toUpperCase());
}

/** EU member states plus Iceland, Liechtenstein and Norway. */
export function isEeaCountry(code: string): boolean {
  const upper = code.toUpperCase();
  return EU_COUNTRIES.has(upper) || EEA_ONLY_COUNTRIES.has(upper);
}

/** Whether a recipient's country (or the pseudo-codes "EU" / "EEA") lies within the region. */
export function isWithinRegion(country: string, region: 'EU' | 'EEA'): boolean {
  const upper = country.toUpperCase();
  if (region === 'EU') return upper === 'EU' || isEuCountry(upper);
  return upper === 'EU' || upper === 'EEA' || isEeaCountry(upper);
}

export function findPurpose(policy: Policy, key: string): Purpose | undefined {
  return Object.hasOwn(policy.purposes, key) ? policy.purposes[key] : undefined;
}

/**
 * The purposes of the policy's authority recipients (judicial authorities, police). Staff act under
 * them only through an authority request (registered by one, approved by another; decision 0151):
 * an ordinary route refuses them at the door, and the person's "who consulted my data" leaves them
 * out (attack S9-1, decision 0816).
 */
export function authorityPurposeKeys(policy: Policy): readonly string[] {
  // Asked on every request (the purpose header, the people read): worked out once per policy
  // version, whose object is never changed once loaded (decision 0855).
  let keys = AUTHORITY_PURPOSE_KEYS.get(policy);
  if (!keys) {
    keys = Object.freeze(
      Object.values(policy.recipients).flatMap((recipient) =>
        recipient.kind === 'authority' ? recipient.purposes : [],
      ),
    );
    AUTHORITY_PURPOSE_KEYS.set(policy, keys);
  }
  return keys;
}
const AUTHORITY_PURPOSE_KEYS = new WeakMap<Policy, readonly string[]>();

export function findCategory(policy: Policy, key: string): Category | undefined {
  return Object.hasOwn(policy.categories, key) ? policy.categories[key] : undefined;
}

export function rolesForPurpose(policy: Policy, purposeKey: string): readonly string[] {
  return findPurpose(policy, purposeKey)?.roles ?? [];
}

/** The purposes under which a staff member with this role may act. */
export function purposesForRole(policy: Policy, role: string): string[] {
  return Object.entries(policy.purposes)
    .filter(([, purpose]) => purpose.roles.includes(role))
    .map(([key]) => key);
}

export function categoriesOfPurpose(policy: Policy, purposeKey: string): readonly string[] {
  return findPurpose(policy, purposeKey)?.categories ?? [];
}

/** Purposes that use a data category. */
export function purposesUsingCategory(policy: Policy, categoryKey: string): string[] {
  return Object.entries(policy.purposes)
    .filter(([, purpose]) => purpose.categories.includes(categoryKey))
    .map(([key]) => key);
}

/** Whether a role may touch a category under a purpose: the need-to-know triple of the gate. */
export function isAllowed(policy: Policy, role: string, purposeKey: string, categoryKey: string): boolean {
  const purpose = findPurpose(policy, purposeKey);
  return purpose !== undefined && purpose.roles.includes(role) && purpose.categories.includes(categoryKey);
}

export interface RetentionRuleRef {
  key: string;
  rule: RetentionRule;
  /** The purpose whose retention this is. */
  purpose: string;
}

/**
 * The retention rules that apply to a category, one per purpose using it. Data may be kept
 * as long as the longest of them still applies; legal holds (legalHoldsFor) come on top.
 */
export function retentionRulesFor(policy: Policy, categoryKey: string): RetentionRuleRef[] {
  const refs: RetentionRuleRef[] = [];
  for (const purposeKey of purposesUsingCategory(policy, categoryKey)) {
    const purpose = policy.purposes[purposeKey];
    const rule = purpose === undefined ? undefined : policy.retentionRules[purpose.retention];
    if (purpose !== undefined && rule !== undefined && rule.kind !== 'inherited')
      refs.push({ key: purpose.retention, rule, purpose: purposeKey });
  }
  return refs;
}

/** The first retention rule that applies to a category (see retentionRulesFor for all of them). */
export function retentionRuleFor(policy: Policy, categoryKey: string): RetentionRuleRef | undefined {
  return retentionRulesFor(policy, categoryKey)[0];
}

export function legalHoldsFor(policy: Policy, categoryKey: string): Array<{ key: string; hold: LegalHold }> {
  return Object.entries(policy.legalHolds)
    .filter(([, hold]) => hold.categories.includes(categoryKey))
    .map(([key, hold]) => ({ key, hold }));
}

/** Recipients that may receive data under a purpose. */
export function recipientsForPurpose(
  policy: Policy,
  purposeKey: string,
): Array<{ key: string; recipient: Recipient }> {
  return Object.entries(policy.recipients)
    .filter(([, recipient]) => recipient.purposes.includes(purposeKey))
    .map(([key, recipient]) => ({ key, recipient }));
}

/**
 * The purposes that may still read a person who asked for restriction (`readWhileRestricted`,
 * GDPR Art. 18(2)): the gate lets them through, and the statement and the portal name them as the
 * only uses left (decision 0902). The rights requests, done at the person's own request, are not
 * among them.
 */
export function restrictionExemptPurposes(policy: Policy): Array<{ key: string; purpose: Purpose }> {
  return Object.entries(policy.purposes)
    .filter(([, purpose]) => purpose.readWhileRestricted)
    .map(([key, purpose]) => ({ key, purpose }));
}

/** Purposes that are direct marketing, so that one objection can stop all of them. */
export function marketingPurposes(policy: Policy): string[] {
  return Object.entries(policy.purposes)
    .filter(([, purpose]) => purpose.marketing)
    .map(([key]) => key);
}
