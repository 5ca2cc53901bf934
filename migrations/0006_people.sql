-- Natural persons (customers, prospects, contact persons, applicants): one row per data subject.
-- Names stay in clear text (staff search by name); e-mail and phone are encrypted
-- with the subject's data key and found by exact match through a keyed blind index.
CREATE TABLE people (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
  given_name text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 200),
  gender text NULL CHECK (gender IN ('female', 'male', 'x')),
  preferred_language text NULL CHECK (preferred_language IN ('nl', 'fr', 'en', 'de')),
  email_enc bytea NULL,
  email_bidx bytea NULL,
  phone_enc bytea NULL,
  phone_bidx bytea NULL,
  -- Where the data came from (the person, a customer's order form, a credit bureau …).
  source text NOT NULL DEFAULT 'data_subject' CHECK (source ~ '^[a-z][a-z0-9_]*$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('people');
CREATE INDEX people_email_bidx ON people (tenant_id, email_bidx) WHERE email_bidx IS NOT NULL;
CREATE INDEX people_phone_bidx ON people (tenant_id, phone_bidx) WHERE phone_bidx IS NOT NULL;
CREATE INDEX people_family_name ON people (tenant_id, lower(family_name));
