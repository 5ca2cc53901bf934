import type { Logger } from '../platform/logger.js';
import { describeUnexpected } from '../platform/errors.js';
import { listTenants } from '../modules/tenants/index.js';
import { sendDeadlineReminders, type RequestsDeps } from '../modules/requests/index.js';

const HOUR_MS = 60 * 60 * 1000;

/**
 * VK-27: once an hour, every tenant's privacy contact gets the requests due within 7 days or
 * overdue; each request is reminded at most once a day (last_reminder_on), so restarts and
 * several processes send no duplicates of the same day's reminder. Returns a stop function.
 */
export function startDeadlineReminders(deps: RequestsDeps, logger: Logger): () => void {
  const run = async (): Promise<void> => {
    for (const tenant of await listTenants(deps.kernel.db)) {
      const result = await sendDeadlineReminders(deps, tenant.tenantId);
      if (result.overdue + result.dueSoon > 0)
        logger.info({ tenant: tenant.slug, ...result }, 'deadline reminders sent');
    }
  };
  const tick = (): void => {
    run().catch((error: unknown) =>
      logger.error({ err: describeUnexpected(error) }, 'deadline reminders failed'),
    );
  };
  const first = setTimeout(tick, 60_000);
  const timer = setInterval(tick, HOUR_MS);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
