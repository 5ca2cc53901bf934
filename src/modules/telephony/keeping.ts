import type { AuditedTx } from '../../kernel/audit/index.js';
import { AccessDenied, type AccessRequest, type Actor, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';

/**
 * The gate's grant for keeping what the switch recorded: the import's reads of who held a number
 * and its writes of the calls. A holder who asked for restriction (GDPR Art. 18) stops the
 * processing of their data, not its storage (Art. 18(2)), and not everyone else's calls: a batch
 * refused only because a holder is restricted is granted as `store`, which the gate allows for a
 * restricted person (attack S19, decision 0892). Before, one restricted customer stopped every
 * import of the tenant. Their calls are kept, attributed and priced as received; reading, billing
 * and re-rating them stay refused until the restriction is lifted. A holder recorded as a minor
 * without a parent's consent after getting the number is treated the same way: their calls are
 * kept, used for nothing, until a parent consents or the person is erased (decision 0904). Any
 * other refusal stands.
 */
export async function authorizeKeeping(
  kernel: Kernel,
  atx: AuditedTx,
  actor: Actor,
  request: AccessRequest,
): Promise<Grant> {
  try {
    return await kernel.gate.authorize(atx, actor, request);
  } catch (error) {
    if (!(error instanceof AccessDenied) || !isKeptOnly(error)) throw error;
    // Caught here, the refusal would never reach the trail (Kernel.transact records the ones it
    // sees): recorded with this transaction, before the `store` that follows it.
    atx.audit.record(error.auditEvent);
    // Marked as keeping what the switch recorded: the one store the gate allows a job for a minor
    // without a parent's consent (decision 0952).
    return kernel.gate.authorize(atx, actor, { ...request, action: 'store', keepsRecorded: true });
  }
}

/** A refusal for the holder's own state that still lets what arrives be kept (Art. 18(2), VK-15). */
function isKeptOnly(denial: AccessDenied): boolean {
  return (
    denial.code === 'subject_restricted' ||
    (denial.code === 'consent_missing' && denial.auditEvent.reason === 'minor_without_parental_consent')
  );
}
