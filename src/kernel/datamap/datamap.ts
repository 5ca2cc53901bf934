/**
 * The data map: every module declares, next to its tables, which column holds which data
 * category of which data subject, and how a subject's rows are erased. Access reports,
 * exports, erasure and retention walk this map; no module writes its own "delete this person".
 */

export interface PersonalColumn {
  /** A category key of the tenant's policy, e.g. `user.contact.email`. */
  category: string;
  /** Stored as AES-256-GCM ciphertext under the subject's data key (shredded on erasure). */
  encrypted?: boolean;
  /** Which of the subject's keys encrypts it (default the subject's own; 'dossier': VX-4/VX-7). */
  keyScope?: 'subject' | 'dossier';
  /**
   * A secret the person may know of (a password or TOTP seed in their technical dossier): reports
   * and exports show that it exists, masked, never its value.
   */
  masked?: boolean;
  /** A keyed hash of another column for exact-match search; erased with it. */
  blindIndexOf?: string;
  /**
   * A security secret of the person's account (password hash, second-factor secret, recovery
   * codes): kept to protect the account, erased with it, but never shown, exported or disclosed.
   * Access reports and portability exports leave it out and say so (GDPR Art. 15(4)).
   */
  securitySecret?: true;
}

/** Column names that look like a credential: the data-map check wants them flagged as secrets. */
const SECRET_NAME = /password|secret|totp|recovery|token|session|credential/;

/**
 * How a subject's rows in a table are erased:
 * - delete_rows: the rows go;
 * - null_personal: personal columns are set to NULL, the row (e.g. a contract's commercial
 *   facts) stays without its link to a person;
 * - held: the rows stay as long as the named legal hold of the policy keeps them, readable only
 *   under that hold's purposes; retention erases them when it ends.
 */
export type ErasureRule =
  | { kind: 'delete_rows' }
  | { kind: 'null_personal' }
  | { kind: 'held'; legalHold: string; then: 'delete_rows' | 'null_personal' };

/**
 * Free text typed by a person (staff or the data subject) rather than written by the program:
 * scanned on every write (VK-16) before it is stored.
 * - all: identifiers (national register number, IBAN, card number) and special-category words;
 * - identifiers: identifiers only, for names, titles and addresses, where a word like
 *   "psychiater" is a job title, not health data about the person.
 */
export type FreeTextScan = 'all' | 'identifiers';

/**
 * A table whose open rows keep their subject from being erased (GDPR Art. 17(3)(e), VK-23: an
 * officer's legal hold, a disputed invoice). While such a row is open, no erasure of the whole
 * person runs: it is refused with `erasure_held`, and the hold row itself stays (decision 0415).
 */
export interface SubjectHoldRule {
  /** Stable name of the hold, told to staff and the person (never the hold's reason). */
  kind: string;
  /** The row holds while this column is NULL (e.g. `released_at`, `closed_at`), when given. */
  openWhileNull?: string;
  /** A date column: the row holds up to and including that day (Belgian day), when given. */
  endsOn?: string;
  /** A NULL `endsOn` holds without end (an open-ended contract); otherwise such a row holds nothing. */
  endlessWhileEndsOnNull?: boolean;
  /**
   * Why the row keeps the person: a legal claim (Art. 17(3)(e), `erasure_held`, the default) or a
   * contract that still runs and needs the data (`erasure_contract_running`, decision 0940).
   */
  ground?: 'legal_claim' | 'running_contract';
}

/**
 * A table whose rows an erasure keeps, without a word to the person, while a silence an authority
 * imposed runs (decision 0470): the person's link to a request of a judicial authority or the police
 * that forbids telling them. The rows are linked through `via` to a row of `table` whose `until`
 * day (Belgian day, inclusive) has not passed; the erasure deletes the other rows as usual, names
 * the kept ones only in the staff outcome (`keptSilently`), and a later erasure of the (already
 * erased) subject deletes them once the silence ends. Only for link tables without personal
 * columns: they need no data key, so the key is destroyed as for any erasure.
 */
export interface SilenceRule {
  /** Stable name told to staff in the erasure outcome. */
  kind: string;
  /** The table that holds the silence (e.g. `authority_requests`). */
  table: string;
  /** The column both tables share (e.g. `authority_request_id`). */
  via: string;
  /** The date column of `table`: the silence runs up to and including that day. */
  until: string;
}

export interface TableDataMap {
  table: string;
  module: string;
  /** Open rows of this table keep their subject (`subjectColumn`) from being erased. */
  holdsSubject?: SubjectHoldRule;
  /** Rows an erasure keeps silently while a linked authority silence runs (decision 0470). */
  keptWhileSilent?: SilenceRule;
  /** The column holding `data_subjects.subject_id`, when rows belong to a data subject. */
  subjectColumn?: string;
  /** The column holding the row's own id, bound into encrypted fields' associated data. */
  rowIdColumn?: string;
  erasure?: ErasureRule;
  personal: Record<string, PersonalColumn>;
  /** Columns that hold no personal data, each with the reason. */
  notPersonal: Record<string, string>;
  /** Columns (personal or not) that hold free text typed by a person, and how they are scanned. */
  freeText?: Record<string, FreeTextScan>;
  /**
   * 'csv': the portability ZIP gives this table's rows as CSV only, not also as JSON — for a long
   * history (call records) whose second file was half the ZIP's work (decision 0825). Otherwise
   * a table is given as JSON and as CSV.
   */
  portableAs?: 'csv';
}

/** Checks one table's declaration for internal consistency (a test runs it over every map). */
export function findDataMapProblems(map: TableDataMap): string[] {
  const problems: string[] = [];
  const personal = Object.keys(map.personal);
  const hasPersonal = personal.length > 0;
  for (const column of personal) {
    if (column in map.notPersonal) problems.push(`${map.table}.${column} is both personal and not personal`);
    const blindOf = map.personal[column]?.blindIndexOf;
    if (blindOf && !(blindOf in map.personal))
      problems.push(`${map.table}.${column} indexes unknown column ${blindOf}`);
    if (SECRET_NAME.test(column) && !map.personal[column]?.securitySecret && !map.personal[column]?.masked)
      problems.push(`${map.table}.${column} looks like a security secret but is not flagged as one`);
  }
  for (const column of Object.keys(map.freeText ?? {})) {
    if (!(column in map.personal) && !(column in map.notPersonal))
      problems.push(`${map.table}.${column} is free text but not classified`);
  }
  if (hasPersonal && !map.subjectColumn)
    problems.push(`${map.table} holds personal data but names no subject column`);
  if (hasPersonal && !map.erasure) problems.push(`${map.table} holds personal data but has no erasure rule`);
  if (map.holdsSubject && !map.subjectColumn)
    problems.push(`${map.table} holds subjects but names no subject column`);
  if (map.holdsSubject && !map.holdsSubject.openWhileNull && !map.holdsSubject.endsOn)
    problems.push(`${map.table} holds subjects but names neither an open column nor an end`);
  if (map.keptWhileSilent && (!map.subjectColumn || hasPersonal || map.erasure?.kind !== 'delete_rows'))
    problems.push(`${map.table} is kept while silent but is no link table whose rows are deleted`);
  const encrypted = personal.filter((column) => map.personal[column]?.encrypted);
  if (encrypted.length > 0 && !map.rowIdColumn)
    problems.push(`${map.table} encrypts columns but names no row id column`);
  return problems;
}

/** The columns of a table that reports and exports leave out (security secrets). */
export function securitySecretColumns(map: TableDataMap): string[] {
  return Object.entries(map.personal)
    .filter(([, column]) => column.securitySecret)
    .map(([column]) => column);
}

export function categoriesOf(maps: readonly TableDataMap[]): Set<string> {
  const categories = new Set<string>();
  for (const map of maps) for (const column of Object.values(map.personal)) categories.add(column.category);
  return categories;
}
