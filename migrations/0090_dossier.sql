-- The technical dossier (VX-4): a customer's assets, credentials and network facts/licences.
-- docs/decisions/0090-technical-dossier.md explains the choices.
--
-- Every value of the dossier is AES-256-GCM ciphertext under the key of the customer's dossier
-- (key store owner_kind 'dossier'), not under the customer's own key: a written termination
-- (VX-7) destroys that key, so no copy of these rows (a backup) can be read again, while the
-- customer's invoices stay readable. `details_enc` holds the non-secret fields as JSON; the
-- secrets (password, TOTP seed) have columns of their own and are only revealed one at a time.
-- Exact-match search (hostname, serial) goes through keyed hashes (blind indexes).

CREATE TABLE dossier_assets (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  asset_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  details_enc bytea NOT NULL,
  hostname_bidx bytea NULL CHECK (length(hostname_bidx) = 16),
  serial_bidx bytea NULL CHECK (length(serial_bidx) = 16),
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, asset_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('dossier_assets');
ALTER TABLE dossier_assets FORCE ROW LEVEL SECURITY;
CREATE INDEX dossier_assets_subject ON dossier_assets (tenant_id, subject_id);
CREATE INDEX dossier_assets_hostname ON dossier_assets (tenant_id, hostname_bidx) WHERE hostname_bidx IS NOT NULL;
CREATE INDEX dossier_assets_serial ON dossier_assets (tenant_id, serial_bidx) WHERE serial_bidx IS NOT NULL;

CREATE TABLE dossier_credentials (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  credential_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  details_enc bytea NOT NULL,
  password_enc bytea NULL,
  totp_seed_enc bytea NULL,
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, credential_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('dossier_credentials');
ALTER TABLE dossier_credentials FORCE ROW LEVEL SECURITY;
CREATE INDEX dossier_credentials_subject ON dossier_credentials (tenant_id, subject_id);

-- Network facts (ranges, VLANs, Wi-Fi names, ISP lines) and licences (product, seats, expiry).
CREATE TABLE dossier_facts (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  fact_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  details_enc bytea NOT NULL,
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, fact_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('dossier_facts');
ALTER TABLE dossier_facts FORCE ROW LEVEL SECURITY;
CREATE INDEX dossier_facts_subject ON dossier_facts (tenant_id, subject_id);

-- Step-up (VX-4): when the session last proved a second factor (login, enrolment or a step-up
-- code). Revealing a dossier secret needs one within the last few minutes.
ALTER TABLE staff_sessions ADD COLUMN second_factor_at timestamptz NULL;
