-- Staff authentication, second part (docs/decisions/0020): TOTP second factor, recovery codes,
-- per-account lockout, session stages and API tokens for integrations.

-- The TOTP secret is AES-256-GCM ciphertext under the staff member's own data key (keyring), so
-- a copy of this table cannot mint codes and erasing the account shreds it. Recovery codes and
-- tokens are kept only as SHA-256 hashes of high-entropy random values.
ALTER TABLE staff_users
  ADD COLUMN totp_secret bytea NULL,
  ADD COLUMN totp_enabled_at timestamptz NULL,
  ADD COLUMN totp_last_step bigint NULL,
  ADD COLUMN recovery_code_hashes bytea[] NOT NULL DEFAULT '{}',
  ADD COLUMN failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
  ADD COLUMN failed_window_started_at timestamptz NULL,
  ADD COLUMN locked_until timestamptz NULL,
  ADD CONSTRAINT staff_users_totp_enabled_has_secret CHECK (totp_enabled_at IS NULL OR totp_secret IS NOT NULL);

-- full: the API; mfa_pending: password given, second factor awaited; mfa_enrolment: the role
-- requires a second factor that is not set up yet, the session may only enrol.
ALTER TABLE staff_sessions
  ADD COLUMN stage text NOT NULL DEFAULT 'full' CHECK (stage IN ('full', 'mfa_pending', 'mfa_enrolment'));

CREATE TABLE staff_api_tokens (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  token_id bigint GENERATED ALWAYS AS IDENTITY,
  token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
  label text NOT NULL CHECK (length(label) BETWEEN 1 AND 80),
  role text NOT NULL,
  created_by bigint NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz NULL,
  revoked_at timestamptz NULL,
  PRIMARY KEY (tenant_id, token_id),
  UNIQUE (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, created_by) REFERENCES staff_users (tenant_id, staff_id) ON DELETE CASCADE
);
SELECT kluis_isolate_tenant('staff_api_tokens');
CREATE INDEX staff_api_tokens_creator ON staff_api_tokens (tenant_id, created_by);
