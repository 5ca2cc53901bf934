-- Every API token has an end (attack S22-4, docs/decisions/1002): a bearer credential forgotten in a
-- script or on a former contractor's laptop stops by itself. Tokens made before this get a year from
-- their creation; the look-up refuses a token whose end has passed, as it refuses a revoked one.
ALTER TABLE staff_api_tokens ADD COLUMN expires_at timestamptz;
-- Row-level security is forced (a migrating login that is not a superuser sees one tenant at a time).
DO $$
DECLARE
  t integer;
BEGIN
  FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id LOOP
    PERFORM set_config('app.tenant', t::text, true);
    UPDATE staff_api_tokens SET expires_at = created_at + interval '365 days'
      WHERE tenant_id = t AND expires_at IS NULL;
  END LOOP;
  PERFORM set_config('app.tenant', '', true);
END $$;
ALTER TABLE staff_api_tokens ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE staff_api_tokens ADD CONSTRAINT staff_api_tokens_expiry CHECK (expires_at > created_at);

CREATE OR REPLACE FUNCTION kluis_find_api_token(
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
         AND k.expires_at > p_now
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
