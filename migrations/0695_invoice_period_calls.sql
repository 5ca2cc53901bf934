-- Issue 21 (docs/decisions/0695). What an invoice bills of its own period's calls (G-1) is kept
-- on the invoice row; invoice_call_months keeps only the other months an invoice bills (late
-- calls). What is billed of month M = the own record of M's invoices + the rows of M. The invoice
-- run writes 5,000 rows and 5,000 key checks fewer per 5,000 customers.

-- Chargeable calls (answered, on a billable leg, with billable seconds; included and free ones
-- too), their seconds and cost in micro-euros of the month starting on period_start that the
-- invoice bills. All three or none: none is "no record of the month", as an absent row was (an
-- invoice of a month whose calls another invoice billed in full, decision 0532). Only invoices
-- with a period carry one; credit notes never do.
ALTER TABLE invoices
  ADD COLUMN period_calls integer NULL CHECK (period_calls >= 0),
  ADD COLUMN period_call_seconds bigint NULL CHECK (period_call_seconds >= 0),
  ADD COLUMN period_call_cost_micros bigint NULL CHECK (period_call_cost_micros >= 0),
  ADD CONSTRAINT invoices_period_calls_whole CHECK (
    (period_calls IS NULL AND period_call_seconds IS NULL AND period_call_cost_micros IS NULL)
    OR (period_calls IS NOT NULL AND period_call_seconds IS NOT NULL AND period_call_cost_micros IS NOT NULL
        AND kind = 'invoice' AND period_start IS NOT NULL));

-- The existing invoices: an invoice's row for its own period moves onto the invoice, once, in
-- one statement per tenant (row-level security is forced: a login subject to it names each
-- tenant, as in 0502). The sum per month is unchanged; the other rows stay as they are.
DO $$
DECLARE
  t integer;
BEGIN
  FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id LOOP
    PERFORM set_config('app.tenant', t::text, true);
    WITH moved AS (
      DELETE FROM invoice_call_months c
       USING invoices i
       WHERE c.tenant_id = t AND i.tenant_id = c.tenant_id AND i.invoice_id = c.invoice_id
         AND i.kind = 'invoice' AND c.calls_month = i.period_start
      RETURNING c.tenant_id, c.invoice_id, c.calls, c.seconds, c.cost_micros
    )
    UPDATE invoices i
       SET period_calls = m.calls, period_call_seconds = m.seconds, period_call_cost_micros = m.cost_micros
      FROM moved m
     WHERE i.tenant_id = m.tenant_id AND i.invoice_id = m.invoice_id;
  END LOOP;
  PERFORM set_config('app.tenant', '', true);
END $$;
