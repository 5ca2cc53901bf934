-- The totals of the calls stored before migration 0500, tenant by tenant (docs/decisions/0500).
-- Row-level security is forced on call_records: a login that is subject to it (external
-- PostgreSQL without superuser or BYPASSRLS, README) cannot read every tenant's calls in one
-- statement, so the migration runner leaves 0500's all-tenant fill out for such a login and this
-- one names each tenant as the application does (like 0066). A tenant that already has totals
-- (0500 filled them, or the triggers since) is left alone.
DO $$
DECLARE
  t integer;
BEGIN
  FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id LOOP
    PERFORM set_config('app.tenant', t::text, true);
    IF NOT EXISTS (SELECT 1 FROM call_record_month_totals WHERE tenant_id = t) THEN
      INSERT INTO call_record_month_totals
        (tenant_id, subject_id, month, head, calls, chargeable_calls, chargeable_seconds, chargeable_cost_micros,
         chargeable_unrated, charged_calls, charged_seconds, charged_cost_micros, unrated)
      SELECT r.tenant_id, r.subject_id, date_trunc('month', r.started_at AT TIME ZONE 'Europe/Brussels')::date,
             left(r.destination, 8), count(*),
             count(*) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered')),
             coalesce(sum(r.billable_seconds) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered')), 0),
             coalesce(sum(r.cost_micros) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered')), 0),
             count(*) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered') AND r.cost_micros IS NULL),
             count(*) FILTER (WHERE r.cost_micros > 0),
             coalesce(sum(r.billable_seconds) FILTER (WHERE r.cost_micros > 0), 0),
             coalesce(sum(r.cost_micros) FILTER (WHERE r.cost_micros > 0), 0),
             count(*) FILTER (WHERE r.is_billable_leg AND r.billable_seconds > 0 AND r.cost_micros IS NULL)
        FROM call_records r
       WHERE r.tenant_id = t
       GROUP BY 1, 2, 3, 4;
    END IF;
  END LOOP;
  PERFORM set_config('app.tenant', '', true);
END $$;
