import { AppError } from '../../platform/errors.js';
import { currentRequestId } from '../../platform/request-scope.js';
import type { AuditAction } from './audit.actions.js';

/**
 * Who acted: a staff user (their staff id), a named system job, or the data subject themself:
 * their numeric id (stored as its pseudonym) or 'self' (one of the event's subjects).
 */
export type AuditActor = { kind: 'staff' | 'subject' | 'system'; id: string };

/**
 * One audited decision of the access gate or one audited operation.
 *
 * The rule: an event never carries a value of personal data. Subjects are given by id and stored
 * only as keyed pseudonyms (an actor of kind `subject` too); `action`, `role`, `purpose` and
 * `categories` are policy keys; `reason` is a fixed sentence or error code written by the
 * programmer, never user input. `recordAuditEvent` enforces what a pattern can check.
 */
export interface AuditEvent {
  actor: AuditActor;
  role: string | null;
  purpose: string | null;
  /** One of AUDIT_ACTIONS (audit.actions.ts): the back office has words for each (decision 1260). */
  action: AuditAction;
  /** Stored ONLY as pseudonyms, never raw. */
  subjectIds?: number[];
  categories?: string[];
  records?: number;
  decision: 'allowed' | 'denied';
  reason?: string;
  requestId?: string;
}

/** An event as it was recorded: validated, copied, and stamped with the clock. */
export interface RecordedAuditEvent {
  at: Date;
  actor: AuditActor;
  role: string | null;
  purpose: string | null;
  action: string;
  subjectIds: number[];
  categories: string[];
  records: number;
  decision: 'allowed' | 'denied';
  reason: string | null;
  requestId: string | null;
}

// Policy keys: dotted lowercase words (fideslang style, e.g. `user.contact.email`, `billing-clerk`).
const KEY_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/;
const KEY_MAX = 120;
// Staff ids, job names, request ids: short tokens without '@' or spaces, so no e-mail fits.
const TOKEN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const TOKEN_MAX = 128;
/** A subject acting on their own data, named among the event's subjectIds. */
export const SELF_ACTOR_ID = 'self';
const SUBJECT_ID_PATTERN = /^[1-9][0-9]{0,15}$/;
const REASON_MAX = 300;
// Six digits or more, spaces, dots, dashes and slashes allowed between them: phone numbers,
// national register numbers, account and card numbers. Short numbers (a count, a code) pass.
const DIGIT_RUN = /\d(?:[\s./-]?\d){5,}/;
const MAX_RECORDS = 2_147_483_647;

function refuse(field: string, rule: string): never {
  // The message names the field and the rule, never the offending value (it may be personal data).
  throw new AppError('validation_failed', `audit event: ${field} ${rule}`, {
    publicMessage: `audit event: ${field} ${rule}`,
    details: { field },
  });
}

function checkKey(field: string, value: string): void {
  if (value.length > KEY_MAX || !KEY_PATTERN.test(value)) {
    refuse(field, 'must be a policy key (lowercase words separated by dots)');
  }
}

function checkToken(field: string, value: string): void {
  if (value.length > TOKEN_MAX || !TOKEN_PATTERN.test(value)) {
    refuse(field, 'must be a short token of letters, digits and _.:-');
  }
}

function checkReason(value: string): void {
  if (value.length === 0 || value.length > REASON_MAX) refuse('reason', `must be 1-${REASON_MAX} characters`);
  if (value.includes('@')) refuse('reason', 'must not contain an e-mail address');
  if (DIGIT_RUN.test(value)) refuse('reason', 'must not contain a long run of digits');
  // Control characters would let a reason forge extra lines in printed reports.
  if (/\p{Cc}/u.test(value)) refuse('reason', 'must not contain control characters');
}

/**
 * Validates an event against the no-personal-data rule and copies it (the caller may reuse its
 * arrays). Throws AppError `validation_failed` naming the field, never the value.
 */
export function validateAuditEvent(event: AuditEvent, at: Date): RecordedAuditEvent {
  const { actor } = event;
  if (actor.kind !== 'staff' && actor.kind !== 'subject' && actor.kind !== 'system') {
    refuse('actor.kind', "must be 'staff', 'subject' or 'system'");
  }
  if (actor.kind === 'subject') {
    if (actor.id !== SELF_ACTOR_ID && !SUBJECT_ID_PATTERN.test(actor.id)) {
      refuse('actor.id', "of a subject must be its numeric id or 'self'");
    }
  } else {
    checkToken('actor.id', actor.id);
  }
  if (event.role !== null) checkKey('role', event.role);
  if (event.purpose !== null) checkKey('purpose', event.purpose);
  checkKey('action', event.action);
  const subjectIds = [...new Set(event.subjectIds ?? [])];
  for (const id of subjectIds) {
    if (!Number.isSafeInteger(id) || id < 1) refuse('subjectIds', 'must be positive integers');
  }
  const categories = [...new Set(event.categories ?? [])].sort();
  for (const category of categories) checkKey('categories', category);
  const records = event.records ?? 0;
  if (!Number.isInteger(records) || records < 0 || records > MAX_RECORDS) {
    refuse('records', 'must be a non-negative integer');
  }
  if (event.decision !== 'allowed' && event.decision !== 'denied') {
    refuse('decision', "must be 'allowed' or 'denied'");
  }
  if (event.reason !== undefined) checkReason(event.reason);
  // An event that names no request takes the one whose handler records it (decision 0728).
  const requestId = event.requestId ?? currentRequestId();
  if (requestId !== undefined) checkToken('requestId', requestId);
  if (Number.isNaN(at.getTime())) refuse('at', 'must be a valid time (check the clock)');
  return {
    at: new Date(at.getTime()),
    actor: { kind: actor.kind, id: actor.id },
    role: event.role,
    purpose: event.purpose,
    action: event.action,
    subjectIds,
    categories,
    records,
    decision: event.decision,
    reason: event.reason ?? null,
    requestId: requestId ?? null,
  };
}
