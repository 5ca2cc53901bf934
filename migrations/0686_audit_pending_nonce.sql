-- Attack finding S11-1, docs/decisions/0686: a pending entry's MAC covered its content only, so a
-- copy of a waiting audit_pending row (the app role may read and insert there) was chained a
-- second time and `kluis audit verify` said intact. Each pending entry now carries a nonce: 16
-- random bytes made by Kluis, covered by the pending MAC (encoding v2) and kept in the chained
-- entry, unique per tenant in audit_log. A copy keeps the nonce (changing it breaks the MAC), so
-- it can never be chained again; the chainer leaves it in audit_pending, logs it, and
-- `kluis audit verify` lists it. Entries written before this migration have no nonce and verify
-- as before; new pending rows must carry one (NOT VALID: the rows waiting now are not checked).
ALTER TABLE audit_pending ADD COLUMN nonce bytea CHECK (nonce IS NULL OR length(nonce) = 16);
ALTER TABLE audit_pending ADD CONSTRAINT audit_pending_nonce_required CHECK (nonce IS NOT NULL) NOT VALID;
ALTER TABLE audit_log ADD COLUMN nonce bytea CHECK (nonce IS NULL OR length(nonce) = 16);
CREATE UNIQUE INDEX audit_log_nonce ON audit_log (tenant_id, nonce) WHERE nonce IS NOT NULL;

-- kluis_audit_link of migration 0685, the nonce inserted with the rest.
CREATE OR REPLACE FUNCTION kluis_audit_link(p_entries jsonb) RETURNS integer
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
        subject_pseudonyms, categories, records, decision, reason, request_id, prev_hash, hash, mac,
        nonce)
      SELECT r.tenant_id, r.seq, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
          r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id,
          r.prev_hash, r.hash, r.mac, r.nonce
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

-- kluis_audit_append of migration 0685, the nonce written with the pending form.
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
      subject_pseudonyms, categories, records, decision, reason, request_id, mac, nonce)
    SELECT r.tenant_id, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
        r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id, r.mac,
        r.nonce
      FROM jsonb_populate_recordset(NULL::audit_pending, p_pending) AS r;
  GET DIAGNOSTICS parked = ROW_COUNT;
END
$$;

-- kluis_audit_unpark of migration 0645, the twin bound to its pending entry's nonce too: a pending
-- row goes only with a twin of this transaction that carries its nonce (both null for an entry
-- written before this migration).
CREATE OR REPLACE FUNCTION kluis_audit_unpark(p_pending_ids bigint[], p_seqs bigint[], p_hashes bytea[])
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_tenant integer := nullif(current_setting('app.tenant', true), '')::integer;
  v_claims integer := coalesce(cardinality(p_pending_ids), 0);
  v_removed bigint[];
BEGIN
  IF v_tenant IS NULL THEN
    RAISE EXCEPTION 'kluis_audit_unpark: the transaction has no tenant'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF coalesce(cardinality(p_seqs), 0) <> v_claims OR coalesce(cardinality(p_hashes), 0) <> v_claims
     OR (SELECT count(DISTINCT id) FROM unnest(p_pending_ids) AS id) <> v_claims
     OR (SELECT count(DISTINCT seq) FROM unnest(p_seqs) AS seq) <> v_claims THEN
    RAISE EXCEPTION 'kluis_audit_unpark: each pending entry needs its own twin (distinct ids and seqs, one hash each)'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF v_claims = 0 THEN
    RETURN;
  END IF;
  WITH claim AS (
    SELECT c.pending_id, c.seq, c.hash
      FROM unnest(p_pending_ids, p_seqs, p_hashes) AS c (pending_id, seq, hash)
  ), removed AS (
    DELETE FROM audit_pending AS p
     USING claim AS c, audit_log AS l
     WHERE p.tenant_id = v_tenant AND p.pending_id = c.pending_id
       AND l.tenant_id = v_tenant AND l.seq = c.seq AND l.hash = c.hash
       -- Written by this very transaction: no twin chained before (a replayed or coincident
       -- entry) and no row of another session can discharge a pending entry.
       AND l.xmin = pg_current_xact_id()::xid
       AND (l.at, l.actor_kind, l.actor_id, l.role, l.purpose, l.action, l.subject_pseudonyms,
            l.categories, l.records, l.decision, l.reason, l.request_id, l.nonce)
           IS NOT DISTINCT FROM
           (p.at, p.actor_kind, p.actor_id, p.role, p.purpose, p.action, p.subject_pseudonyms,
            p.categories, p.records, p.decision, p.reason, p.request_id, p.nonce)
    RETURNING p.pending_id
  )
  SELECT array_agg(removed.pending_id) INTO v_removed FROM removed;
  IF coalesce(cardinality(v_removed), 0) <> v_claims THEN
    RAISE EXCEPTION 'kluis_audit_unpark: % of % pending entries have no twin chained by this transaction',
        v_claims - coalesce(cardinality(v_removed), 0), v_claims
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN QUERY SELECT unnest(v_removed);
END
$$;
