-- Attack S22-1, docs/decisions/1070: a breach's decisions were final. GDPR Art. 34(4) lets the
-- authority require the persons to be informed after the controller decided not to, and Art. 33(4)
-- lets the information come in phases. A decision may now be followed by another (not_inform →
-- inform, not_notified → notified, a notification supplemented); every one is kept here, numbered
-- per incident, never changed. The incident's row keeps the latest, for the clock and the screens.
CREATE TABLE incident_decisions (
  tenant_id integer NOT NULL,
  incident_id bigint NOT NULL,
  decision_no integer NOT NULL CHECK (decision_no >= 1),
  addressee text NOT NULL CHECK (addressee IN ('authority', 'persons')),
  decision text NOT NULL CHECK (
    (addressee = 'authority' AND decision IN ('notified', 'not_notified', 'supplemented'))
    OR (addressee = 'persons' AND decision IN ('inform', 'not_inform'))),
  -- Why: required for a decision not to notify or inform and for one that changes an earlier one.
  reason text NULL CHECK (length(reason) BETWEEN 1 AND 2000),
  -- The assessment it rested on (null: taken before this migration).
  assessment_no integer NULL CHECK (assessment_no >= 1),
  -- Art. 34 letters queued by this decision (persons informed in this phase).
  letters_queued integer NOT NULL DEFAULT 0 CHECK (letters_queued >= 0),
  decided_at timestamptz NOT NULL,
  decided_by_staff_id bigint NULL,
  PRIMARY KEY (tenant_id, incident_id, decision_no),
  FOREIGN KEY (tenant_id, incident_id) REFERENCES incidents (tenant_id, incident_id)
);
SELECT kluis_isolate_tenant('incident_decisions');
ALTER TABLE incident_decisions FORCE ROW LEVEL SECURITY;

-- Append-only, as the assessments (0840, 0862): a decision that was taken stays as it was taken.
CREATE FUNCTION kluis_refuse_incident_decision_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'incident decisions are append-only';
END $$;
CREATE TRIGGER incident_decisions_append_only BEFORE UPDATE OR DELETE ON incident_decisions
  FOR EACH ROW EXECUTE FUNCTION kluis_refuse_incident_decision_change();
CREATE TRIGGER incident_decisions_no_truncate BEFORE TRUNCATE ON incident_decisions
  FOR EACH STATEMENT EXECUTE FUNCTION kluis_refuse_truncate();
REVOKE TRUNCATE ON incident_decisions FROM kluis_app;

-- The decisions taken before this migration (the register kept one of each): authority first
-- when both fell at the same moment. Tenant by tenant, as 0840 does.
DO $$
DECLARE
  t integer;
BEGIN
  FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id LOOP
    PERFORM set_config('app.tenant', t::text, true);
    INSERT INTO incident_decisions (tenant_id, incident_id, decision_no, addressee, decision, reason,
      decided_at)
    SELECT tenant_id, incident_id,
           row_number() OVER (PARTITION BY incident_id ORDER BY decided_at, addressee),
           addressee, decision, reason, decided_at
      FROM (
        SELECT tenant_id, incident_id, 'authority' AS addressee, authority_decision AS decision,
               authority_reason AS reason, coalesce(authority_decided_at, assessed_at, reported_at) AS decided_at
          FROM incidents WHERE tenant_id = t AND authority_decision <> 'pending'
        UNION ALL
        SELECT tenant_id, incident_id, 'persons', persons_decision, persons_reason,
               coalesce(persons_decided_at, assessed_at, reported_at)
          FROM incidents WHERE tenant_id = t AND persons_decision <> 'pending'
      ) AS taken
    ON CONFLICT (tenant_id, incident_id, decision_no) DO NOTHING;
  END LOOP;
  PERFORM set_config('app.tenant', '', true);
END $$;
