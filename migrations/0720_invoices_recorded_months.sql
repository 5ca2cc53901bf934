-- Issue 21 (docs/decisions/0720). The late-call count (selectLateCalls) asks, for each month whose
-- calls are still stored, whether a run has recorded it, and reads the invoices of those months:
-- without an index on the month, each question scanned every invoice the tenant keeps (ten years
-- of monthly invoices: 600,000 rows for 5,000 customers). Only invoices carrying their month's
-- record are indexed (the run's; never credit notes).
CREATE INDEX invoices_recorded_month ON invoices (tenant_id, period_start)
  WHERE kind = 'invoice' AND period_calls IS NOT NULL;
