-- Issue 20: call-record files uploaded over HTTP and imported by a job (docs/decisions/0360).
-- An uploaded import waits `queued` until the job takes it; its rejected lines are kept for a
-- bounded time so the back office can download them.
ALTER TABLE call_record_imports DROP CONSTRAINT call_record_imports_status_check;
ALTER TABLE call_record_imports
  ADD CONSTRAINT call_record_imports_status_check CHECK (status IN ('queued', 'running', 'finished', 'failed'));
-- file: a file on the machine (the CLI); upload: sent over HTTP, spooled in the data folder.
ALTER TABLE call_record_imports ADD COLUMN source text NOT NULL DEFAULT 'file' CHECK (source IN ('file', 'upload'));
ALTER TABLE call_record_imports ADD COLUMN size_bytes bigint NULL CHECK (size_bytes >= 0);
-- Until when the rejected lines are kept (uploads only); null: none kept, or already removed.
ALTER TABLE call_record_imports ADD COLUMN rejects_kept_until timestamptz NULL;

-- The rejected lines of an uploaded import, as they were in the file: call records of someone
-- (a caller's number, a time), read only under the call-billing purpose, removed by the
-- call-record-rejects job when their time is up.
CREATE TABLE call_record_import_rejects (
  tenant_id integer NOT NULL,
  import_id bigint NOT NULL,
  line_number bigint NOT NULL CHECK (line_number > 0),
  reason text NOT NULL CHECK (reason ~ '^[a-z][a-z_]{0,59}$'),
  -- The customer the import attributed the line to before it refused it; null when none.
  subject_id bigint NULL,
  -- The line as read (latin1), control characters replaced, cut at 4,000 characters.
  line text NOT NULL CHECK (line ~ '^[^\x01-\x1f\x7f]*$' AND length(line) <= 4000),
  PRIMARY KEY (tenant_id, import_id, line_number),
  FOREIGN KEY (tenant_id, import_id) REFERENCES call_record_imports (tenant_id, import_id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
CREATE INDEX call_record_import_rejects_subject ON call_record_import_rejects (tenant_id, subject_id)
  WHERE subject_id IS NOT NULL;
SELECT kluis_isolate_tenant('call_record_import_rejects');
