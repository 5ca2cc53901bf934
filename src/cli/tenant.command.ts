import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { createTenantFromPolicy } from '../bootstrap.js';
import { openRuntime } from '../main.js';
import { validatePolicySource } from '../kernel/policy/index.js';
import { droppedPurposesInUse, type DroppedPurposeInUse } from '../modules/purposes-in-use.js';
import { createTenant, findTenantBySlug, listTenants } from '../modules/tenants/index.js';
import { AppError } from '../platform/errors.js';
import { createCliContext, exitWithFailure } from './context.js';

export function registerTenantCommands(program: Command): void {
  const tenant = program
    .command('tenant')
    .description('manage tenants (one per provider, each with its own policy)');
  tenant
    .command('create')
    .description('create a tenant, from a policy file (--policy) or bare (--name, no policy yet)')
    .option('--policy <file>', 'policy file; the tenant takes its name from the controller in it')
    .option('--name <name>', 'legal name of the provider (without --policy)')
    .option('--slug <slug>', 'short identifier used in URLs, e.g. voiceking (default: the policy file name)')
    .action(async (options: { policy?: string; name?: string; slug?: string }, command: Command) => {
      if (!options.policy && !(options.name && options.slug)) {
        command.error('error: give --policy <file>, or --name <name> and --slug <slug>', { exitCode: 2 });
      }
      try {
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const created = options.policy
            ? await createTenantFromPolicy(runtime.kernel, path.resolve(options.policy), options.slug)
            : await createTenant(runtime.database.db, { name: options.name ?? '', slug: options.slug ?? '' });
          console.log(
            `tenant ${created.slug} created (id ${created.tenantId})${options.policy ? ', policy version 1 installed' : ''}`,
          );
          if (!options.policy) {
            console.log(
              `next: install its policy: kluis tenant policy set --tenant ${created.slug} <file>, then create its first admin`,
            );
          }
          console.log(
            `next: create its first admin: kluis staff create --tenant ${created.slug} --email <e-mail> --role admin`,
          );
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });

  tenant
    .command('list')
    .description('list the tenants (slug, name, id, created)')
    .action(async () => {
      try {
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const tenants = await listTenants(runtime.database.db);
          if (tenants.length === 0) {
            console.log('no tenants yet: create one with kluis tenant create --policy <file>');
            return;
          }
          const width = Math.max(4, ...tenants.map((item) => item.slug.length));
          console.log(`${'SLUG'.padEnd(width)}  ${'ID'.padStart(4)}  CREATED     NAME`);
          for (const item of tenants) {
            console.log(
              `${item.slug.padEnd(width)}  ${String(item.tenantId).padStart(4)}  ${item.createdAt.toISOString().slice(0, 10)}  ${item.name}`,
            );
          }
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });

  const policy = tenant.command('policy').description("a tenant's policy versions");
  policy
    .command('set')
    .description('validate a policy file and make it the version in force (earlier versions are kept)')
    .requiredOption('--tenant <slug>', 'tenant')
    .argument('<file>', 'policy file')
    .option('--force', 'install even when it drops purposes that consents or mailings still rest on')
    .action(async (file: string, options: { tenant: string; force?: boolean }) => {
      try {
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const found = await findTenantBySlug(runtime.database.db, options.tenant);
          const source = await readFile(file, 'utf8');
          // An invalid file is refused by the install itself, issue by issue.
          const checked = validatePolicySource(source, file);
          const inUse = checked.ok
            ? await droppedPurposesInUse(runtime.kernel, found.tenantId, checked.policy)
            : [];
          if (inUse.length > 0 && options.force !== true) {
            const message = `the new version drops purposes still in use: ${inUse.map(describeUse).join('; ')}; keep them, or install it anyway with --force`;
            throw new AppError('conflict', message, { publicMessage: message });
          }
          for (const use of inUse) console.log(`warning: dropped ${describeUse(use)}`);
          const installed = await runtime.kernel.policies.install(found.tenantId, source, file);
          console.log(
            installed.unchanged
              ? `tenant ${found.slug}: this file is policy version ${installed.versionNo} (statement ${installed.statementVersion}), already in force; nothing changed`
              : `tenant ${found.slug}: policy version ${installed.versionNo} (statement ${installed.statementVersion}) in force; ` +
                  'a running server applies it within 5 seconds (decision 0583)',
          );
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });
  policy
    .command('list')
    .description('list the policy versions of a tenant')
    .requiredOption('--tenant <slug>', 'tenant')
    .action(async (options: { tenant: string }) => {
      try {
        const { config, logger } = createCliContext();
        const runtime = await openRuntime(config, logger);
        try {
          const found = await findTenantBySlug(runtime.database.db, options.tenant);
          for (const version of await runtime.kernel.policies.versions(found.tenantId)) {
            console.log(
              `${String(version.versionNo).padStart(3)}  statement ${version.statementVersion}  effective ${version.effectiveDate}  loaded ${version.loadedAt.toISOString()}`,
            );
          }
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });
}

/** "interest_profiles (6 consent records, 1 mailing not yet sent)". */
function describeUse(use: DroppedPurposeInUse): string {
  const parts = [
    ...(use.consentRecords > 0 ? [`${use.consentRecords} consent record(s) on file`] : []),
    ...(use.mailingsInFlight > 0 ? [`${use.mailingsInFlight} mailing(s) not yet sent`] : []),
  ];
  return `${use.purpose} (${parts.join(', ')})`;
}
