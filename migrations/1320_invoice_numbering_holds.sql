-- A data restore holds a tenant's invoice numbering (docs/decisions/1320): the counters came back
-- with the data, but the numbers issued after the backup was made were sent to customers and are
-- remembered nowhere else. While a row exists, nothing takes a number (series F and C); the
-- operator resumes with `kluis invoices resume-numbering`, naming the last numbers issued (the
-- counters never go lower) or that none were issued since the backup. Business data, not personal.
CREATE TABLE invoice_numbering_holds (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  held_at timestamptz NOT NULL,
  -- The data archive's createdAt: invoices issued after it are not in the database.
  backup_created_at timestamptz NOT NULL,
  reason text NOT NULL CHECK (reason IN ('data_restored')),
  PRIMARY KEY (tenant_id)
);
SELECT kluis_isolate_tenant('invoice_numbering_holds');
