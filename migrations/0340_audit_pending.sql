-- Issue 21, docs/decisions/0340: audit entries of a transaction that found the tenant's chain head
-- locked by another one. Instead of queueing on the head (which serialised every audited
-- transaction of a tenant, each waiting for the one before it to flush its commit), the entry is
-- written here, signed over its content, and commits with the transaction's work; the chainer
-- (audit.service.ts chainPendingEntries) then links a batch of them into audit_log under the head
-- lock and deletes them in the same transaction. An entry is thus always in exactly one of the two
-- tables, whatever is killed when.
CREATE TABLE audit_pending (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  pending_id bigint GENERATED ALWAYS AS IDENTITY,
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
  -- HMAC under the tenant's audit key over the entry's content: the chainer signs nothing it
  -- cannot trace to Kluis.
  mac bytea NOT NULL CHECK (length(mac) = 32),
  PRIMARY KEY (tenant_id, pending_id)
);
SELECT kluis_isolate_tenant('audit_pending');
-- Inserted by audited transactions, read and deleted by the chainer; never changed.
REVOKE UPDATE, TRUNCATE ON audit_pending FROM kluis_app;
