import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { belgianMomentParts } from '../../platform/calendar.js';
import type { Logger } from '../../platform/logger.js';
import type { DomainEvent, DomainEventSubscribers } from '../contracts/index.js';
import { CALL_BILLING_PURPOSE } from './cdr-import.service.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';
import {
  countCallsBetween,
  endPeriodsOf,
  hasPeriodsToEnd,
  selectHoldersWithPeriodsOpenAt,
} from './number-end.repository.js';
import { relationEndOf } from './relation-limit.js';

/** The system actor that ends a former customer's number periods (decision 1032). */
export const CONTRACT_END_ACTOR: Actor = { kind: 'system', job: 'contract-end' };
const AUDIT_ACTOR = { kind: 'system', id: 'contract-end' } as const;

/**
 * What ended the customer relation: a recorded termination, the last contract's agreed end date,
 * or the daily check finding a holder with no contract running or starting later (decision 1160).
 */
export type RelationEndTrigger = 'termination' | 'run_out' | 'no_contract';

const TRIGGER_WORDS: Record<RelationEndTrigger, string> = {
  termination: 'termination',
  run_out: 'agreed end date',
  no_contract: 'daily check: no contract runs or starts later',
};

export interface RelationEnd {
  tenantId: number;
  subjectId: number;
  /** The last day of the relation (Belgian calendar day): its calls are still the customer's. */
  lastDay: string;
  trigger: RelationEndTrigger;
}

export interface NumberPeriodsEnd {
  outcome: 'ended' | 'nothing_open' | 'left_to_staff';
  /** The moment the periods end (or would have): the later of the next midnight and now. */
  endsAt: Date;
  numbers: number;
  identifiers: number;
  startingLater: number;
  /** Calls already stored under the customer in [the next midnight, endsAt): they stay theirs. */
  callsAfterLastDay: number;
  /** For `left_to_staff`: the gate's refusal code. */
  refusal?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "6 Nov 2026 at 00:00" (Brussels): readable, and no run of digits the audit log refuses. */
function auditMoment(at: Date): string {
  const { day, month, year, hour, minute } = belgianMomentParts(at);
  return `${Number(day)} ${MONTHS[Number(month) - 1] ?? month} ${year} at ${hour}:${minute}`;
}

/**
 * Ends a former customer's number assignments and line identifiers when the customer relation
 * ends (decision 1032): at the next Brussels midnight after the last day, or now if that midnight
 * has passed, since an ended period is never moved into the past (decision 0282). Calls already
 * stored between that midnight and now stay attributed; they are counted in the log and the audit
 * entry for billing to credit. Idempotent (the outbox and the daily job may repeat it). Never
 * throws on a holder the gate refuses (a restricted one, Art. 18): that is left to staff, logged
 * and audited, so the tenant's outbox is not stopped.
 */
export async function endNumberPeriodsWithRelation(
  kernel: Kernel,
  logger: Logger,
  relation: RelationEnd,
): Promise<NumberPeriodsEnd> {
  const { tenantId, subjectId } = relation;
  const midnight = relationEndOf(relation.lastDay);
  const now = kernel.clock.now();
  const endsAt = now.getTime() > midnight.getTime() ? now : midnight;
  const none = { numbers: 0, identifiers: 0, startingLater: 0, callsAfterLastDay: 0 };
  const result = await kernel.transact(tenantId, async (atx): Promise<NumberPeriodsEnd> => {
    if (!(await hasPeriodsToEnd(atx.tx, subjectId, endsAt)))
      return { outcome: 'nothing_open', endsAt, ...none };
    const request = {
      purpose: CALL_BILLING_PURPOSE,
      action: 'write' as const,
      categories: [TELEPHONY_CATEGORIES.number, TELEPHONY_CATEGORIES.callRecord],
      subjectIds: [subjectId],
    };
    const decided = await kernel.gate.decideEach(atx, CONTRACT_END_ACTOR, request);
    const refusal = decided.refusals.get(subjectId);
    if (refusal) {
      const why = refusal.code === 'subject_restricted' ? 'processing restricted' : refusal.code;
      atx.audit.record({
        actor: AUDIT_ACTOR,
        role: null,
        purpose: CALL_BILLING_PURPOSE,
        action: 'number.end',
        subjectIds: [subjectId],
        categories: [TELEPHONY_CATEGORIES.number],
        decision: 'denied',
        reason: `left to staff: ${why}`,
      });
      return { outcome: 'left_to_staff', endsAt, ...none, refusal: refusal.code };
    }
    const grant = await kernel.gate.authorize(atx, CONTRACT_END_ACTOR, request);
    const ended = await endPeriodsOf(atx.tx, grant, subjectId, endsAt);
    const callsAfterLastDay = await countCallsBetween(atx.tx, grant, subjectId, midnight, endsAt);
    const calls =
      callsAfterLastDay === 0
        ? 'no call stored after the last day'
        : `${callsAfterLastDay} calls from ${auditMoment(midnight)} to ${auditMoment(endsAt)} ` +
          'stay attributed, for billing to credit';
    atx.audit.record({
      actor: AUDIT_ACTOR,
      role: null,
      purpose: CALL_BILLING_PURPOSE,
      action: 'number.end',
      subjectIds: [subjectId],
      categories: [TELEPHONY_CATEGORIES.number],
      records: ended.numbers + ended.identifiers,
      decision: 'allowed',
      reason:
        `customer relation ended (${TRIGGER_WORDS[relation.trigger]}): ` +
        `${ended.numbers} numbers and ${ended.identifiers} line identifiers end ${auditMoment(endsAt)}; ` +
        `${calls}` +
        (ended.startingLater > 0 ? `; ${ended.startingLater} periods starting later left to staff` : ''),
    });
    return { outcome: 'ended', endsAt, ...ended, callsAfterLastDay };
  });
  // The subject is named in the audit entry (by pseudonym), not in the log.
  const fields = {
    tenantId,
    trigger: relation.trigger,
    endsAt: result.endsAt.toISOString(),
    numbers: result.numbers,
    identifiers: result.identifiers,
  };
  if (result.outcome === 'left_to_staff') {
    logger.warn(
      { ...fields, refusal: result.refusal },
      'number periods left to staff: the gate refuses the holder',
    );
  } else if (result.outcome === 'ended') {
    logger.info(
      {
        ...fields,
        startingLater: result.startingLater,
        callsAfterLastDay: result.callsAfterLastDay,
        callsFrom: midnight.toISOString(),
        callsTo: result.endsAt.toISOString(),
      },
      result.callsAfterLastDay > 0
        ? 'number periods ended; calls after the last day stay attributed for billing to credit'
        : 'number periods ended with the customer relation',
    );
  }
  return result;
}

/**
 * `contract.terminated` → the end above, when the termination ends the customer relation (no other
 * contract running or upcoming, as for the dossier, decision 0092), at the relation's last day: a
 * contract terminated earlier may end after this one. While other contracts run nothing ends: a
 * number names no contract to choose by (decision 0010). An event recorded before
 * `otherOpenContracts` existed ends nothing.
 */
export async function handleTerminationForNumbers(
  kernel: Kernel,
  logger: Logger,
  event: DomainEvent<'contract.terminated'>,
): Promise<NumberPeriodsEnd | undefined> {
  const { payload } = event;
  if (payload.subjectId === null || payload.otherOpenContracts !== 0) return undefined;
  return endNumberPeriodsWithRelation(kernel, logger, {
    tenantId: event.tenantId,
    subjectId: payload.subjectId,
    lastDay: payload.relationLastDay ?? payload.terminatedOn,
    trigger: 'termination',
  });
}

/** Subscribes the end of a former customer's number periods to contract terminations. */
export function subscribeNumberPeriodEnds(
  subscribers: DomainEventSubscribers,
  kernel: Kernel,
  logger: Logger,
): void {
  subscribers.on('contract.terminated', async (event) => {
    await handleTerminationForNumbers(kernel, logger, event);
  });
}

/**
 * The holders with a number or line identifier held at `at` (started before it, not ended by it):
 * whom the daily job asks contracts about (decision 1160). Ids only.
 */
export async function listHoldersWithPeriodsOpenAt(
  kernel: Kernel,
  tenantId: number,
  at: Date,
): Promise<number[]> {
  return kernel.transact(tenantId, (atx) => selectHoldersWithPeriodsOpenAt(atx.tx, at));
}
