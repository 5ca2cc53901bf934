import { Command } from 'commander';
import { KLUIS_VERSION } from '../version.js';

type Register = (program: Command) => void;

interface CommandEntry {
  name: string;
  /** The one line `kluis --help` shows; cli.program.test.ts checks it against the module's own. */
  description: string;
  /** The module that defines the command, loaded only when the command runs. */
  load: () => Promise<Register>;
}

const tenant = async () => (await import('./tenant.command.js')).registerTenantCommands;
const policy = async () => (await import('./policy.command.js')).registerPolicyCommands;
const telephony = async () => (await import('./telephony.command.js')).registerTelephonyCommands;
const billing = async () => (await import('./billing.command.js')).registerBillingCommands;
const backup = async () => (await import('./backup.command.js')).registerBackupCommands;

/**
 * Every top-level command. `kluis --help` lists them without loading any (so it answers at
 * once); `kluis <command> …` loads the one module that defines it.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    description:
      'start Kluis: database (embedded unless DATABASE_URL is set), migrations, first-run setup, HTTP server',
    load: async () => (await import('./serve.command.js')).registerServeCommand,
  },
  {
    name: 'migrate',
    description: 'apply pending database migrations and exit',
    load: async () => (await import('./migrate.command.js')).registerMigrateCommand,
  },
  {
    name: 'tenant',
    description: 'manage tenants (one per provider, each with its own policy)',
    load: tenant,
  },
  {
    name: 'audit',
    description: 'prove and sign the audit log (one hash chain per tenant)',
    load: async () => (await import('./audit.command.js')).registerAuditCommands,
  },
  { name: 'policy', description: 'validate and inspect privacy policy files', load: policy },
  { name: 'statement', description: 'print the privacy statement generated from a policy', load: policy },
  {
    name: 'register',
    description: 'print the record of processing activities (GDPR Art. 30) generated from a policy',
    load: policy,
  },
  {
    name: 'keys',
    description: 'encryption keys (master key, tenant key-encryption keys)',
    load: async () => (await import('./keys.command.js')).registerKeysCommands,
  },
  {
    name: 'staff',
    description: "a tenant's staff accounts",
    load: async () => (await import('./staff.command.js')).registerStaffCommands,
  },
  {
    name: 'demo',
    description:
      'add realistic Belgian demo people and organisations to a demo tenant (bulk inserts, for load tests)',
    load: async () => (await import('./demo.command.js')).registerDemoCommand,
  },
  {
    name: 'requests',
    description: 'data-subject requests (GDPR Art. 15-22)',
    load: async () => (await import('./requests.command.js')).registerRequestsCommands,
  },
  { name: 'numbers', description: 'phone numbers and who held them when (VX-5)', load: telephony },
  {
    name: 'identifiers',
    description: "a customer's account codes, channels, extensions, SIP users (VX-5)",
    load: telephony,
  },
  { name: 'tariff', description: 'the price list calls are rated with', load: telephony },
  { name: 'cdr', description: 'call records: import, re-rate, retention (VX-5, G-1)', load: telephony },
  {
    name: 'plans',
    description:
      'rating plans: time bands, included minutes, on-net calls; who has which plan; re-rating a month (VX-5)',
    load: async () => (await import('./rating-plans.command.js')).registerRatingPlanCommands,
  },
  { name: 'invoices', description: 'monthly invoice runs and retention (VX-3, VX-8)', load: billing },
  { name: 'payments', description: 'bank statements and payment matching (VX-3)', load: billing },
  { name: 'billing', description: "the provider's billing settings", load: billing },
  {
    name: 'retention',
    description:
      'retention rules of the policy: dry run, sweep, legal holds and cases (VK-13, VK-14, VX-8, G-1)',
    load: async () => (await import('./retention.command.js')).registerRetentionCommands,
  },
  {
    name: 'mailings',
    description: 'newsletters and other mailings: send what is queued, status (VK-17, VK-18, VX-9)',
    load: async () => (await import('./mailings.command.js')).registerMailingsCommands,
  },
  {
    name: 'backup',
    description:
      'write a backup of the data and of the key store, as two separate archives (keep them apart, for different lengths of time)',
    load: backup,
  },
  {
    name: 'restore',
    description:
      'restore backups into an empty database (embedded data folder or DATABASE_URL), then erase again everyone the erasure journal lists',
    load: backup,
  },
];

function createProgram(): Command {
  return new Command()
    .name('kluis')
    .description('Kluis: a back office in which the privacy statement is enforced by the software')
    .version(KLUIS_VERSION)
    .showHelpAfterError()
    .showSuggestionAfterError();
}

/** The command a command line names (`kluis help <command>` included), if any. */
function commandNameOf(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  const first = args[0];
  if (first === 'help') return args[1];
  return first !== undefined && !first.startsWith('-') ? first : undefined;
}

/**
 * The program for one command line: the named command fully defined, or, for `--help`,
 * `--version` and anything unknown, the list of commands with nothing loaded.
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = createProgram();
  const entry = COMMANDS.find((candidate) => candidate.name === commandNameOf(argv));
  if (entry) {
    (await entry.load())(program);
    return program;
  }
  for (const command of COMMANDS) program.command(command.name).description(command.description);
  return program;
}

/** Every command fully defined (loads every module; for tests). */
export async function buildFullProgram(): Promise<Command> {
  const program = createProgram();
  for (const load of new Set(COMMANDS.map((command) => command.load))) (await load())(program);
  return program;
}
