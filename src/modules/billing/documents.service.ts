import { AccessDenied } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { authorize, type BillingContext } from './access.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { renderInvoiceHtml, type ItemisedCalls } from './invoice.html.js';
import { selectCallWindow, selectItemisedCalls } from './invoice-run.repository.js';
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
  const document = await getInvoice(kernel, context, invoiceId);
  const callContext = { ...context, purpose: options.callsPurpose ?? context.purpose };
  return renderInvoiceHtml(document, await itemisedCallsOf(kernel, callContext, document));
}

async function itemisedCallsOf(
  kernel: Kernel,
  context: BillingContext,
  document: InvoiceDocument,
): Promise<ItemisedCalls | undefined> {
  const subjectId = document.subjectId;
  if (!document.itemisedCalls || document.kind !== 'invoice' || !document.periodStart || !document.periodEnd)
    return undefined;
  if (subjectId === null) return { calls: null, unavailableReason: 'Call details are no longer kept.' };
  const { periodStart, periodEnd } = document;
  try {
    return await kernel.transact(context.tenantId, async (atx) => {
      if ((await selectErasedSubjects(atx.tx, [subjectId])).size > 0) {
        return { calls: null, unavailableReason: 'Call details are no longer kept.' };
      }
      const grant = await authorize(kernel, atx, context, 'read', [C.callRecord], [subjectId]);
      const window = await selectCallWindow(atx.tx, periodStart, periodEnd);
      const calls = await selectItemisedCalls(atx.tx, grant, window, subjectId);
      const charged = document.lines.some((line) => line.kind === 'calls');
      return calls.length === 0 && charged
        ? {
            calls: null,
            unavailableReason: 'Call details are no longer kept: the bill can no longer be contested (G-1).',
          }
        : { calls };
    });
  } catch (error) {
    if (!(error instanceof AccessDenied)) throw error;
    return {
      calls: null,
      unavailableReason: 'Call details are not available under this purpose.',
    };
  }
}
