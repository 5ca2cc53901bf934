import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { assertMoneyPurpose, authorize, conflict, notFound, type BillingContext } from './access.js';
import { MAX_PAYMENT_CENTS, MAX_PAYMENT_TEXT } from './amounts.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { addPaid, selectErasedSubjects, selectInvoiceRef } from './invoice.repository.js';
import { statusOf, type InvoiceStatus } from './invoice.service.js';
import { belgianDate } from './invoice-run.service.js';

/** A payment no invoice was found for: amount, date and the bank's reference, nothing else. */
export interface UnmatchedPayment {
  paymentId: number;
  bankReference: string;
  valueDate: string;
  amountCents: number;
  /** A valid structured communication that no invoice has (else null: none or a free one). */
  structuredCommunication: string | null;
  importedAt: Date;
}

/**
 * Payments left unmatched by the imports, oldest first, for a person to match. They hold no
 * personal data (no subject, no counterparty); the list is still decided by the gate under the
 * declared purpose for kluis.billing.payment, like every payment route.
 */
export async function listUnmatchedPayments(
  kernel: Kernel,
  context: BillingContext,
  query: { limit: number; after?: number },
): Promise<{ items: UnmatchedPayment[]; nextCursor: string | null }> {
  return kernel.transact(context.tenantId, async (atx) => {
    await authorize(kernel, atx, context, 'read', [C.payment], []);
    const rows = await atx.tx
      .selectFrom('payments')
      .select(['payment_id', 'bank_reference', 'amount_cents', 'structured_communication', 'imported_at'])
      .select(sql<string>`value_date::text`.as('value_date'))
      .where('invoice_id', 'is', null)
      .where('payment_id', '>', query.after ?? 0)
      .orderBy('payment_id')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    return {
      items: page.map((row) => ({
        paymentId: row.payment_id,
        bankReference: row.bank_reference,
        valueDate: row.value_date,
        amountCents: row.amount_cents,
        structuredCommunication: row.structured_communication,
        importedAt: row.imported_at,
      })),
      nextCursor: rows.length > query.limit ? String(page.at(-1)?.payment_id ?? '') : null,
    };
  });
}

export interface PaymentMatch {
  paymentId: number;
  invoiceId: number;
  invoiceNumber: string;
  amountCents: number;
  status: InvoiceStatus;
  balanceCents: number;
}

/**
 * Matches an unmatched payment to an invoice by hand (a customer who paid without, or with a
 * wrong, structured communication). The invoice's paid amount grows; partial and over-payments
 * stay as they are (the status is derived). A payment matched once cannot be matched again.
 * Writes kluis.billing.payment of the invoice's customer; an erased customer's payment is matched
 * to the invoice without a link to the person.
 */
export async function matchPayment(
  kernel: Kernel,
  context: BillingContext,
  paymentId: number,
  invoiceId: number,
): Promise<PaymentMatch> {
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMoneyPurpose(policy, context.purpose, 'payments');
  return kernel.transact(context.tenantId, async (atx) => {
    const payment = await atx.tx
      .selectFrom('payments')
      .select(['payment_id', 'amount_cents', 'invoice_id'])
      .where('payment_id', '=', paymentId)
      .forUpdate()
      .executeTakeFirst();
    if (!payment) throw notFound('payment');
    const invoice = await selectInvoiceRef(atx.tx, invoiceId, true);
    if (!invoice) throw notFound('invoice');
    if (payment.invoice_id !== null) throw conflict('the payment is matched to an invoice already');
    if (invoice.kind !== 'invoice') throw conflict('a payment is matched to an invoice, not a credit note');
    if (invoice.paidCents + payment.amount_cents > MAX_PAYMENT_CENTS)
      throw conflict(`the invoice's payments would exceed ${MAX_PAYMENT_TEXT} (decision 0405)`);
    const live =
      invoice.subjectId !== null && (await selectErasedSubjects(atx.tx, [invoice.subjectId])).size === 0
        ? invoice.subjectId
        : null;
    const grant = await authorize(kernel, atx, context, 'write', [C.payment], live === null ? [] : [live]);
    await linkPayment(atx.tx, grant, paymentId, invoiceId, live);
    await addPaid(atx.tx, invoiceId, payment.amount_cents, kernel.clock.now());
    const paid = { ...invoice, paidCents: invoice.paidCents + payment.amount_cents };
    return {
      paymentId,
      invoiceId,
      invoiceNumber: invoice.invoiceNumber,
      amountCents: payment.amount_cents,
      ...statusOf(paid, belgianDate(kernel.clock.now())),
    };
  });
}

/** Links a payment to its invoice and, when the grant covers them, to the invoice's customer. */
async function linkPayment(
  tx: Tx,
  grant: Grant,
  paymentId: number,
  invoiceId: number,
  subjectId: number | null,
): Promise<void> {
  grant.assertWritable();
  if (subjectId !== null) grant.assertCovers(C.payment, subjectId);
  await tx
    .updateTable('payments')
    .set({ invoice_id: invoiceId, subject_id: subjectId })
    .where('payment_id', '=', paymentId)
    .where('invoice_id', 'is', null)
    .execute();
}
