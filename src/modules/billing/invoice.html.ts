import { escapeHtml } from '../../platform/html.js';
import { formatEnterpriseNumber } from '../../kernel/identifiers/enterprise-number.js';
import { formatIban } from '../../kernel/identifiers/iban.js';
import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import { formatEuro, microsToCents } from './amounts.js';
import type { ItemisedCallRow } from './invoice-run.repository.js';
import type { InvoiceDocument } from './invoice.service.js';

// Every value that reaches the page goes through here: names and addresses are user input.
const e = (value: string | null | undefined): string => escapeHtml(value ?? '');

export interface ItemisedCalls {
  /** The calls when the contract asks for an itemised bill and they are still kept (G-1). */
  calls: ItemisedCallRow[] | null;
  /** Why there is no list although one was asked for. */
  unavailableReason?: string;
}

/** A printable HTML invoice or credit note (for people; businesses also get the UBL document). */
export function renderInvoiceHtml(document: InvoiceDocument, itemised?: ItemisedCalls): string {
  const seller = document.seller;
  const buyer = document.buyer;
  const ogm = parseStructuredCommunication(document.structuredCommunication);
  const title = document.kind === 'credit_note' ? 'Credit note' : 'Invoice';
  const rows = document.lines
    .map(
      (line) =>
        `<tr><td>${line.lineNo}</td><td>${e(line.description)}</td><td class="n">${line.quantity}</td>` +
        `<td class="n">${e(formatEuro(line.unitPriceCents))}</td><td class="n">${line.vatRateBp / 100} %</td>` +
        `<td class="n">${e(formatEuro(line.amountCents))}</td></tr>`,
    )
    .join('\n');
  const vat = document.subtotals
    .map(
      (subtotal) =>
        `<tr><td>VAT ${subtotal.rateBp / 100} % on ${e(formatEuro(subtotal.taxableCents))}` +
        // An exempt category says why (a legal requirement on the invoice, VAT directive art. 226).
        `${(subtotal.exemptionReason ?? subtotal.exemptionCode) ? ` (${e(subtotal.exemptionReason ?? subtotal.exemptionCode ?? '')})` : ''}</td>` +
        `<td class="n">${e(formatEuro(subtotal.vatCents))}</td></tr>`,
    )
    .join('\n');
  const buyerLines = [
    buyer.name,
    buyer.street,
    [buyer.postalCode, buyer.city].filter(Boolean).join(' '),
    buyer.country,
    buyer.vatNumber
      ? `VAT ${buyer.vatNumber}`
      : buyer.enterpriseNumber
        ? `VAT ${formatEnterpriseNumber(buyer.enterpriseNumber)}`
        : null,
  ]
    .filter((line): line is string => typeof line === 'string' && line !== '')
    .map((line) => e(line))
    .join('<br>');
  const payment =
    document.kind === 'credit_note'
      ? `<p>Credit note for invoice ${e(document.creditedInvoiceNumber)}.</p>`
      : buyer.mandate && buyer.iban
        ? `<p>Collected by SEPA direct debit (mandate ${e(buyer.mandate)}) from ${e(formatIban(buyer.iban))} on or after ${e(document.dueDate)}.</p>`
        : `<p>Please pay ${e(formatEuro(document.totalInclVatCents))} by ${e(document.dueDate)} to ${e(formatIban(seller.payeeIban))}` +
          `${seller.payeeBic ? ` (BIC ${e(seller.payeeBic)})` : ''} with structured communication <strong>${e(ogm.ok ? ogm.formatted : document.structuredCommunication)}</strong>.</p>`;
  let itemisedSection = '';
  if (itemised) {
    itemisedSection =
      itemised.calls === null
        ? `<h2>Call details</h2><p>${e(itemised.unavailableReason ?? 'Not available.')}</p>`
        : `<h2>Call details</h2><table><tr><th>Start</th><th>Destination</th><th class="n">Seconds</th><th class="n">Cost</th></tr>\n` +
          itemised.calls
            .map(
              (call) =>
                `<tr><td>${e(call.startedAt.toISOString())}</td><td>${e(call.destination)}</td>` +
                `<td class="n">${call.billableSeconds}</td><td class="n">${e(formatEuro(microsToCents(call.costMicros)))}</td></tr>`,
            )
            .join('\n') +
          '</table>';
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} ${e(document.invoiceNumber)}</title>
<style>body{font-family:sans-serif;max-width:48em;margin:2em auto}table{width:100%;border-collapse:collapse}td,th{padding:.2em .4em;border-bottom:1px solid #ddd;text-align:left}.n{text-align:right}</style>
</head><body>
<header><strong>${e(seller.legalName)} ${e(seller.legalForm)}</strong><br>${e(seller.street)}<br>${e(seller.postalCode)} ${e(seller.city)}<br>VAT ${e(formatEnterpriseNumber(seller.enterpriseNumber))}</header>
<h1>${title} ${e(document.invoiceNumber)}</h1>
<p>Date ${e(document.issueDate)}${document.periodStart ? ` · period ${e(document.periodStart)} – ${e(document.periodEnd)}` : ''}</p>
<address>${buyerLines}</address>
<table><tr><th>#</th><th>Description</th><th class="n">Qty</th><th class="n">Unit price</th><th class="n">VAT</th><th class="n">Amount</th></tr>
${rows}
</table>
<table>
<tr><td>Total excluding VAT</td><td class="n">${e(formatEuro(document.totalExclVatCents))}</td></tr>
${vat}
<tr><td><strong>Total</strong></td><td class="n"><strong>${e(formatEuro(document.totalInclVatCents))}</strong></td></tr>
</table>
${payment}
${itemisedSection}
</body></html>
`;
}
