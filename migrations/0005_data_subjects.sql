-- Every natural person a tenant holds data about has one row here, whatever module holds the
-- data. It carries no identifying value, only the state the access gate enforces.
CREATE TABLE data_subjects (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  subject_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_type text NOT NULL CHECK (subject_type ~ '^[a-z][a-z0-9_]*$'),
  -- GDPR Art. 18: while set, only storage and the purposes the policy exempts are allowed.
  restricted_at timestamptz NULL,
  -- GDPR Art. 21(2)/(3): objection to direct marketing stops every marketing purpose.
  marketing_objected_at timestamptz NULL,
  erased_at timestamptz NULL,
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('data_subjects');

-- Per subject and purpose: consent given or withdrawn, or an objection (Art. 21(1)).
CREATE TABLE subject_purpose_states (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  purpose text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
  state text NOT NULL CHECK (state IN ('consented', 'withdrawn', 'objected')),
  -- The statement version in force when the state was set (VK-29).
  policy_version text NOT NULL,
  channel text NOT NULL CHECK (channel ~ '^[a-z][a-z0-9_]*$'),
  changed_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subject_id, purpose),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('subject_purpose_states');
