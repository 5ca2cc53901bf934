import { purposesForRole } from '../../kernel/policy/policy.query.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { STAFF_PURPOSE } from './staff.service.js';

/** The dossier's secrets (VX-4): a role that may read them needs a second factor. */
export const CREDENTIAL_CATEGORY = 'kluis.dossier.credential';
/** Answering data-subject requests: a role that handles them needs a second factor. */
export const RIGHTS_PURPOSE = 'rights_requests';

/** Roles that manage staff accounts: those the policy lists on the staff_accounts purpose. */
export function staffAdminRoles(policy: Policy): ReadonlySet<string> {
  return new Set(policy.purposes[STAFF_PURPOSE]?.roles ?? []);
}

/**
 * Roles that must log in with a second factor (VK-7, VK-8), from the policy rather than listed
 * in code: every role on a purpose that covers the dossier's credentials, every role on a purpose
 * that answers rights requests (wholePerson: rights), the roles that manage staff accounts, and
 * what the policy's security measures promise (security.mfa: all staff, or the roles listed).
 */
export function mfaRequiredRoles(policy: Policy): ReadonlySet<string> {
  if (policy.security.mfa === 'all_staff') return new Set(Object.keys(policy.roles));
  const roles = new Set([...staffAdminRoles(policy), ...(policy.security.mfa ?? [])]);
  for (const [key, purpose] of Object.entries(policy.purposes)) {
    if (
      key === RIGHTS_PURPOSE ||
      purpose.wholePerson === 'rights' ||
      purpose.categories.includes(CREDENTIAL_CATEGORY)
    ) {
      for (const role of purpose.roles) roles.add(role);
    }
  }
  return roles;
}

export function roleRequiresMfa(policy: Policy, role: string): boolean {
  return mfaRequiredRoles(policy).has(role);
}

/**
 * The purposes `role` acts under that `holder` does not: empty when a token (or anything else
 * handed on) with `role` carries no more than its holder may do. Roles are not ranked in the
 * policy, so "at most the holder's role" means: no purpose beyond the holder's own.
 */
export function purposesBeyond(policy: Policy, role: string, holder: string): string[] {
  const held = new Set(purposesForRole(policy, holder));
  return purposesForRole(policy, role).filter((purpose) => !held.has(purpose));
}
