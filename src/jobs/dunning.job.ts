import type { Kernel } from '../kernel/kernel.js';
import { deliverLetters, messageDomainOf } from '../kernel/letters/index.js';
import { runDunning } from '../modules/billing/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import type { Mailer } from '../platform/mailer.js';
import { forEachTenant } from './each-tenant.js';

export const DUNNING_JOB = 'dunning';

export interface DunningJobDeps {
  kernel: Kernel;
  mailer: Mailer;
  /** The public URL; its host names the letters' Message-IDs. */
  publicUrl: string;
  logger: Logger;
}

/**
 * Payment reminders (issue 22, decision 0300), daily at 08:30 UTC (morning in Belgium) over every
 * tenant with dunning on: each overdue invoice whose next level is due gets it, its letter written
 * with it; then the letter outbox is sent. Idempotent: a level is a row that exists once, so a
 * retried or doubled run writes nothing twice. Logs counts only.
 */
export function dunningJob(deps: DunningJobDeps): JobDefinition {
  return {
    name: DUNNING_JOB,
    cron: '30 8 * * *',
    catchUp: true,
    run: async () => {
      await forEachTenant(deps.kernel, deps.logger, DUNNING_JOB, async (tenant) => {
        const summary = await runDunning(deps.kernel, tenant.tenantId, {
          messageDomain: messageDomainOf(deps.publicUrl),
        });
        if (summary.enabled) deps.logger.info({ tenantId: tenant.tenantId, ...summary }, 'dunning done');
        // The letter sender runs every minute anyway; sending now keeps the morning's letters together.
        await deliverLetters(deps.kernel, deps.mailer, [tenant.tenantId], deps.logger);
      });
    },
  };
}
