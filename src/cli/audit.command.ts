import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { Logger } from '../platform/logger.js';
import { AuditChainError, verifyAuditChain, writeCheckpoint, type AuditKeys } from '../kernel/audit/index.js';
import { openRuntime, type DatabaseHandle } from '../main.js';
import { findTenantBySlug, listTenants, type Tenant } from '../modules/tenants/index.js';
import type { Db } from '../platform/db.js';
import { systemClock } from '../platform/clock.js';
import { createCliContext, exitWithFailure } from './context.js';

/** The data database and the keyring's keyed functions (pseudonyms, checkpoint MACs). */
async function openAudit(
  config: Config,
  logger: Logger,
): Promise<{ database: DatabaseHandle; keys: AuditKeys; close: () => Promise<void> }> {
  const runtime = await openRuntime(config, logger);
  return { database: runtime.database, keys: runtime.kernel.audit.keys, close: () => runtime.close() };
}

async function selectTenants(db: Db, slug: string | undefined): Promise<Tenant[]> {
  return slug === undefined ? listTenants(db) : [await findTenantBySlug(db, slug)];
}

/** `kluis audit verify` and `kluis audit checkpoint`. */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description('prove and sign the audit log (one hash chain per tenant)');

  audit
    .command('verify')
    .description('recompute every audit chain; exit 1 naming the first entry that does not match')
    .option('--tenant <slug>', 'only this tenant (default: all tenants)')
    .action(async (flags: { tenant?: string }) => {
      try {
        const { config, logger } = createCliContext();
        const { database, keys, close } = await openAudit(config, logger);
        let broken = 0;
        try {
          for (const tenant of await selectTenants(database.db, flags.tenant)) {
            const result = await verifyAuditChain({ db: database.db, keys }, tenant.tenantId);
            if (result.ok) {
              console.log(
                `audit ${tenant.slug}: intact (${result.entries} entries, ${result.checkpoints} checkpoints)`,
              );
            } else {
              broken += 1;
              console.log(
                `audit ${tenant.slug}: BROKEN at seq ${result.firstBadSeq} (${result.problem}): ${result.message}`,
              );
            }
          }
        } finally {
          await close();
        }
        if (broken > 0) {
          console.error(`kluis: ${broken} audit chain(s) broken`);
          process.exit(1);
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });

  audit
    .command('checkpoint')
    .description('sign the head of each audit chain (HMAC), after verifying the entries since the last one')
    .option('--tenant <slug>', 'only this tenant (default: all tenants)')
    .action(async (flags: { tenant?: string }) => {
      try {
        const { config, logger } = createCliContext();
        const { database, keys, close } = await openAudit(config, logger);
        let refused = 0;
        try {
          for (const tenant of await selectTenants(database.db, flags.tenant)) {
            try {
              const written = await writeCheckpoint(
                { db: database.db, keys, clock: systemClock },
                tenant.tenantId,
              );
              console.log(
                written
                  ? `audit ${tenant.slug}: checkpoint at seq ${written.seq}`
                  : `audit ${tenant.slug}: no entries, nothing to sign`,
              );
            } catch (error) {
              if (!(error instanceof AuditChainError)) throw error;
              refused += 1;
              const { firstBadSeq, problem, message } = error.verification;
              console.log(
                `audit ${tenant.slug}: NOT signed, BROKEN at seq ${firstBadSeq} (${problem}): ${message}`,
              );
            }
          }
        } finally {
          await close();
        }
        if (refused > 0) {
          console.error(`kluis: ${refused} audit chain(s) broken, not signed`);
          process.exit(1);
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });
}
