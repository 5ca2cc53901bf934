import type { Kernel } from '../kernel/kernel.js';
import { deliverLetters, messageDomainOf } from '../kernel/letters/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import type { Mailer } from '../platform/mailer.js';
import { reachTestHook } from '../platform/test-hooks.js';
import { queueBreachReminders } from '../modules/recipients/index.js';
import { forEachTenant } from './each-tenant.js';

export const BREACH_CLOCK_JOB = 'breach-clock';

export interface BreachClockDeps {
  kernel: Kernel;
  mailer: Mailer;
  /** The public URL; its host names the reminders' Message-IDs. */
  publicUrl: string;
}

/**
 * VK-9 / GDPR Art. 33: every ten minutes, the privacy contact of every tenant is reminded of each
 * breach still on the 72-hour clock (at awareness, after 24, 48, 60 and 68 hours, at the deadline,
 * then daily). Each step is claimed and its reminder written to the letter outbox in one
 * transaction (decision 0850), then the outbox is sent: one mail per step however many processes
 * run the job, and a crash or an SMTP outage after the claim delays the reminder, never loses it
 * (the letter sender retries it every minute).
 */
export function breachClockJob(deps: BreachClockDeps, logger: Logger): JobDefinition {
  return {
    name: BREACH_CLOCK_JOB,
    cron: '*/10 * * * *',
    // A step is claimed with its letter in one transaction, and each letter is locked while it is
    // sent: a dead run is failed at once (decision 0587).
    recoverable: true,
    run: async () => {
      // One tenant that cannot be served (no policy) must not hold back the others' Art. 33 reminders.
      await forEachTenant(deps.kernel, logger, BREACH_CLOCK_JOB, async (tenant) => {
        const queued = await queueBreachReminders(deps.kernel, tenant.tenantId, {
          messageDomain: messageDomainOf(deps.publicUrl),
        });
        if (queued === 0) return;
        logger.info({ tenant: tenant.slug, queued }, 'breach reminders queued');
        // Claimed and queued: a crash from here leaves the reminders for the letter sender.
        await reachTestHook('breach-clock.queued');
        // The letter sender runs every minute anyway; sending now keeps the reminder on its hour.
        await deliverLetters(deps.kernel, deps.mailer, [tenant.tenantId], logger);
      });
    },
  };
}
