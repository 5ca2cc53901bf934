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
 * and re-rating them stay refused until the restriction is lifted. Any other refusal stands.
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
    if (!(error instanceof AccessDenied) || error.code !== 'subject_restricted') throw error;
    return kernel.gate.authorize(atx, actor, { ...request, action: 'store' });
  }
}
