-- Idempotency-Key (issue 12): a POST that makes a money document or sends mail, repeated with the
-- same key, gets the first answer instead of doing the work again. One row per tenant and key;
-- the fingerprint (SHA-256 of caller, route and body) tells a retry from a different request
-- under a reused key. The stored response holds counts, numbers and ids, never personal data
-- (documents are re-read through the gate on a replay). Rows live 24 hours (docs/decisions/0086).
CREATE TABLE idempotency_keys (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  fingerprint bytea NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'done')),
  response_status integer NULL,
  response_body jsonb NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, idempotency_key)
);
SELECT kluis_isolate_tenant('idempotency_keys');
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (tenant_id, created_at);
