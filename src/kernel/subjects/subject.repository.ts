import { RawNode, type Compilable, type CompiledQuery, type Expression } from 'kysely';
import { preparedQuery, type Tx } from '../../platform/db.js';
import type { PurposeState } from './subject.tables.js';

export interface SubjectStateRow {
  subjectId: number;
  subjectType: string;
  restrictedAt: Date | null;
  marketingObjectedAt: Date | null;
  erasedAt: Date | null;
  /** VK-15: the day the person reaches the policy's age (YYYY-MM-DD), while a minor. */
  minorUntil: string | null;
  parentalConsentAt: Date | null;
  /** State for the purpose asked about, if any was recorded. */
  purposeState: PurposeState | null;
}

/** One query for a whole batch: the gate decides per batch, not per row. */
export async function selectSubjectStates(
  tx: Tx,
  subjectIds: readonly number[],
  purpose: string,
): Promise<SubjectStateRow[]> {
  if (subjectIds.length === 0) return [];
  const rows = await tx
    .selectFrom('data_subjects as s')
    .leftJoin('subject_purpose_states as p', (join) =>
      join
        .onRef('p.tenant_id', '=', 's.tenant_id')
        .onRef('p.subject_id', '=', 's.subject_id')
        .on('p.purpose', '=', purpose),
    )
    .select([
      's.subject_id',
      's.subject_type',
      's.restricted_at',
      's.marketing_objected_at',
      's.erased_at',
      's.minor_until',
      's.parental_consent_at',
      'p.state',
    ])
    .where('s.subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .execute();
  return rows.map((row) => toStateRow(row, row.state));
}

/** A subject's columns as both state reads select them. */
interface SubjectColumns {
  subject_id: number;
  subject_type: string;
  restricted_at: Date | null;
  marketing_objected_at: Date | null;
  erased_at: Date | null;
  minor_until: string | null;
  parental_consent_at: Date | null;
}

function toStateRow(row: SubjectColumns, purposeState: PurposeState | null): SubjectStateRow {
  return {
    subjectId: row.subject_id,
    subjectType: row.subject_type,
    restrictedAt: row.restricted_at,
    marketingObjectedAt: row.marketing_objected_at,
    erasedAt: row.erased_at,
    minorUntil: row.minor_until === null ? null : String(row.minor_until),
    parentalConsentAt: row.parental_consent_at,
    purposeState,
  };
}

/**
 * `selectSubjectStates` for several purposes in ONE query (decision 0930): per purpose, each
 * existing subject's row with its state for that purpose, exactly as `selectSubjectStates(tx,
 * subjectIds, purpose)` gives them. For a batch decided under two purposes at once (an invoice
 * run: the customers' data under its own purpose, their calls under the calls purpose).
 */
export async function selectSubjectStatesForPurposes(
  tx: Tx,
  subjectIds: readonly number[],
  purposes: readonly string[],
): Promise<Map<string, SubjectStateRow[]>> {
  const wanted = [...new Set(purposes)];
  const byPurpose = new Map<string, SubjectStateRow[]>(wanted.map((purpose) => [purpose, []]));
  if (subjectIds.length === 0 || wanted.length === 0) return byPurpose;
  const rows = await tx
    .selectFrom('data_subjects as s')
    .leftJoin('subject_purpose_states as p', (join) =>
      join
        .onRef('p.tenant_id', '=', 's.tenant_id')
        .onRef('p.subject_id', '=', 's.subject_id')
        .on('p.purpose', '=', (eb) => eb.fn.any(eb.val(wanted))),
    )
    .select([
      's.subject_id',
      's.subject_type',
      's.restricted_at',
      's.marketing_objected_at',
      's.erased_at',
      's.minor_until',
      's.parental_consent_at',
      'p.purpose',
      'p.state',
    ])
    .where('s.subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .execute();
  // One row per subject and recorded state: each subject once per purpose, its state or none.
  const subjects = new Map<number, { row: (typeof rows)[number]; states: Map<string, PurposeState> }>();
  for (const row of rows) {
    let subject = subjects.get(row.subject_id);
    if (!subject) {
      subject = { row, states: new Map() };
      subjects.set(row.subject_id, subject);
    }
    if (row.purpose !== null && row.state !== null) subject.states.set(row.purpose, row.state);
  }
  for (const [purpose, states] of byPurpose) {
    for (const { row, states: recorded } of subjects.values()) {
      states.push(toStateRow(row, recorded.get(purpose) ?? null));
    }
  }
  return byPurpose;
}

/** What a gated read asks of every subject before its rows are sent (gate.ts, ReadGuard). */
export interface SubjectReadGuard {
  subjectTypes: readonly string[];
  purposeStates?: ReadonlyArray<string | null>;
  noMarketingObjection: boolean;
  today: string;
}

const GATE_PREFIX = 'gate_';

/**
 * More work for the gated statement (the audit entry, decision 0450): CTEs that run when the
 * guard's condition holds, and columns named `gate_…` whose values come back in `outcome`. Given
 * as text (decision 0855): `ctes` must give the same text for the same `shape`, `condition` and
 * `first`, and number its parameters (`parameters`, in that order) from `$first`.
 */
export interface GatedStatementPart {
  /** Two parts of one shape give the same text: the statement's text is built once per shape. */
  shape: string;
  ctes(condition: string, first: number): string;
  columns: string;
  parameters: readonly unknown[];
}

/**
 * The rows a gated read fetches: a Kysely select, or the same select compiled once for its shape
 * with only its parameters bound per read (decision 0855, gate.ts's `boundQuery`).
 */
export type GatedRows = Expression<unknown> | CompiledQuery;

/** The guard's condition on the purpose's state: none, "none recorded or one of", "one of". */
type PurposeCheck = 'any' | 'none_or_listed' | 'listed';

/**
 * The gated statement's text per shape (the rows' text, the purpose check, the marketing check,
 * the extra part's shape): built once, then only its parameters change (decision 0855). Bounded:
 * a caller whose rows' text varies (tests build one per column set) cannot grow it without end.
 */
const GATED_TEXTS = new Map<string, Map<string, string>>();
const GATED_TEXTS_LIMIT = 64;

function gatedText(
  rowsSql: string,
  rowsParameters: number,
  purposeCheck: PurposeCheck,
  marketing: boolean,
  also: GatedStatementPart | undefined,
): string {
  let byRows = GATED_TEXTS.get(rowsSql);
  if (!byRows) {
    if (GATED_TEXTS.size >= GATED_TEXTS_LIMIT) GATED_TEXTS.clear();
    byRows = new Map();
    GATED_TEXTS.set(rowsSql, byRows);
  }
  const key = `${purposeCheck}:${marketing}:${also?.shape ?? ''}`;
  let text = byRows.get(key);
  if (text === undefined) {
    text = buildGatedText(rowsSql, rowsParameters, purposeCheck, marketing, also);
    byRows.set(key, text);
  }
  return text;
}

/**
 * The text of subjectStatesWithRows's statement. The rows' parameters keep their numbers ($1…);
 * the gate's follow: purpose, ids, how many, subject types, day, [allowed states], then `also`'s.
 */
function buildGatedText(
  rowsSql: string,
  rowsParameters: number,
  purposeCheck: PurposeCheck,
  marketing: boolean,
  also: GatedStatementPart | undefined,
): string {
  const at = (offset: number): string => `$${rowsParameters + offset}`;
  const purposeSql =
    purposeCheck === 'any'
      ? 'true'
      : purposeCheck === 'none_or_listed'
        ? `(g.gate_purpose_state is null or g.gate_purpose_state = any(${at(6)}::text[]))`
        : `g.gate_purpose_state = any(${at(6)}::text[])`;
  const alsoFirst = rowsParameters + (purposeCheck === 'any' ? 6 : 7);
  return `
    with g as materialized (
      select s.subject_id as gate_subject_id, s.subject_type as gate_subject_type,
             s.restricted_at as gate_restricted_at, s.marketing_objected_at as gate_marketing_objected_at,
             s.erased_at as gate_erased_at, s.minor_until as gate_minor_until,
             s.parental_consent_at as gate_parental_consent_at, p.state as gate_purpose_state
        from data_subjects as s
        left join subject_purpose_states as p
          on p.tenant_id = s.tenant_id and p.subject_id = s.subject_id and p.purpose = ${at(1)}
       where s.subject_id = any(${at(2)}::bigint[])
    ), passed as (
      select count(*) = ${at(3)} as ok from g
       where g.gate_erased_at is null
         and g.gate_restricted_at is null
         and g.gate_subject_type = any(${at(4)}::text[])
         and (g.gate_minor_until is null or g.gate_minor_until <= ${at(5)}::date
              or g.gate_parental_consent_at is not null)
         and ${marketing ? 'g.gate_marketing_objected_at is null' : 'true'}
         and ${purposeSql}
    )${also ? `, ${also.ctes('(select ok from passed)', alsoFirst)}` : ''}
    select k.gate_part, (select ok from passed) as gate_ok${also ? `, ${also.columns}` : ''}, g.*, r.*
      from (values (0), (1), (2)) as k (gate_part)
      left join g on k.gate_part = 1
      left join (select row_number() over () as gate_row, q.* from (${rowsSql}) as q) as r
        on k.gate_part = 2 and (select ok from passed)
     where k.gate_part = 0
        or (k.gate_part = 1 and g.gate_subject_id is not null)
        or (k.gate_part = 2 and r.gate_row is not null)
     order by k.gate_part, r.gate_row`;
}

/** The raw node every gated statement carries (Kysely needs one; no plugin reads it). */
const GATED_NODE = RawNode.createWithSql('gated statement');

/**
 * The subjects' states (as selectSubjectStates reads them) and the rows of `rows` in ONE
 * statement (decision 0370). The rows come back only when every subject asked about exists and
 * passes `guard`; otherwise `rows` is undefined and nothing of them left the database. The rows
 * keep their order; their columns may not start with `gate_`. The statement goes as a named
 * statement of the connection (preparedQuery, decision 0770): only its text decides its name, and
 * every value (the subjects, the purpose, the guard's types and day, the entry) is a parameter.
 * Its text is built once per shape and only its parameters are bound per read (decision 0855).
 */
export async function subjectStatesWithRows<R>(
  tx: Tx,
  subjectIds: readonly number[],
  purpose: string,
  guard: SubjectReadGuard,
  rows: GatedRows,
  also?: GatedStatementPart,
): Promise<{ states: SubjectStateRow[]; rows: R[] | undefined; outcome: Record<string, unknown> }> {
  const ids = [...new Set(subjectIds)];
  const rowsQuery = 'sql' in rows ? rows : (rows as Expression<unknown> & Compilable).compile();
  const purposeCheck: PurposeCheck =
    guard.purposeStates === undefined
      ? 'any'
      : guard.purposeStates.includes(null)
        ? 'none_or_listed'
        : 'listed';
  const text = gatedText(
    rowsQuery.sql,
    rowsQuery.parameters.length,
    purposeCheck,
    guard.noMarketingObjection,
    also,
  );
  const parameters: unknown[] = [
    ...rowsQuery.parameters,
    purpose,
    ids,
    ids.length,
    [...guard.subjectTypes],
    guard.today,
  ];
  if (purposeCheck !== 'any')
    parameters.push(guard.purposeStates?.filter((state): state is string => state !== null) ?? []);
  if (also) parameters.push(...also.parameters);
  const statement: CompiledQuery<Record<string, unknown> & { gate_part: number }> = {
    query: GATED_NODE,
    queryId: rowsQuery.queryId,
    sql: text,
    parameters,
  };
  // Parsed and planned once per connection and shape (decision 0770); its checks run every time.
  const result = await tx.executeQuery(preparedQuery(statement));
  const states: SubjectStateRow[] = [];
  const read: R[] = [];
  let passed = false;
  let outcome: Record<string, unknown> = {};
  for (const row of result.rows) {
    if (row.gate_part === 0) {
      passed = row.gate_ok === true;
      outcome = row;
      continue;
    }
    if (row.gate_part === 1) {
      states.push({
        subjectId: row.gate_subject_id as number,
        subjectType: row.gate_subject_type as string,
        restrictedAt: row.gate_restricted_at as Date | null,
        marketingObjectedAt: row.gate_marketing_objected_at as Date | null,
        erasedAt: row.gate_erased_at as Date | null,
        minorUntil: row.gate_minor_until as string | null,
        parentalConsentAt: row.gate_parental_consent_at as Date | null,
        purposeState: row.gate_purpose_state as PurposeState | null,
      });
      continue;
    }
    const own: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row)) if (!key.startsWith(GATE_PREFIX)) own[key] = value;
    read.push(own as R);
  }
  return { states, rows: passed ? read : undefined, outcome };
}
