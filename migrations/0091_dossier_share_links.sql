-- One-time share links for one dossier secret (VX-4, issue 17): a technician hands a password to
-- a customer's employee. Only a SHA-256 of the link's random token is stored; the secret stays
-- where it is (encrypted under the dossier key) and is read once, when the link is opened.
-- Deleting the credential (dossier erasure, VX-7) deletes its links.
CREATE TABLE dossier_share_links (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  link_id bigint GENERATED ALWAYS AS IDENTITY,
  token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
  subject_id bigint NOT NULL,
  credential_id bigint NOT NULL,
  field text NOT NULL CHECK (field IN ('password', 'totpSeed')),
  expires_at timestamptz NOT NULL,
  viewed_at timestamptz NULL,
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, link_id),
  UNIQUE (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, credential_id) REFERENCES dossier_credentials (tenant_id, credential_id) ON DELETE CASCADE
);
SELECT kluis_isolate_tenant('dossier_share_links');
ALTER TABLE dossier_share_links FORCE ROW LEVEL SECURITY;
CREATE INDEX dossier_share_links_credential ON dossier_share_links (tenant_id, credential_id);
CREATE INDEX dossier_share_links_subject ON dossier_share_links (tenant_id, subject_id);
