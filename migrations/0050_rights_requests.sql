-- Data-subject requests (GDPR Art. 15-22). A request from the public form is stored whether or
-- not it matched a person (subject_id NULL when not), so the form's answers reveal nothing; what
-- the requester typed is never stored, only whether it matched.
CREATE TABLE rights_requests (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  request_id uuid NOT NULL,
  -- SHA-256 of the unguessable status token given to the requester.
  status_token_hash bytea NOT NULL CHECK (length(status_token_hash) = 32),
  kind text NOT NULL CHECK (kind IN ('access', 'portability', 'rectification', 'erasure', 'restriction',
    'objection', 'withdraw_consent', 'object_direct_marketing')),
  channel text NOT NULL CHECK (channel IN ('portal', 'account', 'letter', 'email', 'phone', 'in_person')),
  subject_id bigint NULL,
  state text NOT NULL CHECK (state IN ('awaiting_verification', 'verified', 'fulfilled', 'rejected')),
  language text NOT NULL CHECK (language IN ('nl', 'fr', 'en')),
  received_at timestamptz NOT NULL,
  due_on date NOT NULL,
  extended_due_on date NULL,
  extension_reason text NULL CHECK (length(extension_reason) <= 500),
  verified_at timestamptz NULL,
  verification_method text NULL CHECK (verification_method ~ '^[a-z][a-z0-9_]*$'),
  -- Staff registering a letter note where the scan is kept; never the ID document itself.
  scan_reference text NULL CHECK (length(scan_reference) <= 200),
  -- Purposes named in an objection or withdrawal (policy keys, not personal data).
  purposes text[] NOT NULL DEFAULT '{}',
  -- Rectification: the corrected values, encrypted with the subject's data key.
  corrections_enc bytea NULL,
  fulfilled_at timestamptz NULL,
  rejected_reason text NULL CHECK (length(rejected_reason) <= 500),
  outcome jsonb NULL,
  last_reminder_on date NULL,
  PRIMARY KEY (tenant_id, request_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('rights_requests');
CREATE INDEX rights_requests_open ON rights_requests (tenant_id, due_on) WHERE state IN ('awaiting_verification', 'verified');
CREATE INDEX rights_requests_subject ON rights_requests (tenant_id, subject_id);

-- One-time codes sent to a contact detail already on file. Only a hash is stored.
CREATE TABLE verification_codes (
  tenant_id integer NOT NULL,
  request_id uuid NOT NULL,
  code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
  expires_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  used_at timestamptz NULL,
  PRIMARY KEY (tenant_id, request_id),
  FOREIGN KEY (tenant_id, request_id) REFERENCES rights_requests (tenant_id, request_id) ON DELETE CASCADE
);
SELECT kluis_isolate_tenant('verification_codes');

-- Signed, expiring, single-use download links for access and portability packages.
CREATE TABLE export_downloads (
  tenant_id integer NOT NULL,
  token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
  request_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz NULL,
  PRIMARY KEY (tenant_id, token_hash),
  FOREIGN KEY (tenant_id, request_id) REFERENCES rights_requests (tenant_id, request_id) ON DELETE CASCADE
);
SELECT kluis_isolate_tenant('export_downloads');
