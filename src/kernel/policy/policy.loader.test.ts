import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../platform/errors.js';
import { formatPolicyIssue, PolicyValidationError } from './policy.errors.js';
import type { PolicyIssue } from './policy.errors.js';
import { formatPath, loadPolicyFile, parsePolicy, validatePolicySource } from './policy.loader.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const FILE = 'policies/voiceking.yaml';
const seed = readFileSync(`${root}${FILE}`, 'utf8');

/** The VoiceKing seed with one edit applied through the YAML document API. */
function mutate(edit: (doc: Document) => void): string {
  const doc = parseDocument(seed);
  edit(doc);
  return doc.toString({ lineWidth: 0 });
}

/** 1-based line and column of the n-th occurrence of `needle`, found by plain text search. */
function positionOf(source: string, needle: string, occurrence = 0): { line: number; column: number } {
  let offset = -1;
  for (let i = 0; i <= occurrence; i++) {
    offset = source.indexOf(needle, offset + 1);
    if (offset < 0) throw new Error(`"${needle}" not found`);
  }
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function issuesOf(source: string): PolicyIssue[] {
  const result = validatePolicySource(source, FILE);
  if (result.ok) throw new Error('expected the policy to be rejected');
  return result.issues;
}

function onlyIssue(source: string): PolicyIssue {
  const issues = issuesOf(source);
  expect(issues.map(formatPolicyIssue)).toHaveLength(1);
  return issues[0] as PolicyIssue;
}

describe('policy loader: the seeds', () => {
  it.each(['policies/voiceking.yaml', 'policies/voxtra.yaml'])('%s validates', async (file) => {
    const policy = await loadPolicyFile(`${root}${file}`);
    expect(Object.keys(policy.purposes).length).toBeGreaterThan(10);
    expect(policy.supervisoryAuthority.email).toBe('contact@apd-gba.be');
  });

  it('fills in the Belgian Data Protection Authority when a policy names no authority', () => {
    const policy = parsePolicy(
      mutate((doc) => doc.deleteIn(['supervisoryAuthority'])),
      FILE,
    );
    expect(policy.supervisoryAuthority.name.nl).toBe('Gegevensbeschermingsautoriteit (GBA)');
    expect(policy.supervisoryAuthority.address.street).toBe('Drukpersstraat 35');
  });
});

describe('policy loader: each kind of invalid policy is rejected with file:line:column, path and reason', () => {
  it('an unknown data category referenced by a purpose', () => {
    const source = mutate((doc) =>
      doc.setIn(['purposes', 'newsletter_opt_in', 'categories', 2], 'user.contact.fax'),
    );
    const issue = onlyIssue(source);
    const { line, column } = positionOf(source, 'user.contact.fax');
    expect(formatPolicyIssue(issue)).toBe(
      `policies/voiceking.yaml:${line}:${column} purposes.newsletter_opt_in.categories[2]: unknown data category "user.contact.fax"`,
    );
  });

  it('a purpose without a legal basis', () => {
    const source = mutate((doc) => doc.deleteIn(['purposes', 'billing', 'legalBasis']));
    const issue = onlyIssue(source);
    expect(issue.path).toBe('purposes.billing.legalBasis');
    expect(issue.message).toBe(
      'missing legal basis: expected one of consent, contract, legal_obligation, vital_interests, public_task, legitimate_interests',
    );
    // The key is missing, so the issue points at the purpose it is missing from.
    expect(issue).toMatchObject(positionOf(source, 'billing:\n', 0));
  });

  it('a purpose with an invalid legal basis', () => {
    const source = mutate((doc) => doc.setIn(['purposes', 'billing', 'legalBasis'], 'because_we_can'));
    const issue = onlyIssue(source);
    expect(issue).toMatchObject({
      path: 'purposes.billing.legalBasis',
      ...positionOf(source, 'because_we_can'),
    });
    expect(issue.message).toMatch(/^invalid legal basis "because_we_can": expected one of consent, contract/);
  });

  it('a consent-based purpose without a way to withdraw consent', () => {
    const source = mutate((doc) => doc.deleteIn(['purposes', 'website_statistics', 'consent']));
    const issue = onlyIssue(source);
    expect(issue.path).toBe('purposes.website_statistics.consent.withdrawal');
    expect(issue.message).toContain('must say how consent is withdrawn');
    expect(issue).toMatchObject(positionOf(source, 'website_statistics:\n'));
  });

  it('a data category without any retention rule (no purpose uses it)', () => {
    const source = mutate((doc) =>
      doc.setIn(['categories', 'user.contact.fax'], {
        label: { nl: 'faxnummer', fr: 'numéro de fax', en: 'fax number' },
        group: 'contact',
        subjectTypes: ['customer'],
      }),
    );
    const issue = onlyIssue(source);
    expect(issue.path).toBe('categories["user.contact.fax"]');
    expect(issue.message).toBe(
      'data category "user.contact.fax" has no retention rule: no purpose that keeps data uses it',
    );
    expect(issue).toMatchObject(positionOf(source, 'user.contact.fax:'));
  });

  it('a category used only by a purpose that keeps nothing of its own still has no retention rule', () => {
    const source = mutate((doc) => {
      doc.setIn(['categories', 'user.contact.fax'], {
        label: { nl: 'faxnummer', fr: 'numéro de fax', en: 'fax number' },
        group: 'contact',
        subjectTypes: ['customer'],
      });
      doc.addIn(['purposes', 'legal_disclosure', 'categories'], 'user.contact.fax');
      doc.addIn(['recipients', 'judicial_authorities', 'categories'], 'user.contact.fax');
    });
    expect(issuesOf(source).map((i) => i.message)).toEqual([
      'data category "user.contact.fax" has no retention rule: no purpose that keeps data uses it',
    ]);
  });

  it('a recipient outside the EU when the policy allows no transfers (VK-12)', () => {
    const source = mutate((doc) => doc.setIn(['recipients', 'email_marketing', 'country'], 'US'));
    const issue = onlyIssue(source);
    expect(formatPolicyIssue(issue)).toBe(
      `policies/voiceking.yaml:${positionOf(source, 'country: US').line}:${positionOf(source, 'US').column} ` +
        'recipients.email_marketing.country: recipient in "US" is outside the EU, and this policy allows no transfers outside the EU',
    );
  });

  // Part of VK-12, at unit level (requirement IDs title end-to-end tests only).

  it('Norway is in the EEA but not in the EU, so VoiceKing may not send data there either', () => {
    const source = mutate((doc) => doc.setIn(['recipients', 'invoicing', 'country'], 'NO'));
    expect(onlyIssue(source).message).toContain('outside the EU');
  });

  it('a non-EEA recipient without a declared transfer safeguard, where transfers are allowed', () => {
    const withoutSafeguard = mutate((doc) => {
      doc.setIn(['transfers', 'allowSafeguardedTransfers'], true);
      doc.setIn(['recipients', 'email_marketing', 'country'], 'US');
    });
    const issue = onlyIssue(withoutSafeguard);
    expect(issue.path).toBe('recipients.email_marketing.transferSafeguard');
    expect(issue.message).toMatch(/^recipient in "US" is outside the EEA: declare a transferSafeguard/);

    const withSafeguard = mutate((doc) => {
      doc.setIn(['transfers', 'allowSafeguardedTransfers'], true);
      doc.setIn(['recipients', 'email_marketing', 'country'], 'US');
      doc.setIn(['recipients', 'email_marketing', 'transferSafeguard'], 'standard_contractual_clauses');
    });
    expect(validatePolicySource(withSafeguard, FILE).ok).toBe(true);
  });

  it('a processor without a processing agreement', () => {
    const source = mutate((doc) => doc.deleteIn(['recipients', 'reorders', 'agreement']));
    const issue = onlyIssue(source);
    expect(issue.path).toBe('recipients.reorders.agreement');
    expect(issue.message).toContain('a processor needs a processing agreement');
    expect(issue).toMatchObject(positionOf(source, 'reorders:'));
  });

  it('a processor agreement without a date', () => {
    const source = mutate((doc) => doc.deleteIn(['recipients', 'reorders', 'agreement', 'date']));
    const issue = onlyIssue(source);
    expect(issue.path).toBe('recipients.reorders.agreement.date');
    expect(issue).toMatchObject(positionOf(source, 'agreement: { reference: VK-VWO-REORDERS'));
  });

  it('an invalid enterprise number (check digits)', () => {
    const source = mutate((doc) => doc.setIn(['controller', 'enterpriseNumber'], 'BE0653.989.639'));
    const issue = onlyIssue(source);
    const { line, column } = positionOf(source, 'BE0653.989.639');
    expect(formatPolicyIssue(issue)).toBe(
      `policies/voiceking.yaml:${line}:${column} controller.enterpriseNumber: invalid enterprise number "BE0653.989.639": check digits 39 do not match (expected 38)`,
    );
  });

  it('an answer deadline longer than the GDPR month', () => {
    const source = mutate((doc) => doc.setIn(['rights', 'answerDeadlineDays'], 45));
    const issue = onlyIssue(source);
    expect(issue).toMatchObject({ path: 'rights.answerDeadlineDays', ...positionOf(source, '45') });
    expect(issue.message).toBe('the answer deadline may not exceed 30 days (GDPR Art. 12(3): one month)');
  });

  it('special-category data used by a purpose not based on explicit consent', () => {
    const withHealth = (edit: (doc: Document) => void): string =>
      mutate((doc) => {
        doc.setIn(['sensitiveData', 'collected'], true);
        doc.setIn(['categories', 'user.health_and_medical'], {
          label: { nl: 'gezondheidsgegevens', fr: 'données de santé', en: 'health data' },
          group: 'identification',
          subjectTypes: ['customer'],
          special: true,
        });
        doc.addIn(['purposes', 'installation_support', 'categories'], 'user.health_and_medical');
        edit(doc);
      });

    const source = withHealth(() => undefined);
    const issue = onlyIssue(source);
    expect(issue.path).toBe('purposes.installation_support.categories[8]');
    expect(issue.message).toContain(
      'special-category data "user.health_and_medical" (GDPR Art. 9) may only be used under explicit consent',
    );
    expect(issue).toMatchObject(positionOf(source, 'user.health_and_medical', 1));

    // Ordinary consent is not enough; explicit consent is.
    const plainConsent = withHealth((doc) => {
      doc.setIn(['purposes', 'installation_support', 'legalBasis'], 'consent');
      doc.setIn(['purposes', 'installation_support', 'consent'], {
        withdrawal: [{ kind: 'email', address: 'info@voiceking.be' }],
      });
    });
    expect(onlyIssue(plainConsent).message).toContain('explicit consent');
    const explicit = withHealth((doc) => {
      doc.setIn(['purposes', 'installation_support', 'legalBasis'], 'consent');
      doc.setIn(['purposes', 'installation_support', 'consent'], {
        explicit: true,
        withdrawal: [{ kind: 'email', address: 'info@voiceking.be' }],
      });
    });
    expect(validatePolicySource(explicit, FILE).ok).toBe(true);
  });

  it('a special category declared while the policy says it collects none (VK-16)', () => {
    const source = mutate((doc) => doc.setIn(['categories', 'user.name', 'special'], true));
    const messages = issuesOf(source).map(formatPolicyIssue);
    expect(
      messages.some((m) => m.includes('categories["user.name"].special: a special category is declared')),
    ).toBe(true);
  });

  it('an unknown role', () => {
    const source = mutate((doc) => doc.addIn(['purposes', 'billing', 'roles'], 'marketing_intern'));
    const issue = onlyIssue(source);
    const { line, column } = positionOf(source, 'marketing_intern');
    expect(formatPolicyIssue(issue)).toBe(
      `policies/voiceking.yaml:${line}:${column} purposes.billing.roles[1]: unknown role "marketing_intern"`,
    );
  });

  it('an unknown retention rule, purpose and subject type', () => {
    const source = mutate((doc) => {
      doc.setIn(['purposes', 'billing', 'retention'], 'forever');
      doc.addIn(['recipients', 'invoicing', 'purposes'], 'reselling');
      doc.addIn(['purposes', 'billing', 'subjectTypes'], 'alien');
    });
    expect(issuesOf(source).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'purposes.billing.subjectTypes[2]: unknown data subject type "alien"',
      'purposes.billing.retention: unknown retention rule "forever"',
      'recipients.invoicing.purposes[1]: unknown purpose "reselling"',
    ]);
  });

  it('a recipient that would receive a category none of its purposes uses (VK-11)', () => {
    const source = mutate((doc) =>
      doc.addIn(['recipients', 'email_marketing', 'categories'], 'user.financial.bank_account'),
    );
    expect(onlyIssue(source).message).toBe(
      'data category "user.financial.bank_account" is not used by any of this recipient\'s purposes',
    );
  });

  it('a newsletter purpose for non-customers that is not based on consent (VK-17)', () => {
    const source = mutate((doc) => doc.setIn(['newsletter', 'optIn', 'purpose'], 'newsletter_customers'));
    expect(onlyIssue(source).message).toBe(
      'purpose "newsletter_customers" must be based on consent, not legitimate_interests',
    );
  });

  it('an incidents purpose that leaves a subject type out (VK-9, GDPR Art. 34; attack S18-1)', () => {
    const source = mutate((doc) =>
      doc.setIn(['purposes', 'breach_notification', 'subjectTypes'], ['customer', 'contact_person']),
    );
    expect(onlyIssue(source)).toMatchObject({
      path: 'purposes.breach_notification.subjectTypes',
      message:
        'the incidents purpose must reach every subject type (GDPR Art. 34: a breach may affect anyone); missing: prospect, partner, job_applicant, website_visitor, other_person, staff',
    });
  });

  it('a tracking cookie whose purpose is not based on consent (VK-20)', () => {
    const source = mutate((doc) => doc.setIn(['cookies', 'items', 3, 'purposeKey'], 'website_operation'));
    expect(onlyIssue(source)).toMatchObject({
      path: 'cookies.items[3].purposeKey',
      message: 'a tracking cookie needs a purpose based on consent',
    });
  });

  it('a misspelt key, pointing at the key itself', () => {
    const source = seed.replace('  answerDeadlineDays: 30', '  answerDeadlineDay: 30');
    const issues = issuesOf(source);
    const { line, column } = positionOf(source, 'answerDeadlineDay:');
    expect(issues.map(formatPolicyIssue)).toContain(
      `policies/voiceking.yaml:${line}:${column} rights.answerDeadlineDay: unknown key "answerDeadlineDay"`,
    );
    expect(issues.map((i) => i.path)).toContain('rights.answerDeadlineDays');
  });

  it('YAML syntax errors with line and column', () => {
    const source = seed.replace('  answerDeadlineDays: 30', '  answerDeadlineDays: [30');
    const issues = issuesOf(source);
    expect(issues.length).toBeGreaterThan(0);
    const first = issues[0] as PolicyIssue;
    expect(first.path).toBe('');
    expect(first.message).toMatch(/^YAML syntax error: /);
    expect(first.line).toBeGreaterThanOrEqual(positionOf(source, 'answerDeadlineDays: [30').line);
    expect(formatPolicyIssue(first)).toMatch(/^policies\/voiceking\.yaml:\d+:\d+ YAML syntax error: /);
  });

  it('a duplicate key is a syntax error at its line', () => {
    const source = seed.replace(
      '  answerDeadlineDays: 30',
      '  answerDeadlineDays: 30\n  answerDeadlineDays: 20',
    );
    const issue = issuesOf(source)[0] as PolicyIssue;
    expect(issue.line).toBe(positionOf(source, 'answerDeadlineDays: 20').line);
    expect(issue.message).toContain('unique');
  });

  it('reports every problem at once, in file order', () => {
    const source = mutate((doc) => {
      doc.setIn(['rights', 'answerDeadlineDays'], 60);
      doc.setIn(['controller', 'enterpriseNumber'], 'BE0000.000.000');
      doc.setIn(['purposes', 'billing', 'legalBasis'], 'whim');
    });
    const issues = issuesOf(source);
    expect(issues.map((i) => i.path)).toEqual([
      'controller.enterpriseNumber',
      'purposes.billing.legalBasis',
      'rights.answerDeadlineDays',
    ]);
    expect(issues.map((i) => i.line)).toEqual([...issues.map((i) => i.line)].sort((a, b) => a - b));
  });

  it('parsePolicy throws a PolicyValidationError that is an AppError with code invalid_policy', () => {
    const source = mutate((doc) => doc.setIn(['rights', 'answerDeadlineDays'], 31));
    let caught: unknown;
    try {
      parsePolicy(source, FILE);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PolicyValidationError);
    expect(caught).toBeInstanceOf(AppError);
    const error = caught as PolicyValidationError;
    expect(error.code).toBe('invalid_policy');
    expect(error.issues).toHaveLength(1);
    expect(error.message).toContain('rights.answerDeadlineDays');
  });

  it('formats paths with quoted keys where a key is not an identifier', () => {
    expect(formatPath(['purposes', 'newsletter', 'categories', 2])).toBe('purposes.newsletter.categories[2]');
    expect(formatPath(['categories', 'user.contact.email', 'label'])).toBe(
      'categories["user.contact.email"].label',
    );
  });
});
