// The audit log's public surface (DESIGN.md point 5). The access gate and services call these.
export type { AuditActor, AuditEvent } from './audit.event.js';
export {
  AUDIT_ACTIONS,
  AUDIT_ACTOR_ROLES,
  AUDIT_REASON_CODES,
  type AuditAction,
  type AuditReasonCode,
  type GateAuditReason,
} from './audit.actions.js';
export {
  withAudit,
  appendAuditNow,
  verifyAuditChain,
  writeCheckpoint,
  listAuditEntries,
  AuditChainError,
  // A type only: trails are created by withAudit, bound to its transaction.
  type AuditTrail,
  type InlineAuditEntry,
  type AuditedTx,
  type AuditKeys,
  type AuditDeps,
  type AuditProblem,
  type AuditVerification,
  type AuditSetBackView,
  type DisplacedPending,
  type AuditEntryView,
  type AuditEntryQuery,
  type VerifyOptions,
} from './audit.service.js';
export {
  KeystoreAnchors,
  FileAnchors,
  AnchorSourceError,
  type AnchorSource,
  type AuditAnchor,
  type AuditSetBack,
} from './audit.anchors.js';
// The restore signs a set-back with the tenant's audit key (decision 1270).
export { encodeSetBack, GENESIS_HASH } from './audit.canonical.js';
export type { AuditTables } from './audit.tables.js';
export { readConsultations, type Consultation } from './audit.consultations.js';
