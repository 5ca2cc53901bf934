-- Decision 0862 (attack S18-3): the tables that keep what was decided (every incident assessment,
-- every consent record) refused UPDATE (and DELETE) row by row, but a TRUNCATE fires no row
-- trigger, so the database owner could empty them in one statement. A statement trigger refuses
-- it, as audit_log's does (0004). Erasure still deletes a person's consent records row by row.
CREATE FUNCTION kluis_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER incident_assessments_no_truncate BEFORE TRUNCATE ON incident_assessments
  FOR EACH STATEMENT EXECUTE FUNCTION kluis_refuse_truncate();
CREATE TRIGGER consent_records_no_truncate BEFORE TRUNCATE ON consent_records
  FOR EACH STATEMENT EXECUTE FUNCTION kluis_refuse_truncate();

REVOKE TRUNCATE ON incident_assessments, consent_records FROM kluis_app;
