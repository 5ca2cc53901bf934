import path from 'node:path';
import type { Command } from 'commander';
import { openRuntime } from '../main.js';
import { DATA_MAP } from '../modules/data-map.js';
import { readMailingStatus, sendQueuedMailings } from '../modules/consent/index.js';
import { findTenantBySlug } from '../modules/tenants/index.js';
import { createMailer } from '../platform/mailer.js';
import { AppError } from '../platform/errors.js';
import { createCliContext, exitWithFailure } from './context.js';

function mailingId(value: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(value))
    throw new AppError('validation_failed', 'bad --mailing', {
      publicMessage: '--mailing: expected a mailing id',
    });
  return Number(value);
}

export function registerMailingsCommands(program: Command): void {
  const mailings = program
    .command('mailings')
    .description('newsletters and other mailings: send what is queued, status (VK-17, VK-18, VX-9)');
  mailings
    .command('send')
    .description(
      'send what is queued now (the server does it every minute): each recipient once, resumable after a crash',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--mailing <id>', 'only this mailing')
    .action(async (options: { tenant: string; mailing?: string }) => {
      try {
        const only = options.mailing === undefined ? undefined : mailingId(options.mailing);
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const tenant = await findTenantBySlug(runtime.database.db, options.tenant);
          const mailer = createMailer({
            smtpUrl: config.mail.smtpUrl,
            delivers: config.mail.delivers,
            from: config.mail.from,
            outboxDir: path.join(config.dataDir, 'outbox'),
            logger,
          });
          const progress = process.stderr.isTTY
            ? (done: number) => process.stderr.write(`\rmailings: ${done} sent`)
            : undefined;
          const result = await sendQueuedMailings(
            { kernel: runtime.kernel, mailer, publicUrl: config.http.publicUrl, dataMap: DATA_MAP, logger },
            {
              tenantId: tenant.tenantId,
              ...(only === undefined ? {} : { mailingId: only }),
              ...(progress ? { onProgress: progress } : {}),
            },
          );
          if (progress) process.stderr.write('\n');
          console.log(
            `mailings: ${result.sent} sent, ${result.skipped} skipped (consent or objection changed), ${result.bounced} bounced, ${result.uncertain} uncertain (interrupted after handing to SMTP; not sent again)`,
          );
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
      process.exit(0);
    });
  mailings
    .command('status')
    .description('how far a mailing is: recipients per state')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--mailing <id>', 'mailing id')
    .action(async (options: { tenant: string; mailing: string }) => {
      try {
        const id = mailingId(options.mailing);
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const tenant = await findTenantBySlug(runtime.database.db, options.tenant);
          const found = await readMailingStatus(runtime.kernel, tenant.tenantId, id);
          const counts = Object.entries(found.recipients)
            .map(([state, count]) => `${state} ${count}`)
            .join(', ');
          console.log(`mailing ${found.mailingId} (${found.purpose}): ${found.state}; ${counts}`);
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
      process.exit(0);
    });
}
