import { escapeHtml } from '../../platform/html.js';
import type { DocumentView } from './document-view.js';

export type { ItemisedCalls } from './document-view.js';

// Every value that reaches the page goes through here: names and addresses are user input.
const e = (value: string | null | undefined): string => escapeHtml(value ?? '');

type CallRowView = [string, string, string, string];

const callRowHtml = ([start, destination, seconds, cost]: CallRowView): string =>
  `<tr><td>${e(start)}</td><td>${e(destination)}</td><td class="n">${e(seconds)}</td><td class="n">${e(cost)}</td></tr>`;

/**
 * A printable HTML invoice or credit note (for people; businesses also get the UBL document), in
 * the document's language: the same view the PDF is drawn from (document-view.ts).
 */
export function renderInvoiceHtml(view: DocumentView): string {
  const { head, tail } = frameOf(view);
  const rows = view.calls && 'rows' in view.calls ? view.calls.rows.map(callRowHtml).join('\n') : '';
  return head + rows + tail;
}

/**
 * The same page in pieces: the part before the call list, the calls of the view, then the calls
 * of `laterRows` page by page as they are read, then the end (A14). Joined, the pieces are
 * exactly `renderInvoiceHtml` of a view holding every call.
 */
export async function* renderInvoiceHtmlChunks(
  view: DocumentView,
  laterRows?: AsyncIterable<readonly CallRowView[]>,
): AsyncGenerator<string> {
  const { head, tail } = frameOf(view);
  yield head;
  const listed = view.calls && 'rows' in view.calls ? view.calls.rows : undefined;
  let first = true;
  if (listed && listed.length > 0) {
    yield listed.map(callRowHtml).join('\n');
    first = false;
  }
  if (listed && laterRows) {
    for await (const rows of laterRows) {
      if (rows.length === 0) continue;
      yield (first ? '' : '\n') + rows.map(callRowHtml).join('\n');
      first = false;
    }
  }
  yield tail;
}

/** Everything before the call rows, and everything after them. */
function frameOf(view: DocumentView): { head: string; tail: string } {
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
  let callsHead = '';
  let callsTail = '';
  if (view.calls) {
    if ('unavailable' in view.calls) {
      callsHead = `<h2>${e(t.callDetails)}</h2><p>${e(view.calls.unavailable)}</p>`;
    } else {
      callsHead =
        `<h2>${e(t.callDetails)}</h2><table><tr><th>${e(t.callStart)}</th><th>${e(t.callDestination)}</th>` +
        `<th class="n">${e(t.callSeconds)}</th><th class="n">${e(t.callCost)}</th></tr>\n`;
      callsTail = '</table>';
    }
  }
  const head = `<!doctype html>
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
${callsHead}`;
  return { head, tail: `${callsTail}\n</body></html>\n` };
}
