import type { Policy } from './policy.schema.js';

/**
 * The promises of a statement that only running code can keep. The generated statement makes
 * one only when a module enforces it (its `index.ts` exports `ENFORCES`, collected in
 * src/modules/enforcement.ts); a policy that asks for one that nothing enforces gets a warning
 * from `kluis policy check`, and its statement stays silent on it.
 */
export const PROMISES = {
  newsletter_consent: {
    requirements: ['VK-17', 'VK-18', 'VX-9'],
    what: 'newsletter on legitimate interest or opt-in, with an unsubscribe link in every mailing',
  },
  email_tracking_consent: {
    requirements: ['VK-19'],
    what: 'open and click tracking in e-mails only with consent',
  },
  cookie_consent: {
    requirements: ['VK-20'],
    what: 'consent for non-functional cookies asked at the first visit and withdrawable',
  },
  cookie_choices_at_login: {
    requirements: ['VK-20', 'VK-21'],
    what: 'a cookie choice is linked to a person only when they log in to the privacy portal, and then shows in their access report',
  },
  disclosure_log: {
    requirements: ['VK-10', 'VK-11', 'VX-6'],
    what: 'each recipient gets only its categories, and every disclosure is recorded',
  },
  incident_register: {
    requirements: ['VK-9'],
    what: 'reports of misuse are registered, and a breach is notified to the authority within 72 hours',
  },
  retention_sweeps: {
    requirements: ['VK-13', 'VK-14', 'VX-8', 'G-1'],
    what: 'data is erased when its retention period ends',
  },
  dossier_erasure: {
    requirements: ['VX-7'],
    what: 'the technical dossier is erased at once on (written) termination',
  },
} as const satisfies Record<string, { requirements: readonly string[]; what: string }>;

/** The category a cookie choice is linked to a person under (docs/decisions/0290). */
export const COOKIE_CHOICES_CATEGORY = 'kluis.online.cookie_choices';

export type PromiseKey = keyof typeof PROMISES;
export type EnforcedPromises = ReadonlySet<PromiseKey>;

export const ALL_PROMISES: EnforcedPromises = new Set(Object.keys(PROMISES) as PromiseKey[]);

/** The promises this policy's statement would make if every module were present. */
export function declaredPromises(policy: Policy): PromiseKey[] {
  const declared: PromiseKey[] = [];
  const rules = Object.values(policy.retentionRules);
  if (policy.newsletter !== undefined) declared.push('newsletter_consent');
  if (policy.newsletter?.tracking?.opensAndClicks === true) declared.push('email_tracking_consent');
  if (policy.cookies.items.length > 0 && policy.cookies.consentAtFirstVisit) {
    declared.push('cookie_consent');
    if (policy.categories[COOKIE_CHOICES_CATEGORY] !== undefined) declared.push('cookie_choices_at_login');
  }
  if (Object.keys(policy.recipients).length > 0) declared.push('disclosure_log');
  if (policy.incidents !== undefined) declared.push('incident_register');
  if (rules.some((rule) => rule.kind !== 'inherited' && rule.kind !== 'on_termination')) {
    declared.push('retention_sweeps');
  }
  if (rules.some((rule) => rule.kind === 'on_termination')) declared.push('dossier_erasure');
  return declared;
}

/** What the policy asks the statement to promise that no module of this installation keeps. */
export function unenforcedPromises(policy: Policy, enforced: EnforcedPromises): PromiseKey[] {
  return declaredPromises(policy).filter((key) => !enforced.has(key));
}
