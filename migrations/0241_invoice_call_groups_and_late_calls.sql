-- Issue 13 (VX-5, G-1). Invoices summarise calls per destination group of the tariff, and keep
-- what they billed of each month's calls so that a call that arrives after its month was billed
-- is found and billed by the next run (never dropped without a word).
-- docs/decisions/0241-late-calls-and-contestable-months.md.

-- The tariff's group key of a calls line (the four old classes are keys too); calls_month is the
-- month the calls of the line were made in when it is not the invoice's own period (late calls).
ALTER TABLE invoice_lines
  ADD COLUMN destination_group text NULL CHECK (destination_group ~ '^[a-z0-9][a-z0-9_]{0,39}$'),
  ADD COLUMN calls_month date NULL CHECK (extract(day FROM calls_month) = 1);

-- Per invoice and month of calls: how many chargeable calls (answered, on a billable leg, with
-- billable seconds; included and free ones too) it billed and their cost in micro-euros. An
-- invoice of month M has a row for M (zero calls too); a later invoice that bills late calls
-- of M has a row for M with the difference. What is billed of M = the sum over invoices.
CREATE TABLE invoice_call_months (
  tenant_id integer NOT NULL,
  invoice_id bigint NOT NULL,
  calls_month date NOT NULL CHECK (extract(day FROM calls_month) = 1),
  calls integer NOT NULL CHECK (calls >= 0),
  seconds bigint NOT NULL CHECK (seconds >= 0),
  cost_micros bigint NOT NULL CHECK (cost_micros >= 0),
  PRIMARY KEY (tenant_id, invoice_id, calls_month),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, invoice_id)
);
SELECT kluis_isolate_tenant('invoice_call_months');
CREATE INDEX invoice_call_months_month ON invoice_call_months (tenant_id, calls_month);
