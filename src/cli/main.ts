import { Command } from 'commander';
import { KLUIS_VERSION } from '../main.js';
import { registerAuditCommands } from './audit.command.js';
import { registerBackupCommands } from './backup.command.js';
import { registerBillingCommands } from './billing.command.js';
import { registerDemoCommand } from './demo.command.js';
import { registerKeysCommands } from './keys.command.js';
import { registerMigrateCommand } from './migrate.command.js';
import { registerPolicyCommands } from './policy.command.js';
import { registerRequestsCommands } from './requests.command.js';
import { registerRetentionCommands } from './retention.command.js';
import { registerServeCommand } from './serve.command.js';
import { registerStaffCommands } from './staff.command.js';
import { registerTenantCommands } from './tenant.command.js';
import { registerTelephonyCommands } from './telephony.command.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('kluis')
    .description('Kluis: a back office in which the privacy statement is enforced by the software')
    .version(KLUIS_VERSION)
    .showHelpAfterError()
    .showSuggestionAfterError();
  registerServeCommand(program);
  registerMigrateCommand(program);
  registerTenantCommands(program);
  registerAuditCommands(program);
  registerPolicyCommands(program);
  registerKeysCommands(program);
  registerStaffCommands(program);
  registerDemoCommand(program);
  registerRequestsCommands(program);
  registerTelephonyCommands(program);
  registerBillingCommands(program);
  registerRetentionCommands(program);
  registerBackupCommands(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
