import type { Command } from 'commander';
import { openRuntime, type Runtime } from '../main.js';
import {
  changeStaff,
  removeStaff,
  resetStaffPassword,
  createStaffUser,
  listStaff,
  unlockStaff,
  type StaffChange,
} from '../modules/staff/index.js';
import { findTenantBySlug, type Tenant } from '../modules/tenants/index.js';
import { AppError } from '../platform/errors.js';
import { createCliContext, exitWithFailure } from './context.js';

const CLI_ACTOR = { kind: 'system', job: 'cli' } as const;

/** Opens the runtime, finds the tenant, runs the work, closes; one clear line on failure. */
async function withTenantRuntime(slug: string, work: (runtime: Runtime, tenant: Tenant) => Promise<void>) {
  try {
    const { config, logger } = createCliContext();
    const runtime = await openRuntime(config, logger);
    try {
      const tenant = await findTenantBySlug(runtime.database.db, slug);
      await work(runtime, tenant);
    } finally {
      await runtime.close();
    }
  } catch (error) {
    exitWithFailure(error);
  }
}

function parseStaffId(value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 1)
    throw new AppError('validation_failed', 'bad staff id', {
      publicMessage: 'staffId: expected a positive number',
    });
  return id;
}

export function registerStaffCommands(program: Command): void {
  const staff = program.command('staff').description("a tenant's staff accounts");
  staff
    .command('create')
    .description('create a staff account; prints a one-time password (shown once, change it at first login)')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--email <email>', 'login e-mail address')
    .requiredOption('--role <role>', "one of the roles of the tenant's policy")
    .option('--name <name>', 'display name (default: the e-mail address)')
    .action((options: { tenant: string; email: string; role: string; name?: string }) =>
      withTenantRuntime(options.tenant, async (runtime, tenant) => {
        const created = await createStaffUser(runtime.kernel, tenant.tenantId, CLI_ACTOR, {
          email: options.email,
          displayName: options.name ?? options.email,
          role: options.role,
        });
        console.log(
          `staff ${created.email} (${created.role}) created in ${tenant.slug}; one-time password: ${created.oneTimePassword}`,
        );
      }),
    );

  staff
    .command('list')
    .description("list a tenant's staff accounts (id, e-mail, role, status, second factor)")
    .requiredOption('--tenant <slug>', 'tenant')
    .action((options: { tenant: string }) =>
      withTenantRuntime(options.tenant, async (runtime, tenant) => {
        let after: number | undefined;
        let listed = 0;
        for (;;) {
          const page = await listStaff(runtime.kernel, tenant.tenantId, CLI_ACTOR, { limit: 200, after });
          for (const item of page.items) {
            if (listed === 0) console.log('ID\tE-MAIL\tROLE\tSTATUS');
            listed += 1;
            const flags = [
              item.status,
              item.mfaEnabled ? 'mfa' : 'no-mfa',
              ...(item.isLocked ? ['locked'] : []),
            ];
            console.log(`${item.staffId}\t${item.email}\t${item.role}\t${flags.join(',')}`);
          }
          if (page.nextAfter === null) break;
          after = page.nextAfter;
        }
        if (listed === 0) {
          console.log(
            `no staff accounts in ${tenant.slug}: create the first admin with kluis staff create --tenant ${tenant.slug} --email <e-mail> --role admin`,
          );
        }
      }),
    );

  staff
    .command('unlock')
    .description(
      'lift the lock of an account (wrong second-factor codes) and forget its failed logins, so the next correct login goes through',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--email <email>', 'login e-mail address')
    .action((options: { tenant: string; email: string }) =>
      withTenantRuntime(options.tenant, async (runtime, tenant) => {
        const result = await unlockStaff(runtime.kernel, tenant.tenantId, CLI_ACTOR, options.email);
        console.log(
          `staff ${result.staffId} in ${tenant.slug} unlocked${result.wasLocked ? '' : ' (was not locked)'}; failed logins forgotten`,
        );
      }),
    );

  staff
    .command('reset-password <staffId>')
    .description(
      'give a staff member who forgot their password a new one-time password (change it at the next login); ends their sessions, keeps second factor and tokens',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .action((staffId: string, options: { tenant: string }) =>
      withTenantRuntime(options.tenant, async (runtime, tenant) => {
        const reset = await resetStaffPassword(
          runtime.kernel,
          tenant.tenantId,
          CLI_ACTOR,
          parseStaffId(staffId),
        );
        console.log(
          `staff ${reset.staffId} in ${tenant.slug}: one-time password: ${reset.oneTimePassword} (change it at the next login; ${reset.sessionsEnded} session(s) ended)`,
        );
      }),
    );

  const change = (name: string, description: string, toChange: (options: { role?: string }) => StaffChange) =>
    staff
      .command(`${name} <staffId>`)
      .description(description)
      .requiredOption('--tenant <slug>', 'tenant')
      .action((staffId: string, options: { tenant: string; role?: string }) =>
        withTenantRuntime(options.tenant, async (runtime, tenant) => {
          const view = await changeStaff(
            runtime.kernel,
            tenant.tenantId,
            CLI_ACTOR,
            parseStaffId(staffId),
            toChange(options),
          );
          console.log(
            `staff ${view.staffId} in ${tenant.slug}: ${view.role}, ${view.status}, ${view.mfaEnabled ? 'mfa' : 'no-mfa'}`,
          );
        }),
      );

  change('role', "change a staff member's role (ends their sessions; never the last admin)", (options) => ({
    kind: 'role',
    role: options.role ?? '',
  })).requiredOption('--role <role>', "one of the roles of the tenant's policy");
  change('disable', 'disable an account at once (never the last admin)', () => ({
    kind: 'status',
    status: 'disabled',
  }));
  change('enable', 'enable a disabled account', () => ({ kind: 'status', status: 'active' }));
  staff
    .command('remove <staffId>')
    .description(
      "erase a former staff member's disabled account: name, e-mail and credentials (decision 0919)",
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .action((staffId: string, options: { tenant: string }) =>
      withTenantRuntime(options.tenant, async (runtime, tenant) => {
        const removed = await removeStaff(runtime.kernel, tenant.tenantId, CLI_ACTOR, parseStaffId(staffId));
        console.log(
          `staff ${removed.staffId} in ${tenant.slug} removed: name, e-mail and credentials erased`,
        );
      }),
    );
  change('reset-mfa', 'remove a lost second factor; the member enrols again at the next login', () => ({
    kind: 'mfa_reset',
  }));
}
