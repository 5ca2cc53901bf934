import path from 'node:path';
import type { Command } from 'commander';
import { messageDomainOf } from '../kernel/letters/index.js';
import type { Kernel } from '../kernel/kernel.js';
import { deliverLetters } from '../kernel/letters/index.js';
import {
  disputeInvoice,
  findInvoiceId,
  listInvoiceReminders,
  markSentForCollection,
  runDunning,
  settleDispute,
  type BillingContext,
} from '../modules/billing/index.js';
import type { Tenant } from '../modules/tenants/index.js';
import { createMailer } from '../platform/mailer.js';
import { createCliContext } from './context.js';

/** What billing.command.ts lends these commands: its tenant session and billing context. */
export interface TenantSessionHelpers {
  withTenantSession: (slug: string, work: (kernel: Kernel, tenant: Tenant) => Promise<void>) => Promise<void>;
  billingContext: (kernel: Kernel, tenant: Tenant) => Promise<BillingContext>;
  euros: (cents: number) => string;
}

/**
 * Dunning at the console (issue 22, decision 0300): a pass now, an invoice's reminders, disputes
 * and the hand-over for collection. `<invoice>` is the invoice number (F2026-000042) or its id.
 */
export function registerDunningCommands(invoices: Command, helpers: TenantSessionHelpers): void {
  const { withTenantSession, billingContext, euros } = helpers;
  invoices
    .command('remind')
    .description(
      'send the payment reminders that are due now (the server does it daily): first, second, formal notice',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .action(async (options: { tenant: string }) => {
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        const { config, logger } = createCliContext();
        const summary = await runDunning(kernel, tenant.tenantId, {
          messageDomain: messageDomainOf(config.http.publicUrl),
        });
        if (!summary.enabled) {
          console.log('dunning is off for this tenant (kluis billing settings --reminders on)');
          return;
        }
        const mailer = createMailer({
          smtpUrl: config.mail.smtpUrl,
          delivers: config.mail.delivers,
          from: config.mail.from,
          outboxDir: path.join(config.dataDir, 'outbox'),
          logger,
        });
        const sent = await deliverLetters(kernel, mailer, [tenant.tenantId], logger);
        console.log(
          `reminders: ${summary.firstReminders} first, ${summary.secondReminders} second, ` +
            `${summary.formalNotices} formal notices (${summary.withoutAddress} without an e-mail address); ` +
            `${summary.refused} refused by the gate; ${sent.sent} letters sent`,
        );
      });
    });
  invoices
    .command('reminders')
    .description("an invoice's reminders, dispute and collection state")
    .requiredOption('--tenant <slug>', 'tenant')
    .argument('<invoice>', 'invoice number or id')
    .action(async (invoice: string, options: { tenant: string }) => {
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        const id = await findInvoiceId(kernel, tenant.tenantId, invoice);
        const dunning = await listInvoiceReminders(kernel, await billingContext(kernel, tenant), id);
        console.log(
          `${dunning.invoiceNumber}: ${dunning.status}, ${euros(dunning.balanceCents)} due` +
            (dunning.disputed ? ', disputed' : '') +
            (dunning.sentForCollectionAt
              ? `, handed over for collection ${dunning.sentForCollectionAt.toISOString()}`
              : ''),
        );
        for (const reminder of dunning.reminders) {
          console.log(
            `${reminder.level}\t${reminder.kind}\t${reminder.sentOn}\tpay by ${reminder.payBy}\t` +
              `${euros(reminder.balanceCents)}\t${reminder.mailed ? 'mailed' : 'no e-mail address'}`,
          );
        }
      });
    });
  invoices
    .command('dispute')
    .description(
      'mark an invoice disputed: no reminders, and retention keeps it, its customer and its call records until settled',
    )
    .requiredOption('--tenant <slug>', 'tenant')
    .requiredOption('--reason <text>', 'what is disputed (scanned for sensitive data like all typed text)')
    .argument('<invoice>', 'invoice number or id')
    .action(async (invoice: string, options: { tenant: string; reason: string }) => {
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        const id = await findInvoiceId(kernel, tenant.tenantId, invoice);
        const dispute = await disputeInvoice(kernel, await billingContext(kernel, tenant), id, {
          reason: options.reason,
        });
        console.log(`invoice ${invoice} disputed (dispute ${dispute.disputeId})`);
      });
    });
  invoices
    .command('settle-dispute')
    .description("settle an invoice's open dispute: reminders and retention resume as usual")
    .requiredOption('--tenant <slug>', 'tenant')
    .argument('<invoice>', 'invoice number or id')
    .action(async (invoice: string, options: { tenant: string }) => {
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        const id = await findInvoiceId(kernel, tenant.tenantId, invoice);
        await settleDispute(kernel, await billingContext(kernel, tenant), id);
        console.log(`invoice ${invoice}: dispute settled`);
      });
    });
  invoices
    .command('collection')
    .description('record that an invoice went to collection after its formal notice (no more reminders)')
    .requiredOption('--tenant <slug>', 'tenant')
    .argument('<invoice>', 'invoice number or id')
    .action(async (invoice: string, options: { tenant: string }) => {
      await withTenantSession(options.tenant, async (kernel, tenant) => {
        const id = await findInvoiceId(kernel, tenant.tenantId, invoice);
        const marked = await markSentForCollection(kernel, await billingContext(kernel, tenant), id);
        console.log(`${marked.invoiceNumber} handed over for collection`);
      });
    });
}
