import { belgianMoment } from '../../platform/calendar.js';
import { escapeHtml } from '../../platform/html.js';
import { STATEMENT_TEXTS } from '../policy/statement.texts.js';
import { columnWords, valueWords } from './person-words.js';
import type { AccessReport } from './access-report.schema.js';

const TITLES = {
  nl: {
    title: 'Uw gegevens bij',
    data: 'Welke gegevens we van u hebben',
    why: 'Waarom en op welke rechtsgrond',
    who: 'Wie ze kan ontvangen',
    disclosed: 'Aan wie we ze gaven',
    keep: 'Hoe lang we ze bewaren',
    complain: 'Klacht',
    table: 'Bron',
    none: 'geen',
    withheld: 'Wat we niet meegeven',
    consulted: 'Wie uw gegevens raadpleegde',
    by: { staff: 'een medewerker', you: 'uzelf', system: 'automatisch' },
    actions: {
      read: 'bekeken',
      write: 'gewijzigd',
      export: 'geëxporteerd',
      store: 'opgeslagen',
      erase: 'gewist',
    },
    refused: 'geweigerd',
    times: (n: number) => (n === 1 ? '1 keer' : `${n} keer`),
  },
  fr: {
    title: 'Vos données chez',
    data: 'Les données que nous avons',
    why: 'Pourquoi et sur quelle base légale',
    who: 'Qui peut les recevoir',
    disclosed: 'À qui nous les avons communiquées',
    keep: 'Combien de temps nous les gardons',
    complain: 'Plainte',
    table: 'Source',
    none: 'aucun',
    withheld: 'Ce que nous ne communiquons pas',
    consulted: 'Qui a consulté vos données',
    by: { staff: 'un collaborateur', you: 'vous-même', system: 'automatiquement' },
    actions: {
      read: 'consultées',
      write: 'modifiées',
      export: 'exportées',
      store: 'enregistrées',
      erase: 'effacées',
    },
    refused: 'refusé',
    times: (n: number) => (n === 1 ? '1 fois' : `${n} fois`),
  },
  en: {
    title: 'Your data at',
    data: 'The data we hold about you',
    why: 'Why, and on which legal basis',
    who: 'Who may receive it',
    disclosed: 'To whom we disclosed it',
    keep: 'How long we keep it',
    complain: 'Complaints',
    table: 'Source',
    none: 'none',
    withheld: 'What we leave out',
    consulted: 'Who consulted your data',
    by: { staff: 'a member of staff', you: 'you', system: 'automatically' },
    actions: { read: 'read', write: 'changed', export: 'exported', store: 'stored', erase: 'erased' },
    refused: 'refused',
    times: (n: number) => (n === 1 ? 'once' : `${n} times`),
  },
} as const;

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A stored instant or day as a person in Belgium reads it: dd-mm-jjjj hh:mm (Brussels) or dd-mm-jjjj. */
function readableText(text: string): string {
  const day = DAY.exec(text);
  if (day) return `${day[3]}-${day[2]}-${day[1]}`;
  if (!INSTANT.test(text)) return text;
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) return text;
  return belgianMoment(at);
}

function renderValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return escapeHtml(readableText(value));
  if (typeof value === 'object') {
    const parts = Object.values(value as Record<string, unknown>).map((part) =>
      typeof part === 'string' ? readableText(part) : JSON.stringify(part),
    );
    return escapeHtml(parts.join(', '));
  }
  return escapeHtml(JSON.stringify(value));
}

/** A legal basis in the statement's own words; the JSON keeps the key. */
function legalBasisText(basis: string, language: AccessReport['language']): string {
  const words: Readonly<Record<string, string>> = STATEMENT_TEXTS[language].legalBases;
  return Object.hasOwn(words, basis) ? (words[basis] ?? basis) : basis;
}

type Titles = (typeof TITLES)[keyof typeof TITLES];
type Row = AccessReport['data'][number]['rows'][number];

/** The report's start, up to its data table (which the rows then fill). */
export function accessReportHtmlHead(report: Pick<AccessReport, 'language' | 'controller'>): string {
  const t: Titles = TITLES[report.language];
  return `<!doctype html>
<html lang="${report.language}"><head><meta charset="utf-8"><title>${t.title} ${escapeHtml(report.controller.name)}</title></head>
<body>
<h1>${t.title} ${escapeHtml(report.controller.name)}</h1>
<p>${escapeHtml(report.controller.address)} — ${escapeHtml(report.controller.enterpriseNumber)} — ${escapeHtml(report.controller.privacyContact)}</p>
<h2>${t.data}</h2>
<table><tbody>
`;
}

/** What a row of one table needs to be read: its columns' categories and the words for codes. */
export interface RowWords {
  table: string;
  /** The table's column → category. */
  columns: Readonly<Record<string, string>>;
  language: AccessReport['language'];
  labelOf: (category: string) => string;
  /** A policy purpose's label, for a column that holds a purpose's key (consent records). */
  purposeLabel: (key: string) => string | undefined;
}

/**
 * One row of the person's data as table rows: a line per value, named by the column's own words
 * where it has them (else its category's label), coded values in words (person-words.ts).
 */
export function accessReportHtmlRow(row: Row, words: RowWords): string {
  return Object.entries(row)
    .map(([column, value]) => {
      const name =
        columnWords(words.table, column, words.language) ?? words.labelOf(words.columns[column] ?? column);
      const worded = valueWords(words.table, column, value, words.language, words.purposeLabel);
      const shown = worded === undefined ? renderValue(value) : escapeHtml(worded);
      return `<tr><td>${escapeHtml(name)}</td><td>${shown}</td></tr>\n`;
    })
    .join('');
}

/** One line of who consulted the data: "2026-11-02: a member of staff (Billing), read — Invoicing (3 times)". */
export function consultationLine(
  item: AccessReport['consultations'][number],
  language: AccessReport['language'],
): string {
  const t: Titles = TITLES[language];
  const who = item.roleLabel ? `${t.by[item.by]} (${item.roleLabel})` : t.by[item.by];
  const what =
    item.decision === 'denied' ? `${t.actions[item.action]}: ${t.refused}` : t.actions[item.action];
  const why = item.purposeLabel ?? item.purpose;
  return `${item.date}: ${who}, ${what}${why ? ` — ${why}` : ''} (${t.times(item.times)})`;
}

/** The report after its data: what is left out, purposes, recipients, disclosures, retention, complaints. */
export function accessReportHtmlTail(report: Omit<AccessReport, 'data'>): string {
  const t: Titles = TITLES[report.language];
  const labelOf = new Map(report.categories.map((category) => [category.key, category.label]));
  const purposes = report.purposes
    .map(
      (purpose) =>
        `<li>${escapeHtml(purpose.label)} — ${escapeHtml(legalBasisText(purpose.legalBasis, report.language))}</li>`,
    )
    .join('\n');
  const recipients =
    report.recipients
      .map((recipient) => `<li>${escapeHtml(recipient.label)} (${escapeHtml(recipient.country)})</li>`)
      .join('\n') || `<li>${t.none}</li>`;
  const labelOfCategory = (key: string): string => labelOf.get(key) ?? key;
  const disclosures =
    report.disclosures
      .map(
        (disclosure) =>
          `<li>${escapeHtml(readableText(disclosure.at.slice(0, 10)))}: ${escapeHtml(disclosure.recipient)} — ${escapeHtml(legalBasisText(disclosure.legalGround, report.language))} — ${escapeHtml(disclosure.categories.map(labelOfCategory).join(', '))}</li>`,
      )
      .join('\n') || `<li>${t.none}</li>`;
  const consultations =
    report.consultations
      .map((item) => `<li>${escapeHtml(consultationLine(item, report.language))}</li>`)
      .join('\n') || `<li>${t.none}</li>`;
  const retention = report.categories
    .map((category) => {
      const rules = category.retention.map((rule) => escapeHtml(rule.description ?? rule.kind)).join('; ');
      const source = category.source ? ` — ${t.table}: ${escapeHtml(category.source)}` : '';
      return `<li><strong>${escapeHtml(category.label)}</strong>: ${rules}${source}</li>`;
    })
    .join('\n');
  return `</tbody></table>
${report.withheld.items.length > 0 ? `<h2>${t.withheld}</h2>\n<p>${escapeHtml(report.withheld.note)}</p>\n` : ''}<h2>${t.why}</h2>
<ul>${purposes}</ul>
<h2>${t.who}</h2>
<ul>${recipients}</ul>
<h2>${t.disclosed}</h2>
<ul>${disclosures}</ul>
<h2>${t.consulted}</h2>
<ul>${consultations}</ul>
<h2>${t.keep}</h2>
<ul>${retention}</ul>
<p>${escapeHtml(report.automatedDecisions)}</p>
<h2>${t.complain}</h2>
<p>${escapeHtml(report.supervisoryAuthority.name)}, ${escapeHtml(report.supervisoryAuthority.address)}, ${escapeHtml(report.supervisoryAuthority.email)}, ${escapeHtml(report.supervisoryAuthority.website)}</p>
</body></html>
`;
}

/**
 * The access report for a person to read: the same facts as the JSON, every value escaped. For a
 * download, writeAccessPackage writes the same document while the rows are read.
 */
export function renderAccessReportHtml(report: AccessReport): string {
  const labels = new Map(report.categories.map((category) => [category.key, category.label]));
  const labelOf = (key: string): string => labels.get(key) ?? key;
  const purposes = new Map(report.purposes.map((purpose) => [purpose.key, purpose.label]));
  const rows = report.data
    .flatMap((table) =>
      table.rows.map((row) =>
        accessReportHtmlRow(row, {
          table: table.table,
          columns: table.columns,
          language: report.language,
          labelOf,
          purposeLabel: (key) => purposes.get(key),
        }),
      ),
    )
    .join('');
  return `${accessReportHtmlHead(report)}${rows}${accessReportHtmlTail(report)}`;
}
