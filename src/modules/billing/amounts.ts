import { createStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import { categoryOfRate, type VatCategory } from '../contracts/index.js';
import type { DestinationClass, InvoiceSeries } from './billing.tables.js';

/** A billing period: one calendar month, as `YYYY-MM`. */
export interface BillingPeriod {
  key: string;
  year: number;
  month: number;
  /** First and last day (inclusive), YYYY-MM-DD. */
  start: string;
  end: string;
  days: number;
}

export function parsePeriod(text: string): BillingPeriod | undefined {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const mm = String(month).padStart(2, '0');
  return { key: text, year, month, start: `${year}-${mm}-01`, end: `${year}-${mm}-${days}`, days };
}

/** Whole days from `from` to `to`, both YYYY-MM-DD, inclusive. */
export function daysInclusive(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

export { addDays } from '../../platform/calendar.js';

/**
 * VK-14 / VX-8: accounting documents are kept `years` from 1 January after the document date;
 * the hold ends on the returned day.
 */
export function holdUntil(issueDate: string, years: number): string {
  return `${Number(issueDate.slice(0, 4)) + 1 + years}-01-01`;
}

/** Half away from zero, in integers only: `numerator / denominator` rounded. */
export function divideRounded(numerator: number, denominator: number): number {
  const sign = Math.sign(numerator) * Math.sign(denominator);
  const n = Math.abs(numerator);
  const d = Math.abs(denominator);
  return sign * Math.floor((2 * n + d) / (2 * d));
}

/** VAT on a taxable amount; rates in basis points (2100 = 21 %). */
export function vatOf(baseCents: number, rateBp: number): number {
  return divideRounded(baseCents * rateBp, 10_000);
}

/** A subscription for part of the month costs the share of its days, rounded to the cent. */
export function prorate(monthlyCents: number, coveredDays: number, monthDays: number): number {
  return coveredDays >= monthDays ? monthlyCents : divideRounded(monthlyCents * coveredDays, monthDays);
}

/** Call costs are rated in micro-euros; the bill rounds each summary line once, to the cent. */
export function microsToCents(micros: number): number {
  return divideRounded(micros, 10_000);
}

export interface TaxSubtotal {
  rateBp: number;
  /** The VAT category (UNCL5305): S, Z, E, AE, K or G. */
  category: VatCategory;
  /** BT-121 / BT-120 of an exempt category (one per category on the document, EN 16931 BG-23). */
  exemptionCode: string | null;
  exemptionReason: string | null;
  taxableCents: number;
  vatCents: number;
}

export interface Totals {
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
  subtotals: TaxSubtotal[];
}

export interface TaxedAmount {
  amountCents: number;
  vatRateBp: number;
  /** Left out: as before categories existed (S above 0 %, Z at 0 %). */
  vatCategory?: VatCategory | undefined;
  vatExemptionCode?: string | null | undefined;
  vatExemptionReason?: string | null | undefined;
}

/**
 * VAT per category and rate over the sum of the lines of that group (EN 16931 BR-CO-17 and the
 * BR-x-08 rules), then the totals. An exempt category's reason is the one of its largest line
 * (a document has one reason per category; decision 0261).
 */
export function totalsOf(lines: ReadonlyArray<TaxedAmount>): Totals {
  const groups = new Map<string, { subtotal: TaxSubtotal; largest: number }>();
  for (const line of lines) {
    const category = line.vatCategory ?? categoryOfRate(line.vatRateBp);
    const key = `${category}:${line.vatRateBp}`;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, {
        largest: Math.abs(line.amountCents),
        subtotal: {
          rateBp: line.vatRateBp,
          category,
          exemptionCode: line.vatExemptionCode ?? null,
          exemptionReason: line.vatExemptionReason ?? null,
          taxableCents: line.amountCents,
          vatCents: 0,
        },
      });
      continue;
    }
    group.subtotal.taxableCents += line.amountCents;
    if (Math.abs(line.amountCents) > group.largest) {
      group.largest = Math.abs(line.amountCents);
      group.subtotal.exemptionCode = line.vatExemptionCode ?? null;
      group.subtotal.exemptionReason = line.vatExemptionReason ?? null;
    }
  }
  const subtotals = [...groups.values()]
    .map(({ subtotal }) => ({ ...subtotal, vatCents: vatOf(subtotal.taxableCents, subtotal.rateBp) }))
    .sort((a, b) => b.rateBp - a.rateBp || a.category.localeCompare(b.category));
  const totalExclVatCents = subtotals.reduce((sum, subtotal) => sum + subtotal.taxableCents, 0);
  const vatCents = subtotals.reduce((sum, subtotal) => sum + subtotal.vatCents, 0);
  return { totalExclVatCents, vatCents, totalInclVatCents: totalExclVatCents + vatCents, subtotals };
}

/**
 * The class a dialled destination is billed under: calls are summarised per class, not listed.
 * Telephony's builtInGroupOf is the same rule (the fallback when the tariff names no group);
 * billing.test.ts keeps both equal.
 */
export function destinationClassOf(destination: string): DestinationClass {
  if (/^\+32(70|78|80|90)/.test(destination)) return 'special';
  if (destination.startsWith('+324')) return 'be_mobile';
  if (destination.startsWith('+32')) return 'be_fixed';
  if (destination.startsWith('+')) return 'international';
  return 'special';
}

export const DESTINATION_CLASS_LABELS: Record<DestinationClass, string> = {
  be_fixed: 'Calls to Belgian fixed numbers',
  be_mobile: 'Calls to Belgian mobile numbers',
  international: 'International calls',
  special: 'Calls to service and special numbers',
};

const SERIES_DIGIT: Record<InvoiceSeries, string> = { F: '1', C: '2' };

/** The document number as printed: F2026-000042, C2026-000003. */
export function formatInvoiceNumber(series: InvoiceSeries, year: number, number: number): string {
  return `${series}${year}-${String(number).padStart(6, '0')}`;
}

/**
 * The structured communication of a document: two digits of the year, the series, the number on
 * seven digits, then the mod-97 check: unique per tenant for a century of numbering.
 */
export function structuredCommunicationOf(series: InvoiceSeries, year: number, number: number): string {
  const base = `${String(year % 100).padStart(2, '0')}${SERIES_DIGIT[series]}${String(number).padStart(7, '0')}`;
  return createStructuredCommunication(base).replace(/\D/g, '');
}

/** 1234 → "12.34" (UBL amounts: a dot, two decimals, no grouping). */
export function formatAmount(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** 123456 → "€ 1.234,56" (Belgian print form). */
export function formatEuro(cents: number): string {
  const [units = '0', decimals = '00'] = formatAmount(Math.abs(cents)).split('.');
  const grouped = units.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${cents < 0 ? '-' : ''}€ ${grouped},${decimals}`;
}

/** 2100 → "21" or 550 → "5.5" (UBL percent). */
export function formatPercent(rateBp: number): string {
  return String(rateBp / 100);
}

/**
 * The most one bank statement line may move, and the most an invoice's payments may add up to:
 * 1 000 000 000.00 € (decision 0405). A telecom customer's transfer is many orders of magnitude
 * smaller; a larger figure is a misread column or a forged file, and sums of such figures would
 * leave the range JSON numbers hold exactly.
 */
export const MAX_PAYMENT_CENTS = 100_000_000_000;
export const MAX_PAYMENT_TEXT = '1000000000.00 €';

/**
 * An invoice's paid sum as answered: an amount stored before decision 0405 beyond the cap (or
 * beyond what a JSON number holds exactly) is answered as the cap, so no stored figure breaks a
 * read; the invoice is overpaid either way.
 */
export function paidAsAnswered(storedCents: number): number {
  return Number.isSafeInteger(storedCents) && storedCents <= MAX_PAYMENT_CENTS
    ? storedCents
    : MAX_PAYMENT_CENTS;
}

/** Parses an amount in euros from a bank statement ("12.34", "12,34", "1.234,56") into cents. */
export function parseEuroAmount(text: string): number | undefined {
  const trimmed = text.trim().replace(/\s/g, '');
  let normalised: string;
  if (/^-?\d{1,3}(\.\d{3})+,\d{1,2}$/.test(trimmed))
    normalised = trimmed.replaceAll('.', '').replace(',', '.');
  else if (/^-?\d+,\d{1,2}$/.test(trimmed)) normalised = trimmed.replace(',', '.');
  else if (/^-?\d+(\.\d{1,2})?$/.test(trimmed)) normalised = trimmed;
  else return undefined;
  const negative = normalised.startsWith('-');
  const [units = '0', decimals = ''] = normalised.replace('-', '').split('.');
  const cents = Number(units) * 100 + Number(decimals.padEnd(2, '0'));
  if (!Number.isSafeInteger(cents)) return undefined;
  return negative ? -cents : cents;
}
