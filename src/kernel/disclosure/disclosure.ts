import { AppError } from '../../platform/errors.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import type { AuditEvent, AuditedTx } from '../audit/index.js';
import { authorize, authorizeBatch } from '../gate/access.js';
import { AccessDenied, auditActor, type Actor, type Grant } from '../gate/gate.js';
import type { Kernel } from '../kernel.js';
import { findPurpose, isWithinRegion } from '../policy/policy.query.js';
import type { Language, Policy, Recipient } from '../policy/policy.schema.js';

/**
 * The one door out (issue 18, VK-10, VK-11, VK-12, VX-6). Every time personal data leaves Kluis
 * for a recipient of the tenant's policy — a mailing list for an e-mail processor, an address for
 * a transport firm, an answer to an authority, a customer base for a buyer — the module asks here.
 * The door checks the registry (the recipient exists, may receive data for the purpose and every
 * category asked, a processor has its agreement, the destination lies in the region the policy
 * allows or a safeguard is named), asks the gate for the persons (role × purpose × person's
 * state), and logs the disclosure in the same transaction as the grant it returns: the data read
 * through that grant is what leaves, and its log row commits with it or not at all.
 */
export interface DisclosureOrder {
  /** A recipient key of the policy (`recipients.<key>`). */
  recipient: string;
  /** The purpose the data is disclosed for; must be one of the recipient's and the actor's. */
  purpose: string;
  categories: readonly string[];
  subjectIds: readonly number[];
  /** The file or request the disclosure is part of (an export's id, an authority request). */
  reference: string;
  /** Where the data goes when not the recipient's registered country (a foreign authority). */
  destinationCountry?: string;
  authorityRequestId?: number;
  /** While an authority forbids telling the person (inclusive): left out of the access report. */
  confidentialUntil?: string;
  /**
   * Leave out the persons the gate refuses for their own state (objected, restricted, erased)
   * instead of refusing the whole disclosure: a mailing list goes without those who objected.
   */
  skipRefusedSubjects?: boolean;
  requestId?: string;
}

export interface Disclosure {
  /** Null when nobody was left to disclose (nothing was logged, nothing may leave). */
  disclosureId: number | null;
  /** Read the data to disclose through this grant only: it covers the disclosed persons. */
  grant: Grant;
  subjectIds: number[];
  refused: number[];
  recipient: Recipient;
  legalBasis: string;
  destinationCountry: string;
}

/** What the door needs of the kernel. */
export type DisclosureKernel = Pick<Kernel, 'gate' | 'policies' | 'keys' | 'clock'>;

/**
 * Discloses under the order: refused (and the refusal audited) unless the registry allows it.
 * Returns the grant the module reads the data with; the log row is written in `atx`.
 */
export async function disclose(
  kernel: DisclosureKernel,
  atx: AuditedTx,
  actor: Actor,
  order: DisclosureOrder,
): Promise<Disclosure> {
  const { policy } = await kernel.policies.current(atx.tenantId);
  const refusal = checkDisclosure(policy, order);
  if (refusal) {
    throw new AccessDenied(refusal.code, refusal.reason, atx.tenantId, refusalEvent(actor, order, refusal));
  }
  const recipient = policy.recipients[order.recipient] as Recipient;
  const purpose = findPurpose(policy, order.purpose);
  if (!purpose) throw new AppError('purpose_not_allowed', 'unreachable: checked above');
  const context = {
    tenantId: atx.tenantId,
    actor,
    purpose: order.purpose,
    ...(order.requestId ? { requestId: order.requestId } : {}),
    // A purpose kept for disclosures only serves this request and no other (decision 0872).
    disclosure: true as const,
  };
  let grant: Grant;
  let refused: number[] = [];
  if (order.skipRefusedSubjects) {
    ({ grant, refused } = await authorizeBatch(
      kernel,
      atx,
      context,
      'read',
      order.categories,
      order.subjectIds,
    ));
  } else {
    grant = await authorize(kernel, atx, context, 'read', order.categories, order.subjectIds);
  }
  const subjectIds = [...grant.subjectIds].sort((a, b) => a - b);
  const destinationCountry = (order.destinationCountry ?? recipient.country).toUpperCase();
  const base = { grant, subjectIds, refused, recipient, legalBasis: purpose.legalBasis, destinationCountry };
  if (subjectIds.length === 0) return { ...base, disclosureId: null };
  const auditedActor = auditActor(actor);
  const row = await atx.tx
    .insertInto('disclosures')
    .values({
      tenant_id: atx.tenantId,
      at: kernel.clock.now(),
      recipient: order.recipient,
      recipient_kind: recipient.kind,
      destination_country: destinationCountry,
      purpose: order.purpose,
      legal_basis: purpose.legalBasis,
      categories: [...new Set(order.categories)],
      subject_count: subjectIds.length,
      actor_kind: actor.kind === 'staff' ? 'staff' : 'system',
      actor_id: auditedActor.id,
      role: actor.kind === 'staff' ? actor.role : null,
      reference: order.reference,
      authority_request_id: order.authorityRequestId ?? null,
      confidential_until: order.confidentialUntil ?? null,
      request_id: order.requestId ?? null,
    })
    .returning('disclosure_id')
    .executeTakeFirstOrThrow();
  const pseudonyms = await Promise.all(subjectIds.map((id) => kernel.keys.pseudonym(atx.tenantId, id)));
  for (let start = 0; start < pseudonyms.length; start += 1000) {
    await atx.tx
      .insertInto('disclosure_subjects')
      .values(
        pseudonyms.slice(start, start + 1000).map((pseudonym) => ({
          tenant_id: atx.tenantId,
          disclosure_id: row.disclosure_id,
          pseudonym,
        })),
      )
      .execute();
  }
  // Crash tests: the log row is written, the transaction not yet committed.
  await reachTestHook('disclosure.logged');
  atx.audit.record({
    actor: auditedActor,
    role: actor.kind === 'staff' ? actor.role : actor.kind === 'system' ? 'system' : null,
    purpose: order.purpose,
    action: 'disclosure',
    subjectIds,
    categories: [...new Set(order.categories)],
    records: subjectIds.length,
    decision: 'allowed',
    ...(order.requestId ? { requestId: order.requestId } : {}),
  });
  return { ...base, disclosureId: row.disclosure_id };
}

interface Refusal {
  code: 'recipient_not_allowed' | 'transfer_not_allowed' | 'purpose_not_allowed' | 'category_not_allowed';
  reason: string;
}

/**
 * The registry's rules, as a pure function of the policy in force and the order (the loader
 * checks the same when a policy is installed; the door checks again, at the moment data leaves).
 */
export function checkDisclosure(policy: Policy, order: DisclosureOrder): Refusal | undefined {
  if (!Object.hasOwn(policy.recipients, order.recipient)) {
    return { code: 'recipient_not_allowed', reason: `the policy names no recipient "${order.recipient}"` };
  }
  const recipient = policy.recipients[order.recipient] as Recipient;
  if (!recipient.purposes.includes(order.purpose) || !findPurpose(policy, order.purpose)) {
    return {
      code: 'purpose_not_allowed',
      reason: `recipient ${order.recipient} receives no data for purpose ${order.purpose}`,
    };
  }
  if (order.categories.length === 0) {
    return { code: 'category_not_allowed', reason: 'a disclosure names the categories it carries' };
  }
  for (const category of order.categories) {
    if (!recipient.categories.includes(category)) {
      return {
        code: 'category_not_allowed',
        reason: `recipient ${order.recipient} may not receive ${category}`,
      };
    }
  }
  if (recipient.kind === 'processor' && (!recipient.agreement?.reference || !recipient.agreement.date)) {
    return {
      code: 'recipient_not_allowed',
      reason: `processor ${order.recipient} has no processing agreement (reference and date) in the policy (GDPR Art. 28(3))`,
    };
  }
  const destination = (order.destinationCountry ?? recipient.country).toUpperCase();
  const { restrictTo, allowSafeguardedTransfers } = policy.transfers;
  if (!isWithinRegion(destination, restrictTo)) {
    const safeguarded =
      allowSafeguardedTransfers &&
      (isWithinRegion(destination, 'EEA') || recipient.transferSafeguard !== undefined);
    if (!safeguarded) {
      return {
        code: 'transfer_not_allowed',
        reason: allowSafeguardedTransfers
          ? `${destination} is outside the EEA and recipient ${order.recipient} has no transfer safeguard in the policy`
          : `${destination} is outside the ${restrictTo}, and this policy allows no transfers outside the ${restrictTo}`,
      };
    }
  }
  return undefined;
}

function refusalEvent(actor: Actor, order: DisclosureOrder, refusal: Refusal): AuditEvent {
  return {
    actor: auditActor(actor),
    role: actor.kind === 'staff' ? actor.role : actor.kind === 'system' ? 'system' : null,
    // The purpose is a policy key only when the policy has it (the event refuses free words).
    purpose: /^[a-z][a-z0-9_]*$/.test(order.purpose) ? order.purpose : null,
    action: 'disclosure',
    subjectIds: [...new Set(order.subjectIds)],
    decision: 'denied',
    reason: refusal.code,
    ...(order.requestId ? { requestId: order.requestId } : {}),
  };
}

/** A disclosure as the person's access report shows it (Art. 15(1)(c)). */
export interface SubjectDisclosure {
  at: string;
  recipient: string;
  recipientKind: string;
  purpose: string;
  legalGround: string;
  categories: string[];
}

/** The disclosures that named the person (by pseudonym), as `d`, to select from. */
async function disclosuresOf(kernel: Pick<Kernel, 'keys'>, atx: AuditedTx, subjectId: number) {
  const pseudonym = await kernel.keys.pseudonym(atx.tenantId, subjectId);
  return atx.tx
    .selectFrom('disclosures as d')
    .innerJoin('disclosure_subjects as s', (join) =>
      join.onRef('s.tenant_id', '=', 'd.tenant_id').onRef('s.disclosure_id', '=', 'd.disclosure_id'),
    )
    .where('s.pseudonym', '=', pseudonym);
}

/**
 * The disclosures that concerned a person, oldest first, except those an authority still forbids
 * telling (confidential until a day on or after `today`). Found by the person's pseudonym.
 */
export async function findSubjectDisclosures(
  kernel: Pick<Kernel, 'keys'>,
  atx: AuditedTx,
  policy: Policy,
  subjectId: number,
  today: string,
  language: Language,
): Promise<SubjectDisclosure[]> {
  const rows = await (
    await disclosuresOf(kernel, atx, subjectId)
  )
    .select(['d.at', 'd.recipient', 'd.recipient_kind', 'd.purpose', 'd.legal_basis', 'd.categories'])
    .where((eb) => eb.or([eb('d.confidential_until', 'is', null), eb('d.confidential_until', '<', today)]))
    .orderBy('d.disclosure_id')
    .execute();
  return rows.map((row) => ({
    at: row.at.toISOString(),
    recipient: Object.hasOwn(policy.recipients, row.recipient)
      ? (policy.recipients[row.recipient]?.label[language] ?? row.recipient)
      : row.recipient,
    recipientKind: row.recipient_kind,
    purpose: row.purpose,
    legalGround: row.legal_basis,
    categories: row.categories,
  }));
}

/**
 * The purposes of the disclosures about the person that may not be told yet (confidential until
 * `today` or later): what the access report leaves out of who consulted the data, so that the
 * reads behind such a disclosure do not tell what the disclosure itself may not.
 */
export async function findConfidentialPurposes(
  kernel: Pick<Kernel, 'keys'>,
  atx: AuditedTx,
  subjectId: number,
  today: string,
): Promise<string[]> {
  const rows = await (
    await disclosuresOf(kernel, atx, subjectId)
  )
    .select('d.purpose')
    .distinct()
    .where('d.confidential_until', '>=', today)
    .execute();
  return rows.map((row) => row.purpose);
}
