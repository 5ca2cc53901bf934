-- Issue 18 (VK-10, VK-11, VX-6): the disclosure log. Every time personal data leaves Kluis for a
-- recipient of the policy it goes through the kernel's door (src/kernel/disclosure/), which writes
-- one row here in the same transaction as the gate decision that read the data. Persons are named
-- by keyed pseudonym (like the audit log), so erasure does not have to rewrite the log and the
-- person's access report still finds the disclosures that concerned them (Art. 15(1)(c)).
CREATE TABLE disclosures (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  disclosure_id bigint GENERATED ALWAYS AS IDENTITY,
  at timestamptz NOT NULL,
  recipient text NOT NULL CHECK (recipient ~ '^[a-z][a-z0-9_]*$'),
  recipient_kind text NOT NULL CHECK (recipient_kind IN ('processor', 'third_party', 'group_company', 'authority')),
  -- Where the data went: the recipient's country (or EU/EEA) or the requesting authority's.
  destination_country text NOT NULL CHECK (destination_country ~ '^([A-Z]{2}|EEA)$'),
  purpose text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
  legal_basis text NOT NULL CHECK (legal_basis ~ '^[a-z_]+$'),
  categories text[] NOT NULL CHECK (cardinality(categories) > 0 AND array_to_string(categories, ',') ~ '^[a-z][a-z0-9_.,]*$'),
  subject_count integer NOT NULL CHECK (subject_count >= 0),
  actor_kind text NOT NULL CHECK (actor_kind IN ('staff', 'system')),
  actor_id text NOT NULL CHECK (actor_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
  role text NULL CHECK (role ~ '^[a-z][a-z0-9_]*$'),
  -- The file or request the disclosure was part of (an export's id, an authority request's id).
  reference text NOT NULL CHECK (reference ~ '^[a-z][a-z_-]*:[A-Za-z0-9_.:-]{1,120}$'),
  authority_request_id bigint NULL,
  -- While an authority forbids telling the person (its end date, inclusive), the access report
  -- leaves the disclosure out.
  confidential_until date NULL,
  request_id text NULL CHECK (request_id ~ '^[A-Za-z0-9._-]{1,64}$'),
  PRIMARY KEY (tenant_id, disclosure_id)
);
SELECT kluis_isolate_tenant('disclosures');
CREATE INDEX disclosures_at ON disclosures (tenant_id, at);

CREATE TABLE disclosure_subjects (
  tenant_id integer NOT NULL,
  disclosure_id bigint NOT NULL,
  pseudonym text NOT NULL CHECK (pseudonym ~ '^[A-Za-z0-9_-]{8,128}$'),
  PRIMARY KEY (tenant_id, disclosure_id, pseudonym),
  FOREIGN KEY (tenant_id, disclosure_id) REFERENCES disclosures (tenant_id, disclosure_id)
);
SELECT kluis_isolate_tenant('disclosure_subjects');
CREATE INDEX disclosure_subjects_pseudonym ON disclosure_subjects (tenant_id, pseudonym);

-- The log is append-only for the application, like the audit log.
REVOKE UPDATE, DELETE ON disclosures, disclosure_subjects FROM kluis_app;
