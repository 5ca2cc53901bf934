-- Issue 21, docs/decisions/0715: the usual append (one entry, audit-only or sent with the commit)
-- paid for decision 0685's link function twice over: kluis_audit_append locked the head as the app
-- role, then kluis_audit_link read and locked it again, and checked the one row with a data-modifying
-- CTE, a window and an aggregate. kluis_audit_link_onto takes the head lock itself (so a caller
-- cannot claim to hold it and skip the check) only when the head is free and still the one the
-- entries were chained onto, and links one entry with a plain INSERT … RETURNING checked in the
-- function; two or more entries go through kluis_audit_link unchanged. What enters audit_log is
-- checked exactly as before (decision 0685): the transaction's tenant, the next seq, linked to the
-- head's hash, a MAC; a failure aborts the transaction, and a seq already taken still fails on the
-- primary key first (decision 0680 names it).

-- SECURITY DEFINER with a fixed search_path, as kluis_audit_link (decision 0685): the tenant is
-- the transaction's (app.tenant), never an argument. Answers how many entries it linked, or null
-- (nothing written, no lock kept) when the head is held by another transaction or is not
-- (p_expected_seq, p_expected_hash): the caller then parks the entries for the chainer.
CREATE FUNCTION kluis_audit_link_onto(p_expected_seq bigint, p_expected_hash bytea, p_entries jsonb)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_tenant integer := nullif(current_setting('app.tenant', true), '')::integer;
  v_tenant_id integer;
  v_seq bigint;
  v_prev_hash bytea;
  v_hash bytea;
  v_mac bytea;
BEGIN
  IF v_tenant IS NULL THEN
    RAISE EXCEPTION 'kluis_audit_link_onto: the transaction has no tenant'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- The head row is locked only when it is free and still the expected one; while this
  -- transaction holds it, it stays (p_expected_seq, p_expected_hash).
  PERFORM 1 FROM audit_heads
   WHERE tenant_id = v_tenant AND seq = p_expected_seq AND hash = p_expected_hash
     FOR UPDATE SKIP LOCKED;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF jsonb_array_length(p_entries) <> 1 THEN
    -- Reads the head this transaction now holds (no wait) and checks the rows as a set.
    RETURN kluis_audit_link(p_entries);
  END IF;
  -- Inserted first and checked after, as kluis_audit_link does: a taken seq fails on the key.
  INSERT INTO audit_log (tenant_id, seq, at, actor_kind, actor_id, role, purpose, action,
      subject_pseudonyms, categories, records, decision, reason, request_id, prev_hash, hash, mac,
      nonce)
    SELECT r.tenant_id, r.seq, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
        r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id,
        r.prev_hash, r.hash, r.mac, r.nonce
      FROM jsonb_populate_record(NULL::audit_log, p_entries -> 0) AS r
    RETURNING audit_log.tenant_id, audit_log.seq, audit_log.prev_hash, audit_log.hash, audit_log.mac
      INTO v_tenant_id, v_seq, v_prev_hash, v_hash, v_mac;
  IF (v_tenant_id = v_tenant AND v_mac IS NOT NULL AND v_seq = p_expected_seq + 1
      AND v_prev_hash = p_expected_hash) IS NOT TRUE THEN
    RAISE EXCEPTION 'kluis_audit_link_onto: 1 of 1 entries do not continue the chain head of tenant % at seq % (each needs the next seq, the previous hash and a MAC)',
        v_tenant, p_expected_seq
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  UPDATE audit_heads SET seq = v_seq, hash = v_hash WHERE tenant_id = v_tenant;
  RETURN 1;
END
$$;
REVOKE EXECUTE ON FUNCTION kluis_audit_link_onto(bigint, bytea, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kluis_audit_link_onto(bigint, bytea, jsonb) TO kluis_app;

-- kluis_audit_append of migration 0686, its chained branch one call: kluis_audit_link_onto locks
-- the head and links the entries, or answers null and the entries are parked as before. Still
-- SECURITY INVOKER: its pending insert is the app role's own, under row-level security.
CREATE OR REPLACE FUNCTION kluis_audit_append(
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
    IF kluis_audit_link_onto(p_expected_seq, p_expected_hash, p_entries) IS NOT NULL THEN
      moved := 1;
      RETURN;
    END IF;
  END IF;
  INSERT INTO audit_pending (tenant_id, at, actor_kind, actor_id, role, purpose, action,
      subject_pseudonyms, categories, records, decision, reason, request_id, mac, nonce)
    SELECT r.tenant_id, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
        r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id, r.mac,
        r.nonce
      FROM jsonb_populate_recordset(NULL::audit_pending, p_pending) AS r;
  GET DIAGNOSTICS parked = ROW_COUNT;
END
$$;
