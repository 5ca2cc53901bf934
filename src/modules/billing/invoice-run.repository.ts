import {
  CONTRACTS,
  CONTRACT_LINES,
  categoryOfRate,
  type VatCategory,
  type VatTreatment,
} from '../contracts/index.js';
import { sql, type RawBuilder } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { arrayLiteral, type ArrayElement } from '../../platform/array-literal.js';
import { AppError } from '../../platform/errors.js';
import type { DestinationClass, DocumentLanguage, InvoiceSeries, SellerSnapshot } from './billing.tables.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { CALL_TOTALS, CALLS, CALL_TOTALS_HEAD_LENGTH } from '../telephony/index.js';
import { assertNumberingNotHeld } from './numbering-hold.js';

export interface CallWindow {
  from: Date;
  to: Date;
}

/** The instants of a Belgian calendar month's first and next-first midnight. */
export async function selectCallWindow(tx: Tx, start: string, end: string): Promise<CallWindow> {
  const result = await sql<{ from: Date; to: Date }>`select
      (${start}::date)::timestamp at time zone 'Europe/Brussels' as "from",
      (${end}::date + 1)::timestamp at time zone 'Europe/Brussels' as "to"`.execute(tx);
  const row = result.rows[0];
  if (!row) throw new Error('no call window');
  return row;
}

/** What the month's calls say before anyone is billed: subject ids and a count, no personal values. */
export interface CallWindowSubjects {
  /** Chargeable calls the tariff could not rate: a month with any cannot be billed completely. */
  unrated: number;
  /** Subjects with calls that cost something in the window. */
  charged: number[];
}

/**
 * The month's per-customer call totals (telephony's `call_record_month_totals`, kept with the calls
 * by triggers, decision 0500): the unrated count and the charged subjects, without reading a call.
 */
export async function selectCallWindowSubjects(tx: Tx, periodStart: string): Promise<CallWindowSubjects> {
  const result = await sql<{ subject_id: number; unrated: number; charged: boolean }>`
    select subject_id, sum(unrated)::int as unrated, bool_or(charged_calls > 0) as charged
      from ${CALL_TOTALS} t
     where month = ${periodStart}::date
     group by subject_id`.execute(tx);
  let unrated = 0;
  const charged: number[] = [];
  for (const row of result.rows) {
    unrated += row.unrated;
    if (row.charged) charged.push(Number(row.subject_id));
  }
  return { unrated, charged };
}

/**
 * Customers to bill for the period: a contract that overlaps it, or charged calls in it
 * (`selectCallWindowSubjects`); not erased, not billed for this period yet. Subject ids only.
 */
export async function selectCandidateSubjects(
  tx: Tx,
  period: { start: string; end: string },
  charged: readonly number[],
): Promise<number[]> {
  const result = await sql<{ subject_id: number }>`
    select s.subject_id from (
      select c.subject_id from ${CONTRACTS} c
       where c.subject_id is not null and c.start_date <= ${period.end}::date
         and (c.end_date is null or c.end_date >= ${period.start}::date)
      union
      select unnest(${arrayLiteral(charged)}::bigint[])
    ) s
    join data_subjects d on d.subject_id = s.subject_id
    where d.erased_at is null
      and not exists (select 1 from invoices i where i.kind = 'invoice'
                       and i.subject_id = s.subject_id and i.period_start = ${period.start}::date)
    order by s.subject_id`.execute(tx);
  return result.rows.map((row) => Number(row.subject_id));
}

/** How many customers already have their invoice for the period (before this run). */
export async function countInvoicedSubjects(tx: Tx, periodStart: string): Promise<number> {
  const row = await tx
    .selectFrom('invoices')
    .select((eb) => eb.fn.count<string>('subject_id').distinct().as('n'))
    .where('kind', '=', 'invoice')
    .where('period_start', '=', periodStart)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Subjects among `subjectIds` already billed for the period (read after the counter lock). */
export async function selectInvoicedSubjects(
  tx: Tx,
  periodStart: string,
  subjectIds: readonly number[],
): Promise<Set<number>> {
  if (subjectIds.length === 0) return new Set();
  const rows = await tx
    .selectFrom('invoices')
    .select('subject_id')
    .where('kind', '=', 'invoice')
    .where('period_start', '=', periodStart)
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .execute();
  return new Set(rows.flatMap((row) => (row.subject_id === null ? [] : [row.subject_id])));
}

export interface ContractLineRow {
  subjectId: number;
  contractId: number;
  organisationId: number | null;
  startDate: string;
  endDate: string | null;
  productId: number;
  productName: string;
  productKind: 'subscription' | 'one_off' | 'service';
  quantity: number;
  unitPriceCents: number;
  vatRateBp: number;
  vat: VatTreatment;
  itemisedCalls: boolean;
  purchaseOrderNumber: string | null;
  buyerReference: string | null;
}

/**
 * The batch's contract lines that bill in the period: subscriptions of contracts overlapping it,
 * one-off products and services of contracts starting in it. kluis.contract.product.
 */
export async function selectContractLines(
  tx: Tx,
  grant: Grant,
  period: { start: string; end: string },
  subjectIds: readonly number[],
): Promise<ContractLineRow[]> {
  if (subjectIds.length === 0) return [];
  for (const id of subjectIds) grant.assertCovers(C.product, id);
  const result = await sql<{
    subject_id: number;
    contract_id: number;
    organisation_id: number | null;
    start_date: string;
    end_date: string | null;
    product_id: number;
    name: string;
    kind: 'subscription' | 'one_off' | 'service';
    quantity: number;
    unit_price_cents: number;
    vat_rate_bp: number;
    vat_category: VatCategory | null;
    vat_exemption_code: string | null;
    vat_exemption_reason: string | null;
    itemised_calls: boolean;
    purchase_order_number: string | null;
    buyer_reference: string | null;
  }>`
    select l.subject_id, l.contract_id, l.organisation_id, l.start_date::text as start_date,
           l.end_date::text as end_date, l.product_id, l.name, l.kind, l.quantity,
           l.unit_price_cents, l.vat_rate_bp, l.vat_category, l.vat_exemption_code,
           l.vat_exemption_reason, coalesce(o.itemised_calls, false) as itemised_calls,
           o.purchase_order_number, o.buyer_reference
      from ${CONTRACT_LINES} l
      left join contract_billing_options o on o.tenant_id = l.tenant_id and o.contract_id = l.contract_id
     where l.subject_id = any(${arrayLiteral(subjectIds)}::bigint[])
       and l.start_date <= ${period.end}::date
       and (l.end_date is null or l.end_date >= ${period.start}::date)
       and (l.kind = 'subscription' or l.start_date >= ${period.start}::date)
     order by l.subject_id, l.contract_id, l.line_no`.execute(tx);
  return result.rows.map((row) => ({
    subjectId: row.subject_id,
    contractId: row.contract_id,
    organisationId: row.organisation_id,
    startDate: row.start_date,
    endDate: row.end_date,
    productId: row.product_id,
    productName: row.name,
    productKind: row.kind,
    quantity: row.quantity,
    unitPriceCents: row.unit_price_cents,
    vatRateBp: row.vat_rate_bp,
    vat: lineVat(row),
    itemisedCalls: row.itemised_calls,
    purchaseOrderNumber: row.purchase_order_number,
    buyerReference: row.buyer_reference,
  }));
}

/**
 * A contract line's VAT treatment. The product's category holds when its rate is the one the
 * contract line was agreed at; a product moved to another rate since (e.g. 0 % → 21 %) keeps the
 * line at its agreed rate under the category that rate implies.
 */
function lineVat(row: {
  vat_rate_bp: number;
  vat_category: VatCategory | null;
  vat_exemption_code: string | null;
  vat_exemption_reason: string | null;
}): VatTreatment {
  const category = row.vat_category ?? categoryOfRate(row.vat_rate_bp);
  const fits = category === 'S' ? row.vat_rate_bp > 0 : row.vat_rate_bp === 0;
  if (!fits || row.vat_category === null) {
    return { category: categoryOfRate(row.vat_rate_bp), exemptionCode: null, exemptionReason: null };
  }
  return { category, exemptionCode: row.vat_exemption_code, exemptionReason: row.vat_exemption_reason };
}

export interface CallSummaryRow {
  subjectId: number;
  /** The destination's first characters: enough to tell its destination group. */
  head: string;
  /** Chargeable calls (answered, on a billable leg, with billable seconds), included ones too. */
  chargeable: number;
  chargeableSeconds: number;
  /** Calls that cost something, their seconds and cost. */
  calls: number;
  seconds: number;
  costMicros: number;
}

/** What counts as a chargeable call, whatever it ends up costing (the late-call count, G-1). */
const CHARGEABLE = sql<boolean>`(is_billable_leg and billable_seconds > 0 and disposition = 'answered')`;

/**
 * Calls of the batch in the month, summed per customer and destination head (its first
 * `headLength` characters, which decide its destination group) (kluis.telephony.call_record,
 * read under call_billing). From the monthly totals kept with the calls (decision 0500), which
 * keep heads of `CALL_TOTALS_HEAD_LENGTH` characters; a tariff whose groups need longer heads is
 * summed from the calls. No number leaves it longer than its head.
 */
export async function selectCallSummaries(
  tx: Tx,
  grant: Grant,
  window: CallWindow & { month: string },
  subjectIds: readonly number[],
  headLength: number,
): Promise<CallSummaryRow[]> {
  if (subjectIds.length === 0) return [];
  for (const id of subjectIds) grant.assertCovers(C.callRecord, id);
  if (headLength > CALL_TOTALS_HEAD_LENGTH) {
    return selectCallSummariesFromCalls(tx, grant, window, subjectIds, headLength);
  }
  const result = await sql<CallSummaryDbRow>`
    select subject_id, left(head, ${headLength}::int) as head,
           sum(chargeable_calls)::int as chargeable, sum(chargeable_seconds)::bigint as chargeable_seconds,
           sum(charged_calls)::int as calls, sum(charged_seconds)::bigint as seconds,
           sum(charged_cost_micros)::bigint as cost_micros
      from ${CALL_TOTALS} t
     where month = ${window.month}::date and subject_id = any(${arrayLiteral(subjectIds)}::bigint[])
       and (charged_calls > 0 or chargeable_calls > 0)
     group by 1, 2
     order by 1, 2`.execute(tx);
  return result.rows.map(toCallSummary);
}

/** A call summary as the database gives it (sums of bigint come back as text). */
interface CallSummaryDbRow {
  subject_id: number;
  head: string;
  chargeable: number;
  chargeable_seconds: string;
  calls: number;
  seconds: string;
  cost_micros: string;
}

function toCallSummary(row: CallSummaryDbRow): CallSummaryRow {
  return {
    subjectId: Number(row.subject_id),
    head: row.head,
    chargeable: row.chargeable,
    chargeableSeconds: Number(row.chargeable_seconds),
    calls: row.calls,
    seconds: Number(row.seconds),
    costMicros: Number(row.cost_micros),
  };
}

/** `selectCallSummaries` from the calls themselves: one aggregate over the month (decision 0420). */
async function selectCallSummariesFromCalls(
  tx: Tx,
  grant: Grant,
  window: CallWindow,
  subjectIds: readonly number[],
  headLength: number,
): Promise<CallSummaryRow[]> {
  const result = await sql<CallSummaryDbRow>`
    select subject_id, left(destination, ${headLength}::int) as head,
           count(*) filter (where ${CHARGEABLE})::int as chargeable,
           coalesce(sum(billable_seconds) filter (where ${CHARGEABLE}), 0)::bigint as chargeable_seconds,
           count(*) filter (where cost_micros > 0)::int as calls,
           coalesce(sum(billable_seconds) filter (where cost_micros > 0), 0)::bigint as seconds,
           coalesce(sum(cost_micros) filter (where cost_micros > 0), 0)::bigint as cost_micros
      from ${CALLS} c
     where started_at >= ${window.from} and started_at < ${window.to}
       -- = any of a bound array: PostgreSQL hashes it, and with most of the month's customers in
       -- the batch scans the month once in parallel; a join to unnest() sorted all calls to disk.
       and subject_id = any(${arrayLiteral(subjectIds)}::bigint[]) and (cost_micros > 0 or ${CHARGEABLE})
     group by 1, 2
     order by 1, 2`.execute(tx);
  return result.rows.map(toCallSummary);
}

/** How the SQL drafting groups heads and names groups (decisions 0550, 0720): constants of the run. */
export interface CallLineDrafting {
  /** Characters of a destination that decide its group (the grouping's `headLength`). */
  headLength: number;
  /**
   * The heads that decide a group, each with its group's key: the tariff's (`tariff`), which
   * win, and the built-in classes'. A head is in the group of the longest of them it starts with
   * (`DestinationGrouping.tariffHeads`, `BUILT_IN_HEADS`).
   */
  heads: ReadonlyArray<{ head: string; key: string; tariff: boolean }>;
  /** Each group's key, whether it is a built-in class, and its name per language. */
  groups: ReadonlyArray<{
    key: string;
    builtIn: boolean;
    labels: Readonly<Record<DocumentLanguage, string>>;
  }>;
  /** The words of a calls line per language (DOCUMENT_TEXTS[language].callWords). */
  words: Readonly<Record<DocumentLanguage, { colon: string; one: string; many: string }>>;
}

/**
 * The batch's calls lines: one row per customer and destination group (`draftBatchCallLines`
 * fills it and reads each customer's sums from it; `prepareRunPart` writes the lines from
 * it). Computed once per batch transaction (decisions 0606, 0655, 0720) and dropped at commit.
 * Temporary, so private to the transaction's session; it holds only rows the transaction read
 * under its grant.
 */
const BATCH_CALL_LINES = sql.raw('pg_temp.batch_call_lines');

/** One customer's month as the SQL drafting sees it: what the lines will bill, and the month's record. */
export interface SqlDraftedCalls {
  subjectId: number;
  /** The sum of the customer's calls lines (each rounded), and how many lines. */
  cents: number;
  lines: number;
  /** What the invoice bills of the month (every chargeable call, included ones too), G-1. */
  chargeable: number;
  chargeableSeconds: number;
  costMicros: number;
}

/**
 * The batch's month drafted in SQL, in one statement that fills `batch_call_lines`: the month's
 * totals per customer and destination head (its first `headLength` characters) in the one pass
 * over the totals (decisions 0606, 0655); each distinct head put in its group by the drafting's
 * heads (the longest it starts with, the tariff's first: the grouping's rule as data, decision
 * 0720); the heads grouped as in `summariseCalls` (invoice-run.service.ts), the cost rounded once
 * per line to the cent as `microsToCents` does (half away from zero). The rows also carry the
 * month's record, so the lines, their sums and the record come from one snapshot. A row is a line
 * when it has charged calls, a group and rounds to something; a line is numbered within its
 * customer's calls lines (in the order of its group's key). It is described in the customer's
 * language by the insert (`prepareRunPart`), which knows the language: this statement needs
 * no person's data, so the run sends it while it decrypts the people (decision 0775).
 *
 * Returns per customer the sum and count of its calls lines and the month's chargeable calls
 * (subject ids and sums only; no line leaves the server, decision 0550), or undefined when a
 * charged head has a character other than a digit after a tariff's head: only the grouping's
 * `groupOf` can place it, and the run drafts that batch in TypeScript. Under call_billing.
 *
 * The customers are joined before the sums (hashed into the scan of the totals; joined after,
 * PostgreSQL compared every line with every customer, decision 0550).
 */
export async function draftBatchCallLines(
  tx: Tx,
  grant: Grant,
  drafting: CallLineDrafting,
  month: string,
  subjectIds: readonly number[],
): Promise<SqlDraftedCalls[] | undefined> {
  if (subjectIds.length === 0) return [];
  for (const id of subjectIds) grant.assertCovers(C.callRecord, id);
  await sql`
    create temporary table batch_call_lines on commit drop as
    with customers as (
      select * from unnest(${arrayLiteral(subjectIds)}::bigint[]) as p(subject_id)
    ), totals as (
      select p.subject_id, left(t.head, ${drafting.headLength}::int) as head, t.charged_calls, t.charged_seconds,
             t.charged_cost_micros, t.chargeable_calls, t.chargeable_seconds
        from customers p
        join ${CALL_TOTALS} t on t.subject_id = p.subject_id
       where t.month = ${month}::date and (t.charged_calls > 0 or t.chargeable_calls > 0)
    ), deciding as (
      select * from unnest(${drafting.heads.map((h) => h.head)}::text[], ${drafting.heads.map((h) => h.key)}::text[],
                           ${drafting.heads.map((h) => h.tariff)}::boolean[])
        as d(head, key, tariff)
    ), mapped as (
      -- Each distinct head against its own beginnings: the longest deciding head, the tariff's
      -- first. After a tariff's head, a character other than a digit is left unmapped (null).
      select distinct on (h.head) h.head,
             case when d.tariff and h.head !~ '^[+]?[0-9]*$' then null else d.key end as key
        from (select distinct head from totals) h
        cross join generate_series(0, length(h.head)) n
        join deciding d on d.head = left(h.head, n)
       order by h.head, d.tariff desc, length(d.head) desc
    ), groups as (
      select * from unnest(${drafting.groups.map((g) => g.key)}::text[],
                           ${drafting.groups.map((g) => g.builtIn)}::boolean[])
        as g(key, built_in)
    ), sums as (
      select c.subject_id, m.key,
             coalesce(sum(c.charged_calls) filter (where c.charged_calls > 0), 0)::int as calls,
             coalesce(sum(c.charged_seconds) filter (where c.charged_calls > 0), 0)::bigint as seconds,
             coalesce(sum(c.charged_cost_micros) filter (where c.charged_calls > 0), 0)::bigint as cost,
             sum(c.chargeable_calls)::int as chargeable, sum(c.chargeable_seconds)::bigint as chargeable_seconds,
             sum(c.charged_cost_micros)::bigint as cost_micros
        from totals c
        left join mapped m on m.head = c.head
       group by c.subject_id, m.key
    ), rounded as (
      -- microsToCents: half away from zero, in integers.
      select *, sign(cost)::bigint * ((2 * abs(cost) + 10000) / 20000) as cents from sums
    ), lines as (
      select *, key is not null and calls > 0 and cents > 0 as is_line from rounded
    )
    select l.*,
           (row_number() over (partition by l.subject_id, l.is_line order by l.key collate "C"))::int as ordinal,
           case when g.built_in then l.key end as destination_class
      from lines l
      left join groups g on g.key = l.key`.execute(tx);
  const result = await sql<{
    subject_id: number;
    chargeable: number;
    chargeable_seconds: string;
    cost_micros: string;
    cents: string;
    lines: number;
    unmapped: number;
  }>`
    select subject_id, sum(chargeable)::int as chargeable, sum(chargeable_seconds)::bigint as chargeable_seconds,
           sum(cost_micros)::bigint as cost_micros,
           coalesce(sum(cents) filter (where is_line), 0)::bigint as cents, count(*) filter (where is_line)::int as lines,
           count(*) filter (where key is null and calls > 0)::int as unmapped
      from ${BATCH_CALL_LINES}
     group by 1`.execute(tx);
  // Charged calls under a head SQL cannot place: they would count as billed in the month's record
  // and be on no line. The table is dropped and the run drafts the batch in TypeScript.
  if (result.rows.some((row) => row.unmapped > 0)) {
    await sql`drop table ${BATCH_CALL_LINES}`.execute(tx);
    return undefined;
  }
  return result.rows.map((row) => ({
    subjectId: Number(row.subject_id),
    cents: Number(row.cents),
    lines: row.lines,
    chargeable: row.chargeable,
    chargeableSeconds: Number(row.chargeable_seconds),
    costMicros: Number(row.cost_micros),
  }));
}

/**
 * The batch's 20,000 calls lines are grouped, sorted and joined in memory: with the default 4 MB
 * they spilled to disk (decision 0605). For this transaction only; set before the reads that
 * precede the drafting, so that nothing stands between the people's read and the drafting
 * statement (decision 0775).
 */
export async function allowBatchSortsInMemory(tx: Tx): Promise<void> {
  await sql`set local work_mem = '32MB'`.execute(tx);
}

/** An invoice whose calls lines the SQL drafting writes: where they go and how they are taxed. */
export interface SqlCallLinesTarget {
  /** The customer, whose invoice of the part the lines go on (one per customer and period). */
  subjectId: number;
  /** The line number of the first calls line (the lines after them were numbered past them). */
  at: number;
  vatRateBp: number;
  vatCategory: VatCategory;
  vatExemptionCode: string | null;
  vatExemptionReason: string | null;
  /** The invoice's language, which its calls lines are described in. */
  language: DocumentLanguage;
  /** What `draftBatchCallLines` said the lines add up to: checked against what is written. */
  cents: number;
  lines: number;
}

/** 409: the calls the run drafts from changed under it; the batch changes nothing (decision 0550). */
function callsChangedDuringRun(subjectId: number): AppError {
  return new AppError(
    'conflict',
    `calls of customer ${subjectId} changed while the invoice run drafted its invoice; run again`,
    {
      publicMessage: 'calls of the month changed while the invoice run wrote its invoices; run it again',
      details: { reason: 'calls_changed_during_run' },
    },
  );
}

/** A customer's calls of an earlier, invoiced month that no invoice has billed yet (G-1). */
export interface LateCallsRow {
  subjectId: number;
  /** First day of the month, YYYY-MM-DD. */
  month: string;
  calls: number;
  seconds: number;
  costMicros: number;
  /** Late calls without a rate: the pair waits until they are rated. */
  unrated: number;
  /** The customer has its own invoice for that month (else none of its calls of it were billed yet). */
  monthInvoiced: boolean;
}

/**
 * Late calls (G-1): per customer and month up to `periodStart` for which an invoice run has
 * recorded what it billed, the chargeable calls now stored minus those billed (counts, seconds,
 * micro-euros), where more calls are stored than were billed. Subject ids and totals only;
 * `subjectIds` limits the read, stored and billed, to those customers (a batch's re-read,
 * decision 0426). Only the months whose calls are still stored are looked at: what the tenant's
 * invoices recorded of older months is never read (decision 0720).
 */
export async function selectLateCalls(
  tx: Tx,
  periodStart: string,
  subjectIds?: readonly number[],
): Promise<LateCallsRow[]> {
  if (subjectIds && subjectIds.length === 0) return [];
  const subjects = subjectIds ? arrayLiteral(subjectIds) : undefined;
  const onlySubjects = subjects ? sql`and r.subject_id = any(${subjects}::bigint[])` : sql``;
  const onlyInvoiceSubjects = subjects ? sql`and i.subject_id = any(${subjects}::bigint[])` : sql``;
  const result = await sql<{
    subject_id: number;
    month: string;
    calls: number;
    seconds: string;
    cost_micros: string;
    unrated: number;
    month_invoiced: boolean;
  }>`
    with recursive stored_months as (
      -- The months whose calls are still stored, up to the period: one step of the totals'
      -- primary key (tenant, month, …) per month, never a read of their rows.
      select min(r.month) as calls_month from ${CALL_TOTALS} r where r.month <= ${periodStart}::date
      union all
      select (select min(r.month) from ${CALL_TOTALS} r
               where r.month > m.calls_month and r.month <= ${periodStart}::date)
        from stored_months m where m.calls_month is not null
    ), months as (
      -- Of those months, the ones a run has recorded: an invoice's own period (on its row,
      -- decision 0695) or another invoice's late calls. A few months, each looked up in an index,
      -- never every invoice the tenant keeps (decision 0720).
      select m.calls_month from stored_months m
       where m.calls_month is not null
         and (exists (select 1 from invoices i where i.kind = 'invoice' and i.period_calls is not null
                         and i.period_start = m.calls_month)
              or exists (select 1 from invoice_call_months c where c.calls_month = m.calls_month))
    ), stored as (
      -- The monthly totals kept with the calls (decision 0500): the chargeable calls of those months.
      select r.subject_id, r.month as calls_month, sum(r.chargeable_calls)::int as calls,
             sum(r.chargeable_seconds)::bigint as seconds, sum(r.chargeable_cost_micros)::bigint as cost,
             sum(r.chargeable_unrated)::int as unrated
        from ${CALL_TOTALS} r
       where r.month in (select calls_month from months) and r.chargeable_calls > 0 ${onlySubjects}
       group by 1, 2
    ), records as (
      -- Per month (lateral; offset 0 keeps PostgreSQL from turning it back into a join), so each
      -- month is read from the index of the recorded months (migration 0720): joined, the
      -- planner guessed 150 months and scanned every invoice the tenant keeps.
      select i.subject_id, m.calls_month, i.period_calls as calls, i.period_call_seconds as seconds,
             i.period_call_cost_micros as cost
        from months m
        cross join lateral (
          select * from invoices i
           where i.kind = 'invoice' and i.period_calls is not null and i.period_start = m.calls_month
             and i.subject_id is not null ${onlyInvoiceSubjects}
           offset 0
        ) i
      union all
      select i.subject_id, c.calls_month, c.calls, c.seconds, c.cost_micros
        from invoice_call_months c
        join invoices i on i.tenant_id = c.tenant_id and i.invoice_id = c.invoice_id
       where i.kind = 'invoice' and i.subject_id is not null
         and c.calls_month in (select calls_month from months) ${onlyInvoiceSubjects}
    ), billed as (
      select subject_id, calls_month, sum(calls)::int as calls, sum(seconds)::bigint as seconds,
             sum(cost)::bigint as cost
        from records
       group by 1, 2
    )
    select s.subject_id, to_char(s.calls_month, 'YYYY-MM-DD') as month,
           s.calls - coalesce(b.calls, 0) as calls, (s.seconds - coalesce(b.seconds, 0))::bigint as seconds,
           (s.cost - coalesce(b.cost, 0))::bigint as cost_micros, s.unrated,
           exists (select 1 from invoices m where m.kind = 'invoice' and m.subject_id = s.subject_id
                      and m.period_start = s.calls_month) as month_invoiced
      from stored s
      left join billed b on b.subject_id = s.subject_id and b.calls_month = s.calls_month
      join data_subjects d on d.subject_id = s.subject_id
     where s.calls > coalesce(b.calls, 0) and d.erased_at is null
       -- Late calls that cost nothing (included, free) leave nothing to bill.
       and (s.cost > coalesce(b.cost, 0) or s.unrated > 0)
     order by 1, 2`.execute(tx);
  return result.rows.map((row) => ({
    subjectId: Number(row.subject_id),
    month: row.month,
    calls: row.calls,
    seconds: Number(row.seconds),
    costMicros: Number(row.cost_micros),
    unrated: row.unrated,
    monthInvoiced: row.month_invoiced,
  }));
}

/** What each new invoice billed of each month's calls. */
export interface InvoiceCallMonth {
  invoiceNumber: string;
  month: string;
  calls: number;
  seconds: number;
  costMicros: number;
}

export interface ItemisedCallRow {
  startedAt: Date;
  destination: string;
  billableSeconds: number;
  costMicros: number;
}

/** One customer's charged calls in the window, for an itemised bill (call_billing, read). */
export async function selectItemisedCalls(
  tx: Tx,
  grant: Grant,
  window: CallWindow,
  subjectId: number,
  options: { limit?: number } = {},
): Promise<ItemisedCallRow[]> {
  grant.assertCovers(C.callRecord, subjectId);
  const limit = options.limit === undefined ? sql`` : sql`limit ${options.limit}`;
  const result = await sql<{
    started_at: Date;
    destination: string;
    billable_seconds: number;
    cost_micros: number | string | null;
  }>`
    select started_at, destination, billable_seconds, cost_micros
      from ${CALLS} c
     where subject_id = ${subjectId} and started_at >= ${window.from} and started_at < ${window.to}
       and cost_micros > 0
     order by started_at ${limit}`.execute(tx);
  return result.rows.map((row) => ({
    startedAt: row.started_at,
    destination: row.destination,
    billableSeconds: row.billable_seconds,
    costMicros: Number(row.cost_micros ?? 0),
  }));
}

/** How many charged calls `selectItemisedCalls` would list without a limit (decision 0312). */
export async function countItemisedCalls(
  tx: Tx,
  grant: Grant,
  window: CallWindow,
  subjectId: number,
): Promise<number> {
  grant.assertCovers(C.callRecord, subjectId);
  const result = await sql<{ count: string }>`
    select count(*) as count
      from ${CALLS} c
     where subject_id = ${subjectId} and started_at >= ${window.from} and started_at < ${window.to}
       and cost_micros > 0`.execute(tx);
  return Number(result.rows[0]?.count ?? 0);
}

/**
 * Serialises the batches of a tenant's invoice runs (decision 0426), whatever their period or
 * issue year: held until the transaction ends, so what a concurrent run billed is committed and
 * visible to the statements after it. Take it before `lockCounter` (always in that order).
 */
export async function lockInvoiceRuns(tx: Tx, tenantId: number): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`kluis.invoice_run.${tenantId}`}, 0))`.execute(
    tx,
  );
}

/**
 * Takes the lock on the numbering row of (series, year), creating it at 0, and returns the last
 * number issued. Concurrent runs wait here until this transaction ends, so numbers allocated by
 * `advanceCounter` in the same transaction are gapless: a rollback returns them. Refuses first,
 * before it writes, while a data restore holds the tenant's numbering (decision 1320).
 */
export async function lockCounter(
  tx: Tx,
  tenantId: number,
  series: InvoiceSeries,
  year: number,
): Promise<number> {
  await assertNumberingNotHeld(tx, tenantId);
  const row = await tx
    .insertInto('invoice_counters')
    .values({ tenant_id: tenantId, series, year, last_number: 0 })
    .onConflict((oc) =>
      oc
        .columns(['tenant_id', 'series', 'year'])
        .doUpdateSet((eb) => ({ last_number: eb.ref('invoice_counters.last_number') })),
    )
    .returning('last_number')
    .executeTakeFirstOrThrow();
  return row.last_number;
}

/**
 * The latest issue date among the documents of (series, year), read after `lockCounter` so a
 * concurrent run's dates are committed and visible: numbers must follow the dates.
 */
export async function selectLastIssueDate(
  tx: Tx,
  tenantId: number,
  series: InvoiceSeries,
  year: number,
): Promise<string | null> {
  const row = await tx
    .selectFrom('invoices')
    .select((eb) => eb.fn.max('issue_date').as('last'))
    .where('tenant_id', '=', tenantId)
    .where('series', '=', series)
    .where('year', '=', year)
    .executeTakeFirst();
  const last: unknown = row?.last;
  if (last instanceof Date) return last.toISOString().slice(0, 10);
  return typeof last === 'string' ? last.slice(0, 10) : null;
}

/**
 * Refuses an issue date earlier than the last one of the series: invoice numbers must be in
 * chronological order. Call after `lockCounter` in the transaction that allocates the numbers.
 */
export async function assertIssueDateInOrder(
  tx: Tx,
  tenantId: number,
  series: InvoiceSeries,
  year: number,
  issueDate: string,
): Promise<void> {
  const last = await selectLastIssueDate(tx, tenantId, series, year);
  if (last !== null && issueDate < last) {
    const message = `issueDate ${issueDate} is before ${last}, the last issue date of series ${series}${year}; numbers must follow the dates`;
    throw new AppError('conflict', message, {
      publicMessage: message,
      details: { reason: 'issue_date_before_last', lastIssueDate: last, series, year },
    });
  }
}

/** Advances a counter locked by `lockCounter` in this transaction; returns the new last number. */
export async function advanceCounter(
  tx: Tx,
  series: InvoiceSeries,
  year: number,
  count: number,
): Promise<number> {
  const row = await tx
    .updateTable('invoice_counters')
    .set((eb) => ({ last_number: eb('last_number', '+', count) }))
    .where('series', '=', series)
    .where('year', '=', year)
    .returning('last_number')
    .executeTakeFirstOrThrow();
  return row.last_number;
}

export interface NewInvoiceLine {
  kind: 'subscription' | 'calls' | 'correction';
  vatCategory: VatCategory;
  vatExemptionCode: string | null;
  vatExemptionReason: string | null;
  description: string;
  productId: number | null;
  contractId: number | null;
  destinationClass: DestinationClass | null;
  /** The destination group of a calls line (the tariff's, or a built-in class key). */
  destinationGroup?: string | null;
  /** The month of a late-calls line's calls (YYYY-MM-DD, the first day). */
  callsMonth?: string | null;
  callCount: number | null;
  callSeconds: number | null;
  quantity: number;
  unitPriceCents: number;
  amountCents: number;
  vatRateBp: number;
}

export interface BuyerSnapshot {
  name: string | null;
  street: string | null;
  postalCode: string | null;
  city: string | null;
  country: string | null;
  enterpriseNumber: string | null;
  iban: string | null;
  mandate: string | null;
  /** A business buyer's VAT registration: its VAT number (BT-48) is shown only when true. */
  vatRegistered: boolean | null;
  /** The buyer's own reference (BT-10); a credit note repeats its invoice's. */
  reference: string | null;
  /** The buyer's purchase-order number (BT-13); a credit note repeats its invoice's. */
  orderReference: string | null;
  /** A foreign EU company's VAT number (BT-48), with its country prefix. */
  vatNumber: string | null;
  /** The buyer's Peppol address (BT-49) when it is not its Belgian enterprise number. */
  peppolScheme: string | null;
  peppolId: string | null;
  /** The language the document is written in (decision 0310); null on documents issued before. */
  language: DocumentLanguage | null;
}

export interface NewInvoice {
  kind: 'invoice' | 'credit_note';
  series: InvoiceSeries;
  year: number;
  number: number;
  invoiceNumber: string;
  subjectId: number | null;
  organisationId: number | null;
  creditedInvoiceId: number | null;
  periodStart: string | null;
  periodEnd: string | null;
  issueDate: string;
  dueDate: string;
  holdUntil: string;
  totalExclVatCents: number;
  vatCents: number;
  totalInclVatCents: number;
  structuredCommunication: string;
  itemisedCalls: boolean;
  creditReason: string | null;
  buyer: BuyerSnapshot;
  seller: SellerSnapshot;
  createdByStaffId: number | null;
  createdAt: Date;
  lines: NewInvoiceLine[];
  /**
   * What the invoice bills of each month's calls (G-1); the run gives one for its own month, which
   * `insertInvoices` writes on the invoice row (decision 0695).
   */
  callMonths?: ReadonlyArray<Omit<InvoiceCallMonth, 'invoiceNumber'>>;
  /**
   * Calls lines `prepareRunPart` writes in SQL (decision 0550): numbers `at` to
   * `at + count - 1` are theirs, the lines here after them are numbered past them.
   */
  sqlCallLines?: { at: number; count: number };
}

/** Inserts of fewer documents do not refresh the invoice table's statistics (decision 0420). */
const STATISTICS_MIN_ROWS = 100;

/**
 * Whether a batch adding `adding` invoices would have the table's statistics refreshed: the
 * question `kluis_refresh_invoice_statistics` asks (fewer rows counted than added; -1 before the
 * first ANALYZE), asked before the batch is written so that a batch whose refresh would do nothing
 * is written one statement per part (decision 1310).
 */
export async function invoiceStatisticsNeedRefresh(tx: Tx, adding: number): Promise<boolean> {
  if (adding < STATISTICS_MIN_ROWS) return false;
  const result = await sql<{ counted: number }>`
    select reltuples::float8 as counted from pg_class where oid = 'public.invoices'::regclass`.execute(tx);
  const counted = result.rows[0]?.counted ?? -1;
  return counted < adding;
}

/** Documents per statement: one array per column, whatever the number of rows. */
const INSERT_CHUNK = 5000;

/** A column of an array insert: its SQL type and its value for a row. */
type ArrayColumn<T> = readonly [name: string, type: string, value: (row: T) => unknown];

/**
 * `insert into <table> (…) select … from unnest($1::type[], $2::type[], …)`: one parameter per
 * column, so a statement of thousands of rows is parsed and planned as cheaply as one of a few;
 * a column with one value for every row (the tenant, the run's dates, the seller snapshot) is
 * sent once, not once per row (decision 0420). Table, column and type names are constants of
 * this file, never input.
 */
function arrayInsert<T>(table: string, columns: ReadonlyArray<ArrayColumn<T>>, rows: readonly T[]) {
  return arrayInsertOf(table, rows.length, columnValues(columns, rows));
}

/** A column of an array insert with its values: one value for every row, or the array's text. */
interface ColumnValues {
  name: string;
  type: ReturnType<typeof sql.raw>;
  same: boolean;
  first: ArrayElement;
  literal: string;
}

/** The columns' values of an array insert, built apart from its statement (`insertInvoices`). */
function columnValues<T>(columns: ReadonlyArray<ArrayColumn<T>>, rows: readonly T[]): ColumnValues[] {
  return columns.map(([name, type, value]) => {
    const column = rows.map(value) as ArrayElement[];
    const first = column[0];
    const same = column.every((candidate) => candidate === first);
    return { name, type: sql.raw(type), same, first, literal: same ? '' : arrayLiteral(column) };
  });
}

function arrayInsertOf(
  table: string,
  rowCount: number,
  values: readonly ColumnValues[],
  options: { overridingSystemValue?: boolean } = {},
) {
  const names = sql.raw(values.map(({ name }) => name).join(', '));
  const overriding = sql.raw(options.overridingSystemValue ? ' overriding system value' : '');
  const arrays = values.filter((value) => !value.same);
  let at = 0;
  const select = sql.join(
    values.map((value) => {
      if (value.same) return sql`${value.first}::${value.type}`;
      at += 1;
      return sql.raw(`u.c${at}`);
    }),
    sql`, `,
  );
  if (arrays.length === 0) {
    // Every column the same: as many copies of one row as rows were given.
    return sql`insert into ${sql.raw(table)} (${names})${overriding} select ${select} from generate_series(1, ${rowCount}::int)`;
  }
  const unnested = sql.join(
    arrays.map((value) => sql`${value.literal}::${value.type}[]`),
    sql`, `,
  );
  const aliases = sql.raw(arrays.map((_, index) => `c${index + 1}`).join(', '));
  return sql`insert into ${sql.raw(table)} (${names})${overriding} select ${select} from unnest(${unnested}) as u(${aliases})`;
}

/** A run's invoices share one seller snapshot: written out once, not once per invoice (0605). */
const sellerJsonOf = new WeakMap<SellerSnapshot, string>();
function sellerJson(seller: SellerSnapshot): string {
  let json = sellerJsonOf.get(seller);
  if (json === undefined) {
    json = JSON.stringify(seller);
    sellerJsonOf.set(seller, json);
  }
  return json;
}

type CallMonthRecord = Omit<InvoiceCallMonth, 'invoiceNumber'>;

/** An invoice as its row is written: with its own period's record of calls, if any (0695). */
interface InvoiceRow {
  tenantId: number;
  invoice: NewInvoice;
  period: CallMonthRecord | undefined;
}

/**
 * The record of an invoice's own period (G-1), kept on the invoice row (decision 0695); credit
 * notes and documents without a period have none.
 */
function periodRecordOf(invoice: NewInvoice): CallMonthRecord | undefined {
  if (invoice.kind !== 'invoice' || invoice.periodStart === null) return undefined;
  return invoice.callMonths?.find((month) => month.month === invoice.periodStart);
}

const INVOICE_COLUMNS: ReadonlyArray<ArrayColumn<InvoiceRow>> = [
  ['tenant_id', 'integer', (row) => row.tenantId],
  ['kind', 'text', (row) => row.invoice.kind],
  ['series', 'text', (row) => row.invoice.series],
  ['year', 'integer', (row) => row.invoice.year],
  ['number', 'integer', (row) => row.invoice.number],
  ['invoice_number', 'text', (row) => row.invoice.invoiceNumber],
  ['subject_id', 'bigint', (row) => row.invoice.subjectId],
  ['organisation_id', 'bigint', (row) => row.invoice.organisationId],
  ['credited_invoice_id', 'bigint', (row) => row.invoice.creditedInvoiceId],
  ['period_start', 'date', (row) => row.invoice.periodStart],
  ['period_end', 'date', (row) => row.invoice.periodEnd],
  ['issue_date', 'date', (row) => row.invoice.issueDate],
  ['due_date', 'date', (row) => row.invoice.dueDate],
  ['hold_until', 'date', (row) => row.invoice.holdUntil],
  ['currency', 'text', () => 'EUR'],
  ['total_excl_vat_cents', 'bigint', (row) => row.invoice.totalExclVatCents],
  ['vat_cents', 'bigint', (row) => row.invoice.vatCents],
  ['total_incl_vat_cents', 'bigint', (row) => row.invoice.totalInclVatCents],
  ['structured_communication', 'text', (row) => row.invoice.structuredCommunication],
  ['itemised_calls', 'boolean', (row) => row.invoice.itemisedCalls],
  ['credit_reason', 'text', (row) => row.invoice.creditReason],
  ['buyer_name', 'text', (row) => row.invoice.buyer.name],
  ['buyer_street', 'text', (row) => row.invoice.buyer.street],
  ['buyer_postal_code', 'text', (row) => row.invoice.buyer.postalCode],
  ['buyer_city', 'text', (row) => row.invoice.buyer.city],
  ['buyer_country', 'text', (row) => row.invoice.buyer.country],
  ['buyer_enterprise_number', 'text', (row) => row.invoice.buyer.enterpriseNumber],
  ['buyer_iban', 'text', (row) => row.invoice.buyer.iban],
  ['buyer_mandate', 'text', (row) => row.invoice.buyer.mandate],
  ['buyer_vat_registered', 'boolean', (row) => row.invoice.buyer.vatRegistered],
  ['buyer_reference', 'text', (row) => row.invoice.buyer.reference],
  ['buyer_order_reference', 'text', (row) => row.invoice.buyer.orderReference],
  ['buyer_vat_number', 'text', (row) => row.invoice.buyer.vatNumber],
  ['buyer_peppol_scheme', 'text', (row) => row.invoice.buyer.peppolScheme],
  ['buyer_peppol_id', 'text', (row) => row.invoice.buyer.peppolId],
  ['buyer_language', 'text', (row) => row.invoice.buyer.language],
  ['seller', 'jsonb', (row) => sellerJson(row.invoice.seller)],
  ['created_by_staff_id', 'bigint', (row) => row.invoice.createdByStaffId],
  ['created_at', 'timestamptz', (row) => row.invoice.createdAt.toISOString()],
  ['period_calls', 'integer', (row) => row.period?.calls ?? null],
  ['period_call_seconds', 'bigint', (row) => row.period?.seconds ?? null],
  ['period_call_cost_micros', 'bigint', (row) => row.period?.costMicros ?? null],
];

/** A line as its row is written: its invoice by its place in the insert (`insertInvoices`). */
interface LineRow {
  tenantId: number;
  invoice: number;
  lineNo: number;
  line: NewInvoiceLine;
}

/** The lines' columns but their invoice's id, which the invoices' insert gives. */
const LINE_COLUMNS: ReadonlyArray<ArrayColumn<LineRow>> = [
  ['tenant_id', 'integer', (row) => row.tenantId],
  ['line_no', 'integer', (row) => row.lineNo],
  ['kind', 'text', (row) => row.line.kind],
  ['description', 'text', (row) => row.line.description],
  ['product_id', 'bigint', (row) => row.line.productId],
  ['contract_id', 'bigint', (row) => row.line.contractId],
  ['destination_class', 'text', (row) => row.line.destinationClass],
  ['destination_group', 'text', (row) => row.line.destinationGroup ?? null],
  ['calls_month', 'date', (row) => row.line.callsMonth ?? null],
  ['call_count', 'integer', (row) => row.line.callCount],
  ['call_seconds', 'bigint', (row) => row.line.callSeconds],
  ['quantity', 'integer', (row) => row.line.quantity],
  ['unit_price_cents', 'bigint', (row) => row.line.unitPriceCents],
  ['amount_cents', 'bigint', (row) => row.line.amountCents],
  ['vat_rate_bp', 'integer', (row) => row.line.vatRateBp],
  ['vat_category', 'text', (row) => row.line.vatCategory],
  ['vat_exemption_code', 'text', (row) => row.line.vatExemptionCode],
  ['vat_exemption_reason', 'text', (row) => row.line.vatExemptionReason],
];

const CALL_MONTH_COLUMNS: ReadonlyArray<
  ArrayColumn<{ tenantId: number; invoiceId: number; month: CallMonthRecord }>
> = [
  ['tenant_id', 'integer', (row) => row.tenantId],
  ['invoice_id', 'bigint', (row) => row.invoiceId],
  ['calls_month', 'date', (row) => row.month.month],
  ['calls', 'integer', (row) => row.month.calls],
  ['seconds', 'bigint', (row) => row.month.seconds],
  ['cost_micros', 'bigint', (row) => row.month.costMicros],
];

/** A line's number: its place, past the calls lines written in SQL (decision 0550). */
function lineNumber(invoice: NewInvoice, index: number): number {
  const gap = invoice.sqlCallLines;
  return index + 1 >= (gap?.at ?? Infinity) ? index + 1 + (gap?.count ?? 0) : index + 1;
}

/**
 * Writes documents, their lines and call months with one array insert per table (decision 0420);
 * an invoice's record of its own period is written on its row, the other months (late calls) in
 * `invoice_call_months` (decision 0695).
 * The party snapshot is personal data of the subject (name, address, bank account, billing): the
 * grant must cover it for writing.
 */
export async function insertInvoices(
  tx: Tx,
  grant: Grant,
  invoices: readonly NewInvoice[],
): Promise<number[]> {
  assertInvoicesWritable(grant, invoices);
  const tenantId = grant.tenantId;
  const ids: number[] = [];
  for (let start = 0; start < invoices.length; start += INSERT_CHUNK) {
    const chunk = invoices.slice(start, start + INSERT_CHUNK);
    const rows = chunk.map((invoice): InvoiceRow => ({ tenantId, invoice, period: periodRecordOf(invoice) }));
    const insertion = sql<{ invoice_id: number; invoice_number: string }>`${arrayInsert(
      'invoices',
      INVOICE_COLUMNS,
      rows,
    )} returning invoice_id, invoice_number`.execute(tx);
    // Before the lines check their invoices: statistics of a near-empty table make those checks
    // read every invoice of the tenant (decision 0420).
    const refresh =
      start === 0 && invoices.length >= STATISTICS_MIN_ROWS
        ? sql`select kluis_refresh_invoice_statistics(${invoices.length}::int)`.execute(tx)
        : undefined;
    // Both handled at their awaits below; the insert goes out first, then the lines' columns are
    // built while the server writes the invoices (decision 0775).
    insertion.catch(() => undefined);
    refresh?.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    const lines = chunk.flatMap((invoice, index) =>
      invoice.lines.map((line, lineIndex): LineRow => ({
        tenantId,
        invoice: index,
        lineNo: lineNumber(invoice, lineIndex),
        line,
      })),
    );
    const lineValues = columnValues(LINE_COLUMNS, lines);
    const inserted = await insertion;
    await refresh;
    const idByNumber = new Map(inserted.rows.map((row) => [row.invoice_number, Number(row.invoice_id)]));
    const chunkIds = chunk.map((invoice) => idByNumber.get(invoice.invoiceNumber) ?? 0);
    ids.push(...chunkIds);
    if (lines.length > 0) {
      const invoiceIds = columnValues([['invoice_id', 'bigint', (row) => chunkIds[row.invoice] ?? 0]], lines);
      await arrayInsertOf('invoice_lines', lines.length, [...invoiceIds, ...lineValues]).execute(tx);
    }
    const callMonths = rows.flatMap((row, index) =>
      (row.invoice.callMonths ?? [])
        .filter((month) => month !== row.period)
        .map((month) => ({ tenantId, invoiceId: chunkIds[index] ?? 0, month })),
    );
    if (callMonths.length > 0) {
      await arrayInsert('invoice_call_months', CALL_MONTH_COLUMNS, callMonths).execute(tx);
    }
  }
  return ids;
}

/** The party snapshot is personal data of the subject: the grant must cover it for writing. */
function assertInvoicesWritable(grant: Grant, invoices: readonly NewInvoice[]): void {
  grant.assertWritable();
  for (const invoice of invoices) {
    if (invoice.subjectId === null) continue;
    grant.assertCovers(C.payment, invoice.subjectId);
    if (invoice.buyer.name !== null) grant.assertCovers(C.name, invoice.subjectId);
    if (invoice.buyer.street !== null) grant.assertCovers(C.address, invoice.subjectId);
    if (invoice.buyer.iban !== null) grant.assertCovers(C.bankAccount, invoice.subjectId);
  }
}

/** The other months' records of calls (late calls), by their invoice's customer (0695). */
const PART_CALL_MONTH_COLUMNS: ReadonlyArray<ArrayColumn<{ tenantId: number; month: CallMonthRecord }>> = [
  ['tenant_id', 'integer', (row) => row.tenantId],
  ['calls_month', 'date', (row) => row.month.month],
  ['calls', 'integer', (row) => row.month.calls],
  ['seconds', 'bigint', (row) => row.month.seconds],
  ['cost_micros', 'bigint', (row) => row.month.costMicros],
];

/**
 * `insert into <table> (invoice_id, …) select inv.invoice_id, … from unnest(…, $subjects) join inv`:
 * an array insert whose rows find their invoice by its customer in the statement's `inv` (the
 * part's invoices, one per customer and period). Table and column names are constants of this file.
 */
function arrayInsertByCustomer(
  table: string,
  values: readonly ColumnValues[],
  subjectIds: readonly number[],
) {
  const names = sql.raw(['invoice_id', ...values.map(({ name }) => name)].join(', '));
  const arrays = values.filter((value) => !value.same);
  let at = 0;
  const select = sql.join(
    [
      sql.raw('inv.invoice_id'),
      ...values.map((value) => {
        if (value.same) return sql`${value.first}::${value.type}`;
        at += 1;
        return sql.raw(`u.c${at}`);
      }),
    ],
    sql`, `,
  );
  const unnested = sql.join(
    [
      ...arrays.map((value) => sql`${value.literal}::${value.type}[]`),
      sql`${arrayLiteral(subjectIds)}::bigint[]`,
    ],
    sql`, `,
  );
  const aliases = sql.raw([...arrays.map((_, index) => `c${index + 1}`), 'subject_id'].join(', '));
  return sql`insert into ${sql.raw(table)} (${names}) select ${select} from unnest(${unnested}) as u(${aliases}) join inv on inv.subject_id = u.subject_id`;
}

/** What a part writes besides its invoices: the calls lines drafted in SQL (decision 0550). */
export interface RunPartCallLines {
  /** The calls purpose's grant the lines were drafted under (`draftBatchCallLines`). */
  grant: Grant;
  drafting: CallLineDrafting;
  targets: readonly SqlCallLinesTarget[];
}

/**
 * The statements that write one part of a batch (decision 1080): its invoices, their lines, the
 * call months of other months (late calls) and the calls lines drafted in SQL (from
 * `batch_call_lines`, decision 0550), in ONE statement of data-modifying CTEs, as the bare baseline
 * writes them: the lines find their invoice by its customer in the invoices' `returning`, so no id
 * is taken ahead. With `refreshStatistics` (the batch's first part, decision 0420), the invoices
 * are inserted first and the table's statistics refreshed before the statement that writes the
 * lines, which then finds the part's invoices by their numbers. The calls lines' sums are checked
 * in the statement's answer: a difference from what the invoice's totals were computed from
 * refuses the batch (409 `calls_changed_during_run`), which then changes nothing.
 *
 * Built at once, sent one after the other by the caller, each when the one before has answered
 * (decision 0899). The party snapshot is personal data of the subject (name, address, bank
 * account, billing): the grant must cover it for writing.
 */
export function prepareRunPart(
  grant: Grant,
  invoices: readonly NewInvoice[],
  options: { refreshStatistics?: number; callLines?: RunPartCallLines | undefined } = {},
): Array<(tx: Tx) => Promise<void>> {
  assertInvoicesWritable(grant, invoices);
  if (invoices.length === 0) return [];
  const tenantId = grant.tenantId;
  const targets = options.callLines?.targets ?? [];
  if (targets.length > 0) {
    // Billing's write (the invoice's lines) of what is read under the calls purpose.
    const callsGrant = options.callLines?.grant;
    for (const target of targets) {
      grant.assertCovers(C.payment, target.subjectId);
      callsGrant?.assertCovers(C.callRecord, target.subjectId);
    }
  }
  const rows = invoices.map((invoice): InvoiceRow => ({
    tenantId,
    invoice,
    period: periodRecordOf(invoice),
  }));
  const invoicesInsert = arrayInsertOf('invoices', rows.length, columnValues(INVOICE_COLUMNS, rows));
  const adding = options.refreshStatistics ?? 0;
  const refresh = adding >= STATISTICS_MIN_ROWS;
  // Before the lines check their invoices, for the batch's invoices (0420): the invoices are then
  // written on their own, and found again by their numbers (unique per tenant).
  const inv = refresh
    ? sql`select invoice_id, subject_id from invoices
           where tenant_id = ${tenantId}::int
             and invoice_number = any(${arrayLiteral(invoices.map((invoice) => invoice.invoiceNumber))}::text[])`
    : sql`${invoicesInsert} returning invoice_id, subject_id`;
  const ctes: Array<RawBuilder<unknown>> = [sql`inv as (${inv})`];
  const lines = invoices.flatMap((invoice) =>
    invoice.lines.map((line, lineIndex) => ({
      subjectId: invoice.subjectId ?? 0,
      row: { tenantId, invoice: 0, lineNo: lineNumber(invoice, lineIndex), line } satisfies LineRow,
    })),
  );
  if (lines.length > 0) {
    const insert = arrayInsertByCustomer(
      'invoice_lines',
      columnValues(
        LINE_COLUMNS,
        lines.map(({ row }) => row),
      ),
      lines.map(({ subjectId }) => subjectId),
    );
    ctes.push(sql`lines as (${insert})`);
  }
  const callMonths = rows.flatMap((row) =>
    (row.invoice.callMonths ?? [])
      .filter((month) => month !== row.period)
      .map((month) => ({ subjectId: row.invoice.subjectId ?? 0, month })),
  );
  if (callMonths.length > 0) {
    const insert = arrayInsertByCustomer(
      'invoice_call_months',
      columnValues(
        PART_CALL_MONTH_COLUMNS,
        callMonths.map(({ month }) => ({ tenantId, month })),
      ),
      callMonths.map(({ subjectId }) => subjectId),
    );
    ctes.push(sql`months as (${insert})`);
  }
  const drafting = options.callLines?.drafting;
  let main = sql<{
    subject_id: string;
    cents: string;
    lines: number;
  }>`select null::bigint as subject_id, 0::bigint as cents, 0::int as lines where false`;
  if (drafting && targets.length > 0) {
    ctes.push(...callLinesCtes(tenantId, drafting, targets));
    main = sql`select inv.subject_id, sum(c.amount_cents)::bigint as cents, count(*)::int as lines
                 from calls_inserted c join inv on inv.invoice_id = c.invoice_id group by 1`;
  }
  const statement = sql<{
    subject_id: string;
    cents: string;
    lines: number;
  }>`with ${sql.join(ctes, sql`, `)} ${main}`;
  const writePart = async (tx: Tx): Promise<void> => {
    const result = await statement.execute(tx);
    if (targets.length === 0) return;
    const written = new Map(result.rows.map((row) => [Number(row.subject_id), row]));
    for (const target of targets) {
      const row = written.get(target.subjectId);
      if (Number(row?.cents ?? 0) !== target.cents || (row?.lines ?? 0) !== target.lines) {
        throw callsChangedDuringRun(target.subjectId);
      }
    }
  };
  if (!refresh) return [writePart];
  return [
    async (tx) => {
      await invoicesInsert.execute(tx);
    },
    async (tx) => {
      await sql`select kluis_refresh_invoice_statistics(${adding}::int)`.execute(tx);
    },
    writePart,
  ];
}

/**
 * The CTEs that write the part's calls lines per destination group from the lines
 * `draftBatchCallLines` computed and numbered in the same transaction (`batch_call_lines`,
 * decisions 0606 and 0695), reading only the part's customers' rows: each line numbered from its
 * invoice's `at` and described in its invoice's language, once (decision 0775). `calls_inserted`
 * returns each line's invoice and amount, for the check against the totals.
 */
function callLinesCtes(
  tenantId: number,
  drafting: CallLineDrafting,
  targets: readonly SqlCallLinesTarget[],
): Array<RawBuilder<unknown>> {
  const column = (value: (target: SqlCallLinesTarget) => ArrayElement) => arrayLiteral(targets.map(value));
  const wordLanguages = Object.keys(drafting.words) as DocumentLanguage[];
  return [
    sql`targets as (
      select * from unnest(${column((t) => t.subjectId)}::bigint[], ${column((t) => t.at)}::int[],
                           ${column((t) => t.vatRateBp)}::int[], ${column((t) => t.vatCategory)}::text[],
                           ${column((t) => t.vatExemptionCode)}::text[],
                           ${column((t) => t.vatExemptionReason)}::text[], ${column((t) => t.language)}::text[])
        as i(subject_id, at, vat_rate_bp, vat_category, vat_exemption_code, vat_exemption_reason, language)
    )`,
    sql`groups as (
      select * from unnest(${drafting.groups.map((g) => g.key)}::text[],
                           ${drafting.groups.map((g) => g.labels.nl)}::text[],
                           ${drafting.groups.map((g) => g.labels.fr)}::text[],
                           ${drafting.groups.map((g) => g.labels.en)}::text[])
        as g(key, nl, fr, en)
    )`,
    sql`words as (
      select * from unnest(${wordLanguages}::text[], ${wordLanguages.map((l) => drafting.words[l].colon)}::text[],
                           ${wordLanguages.map((l) => drafting.words[l].one)}::text[],
                           ${wordLanguages.map((l) => drafting.words[l].many)}::text[])
        as w(language, colon, one, many)
    )`,
    sql`calls_inserted as (
      insert into invoice_lines (tenant_id, invoice_id, line_no, kind, description, product_id, contract_id,
         destination_class, destination_group, calls_month, call_count, call_seconds, quantity,
         unit_price_cents, amount_cents, vat_rate_bp, vat_category, vat_exemption_code, vat_exemption_reason)
      select ${tenantId}::int, v.invoice_id, i.at + l.ordinal - 1, 'calls', d.description, null, null,
             l.destination_class, l.key, null, l.calls, l.seconds, 1, l.cents, l.cents, i.vat_rate_bp,
             i.vat_category, i.vat_exemption_code, i.vat_exemption_reason
        from targets i
        join inv v on v.subject_id = i.subject_id
        join ${BATCH_CALL_LINES} l on l.subject_id = i.subject_id and l.is_line
        left join groups g on g.key = l.key
        left join words w on w.language = i.language
        -- callGroupLine and formatDuration (invoice-run.service.ts), in SQL. Null when the line
        -- has no group or words: it is left out, and the check of the answer refuses the batch.
        cross join lateral (
          select left(case i.language when 'fr' then g.fr when 'en' then g.en else g.nl end
                      || w.colon || l.calls || ' ' || case when l.calls = 1 then w.one else w.many end || ', '
                      || case when l.seconds >= 3600
                              then (l.seconds / 3600) || ' h ' || lpad(((l.seconds % 3600) / 60)::text, 2, '0')
                                   || ' min ' || lpad((l.seconds % 60)::text, 2, '0') || ' s'
                              else ((l.seconds % 3600) / 60) || ' min ' || lpad((l.seconds % 60)::text, 2, '0') || ' s'
                         end, 300) as description
        ) d
       where d.description is not null
      returning invoice_id, amount_cents
    )`,
  ];
}
