-- Audit anchoring (issue 11): signed checkpoints of each tenant's audit chain, kept outside the
-- data database. An attacker who rewrites, truncates or forges the data database's audit log and
-- deletes its checkpoints still disagrees with these. Append-only like the log itself;
-- written_no keeps the order in which they were written (a later one may not go backwards).
CREATE TABLE audit_anchors (
  tenant_id integer NOT NULL,
  seq bigint NOT NULL CHECK (seq >= 1),
  head_hash bytea NOT NULL CHECK (length(head_hash) = 32),
  signed_at timestamptz NOT NULL,
  mac bytea NOT NULL CHECK (length(mac) = 32),
  written_no bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_anchors_written ON audit_anchors (tenant_id, written_no);

GRANT SELECT, INSERT ON audit_anchors TO kluis_app;
ALTER TABLE audit_anchors ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_anchors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_anchors
  USING (tenant_id = current_setting('app.tenant')::integer)
  WITH CHECK (tenant_id = current_setting('app.tenant')::integer);

CREATE FUNCTION kluis_refuse_anchor_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION kluis_refuse_anchor_change();
