import {
  ACCOUNT_ERASURE_GRACE_MS,
  carryOutAccountErasures,
  type RequestsDeps,
} from '../modules/requests/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import { forEachTenant } from './each-tenant.js';

export const ACCOUNT_ERASURES_JOB = 'account-erasures';

/**
 * VK-23: every minute, the account erasures ("erase my account") that were filed but left
 * `verified` for longer than the grace are carried out as the person's retry would (decision 0701):
 * a post cut between filing and erasing (attack S11-6) no longer waits for the person to press
 * again. The callers meet at the request's row, so a run beside a retry, staff or another run
 * erases once and sends one letter.
 */
export function accountErasuresJob(
  deps: RequestsDeps,
  logger: Logger,
  options: { graceMs?: number } = {},
): JobDefinition {
  const graceMs = options.graceMs ?? ACCOUNT_ERASURE_GRACE_MS;
  return {
    name: ACCOUNT_ERASURES_JOB,
    cron: '* * * * *',
    // Each request is taken under its row lock before it is marked fulfilled: a dead run is failed
    // at once (decision 0587).
    recoverable: true,
    run: async () => {
      await forEachTenant(deps.kernel, logger, ACCOUNT_ERASURES_JOB, async (tenant) => {
        const result = await carryOutAccountErasures(deps, tenant, graceMs);
        // A held request stays held for months and is counted every minute: it alone is no news.
        if (result.carriedOut + result.joined > 0)
          logger.info({ tenant: tenant.slug, ...result }, 'account erasures left verified');
        else if (result.held > 0) logger.debug({ tenant: tenant.slug, ...result }, 'account erasures held');
      });
    },
  };
}
