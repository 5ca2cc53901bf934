import type { Kernel } from '../kernel/kernel.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import type { Mailer } from '../platform/mailer.js';
import { sendBreachReminders } from '../modules/recipients/index.js';
import { forEachTenant } from './each-tenant.js';

export const BREACH_CLOCK_JOB = 'breach-clock';

/**
 * VK-9 / GDPR Art. 33: every ten minutes, the privacy contact of every tenant is reminded of each
 * breach still on the 72-hour clock (at awareness, after 24, 48, 60 and 68 hours, at the deadline,
 * then daily). Each reminder is claimed in the database before it is mailed: one mail per step,
 * however many processes run the job.
 */
export function breachClockJob(deps: { kernel: Kernel; mailer: Mailer }, logger: Logger): JobDefinition {
  return {
    name: BREACH_CLOCK_JOB,
    cron: '*/10 * * * *',
    // Each reminder is claimed before it is mailed: a dead run is failed at once (decision 0587).
    recoverable: true,
    run: async () => {
      // One tenant that cannot be served (no policy) must not hold back the others' Art. 33 reminders.
      await forEachTenant(deps.kernel, logger, BREACH_CLOCK_JOB, async (tenant) => {
        const sent = await sendBreachReminders(deps, tenant.tenantId);
        if (sent > 0) logger.info({ tenant: tenant.slug, sent }, 'breach reminders sent');
      });
    },
  };
}
