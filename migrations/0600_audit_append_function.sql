-- Issue 21, docs/decisions/0600: a transaction's audit entries appended by a function whose
-- statements PostgreSQL plans once per connection, instead of one data-modifying CTE planned
-- again for every append (0.2 ms of planning each, decision 0570). The same step as before
-- (decisions 0250, 0340, 0481): when the tenant's chain head is free and still the one the caller
-- chained the entries onto, insert them and move the head; otherwise (the head held by another
-- transaction, moved, not there yet, or no chained form given) write the pending form to
-- audit_pending for the chainer. It never waits for the head and never writes nothing.
--
-- SECURITY INVOKER: it runs with the caller's rights, so row-level security and the app role's
-- privileges (insert into audit_log and audit_pending, move the head; never update or delete an
-- entry) apply to each of its statements exactly as they did to the CTE; it gives the app role
-- nothing it did not have. The fixed search_path makes its table names mean Kluis's tables
-- whatever the session's path (pg_temp last, so a temporary table cannot stand in for them).
-- No session state: it is safe behind a transaction-mode pooler (its plans are the backend's own
-- cache, made again wherever the call lands).
CREATE FUNCTION kluis_audit_append(
  p_tenant integer,
  p_expected_seq bigint,
  p_expected_hash bytea,
  p_next_seq bigint,
  p_next_hash bytea,
  p_entries jsonb,
  p_pending jsonb,
  OUT moved integer,
  OUT parked integer
)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = public, pg_temp
AS $$
BEGIN
  moved := 0;
  parked := 0;
  IF p_tenant IS DISTINCT FROM nullif(current_setting('app.tenant', true), '')::integer THEN
    RAISE EXCEPTION 'kluis_audit_append: tenant % is not the transaction''s tenant', p_tenant
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_entries IS NOT NULL THEN
    -- The head row is locked only when it is free and still the expected one.
    PERFORM 1 FROM audit_heads
     WHERE tenant_id = p_tenant AND seq = p_expected_seq AND hash = p_expected_hash
       FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
      INSERT INTO audit_log (tenant_id, seq, at, actor_kind, actor_id, role, purpose, action,
          subject_pseudonyms, categories, records, decision, reason, request_id, prev_hash, hash, mac)
        SELECT r.tenant_id, r.seq, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
            r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id,
            r.prev_hash, r.hash, r.mac
          FROM jsonb_populate_recordset(NULL::audit_log, p_entries) AS r;
      UPDATE audit_heads SET seq = p_next_seq, hash = p_next_hash WHERE tenant_id = p_tenant;
      moved := 1;
      RETURN;
    END IF;
  END IF;
  INSERT INTO audit_pending (tenant_id, at, actor_kind, actor_id, role, purpose, action,
      subject_pseudonyms, categories, records, decision, reason, request_id, mac)
    SELECT r.tenant_id, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
        r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id, r.mac
      FROM jsonb_populate_recordset(NULL::audit_pending, p_pending) AS r;
  GET DIAGNOSTICS parked = ROW_COUNT;
END
$$;
REVOKE EXECUTE ON FUNCTION kluis_audit_append(integer, bigint, bytea, bigint, bytea, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kluis_audit_append(integer, bigint, bytea, bigint, bytea, jsonb, jsonb) TO kluis_app;
