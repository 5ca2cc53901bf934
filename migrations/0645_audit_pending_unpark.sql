-- Attack finding S10-3, docs/decisions/0645: the app role could DELETE rows of audit_pending, so an
-- intruder with its login could erase the record of a read that had happened before the chainer
-- linked it, and `kluis audit verify` saw nothing. The role loses DELETE; the chainer removes what
-- it has chained through kluis_audit_unpark, which deletes a pending entry only when its twin (same
-- content, at the seq and with the hash the chainer claims) was inserted into audit_log by the
-- calling transaction itself. Whatever the function lets the app role delete is therefore in the
-- chain, in a row it wrote just now: a genuine one (the chainer's) or a forged one, whose missing
-- or wrong MAC `kluis audit verify` names (decision 0630). All or nothing: a claim that does not
-- hold aborts the call and, with it, the transaction.
REVOKE DELETE ON audit_pending FROM kluis_app;

-- SECURITY DEFINER: it runs as the migrations' login (the tables' owner), which may delete. The
-- tenant is the transaction's (app.tenant), never an argument, and every statement names it, so
-- it holds even for an owner that bypasses row-level security. The fixed search_path makes its
-- table names Kluis's (pg_temp last: a temporary table cannot stand in; pg_catalog, searched
-- first, supplies its functions and operators, and the app role may not create objects in public).
CREATE FUNCTION kluis_audit_unpark(p_pending_ids bigint[], p_seqs bigint[], p_hashes bytea[])
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
            l.categories, l.records, l.decision, l.reason, l.request_id)
           IS NOT DISTINCT FROM
           (p.at, p.actor_kind, p.actor_id, p.role, p.purpose, p.action, p.subject_pseudonyms,
            p.categories, p.records, p.decision, p.reason, p.request_id)
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
REVOKE EXECUTE ON FUNCTION kluis_audit_unpark(bigint[], bigint[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kluis_audit_unpark(bigint[], bigint[], bytea[]) TO kluis_app;
