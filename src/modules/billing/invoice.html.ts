import { escapeHtml } from '../../platform/html.js';
import type { DocumentView } from './document-view.js';

export type { ItemisedCalls } from './document-view.js';

// Every value that reaches the page goes through here: names and addresses are user input.
const e = (value: string | null | undefined): string => escapeHtml(value ?? '');

/**
 * A printable HTML invoice or credit note (for people; businesses also get the UBL document), in
 * the document's language: the same view the PDF is drawn from (document-view.ts).
 */
export function renderInvoiceHtml(view: DocumentView): string {
  const t = view.texts;
  const rows = view.lines
    .map(
      (line) =>
        `<tr><td>${e(line.no)}</td><td>${e(line.description)}</td><td class="n">${e(line.quantity)}</td>` +
        `<td class="n">${e(line.unitPrice)}</td><td class="n">${e(line.vat)}</td>` +
        `<td class="n">${e(line.amount)}</td></tr>`,
    )
    .join('\n');
  const totals = view.totals
    .map((total) =>
      total.strong
        ? `<tr><td><strong>${e(total.label)}</strong></td><td class="n"><strong>${e(total.value)}</strong></td></tr>`
        : `<tr><td>${e(total.label)}</td><td class="n">${e(total.value)}</td></tr>`,
    )
    .join('\n');
  const payment =
    view.payment.kind === 'transfer'
      ? `<p>${e(view.payment.text)} <strong>${e(view.payment.structuredCommunication)}</strong>.</p>`
      : `<p>${e(view.payment.text)}</p>`;
  let calls = '';
  if (view.calls) {
    calls =
      'unavailable' in view.calls
        ? `<h2>${e(t.callDetails)}</h2><p>${e(view.calls.unavailable)}</p>`
        : `<h2>${e(t.callDetails)}</h2><table><tr><th>${e(t.callStart)}</th><th>${e(t.callDestination)}</th>` +
          `<th class="n">${e(t.callSeconds)}</th><th class="n">${e(t.callCost)}</th></tr>\n` +
          view.calls.rows
            .map(
              ([start, destination, seconds, cost]) =>
                `<tr><td>${e(start)}</td><td>${e(destination)}</td><td class="n">${e(seconds)}</td><td class="n">${e(cost)}</td></tr>`,
            )
            .join('\n') +
          '</table>';
  }
  return `<!doctype html>
<html lang="${view.language}"><head><meta charset="utf-8"><title>${e(view.title)}</title>
<style>body{font-family:sans-serif;max-width:48em;margin:2em auto}table{width:100%;border-collapse:collapse}td,th{padding:.2em .4em;border-bottom:1px solid #ddd;text-align:left}.n{text-align:right}</style>
</head><body>
<header><strong>${e(view.seller.name)}</strong><br>${view.seller.lines.map(e).join('<br>')}</header>
<h1>${e(view.title)}</h1>
<p>${view.meta.map(([label, value]) => `${e(label)} ${e(value)}`).join(' · ')}</p>
<address>${view.buyerLines.map(e).join('<br>')}</address>
<table><tr><th>${e(t.line)}</th><th>${e(t.description)}</th><th class="n">${e(t.quantity)}</th><th class="n">${e(t.unitPrice)}</th><th class="n">${e(t.vat)}</th><th class="n">${e(t.amount)}</th></tr>
${rows}
</table>
<table>
${totals}
</table>
${payment}
${calls}
</body></html>
`;
}
