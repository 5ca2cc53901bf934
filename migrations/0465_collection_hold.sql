-- A hand-over for collection holds its customer (decision 0465): while it is open, no Art. 17
-- erasure runs (GDPR Art. 17(3)(e), a legal claim in progress), like an open dispute (decision
-- 0415). It closes when the invoice is settled (paid in full or credited) or when staff close it.

ALTER TABLE invoice_collections
  ADD COLUMN subject_id bigint NULL,
  ADD COLUMN closed_at timestamptz NULL,
  ADD COLUMN closed_by_staff_id bigint NULL,
  ADD COLUMN closed_because text NULL CHECK (closed_because IN ('paid', 'credited', 'staff')),
  ADD CONSTRAINT invoice_collections_closed_with_cause CHECK ((closed_at IS NULL) = (closed_because IS NULL));

-- NOT VALID: the column is new and filled below from the invoice, whose subject is a data subject
-- already; validating would read invoice_collections through its forced row-level security, which a
-- non-superuser owner (external PostgreSQL) cannot do without a tenant. New and changed rows are
-- checked as with any foreign key.
ALTER TABLE invoice_collections
  ADD CONSTRAINT invoice_collections_subject FOREIGN KEY (tenant_id, subject_id)
    REFERENCES data_subjects (tenant_id, subject_id) NOT VALID;

-- Existing hand-overs: the invoice's customer; those whose invoice is settled already are closed
-- now (by payment or credit note, whichever the invoice shows), the others hold from now on.
-- Row-level security is forced: the owner names each tenant as the application does (as 0382).
DO $$
DECLARE
  t integer;
BEGIN
  FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id LOOP
    PERFORM set_config('app.tenant', t::text, true);
    UPDATE invoice_collections c
       SET subject_id = i.subject_id
      FROM invoices i
     WHERE c.tenant_id = t AND i.tenant_id = c.tenant_id AND i.invoice_id = c.invoice_id;
    UPDATE invoice_collections c
       SET closed_at = now(),
           closed_because = CASE WHEN i.paid_cents > 0 THEN 'paid' ELSE 'credited' END
      FROM invoices i
     WHERE c.tenant_id = t AND i.tenant_id = c.tenant_id AND i.invoice_id = c.invoice_id
       AND i.total_incl_vat_cents - i.credited_cents - i.paid_cents <= 0;
  END LOOP;
  PERFORM set_config('app.tenant', '', true);
END $$;

CREATE INDEX invoice_collections_open_subject ON invoice_collections (tenant_id, subject_id)
  WHERE closed_at IS NULL;
