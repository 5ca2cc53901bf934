import { AccessDenied } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { authorize, type BillingContext } from './access.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { defaultDocumentLanguage } from './document-texts.js';
import { documentView, type DocumentView, type ItemisedCalls } from './document-view.js';
import { renderInvoiceHtml } from './invoice.html.js';
import { PDF_CALL_LIST_CAP, renderInvoicePdf } from './invoice.pdf.js';
import { countItemisedCalls, selectCallWindow, selectItemisedCalls } from './invoice-run.repository.js';
import { selectErasedSubjects } from './invoice.repository.js';
import { getInvoice, type InvoiceDocument } from './invoice.service.js';
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
  options: { callsPurpose?: string } = {},
): Promise<string> {
  return renderInvoiceHtml((await viewAndDocumentOf(kernel, context, invoiceId, options)).view);
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
  const { view, document } = await viewAndDocumentOf(kernel, context, invoiceId, {
    callsPurpose: options.callsPurpose,
    callListCap: options.callListCap ?? PDF_CALL_LIST_CAP,
  });
  const author = document.seller.legalForm
    ? `${document.seller.legalName} ${document.seller.legalForm}`
    : document.seller.legalName;
  return {
    pdf: await renderInvoicePdf(view, { author, createdAt: document.createdAt }),
    invoiceNumber: document.invoiceNumber,
  };
}

/** The document in its own language (decision 0310): the one it was issued in, else the tenant's. */
async function viewAndDocumentOf(
  kernel: Kernel,
  context: BillingContext,
  invoiceId: number,
  options: { callsPurpose?: string | undefined; callListCap?: number },
): Promise<{ view: DocumentView; document: InvoiceDocument }> {
  const document = await getInvoice(kernel, context, invoiceId);
  const callContext = { ...context, purpose: options.callsPurpose ?? context.purpose };
  const language =
    document.buyer.language ??
    defaultDocumentLanguage((await kernel.policies.current(context.tenantId)).policy);
  const itemised = await itemisedCallsOf(kernel, callContext, document, options.callListCap);
  return { view: documentView(document, language, itemised), document };
}

async function itemisedCallsOf(
  kernel: Kernel,
  context: BillingContext,
  document: InvoiceDocument,
  cap?: number,
): Promise<ItemisedCalls | undefined> {
  const subjectId = document.subjectId;
  if (!document.itemisedCalls || document.kind !== 'invoice' || !document.periodStart || !document.periodEnd)
    return undefined;
  if (subjectId === null) return { calls: null, unavailable: 'not_kept' };
  const { periodStart, periodEnd } = document;
  try {
    return await kernel.transact(context.tenantId, async (atx) => {
      if ((await selectErasedSubjects(atx.tx, [subjectId])).size > 0) {
        return { calls: null, unavailable: 'not_kept' };
      }
      const grant = await authorize(kernel, atx, context, 'read', [C.callRecord], [subjectId]);
      const window = await selectCallWindow(atx.tx, periodStart, periodEnd);
      // Capped: only the listed calls are read (one more tells whether there are others to count).
      const calls = await selectItemisedCalls(
        atx.tx,
        grant,
        window,
        subjectId,
        cap === undefined ? {} : { limit: cap + 1 },
      );
      const charged = document.lines.some((line) => line.kind === 'calls');
      if (calls.length === 0 && charged) return { calls: null, unavailable: 'past_contest' };
      if (cap === undefined || calls.length <= cap) return { calls };
      const total = await countItemisedCalls(atx.tx, grant, window, subjectId);
      return { calls: calls.slice(0, cap), total };
    });
  } catch (error) {
    if (!(error instanceof AccessDenied)) throw error;
    return { calls: null, unavailable: 'not_under_purpose' };
  }
}
