import type { Command } from 'commander';
import path from 'node:path';
import { openRuntime } from '../main.js';
import { DATA_MAP } from '../modules/data-map.js';
import {
  listRequestsForOperator,
  sendDeadlineReminders,
  type RequestsDeps,
} from '../modules/requests/index.js';
import { findTenantBySlug, listTenants } from '../modules/tenants/index.js';
import { createMailer } from '../platform/mailer.js';
import { createCliContext, exitWithFailure } from './context.js';

export function registerRequestsCommands(program: Command): void {
  const requests = program.command('requests').description('data-subject requests (GDPR Art. 15-22)');
  requests
    .command('list')
    .description('open and recent requests by due date (VK-27)')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--overdue', 'only requests past their (extended) due date and still open')
    .action(async (options: { tenant: string; overdue?: boolean }) => {
      try {
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const tenant = await findTenantBySlug(runtime.database.db, options.tenant);
          const deps = requestsDeps(runtime.kernel, config, logger);
          const items = await listRequestsForOperator(deps, tenant.tenantId, {
            limit: 500,
            ...(options.overdue ? { overdue: true } : {}),
          });
          if (items.length === 0) console.log(options.overdue ? 'no overdue requests' : 'no requests');
          for (const item of items) {
            console.log(
              `${item.overdue ? 'OVERDUE ' : ''}${item.dueOn}  ${item.state.padEnd(21)} ${item.kind.padEnd(23)} ${item.channel.padEnd(9)} ${item.requestId}`,
            );
          }
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });
  requests
    .command('remind')
    .description(
      'mail each tenant’s privacy contact the requests due within 7 days or overdue (the daily job)',
    )
    .option('--tenant <slug>', 'only this tenant')
    .action(async (options: { tenant?: string }) => {
      try {
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const tenants = options.tenant
            ? [await findTenantBySlug(runtime.database.db, options.tenant)]
            : await listTenants(runtime.database.db);
          const deps = requestsDeps(runtime.kernel, config, logger);
          for (const tenant of tenants) {
            const result = await sendDeadlineReminders(deps, tenant.tenantId);
            console.log(`${tenant.slug}: ${result.overdue} overdue, ${result.dueSoon} due within 7 days`);
          }
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });
}

function requestsDeps(
  kernel: RequestsDeps['kernel'],
  config: ReturnType<typeof createCliContext>['config'],
  logger: RequestsDeps['logger'],
): RequestsDeps {
  return {
    kernel,
    mailer: createMailer({
      smtpUrl: config.mail.smtpUrl,
      delivers: config.mail.delivers,
      from: config.mail.from,
      outboxDir: path.join(config.dataDir, 'outbox'),
      logger,
    }),
    dataMap: DATA_MAP,
    publicUrl: config.http.publicUrl,
    logger,
  };
}
