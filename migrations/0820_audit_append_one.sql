-- Issue 21, docs/decisions/0820: the usual append (one entry, sent with the commit or alone) went
-- through two plpgsql functions, kluis_audit_append (invoker) calling kluis_audit_link_onto
-- (definer), each with its own search_path set and reset, and carried its pending form as a jsonb
-- literal the server parsed even when the entry was chained. kluis_audit_append_one does the same
-- in one call: it checks what both checked, in the same order, and parses the pending form only
-- when it parks the entry. Batches (two or more entries) keep kluis_audit_append unchanged.

-- SECURITY DEFINER with a fixed search_path, as kluis_audit_link_onto (decisions 0685, 0715): the
-- tenant is the transaction's (app.tenant), which p_tenant must name. The entry is chained only
-- when the head is free and still (p_expected_seq, p_expected_hash): the head row is locked
-- without waiting (FOR UPDATE SKIP LOCKED), the entry inserted, then checked (the transaction's
-- tenant, seq = head + 1, prev_hash = the head's hash, a MAC), and the head moved to it; a failed
-- check aborts the transaction.
-- Otherwise the pending form (one audit_pending row as JSON) is written for the chainer; as the
-- owner may bypass row-level security, its tenant is checked here as the policy would.
CREATE FUNCTION kluis_audit_append_one(
  p_tenant integer,
  p_expected_seq bigint,
  p_expected_hash bytea,
  p_entry jsonb,
  p_pending text,
  OUT moved integer,
  OUT parked integer
)
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
  moved := 0;
  parked := 0;
  IF v_tenant IS NULL OR p_tenant IS DISTINCT FROM v_tenant THEN
    RAISE EXCEPTION 'kluis_audit_append_one: tenant % is not the transaction''s tenant', p_tenant
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_entry IS NOT NULL THEN
    -- Locked only when free and still the expected head; while this transaction holds it, it
    -- stays so. A plain UPDATE of the head would write one WAL record less (no lock record) but
    -- wait for a head another transaction holds (decision 0820 measured both).
    PERFORM 1 FROM audit_heads
     WHERE tenant_id = v_tenant AND seq = p_expected_seq AND hash = p_expected_hash
       FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
      -- Inserted first and checked after: a seq already taken fails on the key (decision 0680).
      INSERT INTO audit_log (tenant_id, seq, at, actor_kind, actor_id, role, purpose, action,
          subject_pseudonyms, categories, records, decision, reason, request_id, prev_hash, hash,
          mac, nonce)
        SELECT r.tenant_id, r.seq, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
            r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id,
            r.prev_hash, r.hash, r.mac, r.nonce
          FROM jsonb_populate_record(NULL::audit_log, p_entry) AS r
        RETURNING audit_log.tenant_id, audit_log.seq, audit_log.prev_hash, audit_log.hash,
            audit_log.mac
          INTO v_tenant_id, v_seq, v_prev_hash, v_hash, v_mac;
      IF (v_tenant_id = v_tenant AND v_mac IS NOT NULL AND v_seq = p_expected_seq + 1
          AND v_prev_hash = p_expected_hash) IS NOT TRUE THEN
        RAISE EXCEPTION 'kluis_audit_append_one: 1 of 1 entries do not continue the chain head of tenant % at seq % (each needs the next seq, the previous hash and a MAC)',
            v_tenant, p_expected_seq
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      UPDATE audit_heads SET seq = v_seq, hash = v_hash WHERE tenant_id = v_tenant;
      moved := 1;
      RETURN;
    END IF;
  END IF;
  INSERT INTO audit_pending (tenant_id, at, actor_kind, actor_id, role, purpose, action,
      subject_pseudonyms, categories, records, decision, reason, request_id, mac, nonce)
    SELECT r.tenant_id, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
        r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id, r.mac,
        r.nonce
      FROM jsonb_populate_record(NULL::audit_pending, p_pending::jsonb) AS r
    RETURNING audit_pending.tenant_id INTO v_tenant_id;
  IF v_tenant_id IS DISTINCT FROM v_tenant THEN
    RAISE EXCEPTION 'kluis_audit_append_one: a pending entry of tenant % is not the transaction''s tenant (as row-level security would refuse it)',
        v_tenant_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  parked := 1;
END
$$;
REVOKE EXECUTE ON FUNCTION kluis_audit_append_one(integer, bigint, bytea, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kluis_audit_append_one(integer, bigint, bytea, jsonb, text) TO kluis_app;
