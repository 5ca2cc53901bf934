-- Billing (VX-3, VX-8, VK-2, VK-14): the provider's own billing settings, customers' bank
-- accounts and external credit scores (encrypted under the subject's key), invoices and credit
-- notes numbered without gaps, and payments matched by structured communication.
-- docs/decisions/0040-billing.md explains the choices.

-- The provider's payee account and terms: business data of the tenant (a company), not personal.
CREATE TABLE billing_settings (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  payee_iban text NOT NULL CHECK (payee_iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{8,30}$'),
  payee_bic text NULL CHECK (payee_bic ~ '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$'),
  payment_term_days integer NOT NULL CHECK (payment_term_days BETWEEN 0 AND 120),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id)
);
SELECT kluis_isolate_tenant('billing_settings');

-- A customer's bank accounts: the IBAN is encrypted under the subject's data key (shredded on
-- erasure) and searchable through a blind index. A direct-debit mandate makes it the account
-- invoices are collected from.
CREATE TABLE bank_accounts (
  tenant_id integer NOT NULL,
  bank_account_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  iban_enc bytea NOT NULL,
  iban_bidx bytea NOT NULL,
  direct_debit_mandate text NULL CHECK (direct_debit_mandate ~ '^[A-Za-z0-9+?/:().,'' -]{1,35}$'),
  mandate_signed_on date NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, bank_account_id),
  UNIQUE (tenant_id, subject_id, iban_bidx),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  CHECK ((direct_debit_mandate IS NULL) = (mandate_signed_on IS NULL))
);
SELECT kluis_isolate_tenant('bank_accounts');
CREATE INDEX bank_accounts_iban ON bank_accounts (tenant_id, iban_bidx);
-- At most one account per customer is collected from.
CREATE UNIQUE INDEX bank_accounts_one_mandate ON bank_accounts (tenant_id, subject_id)
  WHERE direct_debit_mandate IS NOT NULL;

-- External credit scores: the score is encrypted; the bureau (source) and the day it was observed
-- are kept in clear because the access report must name the source (VK-21).
CREATE TABLE credit_scores (
  tenant_id integer NOT NULL,
  credit_score_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  score_enc bytea NOT NULL,
  source text NOT NULL CHECK (source ~ '^[a-z][a-z0-9_]{1,39}$'),
  observed_on date NOT NULL,
  recorded_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, credit_score_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('credit_scores');
CREATE INDEX credit_scores_subject ON credit_scores (tenant_id, subject_id, observed_on DESC);

-- Per-contract billing options: an itemised call list only where the contract asks for it.
CREATE TABLE contract_billing_options (
  tenant_id integer NOT NULL,
  contract_id bigint NOT NULL,
  itemised_calls boolean NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, contract_id),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, contract_id)
);
SELECT kluis_isolate_tenant('contract_billing_options');

-- Gapless numbering: one row per tenant, series (F invoices, C credit notes) and year, locked
-- (UPDATE) in the same transaction that inserts the documents; a rollback returns the numbers.
CREATE TABLE invoice_counters (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  series text NOT NULL CHECK (series IN ('F', 'C')),
  year integer NOT NULL CHECK (year BETWEEN 2000 AND 2999),
  last_number integer NOT NULL CHECK (last_number BETWEEN 0 AND 9999999),
  PRIMARY KEY (tenant_id, series, year)
);
SELECT kluis_isolate_tenant('invoice_counters');

-- Invoices and credit notes. Amounts in integer euro cents. The buyer_* columns are the party
-- snapshot: who was billed, as printed, kept in clear under the accounting legal hold until
-- hold_until (10 years from 1 January after the issue date), then nulled with subject_id.
CREATE TABLE invoices (
  tenant_id integer NOT NULL,
  invoice_id bigint GENERATED ALWAYS AS IDENTITY,
  kind text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
  series text NOT NULL CHECK (series IN ('F', 'C')),
  year integer NOT NULL,
  number integer NOT NULL CHECK (number >= 1),
  invoice_number text NOT NULL,
  subject_id bigint NULL,
  organisation_id bigint NULL,
  credited_invoice_id bigint NULL,
  period_start date NULL,
  period_end date NULL,
  issue_date date NOT NULL,
  due_date date NOT NULL,
  hold_until date NOT NULL,
  currency text NOT NULL CHECK (currency = 'EUR'),
  total_excl_vat_cents bigint NOT NULL,
  vat_cents bigint NOT NULL,
  total_incl_vat_cents bigint NOT NULL,
  paid_cents bigint NOT NULL DEFAULT 0,
  credited_cents bigint NOT NULL DEFAULT 0,
  structured_communication text NOT NULL CHECK (structured_communication ~ '^[0-9]{12}$'),
  itemised_calls boolean NOT NULL,
  credit_reason text NULL CHECK (credit_reason ~ '^[a-z][a-z0-9_]{0,39}$'),
  buyer_name text NULL,
  buyer_street text NULL,
  buyer_postal_code text NULL,
  buyer_city text NULL,
  buyer_country text NULL CHECK (buyer_country ~ '^[A-Z]{2}$'),
  buyer_enterprise_number text NULL CHECK (buyer_enterprise_number ~ '^[01][0-9]{9}$'),
  buyer_iban text NULL,
  buyer_mandate text NULL,
  seller jsonb NOT NULL,
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id),
  UNIQUE (tenant_id, series, year, number),
  UNIQUE (tenant_id, invoice_number),
  UNIQUE (tenant_id, structured_communication),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, organisation_id) REFERENCES organisations (tenant_id, organisation_id),
  FOREIGN KEY (tenant_id, credited_invoice_id) REFERENCES invoices (tenant_id, invoice_id),
  CHECK ((kind = 'credit_note') = (credited_invoice_id IS NOT NULL)),
  CHECK ((kind = 'credit_note') = (series = 'C')),
  CHECK (total_incl_vat_cents = total_excl_vat_cents + vat_cents),
  CHECK (total_excl_vat_cents >= 0 AND vat_cents >= 0 AND paid_cents >= 0 AND credited_cents >= 0),
  CHECK (due_date >= issue_date),
  CHECK ((period_start IS NULL) = (period_end IS NULL) AND period_end >= period_start)
);
SELECT kluis_isolate_tenant('invoices');
-- One invoice per customer and billing period: a second run of the same month adds nothing.
CREATE UNIQUE INDEX invoices_one_per_period ON invoices (tenant_id, subject_id, period_start)
  WHERE kind = 'invoice';
CREATE INDEX invoices_subject ON invoices (tenant_id, subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX invoices_hold ON invoices (tenant_id, hold_until) WHERE subject_id IS NOT NULL;
CREATE INDEX invoices_credited ON invoices (tenant_id, credited_invoice_id) WHERE credited_invoice_id IS NOT NULL;

-- Lines: subscriptions per contract line, calls summarised per destination class, corrections.
-- amount = quantity × unit price always (a pro-rated month is one unit at the pro-rated price).
CREATE TABLE invoice_lines (
  tenant_id integer NOT NULL,
  invoice_id bigint NOT NULL,
  line_no integer NOT NULL CHECK (line_no >= 1),
  kind text NOT NULL CHECK (kind IN ('subscription', 'calls', 'correction')),
  description text NOT NULL CHECK (length(description) BETWEEN 1 AND 300),
  product_id bigint NULL,
  contract_id bigint NULL,
  destination_class text NULL CHECK (destination_class IN ('be_fixed', 'be_mobile', 'international', 'special')),
  call_count integer NULL CHECK (call_count >= 0),
  call_seconds bigint NULL CHECK (call_seconds >= 0),
  quantity integer NOT NULL CHECK (quantity >= 1),
  unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
  amount_cents bigint NOT NULL,
  vat_rate_bp integer NOT NULL CHECK (vat_rate_bp BETWEEN 0 AND 10000),
  PRIMARY KEY (tenant_id, invoice_id, line_no),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, invoice_id),
  CHECK (amount_cents = quantity * unit_price_cents)
);
SELECT kluis_isolate_tenant('invoice_lines');

-- Payments from bank statements, matched to an invoice by its structured communication.
-- The bank's reference makes an import idempotent. Free-text communications are never stored.
CREATE TABLE payments (
  tenant_id integer NOT NULL,
  payment_id bigint GENERATED ALWAYS AS IDENTITY,
  bank_reference text NOT NULL CHECK (bank_reference ~ '^[A-Za-z0-9._/-]{1,64}$'),
  value_date date NOT NULL,
  amount_cents bigint NOT NULL CHECK (amount_cents > 0),
  structured_communication text NULL CHECK (structured_communication ~ '^[0-9]{12}$'),
  invoice_id bigint NULL,
  subject_id bigint NULL,
  imported_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, payment_id),
  UNIQUE (tenant_id, bank_reference),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, invoice_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  CHECK (subject_id IS NULL OR invoice_id IS NOT NULL)
);
SELECT kluis_isolate_tenant('payments');
CREATE INDEX payments_invoice ON payments (tenant_id, invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX payments_subject ON payments (tenant_id, subject_id) WHERE subject_id IS NOT NULL;
