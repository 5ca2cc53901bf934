import type { Kernel } from '../kernel/kernel.js';
import { deliverLetters } from '../kernel/letters/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import type { Mailer } from '../platform/mailer.js';

export const LETTER_SENDER_JOB = 'letter-sender';

/**
 * Sends the letters of the outbox (rights requests' codes and answers, the erasure letter;
 * decision 0190): every minute, at every start, and at once when a letter is written. Sending is
 * idempotent per letter (a row is locked, sent, marked); logs counts only.
 */
export function letterSenderJob(kernel: Kernel, mailer: Mailer, logger: Logger): JobDefinition {
  return {
    name: LETTER_SENDER_JOB,
    cron: '* * * * *',
    // Each letter is locked (FOR UPDATE SKIP LOCKED) while it is sent and marked: a run beside
    // another skips it, so a dead run is failed at once (decision 0587).
    recoverable: true,
    run: async () => {
      const tenants = await kernel.tenants.list();
      const result = await deliverLetters(
        kernel,
        mailer,
        tenants.map((tenant) => tenant.tenantId),
        logger,
      );
      if (Object.values(result).some((count) => count > 0)) logger.info(result, 'letters delivered');
    },
  };
}
