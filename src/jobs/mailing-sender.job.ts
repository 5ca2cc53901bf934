import { expireSignups, sendQueuedMailings, type ConsentDeps } from '../modules/consent/index.js';
import type { JobDefinition } from '../platform/job-queue.js';
import { forEachTenant } from './each-tenant.js';

export const MAILING_SENDER_JOB = 'mailing-sender';

/**
 * Sends queued mailings (VK-17, VX-9) and erases expired, unconfirmed newsletter sign-ups. Every
 * minute, and at once when a mailing is queued; the outbox makes a retried or doubled run send
 * nobody a mail twice. Logs counts only.
 *
 * Recoverable (decision 0587): each recipient row is claimed (`sending`, committed, SKIP LOCKED)
 * before its mail is handed to SMTP, so a run beside another only claims other rows, and a row a
 * dead run left `sending` becomes `uncertain`, never sent again. A run whose process died is
 * therefore failed within a minute instead of holding every tenant's mailings for 15 minutes.
 */
export function mailingSenderJob(deps: ConsentDeps): JobDefinition {
  return {
    name: MAILING_SENDER_JOB,
    cron: '* * * * *',
    recoverable: true,
    run: async (stopping) => {
      // One tenant's trouble (no policy, a DKIM key it cannot open) does not hold back the others'
      // mailings; the run fails naming it and is retried, and the outbox sends no one twice.
      await forEachTenant(
        deps.kernel,
        deps.logger,
        MAILING_SENDER_JOB,
        async (tenant) => {
          const erased = await expireSignups(deps, tenant.tenantId);
          if (erased > 0)
            deps.logger.info({ tenantId: tenant.tenantId, erased }, 'expired newsletter sign-ups erased');
          // A stop ends the sending between two mails; the next run sends the rest (decision 0836).
          const result = await sendQueuedMailings(deps, {
            tenantId: tenant.tenantId,
            ...(stopping ? { stopping } : {}),
          });
          if (result.sent + result.skipped + result.bounced + result.uncertain > 0)
            deps.logger.info({ tenantId: tenant.tenantId, ...result }, 'mailings sent');
        },
        stopping,
      );
    },
  };
}
