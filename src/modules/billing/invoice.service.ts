import { z } from 'zod';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { AccessAction, AccessDenied, Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { holdSubjectsAgainstErasure } from '../../kernel/subjects/index.js';
import { AppError } from '../../platform/errors.js';
import {
  assertMoneyPurpose,
  authorize,
  authorizeBatch,
  conflict,
  coveredBy,
  invalid,
  isHoldPurpose,
  notFound,
  staffIdOf,
  type BillingContext,
} from './access.js';
import {
  addDays,
  formatInvoiceNumber,
  holdUntil,
  parsePeriod,
  structuredCommunicationOf,
  totalsOf,
  type TaxSubtotal,
} from './amounts.js';
import type { InvoiceKind } from './billing.tables.js';
import { DOCUMENT_TEXTS, defaultDocumentLanguage } from './document-texts.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { accountingYears, belgianDate } from './invoice-run.service.js';
import {
  advanceCounter,
  insertInvoices,
  lockCounter,
  assertIssueDateInOrder,
  type BuyerSnapshot,
  type NewInvoiceLine,
} from './invoice-run.repository.js';
import {
  addCredited,
  selectErasedSubjects,
  selectBuyers,
  selectInvoiceLines,
  selectInvoiceRef,
  selectInvoiceRefPage,
  selectPaymentsOf,
  type InvoiceLineRow,
  type InvoiceRef,
  type InvoiceRow,
  type PaymentRow,
} from './invoice.repository.js';

import type { InvoiceStatus } from './billing.tables.js';
import { assertNumberingNotHeld } from './numbering-hold.js';
export type { InvoiceStatus };

/** A document as shown: the buyer snapshot holds only what the purpose covers. */
export interface InvoiceDocument extends Omit<InvoiceRow, 'buyer'> {
  buyer: Partial<BuyerSnapshot>;
  status: InvoiceStatus;
  /** What is still to be paid; negative when the customer paid too much. */
  balanceCents: number;
  lines: InvoiceLineRow[];
  subtotals: TaxSubtotal[];
  payments: PaymentRow[];
  creditedInvoiceNumber: string | null;
}

export type InvoiceSummary = Omit<
  InvoiceDocument,
  'lines' | 'subtotals' | 'payments' | 'creditedInvoiceNumber'
>;

/** Derived from the amounts and today, never stored; statusCondition (repository) is the same rule in SQL. */
export function statusOf(
  row: Pick<InvoiceRow, 'kind' | 'totalInclVatCents' | 'creditedCents' | 'paidCents' | 'dueDate'>,
  today: string,
): { status: InvoiceStatus; balanceCents: number } {
  if (row.kind === 'credit_note') return { status: 'credit_note', balanceCents: 0 };
  const due = row.totalInclVatCents - row.creditedCents;
  const balanceCents = due - row.paidCents;
  if (due <= 0) return { status: row.paidCents > 0 ? 'overpaid' : 'credited', balanceCents };
  if (row.paidCents === 0) return { status: row.dueDate < today ? 'overdue' : 'open', balanceCents };
  if (balanceCents > 0) return { status: 'partially_paid', balanceCents };
  return { status: balanceCents === 0 ? 'paid' : 'overpaid', balanceCents };
}

function summarise(row: InvoiceRef, buyer: Partial<BuyerSnapshot>, today: string): InvoiceSummary {
  return { ...row, buyer, ...statusOf(row, today) };
}

export interface DocumentAccess {
  /** Invoice ids whose data may be shown. */
  allowed: Set<number>;
  /** The buyer snapshots of the allowed documents, as far as the grants cover them. */
  buyers: Map<number, Partial<BuyerSnapshot>>;
  categories: Set<string>;
  withheld: number;
  /** Why the gate refused a live customer's documents (restricted, objected …), per customer. */
  denials: Map<number, AccessDenied>;
}

/**
 * The gate for documents. A live customer's documents: one decision for their subjects under the
 * context's purpose (those refused are withheld). Documents of an erased customer (or unlinked
 * ones) are kept by the accounting hold: readable only under a purpose of that hold (a legal
 * obligation with the hold's retention, `accounting` in both seeds), audited without a subject.
 */
export async function authorizeDocuments(
  kernel: Kernel,
  atx: AuditedTx,
  context: BillingContext,
  policy: Policy,
  action: AccessAction,
  rows: readonly InvoiceRef[],
): Promise<DocumentAccess> {
  const wanted = [C.payment, ...coveredBy(policy, context.purpose, [C.name, C.address, C.bankAccount])];
  const linked = [...new Set(rows.flatMap((row) => (row.subjectId === null ? [] : [row.subjectId])))];
  const erased = await selectErasedSubjects(atx.tx, linked);
  const live = linked.filter((id) => !erased.has(id));
  const allowedSubjects = new Set<number>();
  let liveGrant: Grant | undefined;
  let denials = new Map<number, AccessDenied>();
  const held = rows.some((row) => row.subjectId === null || erased.has(row.subjectId));
  // The gate decides at least once: a page of held documents under a purpose that is not the
  // hold's still has the role and purpose checked (and a refusal audited), not a silent 200.
  if (live.length > 0 || !(held && isHoldPurpose(policy, context.purpose))) {
    const batch = await authorizeBatch(kernel, atx, context, action, wanted, live);
    liveGrant = batch.grant;
    denials = batch.denials;
    for (const id of live) if (!batch.refused.includes(id)) allowedSubjects.add(id);
  }
  const holdGrant =
    held && isHoldPurpose(policy, context.purpose)
      ? await authorize(kernel, atx, context, action, wanted, [])
      : undefined;
  const allowed = new Set<number>();
  const buyers = new Map<number, Partial<BuyerSnapshot>>();
  const liveIds: number[] = [];
  const heldIds: number[] = [];
  for (const row of rows) {
    const isHeld = row.subjectId === null || erased.has(row.subjectId);
    if (isHeld ? holdGrant !== undefined : allowedSubjects.has(row.subjectId ?? -1)) {
      allowed.add(row.invoiceId);
      (isHeld ? heldIds : liveIds).push(row.invoiceId);
    }
  }
  // Only now, with the gate's grants, are the buyer snapshots read.
  for (const [grant, ids] of [
    [liveGrant, liveIds],
    [holdGrant, heldIds],
  ] as const) {
    if (grant && ids.length > 0)
      for (const [id, buyer] of await selectBuyers(atx.tx, grant, ids)) buyers.set(id, buyer);
  }
  return {
    allowed,
    buyers,
    categories: new Set(wanted),
    withheld: rows.length - allowed.size,
    denials,
  };
}

async function loadDocument(
  kernel: Kernel,
  context: BillingContext,
  atx: AuditedTx,
  invoiceId: number,
  action: AccessAction,
): Promise<{ row: InvoiceRef; buyer: Partial<BuyerSnapshot>; document: InvoiceDocument }> {
  const { policy } = await kernel.policies.current(context.tenantId);
  // Authorise before reading: only the document's keys and amounts until the gate has decided.
  const row = await selectInvoiceRef(atx.tx, invoiceId, action === 'write');
  if (!row) throw notFound('invoice');
  // A new document for the customer (a credit note) holds them against erasure until it is
  // committed, as an invoice run's batch does (decisions 0584, 0622).
  if (action === 'write' && row.subjectId !== null) await holdSubjectsAgainstErasure(atx, [row.subjectId]);
  const access = await authorizeDocuments(kernel, atx, context, policy, action, [row]);
  if (!access.allowed.has(invoiceId)) {
    // A live customer's refusal says why (e.g. subject_restricted); only an erased one's is 410.
    const denial = row.subjectId === null ? undefined : access.denials.get(row.subjectId);
    if (denial) throw denial;
    throw new AppError('subject_erased', 'document of an erased customer outside the hold purpose', {
      publicMessage:
        'this document is kept under the accounting legal hold; read it under the accounting purpose',
    });
  }
  const today = belgianDate(kernel.clock.now());
  const lines = await selectInvoiceLines(atx.tx, invoiceId);
  const credited =
    row.creditedInvoiceId === null ? undefined : await selectInvoiceRef(atx.tx, row.creditedInvoiceId);
  const buyer = access.buyers.get(invoiceId) ?? {};
  return {
    row,
    buyer,
    document: {
      ...summarise(row, buyer, today),
      lines,
      subtotals: totalsOf(lines).subtotals,
      payments: await selectPaymentsOf(atx.tx, invoiceId),
      creditedInvoiceNumber: credited?.invoiceNumber ?? null,
    },
  };
}

/**
 * One invoice or credit note with its lines, tax subtotals, payments and status. Reads
 * kluis.billing.payment and the snapshot's name, address and bank account as far as the
 * context's purpose covers them.
 */
export async function getInvoice(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
): Promise<InvoiceDocument> {
  return kernel.transact(context.tenantId, async (atx) => {
    const { document } = await loadDocument(kernel, context, atx, invoiceId, 'read');
    return document;
  });
}

export interface InvoiceListQuery {
  limit: number;
  after?: number;
  subjectId?: number;
  organisationId?: number;
  period?: string;
  issuedFrom?: string;
  issuedTo?: string;
  kind?: InvoiceKind;
  /** A derived status, or `disputed`: documents with an open dispute (whatever their amounts say). */
  status?: InvoiceStatus | 'disputed';
}

export async function listInvoices(
  kernel: Kernel,
  context: BillingContext,
  query: InvoiceListQuery,
): Promise<{ items: InvoiceSummary[]; nextCursor: string | null; withheld: number }> {
  const period = query.period === undefined ? undefined : parsePeriod(query.period);
  if (query.period !== undefined && !period) throw invalid('period: expected a month as YYYY-MM');
  const { policy } = await kernel.policies.current(context.tenantId);
  const today = belgianDate(kernel.clock.now());
  return kernel.transact(context.tenantId, async (atx) => {
    const rows = await selectInvoiceRefPage(atx.tx, {
      afterId: query.after ?? 0,
      limit: query.limit + 1,
      ...(query.subjectId === undefined ? {} : { subjectId: query.subjectId }),
      ...(query.organisationId === undefined ? {} : { organisationId: query.organisationId }),
      ...(period ? { periodStart: period.start } : {}),
      ...(query.issuedFrom ? { issuedFrom: query.issuedFrom } : {}),
      ...(query.issuedTo ? { issuedTo: query.issuedTo } : {}),
      ...(query.kind ? { kind: query.kind } : {}),
      ...(query.status === 'disputed' ? { disputed: true } : {}),
      ...(query.status && query.status !== 'disputed' ? { status: query.status, today } : {}),
    });
    const page = rows.slice(0, query.limit);
    const access = await authorizeDocuments(kernel, atx, context, policy, 'read', page);
    const last = page.at(-1);
    return {
      items: page
        .filter((row) => access.allowed.has(row.invoiceId))
        .map((row) => summarise(row, access.buyers.get(row.invoiceId) ?? {}, today)),
      nextCursor: rows.length > query.limit && last ? String(last.invoiceId) : null,
      withheld: access.withheld,
    };
  });
}

/**
 * Why a credit note is made: one of the labelled reasons the back office offers
 * (web/src/screens/billing/InvoiceActions.tsx); the code is printed on the credit note, so it is
 * never free text (decision 0284).
 */
export const CREDIT_REASON_CODES = [
  'billing_error',
  'price_correction',
  'service_outage',
  'contract_ended',
  'goodwill',
] as const;
export type CreditReasonCode = (typeof CREDIT_REASON_CODES)[number];

export const creditNoteInputSchema = z.object({
  reasonCode: z.enum(CREDIT_REASON_CODES, { error: `one of ${CREDIT_REASON_CODES.join(', ')}` }),
  /** A partial credit, excluding VAT; the whole invoice when left out. */
  amountExclVatCents: z.number().int().min(1).max(1_000_000_000).optional(),
});

export type CreditNoteInput = z.input<typeof creditNoteInputSchema>;

/**
 * A credit note for an invoice (VX-3): the whole invoice (its lines again) or a partial amount at
 * the invoice's main VAT rate; numbered gaplessly in its own series (C), with the invoice's party
 * snapshot; the invoice's amount due drops by the credit note's total. Writes
 * kluis.billing.payment of the invoice's customer.
 */
export async function createCreditNote(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
  input: CreditNoteInput,
): Promise<InvoiceDocument> {
  const parsed = creditNoteInputSchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  const data = parsed.data;
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMoneyPurpose(policy, context.purpose, 'credit notes');
  const years = accountingYears(policy);
  const issueDate = belgianDate(kernel.clock.now());
  const year = Number(issueDate.slice(0, 4));
  // The credit note and the read of the answer in one transaction: a lost database leaves both or
  // neither, never a committed credit note answered 503 (decision 0725).
  return kernel.transact(context.tenantId, async (atx) => {
    // Before the document is read: a held numbering refuses with nothing read or written (1320).
    await assertNumberingNotHeld(atx.tx, context.tenantId);
    const { row, buyer, document } = await loadDocument(kernel, context, atx, invoiceId, 'write');
    if (row.kind !== 'invoice') throw conflict('only an invoice can be credited');
    const creditedExcl = await sumCreditedExcl(atx, invoiceId);
    const remaining = row.totalExclVatCents - creditedExcl;
    if (remaining <= 0) throw conflict('the invoice is already fully credited');
    let lines: NewInvoiceLine[];
    if (data.amountExclVatCents === undefined) {
      if (creditedExcl > 0) throw conflict('the invoice is partly credited already; give amountExclVatCents');
      lines = document.lines.map((line) => ({ ...line }));
    } else {
      if (data.amountExclVatCents > remaining) {
        throw invalid(`amountExclVatCents: at most ${remaining} remains to be credited on this invoice`);
      }
      // At the invoice's main VAT group: its rate, category and exemption reason.
      const main = [...document.subtotals].sort((a, b) => b.taxableCents - a.taxableCents)[0];
      const mainRate = main?.rateBp ?? 2100;
      lines = [
        {
          kind: 'correction',
          vatCategory: main?.category ?? 'S',
          vatExemptionCode: main?.exemptionCode ?? null,
          vatExemptionReason: main?.exemptionReason ?? null,
          // In the language of the document it corrects (decision 0310).
          description: DOCUMENT_TEXTS[buyer.language ?? defaultDocumentLanguage(policy)].correctionOf(
            row.invoiceNumber,
          ),
          productId: null,
          contractId: null,
          destinationClass: null,
          callCount: null,
          callSeconds: null,
          quantity: 1,
          unitPriceCents: data.amountExclVatCents,
          amountCents: data.amountExclVatCents,
          vatRateBp: mainRate,
        },
      ];
    }
    const totals = totalsOf(lines);
    const last = await lockCounter(atx.tx, context.tenantId, 'C', year);
    await assertIssueDateInOrder(atx.tx, context.tenantId, 'C', year, issueDate);
    const number = last + 1;
    const grant = await authorizeWrite(kernel, atx, context, policy, row);
    const [id] = await insertInvoices(atx.tx, grant, [
      {
        kind: 'credit_note',
        series: 'C',
        year,
        number,
        invoiceNumber: formatInvoiceNumber('C', year, number),
        subjectId: row.subjectId,
        organisationId: row.organisationId,
        creditedInvoiceId: row.invoiceId,
        periodStart: row.periodStart,
        periodEnd: row.periodEnd,
        issueDate,
        dueDate: addDays(issueDate, 0),
        holdUntil: holdUntil(issueDate, years),
        totalExclVatCents: totals.totalExclVatCents,
        vatCents: totals.vatCents,
        totalInclVatCents: totals.totalInclVatCents,
        structuredCommunication: structuredCommunicationOf('C', year, number),
        itemisedCalls: false,
        creditReason: data.reasonCode,
        buyer: { ...EMPTY_BUYER, ...buyer },
        seller: row.seller,
        createdByStaffId: staffIdOf(context.actor),
        createdAt: kernel.clock.now(),
        lines,
      },
    ]);
    await advanceCounter(atx.tx, 'C', year, 1);
    await addCredited(atx.tx, row.invoiceId, totals.totalInclVatCents, kernel.clock.now());
    if (id === undefined) throw new Error('credit note not inserted');
    return (await loadDocument(kernel, context, atx, id, 'read')).document;
  });
}

const EMPTY_BUYER: BuyerSnapshot = {
  name: null,
  street: null,
  postalCode: null,
  city: null,
  country: null,
  enterpriseNumber: null,
  iban: null,
  mandate: null,
  vatRegistered: null,
  reference: null,
  orderReference: null,
  vatNumber: null,
  peppolScheme: null,
  peppolId: null,
  language: null,
};

/** The grant a new document for `row`'s party is written under (live subject, or the hold). */
async function authorizeWrite(
  kernel: Kernel,
  atx: AuditedTx,
  context: BillingContext,
  policy: Policy,
  row: InvoiceRef,
) {
  const wanted = [C.payment, ...coveredBy(policy, context.purpose, [C.name, C.address, C.bankAccount])];
  const erased =
    row.subjectId === null ? true : (await selectErasedSubjects(atx.tx, [row.subjectId])).size > 0;
  if (!erased && row.subjectId !== null)
    return authorize(kernel, atx, context, 'write', wanted, [row.subjectId]);
  // The invoice stays readable under the hold, but the gate grants nothing for an erased subject.
  throw new AppError('subject_erased', 'credit notes for an erased customer are not supported yet', {
    publicMessage: 'this customer was erased; a credit note on a held invoice is not supported yet',
  });
}

async function sumCreditedExcl(atx: AuditedTx, invoiceId: number): Promise<number> {
  const row = await atx.tx
    .selectFrom('invoices')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('total_excl_vat_cents'), eb.lit(0)).as('sum'))
    .where('credited_invoice_id', '=', invoiceId)
    .executeTakeFirst();
  return Number(row?.sum ?? 0);
}
