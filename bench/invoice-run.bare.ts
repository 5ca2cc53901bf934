import { BUILT_IN_HEADS } from '../src/modules/telephony/index.js';
import { DOCUMENT_TEXTS } from '../src/modules/billing/document-texts.js';
import type pg from 'pg';

/** Where the bare run reads the month's calls from (decision 0805). */
export type BareCallsSource = 'totals' | 'calls';

/** The bare run's input: the month billed, and what its written rows differ in from the run's. */
export interface BareRunInput {
  tenantId: number;
  /** The month read, `YYYY-MM`, and its first and last day. */
  month: { key: string; start: string; end: string };
  /**
   * The period and the numbers' year written on the bare invoices: not the run's own, which its
   * invoices hold under unique keys (one invoice per customer and period; numbers per year).
   */
  writtenPeriod: { start: string; end: string };
  year: number;
  issueDate: string;
  dueDate: string;
  holdUntil: string;
  /** The tenant's language, for customers with none of their own. */
  defaultLanguage: 'nl' | 'fr' | 'en';
  seller: string;
}

/**
 * The invoice run as bare SQL (decision 0805): one statement, one `INSERT … SELECT` per table, by
 * the owner (no row-level security, no gate, no audit, no decryption, no lock, no counter): the
 * month's calls summed per customer and destination group (the built-in classes, the longest head
 * first) into calls lines rounded as `microsToCents`, described as `callGroupLine`, numbered after
 * the customer's subscription lines; the invoices with their totals, VAT per rate rounded as
 * `vatOf`, numbers, structured communications, buyer's name and language and the month's record
 * (G-1) on the row; the lines checking their invoices through the foreign key. The buyer's address
 * is encrypted in `people` and only the application can read it: the bare run writes it as a
 * constant. The calls are read from the month's totals the run reads (`totals`), or from the
 * calls themselves (`calls`), summed with the totals' own conditions (migration 0500).
 */
export async function bareInvoiceRun(
  owner: pg.Client,
  input: BareRunInput,
  source: BareCallsSource,
): Promise<void> {
  const languages = ['nl', 'fr', 'en'] as const;
  const monthCalls =
    source === 'totals'
      ? `select subject_id, head, charged_calls, charged_seconds, charged_cost_micros, chargeable_calls,
                chargeable_seconds
           from call_record_month_totals
          where tenant_id = $1 and month = $2::date and (charged_calls > 0 or chargeable_calls > 0)`
      : `select subject_id, left(destination, 8) as head,
                count(*) filter (where cost_micros > 0)::int as charged_calls,
                coalesce(sum(billable_seconds) filter (where cost_micros > 0), 0)::bigint as charged_seconds,
                coalesce(sum(cost_micros) filter (where cost_micros > 0), 0)::bigint as charged_cost_micros,
                count(*) filter (where ${CHARGEABLE})::int as chargeable_calls,
                coalesce(sum(billable_seconds) filter (where ${CHARGEABLE}), 0)::bigint as chargeable_seconds
           from call_records
          where tenant_id = $1 and subject_id is not null
            and started_at >= ($2::date)::timestamp at time zone 'Europe/Brussels'
            and started_at < ($3::date + 1)::timestamp at time zone 'Europe/Brussels'
            and (cost_micros > 0 or ${CHARGEABLE})
          group by 1, 2`;
  await owner.query(
    `with deciding as (
       select * from unnest($4::text[], $5::text[]) as d(head, key)
     ), customers as (
       select pe.subject_id, pe.given_name || ' ' || pe.family_name as buyer_name,
              coalesce(pe.preferred_language, $8) as language
         from people pe
        where pe.tenant_id = $1
     ), subscriptions as (
       -- Each subscription of a contract overlapping the month, pro-rated for part of it.
       select c.subject_id, row_number() over (partition by c.subject_id order by c.contract_id, l.line_no) as line_no,
              l.product_id, c.contract_id, l.vat_rate_bp, covered.days >= ($3::date - $2::date + 1) as whole,
              l.quantity, l.unit_price_cents, p.name, covered.from_day, covered.to_day,
              case when covered.days >= ($3::date - $2::date + 1) then l.quantity * l.unit_price_cents
                   else (2 * l.quantity * l.unit_price_cents * covered.days + ($3::date - $2::date + 1))
                        / (2 * ($3::date - $2::date + 1)) end as amount
         from contracts c
         join contract_lines l on l.tenant_id = c.tenant_id and l.contract_id = c.contract_id
         join contract_products p on p.tenant_id = l.tenant_id and p.product_id = l.product_id
         cross join lateral (
           select greatest(c.start_date, $2::date) as from_day, least(coalesce(c.end_date, $3::date), $3::date) as to_day
         ) bounds
         cross join lateral (select bounds.*, bounds.to_day - bounds.from_day + 1 as days) covered
        where c.tenant_id = $1 and p.kind = 'subscription' and c.start_date <= $3::date
          and (c.end_date is null or c.end_date >= $2::date)
     ), month_calls as (
       ${monthCalls}
     ), mapped as (
       -- Each distinct head in the group of the longest deciding head it starts with.
       select distinct on (h.head) h.head, d.key
         from (select distinct head from month_calls) h
         join deciding d on starts_with(h.head, d.head)
        order by h.head, length(d.head) desc
     ), groups as (
       select c.subject_id, m.key,
              coalesce(sum(c.charged_calls) filter (where c.charged_calls > 0), 0)::int as calls,
              coalesce(sum(c.charged_seconds) filter (where c.charged_calls > 0), 0)::bigint as seconds,
              coalesce(sum(c.charged_cost_micros) filter (where c.charged_calls > 0), 0)::bigint as cost
         from month_calls c
         join mapped m on m.head = c.head
        group by 1, 2
     ), records as (
       select subject_id, sum(chargeable_calls)::int as calls, sum(chargeable_seconds)::bigint as seconds,
              sum(charged_cost_micros)::bigint as cost
         from month_calls
        group by 1
     ), lines as (
       select s.subject_id, s.line_no, 'subscription' as kind,
              case when s.whole then s.name || ' (' || $9 || ')'
                   else s.name || ' (' || s.from_day || ' – ' || s.to_day || ')' end as description,
              s.product_id, s.contract_id, null::text as destination_class, null::text as destination_group,
              null::int as call_count, null::bigint as call_seconds,
              case when s.whole then s.quantity else 1 end as quantity,
              case when s.whole then s.unit_price_cents else s.amount end as unit_price_cents,
              s.amount as amount_cents, s.vat_rate_bp
         from subscriptions s
       union all
       select g.subject_id,
              coalesce(n.subscriptions, 0) + row_number() over (partition by g.subject_id order by g.key collate "C"),
              'calls',
              left((($6::jsonb -> cu.language) ->> g.key) || (w ->> 'colon') || g.calls || ' '
                   || case when g.calls = 1 then w ->> 'one' else w ->> 'many' end || ', '
                   || case when g.seconds >= 3600
                           then (g.seconds / 3600) || ' h ' || lpad(((g.seconds % 3600) / 60)::text, 2, '0')
                                || ' min ' || lpad((g.seconds % 60)::text, 2, '0') || ' s'
                           else ((g.seconds % 3600) / 60) || ' min ' || lpad((g.seconds % 60)::text, 2, '0') || ' s'
                      end, 300),
              null, null, g.key, g.key, g.calls, g.seconds, 1, g.cents, g.cents, 2100
         from (select *, (2 * cost + 10000) / 20000 as cents from groups) g
         join customers cu on cu.subject_id = g.subject_id
         cross join lateral (select $7::jsonb -> cu.language as w) words
         left join (select subject_id, count(*) as subscriptions from subscriptions group by 1) n
           on n.subject_id = g.subject_id
        where g.calls > 0 and g.cents > 0
     ), rates as (
       select subject_id, vat_rate_bp, sum(amount_cents)::bigint as taxable,
              (2 * sum(amount_cents)::bigint * vat_rate_bp + 10000) / 20000 as vat
         from lines
        group by 1, 2
     ), totals as (
       select subject_id, sum(taxable)::bigint as excl, sum(vat)::bigint as vat
         from rates
        group by 1
       having bool_or(taxable <> 0)
     ), numbered as (
       select t.*, row_number() over (order by t.subject_id) as number from totals t
     ), inserted as (
       insert into invoices (tenant_id, kind, series, year, number, invoice_number, subject_id, period_start,
          period_end, issue_date, due_date, hold_until, currency, total_excl_vat_cents, vat_cents,
          total_incl_vat_cents, structured_communication, itemised_calls, buyer_name, buyer_street,
          buyer_postal_code, buyer_city, buyer_country, buyer_language, seller, created_at, period_calls,
          period_call_seconds, period_call_cost_micros)
       select $1, 'invoice', 'F', $10::int, n.number, 'F' || $10::int || '-' || lpad(n.number::text, 6, '0'), n.subject_id,
              $11::date, $12::date, $13::date, $14::date, $15::date, 'EUR', n.excl, n.vat, n.excl + n.vat,
              b.base || lpad(coalesce(nullif(b.base::bigint % 97, 0), 97)::text, 2, '0'), false,
              cu.buyer_name, 'Veldstraat 1', '9000', 'Gent', 'BE', cu.language, $16::jsonb, now(),
              coalesce(r.calls, 0), coalesce(r.seconds, 0), coalesce(r.cost, 0)
         from numbered n
         join customers cu on cu.subject_id = n.subject_id
         left join records r on r.subject_id = n.subject_id
         cross join lateral (select lpad(($10::int % 100)::text, 2, '0') || '1' || lpad(n.number::text, 7, '0')) b(base)
       returning invoice_id, subject_id)
     insert into invoice_lines (tenant_id, invoice_id, line_no, kind, description, product_id, contract_id,
        destination_class, destination_group, call_count, call_seconds, quantity, unit_price_cents,
        amount_cents, vat_rate_bp, vat_category)
     select $1, i.invoice_id, l.line_no, l.kind, l.description, l.product_id, l.contract_id, l.destination_class,
            l.destination_group, l.call_count, l.call_seconds, l.quantity, l.unit_price_cents, l.amount_cents,
            l.vat_rate_bp, case when l.vat_rate_bp > 0 then 'S' else 'Z' end
       from inserted i
       join lines l on l.subject_id = i.subject_id`,
    [
      input.tenantId,
      input.month.start,
      input.month.end,
      BUILT_IN_HEADS.map((head) => head.head),
      BUILT_IN_HEADS.map((head) => head.key),
      JSON.stringify(
        Object.fromEntries(languages.map((language) => [language, DOCUMENT_TEXTS[language].builtInGroups])),
      ),
      JSON.stringify(
        Object.fromEntries(languages.map((language) => [language, DOCUMENT_TEXTS[language].callWords])),
      ),
      input.defaultLanguage,
      input.month.key,
      input.year,
      input.writtenPeriod.start,
      input.writtenPeriod.end,
      input.issueDate,
      input.dueDate,
      input.holdUntil,
      input.seller,
    ],
  );
}

/** A chargeable call (the totals' condition, migration 0500). */
const CHARGEABLE = `(is_billable_leg and billable_seconds > 0 and disposition = 'answered')`;

/** How the bare run's rows compare with the run's: counts, and rows that differ in a billed value. */
export interface BareComparison {
  invoices: number;
  lines: number;
  bareInvoices: number;
  bareLines: number;
  /** Invoices of one that the other has not, field by field but for ids, numbers and the period. */
  differentInvoices: number;
  differentLines: number;
}

/**
 * The run's invoices of year `runYear` against the bare run's of `bareYear`, per customer: totals,
 * buyer's name and language, the month's record, and every line but its invoice's id.
 */
export async function compareBareWithRun(
  owner: pg.Client,
  tenantId: number,
  runYear: number,
  bareYear: number,
): Promise<BareComparison> {
  const result = await owner.query<BareComparison>(
    `with inv as (
       select year, subject_id, total_excl_vat_cents, vat_cents, total_incl_vat_cents, buyer_name, buyer_language,
              period_calls, period_call_seconds, period_call_cost_micros
         from invoices where tenant_id = $1 and year in ($2, $3)
     ), lin as (
       select i.year, i.subject_id, l.line_no, l.kind, l.description, l.product_id, l.contract_id, l.destination_class,
              l.destination_group, l.call_count, l.call_seconds, l.quantity, l.unit_price_cents, l.amount_cents,
              l.vat_rate_bp, l.vat_category
         from invoice_lines l join invoices i on i.tenant_id = l.tenant_id and i.invoice_id = l.invoice_id
        where i.tenant_id = $1 and i.year in ($2, $3)
     ), inv_diff as (
       (select subject_id, total_excl_vat_cents, vat_cents, total_incl_vat_cents, buyer_name, buyer_language,
               period_calls, period_call_seconds, period_call_cost_micros from inv where year = $2
        except all
        select subject_id, total_excl_vat_cents, vat_cents, total_incl_vat_cents, buyer_name, buyer_language,
               period_calls, period_call_seconds, period_call_cost_micros from inv where year = $3)
       union all
       (select subject_id, total_excl_vat_cents, vat_cents, total_incl_vat_cents, buyer_name, buyer_language,
               period_calls, period_call_seconds, period_call_cost_micros from inv where year = $3
        except all
        select subject_id, total_excl_vat_cents, vat_cents, total_incl_vat_cents, buyer_name, buyer_language,
               period_calls, period_call_seconds, period_call_cost_micros from inv where year = $2)
     ), lin_diff as (
       (select subject_id, line_no, kind, description, product_id, contract_id, destination_class, destination_group,
               call_count, call_seconds, quantity, unit_price_cents, amount_cents, vat_rate_bp, vat_category
          from lin where year = $2
        except all
        select subject_id, line_no, kind, description, product_id, contract_id, destination_class, destination_group,
               call_count, call_seconds, quantity, unit_price_cents, amount_cents, vat_rate_bp, vat_category
          from lin where year = $3)
       union all
       (select subject_id, line_no, kind, description, product_id, contract_id, destination_class, destination_group,
               call_count, call_seconds, quantity, unit_price_cents, amount_cents, vat_rate_bp, vat_category
          from lin where year = $3
        except all
        select subject_id, line_no, kind, description, product_id, contract_id, destination_class, destination_group,
               call_count, call_seconds, quantity, unit_price_cents, amount_cents, vat_rate_bp, vat_category
          from lin where year = $2)
     )
     select (select count(*) from inv where year = $2)::int as invoices,
            (select count(*) from lin where year = $2)::int as lines,
            (select count(*) from inv where year = $3)::int as "bareInvoices",
            (select count(*) from lin where year = $3)::int as "bareLines",
            (select count(*) from inv_diff)::int as "differentInvoices",
            (select count(*) from lin_diff)::int as "differentLines"`,
    [tenantId, runYear, bareYear],
  );
  const row = result.rows[0];
  if (!row) throw new Error('no comparison');
  return row;
}
