import { sql, type RawBuilder } from 'kysely';
import { categoryOfRate, type VatCategory } from '../contracts/index.js';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { paidAsAnswered } from './amounts.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import type {
  DestinationClass,
  InvoiceKind,
  InvoiceLineKind,
  InvoiceSeries,
  InvoiceStatus,
  SellerSnapshot,
} from './billing.tables.js';
import type { BuyerSnapshot, NewInvoice } from './invoice-run.repository.js';

/** A stored invoice: what was written (NewInvoice) plus what the database adds or sums up. */
export type InvoiceRow = Omit<NewInvoice, 'createdByStaffId' | 'lines'> & {
  invoiceId: number;
  currency: string;
  paidCents: number;
  creditedCents: number;
};

/**
 * A document without its buyer snapshot: numbers, dates, amounts and the subject it is about
 * (the key the gate is asked about). Read before the gate decides; the snapshot is not.
 */
export type InvoiceRef = Omit<InvoiceRow, 'buyer'>;

export interface InvoiceLineRow {
  lineNo: number;
  kind: InvoiceLineKind;
  vatCategory: VatCategory;
  vatExemptionCode: string | null;
  vatExemptionReason: string | null;
  description: string;
  productId: number | null;
  contractId: number | null;
  destinationClass: DestinationClass | null;
  /** The destination group of a calls line; null for other lines and late-call lines. */
  destinationGroup: string | null;
  /** The month of a late-calls line's calls (YYYY-MM-DD). */
  callsMonth: string | null;
  callCount: number | null;
  callSeconds: number | null;
  quantity: number;
  unitPriceCents: number;
  amountCents: number;
  vatRateBp: number;
}

const refColumns = [
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
  'seller',
  'created_at',
] as const;

type SelectedRef = {
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
  seller: SellerSnapshot;
  created_at: Date;
};

function toRef(row: SelectedRef): InvoiceRef {
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
    paidCents: paidAsAnswered(row.paid_cents),
    creditedCents: row.credited_cents,
    structuredCommunication: row.structured_communication,
    itemisedCalls: row.itemised_calls,
    creditReason: row.credit_reason,
    seller: row.seller,
    createdAt: row.created_at,
  };
}

export async function selectInvoiceRef(
  tx: Tx,
  invoiceId: number,
  forUpdate = false,
): Promise<InvoiceRef | undefined> {
  let query = tx.selectFrom('invoices').select(refColumns).where('invoice_id', '=', invoiceId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && toRef(row);
}

export async function selectInvoicesByCommunication(
  tx: Tx,
  communications: readonly string[],
): Promise<Map<string, InvoiceRef>> {
  if (communications.length === 0) return new Map();
  const rows = await tx
    .selectFrom('invoices')
    .select(refColumns)
    .where('structured_communication', '=', (eb) => eb.fn.any(eb.val([...communications])))
    .orderBy('invoice_id')
    .forUpdate()
    .execute();
  return new Map(rows.map((row) => [row.structured_communication, toRef(row)]));
}

/** statusOf (invoice.service) as a SQL condition, so a status filter pages like any other. */
function statusCondition(status: InvoiceStatus, today: string): RawBuilder<boolean> {
  const due = sql`(total_incl_vat_cents - credited_cents)`;
  const balance = sql`(total_incl_vat_cents - credited_cents - paid_cents)`;
  switch (status) {
    case 'credit_note':
      return sql<boolean>`kind = 'credit_note'`;
    case 'credited':
      return sql<boolean>`kind = 'invoice' and ${due} <= 0 and paid_cents = 0`;
    case 'overdue':
      return sql<boolean>`kind = 'invoice' and ${due} > 0 and paid_cents = 0 and due_date < ${today}::date`;
    case 'open':
      return sql<boolean>`kind = 'invoice' and ${due} > 0 and paid_cents = 0 and due_date >= ${today}::date`;
    case 'partially_paid':
      return sql<boolean>`kind = 'invoice' and ${due} > 0 and paid_cents > 0 and ${balance} > 0`;
    case 'paid':
      return sql<boolean>`kind = 'invoice' and ${due} > 0 and paid_cents > 0 and ${balance} = 0`;
    case 'overpaid':
      return sql<boolean>`kind = 'invoice' and paid_cents > 0 and ${balance} < 0`;
  }
}

export async function selectInvoiceRefPage(
  tx: Tx,
  options: {
    afterId: number;
    limit: number;
    subjectId?: number;
    organisationId?: number;
    periodStart?: string;
    /** Issue dates, inclusive (YYYY-MM-DD). */
    issuedFrom?: string;
    issuedTo?: string;
    kind?: InvoiceKind;
    status?: InvoiceStatus;
    /** Only documents with an open dispute. */
    disputed?: boolean;
    /** The Belgian date that tells open from overdue. */
    today?: string;
  },
): Promise<InvoiceRef[]> {
  let query = tx
    .selectFrom('invoices')
    .select(refColumns)
    .where('invoice_id', '>', options.afterId)
    .orderBy('invoice_id')
    .limit(options.limit);
  if (options.subjectId !== undefined) query = query.where('subject_id', '=', options.subjectId);
  if (options.organisationId !== undefined)
    query = query.where('organisation_id', '=', options.organisationId);
  if (options.periodStart !== undefined) query = query.where('period_start', '=', options.periodStart);
  if (options.issuedFrom !== undefined) query = query.where('issue_date', '>=', options.issuedFrom);
  if (options.issuedTo !== undefined) query = query.where('issue_date', '<=', options.issuedTo);
  if (options.disputed) {
    query = query.where(
      sql<boolean>`exists (select 1 from invoice_disputes d where d.tenant_id = invoices.tenant_id
        and d.invoice_id = invoices.invoice_id and d.closed_at is null)`,
    );
  }
  if (options.kind !== undefined) query = query.where('kind', '=', options.kind);
  if (options.status !== undefined) query = query.where(statusCondition(options.status, options.today ?? ''));
  return (await query.execute()).map(toRef);
}

/**
 * The buyer snapshots of documents, through a grant: only the fields whose category the grant
 * covers (name, address, bank account, payment), the rest left out. A live customer's document
 * needs a grant for that customer; a held one (customer erased or unlinked) a grant without
 * subjects, which the service asks for only under a purpose of the accounting hold.
 */
export async function selectBuyers(
  tx: Tx,
  grant: Grant,
  invoiceIds: readonly number[],
): Promise<Map<number, Partial<BuyerSnapshot>>> {
  if (invoiceIds.length === 0) return new Map();
  const rows = await tx
    .selectFrom('invoices')
    .leftJoin('data_subjects', (join) =>
      join
        .onRef('data_subjects.tenant_id', '=', 'invoices.tenant_id')
        .onRef('data_subjects.subject_id', '=', 'invoices.subject_id'),
    )
    .select([
      'invoices.invoice_id',
      'invoices.subject_id',
      'data_subjects.erased_at',
      'invoices.buyer_name',
      'invoices.buyer_street',
      'invoices.buyer_postal_code',
      'invoices.buyer_city',
      'invoices.buyer_country',
      'invoices.buyer_enterprise_number',
      'invoices.buyer_iban',
      'invoices.buyer_mandate',
      'invoices.buyer_vat_registered',
      'invoices.buyer_reference',
      'invoices.buyer_order_reference',
      'invoices.buyer_vat_number',
      'invoices.buyer_peppol_scheme',
      'invoices.buyer_peppol_id',
      'invoices.buyer_language',
    ])
    .where('invoices.invoice_id', '=', (eb) => eb.fn.any(eb.val([...invoiceIds])))
    .execute();
  const buyers = new Map<number, Partial<BuyerSnapshot>>();
  for (const row of rows) {
    const held = row.subject_id === null || row.erased_at !== null;
    if (held ? grant.subjectIds.size > 0 : !grant.subjectIds.has(row.subject_id ?? -1)) {
      throw new AppError('forbidden', 'grant does not cover this document', {
        publicMessage: 'not available under this purpose',
      });
    }
    const shown: Partial<BuyerSnapshot> = {};
    if (grant.categories.has(C.name)) shown.name = row.buyer_name;
    if (grant.categories.has(C.address)) {
      shown.street = row.buyer_street;
      shown.postalCode = row.buyer_postal_code;
      shown.city = row.buyer_city;
      shown.country = row.buyer_country;
    }
    if (grant.categories.has(C.payment)) {
      shown.enterpriseNumber = row.buyer_enterprise_number;
      shown.mandate = row.buyer_mandate;
      shown.vatRegistered = row.buyer_vat_registered;
      shown.reference = row.buyer_reference;
      shown.orderReference = row.buyer_order_reference;
      shown.vatNumber = row.buyer_vat_number;
      shown.peppolScheme = row.buyer_peppol_scheme;
      shown.peppolId = row.buyer_peppol_id;
      shown.language = row.buyer_language;
    }
    if (grant.categories.has(C.bankAccount)) shown.iban = row.buyer_iban;
    buyers.set(row.invoice_id, shown);
  }
  return buyers;
}

export async function selectInvoiceLines(tx: Tx, invoiceId: number): Promise<InvoiceLineRow[]> {
  return (await selectLinesOfInvoices(tx, [invoiceId])).get(invoiceId) ?? [];
}

/** The lines of several documents at once, per document in line order. */
export async function selectLinesOfInvoices(
  tx: Tx,
  invoiceIds: readonly number[],
): Promise<Map<number, InvoiceLineRow[]>> {
  const lines = new Map<number, InvoiceLineRow[]>();
  if (invoiceIds.length === 0) return lines;
  const rows = await tx
    .selectFrom('invoice_lines')
    .selectAll()
    .where('invoice_id', '=', (eb) => eb.fn.any(eb.val([...invoiceIds])))
    .orderBy('invoice_id')
    .orderBy('line_no')
    .execute();
  for (const row of rows) {
    const list = lines.get(row.invoice_id) ?? [];
    list.push({
      lineNo: row.line_no,
      kind: row.kind,
      description: row.description,
      productId: row.product_id,
      contractId: row.contract_id,
      destinationClass: row.destination_class,
      destinationGroup: row.destination_group,
      callsMonth: row.calls_month,
      callCount: row.call_count,
      callSeconds: row.call_seconds,
      quantity: row.quantity,
      unitPriceCents: row.unit_price_cents,
      amountCents: row.amount_cents,
      vatRateBp: row.vat_rate_bp,
      vatCategory: row.vat_category ?? categoryOfRate(row.vat_rate_bp),
      vatExemptionCode: row.vat_exemption_code,
      vatExemptionReason: row.vat_exemption_reason,
    });
    lines.set(row.invoice_id, list);
  }
  return lines;
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

/** Books a credit note on its invoice; a credit that settles it closes its hand-over for collection. */
export async function addCredited(tx: Tx, invoiceId: number, cents: number, at: Date): Promise<void> {
  await tx
    .updateTable('invoices')
    .set((eb) => ({ credited_cents: eb('credited_cents', '+', cents) }))
    .where('invoice_id', '=', invoiceId)
    .execute();
  await closeSettledCollection(tx, invoiceId, 'credited', at);
}

/** Books a payment on its invoice; a payment that settles it closes its hand-over for collection. */
export async function addPaid(tx: Tx, invoiceId: number, cents: number, at: Date): Promise<void> {
  await tx
    .updateTable('invoices')
    .set((eb) => ({ paid_cents: eb('paid_cents', '+', cents) }))
    .where('invoice_id', '=', invoiceId)
    .execute();
  await closeSettledCollection(tx, invoiceId, 'paid', at);
}

/**
 * Closes the open hand-over for collection of an invoice that has nothing left to pay (decision
 * 0465): the claim is settled, so it no longer holds the customer from erasure.
 */
async function closeSettledCollection(
  tx: Tx,
  invoiceId: number,
  because: 'paid' | 'credited',
  at: Date,
): Promise<void> {
  await tx
    .updateTable('invoice_collections')
    .set({ closed_at: at, closed_because: because })
    .where('invoice_id', '=', invoiceId)
    .where('closed_at', 'is', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('invoices')
          .select('invoices.invoice_id')
          .whereRef('invoices.invoice_id', '=', 'invoice_collections.invoice_id')
          .where(
            sql<boolean>`invoices.total_incl_vat_cents - invoices.credited_cents - invoices.paid_cents <= 0`,
          ),
      ),
    )
    .execute();
}

/**
 * Customers some of whose calls of the billing month starting on `periodStart` are billed: they
 * have the month's invoice, or another invoice billed calls of it as late calls (decision 0532).
 * Their calls of the month keep their billed price (a re-rate leaves them alone, decision 0540);
 * the month's own run bills them only what is left. `subjectIds` limits the answer to those
 * customers (a run's batch). Subject ids only.
 */
export async function selectBilledSubjectsOfMonth(
  tx: Tx,
  periodStart: string,
  subjectIds?: readonly number[],
): Promise<Set<number>> {
  if (subjectIds && subjectIds.length === 0) return new Set();
  const only = (column: string) =>
    subjectIds ? sql`and ${sql.ref(column)} = any(${[...subjectIds]}::bigint[])` : sql``;
  const result = await sql<{ subject_id: number }>`
    select subject_id from invoices
     where kind = 'invoice' and period_start = ${periodStart}::date and subject_id is not null
           ${only('subject_id')}
    union
    select i.subject_id
      from invoice_call_months c
      join invoices i on i.tenant_id = c.tenant_id and i.invoice_id = c.invoice_id
     where c.calls_month = ${periodStart}::date and c.calls > 0 and i.kind = 'invoice'
       and i.subject_id is not null ${only('i.subject_id')}`.execute(tx);
  return new Set(result.rows.map((row) => Number(row.subject_id)));
}
