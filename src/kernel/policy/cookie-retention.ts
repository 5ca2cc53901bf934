import type { Policy, RetentionRule } from './policy.schema.js';

/** The cookie that keeps the visitor's choice (and so its consent id) on the provider's site. */
export const CONSENT_COOKIE = 'kluis_consent';

/** How long a choice holds when the policy names no lifetime for the consent cookie. */
const DEFAULT_CONSENT_LIFETIME = 'P6M';

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

export function purposeMonths(policy: Policy, purposeKey: string | undefined): number | undefined {
  if (purposeKey === undefined || !Object.hasOwn(policy.purposes, purposeKey)) return undefined;
  const ruleKey = policy.purposes[purposeKey]?.retention;
  return ruleKey === undefined ? undefined : monthsOf(policy.retentionRules[ruleKey]);
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
