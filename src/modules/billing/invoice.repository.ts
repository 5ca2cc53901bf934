import { sql } from 'kysely';
import type { Tx } from '../../platform/db.js';
import type {
  DestinationClass,
  InvoiceKind,
  InvoiceLineKind,
  InvoiceSeries,
  SellerSnapshot,
} from './billing.tables.js';
import type { NewInvoice } from './invoice-run.repository.js';

/** A stored invoice: what was written (NewInvoice) plus what the database adds or sums up. */
export type InvoiceRow = Omit<NewInvoice, 'createdByStaffId' | 'lines'> & {
  invoiceId: number;
  currency: string;
  paidCents: number;
  creditedCents: number;
};

export interface InvoiceLineRow {
  lineNo: number;
  kind: InvoiceLineKind;
  description: string;
  productId: number | null;
  contractId: number | null;
  destinationClass: DestinationClass | null;
  callCount: number | null;
  callSeconds: number | null;
  quantity: number;
  unitPriceCents: number;
  amountCents: number;
  vatRateBp: number;
}

const columns = [
  'invoice_id',
  'kind',
  'series',
  'year',
  'number',
  'invoice_number',
  'subject_id',
  'organisation_id',
  'credited_invoice_id',
  sql<string | null>`period_start::text`.as('period_start'),
  sql<string | null>`period_end::text`.as('period_end'),
  sql<string>`issue_date::text`.as('issue_date'),
  sql<string>`due_date::text`.as('due_date'),
  sql<string>`hold_until::text`.as('hold_until'),
  'currency',
  'total_excl_vat_cents',
  'vat_cents',
  'total_incl_vat_cents',
  'paid_cents',
  'credited_cents',
  'structured_communication',
  'itemised_calls',
  'credit_reason',
  'buyer_name',
  'buyer_street',
  'buyer_postal_code',
  'buyer_city',
  'buyer_country',
  'buyer_enterprise_number',
  'buyer_iban',
  'buyer_mandate',
  'seller',
  'created_at',
] as const;

type Selected = {
  invoice_id: number;
  kind: InvoiceKind;
  series: InvoiceSeries;
  year: number;
  number: number;
  invoice_number: string;
  subject_id: number | null;
  organisation_id: number | null;
  credited_invoice_id: number | null;
  period_start: string | null;
  period_end: string | null;
  issue_date: string;
  due_date: string;
  hold_until: string;
  currency: string;
  total_excl_vat_cents: number;
  vat_cents: number;
  total_incl_vat_cents: number;
  paid_cents: number;
  credited_cents: number;
  structured_communication: string;
  itemised_calls: boolean;
  credit_reason: string | null;
  buyer_name: string | null;
  buyer_street: string | null;
  buyer_postal_code: string | null;
  buyer_city: string | null;
  buyer_country: string | null;
  buyer_enterprise_number: string | null;
  buyer_iban: string | null;
  buyer_mandate: string | null;
  seller: SellerSnapshot;
  created_at: Date;
};

function toRow(row: Selected): InvoiceRow {
  return {
    invoiceId: row.invoice_id,
    kind: row.kind,
    series: row.series,
    year: row.year,
    number: row.number,
    invoiceNumber: row.invoice_number,
    subjectId: row.subject_id,
    organisationId: row.organisation_id,
    creditedInvoiceId: row.credited_invoice_id,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    issueDate: row.issue_date,
    dueDate: row.due_date,
    holdUntil: row.hold_until,
    currency: row.currency,
    totalExclVatCents: row.total_excl_vat_cents,
    vatCents: row.vat_cents,
    totalInclVatCents: row.total_incl_vat_cents,
    paidCents: row.paid_cents,
    creditedCents: row.credited_cents,
    structuredCommunication: row.structured_communication,
    itemisedCalls: row.itemised_calls,
    creditReason: row.credit_reason,
    buyer: {
      name: row.buyer_name,
      street: row.buyer_street,
      postalCode: row.buyer_postal_code,
      city: row.buyer_city,
      country: row.buyer_country,
      enterpriseNumber: row.buyer_enterprise_number,
      iban: row.buyer_iban,
      mandate: row.buyer_mandate,
    },
    seller: row.seller,
    createdAt: row.created_at,
  };
}

export async function selectInvoice(
  tx: Tx,
  invoiceId: number,
  forUpdate = false,
): Promise<InvoiceRow | undefined> {
  let query = tx.selectFrom('invoices').select(columns).where('invoice_id', '=', invoiceId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && toRow(row);
}

export async function selectInvoicesByCommunication(
  tx: Tx,
  communications: readonly string[],
): Promise<Map<string, InvoiceRow>> {
  if (communications.length === 0) return new Map();
  const rows = await tx
    .selectFrom('invoices')
    .select(columns)
    .where('structured_communication', '=', (eb) => eb.fn.any(eb.val([...communications])))
    .orderBy('invoice_id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.structured_communication, toRow(row)]));
}

export async function selectInvoicePage(
  tx: Tx,
  options: { afterId: number; limit: number; subjectId?: number; periodStart?: string; kind?: InvoiceKind },
): Promise<InvoiceRow[]> {
  let query = tx
    .selectFrom('invoices')
    .select(columns)
    .where('invoice_id', '>', options.afterId)
    .orderBy('invoice_id')
    .limit(options.limit);
  if (options.subjectId !== undefined) query = query.where('subject_id', '=', options.subjectId);
  if (options.periodStart !== undefined) query = query.where('period_start', '=', options.periodStart);
  if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
  return (await query.execute()).map(toRow);
}

export async function selectInvoiceLines(tx: Tx, invoiceId: number): Promise<InvoiceLineRow[]> {
  const rows = await tx
    .selectFrom('invoice_lines')
    .selectAll()
    .where('invoice_id', '=', invoiceId)
    .orderBy('line_no')
    .execute();
  return rows.map((row) => ({
    lineNo: row.line_no,
    kind: row.kind,
    description: row.description,
    productId: row.product_id,
    contractId: row.contract_id,
    destinationClass: row.destination_class,
    callCount: row.call_count,
    callSeconds: row.call_seconds,
    quantity: row.quantity,
    unitPriceCents: row.unit_price_cents,
    amountCents: row.amount_cents,
    vatRateBp: row.vat_rate_bp,
  }));
}

export interface PaymentRow {
  paymentId: number;
  bankReference: string;
  valueDate: string;
  amountCents: number;
}

export async function selectPaymentsOf(tx: Tx, invoiceId: number): Promise<PaymentRow[]> {
  const rows = await tx
    .selectFrom('payments')
    .select(['payment_id', 'bank_reference', sql<string>`value_date::text`.as('value_date'), 'amount_cents'])
    .where('invoice_id', '=', invoiceId)
    .orderBy('value_date')
    .orderBy('payment_id')
    .execute();
  return rows.map((row) => ({
    paymentId: row.payment_id,
    bankReference: row.bank_reference,
    valueDate: row.value_date,
    amountCents: row.amount_cents,
  }));
}

/** Whether a subject has been erased (kernel bookkeeping; the hold decides what stays readable). */
export async function selectErasedSubjects(tx: Tx, subjectIds: readonly number[]): Promise<Set<number>> {
  if (subjectIds.length === 0) return new Set();
  const rows = await tx
    .selectFrom('data_subjects')
    .select('subject_id')
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .where('erased_at', 'is not', null)
    .execute();
  return new Set(rows.map((row) => row.subject_id));
}

export async function addCredited(tx: Tx, invoiceId: number, cents: number): Promise<void> {
  await tx
    .updateTable('invoices')
    .set((eb) => ({ credited_cents: eb('credited_cents', '+', cents) }))
    .where('invoice_id', '=', invoiceId)
    .execute();
}

export async function addPaid(tx: Tx, invoiceId: number, cents: number): Promise<void> {
  await tx
    .updateTable('invoices')
    .set((eb) => ({ paid_cents: eb('paid_cents', '+', cents) }))
    .where('invoice_id', '=', invoiceId)
    .execute();
}
