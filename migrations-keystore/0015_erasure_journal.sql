-- The erasure journal: which data subject of which tenant was erased, and when. It lives in the
-- key store, outside every backup of the data, so a restore of an older data backup can erase
-- again whom it brings back (names, call records: what no key protects). It holds no personal
-- data: the subject's internal number and creation time (to tell it from a later subject that
-- reuses the number) and the time of the erasure.
CREATE TABLE erasure_journal (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  subject_created_at timestamptz NOT NULL,
  erased_at timestamptz NOT NULL,
  journaled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, subject_id)
);
-- Append-only for the application: an erasure is never taken back.
GRANT SELECT, INSERT ON erasure_journal TO kluis_app;
ALTER TABLE erasure_journal ENABLE ROW LEVEL SECURITY;
ALTER TABLE erasure_journal FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON erasure_journal
  USING (tenant_id = current_setting('app.tenant')::integer)
  WITH CHECK (tenant_id = current_setting('app.tenant')::integer);
