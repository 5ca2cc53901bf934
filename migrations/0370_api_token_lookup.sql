-- An API token resolved in one statement outside any transaction (docs/decisions/0370): the
-- request's bearer is looked up before its tenant transaction begins, and a transaction of its
-- own cost three round trips (begin with the tenant, the select, commit) on every API request.
--
-- Row-level security needs the tenant, so the function sets `app.tenant` for itself, exactly
-- as withTenant does for a transaction (local to the transaction: outside one, to this
-- statement); it runs as the caller (kluis_app, RLS forced), not as its owner. It puts the
-- caller's `app.tenant` back before it returns, so a call inside another tenant's transaction
-- leaves that transaction's tenant intact (an error aborts the transaction, whose rollback
-- undoes the setting). A SET clause would restore it too, but a login that is not a superuser
-- may not attach one for a custom setting.
-- It also records when the token was last used, at most once per `touch_before` (the caller's
-- precision), as the TypeScript did.
CREATE FUNCTION kluis_find_api_token(
  p_tenant integer,
  p_token_hash bytea,
  p_now timestamptz,
  p_touch_before timestamptz
) RETURNS TABLE (token_id bigint, role text, created_by bigint, creator_role text, slug text)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
  previous text := current_setting('app.tenant', true);
BEGIN
  PERFORM set_config('app.tenant', p_tenant::text, true);
  RETURN QUERY
    WITH found AS (
      SELECT k.token_id, k.role, k.created_by, k.last_used_at, u.role AS creator_role, t.slug
        FROM staff_api_tokens AS k
        JOIN staff_users AS u ON u.tenant_id = k.tenant_id AND u.staff_id = k.created_by
        JOIN tenants AS t ON t.tenant_id = k.tenant_id
       WHERE k.tenant_id = p_tenant
         AND k.token_hash = p_token_hash
         AND k.revoked_at IS NULL
         AND u.status = 'active'
    ), touched AS (
      UPDATE staff_api_tokens AS k SET last_used_at = p_now
        FROM found AS f
       WHERE k.tenant_id = p_tenant AND k.token_id = f.token_id
         AND (f.last_used_at IS NULL OR f.last_used_at <= p_touch_before)
    )
    SELECT f.token_id, f.role, f.created_by, f.creator_role, f.slug FROM found AS f;
  PERFORM set_config('app.tenant', coalesce(previous, ''), true);
END
$$;
