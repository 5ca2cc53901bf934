import type { AccessOverview, AccessReport } from '../../kernel/access-report/index.js';
import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import type { Language, Policy } from '../../kernel/policy/policy.schema.js';
import { STATEMENT_TEXTS } from '../../kernel/policy/statement.texts.js';

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

const COLUMN_LABELS: Record<Language, Record<string, string>> = {
  nl: {
    family_name: 'Naam',
    given_name: 'Voornaam',
    gender: 'Geslacht',
    preferred_language: 'Taal',
    email_enc: 'E-mailadres',
    phone_enc: 'Telefoonnummer',
    address_enc: 'Adres',
    birth_date_enc: 'Geboortedatum',
    job_title: 'Functie',
    job_function: 'Taak',
    started_at: 'Begin',
    ended_at: 'Einde',
    answered_at: 'Opgenomen',
    caller_e164: 'Van',
    destination: 'Naar',
    duration_seconds: 'Duur (s)',
    billable_seconds: 'Aangerekend (s)',
    cost_micros: 'Kost (miljoenste euro)',
    dedup_key: 'Referentie van de centrale',
    disposition: 'Afloop',
    is_billable_leg: 'Aanrekenbaar',
    linked_id: 'Gekoppelde oproep',
    direction: 'Richting',
    b_leg: 'Tweede been van',
    valid_from: 'Vanaf',
    valid_to: 'Tot',
    plan_id: 'Tariefplan',
  },
  fr: {
    family_name: 'Nom',
    given_name: 'Prénom',
    gender: 'Genre',
    preferred_language: 'Langue',
    email_enc: 'Adresse e-mail',
    phone_enc: 'Téléphone',
    address_enc: 'Adresse',
    birth_date_enc: 'Date de naissance',
    job_title: 'Fonction',
    job_function: 'Rôle',
    started_at: 'Début',
    ended_at: 'Fin',
    answered_at: 'Décroché',
    caller_e164: 'De',
    destination: 'Vers',
    duration_seconds: 'Durée (s)',
    billable_seconds: 'Facturé (s)',
    cost_micros: 'Coût (millionièmes d’euro)',
    dedup_key: 'Référence du central',
    disposition: 'Issue',
    is_billable_leg: 'Facturable',
    linked_id: 'Appel lié',
    direction: 'Sens',
    b_leg: 'Second tronçon de',
    valid_from: 'Depuis',
    valid_to: 'Jusqu’au',
    plan_id: 'Plan tarifaire',
  },
  en: {
    family_name: 'Last name',
    given_name: 'First name',
    gender: 'Gender',
    preferred_language: 'Language',
    email_enc: 'E-mail address',
    phone_enc: 'Phone number',
    address_enc: 'Address',
    birth_date_enc: 'Date of birth',
    job_title: 'Job title',
    job_function: 'Function',
    started_at: 'Start',
    ended_at: 'End',
    answered_at: 'Answered',
    caller_e164: 'From',
    destination: 'To',
    duration_seconds: 'Duration (s)',
    billable_seconds: 'Billed (s)',
    cost_micros: 'Cost (millionths of a euro)',
    dedup_key: 'Exchange reference',
    disposition: 'Outcome',
    is_billable_leg: 'Chargeable',
    linked_id: 'Linked call',
    direction: 'Direction',
    b_leg: 'Second leg of',
    valid_from: 'From',
    valid_to: 'Until',
    plan_id: 'Rating plan',
  },
};

/** A column's name for people: known columns by name, others by their category's label. */
export function columnLabel(column: string, categoryLabel: string, lang: Language): string {
  return (
    COLUMN_LABELS[lang][column] ?? `${categoryLabel} (${column.replace(/_enc$/, '').replaceAll('_', ' ')})`
  );
}

/** Instants are shown on the clock the bills use (Europe/Brussels, as the invoice run counts months). */
const SHOWN_TIME_ZONE = 'Europe/Brussels';
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const LOCALE: Record<Language, string> = { nl: 'nl-BE', fr: 'fr-BE', en: 'en-GB' };

/** A value as text: instants as local date and time, objects (an address) as their parts, nothing as a dash. */
export function displayValue(value: unknown, lang: Language): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'string' && INSTANT.test(value)) {
    return new Intl.DateTimeFormat(LOCALE[lang], {
      timeZone: SHOWN_TIME_ZONE,
      dateStyle: 'short',
      timeStyle: 'medium',
    }).format(new Date(value));
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object')
    return Object.values(value as Record<string, unknown>)
      .filter((part) => part !== null && part !== undefined && part !== '')
      .map(String)
      .join(', ');
  return JSON.stringify(value);
}
