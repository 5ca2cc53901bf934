-- Organisations (business customers): legal persons, not personal data in themselves.
CREATE TABLE organisations (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  organisation_id bigint GENERATED ALWAYS AS IDENTITY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Belgian enterprise number, 10 digits, check digits verified by the service.
  enterprise_number text NULL CHECK (enterprise_number ~ '^[01][0-9]{9}$'),
  country text NOT NULL DEFAULT 'BE' CHECK (country ~ '^[A-Z]{2}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, organisation_id),
  UNIQUE (tenant_id, enterprise_number)
);
SELECT kluis_isolate_tenant('organisations');
CREATE INDEX organisations_name ON organisations (tenant_id, lower(name));

-- More of a person: birth date (encrypted, for the age check of VK-15 only), postal address
-- (encrypted), professional data, free-text notes (encrypted, scanned for forbidden data on
-- write), and the organisation a contact person works for.
ALTER TABLE people
  ADD COLUMN birth_date_enc bytea NULL,
  ADD COLUMN address_enc bytea NULL,
  ADD COLUMN job_title text NULL CHECK (length(job_title) <= 200),
  ADD COLUMN job_function text NULL CHECK (length(job_function) <= 200),
  ADD COLUMN decision_authority boolean NULL,
  ADD COLUMN notes_enc bytea NULL,
  ADD COLUMN organisation_id bigint NULL;
ALTER TABLE people
  ADD CONSTRAINT people_organisation_fk FOREIGN KEY (tenant_id, organisation_id) REFERENCES organisations (tenant_id, organisation_id);
CREATE INDEX people_organisation ON people (tenant_id, organisation_id) WHERE organisation_id IS NOT NULL;

-- VK-15: while a person is younger than the policy's age and no parental consent is recorded,
-- the gate refuses every consent-based purpose. `minor_until` is the day they reach that age.
ALTER TABLE data_subjects
  ADD COLUMN minor_until date NULL,
  ADD COLUMN parental_consent_at timestamptz NULL;

-- Who consented for a minor and how it was checked; never the parent's identity document.
CREATE TABLE parental_consents (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  relation text NOT NULL CHECK (relation IN ('parent', 'guardian')),
  verification_method text NOT NULL CHECK (verification_method ~ '^[a-z][a-z0-9_]*$'),
  evidence_reference text NULL CHECK (length(evidence_reference) <= 200),
  recorded_by_staff_id bigint NULL,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('parental_consents');
