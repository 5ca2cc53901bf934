/**
 * A person's audit trail (issue #20): who looked at this person, when, in which role, under which
 * purpose, doing what to which categories. Read only with a read Grant for that one person under
 * the policy's rights purpose (the privacy officer's), and the read is itself recorded.
 * docs/decisions/0330-audit-trail-and-verify-over-http.md.
 */
import { AppError } from '../../platform/errors.js';
import { auditActor, type Grant } from '../gate/gate.js';
import type { Policy } from '../policy/policy.schema.js';
import { selectTrailPage } from './audit.repository.js';
import type { AuditedTx, AuditKeys } from './audit.service.js';

export interface AuditTrailEntry {
  seq: number;
  at: Date;
  /** A staff member by staff id, a job by name, the person themself as `self` (another as `other`). */
  actor: { kind: 'staff' | 'subject' | 'system'; id: string };
  role: string | null;
  purpose: string | null;
  action: string;
  categories: string[];
  /**
   * How many of this person's records the entry counted: its count when it names this person
   * alone (or nobody, the person acting); null when it names several people, whose count is the
   * batch's and says nothing about this person (attack S8-4, decision 0581).
   */
  records: number | null;
  /** How many people the one decision named: 1 for this person alone, more for a batch. */
  batchSize: number;
  decision: 'allowed' | 'denied';
  reason: string | null;
}

export interface AuditTrailPage {
  items: AuditTrailEntry[];
  /** The seq to pass as `beforeSeq` for the next (older) page; null on the last. */
  nextBeforeSeq: number | null;
}

/** The policy's purpose for rights requests (wholePerson `rights`), if it declares one. */
export function rightsPurposeOf(policy: Policy): string | undefined {
  return Object.entries(policy.purposes).find(([, purpose]) => purpose.wholePerson === 'rights')?.[0];
}

/**
 * One page of the entries naming the grant's person, newest first, and an `audit.read` entry for
 * this read in the same transaction. The grant must be a read of exactly one person under the
 * rights purpose: the trail says which staff looked at whom, which only the rights work needs.
 */
export async function readAuditTrail(
  atx: AuditedTx,
  grant: Grant,
  deps: { keys: Pick<AuditKeys, 'pseudonym'>; policy: Policy },
  page: { limit: number; beforeSeq?: number },
): Promise<AuditTrailPage> {
  const [subjectId, ...others] = [...grant.subjectIds];
  const rights = rightsPurposeOf(deps.policy);
  if (
    grant.tenantId !== atx.tenantId ||
    grant.action !== 'read' ||
    subjectId === undefined ||
    others.length > 0 ||
    rights === undefined ||
    grant.purpose !== rights
  ) {
    throw new AppError(
      'forbidden',
      'the audit trail is read with a read grant for one person under the rights purpose',
    );
  }
  const pseudonym = await deps.keys.pseudonym(atx.tenantId, subjectId);
  const rows = await selectTrailPage(atx.tx, atx.tenantId, pseudonym, {
    limit: page.limit + 1,
    ...(page.beforeSeq === undefined ? {} : { beforeSeq: page.beforeSeq }),
  });
  const shown = rows.slice(0, page.limit);
  atx.audit.record({
    actor: auditActor(grant.actor),
    role: grant.actor.kind === 'staff' ? grant.actor.role : grant.actor.kind,
    purpose: grant.purpose,
    action: 'audit.read',
    subjectIds: [subjectId],
    records: shown.length,
    decision: 'allowed',
  });
  return {
    items: shown.map((row) => ({
      seq: row.seq,
      at: row.at,
      // The person acting on their own data is stored by pseudonym: shown as themself.
      actor:
        row.actor_kind !== 'subject'
          ? { kind: row.actor_kind, id: row.actor_id }
          : { kind: 'subject', id: row.actor_id === pseudonym || row.actor_id === 'self' ? 'self' : 'other' },
      role: row.role,
      purpose: row.purpose,
      action: row.action,
      categories: row.categories,
      // Derived for this person's view; the signed entry keeps its stored count (decision 0581).
      records: row.subject_pseudonyms.length > 1 ? null : row.records,
      batchSize: row.subject_pseudonyms.length,
      decision: row.decision,
      reason: row.reason,
    })),
    nextBeforeSeq: rows.length > page.limit ? (shown.at(-1)?.seq ?? null) : null,
  };
}
