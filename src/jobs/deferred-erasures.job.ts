import { carryOutDeferredErasures, type RequestsDeps } from '../modules/requests/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import { forEachTenant } from './each-tenant.js';

export const DEFERRED_ERASURES_JOB = 'deferred-erasures';

/**
 * VK-23, VX-13: every day at 01:15 UTC (the new Brussels day has begun), the erasures that were
 * asked for while a contract ran are carried out once the relation's last day has passed
 * (decision 1210); a person whose last day moved is told the new one. One run across processes
 * (the queue's schedule); a run beside another erases once (the person's row lock).
 */
export function deferredErasuresJob(deps: RequestsDeps, logger: Logger): JobDefinition {
  return {
    name: DEFERRED_ERASURES_JOB,
    cron: '15 1 * * *',
    catchUp: true,
    run: async () => {
      await forEachTenant(deps.kernel, logger, DEFERRED_ERASURES_JOB, async (tenant) => {
        const result = await carryOutDeferredErasures(deps, tenant);
        logger.info({ tenant: tenant.slug, ...result }, 'deferred erasures');
      });
    },
  };
}
