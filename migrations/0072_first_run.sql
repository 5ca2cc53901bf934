-- First run that resumes (issue 11): the tenants the first start of an empty installation sets
-- up, one row per policy file, written before the first tenant is created. A start that finds
-- rows without completed_at finishes them, so a setup interrupted half-way (Ctrl-C, a crash) is
-- completed by the next start instead of being skipped because "a tenant exists".
-- Like `tenants`, an installation-wide table: no tenant_id, no row-level security (decision 0073).
CREATE TABLE first_run_plan (
  slug text PRIMARY KEY CHECK (slug ~ '^[a-z][a-z0-9-]{1,62}$'),
  policy_file text NOT NULL,
  planned_at timestamptz NOT NULL DEFAULT now(),
  demo_done_at timestamptz NULL,
  completed_at timestamptz NULL
);
