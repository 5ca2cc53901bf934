-- The application role: no superuser, no BYPASSRLS, owns nothing. The app connects as it (or
-- switches to it with SET ROLE), so row-level security applies to every query it runs.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kluis_app') THEN
    CREATE ROLE kluis_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END $$;
-- The migrating login must be able to SET ROLE kluis_app (a no-op for a superuser).
GRANT kluis_app TO CURRENT_USER;

GRANT USAGE ON SCHEMA public TO kluis_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO kluis_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO kluis_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO kluis_app;

-- A tenant is one controller (one provider) with its own policy. Its key column is called
-- tenant_id like everywhere else, so "tenant_id is in every primary key" holds without exception.
CREATE TABLE tenants (
  tenant_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{1,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Enables row-level security on a tenant table: rows are visible and writable only for the
-- tenant set by the transaction (set_config('app.tenant', …, true)). When no tenant is set
-- the cast fails, so a forgotten tenant is an error, never "all rows".
CREATE FUNCTION kluis_isolate_tenant(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format(
    'CREATE POLICY tenant_isolation ON %s USING (tenant_id = current_setting(''app.tenant'')::integer) '
    || 'WITH CHECK (tenant_id = current_setting(''app.tenant'')::integer)', target);
END $$;
REVOKE EXECUTE ON FUNCTION kluis_isolate_tenant(regclass) FROM PUBLIC, kluis_app;
