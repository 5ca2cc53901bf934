/**
 * Streaming parser for the call-record files switches write (VX-5): Asterisk cdr_csv
 * Master.csv, FreeSWITCH mod_cdr_csv (default and "example" templates) and any CSV with a
 * column mapping. Pure: no database, no file system; a stream of bytes in, one result per
 * line out, in file order, in constant memory.
 *
 * Every line of the file ends up as exactly one `CallRecord` or one `Rejection` (header
 * lines of a mapped CSV excepted), so an importer can prove imported + rejected + skipped
 * = lines read. A file whose layout does not fit is refused with a `CdrLayoutError` before
 * the first result.
 *
 * Decisions:
 * - Encoding: each field is read as UTF-8 when it is valid UTF-8, else as Latin-1. Asterisk
 *   copies caller names byte for byte from the SIP peer, so one file can mix both; per-field
 *   decoding never fails, and numbers, timestamps and ids are ASCII either way. The CSV is
 *   split as Latin-1 (one char per byte, so a chunk boundary never cuts a character) and
 *   only fields we use that hold non-ASCII are re-read as UTF-8.
 * - Caller names (Asterisk clid, FreeSWITCH caller_id_name) are not carried: billing needs
 *   date, time, caller, destination and duration only (VX-5), so the name stays in the file.
 * - Time: timestamps without an offset are wall-clock time in `timeZone` (Europe/Brussels
 *   unless the switch is configured for UTC). In the repeated autumn hour the instants are
 *   chosen so that end − start best matches the duration the switch recorded.
 * - Legs: every leg is its own record, nothing is merged or dropped. `isBillableLeg` is false
 *   for the ";2" half of an Asterisk Local/ channel: that half is the dialplan talking to
 *   itself, and the real call is already charged on the leg whose channel is the caller's
 *   (it either bridges the outside leg itself or dials the Local/ channel). Rating charges
 *   billable legs that were answered with billsec > 0, so a forked call is charged once.
 * - Identity: `uniqueId` is only set where the switch's id names one record: Asterisk with
 *   21 columns (uniqueid + sequence; forked legs share the uniqueid) and FreeSWITCH (uuid).
 *   Elsewhere deduplication uses `recordHash`, which also covers the channel names so two
 *   forked legs with equal times are not mistaken for one.
 */
import { createHash } from 'node:crypto';
import { Readable, pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import type { CsvError, Info } from 'csv-parse';
import { CsvLineSplitter, type SplitLine } from './cdr.split.js';
import { assertTimeZone, parseTimestamp, resolveWallClock } from './local-time.js';

export type CdrFormat = 'asterisk' | 'freeswitch' | 'generic';

export type CallDisposition = 'answered' | 'no_answer' | 'busy' | 'failed' | 'congestion' | 'unknown';

export interface CallRecord {
  kind: 'record';
  /** First line of the record in the file, counting from 1. */
  lineNumber: number;
  uniqueId: string | null;
  /** Groups the legs of one call (Asterisk linkedid); null when the format has none. */
  linkedId: string | null;
  callerRaw: string;
  destinationRaw: string;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date;
  durationSeconds: number;
  billableSeconds: number;
  disposition: CallDisposition;
  isBillableLeg: boolean;
  /**
   * What the switch says about the line the call came from and went to, for attribution
   * (decision 0230): account code, source and destination channel (Asterisk), the dialplan
   * context. Empty when the format has no such column. Not part of the record hash.
   */
  accountCode: string;
  sourceChannel: string;
  destinationChannel: string;
  context: string;
  /** FreeSWITCH a-leg: the uuid of its b-leg (bleg_uuid); the import charges the pair once. */
  bLegId: string | null;
  /** The format names legs by uuid (FreeSWITCH, a mapped bLeg column): this record may be another's b-leg. */
  hasLegIds: boolean;
  /** sha256 (hex) of the canonical encoding of the normalised record; the dedup key when uniqueId is null. */
  recordHash: string;
}

export type RejectionReason =
  | 'empty_line'
  | 'malformed_csv'
  | 'wrong_column_count'
  | 'invalid_timestamp'
  | 'invalid_duration'
  | 'end_before_start'
  | 'answer_outside_call'
  | 'date_out_of_range'
  | 'value_out_of_range';

export interface Rejection {
  kind: 'rejection';
  lineNumber: number;
  reason: RejectionReason;
  /** Says what is wrong without quoting the line (it holds personal data). */
  message: string;
}

export type CdrParseResult = CallRecord | Rejection;

export type ColumnRef = string | number;

/** Generic CSV: column names (from the header line) or indexes counted from 0. */
export interface GenericColumnMapping {
  start: ColumnRef;
  caller: ColumnRef;
  destination: ColumnRef;
  answer?: ColumnRef;
  end?: ColumnRef;
  duration?: ColumnRef;
  billsec?: ColumnRef;
  disposition?: ColumnRef;
  uniqueId?: ColumnRef;
  accountCode?: ColumnRef;
  channel?: ColumnRef;
  destinationChannel?: ColumnRef;
  context?: ColumnRef;
  /** The b-leg's id on an a-leg (FreeSWITCH bleg_uuid). */
  bLeg?: ColumnRef;
}

export interface ParseCdrOptions {
  /** 'auto' (default) detects Asterisk and FreeSWITCH by column count and field shapes. */
  format?: CdrFormat | 'auto';
  /** IANA zone of timestamps without offset; default Europe/Brussels. 'UTC' for switches logging UTC. */
  timeZone?: string;
  /** Required for 'generic'. */
  mapping?: GenericColumnMapping;
  /** Generic only: whether line 1 is a header. Default: true when the mapping names any column. */
  hasHeader?: boolean;
  /** Field delimiter (',', ';' or a tab), default ','. `detectDelimiter` guesses it from the first line. */
  delimiter?: string;
  /**
   * Asterisk/FreeSWITCH only: split lines with the line splitter of cdr.split.ts instead of
   * csv-parse (several times faster; the bulk import uses it). Lines it cannot split cleanly
   * are handed to csv-parse one by one, so the results are the same (cdr.split.test.ts).
   */
  fastSplit?: boolean;
  /**
   * The instants a call may start and end in (decision 0282: from 2000-01-01 to a few days after
   * now); a call outside it is rejected as `date_out_of_range`. Without it any valid time passes.
   */
  window?: { notBefore: Date; notAfter: Date };
}

/** The file does not have the layout it claims or that could be detected; nothing was yielded. */
export class CdrLayoutError extends Error {
  override readonly name = 'CdrLayoutError';
}

type CdrInput = Readable | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** The fields every layout is reduced to before normalisation. */
interface RawCall {
  caller: string;
  destination: string;
  start: string;
  answer: string | null;
  end: string | null;
  duration: string | null;
  billsec: string | null;
  disposition: string | null;
  uniqueId: string | null;
  linkedId: string | null;
  isBillableLeg: boolean;
  /** Switch-side names of the leg (channels, b-leg uuid), hashed but not returned. */
  legIdentity: readonly string[];
  accountCode: string;
  sourceChannel: string;
  destinationChannel: string;
  context: string;
  bLegId: string | null;
  hasLegIds: boolean;
  /** FreeSWITCH writes the epoch for "never answered" in old versions. */
  isEpochUnanswered: boolean;
}

interface Layout {
  description: string;
  columnCount: number;
  extract(fields: readonly string[]): RawCall;
  /** Names of columns whose shape is checked on the first record, with their index. */
  shape: ReadonlyArray<{ name: string; index: number; kind: 'timestamp' | 'optional_timestamp' | 'integer' }>;
}

const DEFAULT_TIME_ZONE = 'Europe/Brussels';
/** 16 base columns, + uniqueid and/or userfield (loguniqueid, loguserfield), + peeraccount, linkedid, sequence (newcdrcolumns). */
const ASTERISK_COLUMN_COUNTS = [16, 17, 18, 19, 20, 21] as const;
const FREESWITCH_COLUMN_COUNTS = [13, 15] as const;
const INTEGER = /^\d+$/;
/** The largest value of a PostgreSQL `integer` column (call_records.duration_seconds, billable_seconds). */
export const MAX_DB_INTEGER = 2_147_483_647;
/** call_records_dedup_key_check (migration 0010): the key (the switch's id) is 1 to 200 characters. */
export const MAX_DEDUP_KEY_LENGTH = 200;

/** Characters as PostgreSQL's length() counts them (code points), read only past the limit in code units. */
function exceedsDedupKeyLength(key: string | null): boolean {
  return key !== null && key.length > MAX_DEDUP_KEY_LENGTH && [...key].length > MAX_DEDUP_KEY_LENGTH;
}
/** What a b-leg reference may look like (the column's CHECK); anything else is not a reference. */
const LEG_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Parses a call-record file. Yields one result per line, in order. Throws `CdrLayoutError`
 * from the first `next()` when the layout is wrong, and a RangeError for an unknown zone.
 * Call records are personal data of the caller (VX-5): the consumer must hold the billing purpose.
 */
export async function* parseCdrStream(
  input: CdrInput,
  options: ParseCdrOptions = {},
): AsyncGenerator<CdrParseResult> {
  const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
  assertTimeZone(timeZone);
  const format = options.format ?? 'auto';
  if (format === 'generic' && options.mapping === undefined)
    throw new CdrLayoutError('a generic CSV needs a column mapping');
  const hasHeader = format === 'generic' && (options.hasHeader ?? hasNamedColumn(options.mapping));
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || /["\r\n]/.test(delimiter))
    throw new CdrLayoutError('the delimiter must be one character other than a quote or a line break');
  if (options.fastSplit === true && format !== 'generic' && delimiter === ',') {
    for await (const results of parseSplitBatches(input, format, timeZone, options)) yield* results;
    return;
  }
  const window = options.window;

  const skipped: Array<{ endLine: number; code: string }> = [];
  const parser = parse({
    encoding: 'latin1',
    info: true,
    bom: true,
    delimiter,
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    // FreeSWITCH does not escape quotes inside names; without this one stray quote would
    // swallow the rest of the file. The damaged line then fails its column count instead.
    relax_quotes: true,
    ltrim: true,
    skip_empty_lines: false,
    skip_records_with_error: true,
    on_skip: (error: CsvError | undefined) => {
      // CsvError carries the line it stopped on as an untyped extra property.
      const endLine = typeof error?.lines === 'number' ? error.lines : 0;
      skipped.push({ endLine, code: error?.code ?? 'unknown' });
      return undefined;
    },
  });
  const source = toReadable(input);
  pipeline(source, parser, () => undefined);

  let layout: Layout | null = null;
  let isShapeCheckPending = hasHeader;
  const cursor = { lastLine: 0 };
  const held: Rejection[] = [];
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      held.push(...takeSkipped(skipped, item.info.lines, cursor));
      const line = cursor.lastLine + 1;
      cursor.lastLine = item.info.lines;
      if (isEmptyRecord(item.record)) {
        held.push(reject(line, 'empty_line', 'the line is empty'));
        continue;
      }
      if (layout === null) {
        layout = chooseLayout(item.record, line, format, options);
        if (hasHeader) continue;
      } else if (isShapeCheckPending) {
        assertFirstDataRecord(item.record, line, layout);
        isShapeCheckPending = false;
      }
      yield* drain(held);
      yield withinWindow(normaliseRecord(item.record, line, layout, timeZone), window);
    }
    held.push(...takeSkipped(skipped, Number.MAX_SAFE_INTEGER, cursor));
    if (layout === null) throw new CdrLayoutError(describeMissingLayout(held));
    yield* drain(held);
  } finally {
    parser.destroy();
    source.destroy();
  }
}

/**
 * The results of `parseCdrStream`, the same and in the same order, one iterable per chunk of the
 * file: the bulk import's loop waits once per chunk instead of once per line (decision 0440).
 * Each iterable is lazy (a record is parsed when it is reached, so it dies young) and must be
 * run to its end before the next one is asked for.
 */
export async function* parseCdrBatches(
  input: CdrInput,
  options: ParseCdrOptions = {},
): AsyncGenerator<Iterable<CdrParseResult>> {
  const format = options.format ?? 'auto';
  if (options.fastSplit === true && format !== 'generic' && (options.delimiter ?? ',') === ',') {
    const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
    assertTimeZone(timeZone);
    yield* parseSplitBatches(input, format, timeZone, options);
    return;
  }
  let batch: CdrParseResult[] = [];
  for await (const result of parseCdrStream(input, options)) {
    batch.push(result);
    if (batch.length >= GROUPED_RESULTS) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

const GROUPED_RESULTS = 256;

// The same loop over records as parseCdrStream's, fed by the fast line splitter.
async function* parseSplitBatches(
  input: CdrInput,
  format: CdrFormat | 'auto',
  timeZone: string,
  options: ParseCdrOptions,
): AsyncGenerator<Iterable<CdrParseResult>> {
  let layout: Layout | null = null;
  const held: Rejection[] = [];
  const splitter = new CsvLineSplitter();
  function* results(items: Iterable<SplitLine>): Generator<CdrParseResult> {
    for (const item of items) {
      if (item.fields === null) {
        held.push(reject(item.line, 'malformed_csv', `the line is not valid CSV (${item.error})`));
        continue;
      }
      if (isEmptyRecord(item.fields)) {
        held.push(reject(item.line, 'empty_line', 'the line is empty'));
        continue;
      }
      if (layout === null) layout = chooseLayout(item.fields, item.line, format, options);
      if (held.length > 0) yield* held.splice(0);
      yield withinWindow(normaliseRecord(item.fields, item.line, layout, timeZone), options.window);
    }
  }
  const source = toReadable(input);
  try {
    for await (const chunk of source as AsyncIterable<Buffer | string>) yield results(splitter.feed(chunk));
    yield results(splitter.end());
    if (layout === null) throw new CdrLayoutError(describeMissingLayout(held));
    if (held.length > 0) yield held.splice(0);
  } finally {
    source.destroy();
  }
}

function describeMissingLayout(held: readonly Rejection[]): string {
  const malformed = held.find((rejection) => rejection.reason === 'malformed_csv');
  if (malformed === undefined) return 'the file holds no call records';
  return `line ${malformed.lineNumber} is not valid CSV and no line before it is; the layout cannot be determined`;
}

// Errors csv-parse skipped are reported at the position they had in the file: every skip
// that ended before the current record comes first, starting right after the previous one.
function takeSkipped(
  skipped: Array<{ endLine: number; code: string }>,
  beforeLine: number,
  cursor: { lastLine: number },
): Rejection[] {
  const rejections: Rejection[] = [];
  while ((skipped[0]?.endLine ?? Number.MAX_SAFE_INTEGER) < beforeLine) {
    const skip = skipped.shift();
    if (skip === undefined) break;
    rejections.push(reject(cursor.lastLine + 1, 'malformed_csv', `the line is not valid CSV (${skip.code})`));
    cursor.lastLine = skip.endLine;
  }
  return rejections;
}

function* drain(held: Rejection[]): Generator<Rejection> {
  while (held.length > 0) {
    const next = held.shift();
    if (next !== undefined) yield next;
  }
}

function toReadable(input: CdrInput): Readable {
  if (input instanceof Readable) return input;
  return Readable.from(toBuffers(input), { objectMode: false });
}

async function* toBuffers(
  input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
): AsyncGenerator<Buffer> {
  for await (const chunk of input)
    yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
}

function isEmptyRecord(record: readonly string[]): boolean {
  return record.length === 1 && record[0] === '';
}

function hasNamedColumn(mapping: GenericColumnMapping | undefined): boolean {
  return mapping !== undefined && Object.values(mapping).some((ref) => typeof ref === 'string');
}

// ---------------------------------------------------------------------------------------
// Layout detection and validation, on the first record, before anything is yielded.

function chooseLayout(
  first: readonly string[],
  line: number,
  format: CdrFormat | 'auto',
  options: ParseCdrOptions,
): Layout {
  const count = first.length;
  if (format === 'generic') return buildGenericLayout(first, line, options);
  const asteriskOk = (ASTERISK_COLUMN_COUNTS as readonly number[]).includes(count);
  const freeswitchOk = (FREESWITCH_COLUMN_COUNTS as readonly number[]).includes(count);
  const delimiterHint =
    count < 13 && (options.delimiter ?? ',') === ','
      ? ' (is the file separated by semicolons or tabs? see --delimiter)'
      : '';
  if (format === 'asterisk' && !asteriskOk) {
    throw new CdrLayoutError(
      `line ${line} has ${count} columns; Asterisk Master.csv has 16 to 21${delimiterHint}`,
    );
  }
  if (format === 'freeswitch' && !freeswitchOk) {
    throw new CdrLayoutError(
      `line ${line} has ${count} columns; FreeSWITCH cdr_csv has 13 (default template) or 15 ("example" template)${delimiterHint}`,
    );
  }
  if (!asteriskOk && !freeswitchOk) {
    throw new CdrLayoutError(
      `line ${line} has ${count} columns; Asterisk Master.csv has 16 to 21 and FreeSWITCH cdr_csv 13 or 15; state the format or give a column mapping${delimiterHint}`,
    );
  }
  const layout = asteriskOk ? buildAsteriskLayout(count, first) : buildFreeswitchLayout(count);
  assertShape(first, line, layout);
  return layout;
}

function assertFirstDataRecord(fields: readonly string[], line: number, layout: Layout): void {
  if (fields.length !== layout.columnCount) {
    throw new CdrLayoutError(
      `line ${line} has ${fields.length} columns; the header has ${layout.columnCount}`,
    );
  }
  assertShape(fields, line, layout);
}

function assertShape(fields: readonly string[], line: number, layout: Layout): void {
  for (const column of layout.shape) {
    const value = decodeField(fields[column.index]);
    const problem = describeShapeProblem(value, column.kind);
    if (problem !== null) {
      throw new CdrLayoutError(
        `line ${line} column ${column.index + 1} (${column.name}) ${problem}; this is not ${layout.description}`,
      );
    }
  }
}

function describeShapeProblem(
  value: string,
  kind: 'timestamp' | 'optional_timestamp' | 'integer',
): string | null {
  if (kind === 'integer') return INTEGER.test(value) ? null : 'is not a whole number of seconds';
  if (kind === 'optional_timestamp' && value === '') return null;
  return parseTimestamp(value) === null ? 'is not a YYYY-MM-DD HH:MM:SS timestamp' : null;
}

/** An Asterisk unique id: epoch seconds and a counter, optionally after a system name ("pbx1-1706770800.1"). */
const ASTERISK_UNIQUE_ID = /^(?:[A-Za-z0-9._-]+-)?\d{9,}\.\d+$/;

// Which optional columns a Master.csv has follows from its count, except for 17 and 20, where
// the one column after amaflags is either the unique id or the user field: the first record's
// value decides (a unique id is never empty, and has its own shape).
function buildAsteriskLayout(columnCount: number, first: readonly string[]): Layout {
  const hasNewColumns = columnCount >= 19;
  const optional = columnCount - 16 - (hasNewColumns ? 3 : 0);
  const hasUniqueId =
    optional === 2 || (optional === 1 && ASTERISK_UNIQUE_ID.test(decodeField(first[16]).trim()));
  const uniqueIdAt = hasUniqueId ? 16 : -1;
  const linkedIdAt = hasNewColumns ? columnCount - 2 : -1;
  const sequenceAt = hasNewColumns ? columnCount - 1 : -1;
  const field = (fields: readonly string[], index: number): string =>
    index < 0 ? '' : decodeField(fields[index]);
  return {
    description: `an Asterisk Master.csv with ${columnCount} columns`,
    columnCount,
    shape: [
      { name: 'start', index: 9, kind: 'timestamp' },
      { name: 'answer', index: 10, kind: 'optional_timestamp' },
      { name: 'end', index: 11, kind: 'timestamp' },
      { name: 'duration', index: 12, kind: 'integer' },
      { name: 'billsec', index: 13, kind: 'integer' },
    ],
    extract(fields) {
      const channel = decodeField(fields[5]);
      const dstChannel = decodeField(fields[6]);
      const uniqueId = field(fields, uniqueIdAt);
      const sequence = field(fields, sequenceAt);
      const linkedId = field(fields, linkedIdAt);
      return {
        caller: decodeField(fields[1]),
        destination: decodeField(fields[2]),
        start: decodeField(fields[9]),
        answer: decodeField(fields[10]),
        end: decodeField(fields[11]),
        duration: decodeField(fields[12]),
        billsec: decodeField(fields[13]),
        disposition: decodeField(fields[14]),
        uniqueId: hasNewColumns && uniqueId !== '' ? `${uniqueId}#${sequence}` : null,
        linkedId: linkedId === '' ? null : linkedId,
        isBillableLeg: !channel.startsWith('Local/'),
        legIdentity: [channel, dstChannel, uniqueId, sequence],
        isEpochUnanswered: false,
        accountCode: decodeField(fields[0]).trim(),
        sourceChannel: channel.trim(),
        destinationChannel: dstChannel.trim(),
        context: decodeField(fields[3]).trim(),
        bLegId: null,
        hasLegIds: false,
      };
    },
  };
}

function buildFreeswitchLayout(columnCount: number): Layout {
  return {
    description: `a FreeSWITCH cdr_csv file with ${columnCount} columns`,
    columnCount,
    shape: [
      { name: 'start_stamp', index: 4, kind: 'timestamp' },
      { name: 'answer_stamp', index: 5, kind: 'optional_timestamp' },
      { name: 'end_stamp', index: 6, kind: 'timestamp' },
      { name: 'duration', index: 7, kind: 'integer' },
      { name: 'billsec', index: 8, kind: 'integer' },
    ],
    extract(fields) {
      const uuid = decodeField(fields[10]);
      const named = decodeField(fields[11]).trim();
      const bLeg = LEG_ID.test(named) ? named : '';
      const answer = decodeField(fields[5]);
      return {
        caller: decodeField(fields[1]),
        destination: decodeField(fields[2]),
        start: decodeField(fields[4]),
        answer,
        end: decodeField(fields[6]),
        duration: decodeField(fields[7]),
        billsec: decodeField(fields[8]),
        disposition: decodeField(fields[9]),
        uniqueId: uuid === '' ? null : uuid,
        // The legs of one bridged call share the a-leg's uuid; the b-leg learns it at import.
        linkedId: bLeg === '' || uuid === '' ? null : uuid,
        isBillableLeg: true,
        legIdentity: [uuid, decodeField(fields[11])],
        isEpochUnanswered: answer.startsWith('1970-01-01') || answer.startsWith('1969-12-31'),
        accountCode: decodeField(fields[12]).trim(),
        sourceChannel: '',
        destinationChannel: '',
        context: decodeField(fields[3]).trim(),
        bLegId: bLeg === '' || uuid === '' ? null : bLeg,
        hasLegIds: uuid !== '',
      };
    },
  };
}

function buildGenericLayout(first: readonly string[], line: number, options: ParseCdrOptions): Layout {
  const mapping = options.mapping;
  if (mapping === undefined) throw new CdrLayoutError('a generic CSV needs a column mapping');
  const hasHeader = options.hasHeader ?? hasNamedColumn(mapping);
  const header = hasHeader ? first.map((field) => decodeField(field).trim()) : null;
  const columnCount = first.length;
  const resolve = (name: keyof GenericColumnMapping): number | null => {
    const ref = mapping[name];
    if (ref === undefined) return null;
    if (typeof ref === 'number') {
      if (!Number.isInteger(ref) || ref < 0 || ref >= columnCount) {
        throw new CdrLayoutError(
          `the mapping puts ${name} in column index ${ref}, but line ${line} has ${columnCount} columns (indexes start at 0)`,
        );
      }
      return ref;
    }
    if (header === null)
      throw new CdrLayoutError(
        `the mapping names column "${ref}" for ${name}, but the file is read without a header line`,
      );
    const index = header.indexOf(ref);
    if (index < 0)
      throw new CdrLayoutError(`the header on line ${line} has no column "${ref}" (mapped to ${name})`);
    return index;
  };
  const at = {
    start: resolve('start'),
    caller: resolve('caller'),
    destination: resolve('destination'),
    answer: resolve('answer'),
    end: resolve('end'),
    duration: resolve('duration'),
    billsec: resolve('billsec'),
    disposition: resolve('disposition'),
    uniqueId: resolve('uniqueId'),
    accountCode: resolve('accountCode'),
    channel: resolve('channel'),
    destinationChannel: resolve('destinationChannel'),
    context: resolve('context'),
    bLeg: resolve('bLeg'),
  };
  if (at.end === null && at.duration === null)
    throw new CdrLayoutError('the mapping needs an end or a duration column');
  const read = (fields: readonly string[], index: number | null): string | null =>
    index === null ? null : decodeField(fields[index]);
  const layout: Layout = {
    description: 'the CSV described by the column mapping',
    columnCount,
    shape: at.start === null ? [] : [{ name: 'start', index: at.start, kind: 'timestamp' }],
    extract(fields) {
      const uniqueId = read(fields, at.uniqueId);
      const named = (read(fields, at.bLeg) ?? '').trim();
      const bLeg = LEG_ID.test(named) ? named : '';
      const hasLegs = bLeg !== '' && uniqueId !== null && uniqueId !== '';
      return {
        caller: read(fields, at.caller) ?? '',
        destination: read(fields, at.destination) ?? '',
        start: read(fields, at.start) ?? '',
        answer: read(fields, at.answer),
        end: read(fields, at.end),
        duration: read(fields, at.duration),
        billsec: read(fields, at.billsec),
        disposition: read(fields, at.disposition),
        uniqueId: uniqueId === '' ? null : uniqueId,
        linkedId: hasLegs ? uniqueId : null,
        isBillableLeg: true,
        legIdentity: [],
        isEpochUnanswered: false,
        accountCode: (read(fields, at.accountCode) ?? '').trim(),
        sourceChannel: (read(fields, at.channel) ?? '').trim(),
        destinationChannel: (read(fields, at.destinationChannel) ?? '').trim(),
        context: (read(fields, at.context) ?? '').trim(),
        bLegId: hasLegs ? bLeg : null,
        hasLegIds: at.bLeg !== null && uniqueId !== null && uniqueId !== '',
      };
    },
  };
  if (!hasHeader) assertShape(first, line, layout);
  return layout;
}

// ---------------------------------------------------------------------------------------
// Normalisation of one record.

/** A record that starts or ends outside the accepted window becomes a rejection (decision 0282). */
function withinWindow(
  result: CdrParseResult,
  window: { notBefore: Date; notAfter: Date } | undefined,
): CdrParseResult {
  if (window === undefined || result.kind === 'rejection') return result;
  const from = window.notBefore.getTime();
  const to = window.notAfter.getTime();
  const outside = (at: Date): boolean => at.getTime() < from || at.getTime() > to;
  if (!outside(result.startedAt) && !outside(result.endedAt)) return result;
  const [first, last] = [window.notBefore, window.notAfter].map((at) => at.toISOString().slice(0, 10));
  return reject(
    result.lineNumber,
    'date_out_of_range',
    `the call does not lie between ${first ?? ''} and ${last ?? ''} (a wrong year or clock)`,
  );
}

function normaliseRecord(
  fields: readonly string[],
  line: number,
  layout: Layout,
  timeZone: string,
): CdrParseResult {
  if (fields.length !== layout.columnCount) {
    return reject(
      line,
      'wrong_column_count',
      `the line has ${fields.length} columns; expected ${layout.columnCount} (${layout.description})`,
    );
  }
  const raw = layout.extract(fields);
  const times = readCallTimes(raw, timeZone);
  if ('reason' in times) return reject(line, times.reason, times.message);
  const stated = normaliseDisposition(raw.disposition, raw.answer !== null, times.answerMs !== null);
  const billableSeconds = computeBillableSeconds(times, stated);
  // The seconds go to integer columns: a bigger value is the line's fault, not the import's.
  if (times.durationSeconds > MAX_DB_INTEGER || billableSeconds > MAX_DB_INTEGER)
    return reject(
      line,
      'value_out_of_range',
      `the call's duration or billable seconds exceed ${MAX_DB_INTEGER} seconds`,
    );
  // The switch's id is the stored dedup key: one too long for the column is the line's fault too.
  if (exceedsDedupKeyLength(raw.uniqueId))
    return reject(
      line,
      'value_out_of_range',
      `the call's unique id is longer than ${MAX_DEDUP_KEY_LENGTH} characters`,
    );
  // A mapped CSV without a disposition column: billed seconds are the only evidence of an answer.
  const disposition =
    stated === 'unknown' && raw.disposition === null
      ? billableSeconds > 0
        ? 'answered'
        : 'no_answer'
      : stated;
  return new ParsedCallRecord(
    {
      lineNumber: line,
      uniqueId: raw.uniqueId,
      linkedId: raw.linkedId,
      callerRaw: raw.caller.trim(),
      destinationRaw: raw.destination.trim(),
      startedAt: new Date(times.startMs),
      answeredAt: times.answerMs === null ? null : new Date(times.answerMs),
      endedAt: new Date(times.endMs),
      durationSeconds: times.durationSeconds,
      billableSeconds,
      disposition,
      isBillableLeg: raw.isBillableLeg,
      accountCode: raw.accountCode,
      sourceChannel: raw.sourceChannel,
      destinationChannel: raw.destinationChannel,
      context: raw.context,
      bLegId: raw.bLegId,
      hasLegIds: raw.hasLegIds,
    },
    raw.legIdentity,
  );
}

/**
 * A parsed record whose hash is computed when first read: a record with a unique id is keyed by
 * it, and the import never reads the hash (a sha256 per line was a fifth of the parse's time,
 * decision 0440). A class, not an object literal with a getter: V8 builds such a literal slowly
 * and keeps it long enough to be copied out of the young generation (decision 0440).
 */
class ParsedCallRecord implements CallRecord {
  readonly kind = 'record';
  readonly lineNumber: number;
  readonly uniqueId: string | null;
  readonly linkedId: string | null;
  readonly callerRaw: string;
  readonly destinationRaw: string;
  readonly startedAt: Date;
  readonly answeredAt: Date | null;
  readonly endedAt: Date;
  readonly durationSeconds: number;
  readonly billableSeconds: number;
  readonly disposition: CallDisposition;
  readonly isBillableLeg: boolean;
  readonly accountCode: string;
  readonly sourceChannel: string;
  readonly destinationChannel: string;
  readonly context: string;
  readonly bLegId: string | null;
  readonly hasLegIds: boolean;
  readonly #legIdentity: readonly string[];
  #recordHash: string | null = null;

  constructor(fields: Omit<CallRecord, 'kind' | 'recordHash'>, legIdentity: readonly string[]) {
    this.lineNumber = fields.lineNumber;
    this.uniqueId = fields.uniqueId;
    this.linkedId = fields.linkedId;
    this.callerRaw = fields.callerRaw;
    this.destinationRaw = fields.destinationRaw;
    this.startedAt = fields.startedAt;
    this.answeredAt = fields.answeredAt;
    this.endedAt = fields.endedAt;
    this.durationSeconds = fields.durationSeconds;
    this.billableSeconds = fields.billableSeconds;
    this.disposition = fields.disposition;
    this.isBillableLeg = fields.isBillableLeg;
    this.accountCode = fields.accountCode;
    this.sourceChannel = fields.sourceChannel;
    this.destinationChannel = fields.destinationChannel;
    this.context = fields.context;
    this.bLegId = fields.bLegId;
    this.hasLegIds = fields.hasLegIds;
    this.#legIdentity = legIdentity;
  }

  get recordHash(): string {
    this.#recordHash ??= computeRecordHash(this, this.#legIdentity);
    return this.#recordHash;
  }
}

interface CallTimes {
  startMs: number;
  answerMs: number | null;
  endMs: number;
  durationSeconds: number;
  /** As recorded by the switch; null when the format has no such column. */
  billsec: number | null;
}

interface Problem {
  reason: RejectionReason;
  message: string;
}

function readCallTimes(raw: RawCall, timeZone: string): CallTimes | Problem {
  const stamps = readTimestamps(raw);
  if ('reason' in stamps) return stamps;
  const seconds = readSeconds(raw);
  if ('reason' in seconds) return seconds;
  if (stamps.end === null && seconds.duration === null)
    return { reason: 'invalid_duration', message: 'the line has neither an end time nor a duration' };

  const endCandidates = stamps.end === null ? null : toCandidates(stamps.end, timeZone);
  const [startMs, endMs] = pickStartAndEnd(
    toCandidates(stamps.start, timeZone),
    endCandidates,
    seconds.duration,
  );
  if (endMs < startMs) return { reason: 'end_before_start', message: 'the call ends before it starts' };
  const expectedAnswerMs = seconds.billsec === null ? endMs : endMs - seconds.billsec * 1000;
  const answerMs =
    stamps.answer === null ? null : pickClosest(toCandidates(stamps.answer, timeZone), expectedAnswerMs);
  if (answerMs !== null && (answerMs < startMs || answerMs > endMs))
    return { reason: 'answer_outside_call', message: 'the answer time is outside the call' };
  const durationSeconds = seconds.duration ?? Math.round((endMs - startMs) / 1000);
  return { startMs, answerMs, endMs, durationSeconds, billsec: seconds.billsec };
}

type Timestamp = NonNullable<ReturnType<typeof parseTimestamp>>;

function readTimestamps(
  raw: RawCall,
): { start: Timestamp; answer: Timestamp | null; end: Timestamp | null } | Problem {
  const start = parseTimestamp(raw.start);
  if (start === null)
    return { reason: 'invalid_timestamp', message: 'the start time is not a valid timestamp' };
  const answerText = raw.isEpochUnanswered ? '' : (raw.answer ?? '').trim();
  const answer = answerText === '' ? null : parseTimestamp(answerText);
  if (answerText !== '' && answer === null)
    return { reason: 'invalid_timestamp', message: 'the answer time is not a valid timestamp' };
  const endText = (raw.end ?? '').trim();
  const end = endText === '' ? null : parseTimestamp(endText);
  if (endText !== '' && end === null)
    return { reason: 'invalid_timestamp', message: 'the end time is not a valid timestamp' };
  return { start, answer, end };
}

function readSeconds(raw: RawCall): { duration: number | null; billsec: number | null } | Problem {
  const durationText = raw.duration?.trim() ?? '';
  const billsecText = raw.billsec?.trim() ?? '';
  if (durationText !== '' && !INTEGER.test(durationText))
    return {
      reason: 'invalid_duration',
      message: 'the duration is not a whole, non-negative number of seconds',
    };
  if (billsecText !== '' && !INTEGER.test(billsecText))
    return {
      reason: 'invalid_duration',
      message: 'the billable seconds are not a whole, non-negative number of seconds',
    };
  return {
    duration: durationText === '' ? null : Number(durationText),
    billsec: billsecText === '' ? null : Number(billsecText),
  };
}

function toCandidates(parsed: Timestamp, timeZone: string): number[] {
  return parsed.kind === 'instant' ? [parsed.epochMs] : resolveWallClock(parsed.wall, timeZone);
}

// In the repeated autumn hour a wall time has two instants; take the pair whose span is
// closest to the recorded duration, earliest first on a tie.
function pickStartAndEnd(starts: number[], ends: number[] | null, duration: number | null): [number, number] {
  const firstStart = starts[0] ?? 0;
  if (ends === null) return [firstStart, firstStart + (duration ?? 0) * 1000];
  let best: [number, number] = [firstStart, ends[0] ?? firstStart];
  let bestError = Number.POSITIVE_INFINITY;
  for (const s of starts) {
    for (const e of ends) {
      const error = duration === null ? (e >= s ? 0 : 1) : Math.abs(e - s - duration * 1000);
      if (error < bestError) {
        best = [s, e];
        bestError = error;
      }
    }
  }
  return best;
}

function pickClosest(candidates: number[], expected: number): number {
  let best = candidates[0] ?? expected;
  for (const candidate of candidates)
    if (Math.abs(candidate - expected) < Math.abs(best - expected)) best = candidate;
  return best;
}

const DISPOSITIONS: Readonly<Record<string, CallDisposition>> = {
  ANSWERED: 'answered',
  ANSWER: 'answered',
  NORMAL_CLEARING: 'answered',
  'NO ANSWER': 'no_answer',
  NO_ANSWER: 'no_answer',
  NO_USER_RESPONSE: 'no_answer',
  ORIGINATOR_CANCEL: 'no_answer',
  BUSY: 'busy',
  USER_BUSY: 'busy',
  FAILED: 'failed',
  CONGESTION: 'congestion',
  NORMAL_CIRCUIT_CONGESTION: 'congestion',
  SWITCH_CONGESTION: 'congestion',
};

// An answer time, where the format has that column, decides: FreeSWITCH writes a hangup
// cause (NORMAL_CLEARING ends answered and unanswered calls alike), not a disposition.
// Other texts (Asterisk dispositions, FreeSWITCH causes) map by the table; the rest is a failure.
function normaliseDisposition(
  text: string | null,
  hasAnswerColumn: boolean,
  isAnswered: boolean,
): CallDisposition {
  if (isAnswered) return 'answered';
  const upper = (text ?? '').trim().toUpperCase();
  const mapped = upper === '' ? 'unknown' : (DISPOSITIONS[upper] ?? 'failed');
  if (hasAnswerColumn && mapped === 'answered') return 'no_answer';
  return mapped;
}

// Without a billsec column (generic files) the answer time gives it; failing that, a
// carrier export's duration is taken as the billed duration of an answered call.
function computeBillableSeconds(times: CallTimes, disposition: CallDisposition): number {
  if (times.billsec !== null) return times.billsec;
  if (times.answerMs !== null) return Math.round((times.endMs - times.answerMs) / 1000);
  return disposition === 'answered' || disposition === 'unknown' ? times.durationSeconds : 0;
}

// Canonical encoding: a JSON array in fixed order, instants as epoch milliseconds, so the
// same call read from a re-export (other quoting, other line) hashes the same.
type HashedFields = Omit<
  CallRecord,
  'recordHash' | 'accountCode' | 'sourceChannel' | 'destinationChannel' | 'context' | 'bLegId' | 'hasLegIds'
>;

function computeRecordHash(record: HashedFields, legIdentity: readonly string[]): string {
  const canonical = JSON.stringify([
    'cdr/v1',
    record.uniqueId,
    record.linkedId,
    record.callerRaw,
    record.destinationRaw,
    record.startedAt.getTime(),
    record.answeredAt?.getTime() ?? null,
    record.endedAt.getTime(),
    record.durationSeconds,
    record.billableSeconds,
    record.disposition,
    legIdentity,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

const DELIMITERS = [',', ';', '\t'] as const;

/**
 * The field delimiter of a call-record file from its first line: the one of comma, semicolon
 * and tab that splits it most often outside quotes (a comma on a tie). Spreadsheet exports in
 * a Belgian locale use semicolons; some tools write tabs.
 */
export function detectDelimiter(sample: string): ',' | ';' | '\t' {
  const end = sample.indexOf('\n');
  const line = end < 0 ? sample : sample.slice(0, end);
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let isQuoted = false;
  for (const char of line) {
    if (char === '"') isQuoted = !isQuoted;
    else if (!isQuoted && counts.has(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best: ',' | ';' | '\t' = ',';
  for (const candidate of DELIMITERS)
    if ((counts.get(candidate) ?? 0) > (counts.get(best) ?? 0)) best = candidate;
  return best;
}

function reject(lineNumber: number, reason: RejectionReason, message: string): Rejection {
  return { kind: 'rejection', lineNumber, reason, message };
}

function decodeField(field: string | undefined): string {
  if (field === undefined) return '';
  if (!NON_ASCII.test(field)) return field;
  try {
    return utf8.decode(Buffer.from(field, 'latin1'));
  } catch {
    return field;
  }
}
