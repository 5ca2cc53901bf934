import { sql } from 'kysely';
import type { Tx } from '../../platform/db.js';
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
