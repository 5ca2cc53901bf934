import { AuditChainError, writeCheckpoint } from '../kernel/audit/index.js';
import { kernelCore, type Kernel } from '../kernel/kernel.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import { forEachTenant } from './each-tenant.js';

export const AUDIT_CHECKPOINT_JOB = 'audit-checkpoint';

/**
 * Signs every tenant's audit chain head and writes the checkpoint to the data database, the key
 * store and the anchor file (decision 0072). A broken chain is not signed: it is logged as an
 * error naming the tenant and seq, and the other tenants are still signed. Any other failure for
 * one tenant (its store unreachable) does not stop the tenants after it either; the run then
 * fails naming it (decision 0640).
 */
export async function checkpointAllTenants(kernel: Kernel, logger: Logger): Promise<void> {
  await forEachTenant(kernel, logger, AUDIT_CHECKPOINT_JOB, async (tenant) => {
    try {
      await writeCheckpoint(kernelCore(kernel).audit, tenant.tenantId);
    } catch (error) {
      if (!(error instanceof AuditChainError)) throw error;
      const { firstBadSeq, problem } = error.verification;
      logger.error({ tenant: tenant.slug, firstBadSeq, problem }, 'audit chain broken: not signed');
    }
  });
}

/** Every 5 minutes, at every start, and (outside the queue) at shutdown. */
export function auditCheckpointJob(kernel: Kernel, logger: Logger): JobDefinition {
  return {
    name: AUDIT_CHECKPOINT_JOB,
    cron: '*/5 * * * *',
    // One checkpoint writer per tenant (a session advisory lock): a dead run is failed at once
    // (decision 0587).
    recoverable: true,
    run: () => checkpointAllTenants(kernel, logger),
  };
}
