-- Accounts of the provider's customers on the privacy portal (VK-23 "via the personal settings
-- of your account"). Login by password (argon2id) or by a one-time link sent to the e-mail
-- address on file. Only hashes of passwords, session tokens and link tokens are stored.
CREATE TABLE subject_accounts (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  password_hash text NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('subject_accounts');

CREATE TABLE subject_login_links (
  tenant_id integer NOT NULL,
  token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
  subject_id bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz NULL,
  PRIMARY KEY (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('subject_login_links');

CREATE TABLE subject_sessions (
  tenant_id integer NOT NULL,
  session_hash bytea NOT NULL CHECK (length(session_hash) = 32),
  subject_id bigint NOT NULL,
  csrf_hash bytea NOT NULL CHECK (length(csrf_hash) = 32),
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, session_hash),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('subject_sessions');
