-- Fresh statistics for the invoice tables when an invoice run is about to outgrow them
-- (docs/decisions/0420). Every invoice line and call month checks its invoice through the foreign
-- key, whose lookup plan PostgreSQL makes once per connection from the table's statistics. With
-- statistics of a near-empty table (a new database, a first run) the planner estimates that
-- `tenant_id = $1` matches almost nothing, ties the primary key with another unique index that
-- starts with tenant_id, and may pick the latter: every check then reads all of the tenant's
-- invoices, and a run of 5,000 invoices spent most of its time there.
--
-- The application role may not ANALYZE a table it does not own, so this function runs as the
-- owner. It only analyzes when the statistics count fewer rows than the caller is adding (a run's
-- batch that at least doubles the table); autovacuum keeps a table of any size fresh otherwise.
-- ANALYZE sees the rows the calling transaction has inserted, and its invalidation makes every
-- connection plan the foreign-key lookups again from the new statistics. SKIP_LOCKED: when another
-- ANALYZE or VACUUM (autovacuum, a concurrent run) holds the table, the run does not wait for it.
CREATE FUNCTION kluis_refresh_invoice_statistics(p_adding integer) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
BEGIN
  IF (SELECT c.reltuples FROM pg_class c WHERE c.oid = 'public.invoices'::regclass) >= p_adding THEN
    RETURN false;
  END IF;
  ANALYZE (SKIP_LOCKED) public.invoices;
  RETURN true;
END
$$;
REVOKE EXECUTE ON FUNCTION kluis_refresh_invoice_statistics(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kluis_refresh_invoice_statistics(integer) TO kluis_app;
