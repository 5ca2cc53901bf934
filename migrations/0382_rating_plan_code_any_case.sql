-- Rating-plan codes are unique regardless of case (ATT-1 and att-1 are one plan): until now only
-- the service said so, the index was case-sensitive (issue 22 attack). docs/decisions/0383.
-- Before 2026-11-29 the service compared codes case-sensitively too, so an installation may hold
-- two plans whose codes differ only in case. The seed and demo data have none; where such pairs
-- exist, the later plan (by creation, then id) keeps its rules and assignments and gets its id
-- appended to its code (`att-1` → `att-1-17`), with a NOTICE, so that the index can be built.
-- Row-level security is forced: the owner names each tenant as the application does.
DO $$
DECLARE
  t integer;
  dup record;
BEGIN
  FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id LOOP
    PERFORM set_config('app.tenant', t::text, true);
    FOR dup IN
      SELECT plan_id, code
        FROM (SELECT plan_id, code,
                     row_number() OVER (PARTITION BY lower(code) ORDER BY created_at, plan_id) AS n
                FROM rating_plans
               WHERE tenant_id = t) ranked
       WHERE n > 1
    LOOP
      UPDATE rating_plans
         SET code = left(dup.code, 39 - length(dup.plan_id::text)) || '-' || dup.plan_id
       WHERE tenant_id = t AND plan_id = dup.plan_id;
      RAISE NOTICE 'rating plan % of tenant %: code differed from another only in case, renamed', dup.plan_id, t;
    END LOOP;
  END LOOP;
  PERFORM set_config('app.tenant', '', true);
END $$;

CREATE UNIQUE INDEX rating_plans_code_any_case ON rating_plans (tenant_id, lower(code));
