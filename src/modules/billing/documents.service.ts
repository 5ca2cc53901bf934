import { AccessDenied, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { authorize, type BillingContext } from './access.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { defaultDocumentLanguage } from './document-texts.js';
import { callRowView, documentView, type ItemisedCalls } from './document-view.js';
import { renderInvoiceHtmlChunks } from './invoice.html.js';
import { PDF_CALL_LIST_CAP, renderInvoicePdf } from './invoice.pdf.js';
import {
  countItemisedCalls,
  selectCallWindow,
  selectItemisedCalls,
  type CallWindow,
  type ItemisedCallRow,
} from './invoice-run.repository.js';
import type { DocumentLanguage } from './billing.tables.js';
import type { Tx } from '../../platform/db.js';
import { selectErasedSubjects } from './invoice.repository.js';
import { getInvoice, type InvoiceDocument } from './invoice.service.js';
import { selectItemisedCallsPage, type CallListCursor } from '../telephony/index.js';
import { renderUbl } from './ubl.js';

/** The Peppol BIS Billing 3.0 UBL document of a business customer's invoice or credit note. */
export async function getInvoiceUbl(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
): Promise<string> {
  return renderUbl(await getInvoice(kernel, context, invoiceId));
}

/**
 * The printable invoice. When the contract asks for an itemised bill, the charged calls are
 * listed from the call records themselves (G-1): the invoice stores only the per-class summary,
 * so the list disappears with the records once the bill can no longer be contested. The calls are
 * read under the purpose the caller declares for them (`callsPurpose`, else the context's own):
 * never under one chosen on their behalf. A purpose or role that does not cover call records
 * gets the invoice without them, and the refusal is audited under the declared purpose.
 */
export async function getInvoiceHtml(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
  options: { callsPurpose?: string; pageSize?: number } = {},
): Promise<string> {
  let html = '';
  for await (const chunk of await streamInvoiceHtml(kernel, context, invoiceId, options)) html += chunk;
  return html;
}

/** Calls per page of the streamed HTML call list, each page read in its own short transaction. */
export const HTML_CALL_PAGE_SIZE = 2000;

/**
 * `getInvoiceHtml` as a stream (A14): the invoice, the gate's decision on the calls and their
 * first page are read before anything is sent, so a refusal or an unknown invoice is still an
 * ordinary error answer; the later pages are read one short transaction at a time while the page
 * is being sent, so a list of 160 000 calls neither sits whole in memory nor holds a pooled
 * connection while it is rendered and written to a slow client. The calls are read under the
 * grant given at the start (one audit entry for the list, as before).
 */
export async function streamInvoiceHtml(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
  options: { callsPurpose?: string; pageSize?: number } = {},
): Promise<AsyncIterable<string>> {
  const size = options.pageSize ?? HTML_CALL_PAGE_SIZE;
  const { document, callContext, language } = await documentOf(kernel, context, invoiceId, options);
  const list = await itemisedCallsOf(kernel, callContext, document, async (tx, grant, window, subjectId) => {
    const page = await selectItemisedCallsPage(tx, grant, window, subjectId, { size });
    return {
      calls: page.calls,
      ...(page.next ? { rest: { grant, window, subjectId, after: page.next } } : {}),
    };
  });
  const view = documentView(document, language, list?.itemised);
  const rest = list?.rest;
  if (!rest) return renderInvoiceHtmlChunks(view);
  async function* laterRows(): AsyncGenerator<Array<[string, string, string, string]>> {
    let after: CallListCursor | undefined = rest?.after;
    while (rest && after) {
      const cursor: CallListCursor = after;
      const page = await kernel.transact(context.tenantId, (atx) =>
        selectItemisedCallsPage(atx.tx, rest.grant, rest.window, rest.subjectId, { size, after: cursor }),
      );
      yield page.calls.map((call) => callRowView(call, language));
      after = page.next;
    }
  }
  return renderInvoiceHtmlChunks(view, laterRows());
}

/**
 * The same document as a PDF (A4, fonts embedded), with the EPC payment QR code on an invoice
 * paid by transfer (decision 0311). Read under the same gate decisions as the HTML. The call list
 * holds at most the first `callListCap` calls, read with a LIMIT; the PDF says how many more there
 * are and that the HTML has them all (decision 0312).
 */
export async function getInvoicePdf(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
  options: { callsPurpose?: string; callListCap?: number } = {},
): Promise<{ pdf: Buffer; invoiceNumber: string }> {
  const cap = options.callListCap ?? PDF_CALL_LIST_CAP;
  const { document, callContext, language } = await documentOf(kernel, context, invoiceId, options);
  const list = await itemisedCallsOf(kernel, callContext, document, async (tx, grant, window, subjectId) => {
    // Capped: only the listed calls are read (one more tells whether there are others to count).
    const calls = await selectItemisedCalls(tx, grant, window, subjectId, { limit: cap + 1 });
    if (calls.length <= cap) return { calls };
    return { calls: calls.slice(0, cap), total: await countItemisedCalls(tx, grant, window, subjectId) };
  });
  const view = documentView(document, language, list?.itemised);
  const author = document.seller.legalForm
    ? `${document.seller.legalName} ${document.seller.legalForm}`
    : document.seller.legalName;
  return {
    pdf: await renderInvoicePdf(view, { author, createdAt: document.createdAt }),
    invoiceNumber: document.invoiceNumber,
  };
}

/** The document, the context its calls are read under, and its own language (decision 0310): the one it was issued in, else the tenant's. */
async function documentOf(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
  options: { callsPurpose?: string | undefined },
): Promise<{ document: InvoiceDocument; callContext: BillingContext; language: DocumentLanguage }> {
  const document = await getInvoice(kernel, context, invoiceId);
  const callContext = { ...context, purpose: options.callsPurpose ?? context.purpose };
  const language =
    document.buyer.language ??
    defaultDocumentLanguage((await kernel.policies.current(context.tenantId)).policy);
  return { document, callContext, language };
}

/** How a document reads its calls once the gate allowed them: all, a capped list, or a first page. */
type CallRead<T> = (
  tx: Tx,
  grant: Grant,
  window: CallWindow,
  subjectId: number,
) => Promise<{ calls: ItemisedCallRow[]; total?: number; rest?: T }>;

async function itemisedCallsOf<T>(
  kernel: Kernel,
  context: BillingContext,
  document: InvoiceDocument,
  read: CallRead<T>,
): Promise<{ itemised: ItemisedCalls; rest?: T } | undefined> {
  const subjectId = document.subjectId;
  if (!document.itemisedCalls || document.kind !== 'invoice' || !document.periodStart || !document.periodEnd)
    return undefined;
  if (subjectId === null) return { itemised: { calls: null, unavailable: 'not_kept' } };
  const { periodStart, periodEnd } = document;
  try {
    return await kernel.transact(context.tenantId, async (atx) => {
      if ((await selectErasedSubjects(atx.tx, [subjectId])).size > 0) {
        return { itemised: { calls: null, unavailable: 'not_kept' } };
      }
      const grant = await authorize(kernel, atx, context, 'read', [C.callRecord], [subjectId]);
      const window = await selectCallWindow(atx.tx, periodStart, periodEnd);
      const { calls, total, rest } = await read(atx.tx, grant, window, subjectId);
      const charged = document.lines.some((line) => line.kind === 'calls');
      if (calls.length === 0 && charged) return { itemised: { calls: null, unavailable: 'past_contest' } };
      return {
        itemised: { calls, ...(total === undefined ? {} : { total }) },
        ...(rest === undefined ? {} : { rest }),
      };
    });
  } catch (error) {
    if (!(error instanceof AccessDenied)) throw error;
    return { itemised: { calls: null, unavailable: 'not_under_purpose' } };
  }
}
