import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { Logger } from '../platform/logger.js';
import { AuditChainError, verifyAuditChain, writeCheckpoint, type AuditDeps } from '../kernel/audit/index.js';
import { openRuntime, type DatabaseHandle } from '../main.js';
import { kernelCore } from '../kernel/kernel.js';
import { findTenantBySlug, listTenants, type Tenant } from '../modules/tenants/index.js';
import type { Db } from '../platform/db.js';
import { systemClock } from '../platform/clock.js';
import { createCliContext, exitWithFailure } from './context.js';

/** The data database, the keyring's keyed functions and the anchor places (key store, file). */
async function openAudit(
  config: Config,
  logger: Logger,
): Promise<{ database: DatabaseHandle; audit: AuditDeps; close: () => Promise<void> }> {
  const runtime = await openRuntime(config, logger);
  return {
    database: runtime.database,
    audit: kernelCore(runtime.kernel).audit,
    close: () => runtime.close(),
  };
}

const DEFAULT_ANCHOR_GRACE_MINUTES = 60;

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
    .option(
      '--anchor-grace-minutes <minutes>',
      'entries older than this must be covered by a checkpoint outside the database',
      String(DEFAULT_ANCHOR_GRACE_MINUTES),
    )
    .action(async (flags: { tenant?: string; anchorGraceMinutes: string }) => {
      try {
        const grace = Number(flags.anchorGraceMinutes);
        if (!Number.isInteger(grace) || grace < 0) {
          console.error('kluis: --anchor-grace-minutes: expected a whole number of minutes');
          process.exit(1);
        }
        const { config, logger } = createCliContext();
        const { database, audit, close } = await openAudit(config, logger);
        let broken = 0;
        try {
          const anchorsRequiredBefore = new Date(systemClock.now().getTime() - grace * 60_000);
          for (const tenant of await selectTenants(database.db, flags.tenant)) {
            const result = await verifyAuditChain(audit, tenant.tenantId, { anchorsRequiredBefore });
            // A restore that set the chain back (decision 1270): said first, broken or not.
            for (const setBack of result.setBacks ?? []) {
              console.log(`audit ${tenant.slug}: set back: ${setBack.message}`);
            }
            if (result.ok) {
              console.log(
                `audit ${tenant.slug}: intact (${result.entries} entries, ${result.checkpoints} checkpoints, ${result.anchors ?? 0} outside the database)`,
              );
              if (result.pendingCopies) {
                // Not a break: each entry is in the chain once; the copies wait for an operator.
                const count = result.pendingCopyCount ?? result.pendingCopies.length;
                const more =
                  count > result.pendingCopies.length
                    ? ` and ${count - result.pendingCopies.length} more`
                    : '';
                console.log(
                  `audit ${tenant.slug}: ${count} pending entr${count === 1 ? 'y is a copy of a chained entry' : 'ies are copies of chained entries'}, never chained (audit_pending ${result.pendingCopies.join(', ')}${more})`,
                );
              }
            } else {
              broken += 1;
              console.log(
                `audit ${tenant.slug}: BROKEN at seq ${result.firstBadSeq} (${result.problem}): ${result.message}`,
              );
              // The genuine records a forged entry displaced (decision 0760): named as the log names them.
              for (const displaced of result.displacedPending ?? []) {
                console.log(`audit ${tenant.slug}: ${displaced.message}`);
              }
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
        const { database, audit, close } = await openAudit(config, logger);
        let refused = 0;
        try {
          for (const tenant of await selectTenants(database.db, flags.tenant)) {
            try {
              const written = await writeCheckpoint(audit, tenant.tenantId);
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
