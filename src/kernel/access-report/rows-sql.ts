import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '../../platform/db.js';
import type { PersonalColumn, TableDataMap } from '../datamap/datamap.js';

// Rows that need no decryption are rendered by PostgreSQL itself, one JSON text per row, in
// exactly the shape renderRow gives in JavaScript (docs/decisions/0251): the rows then cross the
// wire once, as the text they end up as, instead of being parsed into objects (a Date per
// timestamp) and serialised again.

/** The columns of a report or export: neither blind indexes nor security secrets. */
export function shownColumns(map: TableDataMap): Array<[string, PersonalColumn]> {
  return Object.entries(map.personal).filter(
    ([, declaration]) => !declaration.blindIndexOf && !declaration.securitySecret,
  );
}

interface ColumnType {
  name: string;
  /** pg_type.typname, e.g. 'timestamptz', '_text' for text[]. */
  type: string;
}

const TYPES = new WeakMap<TableDataMap, Map<string, string>>();

async function columnTypes(tx: Tx, map: TableDataMap): Promise<Map<string, string>> {
  const known = TYPES.get(map);
  if (known) return known;
  const { rows } = await sql<ColumnType>`select a.attname as name, t.typname as type
      from pg_attribute a join pg_type t on t.oid = a.atttypid
     where a.attrelid = ${map.table}::regclass and a.attnum > 0 and not a.attisdropped`.execute(tx);
  const types = new Map(rows.map((row) => [row.name, row.type]));
  TYPES.set(map, types);
  return types;
}

/**
 * How a value of a column type becomes the JSON value renderRow gives: what node-postgres parses
 * it into, then JSON. Types not listed here (intervals, timestamps without zone, geometric …)
 * leave the table to the JavaScript path.
 */
function jsonValue(column: string, type: string): RawBuilder<unknown> | undefined {
  const ref = sql.ref(column);
  switch (type) {
    case 'timestamptz':
      // Date#toISOString: milliseconds, UTC, 'Z'.
      return sql`to_json(to_char(${ref} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;
    case 'date': // kept as 'YYYY-MM-DD' text by the pool's type parser
    case 'numeric': // kept as text, never a float
      return sql`to_json(${ref}::text)`;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'bool':
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'citext':
    case '_text':
    case '_varchar':
    case '_int4':
    case '_int8':
    case 'json':
    case 'jsonb':
      return sql`to_json(${ref})`;
    default:
      return undefined;
  }
}

/**
 * One CSV cell as csvRecord (platform/csv.ts, csv-stringify) writes it: a string as itself, any
 * other value as its JSON; a leading = + - @ tab or CR (or their full-width forms) defused with an
 * apostrophe; quoted, quotes doubled, when the value holds a comma, quote or line break; null
 * empty. JSON values (objects, arrays) stay with the JavaScript path: PostgreSQL spaces them.
 */
function sqlCsvCell(column: string, type: string): RawBuilder<unknown> | undefined {
  const ref = sql.ref(column);
  let text: RawBuilder<unknown>;
  switch (type) {
    case 'timestamptz':
      text = sql`to_char(${ref} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
      break;
    case 'date':
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'citext':
      text = sql`${ref}::text`;
      break;
    case 'numeric':
      // A string in JavaScript, so written as itself.
      text = sql`${ref}::text`;
      break;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'bool':
      text = sql`to_json(${ref})::text`;
      break;
    default:
      return undefined;
  }
  return sql`case when ${ref} is null then '' else kluis_csv_cell(${text}) end`;
}

export type RowShape = 'report' | 'record' | 'csv';

/**
 * The statement that renders the subject's rows of one table as JSON texts, or undefined when
 * some shown column needs JavaScript (decryption, masking, a type not rendered here). 'report':
 * `{"column": {"category": …, "value": …}}` as in the access report; 'record': `{"column": value}`
 * as in the portability export. Null columns are left out and rows without any value skipped,
 * as renderRow does; non-encrypted binary columns are never shown.
 */
export async function renderedRowsQuery(
  tx: Tx,
  map: TableDataMap,
  subjectId: number,
  shape: RowShape,
): Promise<RenderedRows | undefined> {
  if (!map.subjectColumn) return undefined;
  const types = await columnTypes(tx, map);
  const parts: Array<RawBuilder<unknown>> = [];
  const present: Array<RawBuilder<unknown>> = [];
  const shown: Array<[string, string]> = [];
  for (const [column, declaration] of shownColumns(map)) {
    if (declaration.encrypted || declaration.masked) return undefined;
    const type = types.get(column);
    if (type === undefined) return undefined;
    if (type === 'bytea') {
      // Never shown; a CSV keeps its (empty) place.
      if (shape === 'csv') parts.push(sql`''`);
      continue;
    }
    if (shape === 'csv') {
      const cell = sqlCsvCell(column, type);
      if (!cell) return undefined;
      parts.push(cell);
      present.push(sql`${sql.ref(column)} is not null`);
      shown.push([column, declaration.category]);
      continue;
    }
    const value = jsonValue(column, type);
    if (!value) return undefined;
    const key = JSON.stringify(column.replace(/_enc$/, ''));
    const rendered =
      shape === 'report'
        ? sql`${sql.lit(`${key}:{"category":${JSON.stringify(declaration.category)},"value":`)} || ${value}::text || '}'`
        : sql`${sql.lit(`${key}:`)} || ${value}::text`;
    parts.push(sql`case when ${sql.ref(column)} is not null then ${rendered} end`);
    present.push(sql`${sql.ref(column)} is not null`);
    shown.push([column, declaration.category]);
  }
  if (parts.length === 0) return undefined;
  if (shape === 'csv') {
    return {
      query: sql<{ row: string }>`select concat_ws(',', ${sql.join(parts)}) || E'\\r\\n' as row
          from ${sql.table(map.table)}
         where ${sql.ref(map.subjectColumn)} = ${subjectId} and (${sql.join(present, sql` or `)})`,
      columns: shown,
    };
  }
  return {
    query: sql<{ row: string }>`select '{' || concat_ws(',', ${sql.join(parts)}) || '}' as row
        from ${sql.table(map.table)}
       where ${sql.ref(map.subjectColumn)} = ${subjectId} and (${sql.join(present, sql` or `)})`,
    columns: shown,
  };
}

export interface RenderedRows {
  query: RawBuilder<{ row: string }>;
  /** The columns the rows show, with their categories. */
  columns: Array<[string, string]>;
}

const PAGE = 5000;

/** The rendered rows through a cursor, a page at a time (constant memory). */
export async function* readRenderedRows(
  tx: Tx,
  query: RawBuilder<{ row: string }>,
  cursor: string,
): AsyncGenerator<string> {
  await sql`declare ${sql.id(cursor)} no scroll cursor for ${query}`.execute(tx);
  try {
    for (;;) {
      const page = await sql<{ row: string }>`fetch forward ${sql.lit(PAGE)} from ${sql.id(cursor)}`.execute(
        tx,
      );
      for (const { row } of page.rows) yield row;
      if (page.rows.length < PAGE) return;
    }
  } finally {
    await sql`close ${sql.id(cursor)}`.execute(tx);
  }
}
