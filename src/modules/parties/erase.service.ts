import type { AuditedTx } from '../../kernel/audit/index.js';
import { eraseSubject, type ErasureOutcome } from '../../kernel/erasure/index.js';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { DATA_MAP } from '../data-map.js';
import type { UseCaseContext } from './people.service.js';

/**
 * Erases a person everywhere the data map says they are (GDPR Art. 17), through the gate: the
 * purpose must be one the policy declares for erasing a whole person (e.g. rights requests, for
 * the privacy officer), and legal holds keep what they keep. A staff member acting under an
 * ordinary purpose is refused and the refusal audited.
 */
export async function erasePerson(
  kernel: Kernel,
  context: UseCaseContext,
  subjectId: number,
  followUp?: ErasureFollowUpOf,
): Promise<ErasureOutcome> {
  const follow = await followUp?.(context.tenantId, subjectId, context.actor);
  const outcome = await eraseSubject(kernel, DATA_MAP, {
    tenantId: context.tenantId,
    actor: context.actor,
    purpose: context.purpose,
    subjectId,
    ...(context.requestId ? { requestId: context.requestId } : {}),
    ...(follow ? { withinErasure: follow.withinErasure } : {}),
  });
  follow?.afterCommit();
  return outcome;
}

/**
 * What another module does with an erasure of the person, in its transaction, lent by the
 * composition root: the requests module completes an erasure request of theirs that waits for
 * their contract's end (decision 1251). Read before the erasure (the address goes with it).
 */
export type ErasureFollowUpOf = (
  tenantId: number,
  subjectId: number,
  actor: Actor,
) => Promise<
  | {
      withinErasure: (atx: AuditedTx, outcome: ErasureOutcome) => Promise<void>;
      afterCommit: () => void;
    }
  | undefined
>;
