-- Small attachments of the technical dossier (issue 17): a network diagram, a router's config
-- backup, a scanned licence. Like every dossier value they are ciphertext under the dossier key
-- (so a written termination, VX-7, shreds them with the rest). An attachment marked secret keeps
-- its content in secret_content_enc (category credential, revealed only under the reveal rule);
-- any other in content_enc. File name, type and note are JSON in details_enc.
CREATE TABLE dossier_attachments (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  attachment_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  details_enc bytea NOT NULL,
  content_enc bytea NULL,
  secret_content_enc bytea NULL,
  size_bytes integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 1048576),
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, attachment_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  -- Set after the insert (the row id is bound into the ciphertext), then exactly one of them.
  CHECK (content_enc IS NULL OR secret_content_enc IS NULL)
);
SELECT kluis_isolate_tenant('dossier_attachments');
ALTER TABLE dossier_attachments FORCE ROW LEVEL SECURITY;
CREATE INDEX dossier_attachments_subject ON dossier_attachments (tenant_id, subject_id);
