-- Proof of possession of a cookie consent id (attack finding A10, docs/decisions/0410): the banner
-- keeps a per-id secret next to the id, the server only its SHA-256. Anyone may record a refusal for
-- an id; an acceptance or a change under an existing id needs the secret.
CREATE TABLE cookie_consent_keys (
  tenant_id integer NOT NULL,
  consent_id text NOT NULL CHECK (consent_id ~ '^[A-Za-z0-9_-]{22}$'),
  key_hash bytea NOT NULL CHECK (length(key_hash) = 32),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, consent_id)
);
SELECT kluis_isolate_tenant('cookie_consent_keys');
