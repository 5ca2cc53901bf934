import type { Command } from 'commander';
import { openRuntime } from '../main.js';
import { createStaffUser } from '../modules/staff/index.js';
import { findTenantBySlug } from '../modules/tenants/index.js';
import { createCliContext, exitWithFailure } from './context.js';

export function registerStaffCommands(program: Command): void {
  const staff = program.command('staff').description("a tenant's staff accounts");
  staff
    .command('create')
    .description('create a staff account; prints a one-time password (shown once, change it at first login)')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--email <email>', 'login e-mail address')
    .requiredOption('--role <role>', "one of the roles of the tenant's policy")
    .option('--name <name>', 'display name (default: the e-mail address)')
    .action(async (options: { tenant: string; email: string; role: string; name?: string }) => {
      try {
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const tenant = await findTenantBySlug(runtime.database.db, options.tenant);
          const created = await createStaffUser(
            runtime.kernel,
            tenant.tenantId,
            { kind: 'system', job: 'cli' },
            {
              email: options.email,
              displayName: options.name ?? options.email,
              role: options.role,
            },
          );
          console.log(
            `staff ${created.email} (${created.role}) created in ${tenant.slug}; one-time password: ${created.oneTimePassword}`,
          );
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });
}
