import type { Command } from 'commander';
import { openDatabase } from '../main.js';
import { createTenant } from '../modules/tenants/index.js';
import { createCliContext, exitWithFailure } from './context.js';

export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('manage tenants (one per provider)');
  tenant
    .command('create')
    .description('create a tenant')
    .requiredOption('--name <name>', 'legal name of the provider')
    .requiredOption('--slug <slug>', 'short identifier used in URLs, e.g. voiceking')
    .action(async (options: { name: string; slug: string }) => {
      try {
        const { config, logger } = createCliContext();
        const database = await openDatabase(config, logger);
        try {
          const created = await createTenant(database.db, { name: options.name, slug: options.slug });
          console.log(`tenant ${created.slug} created (id ${created.tenantId})`);
        } finally {
          await database.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });
}
