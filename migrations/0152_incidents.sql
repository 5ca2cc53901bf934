-- Issue 18 (VK-9): the incident register. Reports of misuse or insecurity come from the public
-- form of the privacy portal and from staff; a privacy officer assesses each (persons possibly
-- affected found through the data map, risk, measures). A personal-data breach starts the
-- 72-hour clock of GDPR Art. 33 at `aware_at`: reminders to the privacy contact
-- (`last_reminder_hour` claims each one once), the notification to the authority or the reason it
-- was not notified (Art. 33(5)), and the decision on informing the persons (Art. 34).
-- Texts typed here describe an event, not a person (persons are linked in incident_subjects);
-- they are scanned on write (VK-16) and classified in the recipients module's data map.
CREATE TABLE incidents (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  incident_id bigint GENERATED ALWAYS AS IDENTITY,
  kind text NOT NULL CHECK (kind IN ('misuse', 'insecurity', 'breach', 'other')),
  source text NOT NULL CHECK (source IN ('public_form', 'staff')),
  description text NOT NULL CHECK (length(description) BETWEEN 10 AND 5000),
  noticed_at timestamptz NOT NULL,
  reported_at timestamptz NOT NULL,
  reported_by_staff_id bigint NULL,
  is_breach boolean NOT NULL DEFAULT false,
  aware_at timestamptz NULL CHECK (aware_at IS NOT NULL OR NOT is_breach),
  affected_categories text[] NOT NULL DEFAULT '{}' CHECK (array_to_string(affected_categories, ',') ~ '^[a-z0-9_.,]*$'),
  affected_tables text[] NOT NULL DEFAULT '{}' CHECK (array_to_string(affected_tables, ',') ~ '^[a-z0-9_,]*$'),
  affected_count integer NOT NULL DEFAULT 0 CHECK (affected_count >= 0),
  risk text NULL CHECK (risk IN ('none', 'low', 'high')),
  risk_assessment text NULL CHECK (length(risk_assessment) BETWEEN 1 AND 5000),
  measures text NULL CHECK (length(measures) BETWEEN 1 AND 5000),
  assessed_at timestamptz NULL,
  assessed_by_staff_id bigint NULL,
  authority_decision text NOT NULL DEFAULT 'pending' CHECK (authority_decision IN ('pending', 'notified', 'not_notified')),
  authority_reason text NULL CHECK (length(authority_reason) BETWEEN 1 AND 2000),
  authority_decided_at timestamptz NULL,
  persons_decision text NOT NULL DEFAULT 'pending' CHECK (persons_decision IN ('pending', 'inform', 'not_inform')),
  persons_reason text NULL CHECK (length(persons_reason) BETWEEN 1 AND 2000),
  persons_decided_at timestamptz NULL,
  last_reminder_hour integer NULL,
  PRIMARY KEY (tenant_id, incident_id),
  -- Art. 33(5): a breach that is not notified keeps its reason.
  CHECK (authority_decision <> 'not_notified' OR authority_reason IS NOT NULL),
  CHECK (persons_decision <> 'not_inform' OR persons_reason IS NOT NULL)
);
SELECT kluis_isolate_tenant('incidents');
CREATE INDEX incidents_open_breaches ON incidents (tenant_id, aware_at) WHERE is_breach AND authority_decision = 'pending';

CREATE TABLE incident_subjects (
  tenant_id integer NOT NULL,
  incident_id bigint NOT NULL,
  subject_id bigint NOT NULL,
  letter_sent_at timestamptz NULL,
  PRIMARY KEY (tenant_id, incident_id, subject_id),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, incident_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('incident_subjects');
CREATE INDEX incident_subjects_subject ON incident_subjects (tenant_id, subject_id);
