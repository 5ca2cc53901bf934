import { AppError } from '../../platform/errors.js';

/** One problem in a policy file, located so an editor can jump to it. */
export interface PolicyIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted path of the offending key, e.g. `purposes.newsletter.categories[2]`; empty for syntax errors. */
  path: string;
  message: string;
}

/** `policies/x.yaml:42:7 purposes.newsletter.categories[2]: unknown data category "user.contact.fax"` */
export function formatPolicyIssue(issue: PolicyIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path === '' ? `${where} ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}

/**
 * A policy that does not validate. An AppError (`invalid_policy`) so it can cross service
 * boundaries as is; the issues name keys and lines of the policy file, never personal data.
 */
export class PolicyValidationError extends AppError {
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[]) {
    const first = issues[0];
    const summary = first === undefined ? 'invalid policy' : formatPolicyIssue(first);
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('invalid_policy', `${summary}${more}`, {
      publicMessage: `The policy has ${issues.length} error(s).`,
      details: { issues: issues.map((issue) => ({ ...issue })) },
    });
    this.name = 'PolicyValidationError';
    this.issues = issues;
  }
}
