-- Attack finding S11-4, docs/decisions/0680 and 0685: the app role could INSERT into audit_log and
-- UPDATE audit_heads, so an intruder with its login could put one row at the head's seq + 1
-- (or move the head back one entry) and every later append of the tenant found its seq taken.
-- From here on only properly linked rows enter audit_log, and the head only moves forward with
-- them: through kluis_audit_link, which checks the rows continue the locked head, inserts them and
-- moves the head, all or nothing. The head of a new tenant is made by kluis_audit_open_head, at
-- seq 0 with the genesis hash and nowhere else.
REVOKE INSERT ON audit_log FROM kluis_app;
REVOKE INSERT, UPDATE ON audit_heads FROM kluis_app;
-- SELECT … FOR UPDATE (the head lock every appender and the chainer take) needs UPDATE on at least
-- one column; tenant_id is the one whose change row-level security refuses anyway.
GRANT UPDATE (tenant_id) ON audit_heads TO kluis_app;

-- SECURITY DEFINER, as kluis_audit_unpark (decision 0645): runs as the migrations' login (the
-- tables' owner); the tenant is the transaction's (app.tenant), never an argument, and every
-- statement names it, so it holds where the owner bypasses row-level security. The fixed
-- search_path makes its table names Kluis's (pg_temp last, and the app role may not create in public).
CREATE FUNCTION kluis_audit_open_head() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_tenant integer := nullif(current_setting('app.tenant', true), '')::integer;
BEGIN
  IF v_tenant IS NULL THEN
    RAISE EXCEPTION 'kluis_audit_open_head: the transaction has no tenant'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO audit_heads (tenant_id, seq, hash)
    VALUES (v_tenant, 0, decode(repeat('00', 32), 'hex'))
    ON CONFLICT (tenant_id) DO NOTHING;
END
$$;
REVOKE EXECUTE ON FUNCTION kluis_audit_open_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kluis_audit_open_head() TO kluis_app;

-- Links `p_entries` (audit_log rows as jsonb, as jsonb_populate_recordset reads them) onto the
-- tenant's head: locks the head (the callers hold it already, so this never waits), inserts the
-- rows and checks, in the same set-based statement over the inserted rows in seq order, that each
-- belongs to the tenant, sits at head.seq + its rank, links to the previous row's hash (the
-- head's hash for the first) and carries a MAC (which the database cannot check: the key never
-- reaches it; `kluis audit verify` does). Any row that fails raises insufficient_privilege, so the
-- transaction is aborted and nothing is written. Then the head moves to the last row. Answers how
-- many rows were linked. A seq already taken (a row the owner wrote beyond the head) fails on the
-- primary key first, as before (decision 0680 names it).
CREATE FUNCTION kluis_audit_link(p_entries jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_tenant integer := nullif(current_setting('app.tenant', true), '')::integer;
  v_head_seq bigint;
  v_head_hash bytea;
  v_count integer;
  v_unlinked integer;
  v_last_seq bigint;
  v_last_hash bytea;
BEGIN
  IF v_tenant IS NULL THEN
    RAISE EXCEPTION 'kluis_audit_link: the transaction has no tenant'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT seq, hash INTO v_head_seq, v_head_hash
    FROM audit_heads WHERE tenant_id = v_tenant FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'kluis_audit_link: tenant % has no chain head', v_tenant
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  WITH appended AS (
    INSERT INTO audit_log (tenant_id, seq, at, actor_kind, actor_id, role, purpose, action,
        subject_pseudonyms, categories, records, decision, reason, request_id, prev_hash, hash, mac)
      SELECT r.tenant_id, r.seq, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
          r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id,
          r.prev_hash, r.hash, r.mac
        FROM jsonb_populate_recordset(NULL::audit_log, p_entries) AS r
      RETURNING tenant_id, seq, prev_hash, hash, mac
  ), checked AS (
    SELECT a.seq, a.hash,
           (a.tenant_id = v_tenant AND a.mac IS NOT NULL
            AND a.seq = v_head_seq + row_number() OVER w
            AND a.prev_hash = coalesce(lag(a.hash) OVER w, v_head_hash)) AS linked
      FROM appended AS a
    WINDOW w AS (ORDER BY a.seq)
  )
  SELECT count(*)::integer, (count(*) FILTER (WHERE linked IS NOT TRUE))::integer, max(c.seq),
         (array_agg(c.hash ORDER BY c.seq DESC))[1]
    INTO v_count, v_unlinked, v_last_seq, v_last_hash
    FROM checked AS c;
  IF v_unlinked > 0 THEN
    RAISE EXCEPTION 'kluis_audit_link: % of % entries do not continue the chain head of tenant % at seq % (each needs the next seq, the previous hash and a MAC)',
        v_unlinked, v_count, v_tenant, v_head_seq
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF v_count = 0 THEN
    RETURN 0;
  END IF;
  UPDATE audit_heads SET seq = v_last_seq, hash = v_last_hash WHERE tenant_id = v_tenant;
  RETURN v_count;
END
$$;
REVOKE EXECUTE ON FUNCTION kluis_audit_link(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kluis_audit_link(jsonb) TO kluis_app;

-- The append of decision 0600, unchanged but for its chained branch: the rows go through
-- kluis_audit_link (p_next_seq and p_next_hash are no longer trusted: the head moves to the last
-- row the function linked). Still SECURITY INVOKER: its head lock and its pending insert are the
-- app role's own.
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
    -- The head row is locked only when it is free and still the expected one.
    PERFORM 1 FROM audit_heads
     WHERE tenant_id = p_tenant AND seq = p_expected_seq AND hash = p_expected_hash
       FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
      PERFORM kluis_audit_link(p_entries);
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
