import { StringDecoder } from 'node:string_decoder';
import { sql } from 'kysely';
import pg from 'pg';
import { copyOut } from '../../platform/copy-out.js';
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
  return {
    table: map.table,
    columns,
    // The subject id is a safe integer (checked above); COPY takes no parameters.
    statement: `COPY (SELECT ${selected.join(', ')} FROM ${ident(map.table)} WHERE ${ident(map.subjectColumn)} = ${String(subjectId)} AND (${present.join(' OR ')})) TO STDOUT`,
  };
}

export type RowShape = 'report' | 'record' | 'csv';

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
): { pieces: AsyncGenerator<string>; writer: CopyRowWriter } {
  const writer = new CopyRowWriter(plan, shape, separator);
  return {
    writer,
    pieces: (async function* () {
      for await (const chunk of copyOut(client, plan.statement)) {
        const text = writer.push(chunk);
        if (text) yield text;
      }
      const rest = writer.end();
      if (rest) yield rest;
    })(),
  };
}

/**
 * Writes COPY text (rows of tab-separated fields, `\N` for null) as rows of one shape: 'report'
 * `{"column":{"category":…,"value":…}}`, 'record' `{"column":value}` (null columns left out, as
 * renderRow does), or 'csv' (cells as csvRecord writes them, CRLF). `push` takes the bytes as they
 * come (a row may be split between chunks) and returns the complete rows' text, each row preceded
 * by `separator` but the first. The rows are written as pieces joined once per chunk: this runs
 * for every cell of a long history, so it allocates as little as it can.
 */
export class CopyRowWriter {
  readonly #shape: RowShape;
  readonly #separator: string;
  readonly #decoder = new StringDecoder('utf8');
  /** Per selected column: its kind, and what goes before its value as first / later cell. */
  readonly #kinds: Kind[];
  readonly #first: string[];
  readonly #later: string[];
  /** CSV: the hidden (empty) cells before each selected column, and after the last. */
  readonly #emptyBefore: string[];
  readonly #emptyAfter: string;
  readonly #seen: boolean[];
  readonly #categories: string[];
  #partial = '';
  #rows = 0;

  constructor(plan: CopyPlan, shape: RowShape, separator = '') {
    this.#shape = shape;
    this.#separator = separator;
    const selected = plan.columns.filter((column) => column.kind !== 'hidden');
    this.#kinds = selected.map((column) => column.kind);
    this.#categories = selected.map((column) => column.category);
    this.#seen = selected.map(() => false);
    const keys = selected.map((column) =>
      shape === 'report'
        ? `${JSON.stringify(column.name)}:{"category":${JSON.stringify(column.category)},"value":`
        : `${JSON.stringify(column.name)}:`,
    );
    // A report cell's object closes before the next cell: '},' opens it.
    this.#first = keys;
    this.#later = keys.map((key) => (shape === 'report' ? `},${key}` : `,${key}`));
    this.#emptyBefore = [];
    let empty = '';
    for (const column of plan.columns) {
      if (column.kind === 'hidden') empty += ',';
      else {
        this.#emptyBefore.push(empty);
        empty = '';
      }
    }
    this.#emptyAfter = empty;
  }

  /** How many rows were written. */
  get rows(): number {
    return this.#rows;
  }

  /** The categories of the columns that held a value in some row written. */
  get categories(): string[] {
    return [...new Set(this.#categories.filter((_, index) => this.#seen[index]))];
  }

  push(chunk: Buffer): string {
    const text = this.#partial + this.#decoder.write(chunk);
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      this.#partial = text;
      return '';
    }
    this.#partial = text.slice(end + 1);
    return this.#lines(text, end);
  }

  /** What is left at the end of the COPY (nothing, when the server ended its last row). */
  end(): string {
    const text = this.#partial + this.#decoder.end();
    this.#partial = '';
    return text === '' ? '' : this.#lines(`${text}\n`, text.length);
  }

  /** The rows of `text` up to the line break at `end` (each row ends with one). */
  #lines(text: string, end: number): string {
    const out: string[] = [];
    const csv = this.#shape === 'csv';
    const closing = this.#shape === 'report' ? '}}' : '}';
    const kinds = this.#kinds;
    const columns = kinds.length;
    let start = 0;
    while (start <= end) {
      const stop = text.indexOf('\n', start);
      const mark = out.length;
      if (this.#rows > 0) out.push(this.#separator);
      if (!csv) out.push('{');
      let shown = false;
      let from = start;
      for (let index = 0; index < columns; index += 1) {
        let to = text.indexOf('\t', from);
        if (to < 0 || to > stop) to = stop;
        const kind = kinds[index] ?? 'text';
        const isNull = to - from === 2 && text.charCodeAt(from) === 92 && text.charCodeAt(from + 1) === 78;
        if (csv) {
          out.push(index === 0 ? (this.#emptyBefore[0] ?? '') : `,${this.#emptyBefore[index] ?? ''}`);
          const value = isNull ? undefined : csvText(kind, text, from, to);
          if (value !== undefined) {
            out.push(csvCell(value));
            this.#seen[index] = true;
            shown = true;
          }
        } else if (!isNull) {
          const mark = out.length;
          out.push((shown ? this.#later[index] : this.#first[index]) ?? '');
          if (pushJson(out, kind, text, from, to)) {
            this.#seen[index] = true;
            shown = true;
          } else out.length = mark;
        }
        from = to + 1;
      }
      start = stop + 1;
      if (!shown) {
        // renderRow leaves out a row that shows nothing.
        out.length = mark;
        continue;
      }
      out.push(csv ? `${this.#emptyAfter}\r\n` : closing);
      this.#rows += 1;
    }
    return out.join('');
  }
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

/** ＝ ＋ － ＠: full-width forms a spreadsheet also reads as a formula. */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

/**
 * One CSV cell as csvRecord (platform/csv.ts) writes it: a leading formula character defused with
 * an apostrophe; quoted, quotes doubled, when it holds a comma, a quote or a line break.
 */
export function csvCell(text: string): string {
  const cell = text !== '' && FORMULA_START.has(text.charAt(0)) ? `'${text}` : text;
  return /[",\r\n]/.test(text) ? `"${cell.replaceAll('"', '""')}"` : cell;
}
