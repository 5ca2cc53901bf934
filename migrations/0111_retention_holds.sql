-- Holds of issue 16 not covered by 0095 (decision 0112).
-- A dispute on an invoice (billing): while open, the retention sweep erases nothing of the
-- customer, the accounting hold of the invoice does not end, and the call records of the
-- invoice's period are not purged. The reason is the staff member's words about the dispute.
CREATE TABLE invoice_disputes (
  tenant_id integer NOT NULL,
  dispute_id bigint GENERATED ALWAYS AS IDENTITY,
  invoice_id bigint NOT NULL,
  subject_id bigint NULL,
  reason text NULL CHECK (reason IS NULL OR length(reason) BETWEEN 3 AND 500),
  opened_at timestamptz NOT NULL,
  opened_by_staff_id bigint NULL,
  closed_at timestamptz NULL,
  closed_by_staff_id bigint NULL,
  PRIMARY KEY (tenant_id, dispute_id),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, invoice_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('invoice_disputes');
-- One open dispute per invoice.
CREATE UNIQUE INDEX invoice_disputes_open ON invoice_disputes (tenant_id, invoice_id) WHERE closed_at IS NULL;
CREATE INDEX invoice_disputes_subject ON invoice_disputes (tenant_id, subject_id) WHERE closed_at IS NULL;

-- A case a privacy officer holds (litigation, an authority's request) covering several persons:
-- each person's hold is a legal_holds row that names the case, so it keeps them, shows on them
-- and is in their access report like any hold; the case holds its name, end and release.
CREATE TABLE legal_hold_cases (
  tenant_id integer NOT NULL,
  case_id bigint GENERATED ALWAYS AS IDENTITY,
  name text NOT NULL CHECK (length(name) BETWEEN 3 AND 120),
  ends_on date NOT NULL,
  placed_at timestamptz NOT NULL,
  placed_by_staff_id bigint NULL,
  released_at timestamptz NULL,
  released_by_staff_id bigint NULL,
  PRIMARY KEY (tenant_id, case_id)
);
SELECT kluis_isolate_tenant('legal_hold_cases');
ALTER TABLE legal_holds ADD COLUMN case_id bigint NULL;
-- NOT VALID: the column is new, so no row can break the key; validating would query legal_holds
-- through its forced row-level security, which a non-superuser owner (external PostgreSQL) cannot
-- do without a tenant. New and changed rows are checked as with any foreign key.
ALTER TABLE legal_holds
  ADD CONSTRAINT legal_holds_case FOREIGN KEY (tenant_id, case_id) REFERENCES legal_hold_cases (tenant_id, case_id) NOT VALID;
CREATE UNIQUE INDEX legal_holds_case_member ON legal_holds (tenant_id, case_id, subject_id) WHERE case_id IS NOT NULL;
