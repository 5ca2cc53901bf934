import type { Kernel } from '../kernel/kernel.js';
import { finishPendingKeyDestructions } from '../kernel/erasure/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import { forEachTenant } from './each-tenant.js';

export const ERASURE_FINISHER_JOB = 'erasure-finisher';

/**
 * Destroys the data keys whose destruction an erasure recorded but did not finish (a crash or an
 * unreachable key store right after commit). Every minute, and once at every start.
 */
export function erasureFinisherJob(kernel: Kernel, logger: Logger): JobDefinition {
  return {
    name: ERASURE_FINISHER_JOB,
    cron: '* * * * *',
    // Safe anywhere, any number of times (the erasure itself runs it beside the job): a dead run
    // is failed at once (decision 0587).
    recoverable: true,
    run: async () => {
      // One tenant's key-store trouble does not leave the other tenants' keys alive.
      await forEachTenant(kernel, logger, ERASURE_FINISHER_JOB, async (tenant) => {
        const finished = await finishPendingKeyDestructions(kernel, [tenant.tenantId]);
        if (finished > 0)
          logger.info({ tenantId: tenant.tenantId, finished }, 'pending data-key destructions finished');
      });
    },
  };
}
