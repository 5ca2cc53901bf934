import { REGISTER_ROLES } from '../kernel/tenant-policy/tenant-policy.routes.js';
import { VERIFY_ROLES } from '../kernel/audit/audit.routes.js';
import { decideRequest, type AccessAction } from '../kernel/gate/gate.js';
import { authorityPurposeKeys } from '../kernel/policy/policy.query.js';
import type { Policy } from '../kernel/policy/policy.schema.js';
import { BILLING_CATEGORIES, SETTINGS_ROLES } from '../modules/billing/index.js';
import { mailingPurposes } from '../modules/consent/index.js';
import { orderCategoryOf, workPurposes } from '../modules/contracts/index.js';
import { DOSSIER_CATEGORIES } from '../modules/dossier/index.js';
import { COOKIE_RECORD_ROLES, isBannerOffered, visitLogPurposes } from '../modules/cookies/index.js';
import { NON_REGISTERING_ROLES, ORGANISATION_ROLES, PERSON_CATEGORIES } from '../modules/parties/index.js';
import { RIGHTS_PURPOSE } from '../modules/requests/index.js';
import { STAFF_CATEGORIES, STAFF_PURPOSE } from '../modules/staff/index.js';
import { mayManageTariff, maySeeImports, TELEPHONY_CATEGORIES } from '../modules/telephony/index.js';

/**
 * What the back office asks of the server before it offers a screen, a tab or a button, each
 * answered by the rule its routes apply (decision 0845). `purposes` are the role's purposes under
 * which the routes' gate call passes (empty for a rule that names no purpose, such as a role set).
 */
export const CAPABILITY_KEYS = [
  'quotes',
  'orders',
  'staffAccounts',
  'staffRemoval',
  'rightsRequests',
  'auditVerify',
  'policyRegister',
  'billingSettings',
  'websiteStatistics',
  'callImports',
  'tariffs',
  'organisationChanges',
  'people',
  'peopleCreate',
  'billing',
  'dossier',
  'telephony',
  'mailings',
] as const;
export type CapabilityKey = (typeof CAPABILITY_KEYS)[number];

export interface Capability {
  key: CapabilityKey;
  purposes: string[];
}

/**
 * The role's purposes under which every `actions` on `categories` passes the gate's rules that do
 * not depend on a subject (`decideRequest`, the same function every gate call starts with), leaving
 * out an authority's purposes and the disclosure-only ones, which the door refuses on every
 * ordinary route (decisions 0816, 0872).
 */
function purposesPassing(
  policy: Policy,
  role: string,
  actions: readonly AccessAction[],
  categories: readonly string[],
  candidates: readonly string[] = Object.keys(policy.purposes),
): string[] {
  const authority = new Set(authorityPurposeKeys(policy));
  const actor = { kind: 'staff', staffId: 0, role } as const;
  return (
    candidates
      // The door refuses these on every ordinary route (decisions 0816, 0872).
      .filter((purpose) => !authority.has(purpose) && policy.purposes[purpose]?.disclosureOnly !== true)
      .filter((purpose) =>
        actions.every(
          (action) =>
            decideRequest(policy, actor, { purpose, action, categories, subjectIds: [] }) === undefined,
        ),
      )
      .sort()
  );
}

/** The routes' own rules, one per capability: a list of purposes, `[]` (allowed, no purpose) or undefined. */
const RULES: Record<CapabilityKey, (policy: Policy, role: string) => string[] | undefined> = {
  // GET/POST /api/v1/quotes…: the gate on the quote category under the policy's purposes for quotes
  // (quote.service, decision 0927).
  quotes: (policy, role) =>
    nonEmpty(
      purposesPassing(
        policy,
        role,
        ['read', 'write'],
        [orderCategoryOf(policy)],
        workPurposes(policy, 'quote'),
      ),
    ),
  // GET /api/v1/orders…: the same category read under the declared purpose (order.service).
  orders: (policy, role) => nonEmpty(purposesPassing(policy, role, ['read'], [orderCategoryOf(policy)])),
  // /api/v1/staff…, the roles list included: the gate under staff_accounts, no category (listRoles).
  staffAccounts: (policy, role) =>
    nonEmpty(
      purposesPassing(policy, role, ['read'], [], policy.purposes[STAFF_PURPOSE] ? [STAFF_PURPOSE] : []),
    ),
  // DELETE /api/v1/staff/:id: a write on the account's name, e-mail and credentials under
  // staff_accounts (removeStaff's gate call on the account; decision 0919).
  staffRemoval: (policy, role) =>
    nonEmpty(
      purposesPassing(
        policy,
        role,
        ['write'],
        STAFF_CATEGORIES,
        policy.purposes[STAFF_PURPOSE] ? [STAFF_PURPOSE] : [],
      ),
    ),
  // /api/v1/requests…: under the rights purpose only.
  rightsRequests: (policy, role) =>
    nonEmpty(
      purposesPassing(policy, role, ['read'], [], policy.purposes[RIGHTS_PURPOSE] ? [RIGHTS_PURPOSE] : []),
    ),
  // GET /api/v1/audit/verify: its own role set (decision 0330).
  auditVerify: (_policy, role) => (VERIFY_ROLES.has(role) ? [] : undefined),
  // GET /api/v1/policy/versions and the register: its own role set (decision 0332).
  policyRegister: (_policy, role) => (REGISTER_ROLES.has(role) ? [] : undefined),
  // PUT /api/v1/billing/settings: its own role set.
  billingSettings: (_policy, role) => (SETTINGS_ROLES.has(role) ? [] : undefined),
  // GET /api/v1/cookies/consent-rates and /statistics: their own role set, and 404 where the
  // policy asks for no banner or keeps no statistics (Voxtra).
  websiteStatistics: (policy, role) =>
    COOKIE_RECORD_ROLES.has(role) &&
    isBannerOffered(policy) &&
    visitLogPurposes(policy).statistics !== undefined
      ? []
      : undefined,
  // GET /api/v1/call-record-imports…: the admin and the roles the policy lets work on call records.
  callImports: (policy, role) => byRole(maySeeImports(policy, role)),
  // The tariff and the rating plans (/api/v1/tariffs, /api/v1/rating-plans…): their own role set.
  tariffs: (_policy, role) => byRole(mayManageTariff(role)),
  // POST/PUT /api/v1/organisations…: their own role set (decision 0395); reading needs none.
  organisationChanges: (_policy, role) => byRole(ORGANISATION_ROLES.has(role)),
  // GET /api/v1/people: the gate under the declared purpose on names, once per search (listPeople).
  people: (policy, role) => nonEmpty(purposesPassing(policy, role, ['read'], [PERSON_CATEGORIES.name])),
  // POST /api/v1/people: the gate writes the name under the declared purpose (createPerson); the
  // privacy officer registers nobody, and staff members come with their account (decision 1111).
  peopleCreate: (policy, role) =>
    NON_REGISTERING_ROLES.has(role)
      ? undefined
      : nonEmpty(
          purposesPassing(policy, role, ['write'], [PERSON_CATEGORIES.name]).filter(
            // A consent purpose writes only for someone who gave it: no one new (the sign-up does).
            (purpose) => purpose !== STAFF_PURPOSE && policy.purposes[purpose]?.legalBasis !== 'consent',
          ),
        ),
  // GET /api/v1/invoices: the gate under the declared purpose on payments, the buyer's fields only
  // where the purpose covers them (authorizeDocuments).
  billing: (policy, role) => nonEmpty(purposesPassing(policy, role, ['read'], [BILLING_CATEGORIES.payment])),
  // GET /api/v1/customers/:subjectId/dossier: assets and credentials read together (getDossier).
  dossier: (policy, role) =>
    nonEmpty(
      purposesPassing(policy, role, ['read'], [DOSSIER_CATEGORIES.asset, DOSSIER_CATEGORIES.credential]),
    ),
  // GET /api/v1/phone-numbers and /api/v1/line-identifiers: numbers read under the declared purpose.
  telephony: (policy, role) =>
    nonEmpty(purposesPassing(policy, role, ['read'], [TELEPHONY_CATEGORIES.number])),
  // POST /api/v1/mailings: a newsletter purpose of the policy, written under by the role (createMailing).
  mailings: (policy, role) => nonEmpty(purposesPassing(policy, role, ['write'], [], mailingPurposes(policy))),
};

const byRole = (allowed: boolean): string[] | undefined => (allowed ? [] : undefined);

function nonEmpty(purposes: string[]): string[] | undefined {
  return purposes.length > 0 ? purposes : undefined;
}

/** The capabilities `role` has under `policy`, in CAPABILITY_KEYS order. */
export function capabilitiesOf(policy: Policy, role: string): Capability[] {
  return CAPABILITY_KEYS.flatMap((key) => {
    const purposes = RULES[key](policy, role);
    return purposes === undefined ? [] : [{ key, purposes }];
  });
}
