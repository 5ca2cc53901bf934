import type { Command } from 'commander';
import { openRuntime } from '../main.js';
import { findTenantBySlug } from '../modules/tenants/index.js';
import { createCliContext, exitWithFailure } from './context.js';

export function registerKeysCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('encryption keys (master key, tenant key-encryption keys)');
  keys
    .command('rotate')
    .description("rotate a tenant's key-encryption key: re-wrap every data key; resumes if interrupted")
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--batch-size <n>', 'data keys per committed batch', '500')
    .action(async (options: { tenant: string; batchSize: string }) => {
      try {
        const batchSize = Number.parseInt(options.batchSize, 10);
        if (!Number.isInteger(batchSize) || batchSize < 1)
          throw new Error('--batch-size must be a positive integer');
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const tenant = await findTenantBySlug(runtime.database.db, options.tenant);
          const result = await runtime.kernel.keys.rotateTenantKek(tenant.tenantId, {
            batchSize,
            onBatch: (done) => {
              if (process.stderr.isTTY) process.stderr.write(`\rre-wrapped ${done} keys`);
            },
          });
          await runtime.kernel.transact(tenant.tenantId, (atx) => {
            atx.audit.record({
              actor: { kind: 'system', id: 'cli' },
              role: null,
              purpose: null,
              action: 'key.rotate',
              records: result.rewrapped,
              decision: 'allowed',
            });
            return Promise.resolve();
          });
          console.log(
            `tenant ${tenant.slug}: key-encryption key now at version ${result.version} (${result.rewrapped} keys re-wrapped)`,
          );
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });
}
