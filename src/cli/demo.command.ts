import type { Command } from 'commander';
import { seedDemoData } from '../demo/demo-data.js';
import { openRuntime } from '../main.js';
import { findTenantBySlug } from '../modules/tenants/index.js';
import { parseWholeNumber } from './arguments.js';
import { createCliContext, exitWithFailure } from './context.js';
import { createProgress } from './progress.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'add realistic Belgian demo people and organisations to a demo tenant (bulk inserts, for load tests)',
    )
    .requiredOption('--tenant <slug>', 'a tenant running one of the demo policies (voiceking, voxtra)')
    .option('--people <n>', 'number of people', '1000')
    .option('--organisations <n>', 'number of organisations', '50')
    .option('--policy <key>', 'which demo plan to follow: voiceking or voxtra (default: the tenant slug)')
    .option('--seed <n>', 'random seed (same seed, same data)', '1')
    .action(
      async (options: {
        tenant: string;
        people: string;
        organisations: string;
        policy?: string;
        seed: string;
      }) => {
        try {
          const people = parseWholeNumber(options.people, '--people', { max: 1_000_000 });
          const organisations = parseWholeNumber(options.organisations, '--organisations', { max: 100_000 });
          const seed = parseWholeNumber(options.seed, '--seed');
          const { config, logger } = createCliContext();
          const runtime = await openRuntime(config, logger);
          try {
            const tenant = await findTenantBySlug(runtime.database.db, options.tenant);
            const started = Date.now();
            const progress = createProgress('demo people', people, 'people');
            const result = await seedDemoData(runtime.kernel, tenant, options.policy ?? tenant.slug, {
              people,
              organisations,
              seed,
              onProgress: (done) => progress.update(done),
            }).finally(() => progress.stop());
            console.log(
              `${tenant.slug}: ${result.people} people and ${result.organisations} organisations created in ${((Date.now() - started) / 1000).toFixed(1)} s`,
            );
          } finally {
            await runtime.close();
          }
        } catch (error) {
          exitWithFailure(error);
        }
      },
    );
}
