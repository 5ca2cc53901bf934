-- Attack S16-6, docs/decisions/0840: a re-assessment replaced the register's assessment, so a
-- breach once assessed high-risk, with its reasoning and measures, could be re-assessed "not a
-- breach" and the register no longer showed it (GDPR Art. 33(5) wants every breach documented).
-- Every assessment is kept here, numbered per incident, never changed; the incident's row keeps
-- the latest for the clock and the screens. A lowered assessment (a breach no longer a breach, or
-- a lower risk) carries the officer's reason for the change.
CREATE TABLE incident_assessments (
  tenant_id integer NOT NULL,
  incident_id bigint NOT NULL,
  assessment_no integer NOT NULL CHECK (assessment_no >= 1),
  is_breach boolean NOT NULL,
  risk text NOT NULL CHECK (risk IN ('none', 'low', 'high')),
  risk_assessment text NOT NULL CHECK (length(risk_assessment) BETWEEN 1 AND 5000),
  measures text NOT NULL CHECK (length(measures) BETWEEN 1 AND 5000),
  affected_categories text[] NOT NULL CHECK (array_to_string(affected_categories, ',') ~ '^[a-z0-9_.,]*$'),
  affected_tables text[] NOT NULL CHECK (array_to_string(affected_tables, ',') ~ '^[a-z0-9_,]*$'),
  affected_count integer NOT NULL CHECK (affected_count >= 0),
  change_reason text NULL CHECK (length(change_reason) BETWEEN 1 AND 2000),
  assessed_at timestamptz NOT NULL,
  assessed_by_staff_id bigint NULL,
  PRIMARY KEY (tenant_id, incident_id, assessment_no),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, incident_id)
);
SELECT kluis_isolate_tenant('incident_assessments');
ALTER TABLE incident_assessments FORCE ROW LEVEL SECURITY;

-- Append-only: an assessment that was made stays as it was made.
CREATE FUNCTION kluis_refuse_incident_assessment_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'incident assessments are append-only';
END $$;
CREATE TRIGGER incident_assessments_append_only BEFORE UPDATE OR DELETE ON incident_assessments
  FOR EACH ROW EXECUTE FUNCTION kluis_refuse_incident_assessment_change();

-- The assessments made before this migration: the register kept only the latest, which becomes
-- assessment 1 (the audit log's incident.assess entries name the earlier ones, decision 0819).
-- Tenant by tenant, as the application does, so a login under forced row-level security can run
-- it (like 0502).
DO $$
DECLARE
  t integer;
BEGIN
  FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id LOOP
    PERFORM set_config('app.tenant', t::text, true);
    INSERT INTO incident_assessments (tenant_id, incident_id, assessment_no, is_breach, risk, risk_assessment,
      measures, affected_categories, affected_tables, affected_count, assessed_at, assessed_by_staff_id)
    SELECT tenant_id, incident_id, 1, is_breach, risk, risk_assessment, measures, affected_categories,
      affected_tables, affected_count, assessed_at, assessed_by_staff_id
      FROM incidents
     WHERE tenant_id = t AND assessed_at IS NOT NULL AND risk IS NOT NULL
       AND risk_assessment IS NOT NULL AND measures IS NOT NULL
    ON CONFLICT (tenant_id, incident_id, assessment_no) DO NOTHING;
  END LOOP;
  PERFORM set_config('app.tenant', '', true);
END $$;
