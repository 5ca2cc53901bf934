import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { idempotencyHeaderSchema, runIdempotently } from '../../http/idempotency.js';
import type { Kernel } from '../../kernel/kernel.js';
import { notFound } from './access.js';
import { INVOICE_STATUSES } from './billing.tables.js';
import { contractBillingOptionsSchema, setContractBillingOptions } from './contract-options.service.js';
import { getInvoicePdf, getInvoiceUbl, streamInvoiceHtml } from './documents.service.js';
import {
  addBankAccount,
  addBankAccountInputSchema,
  listBankAccounts,
  listCreditScores,
  recordCreditScore,
  recordCreditScoreInputSchema,
  type BankAccountRecord,
  type CreditScoreRecord,
} from './financial.service.js';
import { BILLING_ADDRESS_MISSING, runInvoices } from './invoice-run.service.js';
import {
  createCreditNote,
  creditNoteInputSchema,
  getInvoice,
  listInvoices,
  type InvoiceDocument,
  type InvoiceSummary,
} from './invoice.service.js';
import { importPayments } from './payment.service.js';
import { listUnmatchedPayments, matchPayment } from './payment-matching.service.js';
import { createDirectDebitCollection } from './sepa-direct-debit.service.js';
import { ID_CURSOR } from '../../http/pagination.js';
import { billingSettingsInputSchema, getBillingSettings, setBillingSettings } from './settings.service.js';
import { disputeInputSchema, disputeInvoice, settleDispute } from './dispute.service.js';
import { acceptCsvBodies } from '../../http/csv-body.js';
import { registerAccountingExportRoutes } from './accounting-export.routes.js';
import { registerDunningRoutes } from './dunning.routes.js';
import { purposeHeaders } from './request-context.js';
import { declaredContext } from '../../http/declared-context.js';
import { checkKnownPurpose } from '../../http/purpose.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const idParams = z.object({ id });
const isoDate = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'a date as YYYY-MM-DD');
const purposeKey = z.string().regex(/^[a-z][a-z0-9_]{1,60}$/, "a purpose key of the tenant's policy");

const idempotentHeaders = purposeHeaders.extend(idempotencyHeaderSchema);

// Presenters: the fields that may leave, one by one.
const buyerSchema = z.object({
  name: z.string().nullable().optional(),
  street: z.string().nullable().optional(),
  postalCode: z.string().nullable().optional(),
  city: z.string().nullable().optional(),
  country: z.string().nullable().optional(),
  enterpriseNumber: z.string().nullable().optional(),
  iban: z.string().nullable().optional(),
  mandate: z.string().nullable().optional(),
  vatRegistered: z.boolean().nullable().optional(),
  reference: z.string().nullable().optional(),
  orderReference: z.string().nullable().optional(),
  vatNumber: z.string().nullable().optional(),
  peppolScheme: z.string().nullable().optional(),
  peppolId: z.string().nullable().optional(),
  language: z
    .enum(['nl', 'fr', 'en'])
    .nullable()
    .optional()
    .describe('the language the document is written in'),
});
const vatCategorySchema = z.enum(['S', 'Z', 'E', 'AE', 'K', 'G']);
const invoiceSummarySchema = z.object({
  invoiceId: z.number().int(),
  kind: z.enum(['invoice', 'credit_note']),
  invoiceNumber: z.string(),
  subjectId: z.number().int().nullable(),
  organisationId: z.number().int().nullable(),
  creditedInvoiceId: z.number().int().nullable(),
  periodStart: z.string().nullable(),
  periodEnd: z.string().nullable(),
  issueDate: z.string(),
  dueDate: z.string(),
  holdUntil: z.string(),
  currency: z.string(),
  totalExclVatCents: z.number().int(),
  vatCents: z.number().int(),
  totalInclVatCents: z.number().int(),
  paidCents: z.number().int(),
  creditedCents: z.number().int(),
  balanceCents: z.number().int(),
  status: z.enum(['open', 'overdue', 'partially_paid', 'paid', 'overpaid', 'credited', 'credit_note']),
  structuredCommunication: z.string(),
  itemisedCalls: z.boolean(),
  creditReason: z.string().nullable(),
  buyer: buyerSchema,
});
const invoiceDocumentSchema = invoiceSummarySchema.extend({
  creditedInvoiceNumber: z.string().nullable(),
  lines: z.array(
    z.object({
      lineNo: z.number().int(),
      kind: z.enum(['subscription', 'calls', 'correction']),
      description: z.string(),
      destinationClass: z.string().nullable(),
      destinationGroup: z.string().nullable(),
      callsMonth: z.string().nullable(),
      callCount: z.number().int().nullable(),
      callSeconds: z.number().int().nullable(),
      quantity: z.number().int(),
      unitPriceCents: z.number().int(),
      amountCents: z.number().int(),
      vatRateBp: z.number().int(),
      vatCategory: vatCategorySchema,
      vatExemptionCode: z.string().nullable(),
      vatExemptionReason: z.string().nullable(),
    }),
  ),
  subtotals: z.array(
    z.object({
      rateBp: z.number().int(),
      category: vatCategorySchema,
      exemptionCode: z.string().nullable(),
      exemptionReason: z.string().nullable(),
      taxableCents: z.number().int(),
      vatCents: z.number().int(),
    }),
  ),
  payments: z.array(
    z.object({ bankReference: z.string(), valueDate: z.string(), amountCents: z.number().int() }),
  ),
});
const bankAccountSchema = z.object({
  bankAccountId: z.number().int(),
  subjectId: z.number().int(),
  iban: z.string().nullable(),
  directDebitMandate: z.string().nullable(),
  mandateSignedOn: z.string().nullable(),
});
const creditScoreSchema = z.object({
  creditScoreId: z.number().int(),
  subjectId: z.number().int(),
  score: z.number().int().nullable(),
  source: z.string(),
  observedOn: z.string(),
});
const runSummarySchema = z.object({
  period: z.string(),
  issueDate: z.string(),
  candidates: z.number().int(),
  invoiced: z.number().int(),
  empty: z.number().int(),
  alreadyInvoiced: z.number().int(),
  refused: z.number().int(),
  refusedCustomers: z
    .array(z.object({ subjectId: z.number().int(), code: z.string() }))
    .describe(
      'the first 100 customers not billed, with the code: the gate refused them (subject_restricted, category_not_kept_for_subject_type …), their name, address or mandate IBAN cannot be opened with this key store (field_unreadable), or there is no postal address to invoice them at: street, postal code, city and country, of the person or, for a business customer, of the organisation (billing_address_missing; record it and run the month again: they are billed then, once)',
    ),
  firstNumber: z.string().nullable(),
  lastNumber: z.string().nullable(),
  totalInclVatCents: z.number().int(),
  lateCalls: z
    .object({
      billed: z.number().int(),
      billedCustomers: z.number().int(),
      billedExclVatCents: z.number().int(),
      months: z.array(z.string()),
      waiting: z.number().int(),
      waitingCustomers: z.number().int(),
    })
    .describe('calls of earlier invoiced months that arrived after their invoice (G-1)'),
  importsInProgress: z
    .number()
    .int()
    .describe(
      'call-record imports still queued or running when the run started: the run billed the calls stored so far; the calls they store later are billed as late calls by the next run',
    ),
});
const paymentSummarySchema = z.object({
  lines: z.number().int(),
  imported: z.number().int(),
  duplicates: z.number().int(),
  matched: z.number().int(),
  unmatched: z.number().int(),
  outgoing: z.number().int(),
  overpaid: z.array(z.string()),
  partiallyPaid: z.array(z.string()),
});
const settingsSchema = z.object({
  payeeIban: z.string(),
  payeeBic: z.string().nullable(),
  paymentTermDays: z.number().int(),
  sepaCreditorId: z.string().nullable(),
  reminders: z.object({
    enabled: z.boolean(),
    firstReminderDays: z.number().int(),
    secondReminderDays: z.number().int(),
    formalNoticeDays: z.number().int(),
  }),
});

function presentSummary(invoice: InvoiceSummary): z.infer<typeof invoiceSummarySchema> {
  return {
    invoiceId: invoice.invoiceId,
    kind: invoice.kind,
    invoiceNumber: invoice.invoiceNumber,
    subjectId: invoice.subjectId,
    organisationId: invoice.organisationId,
    creditedInvoiceId: invoice.creditedInvoiceId,
    periodStart: invoice.periodStart,
    periodEnd: invoice.periodEnd,
    issueDate: invoice.issueDate,
    dueDate: invoice.dueDate,
    holdUntil: invoice.holdUntil,
    currency: invoice.currency,
    totalExclVatCents: invoice.totalExclVatCents,
    vatCents: invoice.vatCents,
    totalInclVatCents: invoice.totalInclVatCents,
    paidCents: invoice.paidCents,
    creditedCents: invoice.creditedCents,
    balanceCents: invoice.balanceCents,
    status: invoice.status,
    structuredCommunication: invoice.structuredCommunication,
    itemisedCalls: invoice.itemisedCalls,
    creditReason: invoice.creditReason,
    buyer: invoice.buyer,
  };
}

function presentDocument(invoice: InvoiceDocument): z.infer<typeof invoiceDocumentSchema> {
  return {
    ...presentSummary(invoice),
    creditedInvoiceNumber: invoice.creditedInvoiceNumber,
    lines: invoice.lines.map((line) => ({
      lineNo: line.lineNo,
      kind: line.kind,
      description: line.description,
      destinationClass: line.destinationClass,
      destinationGroup: line.destinationGroup,
      callsMonth: line.callsMonth,
      callCount: line.callCount,
      callSeconds: line.callSeconds,
      quantity: line.quantity,
      unitPriceCents: line.unitPriceCents,
      amountCents: line.amountCents,
      vatRateBp: line.vatRateBp,
      vatCategory: line.vatCategory,
      vatExemptionCode: line.vatExemptionCode,
      vatExemptionReason: line.vatExemptionReason,
    })),
    subtotals: invoice.subtotals,
    payments: invoice.payments.map((payment) => ({
      bankReference: payment.bankReference,
      valueDate: payment.valueDate,
      amountCents: payment.amountCents,
    })),
  };
}

const presentBankAccount = (account: BankAccountRecord) => ({
  bankAccountId: account.bankAccountId,
  subjectId: account.subjectId,
  iban: account.iban,
  directDebitMandate: account.directDebitMandate,
  mandateSignedOn: account.mandateSignedOn,
});
const presentCreditScore = (score: CreditScoreRecord) => ({
  creditScoreId: score.creditScoreId,
  subjectId: score.subjectId,
  score: score.score,
  source: score.source,
  observedOn: score.observedOn,
});

/** Invoices, credit notes, payments, bank accounts and credit scores (VX-3), under /api/v1/. */
export function registerBillingRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);
  acceptCsvBodies(app);
  registerAccountingExportRoutes(app, kernel);
  registerDunningRoutes(app, kernel);

  typed.get(
    '/api/v1/billing/settings',
    {
      onRequest,
      schema: {
        summary: "The provider's payee account and payment terms",
        tags: ['billing'],
        response: { 200: settingsSchema },
      },
    },
    async (request) => {
      const settings = await getBillingSettings(kernel, staffOf(request).tenantId);
      if (!settings) throw notFound('billing settings');
      return settings;
    },
  );
  typed.put(
    '/api/v1/billing/settings',
    {
      onRequest,
      schema: {
        summary: "Set the provider's payee account and payment terms (admin, billing)",
        tags: ['billing'],
        body: billingSettingsInputSchema,
        response: { 200: settingsSchema },
      },
    },
    async (request) =>
      setBillingSettings(kernel, staffOf(request).tenantId, actorOf(staffOf(request)), request.body),
  );
  typed.post(
    '/api/v1/invoice-runs',
    {
      onRequest,
      schema: {
        summary: 'Bill a month: one invoice per customer, numbered without gaps; a second run adds nothing',
        tags: ['billing'],
        headers: idempotentHeaders,
        body: z.object({
          period: z.string().regex(/^\d{4}-\d{2}$/, 'a month as YYYY-MM'),
          issueDate: z.iso.date().optional(),
          allowUnrated: z.boolean().default(false),
          callsPurpose: purposeKey
            .optional()
            .describe(
              'the purpose the call records are read under (e.g. call_billing); default: the declared one',
            ),
        }),
        response: { 200: runSummarySchema },
      },
    },
    async (request, reply) => {
      const context = declaredContext(request);
      if (request.body.callsPurpose)
        await checkKnownPurpose(
          kernel,
          request,
          context.tenantId,
          request.body.callsPurpose,
          'body/callsPurpose',
        );
      const { status, body } = await runIdempotently(kernel, request, reply, context.tenantId, {
        status: 200,
        run: async () => {
          const summary = await runInvoices(kernel, context, {
            period: request.body.period,
            allowUnrated: request.body.allowUnrated,
            ...(request.body.issueDate ? { issueDate: request.body.issueDate } : {}),
            ...(request.body.callsPurpose ? { callsPurpose: request.body.callsPurpose } : {}),
          });
          for (const { subjectId, code } of summary.refusedCustomers) {
            // Nothing personal, the customer's number only (decisions 1241, 1290).
            if (code === 'field_unreadable') {
              request.log.error(
                { code, tenantId: context.tenantId, subjectId },
                'a customer not invoiced: an encrypted field cannot be opened with this key store (data and key store of different backups?)',
              );
            } else if (code === BILLING_ADDRESS_MISSING) {
              // Billing's to mend, not the operator's: a warning, not an error (decision 1290).
              request.log.warn(
                { code, tenantId: context.tenantId, subjectId },
                'a customer not invoiced: no postal address to invoice them at; record it and run the month again',
              );
            }
          }
          return summary;
        },
      });
      return reply.status(status).send(body);
    },
  );
  typed.get(
    '/api/v1/invoices',
    {
      onRequest,
      schema: {
        summary: 'Invoices and credit notes; the buyer fields the purpose covers',
        tags: ['billing'],
        headers: purposeHeaders,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z
            .string()
            .regex(/^\d{1,15}$/)
            .optional(),
          subjectId: id.optional().describe('the customer (person)'),
          organisationId: id.optional().describe('the business customer'),
          period: z
            .string()
            .regex(/^\d{4}-\d{2}$/)
            .optional()
            .describe('the billed month'),
          issuedFrom: isoDate.optional().describe('issued on or after (YYYY-MM-DD)'),
          issuedTo: isoDate.optional().describe('issued on or before (YYYY-MM-DD)'),
          kind: z.enum(['invoice', 'credit_note']).optional(),
          status: z
            .enum([...INVOICE_STATUSES, 'disputed'])
            .optional()
            .describe('as of today (Belgian date); disputed: with an open dispute'),
        }),
        response: {
          200: z.object({
            items: z.array(invoiceSummarySchema),
            nextCursor: z.string().nullable(),
            withheld: z.number().int(),
          }),
        },
      },
    },
    async (request) => {
      const query = request.query;
      const page = await listInvoices(kernel, declaredContext(request), {
        limit: query.limit,
        ...(query.cursor ? { after: Number(query.cursor) } : {}),
        ...(query.subjectId ? { subjectId: query.subjectId } : {}),
        ...(query.organisationId ? { organisationId: query.organisationId } : {}),
        ...(query.period ? { period: query.period } : {}),
        ...(query.issuedFrom ? { issuedFrom: query.issuedFrom } : {}),
        ...(query.issuedTo ? { issuedTo: query.issuedTo } : {}),
        ...(query.kind ? { kind: query.kind } : {}),
        ...(query.status ? { status: query.status } : {}),
      });
      return { items: page.items.map(presentSummary), nextCursor: page.nextCursor, withheld: page.withheld };
    },
  );
  typed.get(
    '/api/v1/invoices/:id',
    {
      onRequest,
      schema: {
        summary: 'One invoice or credit note with lines, VAT, payments and status',
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        response: { 200: invoiceDocumentSchema },
      },
    },
    async (request) => presentDocument(await getInvoice(kernel, declaredContext(request), request.params.id)),
  );
  typed.get(
    '/api/v1/invoices/:id/ubl',
    {
      onRequest,
      schema: {
        summary: 'Peppol BIS Billing 3.0 (UBL 2.1) document of a business customer’s invoice or credit note',
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
      },
    },
    async (request, reply) => {
      const xml = await getInvoiceUbl(kernel, declaredContext(request), request.params.id);
      return reply.type('application/xml; charset=utf-8').send(xml);
    },
  );
  typed.get(
    '/api/v1/direct-debits/pain008',
    {
      onRequest,
      schema: {
        summary:
          'SEPA direct-debit collection file (pain.008.001.02, Core) of the direct-debit invoices due on or before the collection date; invoices left out are named in x-kluis-skipped-invoices',
        tags: ['billing'],
        headers: purposeHeaders,
        querystring: z.object({
          collectionDate: z
            .string()
            .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
            .describe('the requested collection date'),
        }),
      },
    },
    async (request, reply) => {
      const collection = await createDirectDebitCollection(
        kernel,
        declaredContext(request),
        request.query.collectionDate,
      );
      if (collection.skipped.length > 0) {
        reply.header(
          'x-kluis-skipped-invoices',
          collection.skipped.map((item) => `${item.invoiceNumber}: ${item.reason}`).join('; '),
        );
      }
      return reply
        .type('application/xml; charset=utf-8')
        .header('content-disposition', `attachment; filename="${collection.messageId}.xml"`)
        .send(collection.xml);
    },
  );
  typed.get(
    '/api/v1/invoices/:id/html',
    {
      onRequest,
      schema: {
        summary:
          'Printable HTML invoice; itemised calls when the contract asks for them and the purpose declared for ' +
          'them (callsPurpose, else the header) covers call records',
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        querystring: z.object({
          callsPurpose: purposeKey.optional().describe('the purpose the itemised calls are read under'),
        }),
      },
    },
    async (request, reply) => {
      const { callsPurpose } = request.query;
      const context = declaredContext(request);
      // Used or refused, never substituted: an unknown key is a 400, not an invoice without calls.
      if (callsPurpose)
        await checkKnownPurpose(kernel, request, context.tenantId, callsPurpose, 'query/callsPurpose');
      // Streamed (A14): the later pages of a long call list are read while the page is sent.
      const html = await streamInvoiceHtml(
        kernel,
        context,
        request.params.id,
        callsPurpose ? { callsPurpose } : {},
      );
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(Readable.from(html));
    },
  );
  typed.get(
    '/api/v1/invoices/:id/pdf',
    {
      onRequest,
      schema: {
        summary:
          'The invoice or credit note as a PDF in the customer’s language, with the structured communication ' +
          'and the EPC payment QR code on an invoice paid by transfer; itemised calls as for the HTML',
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        querystring: z.object({
          callsPurpose: purposeKey.optional().describe('the purpose the itemised calls are read under'),
        }),
      },
    },
    async (request, reply) => {
      const { callsPurpose } = request.query;
      const context = declaredContext(request);
      // Used or refused, never substituted: an unknown key is a 400, not an invoice without calls.
      if (callsPurpose)
        await checkKnownPurpose(kernel, request, context.tenantId, callsPurpose, 'query/callsPurpose');
      const { pdf, invoiceNumber } = await getInvoicePdf(
        kernel,
        context,
        request.params.id,
        callsPurpose ? { callsPurpose } : {},
      );
      return reply
        .type('application/pdf')
        .header(
          'content-disposition',
          `inline; filename="${invoiceNumber.replace(/[^A-Za-z0-9-]/g, '-')}.pdf"`,
        )
        .send(pdf);
    },
  );
  typed.post(
    '/api/v1/invoices/:id/credit-notes',
    {
      onRequest,
      schema: {
        summary: 'Credit an invoice, wholly or partly (a credit note in its own gapless series)',
        tags: ['billing'],
        headers: idempotentHeaders,
        params: idParams,
        body: creditNoteInputSchema,
        response: { 201: invoiceDocumentSchema },
      },
    },
    async (request, reply) => {
      const context = declaredContext(request);
      const { status, body } = await runIdempotently(kernel, request, reply, context.tenantId, {
        status: 201,
        run: async () =>
          presentDocument(await createCreditNote(kernel, context, request.params.id, request.body)),
        // Kept: the credit note's id only; a replay reads it again through the gate.
        remember: (note) => ({ invoiceId: note.invoiceId }),
        replay: async (kept) =>
          presentDocument(
            await getInvoice(kernel, context, z.object({ invoiceId: id }).parse(kept).invoiceId),
          ),
      });
      return reply.status(status).send(body);
    },
  );
  typed.post(
    '/api/v1/invoices/:id/dispute',
    {
      onRequest,
      schema: {
        summary:
          'Mark an invoice disputed: until settled, no reminders are sent, and retention keeps the invoice, its customer and the call records it bills. ' +
          'Under the purpose for billing, or the purpose for the books, which alone records it for a customer who restricted processing (decision 0950)',
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        body: disputeInputSchema,
        response: {
          201: z.object({
            disputeId: z.number(),
            invoiceId: z.number(),
            reason: z.string().nullable(),
            openedAt: z.string(),
            closedAt: z.string().nullable(),
          }),
        },
      },
    },
    async (request, reply) => {
      const dispute = await disputeInvoice(kernel, declaredContext(request), request.params.id, request.body);
      return reply.status(201).send({
        ...dispute,
        openedAt: dispute.openedAt.toISOString(),
        closedAt: dispute.closedAt?.toISOString() ?? null,
      });
    },
  );
  typed.delete(
    '/api/v1/invoices/:id/dispute',
    {
      onRequest,
      schema: {
        summary:
          'Settle the dispute on an invoice: reminders and retention treat it as usual again (under the same purposes as the dispute)',
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
      },
    },
    async (request, reply) => {
      await settleDispute(kernel, declaredContext(request), request.params.id);
      return reply.status(204).send();
    },
  );
  typed.post(
    '/api/v1/payments/import',
    {
      onRequest,
      bodyLimit: 10 * 1024 * 1024,
      schema: {
        summary:
          'Import a bank statement: CODA (text/plain) or CSV (date, amount, communication, reference; `,` or `;`); matched by structured communication, idempotent per bank reference',
        tags: ['billing'],
        headers: idempotentHeaders,
        consumes: ['text/csv', 'text/plain'],
        body: z.string().min(1),
        response: { 200: paymentSummarySchema },
      },
    },
    async (request, reply) => {
      const context = declaredContext(request);
      const { status, body } = await runIdempotently(kernel, request, reply, context.tenantId, {
        status: 200,
        run: () => importPayments(kernel, context, request.body),
      });
      return reply.status(status).send(body);
    },
  );
  typed.get(
    '/api/v1/payments/unmatched',
    {
      onRequest,
      schema: {
        summary: 'Payments the imports could not match to an invoice, oldest first, to match by hand',
        tags: ['billing'],
        headers: purposeHeaders,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: ID_CURSOR.optional(),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                paymentId: z.number().int(),
                bankReference: z.string(),
                valueDate: z.string(),
                amountCents: z.number().int(),
                structuredCommunication: z.string().nullable(),
                importedAt: z.string(),
              }),
            ),
            nextCursor: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const page = await listUnmatchedPayments(kernel, declaredContext(request), {
        limit: request.query.limit,
        ...(request.query.cursor ? { after: Number(request.query.cursor) } : {}),
      });
      return {
        items: page.items.map((item) => ({ ...item, importedAt: item.importedAt.toISOString() })),
        nextCursor: page.nextCursor,
      };
    },
  );
  typed.post(
    '/api/v1/payments/:id/match',
    {
      onRequest,
      schema: {
        summary: 'Match an unmatched payment to an invoice by hand; the invoice’s paid amount grows',
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        body: z.object({ invoiceId: id }).strict(),
        response: {
          200: z.object({
            paymentId: z.number().int(),
            invoiceId: z.number().int(),
            invoiceNumber: z.string(),
            amountCents: z.number().int(),
            status: z.enum(INVOICE_STATUSES),
            balanceCents: z.number().int(),
          }),
        },
      },
    },
    async (request) =>
      matchPayment(kernel, declaredContext(request), request.params.id, request.body.invoiceId),
  );
  typed.put(
    '/api/v1/contracts/:id/billing-options',
    {
      onRequest,
      schema: {
        summary:
          "A contract's billing options: an itemised bill, the buyer's purchase-order number (BT-13) and reference (BT-10); options left out keep their value",
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        body: contractBillingOptionsSchema,
        response: {
          200: z.object({
            contractId: z.number().int(),
            itemisedCalls: z.boolean(),
            purchaseOrderNumber: z.string().nullable(),
            buyerReference: z.string().nullable(),
          }),
        },
      },
    },
    async (request) =>
      setContractBillingOptions(kernel, declaredContext(request), request.params.id, request.body),
  );
  typed.post(
    '/api/v1/customers/:id/bank-accounts',
    {
      onRequest,
      schema: {
        summary: 'Add a bank account (IBAN validated, stored encrypted) to a customer',
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        body: addBankAccountInputSchema,
        response: { 201: bankAccountSchema },
      },
    },
    async (request, reply) => {
      const account = await addBankAccount(kernel, declaredContext(request), request.params.id, request.body);
      return reply.status(201).send(presentBankAccount(account));
    },
  );
  typed.get(
    '/api/v1/customers/:id/bank-accounts',
    {
      onRequest,
      schema: {
        summary: "A customer's bank accounts",
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        response: { 200: z.object({ items: z.array(bankAccountSchema) }) },
      },
    },
    async (request) => ({
      items: (await listBankAccounts(kernel, declaredContext(request), request.params.id)).map(
        presentBankAccount,
      ),
    }),
  );
  typed.post(
    '/api/v1/customers/:id/credit-scores',
    {
      onRequest,
      schema: {
        summary: 'Record an external credit score with its source (e.g. graydon) and date',
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        body: recordCreditScoreInputSchema,
        response: { 201: creditScoreSchema },
      },
    },
    async (request, reply) => {
      const score = await recordCreditScore(
        kernel,
        declaredContext(request),
        request.params.id,
        request.body,
      );
      return reply.status(201).send(presentCreditScore(score));
    },
  );
  typed.get(
    '/api/v1/customers/:id/credit-scores',
    {
      onRequest,
      schema: {
        summary: "A customer's external credit scores, each with its source",
        tags: ['billing'],
        headers: purposeHeaders,
        params: idParams,
        response: { 200: z.object({ items: z.array(creditScoreSchema) }) },
      },
    },
    async (request) => ({
      items: (await listCreditScores(kernel, declaredContext(request), request.params.id)).map(
        presentCreditScore,
      ),
    }),
  );
}
