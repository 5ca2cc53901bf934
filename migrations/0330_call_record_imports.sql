-- Issue 20: every call-record import on record, so the back office can list them with their
-- counts and show the ones that failed or rejected lines (docs/decisions/0331). Counts and codes
-- only: the rejected lines themselves stay in the reject file next to the imported file.
CREATE TABLE call_record_imports (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  import_id bigint GENERATED ALWAYS AS IDENTITY,
  -- The imported file's own name (no folder), reduced to these characters by the import.
  file_name text NOT NULL CHECK (file_name ~ '^[A-Za-z0-9_][A-Za-z0-9._ -]{0,119}$'),
  format text NOT NULL CHECK (format ~ '^[a-z]{1,20}$'),
  status text NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
  started_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  finished_at timestamptz NULL,
  lines_read bigint NOT NULL DEFAULT 0 CHECK (lines_read >= 0),
  imported bigint NOT NULL DEFAULT 0 CHECK (imported >= 0),
  rejected bigint NOT NULL DEFAULT 0 CHECK (rejected >= 0),
  duplicates bigint NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
  unrated bigint NOT NULL DEFAULT 0 CHECK (unrated >= 0),
  -- Reject reason code → count, e.g. {"not_attributed": 3}.
  rejects_by_reason jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(rejects_by_reason) = 'object'),
  -- Why a failed import stopped: a fixed code (layout, a gate refusal's code, error).
  error_code text NULL CHECK (error_code ~ '^[a-z][a-z_]{0,59}$'),
  PRIMARY KEY (tenant_id, import_id),
  CHECK ((status = 'failed') = (error_code IS NOT NULL))
);
SELECT kluis_isolate_tenant('call_record_imports');
