import type { Logger } from '../platform/logger.js';
import type { JobDefinition } from '../platform/job-queue.js';
import { sendDeadlineReminders, type RequestsDeps } from '../modules/requests/index.js';
import { forEachTenant } from './each-tenant.js';

export const DEADLINE_REMINDERS_JOB = 'deadline-reminders';

/**
 * VK-27: every hour, every tenant's privacy contact gets the requests due within 7 days or
 * overdue; each request is reminded at most once a day. The queue runs each hour's run in one
 * process, and sendDeadlineReminders claims the day and writes its reminder to the letter outbox
 * in one transaction (decision 0850), so even two runs at once (a retry next to a fresh run,
 * `kluis requests remind` beside the server) mail a request once a day, and a crash or an SMTP
 * outage after the claim delays the reminder, never loses it.
 */
export function deadlineRemindersJob(deps: RequestsDeps, logger: Logger): JobDefinition {
  return {
    name: DEADLINE_REMINDERS_JOB,
    cron: '7 * * * *',
    // The day is claimed with its letter in one transaction: a dead run is failed at once (decision 0587).
    recoverable: true,
    run: async () => {
      await forEachTenant(deps.kernel, logger, DEADLINE_REMINDERS_JOB, async (tenant) => {
        const result = await sendDeadlineReminders(deps, tenant.tenantId);
        if (result.overdue + result.dueSoon > 0)
          logger.info({ tenant: tenant.slug, ...result }, 'deadline reminders sent');
      });
    },
  };
}
