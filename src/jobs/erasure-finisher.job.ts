import type { Kernel } from '../kernel/kernel.js';
import { finishPendingKeyDestructions } from '../kernel/erasure/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';

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
      const tenants = await kernel.tenants.list();
      const finished = await finishPendingKeyDestructions(
        kernel,
        tenants.map((tenant) => tenant.tenantId),
      );
      if (finished > 0) logger.info({ finished }, 'pending data-key destructions finished');
    },
  };
}
