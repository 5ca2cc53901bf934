/**
 * Rating of calls against a tariff (VX-5): longest destination-prefix match among the rates
 * valid at the call's start, then minimum and increment, price per minute and connection fee.
 *
 * Money is integer micro-euros (1 € = 1,000,000 µ€), never floats. Wholesale prices have
 * more than two decimals (€0.0125/min) and per-second costs have more still; micro-euros
 * hold them exactly, and a call's cost is rounded once, half up, to the micro-euro. Invoices
 * sum micro-euros and round to cents per line.
 */
import { parse } from 'csv-parse/sync';
import type { CallDisposition } from './cdr.parse.js';
import { assertTimeZone, resolveWallClock } from './local-time.js';

export interface TariffRate {
  /** E.164 digits without the plus: "32", "324", "3247". */
  prefix: string;
  /** Micro-euros per minute. */
  pricePerMinute: number;
  minimumSeconds: number;
  incrementSeconds: number;
  /** Micro-euros charged once per answered call. */
  connectionFee: number;
  /** Inclusive. */
  validFrom: Date;
  /** Exclusive; null while the rate is current. */
  validTo: Date | null;
}

export type TariffCsvResult =
  { ok: true; rates: TariffRate[] } | { ok: false; errors: Array<{ line: number; message: string }> };

export interface ParseTariffCsvOptions {
  /** Zone in which validity dates start at midnight; default Europe/Brussels. */
  timeZone?: string;
}

export class TariffError extends Error {
  override readonly name = 'TariffError';
}

interface TrieNode {
  children: Array<TrieNode | undefined>;
  /** Rates for exactly this prefix, sorted by validFrom, never overlapping. */
  rates: TariffRate[];
}

/** The in-memory lookup structure: a digit trie over prefixes. Build once, rate millions. */
export interface RatingTable {
  readonly root: TrieNode;
  readonly size: number;
}

const MICROS_PER_EURO = 1_000_000;
const PREFIX = /^\d{1,15}$/;
const TARIFF_COLUMNS = [
  'prefix',
  'price_per_minute',
  'minimum_seconds',
  'increment_seconds',
  'connection_fee',
  'valid_from',
  'valid_to',
] as const;

/** Builds the lookup structure. Throws TariffError on an invalid rate or on two rates for one prefix with overlapping validity. */
export function buildRatingTable(rates: readonly TariffRate[]): RatingTable {
  const root = createNode();
  for (const rate of rates) {
    assertRate(rate);
    let node = root;
    for (const char of rate.prefix) {
      const digit = char.charCodeAt(0) - 48;
      node = node.children[digit] ??= createNode();
    }
    node.rates.push(rate);
  }
  sortAndCheckOverlaps(root, '');
  return { root, size: rates.length };
}

/**
 * The rate for a destination at an instant: the longest prefix that has a rate valid then.
 * A longer prefix whose rate has expired falls back to a shorter one, as a tariff reads.
 */
export function findRate(table: RatingTable, destinationE164: string, at: Date): TariffRate | null {
  const digits = destinationE164.startsWith('+') ? destinationE164.slice(1) : destinationE164;
  const time = at.getTime();
  let node: TrieNode | undefined = table.root;
  let best: TariffRate | null = null;
  for (let index = 0; index < digits.length && node !== undefined; index += 1) {
    const digit = digits.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return null;
    node = node.children[digit];
    if (node === undefined || node.rates.length === 0) continue;
    best = findValidRate(node.rates, time) ?? best;
  }
  return best;
}

/**
 * Cost of a call in micro-euros, or 'no_rate' when no prefix matches. A call with no
 * billable seconds costs nothing, rated or not: unanswered calls are free.
 */
export function rateCall(
  table: RatingTable,
  destinationE164: string,
  billableSeconds: number,
  at: Date,
): number | 'no_rate' {
  if (billableSeconds <= 0) return 0;
  const rate = findRate(table, destinationE164, at);
  if (rate === null) return 'no_rate';
  return computeCost(rate, billableSeconds);
}

/** Cost under one rate: connection fee + price per minute × charged seconds / 60, rounded half up. */
export function computeCost(rate: TariffRate, billableSeconds: number): number {
  if (billableSeconds <= 0) return 0;
  const charged = computeChargedSeconds(billableSeconds, rate.minimumSeconds, rate.incrementSeconds);
  return rate.connectionFee + Math.floor((rate.pricePerMinute * charged + 30) / 60);
}

/** max(minimum, billable rounded up to the increment): 30/6 charges 31 s as 36 s, 1 s as 30 s. */
export function computeChargedSeconds(
  billableSeconds: number,
  minimumSeconds: number,
  incrementSeconds: number,
): number {
  if (billableSeconds <= 0) return 0;
  const rounded = Math.ceil(billableSeconds / incrementSeconds) * incrementSeconds;
  return Math.max(minimumSeconds, rounded);
}

/**
 * Seconds a call record is charged for: only answered calls on a billable leg (see
 * cdr.parse.ts for why the inner half of an Asterisk Local/ channel is not).
 */
export function selectBillableSeconds(record: {
  disposition: CallDisposition;
  billableSeconds: number;
  isBillableLeg: boolean;
}): number {
  if (record.disposition !== 'answered' || !record.isBillableLeg) return 0;
  return record.billableSeconds;
}

/**
 * Reads a tariff CSV: a header naming the columns prefix, price_per_minute, minimum_seconds,
 * increment_seconds, connection_fee, valid_from, valid_to (any order); comma or semicolon
 * separated; prices in euros with a point or a comma ("0.0125", "0,0125"), at most six
 * decimals; dates YYYY-MM-DD (valid_from inclusive, valid_to exclusive or empty), at midnight
 * in the tenant's zone. Every error is reported with its line; nothing is returned then.
 */
export function parseTariffCsv(text: string, options: ParseTariffCsvOptions = {}): TariffCsvResult {
  const timeZone = options.timeZone ?? 'Europe/Brussels';
  assertTimeZone(timeZone);
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // csv-parse's typings do not model `info: true`, which wraps each record with its line.
    rows = parse(text, {
      delimiter,
      bom: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      info: true,
    }) as unknown as typeof rows;
  } catch (error) {
    const line =
      error instanceof Error && 'lines' in error && typeof error.lines === 'number' ? error.lines : 1;
    return { ok: false, errors: [{ line, message: 'the file is not valid CSV' }] };
  }
  const [header, ...body] = rows;
  if (header === undefined) return { ok: false, errors: [{ line: 1, message: 'the file is empty' }] };
  const columns = locateColumns(header.record);
  if (!columns.ok) return { ok: false, errors: [{ line: header.info.lines, message: columns.message }] };

  const errors: Array<{ line: number; message: string }> = [];
  const rates: TariffRate[] = [];
  const rateLines: number[] = [];
  for (const { record, info } of body) {
    const parsed = parseTariffRow(record, columns.indexes, timeZone, header.record.length);
    if (typeof parsed === 'string') {
      errors.push({ line: info.lines, message: parsed });
      continue;
    }
    rates.push(parsed);
    rateLines.push(info.lines);
  }
  if (errors.length === 0) {
    const overlap = describeOverlap(rates);
    if (overlap !== null)
      errors.push({ line: rateLines[overlap.lineIndex] ?? header.info.lines, message: overlap.message });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rates };
}

/** Parses "0.0125" or "0,0125" euros to micro-euros exactly; null when not a plain amount. */
export function parseEurosToMicros(text: string): number | null {
  const match = /^(\d+)(?:[.,](\d{1,6}))?$/.exec(text.trim());
  if (match === null) return null;
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(6, '0'));
  const micros = whole * MICROS_PER_EURO + fraction;
  return Number.isSafeInteger(micros) ? micros : null;
}

function createNode(): TrieNode {
  return { children: new Array<TrieNode | undefined>(10), rates: [] };
}

function findValidRate(rates: readonly TariffRate[], time: number): TariffRate | null {
  for (const rate of rates) {
    if (rate.validFrom.getTime() > time) return null;
    if (rate.validTo === null || rate.validTo.getTime() > time) return rate;
  }
  return null;
}

function assertRate(rate: TariffRate): void {
  if (!PREFIX.test(rate.prefix)) throw new TariffError(`prefix "${rate.prefix}" is not 1 to 15 digits`);
  if (!Number.isSafeInteger(rate.pricePerMinute) || rate.pricePerMinute < 0)
    throw new TariffError(
      `prefix ${rate.prefix}: the price per minute is not a whole, non-negative number of micro-euros`,
    );
  if (!Number.isSafeInteger(rate.connectionFee) || rate.connectionFee < 0)
    throw new TariffError(
      `prefix ${rate.prefix}: the connection fee is not a whole, non-negative number of micro-euros`,
    );
  if (!Number.isInteger(rate.incrementSeconds) || rate.incrementSeconds < 1)
    throw new TariffError(`prefix ${rate.prefix}: the increment must be at least 1 second`);
  if (!Number.isInteger(rate.minimumSeconds) || rate.minimumSeconds < 0)
    throw new TariffError(
      `prefix ${rate.prefix}: the minimum is not a whole, non-negative number of seconds`,
    );
  if (rate.validTo !== null && rate.validTo.getTime() <= rate.validFrom.getTime())
    throw new TariffError(`prefix ${rate.prefix}: valid_to is not after valid_from`);
}

function sortAndCheckOverlaps(node: TrieNode, prefix: string): void {
  node.rates.sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime());
  for (let index = 1; index < node.rates.length; index += 1) {
    const previous = node.rates[index - 1];
    const current = node.rates[index];
    if (previous === undefined || current === undefined) continue;
    if (previous.validTo === null || previous.validTo.getTime() > current.validFrom.getTime()) {
      throw new TariffError(`prefix ${prefix} has two rates with overlapping validity`);
    }
  }
  node.children.forEach((child, digit) => {
    if (child !== undefined) sortAndCheckOverlaps(child, prefix + String(digit));
  });
}

// Reported on the later of the two overlapping lines, where the fix usually belongs.
function describeOverlap(rates: readonly TariffRate[]): { lineIndex: number; message: string } | null {
  try {
    buildRatingTable(rates);
    return null;
  } catch (error) {
    const message = error instanceof TariffError ? error.message : 'the tariff is inconsistent';
    const prefix = /^prefix (\d+)/.exec(message)?.[1];
    const lineIndex = prefix === undefined ? -1 : rates.findLastIndex((rate) => rate.prefix === prefix);
    return { lineIndex, message };
  }
}

type ColumnIndexes = Record<(typeof TARIFF_COLUMNS)[number], number>;

function locateColumns(
  header: readonly string[],
): { ok: true; indexes: ColumnIndexes } | { ok: false; message: string } {
  const names = header.map((name) => name.trim().toLowerCase());
  const missing = TARIFF_COLUMNS.filter((column) => !names.includes(column));
  if (missing.length > 0)
    return { ok: false, message: `the header lacks the column(s) ${missing.join(', ')}` };
  const indexes = Object.fromEntries(
    TARIFF_COLUMNS.map((column) => [column, names.indexOf(column)]),
  ) as ColumnIndexes;
  return { ok: true, indexes };
}

function parseTariffRow(
  row: readonly string[],
  at: ColumnIndexes,
  timeZone: string,
  columnCount: number,
): TariffRate | string {
  if (row.length !== columnCount) return `the line has ${row.length} columns; the header has ${columnCount}`;
  const cell = (column: keyof ColumnIndexes): string => row[at[column]] ?? '';
  const prefix = cell('prefix').replace(/^\+/, '');
  if (!PREFIX.test(prefix)) return 'prefix is not 1 to 15 digits (E.164, country code first)';
  const pricePerMinute = parseEurosToMicros(cell('price_per_minute'));
  if (pricePerMinute === null) return 'price_per_minute is not an amount in euros with at most six decimals';
  const connectionFee = cell('connection_fee') === '' ? 0 : parseEurosToMicros(cell('connection_fee'));
  if (connectionFee === null) return 'connection_fee is not an amount in euros with at most six decimals';
  const minimumSeconds = parseWholeNumber(cell('minimum_seconds'));
  if (minimumSeconds === null) return 'minimum_seconds is not a whole number';
  const incrementSeconds = parseWholeNumber(cell('increment_seconds'));
  if (incrementSeconds === null || incrementSeconds < 1)
    return 'increment_seconds is not a whole number of at least 1';
  const validFrom = parseDateAtMidnight(cell('valid_from'), timeZone);
  if (validFrom === null) return 'valid_from is not a date YYYY-MM-DD';
  const validToText = cell('valid_to');
  const validTo = validToText === '' ? null : parseDateAtMidnight(validToText, timeZone);
  if (validToText !== '' && validTo === null) return 'valid_to is not a date YYYY-MM-DD (or empty)';
  if (validTo !== null && validTo.getTime() <= validFrom.getTime()) return 'valid_to is not after valid_from';
  return { prefix, pricePerMinute, minimumSeconds, incrementSeconds, connectionFee, validFrom, validTo };
}

function parseWholeNumber(text: string): number | null {
  return /^\d{1,9}$/.test(text) ? Number(text) : null;
}

function parseDateAtMidnight(text: string, timeZone: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return null;
  const wall = {
    year: Number(match[1]),
    month: Number(match[2]),
    day: Number(match[3]),
    hour: 0,
    minute: 0,
    second: 0,
  };
  const check = new Date(Date.UTC(wall.year, wall.month - 1, wall.day));
  if (check.getUTCMonth() !== wall.month - 1 || check.getUTCDate() !== wall.day) return null;
  const [instant] = resolveWallClock(wall, timeZone);
  return instant === undefined ? null : new Date(instant);
}
