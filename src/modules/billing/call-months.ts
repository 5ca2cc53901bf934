import { sql } from 'kysely';
import type { Tx } from '../../platform/db.js';
import { arrayLiteral } from '../../platform/array-literal.js';
import { selectLateCalls } from './invoice-run.repository.js';

/** What billing knows of one month's calls (G-1): what the call-record purge decides on. */
export interface CallMonthBilling {
  /** The latest due date (YYYY-MM-DD) of the invoices that billed calls of the month. */
  lastDueDate: string;
  /** An invoice that billed calls of the month is disputed: its calls are evidence. */
  disputed: boolean;
  /** Chargeable calls of the month stored but not billed yet (late calls, G-1). */
  unbilledCalls: number;
}

/**
 * Per billing month (YYYY-MM) that an invoice run has billed: the last due date of the invoices
 * that billed its calls (the month's own invoices and later ones with its late calls), whether
 * one of them is disputed, and how many of its calls still wait to be billed. A month absent
 * from the map was never invoiced. Dates, flags and counts only; nothing personal.
 */
export async function readCallMonthBilling(tx: Tx): Promise<Map<string, CallMonthBilling>> {
  const result = await sql<{ month: string; last_due: string; disputed: boolean }>`
    with billed as (
      select invoice_id, period_start as month from invoices where kind = 'invoice' and period_start is not null
      union
      select invoice_id, calls_month from invoice_call_months
    )
    select to_char(b.month, 'YYYY-MM') as month, max(i.due_date)::text as last_due,
           bool_or(exists (select 1 from invoice_disputes d
                            where d.tenant_id = i.tenant_id and d.invoice_id = i.invoice_id
                              and d.closed_at is null)) as disputed
      from billed b join invoices i on i.invoice_id = b.invoice_id
     group by 1`.execute(tx);
  const months = new Map<string, CallMonthBilling>();
  for (const row of result.rows) {
    months.set(row.month, { lastDueDate: row.last_due, disputed: row.disputed, unbilledCalls: 0 });
  }
  for (const late of await selectLateCalls(tx, '9999-12-01')) {
    const month = months.get(late.month.slice(0, 7));
    if (month) month.unbilledCalls += late.calls;
  }
  return months;
}

/**
 * G-1 for the per-person retention sweep: per subject, per billing month (YYYY-MM) that an
 * invoice of theirs billed calls of (its own period, or late calls on a later one), the latest
 * due date of those invoices, whether one is disputed, and how many of the subject's calls of
 * that month still wait to be billed. A month absent for a subject was never invoiced to them.
 * Dates, flags and counts only.
 */
export async function readCallMonthBillingOf(
  tx: Tx,
  subjectIds: readonly number[],
): Promise<Map<number, Map<string, CallMonthBilling>>> {
  const result = new Map<number, Map<string, CallMonthBilling>>();
  if (subjectIds.length === 0) return result;
  const subjects = arrayLiteral(subjectIds);
  const rows = await sql<{ subject_id: string; month: string; last_due: string; disputed: boolean }>`
    with billed as (
      select invoice_id, period_start as month from invoices
       where kind = 'invoice' and period_start is not null and subject_id = any(${subjects}::bigint[])
      union
      select c.invoice_id, c.calls_month from invoice_call_months c
        join invoices i on i.tenant_id = c.tenant_id and i.invoice_id = c.invoice_id
       where i.subject_id = any(${subjects}::bigint[])
    )
    select i.subject_id::text, to_char(b.month, 'YYYY-MM') as month, max(i.due_date)::text as last_due,
           bool_or(exists (select 1 from invoice_disputes d
                            where d.tenant_id = i.tenant_id and d.invoice_id = i.invoice_id
                              and d.closed_at is null)) as disputed
      from billed b join invoices i on i.invoice_id = b.invoice_id
     group by 1, 2`.execute(tx);
  for (const row of rows.rows) {
    const subjectId = Number(row.subject_id);
    const months = result.get(subjectId) ?? new Map<string, CallMonthBilling>();
    months.set(row.month, { lastDueDate: row.last_due, disputed: row.disputed, unbilledCalls: 0 });
    result.set(subjectId, months);
  }
  for (const late of await selectLateCalls(tx, '9999-12-01', subjectIds)) {
    const month = result.get(late.subjectId)?.get(late.month.slice(0, 7));
    if (month) month.unbilledCalls += late.calls;
  }
  return result;
}
