-- Tenant isolation fails closed (issue 10): FORCE ROW LEVEL SECURITY makes the tenant policy bind
-- the tables' owner too, so a connection that is not (or no longer) kluis_app still sees only the
-- rows of the tenant its transaction names, and none at all without one. Only a superuser or a
-- BYPASSRLS role passes; the application never runs as either (docs/decisions/0065).

-- Tables created from now on get FORCE with the policy.
CREATE OR REPLACE FUNCTION kluis_isolate_tenant(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s USING (tenant_id = current_setting(''app.tenant'')::integer) '
    || 'WITH CHECK (tenant_id = current_setting(''app.tenant'')::integer)', target);
END $$;
REVOKE EXECUTE ON FUNCTION kluis_isolate_tenant(regclass) FROM PUBLIC, kluis_app;

-- Every existing tenant table: each table of the schema with a tenant_id column, except the
-- tenant list itself (public routes look a tenant up by slug before any tenant is known).
-- Call-record partitions are reached only through their parent (kluis_app has no privilege on
-- them), where the parent's policy applies.
DO $$
DECLARE
  target regclass;
BEGIN
  FOR target IN
    SELECT c.oid::regclass
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public'
       AND c.relkind IN ('r', 'p')
       AND NOT c.relispartition
       AND c.relname <> 'tenants'
       AND EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
  LOOP
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
  END LOOP;
END $$;
