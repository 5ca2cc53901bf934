import { sql } from 'kysely';
import pg from 'pg';
import { copyOut } from '../../platform/copy-out.js';
import { csvField } from '../../platform/csv.js';
import type { Tx } from '../../platform/db.js';
import type { PersonalColumn, TableDataMap } from '../datamap/datamap.js';

// Rows that need no decryption leave PostgreSQL as `COPY (…) TO STDOUT` text, the cheapest form it
// has (what the bench's bare baseline reads), and are written here into the report's or the
// export's shape: one pass over bytes, no row objects, no Date per timestamp (decision 0430). The
// cells are exactly what renderRow gives for the same row (rows-sql.test.ts holds the two equal).

/** The columns of a report or export: neither blind indexes nor security secrets. */
export function shownColumns(map: TableDataMap): Array<[string, PersonalColumn]> {
  return Object.entries(map.personal).filter(
    ([, declaration]) => !declaration.blindIndexOf && !declaration.securitySecret,
  );
}

/**
 * How a column's COPY text becomes the value node-postgres would give (and renderRow shows):
 * timestamp → Date → ISO text; date, numeric, text → text; integers → number; bool; JSON and arrays
 * (sent as JSON by the statement) → parsed; bytea never shown.
 */
type Kind = 'timestamp' | 'text' | 'integer' | 'bool' | 'json' | 'hidden';

function kindOf(type: string): Kind | undefined {
  switch (type) {
    case 'timestamptz':
      return 'timestamp';
    case 'date': // kept as 'YYYY-MM-DD' text by the pool's type parser
    case 'numeric': // kept as text, never a float
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'citext':
    case 'uuid':
      return 'text';
    case 'int2':
    case 'int4':
    case 'int8':
      return 'integer';
    case 'bool':
      return 'bool';
    case '_text':
    case '_varchar':
    case '_int4':
    case '_int8':
    case 'json':
    case 'jsonb':
      return 'json';
    case 'bytea':
      return 'hidden';
    default:
      return undefined;
  }
}

interface PlannedColumn {
  /** The table's column. */
  column: string;
  /** The name the report and export show (an `_enc` suffix dropped). */
  name: string;
  category: string;
  kind: Kind;
}

/** A table whose shown columns all have a COPY rendering: what to select and how to write it. */
export interface CopyPlan {
  table: string;
  /** Every shown column, in data-map order (a CSV keeps a hidden column's empty place). */
  columns: PlannedColumn[];
  /** `COPY (…) TO STDOUT` for the subject's rows that show at least one value. */
  statement: string;
}

const TYPES = new WeakMap<TableDataMap, Map<string, string>>();

async function columnTypes(tx: Tx, map: TableDataMap): Promise<Map<string, string>> {
  const known = TYPES.get(map);
  if (known) return known;
  const { rows } = await sql<{ name: string; type: string }>`select a.attname as name, t.typname as type
      from pg_attribute a join pg_type t on t.oid = a.atttypid
     where a.attrelid = ${map.table}::regclass and a.attnum > 0 and not a.attisdropped`.execute(tx);
  const types = new Map(rows.map((row) => [row.name, row.type]));
  TYPES.set(map, types);
  return types;
}

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

const KEYS = new WeakMap<TableDataMap, string>();

/**
 * ` ORDER BY` the table's primary key (in the key's column order), or '' for a table without one:
 * two exports of unchanged data write their rows in the same order, not in the table's physical
 * order, which an update changes (attack S16, noticed; decision 0838).
 */
export async function orderByKey(tx: Tx, map: TableDataMap): Promise<string> {
  const known = KEYS.get(map);
  if (known !== undefined) return known;
  const { rows } = await sql<{ name: string }>`select a.attname as name
      from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
     where i.indrelid = ${map.table}::regclass and i.indisprimary
     order by array_position(i.indkey::int2[], a.attnum)`.execute(tx);
  const clause = rows.length === 0 ? '' : ` ORDER BY ${rows.map((row) => ident(row.name)).join(', ')}`;
  KEYS.set(map, clause);
  return clause;
}

/**
 * The COPY plan of the subject's rows of one table, or undefined when a shown column needs
 * JavaScript (decryption, masking, a type not rendered here): those tables keep renderRow.
 */
export async function copyPlan(tx: Tx, map: TableDataMap, subjectId: number): Promise<CopyPlan | undefined> {
  if (!map.subjectColumn || !Number.isSafeInteger(subjectId)) return undefined;
  const types = await columnTypes(tx, map);
  const columns: PlannedColumn[] = [];
  const selected: string[] = [];
  const present: string[] = [];
  for (const [column, declaration] of shownColumns(map)) {
    if (declaration.encrypted || declaration.masked) return undefined;
    const type = types.get(column);
    const kind = type === undefined ? undefined : kindOf(type);
    if (kind === undefined) return undefined;
    columns.push({ column, name: column.replace(/_enc$/, ''), category: declaration.category, kind });
    if (kind === 'hidden') continue;
    const ref = ident(column);
    // A timestamp as UTC wall-clock text (no zone to parse); JSON and arrays as JSON text.
    selected.push(
      kind === 'timestamp' ? `${ref} at time zone 'UTC'` : kind === 'json' ? `to_json(${ref})` : ref,
    );
    present.push(`${ref} is not null`);
  }
  if (selected.length === 0) return undefined;
  const order = await orderByKey(tx, map);
  return {
    table: map.table,
    columns,
    // The subject id is a safe integer (checked above); COPY takes no parameters.
    statement: `COPY (SELECT ${selected.join(', ')} FROM ${ident(map.table)} WHERE ${ident(map.subjectColumn)} = ${String(subjectId)} AND (${present.join(' OR ')})${order}) TO STDOUT`,
  };
}

/** 'record': `{"column":value}` (the access report v2 and the export's JSON); 'csv': a CSV line. */
export type RowShape = 'record' | 'csv';

/**
 * The subject's rows of a planned table in one shape, read by `COPY … TO` on `client` (the
 * running transaction's own connection, platform/copy-out.ts) at the reader's pace. The writer
 * tells, once the pieces are read, how many rows there were and which categories they held.
 */
export function readCopiedRows(
  client: pg.Client,
  plan: CopyPlan,
  shape: RowShape,
  separator = '',
): { pieces: AsyncGenerator<Buffer>; writer: CopyRowWriter } {
  const writer = new CopyRowWriter(plan, shape, separator);
  return {
    writer,
    pieces: (async function* () {
      for await (const chunk of copyOut(client, plan.statement)) {
        const rows = writer.push(chunk);
        if (rows.length > 0) yield rows;
      }
      const rest = writer.end();
      if (rest.length > 0) yield rest;
    })(),
  };
}

/**
 * Writes COPY text (rows of tab-separated fields, `\N` for null) as rows of one shape: 'record'
 * `{"column":value}` (null columns left out, as renderRow does), or 'csv' (cells as csvRecord writes them, CRLF). `push` takes the bytes as they
 * come (a row may be split between chunks) and returns the complete rows as UTF-8, each row
 * preceded by `separator` but the first.
 *
 * This runs for every cell of a long history, so it works on bytes: a field that needs nothing
 * (digits, a plain text, a timestamp of the usual form) is copied as it is, with the column's
 * constant key before it; a field that needs escaping, defusing or parsing goes through the text
 * functions below, which say what the JavaScript path gives.
 */
export class CopyRowWriter {
  readonly #shape: RowShape;
  readonly #separator: Buffer;
  /** Per selected column: its kind, and what goes before its value as first / later cell. */
  readonly #kinds: Kind[];
  readonly #first: Buffer[];
  readonly #later: Buffer[];
  /** CSV: the hidden (empty) cells before each selected column, and after the last. */
  readonly #emptyBefore: Buffer[];
  readonly #rowEnd: Buffer;
  /** Room a row may need beyond 6 bytes per input byte (the worst escape, \u00XX). */
  readonly #rowRoom: number;
  readonly #seen: boolean[];
  readonly #categories: string[];
  #carry: Buffer = EMPTY;
  #out: Buffer = EMPTY;
  #at = 0;
  #growth = 2;
  #rows = 0;

  constructor(plan: CopyPlan, shape: RowShape, separator = '') {
    this.#shape = shape;
    this.#separator = Buffer.from(separator, 'utf8');
    const { selected, first, later, emptyBefore, csvEnd } = rowPieces(plan);
    this.#kinds = selected.map((column) => column.kind);
    this.#categories = selected.map((column) => column.category);
    this.#seen = selected.map(() => false);
    this.#first = first;
    this.#later = later;
    this.#emptyBefore = emptyBefore;
    this.#rowEnd = shape === 'csv' ? csvEnd : Buffer.from('}', 'utf8');
    this.#rowRoom =
      this.#separator.length +
      this.#rowEnd.length +
      [...this.#first, ...this.#later, ...this.#emptyBefore].reduce((sum, bytes) => sum + bytes.length, 0) +
      64 * selected.length;
  }

  /** How many rows were written. */
  get rows(): number {
    return this.#rows;
  }

  /** The categories of the columns that held a value in some row written. */
  get categories(): string[] {
    return [...new Set(this.#categories.filter((_, index) => this.#seen[index]))];
  }

  push(chunk: Buffer): Buffer {
    const end = chunk.lastIndexOf(10);
    if (end < 0) {
      this.#carry = carryOn(this.#carry, chunk);
      return EMPTY;
    }
    const bytes = this.#carry.length + end + 1;
    this.#open(bytes);
    const start = completeCarriedRow(this.#carry, chunk, (data, from, stop) => this.#row(data, from, stop));
    this.#lines(chunk, start, end);
    this.#carry = carriedAfter(chunk, end);
    return this.#close(bytes);
  }

  /** What is left at the end of the COPY (nothing, when the server ended its last row). */
  end(): Buffer {
    const rest = this.#carry;
    this.#carry = EMPTY;
    if (rest.length === 0) return rest;
    this.#open(rest.length + 1);
    this.#row(rest, 0, rest.length);
    return this.#close(rest.length + 1);
  }

  /** A new output for about `bytes` of COPY text, sized by what the rows so far grew to. */
  #open(bytes: number): void {
    // A JSON row is ~2–3 times its COPY text.
    this.#out = Buffer.allocUnsafe(Math.ceil(this.#growth * bytes) + 1024);
    this.#at = 0;
  }

  #close(bytes: number): Buffer {
    this.#growth = Math.max(this.#growth, (1.1 * this.#at) / bytes);
    return this.#out.subarray(0, this.#at);
  }

  /** The rows of data[start, end] (end is a line break). */
  #lines(data: Buffer, start: number, end: number): void {
    let from = start;
    while (from <= end) {
      const stop = data.indexOf(10, from);
      this.#row(data, from, stop);
      from = stop + 1;
    }
  }

  /** Makes room for `bytes` more bytes of output. */
  #room(bytes: number): void {
    if (this.#at + bytes <= this.#out.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.#out.length, this.#at + bytes));
    this.#out.copy(grown, 0, 0, this.#at);
    this.#out = grown;
  }

  /** A whole constant (a key, a separator): TypedArray#set, no view to make (decision 0560). */
  #put(bytes: Buffer): void {
    this.#out.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  #putText(text: string): void {
    this.#room(3 * text.length);
    this.#at += this.#out.write(text, this.#at, 'utf8');
  }

  /** One row (data[start, stop)); rows that show nothing are left out, as renderRow does. */
  #row(data: Buffer, start: number, stop: number): void {
    this.#room(this.#rowRoom + 6 * (stop - start));
    const mark = this.#at;
    if (this.#rows > 0) this.#put(this.#separator);
    const csv = this.#shape === 'csv';
    const kinds = this.#kinds;
    let shown = false;
    let from = start;
    for (let index = 0; index < kinds.length; index += 1) {
      let to = from;
      while (to < stop && data[to] !== 9) to += 1;
      const kind = kinds[index] ?? 'text';
      const isNull = to - from === 2 && data[from] === 92 && data[from + 1] === 78;
      if (csv) {
        this.#put(this.#emptyBefore[index] ?? EMPTY);
        if (!isNull && this.#csvCell(kind, data, from, to)) {
          this.#seen[index] = true;
          shown = true;
        }
      } else if (!isNull) {
        const cell = this.#at;
        this.#put((shown ? this.#later[index] : this.#first[index]) ?? EMPTY);
        if (this.#jsonValue(kind, data, from, to)) {
          this.#seen[index] = true;
          shown = true;
        } else this.#at = cell;
      }
      from = to + 1;
    }
    if (!shown) {
      this.#at = mark;
      return;
    }
    this.#put(this.#rowEnd);
    this.#rows += 1;
  }

  /** Writes a field's JSON value; false (nothing written) for a JSON null. */
  #jsonValue(kind: Kind, data: Buffer, from: number, to: number): boolean {
    const out = this.#out;
    switch (kind) {
      case 'integer':
        if (to - from <= 15) {
          this.#at = copyBytes(data, from, to, out, this.#at);
          return true;
        }
        break;
      case 'bool':
        this.#put(data[from] === 116 ? TRUE : FALSE);
        return true;
      case 'timestamp':
        if (isPlainTimestamp(data, from, to)) {
          out[this.#at++] = 34;
          this.#at = writeIso(data, from, to, this.#out, this.#at);
          out[this.#at++] = 34;
          return true;
        }
        break;
      case 'text':
        if (isPlainJsonText(data, from, to)) {
          out[this.#at++] = 34;
          this.#at = copyBytes(data, from, to, out, this.#at);
          out[this.#at++] = 34;
          return true;
        }
        break;
      case 'json':
      case 'hidden':
        break;
    }
    const pieces: string[] = [];
    const text = data.toString('utf8', from, to);
    if (!pushJson(pieces, kind, text, 0, text.length)) return false;
    this.#putText(pieces.join(''));
    return true;
  }

  /** Writes a field's CSV cell; false (an empty cell) when it holds no value. */
  #csvCell(kind: Kind, data: Buffer, from: number, to: number): boolean {
    switch (kind) {
      case 'integer':
        if (to - from <= 15 && data[from] !== 45) {
          this.#at = copyBytes(data, from, to, this.#out, this.#at);
          return true;
        }
        break;
      case 'bool':
        this.#put(data[from] === 116 ? TRUE : FALSE);
        return true;
      case 'timestamp':
        if (isPlainTimestamp(data, from, to)) {
          this.#at = writeIso(data, from, to, this.#out, this.#at);
          return true;
        }
        break;
      case 'text': {
        const plain = plainCsvText(data, from, to);
        if (plain !== undefined) {
          // A formula start is defused with an apostrophe; a signed number (a phone number's '+') is not.
          if (plain === 'defuse') this.#out[this.#at++] = 39;
          this.#at = copyBytes(data, from, to, this.#out, this.#at);
          return true;
        }
        break;
      }
      case 'json':
      case 'hidden':
        break;
    }
    const text = data.toString('utf8', from, to);
    const value = csvText(kind, text, 0, text.length);
    if (value === undefined) return false;
    this.#putText(csvField(value));
    return true;
  }
}

/**
 * Copies source[from, to) to target at `at`, returning the end. A loop: Buffer#copy makes a view
 * object per call, which for millions of short cells costs more than the bytes.
 */
function copyBytes(source: Buffer, from: number, to: number, target: Buffer, at: number): number {
  let write = at;
  for (let read = from; read < to; read += 1) target[write++] = source[read] ?? 0;
  return write;
}

const EMPTY = Buffer.alloc(0);

// A row of COPY text may be split between two chunks. The writers carry the part after a chunk's
// last line break alone (a copy: the chunk's buffer is not theirs to keep) and join it with the
// next chunk's first line only, never with the whole chunk (decision 0560).

/** The carried part of a row, grown by a chunk that holds no line break. */
function carryOn(carry: Buffer, chunk: Buffer): Buffer {
  return carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
}

/** What a chunk leaves to carry after its last line break at `end`: a copy, or nothing. */
function carriedAfter(chunk: Buffer, end: number): Buffer {
  return end + 1 < chunk.length ? Buffer.from(chunk.subarray(end + 1)) : EMPTY;
}

/**
 * Writes the row begun in the previous chunk (`carry`), completed by `chunk`'s first line, through
 * `row` (data[start, stop), stop at the line break); returns where the chunk's next row starts
 * (0 when nothing was carried). The chunk holds a line break.
 */
function completeCarriedRow(
  carry: Buffer,
  chunk: Buffer,
  row: (data: Buffer, start: number, stop: number) => void,
): number {
  if (carry.length === 0) return 0;
  const line = chunk.indexOf(10);
  const joined = Buffer.concat([carry, chunk.subarray(0, line + 1)]);
  row(joined, 0, joined.length - 1);
  return line + 1;
}
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');

/** The usual timestamp text: four-digit year, no era, at most six fraction digits. */
function isPlainTimestamp(data: Buffer, from: number, to: number): boolean {
  const length = to - from;
  if (data[from + 4] !== 45 || data[from + 10] !== 32) return false;
  if (length === 19) return true;
  if (length < 21 || length > 26 || data[from + 19] !== 46) return false;
  for (let index = from + 20; index < to; index += 1) {
    const byte = data[index] ?? 0;
    if (byte < 48 || byte > 57) return false;
  }
  return true;
}

/** A text JSON writes as itself between quotes: no quote, no backslash (COPY's escapes), no control. */
function isPlainJsonText(data: Buffer, from: number, to: number): boolean {
  for (let index = from; index < to; index += 1) {
    const byte = data[index] ?? 0;
    if (byte < 32 || byte === 34 || byte === 92) return false;
  }
  return true;
}

/**
 * How a CSV cell holds a text without quoting: 'as-is', 'defuse' (an apostrophe before a leading
 * = + - or @), or undefined when it needs the text path (a quote, comma, backslash — COPY escapes
 * line breaks and tabs with one — a control, or a full-width formula start, byte 0xEF).
 */
function plainCsvText(data: Buffer, from: number, to: number): 'as-is' | 'defuse' | undefined {
  const first = data[from];
  if (first === 0xef) return undefined;
  for (let index = from; index < to; index += 1) {
    const byte = data[index] ?? 0;
    if (byte < 32 || byte === 34 || byte === 44 || byte === 92) return undefined;
  }
  return defusesFormula(data, from, to) ? 'defuse' : 'as-is';
}

/**
 * Whether a cell's bytes start as a formula a spreadsheet could run (= + - @), as csvRecord
 * judges it: a signed number (`+3256223345`, `-12.50`) is not one (decision 0870).
 */
function defusesFormula(data: Buffer, from: number, to: number): boolean {
  const first = data[from];
  if (first === 61 || first === 64) return true;
  if (first !== 43 && first !== 45) return false;
  return !isSignedNumber(data, from, to);
}

/** `[+-]digits[.digits]` in bytes, as SIGNED_NUMBER in platform/csv.ts. */
function isSignedNumber(data: Buffer, from: number, to: number): boolean {
  let digits = 0;
  let dot = -1;
  for (let index = from + 1; index < to; index += 1) {
    const byte = data[index] ?? 0;
    if (byte >= 48 && byte <= 57) digits += 1;
    else if (byte === 46 && dot < 0 && digits > 0) dot = index;
    else return false;
  }
  return digits > 0 && dot !== to - 1;
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** A COPY text field as the text it holds (COPY escapes backslash, tab, line breaks …). */
function fieldText(text: string, from: number, to: number): string {
  const field = text.slice(from, to);
  return field.includes('\\') ? field.replace(/\\(.)/gs, (_, char: string) => ESCAPES[char] ?? char) : field;
}

const parseTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (text: string) => unknown;

/**
 * A UTC timestamp's text ('2026-03-02 09:11:12.345678') as Date#toISOString gives it after
 * node-postgres parsed it: milliseconds as 1000 × the fraction, truncated; anything unusual
 * (BC, a five-digit year, infinity) through node-postgres's own parser.
 */
function isoTimestamp(text: string, from: number, to: number): unknown {
  const length = to - from;
  if (
    (length === 19 ||
      (length > 20 && length <= 26 && text.charCodeAt(from + 19) === 46 && text.charCodeAt(to - 1) <= 57)) &&
    text.charCodeAt(from + 4) === 45 &&
    text.charCodeAt(from + 10) === 32
  ) {
    const ms =
      length === 19
        ? '000'
        : String(Math.trunc(1000 * Number.parseFloat(`0${text.slice(from + 19, to)}`))).padStart(3, '0');
    return `${text.slice(from, from + 10)}T${text.slice(from + 11, from + 19)}.${ms}Z`;
  }
  // node-postgres reads the zone before a trailing ' BC'; 'infinity' has none.
  const field = text.slice(from, to);
  const zoned = field.endsWith(' BC')
    ? `${field.slice(0, -3)}+00 BC`
    : field.endsWith('infinity')
      ? field
      : `${field}+00`;
  const value = parseTimestamptz(zoned);
  return value instanceof Date ? value.toISOString() : value;
}

/**
 * Pushes the JSON text of a field's value, as JSON.stringify writes what renderRow gives; false
 * (nothing pushed) for a JSON null, which renderRow leaves out like an SQL null.
 */
function pushJson(out: string[], kind: Kind, text: string, from: number, to: number): boolean {
  switch (kind) {
    case 'timestamp': {
      const value = isoTimestamp(text, from, to);
      out.push(typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? 'null'));
      return true;
    }
    case 'integer':
      // int8 is a JavaScript number (db.ts): digits beyond 2^53 round as there.
      out.push(
        to - from > 15 ? JSON.stringify(Number.parseInt(text.slice(from, to), 10)) : text.slice(from, to),
      );
      return true;
    case 'bool':
      out.push(text.charCodeAt(from) === 116 ? 'true' : 'false');
      return true;
    case 'json': {
      const value = JSON.parse(fieldText(text, from, to)) as unknown;
      if (value === null) return false;
      out.push(JSON.stringify(value));
      return true;
    }
    case 'text':
    case 'hidden':
      out.push(JSON.stringify(fieldText(text, from, to)));
      return true;
  }
}

/** A field as csvRecord's text (strings as themselves, other values as their JSON), undefined for none. */
function csvText(kind: Kind, text: string, from: number, to: number): string | undefined {
  switch (kind) {
    case 'text':
      return fieldText(text, from, to);
    case 'timestamp': {
      const value = isoTimestamp(text, from, to);
      return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
    }
    case 'json': {
      const value = JSON.parse(fieldText(text, from, to)) as unknown;
      return value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
    }
    case 'integer':
      return to - from > 15
        ? JSON.stringify(Number.parseInt(text.slice(from, to), 10))
        : text.slice(from, to);
    case 'bool':
      return text.charCodeAt(from) === 116 ? 'true' : 'false';
    case 'hidden':
      return undefined;
  }
}

/** Byte classes of COPY text for CopyPairWriter: what ends a field and what a fast path must not copy. */
const FIELD_END = 1;
/** Needs the JSON text path (and the CSV one): a control, a quote, a backslash (COPY's escapes). */
const NOT_PLAIN = 2;
/** Needs quoting in a CSV cell only. */
const CSV_QUOTED = 4;
const CLASSES = (() => {
  const classes = new Uint8Array(256);
  for (let byte = 0; byte < 32; byte += 1) classes[byte] = NOT_PLAIN;
  classes[9] = FIELD_END;
  classes[34] = NOT_PLAIN;
  classes[92] = NOT_PLAIN;
  classes[44] = CSV_QUOTED;
  return classes;
})();

/** The size a CopyPairWriter's pieces reach before it gives them (decision 0560). */
export const PIECE_BYTES = 256 * 1024;

/** Handed-back buffers a CopyPairWriter keeps: more than its consumers ever hold at once. */
const MAX_FREE_BUFFERS = 16;

/** A piece of the export's two files of one table, from the same COPY bytes. */
export interface PairPiece {
  /** `{"column":value}` rows, each but the first preceded by the separator; empty for 'csv' only. */
  json: Buffer;
  /** CSV lines (CRLF), as CopyRowWriter's 'csv' shape writes them. */
  csv: Buffer;
}

/**
 * The export's JSON rows and CSV lines of one table from one pass over the COPY text (decision
 * 0560): each field is scanned once — where it ends and whether it needs a text path — and written
 * into both outputs; a timestamp is turned into ISO text once and copied into the CSV. The output
 * is byte for byte what a CopyRowWriter 'record' (with the same separator) and a 'csv' writer give
 * for the same bytes (copy-rows.test.ts). Rows of several COPY chunks are gathered into pieces of
 * `pieceBytes` (fewer rounds through the CRC, the deflate and the streams, less garbage), and a row
 * split between chunks is carried as that row alone, not as the whole chunk. With `files` 'csv' it
 * writes the CSV alone, the same bytes, and its pieces' JSON is empty (decision 0825).
 */
export class CopyPairWriter {
  readonly #withJson: boolean;
  readonly #separator: Buffer;
  readonly #kinds: Kind[];
  readonly #first: Buffer[];
  readonly #later: Buffer[];
  readonly #emptyBefore: Buffer[];
  readonly #csvEnd: Buffer;
  readonly #jsonRoom: number;
  readonly #csvRoom: number;
  #carry: Buffer = EMPTY;
  #json: Buffer = EMPTY;
  #jsonAt = 0;
  #csv: Buffer = EMPTY;
  #csvAt = 0;
  #rows = 0;
  readonly #pieceBytes: number;
  /** CSV bytes per JSON byte of the pieces so far (a little more), to size the next CSV buffer. */
  #csvShare = 1;
  #ready: PairPiece[] = [];
  /**
   * The buffers of the pieces given and not yet handed back, by their memory (decision 0660); weak,
   * so that a consumer that hands nothing back leaves them all to the collector.
   */
  readonly #given = new WeakMap<ArrayBufferLike, Buffer>();
  /** Buffers handed back by `recycle`, to be written again. */
  readonly #free: Buffer[] = [];
  /** The last buffers a timestamp was read from or written into, and their word views. */
  readonly #viewed: [Buffer, Buffer, Buffer] = [EMPTY, EMPTY, EMPTY];
  readonly #views: [DataView, DataView, DataView] = [
    new DataView(EMPTY.buffer, 0, 0),
    new DataView(EMPTY.buffer, 0, 0),
    new DataView(EMPTY.buffer, 0, 0),
  ];

  constructor(plan: CopyPlan, separator: string, pieceBytes = PIECE_BYTES, files: 'both' | 'csv' = 'both') {
    this.#withJson = files === 'both';
    this.#pieceBytes = pieceBytes;
    this.#separator = Buffer.from(separator, 'utf8');
    const { selected, first, later, emptyBefore, csvEnd } = rowPieces(plan);
    this.#kinds = selected.map((column) => column.kind);
    this.#first = first;
    this.#later = later;
    this.#emptyBefore = emptyBefore;
    this.#csvEnd = csvEnd;
    const length = (buffers: Buffer[]) => buffers.reduce((sum, bytes) => sum + bytes.length, 0);
    this.#jsonRoom =
      this.#separator.length + 1 + length(this.#first) + length(this.#later) + 64 * selected.length;
    this.#csvRoom = this.#csvEnd.length + length(this.#emptyBefore) + 64 * selected.length;
  }

  /** How many rows were written. */
  get rows(): number {
    return this.#rows;
  }

  /**
   * Writes the complete rows of the bytes so far (a row may be split between chunks) and returns
   * the pieces that reached `pieceBytes` (mostly none or one): fewer, larger pieces for the CRC and
   * the deflate, which each cost a round trip per piece.
   */
  push(chunk: Buffer): PairPiece[] {
    const end = chunk.lastIndexOf(10);
    if (end < 0) {
      this.#carry = carryOn(this.#carry, chunk);
      return [];
    }
    let start = completeCarriedRow(this.#carry, chunk, (data, from, stop) => this.#row(data, from, stop));
    while (start <= end) {
      const stop = chunk.indexOf(10, start);
      this.#row(chunk, start, stop);
      start = stop + 1;
    }
    this.#carry = carriedAfter(chunk, end);
    const ready = this.#ready;
    this.#ready = [];
    return ready;
  }

  /** The rest: the rows not yet given, and a last row the server did not end with a line break. */
  end(): PairPiece {
    const rest = this.#carry;
    this.#carry = EMPTY;
    if (rest.length > 0) this.#row(rest, 0, rest.length);
    const pieces = [...this.#ready, this.#take()];
    this.#ready = [];
    return {
      json: Buffer.concat(pieces.map((piece) => piece.json)),
      csv: Buffer.concat(pieces.map((piece) => piece.csv)),
    };
  }

  /**
   * The piece `piece` (a JSON or CSV part of a piece this writer gave) was read by its consumer
   * (the deflate), which keeps no reference to it: its buffer is written again. Allocating a new
   * 256 KiB buffer per piece made 97 MB of short-lived memory outside the heap for one long
   * history, which started a full collection every ~150 ms (decision 0660). A piece not handed
   * back is simply left to the collector.
   */
  recycle(piece: Buffer): void {
    const buffer = this.#given.get(piece.buffer);
    if (buffer !== undefined) this.#reuse(buffer);
  }

  /** `buffer` (one of this writer's, of which no piece is held any more) is written again. */
  #reuse(buffer: Buffer): void {
    this.#given.delete(buffer.buffer);
    if (this.#free.length < MAX_FREE_BUFFERS) this.#free.push(buffer);
  }

  /** A buffer of at least `bytes`: a handed-back one that fits, or a new one of its own memory. */
  #buffer(bytes: number): Buffer {
    let best = -1;
    for (let index = 0; index < this.#free.length; index += 1) {
      const length = this.#free[index]?.length ?? 0;
      if (length >= bytes && (best < 0 || length < (this.#free[best]?.length ?? 0))) best = index;
    }
    // Never from Buffer's shared pool: a piece's memory must be its buffer's alone to be reused.
    const buffer =
      best < 0
        ? Buffer.allocUnsafeSlow(bytes)
        : (this.#free.splice(best, 1)[0] ?? Buffer.allocUnsafeSlow(bytes));
    this.#given.set(buffer.buffer, buffer);
    return buffer;
  }

  /** The rows written since the last piece, as a piece; new buffers for the next. */
  #take(): PairPiece {
    const piece = { json: this.#json.subarray(0, this.#jsonAt), csv: this.#csv.subarray(0, this.#csvAt) };
    this.#json = EMPTY;
    this.#csv = EMPTY;
    this.#jsonAt = 0;
    this.#csvAt = 0;
    return piece;
  }

  /**
   * The piece is full: it is given, and the next one gets buffers of `pieceBytes` of JSON and the
   * CSV's share of that, as the pieces so far had it (a buffer half empty would be garbage too).
   */
  #next(jsonNeed: number, csvNeed: number): void {
    // A row written ends its CSV line, so a piece with rows has CSV bytes.
    if (this.#csvAt > 0) {
      if (this.#withJson) this.#csvShare = Math.min(8, Math.max(0.1, (1.05 * this.#csvAt) / this.#jsonAt));
      this.#ready.push(this.#take());
    }
    if (this.#withJson) this.#json = this.#buffer(Math.max(this.#pieceBytes, jsonNeed));
    const csvBytes = this.#withJson ? Math.ceil(this.#csvShare * this.#pieceBytes) : this.#pieceBytes;
    this.#csv = this.#buffer(Math.max(csvBytes, csvNeed));
    this.#jsonAt = 0;
    this.#csvAt = 0;
  }

  /** Makes room for `json` more JSON bytes and `csv` more CSV bytes (a value on the text path). */
  #room(json: number, csv: number): void {
    if (this.#jsonAt + json > this.#json.length) {
      const grown = this.#buffer(Math.max(2 * this.#json.length, this.#jsonAt + json));
      this.#json.copy(grown, 0, 0, this.#jsonAt);
      this.#reuse(this.#json);
      this.#json = grown;
    }
    if (this.#csvAt + csv > this.#csv.length) {
      const grown = this.#buffer(Math.max(2 * this.#csv.length, this.#csvAt + csv));
      this.#csv.copy(grown, 0, 0, this.#csvAt);
      this.#reuse(this.#csv);
      this.#csv = grown;
    }
  }

  /** A word view of `buffer`, kept in slot `slot` (0: COPY text, 1: JSON, 2: CSV). */
  #view(slot: 0 | 1 | 2, buffer: Buffer): DataView {
    if (this.#viewed[slot] === buffer) return this.#views[slot];
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    this.#viewed[slot] = buffer;
    this.#views[slot] = view;
    return view;
  }

  /**
   * Copies data[from, to) into `target` (the JSON, slot 1, or the CSV, slot 2) at `at`, four bytes
   * at a time and the rest by byte; returns the end.
   */
  #copy(data: Buffer, from: number, to: number, slot: 1 | 2, target: Buffer, at: number): number {
    if (to - from < 4) return copyBytes(data, from, to, target, at);
    const source = this.#view(0, data);
    const out = this.#view(slot, target);
    let read = from;
    let write = at;
    for (; read + 4 <= to; read += 4, write += 4) out.setUint32(write, source.getUint32(read));
    return copyBytes(data, read, to, target, write);
  }

  /**
   * A timestamp of the usual form (data[from, to)) as ISO text into `target` (the JSON, slot 1, or
   * the CSV, slot 2) at `at`, ISO_BYTES; returns the end. What writeIso writes, in 4-byte words
   * where the byte loop made a third of the writer's work on a call record (decision 0800).
   */
  #iso(data: Buffer, from: number, to: number, slot: 1 | 2, target: Buffer, at: number): number {
    const source = this.#view(0, data);
    const out = this.#view(slot, target);
    const json = target;
    const jsonAt = at;
    // 'YYYY-MM-DD' then 'T', then 'HH:MM:SS' then '.'
    out.setUint32(jsonAt, source.getUint32(from));
    out.setUint32(jsonAt + 4, source.getUint32(from + 4));
    out.setUint16(jsonAt + 8, source.getUint16(from + 8));
    json[jsonAt + 10] = 84; // T
    out.setUint32(jsonAt + 11, source.getUint32(from + 11));
    out.setUint32(jsonAt + 15, source.getUint32(from + 15));
    json[jsonAt + 19] = 46; // .
    const ms = isoMilliseconds(data, from, to);
    json[jsonAt + 20] = 48 + Math.floor(ms / 100);
    json[jsonAt + 21] = 48 + (Math.floor(ms / 10) % 10);
    json[jsonAt + 22] = 48 + (ms % 10);
    json[jsonAt + 23] = 90; // Z
    return jsonAt + ISO_BYTES;
  }

  /** The ISO text just written into the JSON at `jsonAt`, copied into the CSV at `csvAt` in words. */
  #isoCopy(json: Buffer, jsonAt: number, csv: Buffer, csvAt: number): void {
    const out = this.#view(1, json);
    const into = this.#view(2, csv);
    for (let word = 0; word < ISO_BYTES; word += 4)
      into.setUint32(csvAt + word, out.getUint32(jsonAt + word));
  }

  /** One row (data[start, stop)); a row that shows nothing is left out of both files. */
  #row(data: Buffer, start: number, stop: number): void {
    const withJson = this.#withJson;
    const jsonNeed = withJson ? this.#jsonRoom + 6 * (stop - start) : 0;
    const csvNeed = this.#csvRoom + 6 * (stop - start);
    if (this.#jsonAt + jsonNeed > this.#json.length || this.#csvAt + csvNeed > this.#csv.length)
      this.#next(jsonNeed, csvNeed);
    const jsonMark = this.#jsonAt;
    const csvMark = this.#csvAt;
    let json = this.#json;
    let csv = this.#csv;
    let jsonAt = jsonMark;
    let csvAt = csvMark;
    if (withJson && this.#rows > 0)
      jsonAt = copyBytes(this.#separator, 0, this.#separator.length, json, jsonAt);
    const kinds = this.#kinds;
    let shown = false;
    let from = start;
    for (let index = 0; index < kinds.length; index += 1) {
      const kind = kinds[index] ?? 'text';
      // Where the field ends, and what its bytes need: a timestamp of the usual form
      // ('YYYY-MM-DD HH:MM:SS[.f…]', at most six fraction digits) is known by its shape.
      let to = from;
      let classes = 0;
      let stamp = false;
      if (kind === 'timestamp' && data[from + 4] === 45 && data[from + 10] === 32) {
        let end = from + 19;
        if (data[end] === 46) {
          end += 1;
          while (end < stop && (data[end] ?? 0) >= 48 && (data[end] ?? 0) <= 57) end += 1;
        }
        const length = end - from;
        if ((end === stop || data[end] === 9) && (length === 19 || (length >= 21 && length <= 26))) {
          to = end;
          stamp = true;
        }
      }
      if (!stamp)
        while (to < stop) {
          const found = CLASSES[data[to] ?? 0] ?? 0;
          if (found === FIELD_END) break;
          classes |= found;
          to += 1;
        }
      const before = this.#emptyBefore[index] ?? EMPTY;
      csvAt = copyBytes(before, 0, before.length, csv, csvAt);
      if (to - from === 2 && data[from] === 92 && data[from + 1] === 78) {
        from = to + 1; // \N: no value
        continue;
      }
      const cell = jsonAt;
      if (withJson) {
        const key = (shown ? this.#later[index] : this.#first[index]) ?? EMPTY;
        // A whole constant by TypedArray#set (no view to make): faster than the byte loop for keys.
        json.set(key, jsonAt);
        jsonAt += key.length;
      }
      let fast = false;
      if (kind === 'text') {
        if (classes === 0 && data[from] !== 0xef) {
          if (withJson) {
            json[jsonAt++] = 34;
            jsonAt = this.#copy(data, from, to, 1, json, jsonAt);
            json[jsonAt++] = 34;
          }
          // A formula start is defused with an apostrophe; a signed number (a phone number's '+') is not.
          if (defusesFormula(data, from, to)) csv[csvAt++] = 39;
          csvAt = this.#copy(data, from, to, 2, csv, csvAt);
          fast = true;
        }
      } else if (kind === 'timestamp') {
        if (stamp) {
          if (withJson) {
            json[jsonAt++] = 34;
            this.#iso(data, from, to, 1, json, jsonAt);
            this.#isoCopy(json, jsonAt, csv, csvAt);
            jsonAt += ISO_BYTES;
            json[jsonAt++] = 34;
          } else this.#iso(data, from, to, 2, csv, csvAt);
          csvAt += ISO_BYTES;
          fast = true;
        }
      } else if (kind === 'integer') {
        if (to - from <= 15 && data[from] !== 45) {
          if (withJson) jsonAt = this.#copy(data, from, to, 1, json, jsonAt);
          csvAt = this.#copy(data, from, to, 2, csv, csvAt);
          fast = true;
        }
      } else if (kind === 'bool') {
        const value = data[from] === 116 ? TRUE : FALSE;
        if (withJson) jsonAt = copyBytes(value, 0, value.length, json, jsonAt);
        csvAt = copyBytes(value, 0, value.length, csv, csvAt);
        fast = true;
      }
      if (fast) shown = true;
      else {
        // The text path (escapes, defused formulas, unusual timestamps, JSON, big integers).
        const text = data.toString('utf8', from, to);
        const pieces: string[] = [];
        const value = csvText(kind, text, 0, text.length);
        // A JSON null (no JSON) is no CSV value either: csvText gives undefined for it too.
        if ((!withJson || pushJson(pieces, kind, text, 0, text.length)) && value !== undefined) {
          const jsonText = pieces.join('');
          const csvCell = csvField(value);
          this.#jsonAt = jsonAt;
          this.#csvAt = csvAt;
          this.#room(3 * jsonText.length, 3 * csvCell.length);
          json = this.#json;
          csv = this.#csv;
          if (withJson) jsonAt += json.write(jsonText, jsonAt, 'utf8');
          csvAt += csv.write(csvCell, csvAt, 'utf8');
          shown = true;
        } else jsonAt = cell; // a JSON null: no value
      }
      from = to + 1;
    }
    if (!shown) {
      this.#jsonAt = jsonMark;
      this.#csvAt = csvMark;
      return;
    }
    if (withJson) json[jsonAt++] = 125; // }
    this.#jsonAt = jsonAt;
    this.#csvAt = copyBytes(this.#csvEnd, 0, this.#csvEnd.length, csv, csvAt);
    this.#rows += 1;
  }
}

/**
 * The constant bytes of a row of `plan`: each shown column's JSON key after '{' (the first) or
 * ',' (the others), the CSV commas of hidden columns before each shown one, and the CSV row's end.
 */
function rowPieces(plan: CopyPlan) {
  const selected = plan.columns.filter((column) => column.kind !== 'hidden');
  const keys = selected.map((column) => `${JSON.stringify(column.name)}:`);
  const emptyBefore: string[] = [];
  let empty = '';
  for (const column of plan.columns) {
    if (column.kind === 'hidden') empty += ',';
    else {
      emptyBefore.push(emptyBefore.length === 0 ? empty : `,${empty}`);
      empty = '';
    }
  }
  return {
    selected,
    first: keys.map((key) => Buffer.from(`{${key}`, 'utf8')),
    later: keys.map((key) => Buffer.from(`,${key}`, 'utf8')),
    emptyBefore: emptyBefore.map((text) => Buffer.from(text, 'utf8')),
    csvEnd: Buffer.from(`${empty}\r\n`, 'utf8'),
  };
}

/** The length of 'YYYY-MM-DDTHH:MM:SS.mmmZ'. */
const ISO_BYTES = 24;

/** The milliseconds of 'YYYY-MM-DD HH:MM:SS[.ffffff]' (data[from, to)) as node-postgres reads them. */
function isoMilliseconds(data: Buffer, from: number, to: number): number {
  if (to - from <= 19) return 0;
  // node-postgres: 1000 × parseFloat('.ffffff'), truncated; digits ÷ 10^n is the same double.
  let digits = 0;
  let scale = 1;
  for (let index = from + 20; index < to; index += 1) {
    digits = digits * 10 + ((data[index] ?? 48) - 48);
    scale *= 10;
  }
  return Math.trunc(1000 * (digits / scale));
}

/** 'YYYY-MM-DD HH:MM:SS[.ffffff]' (UTC) as Date#toISOString writes it after node-postgres. */
function writeIso(data: Buffer, from: number, to: number, out: Buffer, at: number): number {
  let write = copyBytes(data, from, from + 10, out, at);
  out[write++] = 84; // T
  write = copyBytes(data, from + 11, from + 19, out, write);
  out[write++] = 46; // .
  const ms = isoMilliseconds(data, from, to);
  out[write++] = 48 + Math.floor(ms / 100);
  out[write++] = 48 + (Math.floor(ms / 10) % 10);
  out[write++] = 48 + (ms % 10);
  out[write++] = 90; // Z
  return write;
}
