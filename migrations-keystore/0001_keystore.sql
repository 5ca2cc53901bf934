-- The key store: a database of its own (same cluster is fine), so that a backup of the data
-- does not carry the keys that decrypt it. Holds per-tenant key versions and wrapped data keys.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kluis_app') THEN
    CREATE ROLE kluis_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
END $$;
GRANT kluis_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO kluis_app;

-- Which version of the tenant's key-encryption key wraps new data keys; `rotating_to` is set
-- while a rotation re-wraps existing keys (resumable: rows still on the old version remain).
CREATE TABLE tenant_keks (
  tenant_id integer PRIMARY KEY,
  current_version integer NOT NULL DEFAULT 1 CHECK (current_version >= 1),
  rotating_to integer NULL CHECK (rotating_to IS NULL OR rotating_to > current_version),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One data key per data subject (owner_kind 'subject') and the tenant's keyed-hash secrets
-- (owner_kind 'secret': blind index, pseudonyms, audit checkpoints). `wrapped` is NULL once
-- destroyed: the row stays as a tombstone so "shredded" is distinguishable from "never existed".
CREATE TABLE data_keys (
  tenant_id integer NOT NULL,
  owner_kind text NOT NULL CHECK (owner_kind IN ('subject', 'secret')),
  owner_ref text NOT NULL,
  kek_version integer NOT NULL,
  wrapped bytea NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  destroyed_at timestamptz NULL,
  CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL)),
  PRIMARY KEY (tenant_id, owner_kind, owner_ref)
);
CREATE INDEX data_keys_rewrap ON data_keys (tenant_id, kek_version) WHERE wrapped IS NOT NULL;

GRANT SELECT, INSERT, UPDATE ON tenant_keks, data_keys TO kluis_app;

ALTER TABLE tenant_keks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_keks
  USING (tenant_id = current_setting('app.tenant')::integer)
  WITH CHECK (tenant_id = current_setting('app.tenant')::integer);
ALTER TABLE data_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON data_keys
  USING (tenant_id = current_setting('app.tenant')::integer)
  WITH CHECK (tenant_id = current_setting('app.tenant')::integer);
