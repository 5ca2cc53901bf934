import type { TableDataMap } from '../kernel/datamap/datamap.js';
import type { Kernel } from '../kernel/kernel.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import { runRetentionSweep } from '../modules/retention/index.js';
import { forEachTenant } from './each-tenant.js';

export const RETENTION_SWEEP_JOB = 'retention-sweep';

/**
 * The daily retention sweep (VK-13, VK-14, VX-8, G-1) over every tenant, at 02:30 UTC. Idempotent
 * and resumable (the sweep judges from what is stored), so a retried or doubled run erases nothing
 * twice. Logs counts only.
 */
export function retentionSweepJob(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  logger: Logger,
): JobDefinition {
  return {
    name: RETENTION_SWEEP_JOB,
    cron: '30 2 * * *',
    catchUp: true,
    run: async () => {
      // One tenant's trouble (no policy installed yet) does not stop the others' sweeps; the queue
      // retries the run, and tenants already swept find nothing left to do.
      await forEachTenant(kernel, logger, RETENTION_SWEEP_JOB, async (tenant) => {
        const result = await runRetentionSweep(kernel, dataMap, tenant.tenantId);
        logger.info({ tenantId: tenant.tenantId, ...result }, 'retention sweep done');
      });
    },
  };
}
