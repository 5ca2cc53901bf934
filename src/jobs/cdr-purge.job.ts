import type { Kernel } from '../kernel/kernel.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import { readCallMonthBilling } from '../modules/billing/index.js';
import { readRequestHolds } from '../modules/requests/index.js';
import { belgianDay } from '../platform/calendar.js';
import { readRestrictedSubjects } from '../kernel/subjects/index.js';
import { purgeExpiredCallRecords, type PurgeResult } from '../modules/telephony/index.js';
import { forEachTenant } from './each-tenant.js';

export const CDR_PURGE_JOB = 'cdr-purge';

/**
 * G-1 for one tenant: what billing knows of each month's invoices (due dates, disputes, calls
 * not billed yet), who waits for their data (an access or portability request, decision 0970)
 * and who restricted processing (their records stay, Art. 18, decision 1200), then telephony's purge of the months whose invoices can no longer be contested. The job and
 * `kluis cdr purge` run exactly this.
 */
export async function runCdrPurge(kernel: Kernel, tenantId: number): Promise<PurgeResult> {
  const today = belgianDay(kernel.clock.now());
  const { billing, heldCallers, sparedCallers } = await kernel.plain(tenantId, async (tx) => ({
    billing: await readCallMonthBilling(tx),
    heldCallers: [...(await readRequestHolds(tx, 'everyone', today)).keys()],
    sparedCallers: [...(await readRestrictedSubjects(tx, today)).keys()],
  }));
  return purgeExpiredCallRecords(kernel, tenantId, { billing, heldCallers, sparedCallers });
}

/**
 * The daily call-record purge (G-1) over every tenant, at 03:10 UTC, after the retention sweep.
 * Idempotent: it judges from what is stored, so a retried or doubled run removes nothing twice.
 * Through the gate (an erase decision per purge) and audited. Logs counts only.
 */
export function cdrPurgeJob(kernel: Kernel, logger: Logger): JobDefinition {
  return {
    name: CDR_PURGE_JOB,
    cron: '10 3 * * *',
    catchUp: true,
    run: async () => {
      await forEachTenant(kernel, logger, CDR_PURGE_JOB, async (tenant) => {
        const result = await runCdrPurge(kernel, tenant.tenantId);
        logger.info(
          {
            tenantId: tenant.tenantId,
            purgedMonths: result.purgedMonths,
            droppedPartitions: result.droppedPartitions.length,
            removed: result.droppedRows + result.deletedRows,
            kept: result.kept.length,
          },
          'call-record purge done',
        );
      });
    },
  };
}
