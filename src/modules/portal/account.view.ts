import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import type { Language, Policy } from '../../kernel/policy/policy.schema.js';
import { STATEMENT_TEXTS } from '../../kernel/policy/statement.texts.js';
import { belgianMomentParts } from '../../platform/calendar.js';
import {
  columnWords,
  valueWords,
  type AccessOverview,
  type AccessReport,
} from '../../kernel/access-report/index.js';

/**
 * The access report in plain words for the account pages: every category with what it is used
 * for, on what basis, shared with whom, for how long and from where, in the person's language —
 * from the policy's own labels and the statement's own wording, never codes.
 */
export interface CategoryView {
  key: string;
  label: string;
  purposes: Array<{ label: string; basis: string }>;
  recipients: string[];
  retention: string[];
  source: string | null;
}

export function describeCategories(
  report: Pick<AccessReport, 'categories' | 'purposes' | 'recipients'>,
  policy: Policy,
  lang: Language,
): CategoryView[] {
  const words = STATEMENT_TEXTS[lang];
  return report.categories.map((category) => ({
    key: category.key,
    label: category.label,
    purposes: report.purposes
      .filter((purpose) => purpose.categories.includes(category.key))
      .map((purpose) => {
        const basis = policy.purposes[purpose.key]?.legalBasis;
        return { label: purpose.label, basis: basis ? words.legalBases[basis] : purpose.legalBasis };
      }),
    recipients: report.recipients
      .filter((recipient) => recipient.categories.includes(category.key))
      .map((recipient) => recipient.label),
    // One rule often serves several purposes of a category; the person reads each period once.
    retention: [
      ...new Set(
        category.retention.map((ref) => {
          const rule = policy.retentionRules[ref.rule];
          return rule ? words.retention.rule(rule) : (ref.description ?? ref.rule);
        }),
      ),
    ],
    source: category.source,
  }));
}

/** A table of the person's data as they see it: a name from its categories, how many rows. */
export interface TableView {
  table: string;
  label: string;
  rows: number;
  /** A column holding a moment, for tables read by month (call records). */
  timeColumn: string | null;
}

export function describeTables(
  overview: Pick<AccessOverview, 'categories' | 'tables'>,
  /** Own names of tables whose categories alone would name two tables alike (texts.ts). */
  tableNames: Partial<Record<string, string>> = {},
): TableView[] {
  const labels = new Map(overview.categories.map((category) => [category.key, category.label]));
  return overview.tables.map((table) => ({
    table: table.table,
    label:
      (Object.hasOwn(tableNames, table.table) ? tableNames[table.table] : undefined) ??
      table.categories.map((key) => labels.get(key) ?? key).join(', '),
    rows: table.rows,
    timeColumn: table.timeColumn,
  }));
}

/** What an erasure would keep, why and until when, from the data map and the policy (shown first). */
export function describeKept(
  overview: Pick<AccessOverview, 'categories' | 'tables'>,
  dataMap: readonly TableDataMap[],
  policy: Policy,
  lang: Language,
): Array<{ what: string; why: string; until: string }> {
  const labels = new Map(overview.categories.map((category) => [category.key, category.label]));
  const present = new Set(overview.tables.map((table) => table.table));
  const words = STATEMENT_TEXTS[lang];
  return dataMap.flatMap((map) => {
    if (map.erasure?.kind !== 'held' || !present.has(map.table)) return [];
    const hold = policy.legalHolds[map.erasure.legalHold];
    if (!hold) return [];
    const rule = policy.retentionRules[hold.retention];
    const categories = [...new Set(Object.values(map.personal).map((column) => column.category))];
    return [
      {
        what: categories
          .map((key) => labels.get(key) ?? policy.categories[key]?.label[lang] ?? key)
          .join(', '),
        why: `${hold.label[lang]} (${hold.legalReference})`,
        until: rule ? words.retention.rule(rule) : hold.retention,
      },
    ];
  });
}

/**
 * A column's name for people: its own words where it has them (person-words.ts), else its
 * category's label alone (never the column's internal name).
 */
export function columnLabel(table: string, column: string, categoryLabel: string, lang: Language): string {
  return columnWords(table, column, lang) ?? categoryLabel;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * A moment as a person in Belgium writes it, Brussels time, with seconds (a call is told from the
 * next by them): dd-mm-jjjj in Dutch, dd/mm/yyyy in French and English, as the back office does.
 */
function shownMoment(at: Date, lang: Language): string {
  // On the clock the bills use (Europe/Brussels, as the invoice run counts months).
  const part = belgianMomentParts(at);
  const separator = lang === 'nl' ? '-' : '/';
  const day = [part.day, part.month, part.year].join(separator);
  return `${day} ${part.hour}:${part.minute}:${part.second}`;
}

/**
 * A value as text: a coded value in words (a consent's event and channel, a purpose by its label;
 * person-words.ts), instants as local date and time, objects (an address) as their parts, nothing
 * as a dash.
 */
export function displayValue(
  value: unknown,
  lang: Language,
  coded?: { table: string; column: string; purposeLabel: (key: string) => string | undefined },
): string {
  if (value === null || value === undefined || value === '') return '—';
  const worded = coded ? valueWords(coded.table, coded.column, value, lang, coded.purposeLabel) : undefined;
  if (worded !== undefined) return worded;
  if (typeof value === 'string' && INSTANT.test(value)) return shownMoment(new Date(value), lang);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object')
    return Object.values(value as Record<string, unknown>)
      .filter((part) => part !== null && part !== undefined && part !== '')
      .map(String)
      .join(', ');
  return JSON.stringify(value);
}
