import { sql } from 'kysely';
import type { TableDataMap } from '../datamap/datamap.js';
import type { Kernel } from '../kernel.js';
import {
  declaredCategories,
  describeReport,
  renderRow,
  type AccessReportContext,
  type AccessReportOptions,
} from './access-report.service.js';

/**
 * The access report a page at a time, for the privacy portal's "my data" (issue 19): an overview
 * that counts rows per table without reading a value, and one table's rows, by month where they
 * are dated (call records), a page at a time. The whole report (`buildAccessReport`) stays what
 * the downloads and the answer to an access request give.
 */

/** Columns that date a row, in the order they are preferred (as the portal reads tables by month). */
const TIME_COLUMNS = ['started_at', 'issued_on', 'created_at', 'received_at', 'at'];

export interface AccessTableSummary {
  table: string;
  module: string;
  /** Rows of the person in this table. */
  rows: number;
  /** The categories of the columns the person has a value in. */
  categories: string[];
  /** A column that dates the rows, for reading them by month; null when there is none. */
  timeColumn: string | null;
}

export interface AccessOverview extends AccessReportContext {
  tables: AccessTableSummary[];
}

/** The columns a report shows (blind indexes and security secrets never). */
const shownColumns = (map: TableDataMap): string[] =>
  Object.entries(map.personal)
    .filter(([, declaration]) => !declaration.blindIndexOf && !declaration.securitySecret)
    .map(([column]) => column);

const timeColumnOf = (map: TableDataMap): string | null =>
  TIME_COLUMNS.find((column) => column in map.personal) ?? null;

/**
 * The report's words (purposes, legal bases, recipients, retention, sources) for the categories
 * the person has data in, and per table how many rows: values are counted, never read or
 * decrypted. One gate decision (action `export`, the whole person), as for the report.
 */
export async function buildAccessOverview(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: AccessReportOptions,
): Promise<AccessOverview> {
  const { policy } = await kernel.policies.current(options.tenantId);
  return kernel.transact(options.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(atx, options.actor, {
      purpose: options.purpose,
      action: 'export',
      categories: declaredCategories(policy, dataMap),
      subjectIds: [options.subjectId],
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    const tables: AccessTableSummary[] = [];
    const present = new Set<string>();
    for (const map of dataMap) {
      const columns = shownColumns(map);
      if (!map.subjectColumn || columns.length === 0) continue;
      const counts = await sql<
        Record<string, number>
      >`select count(*)::int as ${sql.id('__rows')}, ${sql.join(
        columns.map((column) => sql`count(${sql.ref(column)})::int as ${sql.id(column)}`),
      )} from ${sql.table(map.table)} where ${sql.ref(map.subjectColumn)} = ${options.subjectId}`.execute(
        atx.tx,
      );
      const row = counts.rows[0] ?? {};
      const rows = row.__rows ?? 0;
      if (rows === 0) continue;
      const categories = [
        ...new Set(
          columns
            .filter((column) => (row[column] ?? 0) > 0)
            .map((column) => map.personal[column]?.category ?? ''),
        ),
      ].filter((category) => category !== '');
      if (categories.length === 0) continue;
      for (const category of categories) present.add(category);
      tables.push({ table: map.table, module: map.module, rows, categories, timeColumn: timeColumnOf(map) });
    }
    const context = await describeReport(kernel, atx, grant, dataMap, options, present);
    return { ...context, tables };
  });
}

export interface AccessTablePageOptions extends AccessReportOptions {
  table: string;
  /** `YYYY-MM`: only the rows dated in that month (a table with a time column). */
  month?: string | undefined;
  /**
   * A dated table with more rows than this is read a month at a time: the month asked, else the
   * newest. Without it, `month` alone decides.
   */
  monthlyAbove?: number;
  offset: number;
  limit: number;
}

export interface AccessTablePage {
  table: string;
  module: string;
  /** The person's rows in the table, and in the month asked for. */
  total: number;
  inMonth: number;
  timeColumn: string | null;
  /** The month these rows are of, when read by month. */
  month: string | null;
  /** Months with rows, newest first (empty for a table without a time column). */
  months: Array<{ month: string; rows: number }>;
  /** The shown values of each row, with their categories (the page names a column by its category). */
  rows: Array<Record<string, { category: string; value: unknown }>>;
}

/**
 * One table of the person's data, one page of it: the gate is asked for that table's categories
 * only (action `export`), and only the rows of the page are read and decrypted. Rows are in time
 * order within a month where the table dates them. Undefined for a table the data map does not
 * show the person.
 */
export async function readAccessTablePage(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: AccessTablePageOptions,
): Promise<AccessTablePage | undefined> {
  const map = dataMap.find((candidate) => candidate.table === options.table);
  const subjectColumn = map?.subjectColumn;
  if (!map || !subjectColumn || shownColumns(map).length === 0) return undefined;
  const { policy } = await kernel.policies.current(options.tenantId);
  const categories = [
    ...new Set(shownColumns(map).map((column) => map.personal[column]?.category ?? '')),
  ].filter((category) => policy.categories[category]);
  if (categories.length === 0) return undefined;
  const timeColumn = timeColumnOf(map);
  return kernel.transact(options.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(atx, options.actor, {
      purpose: options.purpose,
      action: 'export',
      categories,
      subjectIds: [options.subjectId],
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    const mine = sql`${sql.ref(subjectColumn)} = ${options.subjectId}`;
    const total =
      (
        await sql<{
          n: number;
        }>`select count(*)::int as n from ${sql.table(map.table)} where ${mine}`.execute(atx.tx)
      ).rows[0]?.n ?? 0;
    let months: AccessTablePage['months'] = [];
    let month: string | null = null;
    let where = mine;
    let order = sql`${sql.ref(map.rowIdColumn ?? subjectColumn)}`;
    if (timeColumn) {
      const time = sql.ref(timeColumn);
      months = (
        await sql<{
          month: string;
          rows: number;
        }>`select to_char(${time}, 'YYYY-MM') as month, count(*)::int as rows from ${sql.table(map.table)}
          where ${mine} and ${time} is not null group by 1 order by 1 desc`.execute(atx.tx)
      ).rows;
      const monthly = options.monthlyAbove === undefined || total > options.monthlyAbove;
      month = monthly
        ? (options.month ?? (options.monthlyAbove === undefined ? null : (months[0]?.month ?? null)))
        : null;
      if (month !== null) {
        const [year, number] = month.split('-').map(Number) as [number, number];
        const next =
          number === 12 ? `${year + 1}-01-01` : `${year}-${String(number + 1).padStart(2, '0')}-01`;
        where = sql`${mine} and ${time} >= ${`${month}-01`}::date and ${time} < ${next}::date`;
      }
      order = sql`${time}, ${order}`;
    }
    const inMonth =
      month !== null
        ? ((
            await sql<{
              n: number;
            }>`select count(*)::int as n from ${sql.table(map.table)} where ${where}`.execute(atx.tx)
          ).rows[0]?.n ?? 0)
        : total;
    const found = await sql<Record<string, unknown>>`select * from ${sql.table(map.table)} where ${where}
      order by ${order} limit ${options.limit} offset ${options.offset}`.execute(atx.tx);
    const rows: AccessTablePage['rows'] = [];
    for (const row of found.rows) {
      const rendered = await renderRow(grant, map, row, options.subjectId);
      if (Object.keys(rendered).length > 0) rows.push(rendered);
    }
    return { table: map.table, module: map.module, total, inMonth, timeColumn, month, months, rows };
  });
}
