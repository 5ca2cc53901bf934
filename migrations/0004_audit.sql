-- The audit log of the privacy core (DESIGN.md point 5): one hash chain per tenant.
-- Each entry holds the SHA-256 of the previous one (prev_hash; 32 zero bytes for seq 1), so a
-- changed, removed or inserted entry breaks the chain (`kluis audit verify`). Entries name
-- subjects only by a keyed pseudonym, never a value of personal data, so erasure never has to
-- rewrite history. The hash is computed by the application (src/kernel/audit/audit.canonical.ts).
CREATE TABLE audit_log (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  seq bigint NOT NULL CHECK (seq >= 1),
  at timestamptz NOT NULL,
  actor_kind text NOT NULL CHECK (actor_kind IN ('staff', 'subject', 'system')),
  actor_id text NOT NULL,
  role text,
  purpose text,
  action text NOT NULL,
  subject_pseudonyms text[] NOT NULL DEFAULT '{}',
  categories text[] NOT NULL DEFAULT '{}',
  records integer NOT NULL DEFAULT 0 CHECK (records >= 0),
  decision text NOT NULL CHECK (decision IN ('allowed', 'denied')),
  reason text,
  request_id text,
  prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (tenant_id, seq)
);
SELECT kluis_isolate_tenant('audit_log');
-- Access reports look entries up by a subject's pseudonym.
CREATE INDEX audit_log_subject_pseudonyms ON audit_log USING gin (subject_pseudonyms);

-- The head of each tenant's chain. Appending locks it (SELECT … FOR UPDATE), so concurrent
-- transactions of one tenant append one after the other and the chain never forks.
CREATE TABLE audit_heads (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  seq bigint NOT NULL CHECK (seq >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (tenant_id)
);
SELECT kluis_isolate_tenant('audit_heads');

-- Signed checkpoints of a chain head: an HMAC under a key derived from the master key, which a
-- database superuser does not have, so a chain rewritten with recomputed hashes no longer
-- matches the checkpoint of any seq at or after the rewrite.
CREATE TABLE audit_checkpoints (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  seq bigint NOT NULL CHECK (seq >= 1),
  head_hash bytea NOT NULL CHECK (length(head_hash) = 32),
  signed_at timestamptz NOT NULL,
  mac bytea NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
SELECT kluis_isolate_tenant('audit_checkpoints');

-- Append-only, enforced twice: the app role lacks the privileges, and a statement trigger
-- refuses the change for everyone else (the owner included) unless triggers are disabled.
CREATE FUNCTION kluis_refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION kluis_refuse_audit_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION kluis_refuse_audit_change();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM kluis_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM kluis_app;
-- The head is moved forward on every append, but never removed.
REVOKE DELETE, TRUNCATE ON audit_heads FROM kluis_app;
