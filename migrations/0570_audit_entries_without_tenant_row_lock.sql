-- Issue 21, docs/decisions/0570: an audit entry no longer locks its tenant's row.
-- The foreign keys audit_log -> tenants and audit_pending -> tenants made every audited
-- transaction take FOR KEY SHARE on the one tenants row (a WAL record of its own, 56 bytes of
-- the ~920 an entry cost), and concurrent audited transactions of a tenant shared that lock as a
-- MultiXact (another ~150 bytes per entry with 8 writers). The tenant of an entry stays bound
-- without them: row-level security's WITH CHECK ties tenant_id to the transaction's tenant, an
-- entry is chained only onto its tenant's audit_heads row, which keeps its foreign key to
-- tenants, and tenants are never deleted (an audit log outlives anything it records).
ALTER TABLE audit_log DROP CONSTRAINT audit_log_tenant_id_fkey;
ALTER TABLE audit_pending DROP CONSTRAINT audit_pending_tenant_id_fkey;
