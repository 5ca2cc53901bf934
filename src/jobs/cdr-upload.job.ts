import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import {
  removeExpiredRejects,
  runWaitingUploads,
  sweepSpool,
  type CdrUploadRunSettings,
} from '../modules/telephony/index.js';
import { forEachTenant } from './each-tenant.js';

export const CDR_UPLOAD_JOB = 'cdr-uploads';

/**
 * One pass of the upload job over every tenant (decision 0360): imports the uploads that wait (or
 * whose run died half-way: the import's deduplication makes a second run add only what is
 * missing), removes kept rejected lines whose time is up, and spool files nobody waits for.
 */
export async function runCdrUploads(
  settings: CdrUploadRunSettings,
  logger: Logger,
  stopping?: AbortSignal,
): Promise<void> {
  try {
    await forEachTenant(
      settings.kernel,
      logger,
      CDR_UPLOAD_JOB,
      async (tenant) => {
        const pass = await runWaitingUploads(settings, tenant.tenantId, stopping);
        if (pass.stopped) {
          // Not "imported": the stop ended it part-way (decision 0836); say what it had written.
          // `uploadsEnded` counts every upload whose run ended in this pass, the one cut short too.
          logger.info(
            {
              tenantId: tenant.tenantId,
              uploadsEnded: pass.ended + 1,
              uploadsCutShort: 1,
              uploadsNotStarted: pass.notStarted,
              ...pass.stopped,
            },
            'call-record upload ended by the stop, back in the queue: the next run adds the rest',
          );
          return;
        }
        const removed = await removeExpiredRejects(settings.kernel, tenant.tenantId);
        if (pass.ended > 0 || removed > 0 || pass.notStarted > 0)
          logger.info(
            {
              tenantId: tenant.tenantId,
              uploadsEnded: pass.ended,
              ...(pass.notStarted > 0 ? { uploadsNotStarted: pass.notStarted } : {}),
              rejectsRemoved: removed,
            },
            'call-record uploads',
          );
      },
      stopping,
    );
  } finally {
    // The spool is swept whatever a tenant did (each tenant's failure is logged by forEachTenant).
    await sweepSpool(settings.kernel, settings.spoolDir);
  }
}

/** Every minute (the backstop), and at once when a file is uploaded. */
export function cdrUploadJob(settings: CdrUploadRunSettings, logger: Logger): JobDefinition {
  // Each upload is held by its own advisory lock: a run whose process died is failed at once
  // (decision 0466), not after the queue's 15-minute expiry.
  return {
    name: CDR_UPLOAD_JOB,
    cron: '* * * * *',
    recoverable: true,
    // A stop ends an import at its next batch boundary, back in the queue (decision 0836).
    run: (stopping) => runCdrUploads(settings, logger, stopping),
  };
}
