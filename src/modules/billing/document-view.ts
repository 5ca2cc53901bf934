import { formatEnterpriseNumber } from '../../kernel/identifiers/enterprise-number.js';
import { formatIban } from '../../kernel/identifiers/iban.js';
import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import { microsToCents } from './amounts.js';
import type { DocumentLanguage } from './billing.tables.js';
import {
  DOCUMENT_TEXTS,
  exemptionText,
  formatDocumentDate,
  formatMoney,
  formatRate,
  type DocumentTexts,
} from './document-texts.js';
import { epcPayload } from './epc-qr.js';
import type { ItemisedCallRow } from './invoice-run.repository.js';
import type { InvoiceDocument } from './invoice.service.js';

export interface ItemisedCalls {
  /** The calls when the contract asks for an itemised bill and they are still kept (G-1). */
  calls: ItemisedCallRow[] | null;
  /** Why there is no list although one was asked for. */
  unavailable?: 'not_kept' | 'past_contest' | 'not_under_purpose';
  /** All the charged calls of the period when `calls` holds only the first of them (the PDF's cap, decision 0312). */
  total?: number;
}

/** How the customer settles the document, as both the HTML and the PDF say it. */
export type PaymentView =
  | { kind: 'credit_note'; text: string }
  | { kind: 'direct_debit'; text: string }
  | { kind: 'paid'; text: string }
  | {
      kind: 'transfer';
      text: string;
      /** The payee's IBAN as printed in `text` (the PDF keeps it on one line). */
      account: string;
      structuredCommunication: string;
      /** The EPC069-12 QR text, or null when the transfer cannot be encoded (decision 0311). */
      qrPayload: string | null;
    };

/**
 * What a document for people shows, in its language, with every value already formatted: the HTML
 * and the PDF renderer lay it out and add nothing of their own, so the two cannot say different things.
 */
export interface DocumentView {
  language: DocumentLanguage;
  texts: DocumentTexts;
  title: string;
  seller: { name: string; lines: string[] };
  buyerLines: string[];
  meta: Array<[string, string]>;
  lines: Array<{
    no: string;
    description: string;
    quantity: string;
    unitPrice: string;
    vat: string;
    amount: string;
  }>;
  totals: Array<{ label: string; value: string; strong?: boolean }>;
  payment: PaymentView;
  calls?:
    | {
        rows: Array<[string, string, string, string]>;
        /** When the list is capped (decision 0312): says how many calls are not listed and where they are. */
        notListed?: string;
      }
    | { unavailable: string };
}

const INSTANT = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Brussels',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** A call's start on the bills' clock (Brussels), as dd/mm/yyyy hh:mm:ss. */
function formatInstant(at: Date): string {
  return INSTANT.format(at).replace(',', '');
}

/** One call of the itemised list as both documents print it: start, destination, seconds, cost. */
export function callRowView(
  call: ItemisedCallRow,
  language: DocumentLanguage,
): [string, string, string, string] {
  return [
    formatInstant(call.startedAt),
    call.destination,
    String(call.billableSeconds),
    formatMoney(microsToCents(call.costMicros), language),
  ];
}

export function documentView(
  document: InvoiceDocument,
  language: DocumentLanguage,
  itemised?: ItemisedCalls,
): DocumentView {
  const t = DOCUMENT_TEXTS[language];
  const money = (cents: number) => formatMoney(cents, language);
  const { seller, buyer } = document;
  const isCredit = document.kind === 'credit_note';
  const meta: Array<[string, string]> = [[t.date, formatDocumentDate(document.issueDate)]];
  if (document.periodStart && document.periodEnd) {
    meta.push([
      t.period,
      `${formatDocumentDate(document.periodStart)} – ${formatDocumentDate(document.periodEnd)}`,
    ]);
  }
  if (!isCredit) meta.push([t.dueDate, formatDocumentDate(document.dueDate)]);
  const buyerVat = buyer.vatNumber
    ? buyer.vatNumber
    : buyer.enterpriseNumber && buyer.vatRegistered !== false
      ? formatEnterpriseNumber(buyer.enterpriseNumber)
      : null;
  const buyerLines = [
    buyer.name,
    buyer.street,
    [buyer.postalCode, buyer.city].filter(Boolean).join(' '),
    buyer.country && buyer.country !== seller.country ? buyer.country : null,
    buyerVat
      ? `${t.vatNumber} ${buyerVat}`
      : buyer.enterpriseNumber
        ? `${t.enterpriseNumber} ${formatEnterpriseNumber(buyer.enterpriseNumber)}`
        : null,
  ].filter((line): line is string => typeof line === 'string' && line !== '');
  const totals: DocumentView['totals'] = [
    { label: t.totalExclVat, value: money(document.totalExclVatCents) },
  ];
  for (const subtotal of document.subtotals) {
    const exemption = exemptionText(t, subtotal);
    totals.push({
      label:
        t.vatOn(formatRate(subtotal.rateBp, language), money(subtotal.taxableCents)) +
        (exemption ? ` (${exemption})` : ''),
      value: money(subtotal.vatCents),
    });
  }
  totals.push({ label: t.total, value: money(document.totalInclVatCents), strong: true });
  if (!isCredit && document.balanceCents > 0 && document.balanceCents !== document.totalInclVatCents) {
    if (document.creditedCents > 0) totals.push({ label: t.credited, value: money(document.creditedCents) });
    if (document.paidCents > 0) totals.push({ label: t.alreadyPaid, value: money(document.paidCents) });
    totals.push({ label: t.amountDue, value: money(document.balanceCents), strong: true });
  }
  const ogm = parseStructuredCommunication(document.structuredCommunication);
  let payment: PaymentView;
  if (isCredit) {
    payment = { kind: 'credit_note', text: t.creditNoteFor(document.creditedInvoiceNumber ?? '') };
  } else if (buyer.mandate) {
    // The customer does not pay by transfer: no payment instruction, no QR code (decision 0311).
    payment = {
      kind: 'direct_debit',
      text: t.directDebit(
        buyer.mandate,
        buyer.iban ? formatIban(buyer.iban) : null,
        formatDocumentDate(document.dueDate),
      ),
    };
  } else if (document.balanceCents <= 0) {
    payment = { kind: 'paid', text: t.nothingToPay };
  } else {
    let qrPayload: string | null = null;
    try {
      qrPayload = epcPayload({
        name: seller.legalForm ? `${seller.legalName} ${seller.legalForm}` : seller.legalName,
        iban: seller.payeeIban,
        bic: seller.payeeBic,
        amountCents: document.balanceCents,
        structuredCommunication: document.structuredCommunication,
      });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
    payment = {
      kind: 'transfer',
      text: t.payByTransfer(
        money(document.balanceCents),
        formatDocumentDate(document.dueDate),
        formatIban(seller.payeeIban) + (seller.payeeBic ? ` (BIC ${seller.payeeBic})` : ''),
      ),
      account: formatIban(seller.payeeIban),
      structuredCommunication: ogm.ok ? ogm.formatted : document.structuredCommunication,
      qrPayload,
    };
  }
  let calls: DocumentView['calls'];
  if (itemised) {
    calls =
      itemised.calls === null
        ? {
            unavailable:
              itemised.unavailable === 'past_contest'
                ? t.callsPastContest
                : itemised.unavailable === 'not_under_purpose'
                  ? t.callsNotUnderPurpose
                  : t.callsNotKept,
          }
        : {
            rows: itemised.calls.map((call) => callRowView(call, language)),
            ...(itemised.total !== undefined && itemised.total > itemised.calls.length
              ? { notListed: t.callsNotListed(itemised.total - itemised.calls.length, itemised.calls.length) }
              : {}),
          };
  }
  return {
    language,
    texts: t,
    title: `${isCredit ? t.creditNote : t.invoice} ${document.invoiceNumber}`,
    seller: {
      name: seller.legalForm ? `${seller.legalName} ${seller.legalForm}` : seller.legalName,
      lines: [
        seller.street,
        `${seller.postalCode} ${seller.city}`,
        `${t.vatNumber} ${formatEnterpriseNumber(seller.enterpriseNumber)}`,
        ...(seller.email ? [seller.email] : []),
      ],
    },
    buyerLines,
    meta,
    lines: document.lines.map((line) => ({
      no: String(line.lineNo),
      description: line.description,
      quantity: String(line.quantity),
      unitPrice: money(line.unitPriceCents),
      vat: `${formatRate(line.vatRateBp, language)} %`,
      amount: money(line.amountCents),
    })),
    totals,
    payment,
    ...(calls ? { calls } : {}),
  };
}
