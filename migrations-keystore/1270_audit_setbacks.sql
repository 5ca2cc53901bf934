-- A restore that sets a tenant's audit chain back (an older data backup restored with the key
-- store in use) records it here, signed with the tenant's audit key like an anchor but over its
-- own encoding (kluis.audit-setback.v1), in the restore's transaction (decision 1270). Checkpoints
-- signed before a set-back that lie beyond its head, or do not match the chain, belong to the
-- earlier timeline: verification names them and does not call the chain broken. Append-only.
CREATE TABLE audit_setbacks (
  tenant_id integer NOT NULL,
  setback_no bigint GENERATED ALWAYS AS IDENTITY,
  head_seq bigint NOT NULL CHECK (head_seq >= 0),
  head_hash bytea NOT NULL CHECK (length(head_hash) = 32),
  set_at timestamptz NOT NULL,
  earlier_seq bigint NOT NULL CHECK (earlier_seq >= 0),
  mac bytea NOT NULL CHECK (length(mac) = 32),
  PRIMARY KEY (tenant_id, setback_no)
);

-- Written by the restore (as the owner), read by Kluis.
GRANT SELECT ON audit_setbacks TO kluis_app;
ALTER TABLE audit_setbacks ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_setbacks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_setbacks
  USING (tenant_id = current_setting('app.tenant')::integer)
  WITH CHECK (tenant_id = current_setting('app.tenant')::integer);
CREATE TRIGGER audit_setbacks_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_setbacks
  FOR EACH STATEMENT EXECUTE FUNCTION kluis_refuse_anchor_change();

-- After a set-back the new timeline signs heads at numbers the earlier one signed too (with
-- another hash): the same number may appear again, the same signed head still only once.
ALTER TABLE audit_anchors DROP CONSTRAINT audit_anchors_pkey;
ALTER TABLE audit_anchors ADD PRIMARY KEY (tenant_id, seq, head_hash);
