import type { Kernel } from '../kernel/kernel.js';
import { DomainEventSubscribers } from '../modules/contracts/index.js';
import { subscribeDossierErasure } from '../modules/dossier/index.js';
import { subscribeNumberPeriodEnds } from '../modules/telephony/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import { forEachTenant } from './each-tenant.js';

export const DOMAIN_EVENTS_JOB = 'domain-events';

/**
 * Every subscriber of the domain events (the outbox): the dossier erasure (VX-7) and the end of a
 * former customer's number periods (decision 1032).
 */
export function createDomainEventSubscribers(kernel: Kernel, logger: Logger): DomainEventSubscribers {
  const subscribers = new DomainEventSubscribers();
  subscribeDossierErasure(subscribers, kernel);
  subscribeNumberPeriodEnds(subscribers, kernel, logger);
  return subscribers;
}

/**
 * The backstop of the outbox: every minute, every tenant's pending events go to their
 * subscribers. The HTTP routes dispatch at once after the change; this catches what a crash or a
 * failing subscriber left pending (handlers are idempotent).
 */
export function domainEventsJob(
  kernel: Kernel,
  subscribers: DomainEventSubscribers,
  logger: Logger,
): JobDefinition {
  return {
    name: DOMAIN_EVENTS_JOB,
    cron: '* * * * *',
    // The routes already dispatch beside this job (handlers idempotent): a dead run is failed at
    // once (decision 0587).
    recoverable: true,
    run: async () => {
      await forEachTenant(kernel, logger, DOMAIN_EVENTS_JOB, async (tenant) => {
        const processed = await subscribers.dispatchPending(kernel, tenant.tenantId);
        if (processed > 0) logger.info({ tenant: tenant.slug, processed }, 'domain events processed');
      });
    },
  };
}
