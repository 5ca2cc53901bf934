import type { Kernel } from '../kernel/kernel.js';
import { deliverLetters, type DeliveryResult } from '../kernel/letters/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import type { Mailer } from '../platform/mailer.js';
import { forEachTenant } from './each-tenant.js';

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
      const total: DeliveryResult = { sent: 0, dropped: 0, failed: 0, shredded: 0, deferred: 0 };
      // One tenant's trouble (its letter keys unreachable) does not hold back the others' letters.
      await forEachTenant(kernel, logger, LETTER_SENDER_JOB, async (tenant) => {
        const result = await deliverLetters(kernel, mailer, [tenant.tenantId], logger);
        for (const state of Object.keys(total) as (keyof DeliveryResult)[]) total[state] += result[state];
      }).finally(() => {
        if (Object.values(total).some((count) => count > 0)) logger.info(total, 'letters delivered');
      });
    },
  };
}
