import { eraseSubject, type ErasureOutcome } from '../../kernel/erasure/index.js';
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
): Promise<ErasureOutcome> {
  return eraseSubject(kernel, DATA_MAP, {
    tenantId: context.tenantId,
    actor: context.actor,
    purpose: context.purpose,
    subjectId,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  });
}
