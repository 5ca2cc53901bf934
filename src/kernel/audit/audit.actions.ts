/**
 * Every action the server writes into the audit log, and the reasons that are codes rather than
 * sentences (decision 1260). `AuditEvent.action` is typed `AuditAction`, so a writer cannot record
 * an action missing here; the back office has words for each in nl, fr and en
 * (web/src/screens/audit/audit-words.ts, checked by test/audit-words.test.ts).
 */
import type { AccessAction, DenialCode } from '../gate/gate.js';

export const AUDIT_ACTIONS = [
  // The access gate's decisions (AccessAction).
  'read',
  'write',
  'store',
  'erase',
  'export',
  // The audit log itself.
  'audit.read',
  // Staff sign-in and accounts.
  'login',
  'login.password',
  'login.second-factor',
  'login.step-up',
  'login.rate-limit',
  'password.change',
  'mfa.enrol.start',
  'mfa.enrol',
  'token.create',
  'token.revoke',
  'staff.password.reset',
  'staff.role.change',
  'staff.mfa.reset',
  'staff.disable',
  'staff.enable',
  'staff.unlock',
  'staff.remove',
  // Keys.
  'key.destroy',
  'key.rotate',
  // The person's state.
  'purpose_state.consented',
  'purpose_state.pending',
  'purpose_state.withdrawn',
  'purpose_state.objected',
  'subject.restrict',
  'subject.restriction_lift',
  'subject.unrestrict',
  'subject.object_marketing',
  'subject.reclassify',
  // Rights requests: registered (by kind), then their steps.
  'request.access',
  'request.portability',
  'request.rectification',
  'request.erasure',
  'request.restriction',
  'request.objection',
  'request.withdraw_consent',
  'request.object_direct_marketing',
  'request.verify',
  'request.extend',
  'request.reject',
  'request.fulfil',
  'request.defer',
  // Retention.
  'retention.plan',
  'retention.erase',
  'retention.certificate',
  'retention.hold.place',
  'retention.hold.release',
  'retention.case.place',
  'retention.case.release',
  // The technical dossier.
  'dossier.update',
  'dossier.delete',
  'dossier.reveal',
  'dossier.totp-code',
  'dossier.share.create',
  'dossier.share.view',
  'dossier.export',
  'dossier.attachment.add',
  'dossier.attachment.download',
  'dossier.attachment.delete',
  'dossier.erase',
  'dossier.erase.deferred',
  // Telephony.
  'number.end',
  // Billing.
  'payments.import',
  'billing.invoice.reminder',
  'billing.invoice.collection',
  'billing.invoice.collection_closed',
  'billing.invoice.dispute',
  'billing.invoice.dispute.settle',
  'billing.numbering.resume',
  // Disclosures and authority requests.
  'disclosure',
  'disclosure.list',
  'authority_request.register',
  'authority_request.approve',
  'authority_request.list',
  // The incident register.
  'incident.report',
  'incident.list',
  'incident.read',
  'incident.assess',
  'incident.draft',
  'incident.authority.notified',
  'incident.authority.not_notified',
  'incident.authority.supplemented',
  'incident.persons.inform',
  'incident.persons.not_inform',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * The roles recorded for an actor who is no staff member (a staff member's role is a policy key,
 * shown by the policy's label): a system job, the person acting on their own data.
 */
export const AUDIT_ACTOR_ROLES = ['system', 'data_subject'] as const;

/** The gate's denial codes, as a list (the type is DenialCode). */
export const DENIAL_CODES = [
  'purpose_not_allowed',
  'role_not_allowed',
  'category_not_allowed',
  'recipient_not_allowed',
  'transfer_not_allowed',
  'subject_restricted',
  'subject_objected',
  'consent_missing',
  'subject_erased',
  'not_found',
  'forbidden',
] as const satisfies readonly DenialCode[];

/** What the gate records instead of the denial code when the code alone would hide why. */
export const GATE_AUDIT_REASONS = [
  'no_such_subject',
  'disclosure_only_purpose',
  'subject_type_outside_purpose',
  'category_not_kept_for_subject_type',
  'minor_without_parental_consent',
] as const;

export type GateAuditReason = (typeof GATE_AUDIT_REASONS)[number];

/**
 * Every reason recorded as a code (most reasons are fixed sentences, shown as written): the
 * gate's denial codes and audit reasons, and those the modules write (sign-in failures, a secret
 * revealed without a usable reason, the one-time link, erasure, a registered request).
 */
export const AUDIT_REASON_CODES = [
  ...DENIAL_CODES,
  ...GATE_AUDIT_REASONS,
  // Sign-in (staff auth.service).
  'bad_credentials',
  'account_locked',
  'account_locked_now',
  // An API token refused (staff token.service).
  'role_beyond_maker',
  // A secret revealed (dossier reveal.service) or opened by a one-time link (share.service).
  'reason_missing',
  'reason_unusable',
  'second_factor_missing',
  'second_factor_stale',
  'share_used',
  'share_expired',
  'secret_gone',
  // Erasure: the key destroyed, or there was none; a person erased before, a replay, a silence.
  'crypto_shredded',
  'dossier_key_shredded',
  'no_key',
  'already_erased',
  'journal_replay',
  'silence_ended',
  // A registered rights request: matched to a person on file or not.
  'matched',
  'unmatched',
] as const;

export type AuditReasonCode = (typeof AUDIT_REASON_CODES)[number];

// Every gate action and denial code is listed (a new one fails the compiler here).
type Missing<All, Listed> = Exclude<All, Listed> extends never ? true : never;
const EVERY_ACCESS_ACTION: Missing<AccessAction, AuditAction> = true;
const EVERY_DENIAL_CODE: Missing<DenialCode, (typeof DENIAL_CODES)[number]> = true;
void EVERY_ACCESS_ACTION;
void EVERY_DENIAL_CODE;
