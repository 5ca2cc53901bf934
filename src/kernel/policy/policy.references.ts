/**
 * Cross-reference checks a schema cannot express: every key a section names must exist,
 * and the promises that tie sections together (consent can be withdrawn, special categories
 * need explicit consent, transfers need a safeguard, processors an agreement) must hold.
 */
import type { Policy } from './policy.schema.js';
import { isWithinRegion } from './policy.query.js';

export type PathSegment = string | number;

export interface ReferenceIssue {
  path: PathSegment[];
  message: string;
}

/**
 * Rules a policy must follow to be installed as a new version, added after versions may have been
 * stored under the rules before them. A version already in force is not refused for them when it
 * is read back (that would take a running tenant down at an upgrade, attack S18-10); the server
 * names such a tenant at its start instead (decision 0871).
 */
export function checkNewVersionRules(policy: Policy): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const purpose = policy.incidents ? policy.purposes[policy.incidents.purpose] : undefined;
  if (policy.incidents && purpose) {
    // A breach may reach anyone whose data is kept, and Art. 34 owes each of them the letter:
    // a type the purpose leaves out would be counted affected and never informed (attack S18-1).
    const left = Object.keys(policy.subjectTypes).filter((type) => !purpose.subjectTypes.includes(type));
    if (left.length > 0)
      issues.push({
        path: ['purposes', policy.incidents.purpose, 'subjectTypes'],
        message: `the incidents purpose must reach every subject type (GDPR Art. 34: a breach may affect anyone); missing: ${left.join(', ')}`,
      });
  }
  return issues;
}

export function checkPolicyReferences(policy: Policy): ReferenceIssue[] {
  const issues: ReferenceIssue[] = [];
  const add = (path: PathSegment[], message: string): void => {
    issues.push({ path, message });
  };

  const has = (record: Record<string, unknown>, key: string): boolean => Object.hasOwn(record, key);
  const checkKeys = (
    keys: readonly string[],
    record: Record<string, unknown>,
    what: string,
    path: PathSegment[],
  ): void => {
    keys.forEach((key, index) => {
      if (!has(record, key)) add([...path, index], `unknown ${what} "${key}"`);
    });
  };

  const languages = policy.statement.languages;
  languages.forEach((lang, index) => {
    if (languages.indexOf(lang) !== index)
      add(['statement', 'languages', index], `language "${lang}" is listed twice`);
  });

  if (Array.isArray(policy.security.mfa)) {
    checkKeys(policy.security.mfa, policy.roles, 'role', ['security', 'mfa']);
  }

  for (const [key, category] of Object.entries(policy.categories)) {
    checkKeys(category.subjectTypes, policy.subjectTypes, 'data subject type', [
      'categories',
      key,
      'subjectTypes',
    ]);
    if (category.special && !policy.sensitiveData.collected) {
      add(
        ['categories', key, 'special'],
        'a special category is declared, but sensitiveData.collected says the policy collects none',
      );
    }
  }

  for (const [key, purpose] of Object.entries(policy.purposes)) {
    const at = ['purposes', key];
    checkKeys(purpose.categories, policy.categories, 'data category', [...at, 'categories']);
    checkKeys(purpose.subjectTypes, policy.subjectTypes, 'data subject type', [...at, 'subjectTypes']);
    checkKeys(purpose.roles, policy.roles, 'role', [...at, 'roles']);
    if (!has(policy.retentionRules, purpose.retention)) {
      add([...at, 'retention'], `unknown retention rule "${purpose.retention}"`);
    }

    const isConsent = purpose.legalBasis === 'consent';
    if (isConsent && (purpose.consent?.withdrawal === undefined || purpose.consent.withdrawal.length === 0)) {
      add(
        [...at, 'consent', 'withdrawal'],
        'a purpose based on consent must say how consent is withdrawn (consent.withdrawal, GDPR Art. 7(3))',
      );
    }
    if (!isConsent && purpose.consent !== undefined) {
      add([...at, 'consent'], `consent settings on a purpose whose legal basis is "${purpose.legalBasis}"`);
    }

    const explicitConsent = isConsent && purpose.consent?.explicit === true;
    purpose.categories.forEach((categoryKey, index) => {
      const category = policy.categories[categoryKey];
      if (category?.special === true && !explicitConsent) {
        add(
          [...at, 'categories', index],
          `special-category data "${categoryKey}" (GDPR Art. 9) may only be used under explicit consent ` +
            '(legalBasis: consent with consent.explicit: true)',
        );
      }
    });
  }

  // A category that no purpose uses has no retention rule, so nothing would ever erase it.
  const used = new Set(
    Object.values(policy.purposes)
      .filter((purpose) => policy.retentionRules[purpose.retention]?.kind !== 'inherited')
      .flatMap((purpose) => purpose.categories),
  );
  for (const key of Object.keys(policy.categories)) {
    if (!used.has(key)) {
      add(
        ['categories', key],
        `data category "${key}" has no retention rule: no purpose that keeps data uses it`,
      );
    }
  }

  for (const [key, hold] of Object.entries(policy.legalHolds)) {
    checkKeys(hold.categories, policy.categories, 'data category', ['legalHolds', key, 'categories']);
    if (!has(policy.retentionRules, hold.retention)) {
      add(['legalHolds', key, 'retention'], `unknown retention rule "${hold.retention}"`);
    }
  }

  const { restrictTo, allowSafeguardedTransfers } = policy.transfers;
  for (const [key, recipient] of Object.entries(policy.recipients)) {
    const at = ['recipients', key];
    checkKeys(recipient.categories, policy.categories, 'data category', [...at, 'categories']);
    checkKeys(recipient.purposes, policy.purposes, 'purpose', [...at, 'purposes']);
    // A recipient may only receive what one of its purposes actually uses.
    recipient.categories.forEach((categoryKey, index) => {
      if (!has(policy.categories, categoryKey)) return;
      const coveredBy = recipient.purposes.some(
        (p) => policy.purposes[p]?.categories.includes(categoryKey) === true,
      );
      if (!coveredBy) {
        add(
          [...at, 'categories', index],
          `data category "${categoryKey}" is not used by any of this recipient's purposes`,
        );
      }
    });

    if (recipient.kind === 'processor' && recipient.agreement === undefined) {
      add(
        [...at, 'agreement'],
        'a processor needs a processing agreement: agreement.reference and agreement.date (GDPR Art. 28(3))',
      );
    }

    if (!isWithinRegion(recipient.country, restrictTo)) {
      if (!allowSafeguardedTransfers) {
        add(
          [...at, 'country'],
          `recipient in "${recipient.country}" is outside the ${restrictTo}, and this policy allows no transfers outside the ${restrictTo}`,
        );
      } else if (!isWithinRegion(recipient.country, 'EEA') && recipient.transferSafeguard === undefined) {
        add(
          [...at, 'transferSafeguard'],
          `recipient in "${recipient.country}" is outside the EEA: declare a transferSafeguard ` +
            '(adequacy_decision, standard_contractual_clauses, binding_corporate_rules or explicit_consent)',
        );
      }
    }
  }

  const newsletter = policy.newsletter;
  if (newsletter !== undefined) {
    const expectBasis = (
      path: PathSegment[],
      purposeKey: string,
      basis: Policy['purposes'][string]['legalBasis'],
    ): void => {
      const purpose = policy.purposes[purposeKey];
      if (purpose === undefined) add(path, `unknown purpose "${purposeKey}"`);
      else if (purpose.legalBasis !== basis) {
        add(path, `purpose "${purposeKey}" must be based on ${basis}, not ${purpose.legalBasis}`);
      }
    };
    expectBasis(
      ['newsletter', 'legitimateInterest', 'purpose'],
      newsletter.legitimateInterest.purpose,
      'legitimate_interests',
    );
    checkKeys(newsletter.legitimateInterest.subjectTypes, policy.subjectTypes, 'data subject type', [
      'newsletter',
      'legitimateInterest',
      'subjectTypes',
    ]);
    if (newsletter.optIn !== undefined) {
      expectBasis(['newsletter', 'optIn', 'purpose'], newsletter.optIn.purpose, 'consent');
      checkKeys(newsletter.optIn.subjectTypes, policy.subjectTypes, 'data subject type', [
        'newsletter',
        'optIn',
        'subjectTypes',
      ]);
    }
    if (newsletter.tracking !== undefined) {
      expectBasis(['newsletter', 'tracking', 'purpose'], newsletter.tracking.purpose, 'consent');
    }
  }

  // Art. 18(2): a restricted person's data serves only their consent to that use, legal claims, the
  // protection of another's rights or an important public interest. A consent purpose or direct
  // marketing (a newsletter, advertising) serves none of them (attack S20-15, decision 0928).
  const marketingPurposes = new Set(
    [
      newsletter?.legitimateInterest.purpose,
      newsletter?.optIn?.purpose,
      newsletter?.tracking?.purpose,
    ].filter((key): key is string => key !== undefined),
  );
  for (const [key, purpose] of Object.entries(policy.purposes)) {
    if (!purpose.readWhileRestricted) continue;
    if (
      purpose.legalBasis === 'consent' ||
      marketingPurposes.has(key) ||
      purpose.dataUse?.startsWith('marketing')
    ) {
      add(
        ['purposes', key, 'readWhileRestricted'],
        `purpose "${key}" (${purpose.legalBasis}${purpose.dataUse ? `, ${purpose.dataUse}` : ''}) cannot read a person who restricted processing: GDPR Art. 18(2) leaves legal claims, another's protection and an important public interest, never marketing or a consent`,
      );
    }
  }

  if (policy.incidents !== undefined) {
    const purpose = policy.purposes[policy.incidents.purpose];
    if (!has(policy.purposes, policy.incidents.purpose) || purpose === undefined) {
      add(['incidents', 'purpose'], `unknown purpose "${policy.incidents.purpose}"`);
    } else if (purpose.legalBasis !== 'legal_obligation') {
      add(
        ['incidents', 'purpose'],
        `purpose "${policy.incidents.purpose}" must be based on legal_obligation (GDPR Art. 33, 34), not ${purpose.legalBasis}`,
      );
    }
  }

  policy.cookies.items.forEach((cookie, index) => {
    if (cookie.purposeKey !== undefined && !has(policy.purposes, cookie.purposeKey)) {
      add(['cookies', 'items', index, 'purposeKey'], `unknown purpose "${cookie.purposeKey}"`);
    }
    // ePrivacy: only strictly functional cookies may be set without consent.
    const purpose = cookie.purposeKey === undefined ? undefined : policy.purposes[cookie.purposeKey];
    if (cookie.category !== 'functional' && purpose !== undefined && purpose.legalBasis !== 'consent') {
      add(
        ['cookies', 'items', index, 'purposeKey'],
        `a ${cookie.category} cookie needs a purpose based on consent`,
      );
    }
  });
  checkKeys(policy.rights.highlightedCategories, policy.categories, 'data category', [
    'rights',
    'highlightedCategories',
  ]);

  return issues;
}
