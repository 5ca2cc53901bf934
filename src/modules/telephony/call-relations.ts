import { sql } from 'kysely';

/**
 * What telephony publishes of its calls for another module's set-based statements (the invoice
 * run, decision 0552): relations with a fixed set of columns that a query of the other module
 * joins like a table (`from ${CALL_TOTALS} t`), so the run stays one statement per step while the
 * tables stay telephony's (house rule, decision 0530). PostgreSQL pulls such a subquery up into
 * the statement: the plan, partition pruning included, is the one of the table itself. The
 * reader's repository function holds the Grant for what it reads through them.
 */

/**
 * The per-customer monthly call totals kept with the calls (decision 0500): per tenant, customer,
 * Belgian month (`month`, its first day) and destination head (`head`): the chargeable calls
 * (`chargeable_calls`, `chargeable_seconds`, `chargeable_cost_micros`, `chargeable_unrated`), the
 * charged ones (`charged_calls`, `charged_seconds`, `charged_cost_micros`) and the unrated ones
 * (`unrated`). kluis.telephony.call_record.
 */
export const CALL_TOTALS = sql`(select tenant_id, subject_id, month, head, chargeable_calls, chargeable_seconds,
    chargeable_cost_micros, chargeable_unrated, charged_calls, charged_seconds, charged_cost_micros, unrated
  from call_record_month_totals)`;

/**
 * The calls themselves: customer, start, destination, billable seconds, cost (micro-euros, null
 * when unrated), whether the leg is billable and the disposition. kluis.telephony.call_record.
 */
export const CALLS = sql`(select tenant_id, subject_id, started_at, destination, billable_seconds, cost_micros,
    is_billable_leg, disposition
  from call_records)`;
