/**
 * Rating of calls against a tariff (VX-5): longest destination-prefix match among the rates
 * valid at the call's start, then minimum and increment, price per minute and connection fee.
 *
 * Money is integer micro-euros (1 € = 1,000,000 µ€), never floats. Wholesale prices have
 * more than two decimals (€0.0125/min) and per-second costs have more still; micro-euros
 * hold them exactly, and a call's cost is rounded once, half up, to the micro-euro. Invoices
 * sum micro-euros and round to cents per line.
 */
import { outsideAcceptedWindow } from '../../platform/date-window.js';
import { parse } from 'csv-parse/sync';
import type { CallDisposition } from './cdr.parse.js';
import { assertTimeZone, resolveWallClock } from './local-time.js';
import { detached } from './detached.js';

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
  /**
   * 'dialled': the prefix matches destinations stored as dialled digits (112, 1207, short codes
   * and national service numbers that are no E.164 number). Absent: an E.164 prefix.
   */
  scope?: 'dialled';
  /** The named destination group the prefix belongs to (invoice summary lines, bundles). */
  group?: DestinationGroup;
}

/** A named destination group of the tariff: `national_mobile` / "Calls to Belgian mobiles". */
export interface DestinationGroup {
  key: string;
  label: string;
}

export type TariffCsvResult =
  { ok: true; rates: TariffRate[] } | { ok: false; errors: Array<{ line: number; message: string }> };

export interface ParseTariffCsvOptions {
  /** Zone in which validity dates start at midnight; default Europe/Brussels. */
  timeZone?: string;
  /** When given, valid_from must lie in the accepted window for planned dates (decision 0282). */
  now?: Date;
}

export class TariffError extends Error {
  override readonly name = 'TariffError';
}

interface TrieNode {
  children: Array<TrieNode | undefined>;
  /** Rates for exactly this prefix, sorted by validFrom, never overlapping. */
  rates: TariffRate[];
  /** The group of the prefix's latest rate that names one. */
  group?: DestinationGroup;
}

/**
 * The in-memory lookup structure: one digit trie over E.164 prefixes, one over dialled
 * (non-E.164) prefixes. Build once, rate millions.
 */
export interface RatingTable {
  readonly root: TrieNode;
  readonly dialledRoot: TrieNode;
  readonly size: number;
  /** Every group of the tariff, by key, in the order they first appear. */
  readonly groups: ReadonlyMap<string, DestinationGroup>;
  /** Digits of the longest prefix that names a group (0 when none does). */
  readonly longestGroupPrefix: number;
  /**
   * Destination → the rate findRate gave last and the instants [from, to) in which it stays the
   * answer. A bounded memo: a switch repeats the same destinations, and one Map lookup replaces
   * a walk of up to 15 trie nodes and their validity dates (decision 0440).
   */
  readonly answers: Map<string, RateAnswer>;
}

interface RateAnswer {
  readonly from: number;
  readonly to: number;
  readonly rate: TariffRate | null;
}

/** Destinations whose answer findRate keeps; past it the memo starts again. */
const MAX_MEMO_ANSWERS = 200_000;

const MICROS_PER_EURO = 1_000_000;
const PREFIX = /^\d{1,15}$/;
/** Group keys: lower-case words (`national_fixed`, `international_zone_1`). */
export const GROUP_KEY = /^[a-z0-9][a-z0-9_]{0,39}$/;
/** Group labels are printed on invoices: one line, no markup characters. */
export const GROUP_LABEL = /^[^\x00-\x1f<>]{1,80}$/;
const OPTIONAL_COLUMNS = ['scope', 'group', 'group_label'] as const;
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
  const dialledRoot = createNode();
  const groups = new Map<string, DestinationGroup>();
  let longestGroupPrefix = 0;
  for (const rate of rates) {
    assertRate(rate);
    let node = rate.scope === 'dialled' ? dialledRoot : root;
    for (const char of rate.prefix) {
      const digit = char.charCodeAt(0) - 48;
      node = node.children[digit] ??= createNode();
    }
    node.rates.push(rate);
    if (rate.group) {
      const known = groups.get(rate.group.key);
      if (known && known.label !== rate.group.label)
        throw new TariffError(`prefix ${rate.prefix}: group ${rate.group.key} has two labels`);
      if (!known) groups.set(rate.group.key, rate.group);
      longestGroupPrefix = Math.max(longestGroupPrefix, rate.prefix.length);
    }
  }
  sortAndCheckOverlaps(root, '');
  sortAndCheckOverlaps(dialledRoot, '');
  return { root, dialledRoot, size: rates.length, groups, longestGroupPrefix, answers: new Map() };
}

/** The trie and digits a stored destination is looked up in: '+…' is E.164, else dialled digits. */
function lookupOf(table: RatingTable, destination: string): { root: TrieNode; digits: string } {
  return destination.startsWith('+')
    ? { root: table.root, digits: destination.slice(1) }
    : { root: table.dialledRoot, digits: destination };
}

/**
 * The named group of a destination: the group of the longest matching prefix that names one
 * (whatever its validity: a group is what a prefix is, not what it costs). Null when none does.
 */
export function findGroup(table: RatingTable, destination: string): DestinationGroup | null {
  const { root, digits } = lookupOf(table, destination);
  let node: TrieNode | undefined = root;
  let best: DestinationGroup | null = null;
  for (let index = 0; index < digits.length && node !== undefined; index += 1) {
    const digit = digits.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return null;
    node = node.children[digit];
    if (node?.group) best = node.group;
  }
  return best;
}

/**
 * The prefixes that name a group, as the heads of stored destinations they match ('+' and the
 * digits of an E.164 prefix, the digits of a dialled one), each with the group `findGroup` gives
 * at its node. A destination of digits only ('+' first for E.164) is in the group of the longest
 * of them it starts with, as `findGroup` walks the trie: the rule as data, for SQL (decision 0720).
 */
export function groupedHeads(table: RatingTable): Array<{ head: string; group: DestinationGroup }> {
  const heads: Array<{ head: string; group: DestinationGroup }> = [];
  const walk = (node: TrieNode, head: string): void => {
    if (node.group) heads.push({ head, group: node.group });
    node.children.forEach((child, digit) => {
      if (child !== undefined) walk(child, head + String(digit));
    });
  };
  walk(table.root, '+');
  walk(table.dialledRoot, '');
  return heads;
}

/**
 * The rate for a destination at an instant: the longest prefix that has a rate valid then.
 * A longer prefix whose rate has expired falls back to a shorter one, as a tariff reads.
 */
export function findRate(table: RatingTable, destination: string, at: Date): TariffRate | null {
  const time = at.getTime();
  const known = table.answers.get(destination);
  if (known !== undefined && time >= known.from && time < known.to) return known.rate;
  const answer = answerAt(table, destination, time);
  if (known === undefined && table.answers.size >= MAX_MEMO_ANSWERS) table.answers.clear();
  table.answers.set(known === undefined ? detached(destination) : destination, answer);
  return answer.rate;
}

/**
 * The longest prefix with a rate valid at `time`, and the instants around `time` in which that
 * stays so: within the answer's own validity, and outside every validity of a longer prefix.
 */
function answerAt(table: RatingTable, destination: string, time: number): RateAnswer {
  const { root, digits } = lookupOf(table, destination);
  const path: Array<readonly TariffRate[]> = [];
  let node: TrieNode | undefined = root;
  for (let index = 0; index < digits.length && node !== undefined; index += 1) {
    const digit = digits.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return { from: -Infinity, to: Infinity, rate: null };
    node = node.children[digit];
    if (node !== undefined && node.rates.length > 0) path.push(node.rates);
  }
  let from = -Infinity;
  let to = Infinity;
  for (let depth = path.length - 1; depth >= 0; depth -= 1) {
    for (const rate of path[depth] ?? []) {
      const start = rate.validFrom.getTime();
      const end = rate.validTo === null ? Infinity : rate.validTo.getTime();
      if (start <= time && time < end) return { from: Math.max(from, start), to: Math.min(to, end), rate };
      if (end <= time) from = Math.max(from, end);
      else to = Math.min(to, start);
    }
  }
  return { from, to, rate: null };
}

/**
 * Cost of a call in micro-euros, or 'no_rate' when no prefix matches. The destination is as
 * stored: E.164 with '+', or dialled digits (short codes) rated by the tariff's dialled prefixes.
 * A call with no billable seconds costs nothing, rated or not: unanswered calls are free.
 */
export function rateCall(
  table: RatingTable,
  destination: string,
  billableSeconds: number,
  at: Date,
): number | 'no_rate' {
  if (billableSeconds <= 0) return 0;
  const rate = findRate(table, destination, at);
  if (rate === null) return 'no_rate';
  return computeCost(rate, billableSeconds);
}

/** Cost under one rate: connection fee + price per minute × charged seconds / 60, rounded half up. */
export function computeCost(rate: TariffRate, billableSeconds: number): number {
  if (billableSeconds <= 0) return 0;
  const charged = computeChargedSeconds(billableSeconds, rate.minimumSeconds, rate.incrementSeconds);
  return rate.connectionFee + Math.floor((rate.pricePerMinute * charged + 30) / 60);
}

/**
 * Increments as a tariff reads them: `45/30` is a first block of 45 s, then 30-s steps counted
 * from the end of that block (46 s → 75 s, 76 s → 105 s); 30/6 charges 31 s as 36 s, 1 s as 30 s.
 * A first block of 0 (`0/60`) is plain rounding up to the step.
 */
export function computeChargedSeconds(
  billableSeconds: number,
  minimumSeconds: number,
  incrementSeconds: number,
): number {
  if (billableSeconds <= 0) return 0;
  if (billableSeconds <= minimumSeconds) return minimumSeconds;
  const beyond = billableSeconds - minimumSeconds;
  return minimumSeconds + Math.ceil(beyond / incrementSeconds) * incrementSeconds;
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
 * in the tenant's zone. Optional columns: `scope` (`e164`, the default, or `dialled`: the prefix
 * matches destinations kept as dialled digits, e.g. 112 or 1207), `group` (a destination group
 * key such as `national_mobile`) and `group_label` (how the invoice names the group; once per
 * group is enough). Every error is reported with its line; nothing is returned then.
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
    const parsed = parseTariffRow(record, columns.indexes, timeZone, header.record.length, options.now);
    if (typeof parsed === 'string') {
      errors.push({ line: info.lines, message: parsed });
      continue;
    }
    rates.push(parsed);
    rateLines.push(info.lines);
  }
  const labels = new Map<string, string>();
  for (const rate of rates) {
    if (rate.group && rate.group.label !== '' && !labels.has(rate.group.key))
      labels.set(rate.group.key, rate.group.label);
  }
  for (const rate of rates) {
    if (rate.group && rate.group.label === '')
      rate.group = { key: rate.group.key, label: labels.get(rate.group.key) ?? rate.group.key };
  }
  if (errors.length === 0) {
    const overlap = describeOverlap(rates);
    if (overlap !== null)
      errors.push({ line: rateLines[overlap.lineIndex] ?? header.info.lines, message: overlap.message });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rates };
}

/**
 * The highest price per minute, and connection fee, a tariff or plan may state: €1,000 (decision
 * 1001). Dearer than any call sold (satellite minutes cost tens of euros), and low enough that a
 * price times a call's seconds stays exact in micro-euros for calls of over 100 days.
 */
export const MAX_RATE_MICROS = 1_000 * 1_000_000;

/** A price in euros as a rate: micro-euros, or what is wrong with it (decision 1001). */
export function parseRateMicros(text: string, field: string): number | string {
  const micros = parseEurosToMicros(text);
  if (micros === null) return `${field} is not an amount in euros with at most six decimals`;
  if (micros > MAX_RATE_MICROS) return `${field} is more than 1000 euros`;
  return micros;
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
  if (rate.group && (!GROUP_KEY.test(rate.group.key) || !GROUP_LABEL.test(rate.group.label)))
    throw new TariffError(`prefix ${rate.prefix}: the group key or label is malformed`);
}

function sortAndCheckOverlaps(node: TrieNode, prefix: string): void {
  node.rates.sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime());
  const grouped = node.rates.findLast((rate) => rate.group !== undefined)?.group;
  if (grouped) node.group = grouped;
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

type ColumnIndexes = Record<(typeof TARIFF_COLUMNS)[number], number> &
  Partial<Record<(typeof OPTIONAL_COLUMNS)[number], number>>;

function locateColumns(
  header: readonly string[],
): { ok: true; indexes: ColumnIndexes } | { ok: false; message: string } {
  const names = header.map((name) => name.trim().toLowerCase());
  const missing = TARIFF_COLUMNS.filter((column) => !names.includes(column));
  if (missing.length > 0)
    return { ok: false, message: `the header lacks the column(s) ${missing.join(', ')}` };
  const indexes = Object.fromEntries(
    [...TARIFF_COLUMNS, ...OPTIONAL_COLUMNS]
      .filter((column) => names.includes(column))
      .map((column) => [column, names.indexOf(column)]),
  ) as ColumnIndexes;
  return { ok: true, indexes };
}

function parseTariffRow(
  row: readonly string[],
  at: ColumnIndexes,
  timeZone: string,
  columnCount: number,
  now: Date | undefined,
): TariffRate | string {
  if (row.length !== columnCount) return `the line has ${row.length} columns; the header has ${columnCount}`;
  const cell = (column: keyof ColumnIndexes): string => {
    const index = at[column];
    return index === undefined ? '' : (row[index] ?? '');
  };
  const scopeText = cell('scope').toLowerCase();
  if (scopeText !== '' && scopeText !== 'e164' && scopeText !== 'dialled')
    return 'scope is e164 (or empty) or dialled (short codes and service numbers as dialled)';
  const isDialled = scopeText === 'dialled';
  if (isDialled && cell('prefix').startsWith('+')) return 'a dialled prefix has no +';
  const groupKey = cell('group');
  const groupLabel = cell('group_label');
  if (groupKey !== '' && !GROUP_KEY.test(groupKey))
    return 'group is lower-case letters, digits and _ (at most 40), starting with a letter or digit';
  if (groupLabel !== '' && groupKey === '') return 'group_label without a group';
  if (groupLabel !== '' && !GROUP_LABEL.test(groupLabel))
    return 'group_label is one line of at most 80 characters without < or >';
  const prefix = cell('prefix').replace(/^\+/, '');
  if (!PREFIX.test(prefix)) return 'prefix is not 1 to 15 digits (E.164, country code first)';
  const pricePerMinute = parseRateMicros(cell('price_per_minute'), 'price_per_minute');
  if (typeof pricePerMinute === 'string') return pricePerMinute;
  const connectionFee =
    cell('connection_fee') === '' ? 0 : parseRateMicros(cell('connection_fee'), 'connection_fee');
  if (typeof connectionFee === 'string') return connectionFee;
  const minimumSeconds = parseWholeNumber(cell('minimum_seconds'));
  if (minimumSeconds === null) return 'minimum_seconds is not a whole number';
  const incrementSeconds = parseWholeNumber(cell('increment_seconds'));
  if (incrementSeconds === null || incrementSeconds < 1)
    return 'increment_seconds is not a whole number of at least 1';
  const validFrom = parseDateAtMidnight(cell('valid_from'), timeZone);
  if (validFrom === null) return 'valid_from is not a date YYYY-MM-DD';
  const outside = now === undefined ? undefined : outsideAcceptedWindow(cell('valid_from'), now, 'planned');
  if (outside !== undefined) return `valid_from: ${outside}`;
  const validToText = cell('valid_to');
  const validTo = validToText === '' ? null : parseDateAtMidnight(validToText, timeZone);
  if (validToText !== '' && validTo === null) return 'valid_to is not a date YYYY-MM-DD (or empty)';
  if (validTo !== null && validTo.getTime() <= validFrom.getTime()) return 'valid_to is not after valid_from';
  return {
    prefix,
    pricePerMinute,
    minimumSeconds,
    incrementSeconds,
    connectionFee,
    validFrom,
    validTo,
    ...(isDialled ? { scope: 'dialled' as const } : {}),
    // An empty label is filled in from another line of the group (parseTariffCsv).
    ...(groupKey !== '' ? { group: { key: groupKey, label: groupLabel } } : {}),
  };
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

/** Why a chargeable call has no cost (the unrated calls list, issue 20). */
export type UnratedReason =
  | 'no_tariff'
  | 'rate_added_since'
  | 'rate_not_valid_then'
  | 'no_rate_for_destination'
  | 'no_rate_for_dialled_digits';

/**
 * Says why `rateCall` found no rate for a call, against the tariff as it is now: none at all, one
 * imported since (a rerate prices the call), prefixes whose rates were not valid on the day, or no
 * prefix of the destination (an E.164 number, or digits as dialled).
 */
export function explainNoRate(table: RatingTable, destination: string, at: Date): UnratedReason {
  if (table.size === 0) return 'no_tariff';
  if (findRate(table, destination, at) !== null) return 'rate_added_since';
  const { root, digits } = lookupOf(table, destination);
  let node: TrieNode | undefined = root;
  for (let index = 0; index < digits.length && node !== undefined; index += 1) {
    const digit = digits.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) break;
    node = node.children[digit];
    if (node !== undefined && node.rates.length > 0) return 'rate_not_valid_then';
  }
  return destination.startsWith('+') ? 'no_rate_for_destination' : 'no_rate_for_dialled_digits';
}
