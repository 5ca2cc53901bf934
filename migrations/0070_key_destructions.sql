-- Erasure that finishes (issue 11): the subject's data key lives in the key store, a different
-- database, so it cannot be destroyed in the erasure's transaction. The erasure records here, in
-- its own transaction, that the key must go; a job (and the erasure itself, right after commit)
-- destroys it in the key store and then sets destroyed_at. A crash in between leaves the row
-- pending and the next run finishes it: the key can no longer outlive the erasure.
CREATE TABLE subject_key_destructions (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  requested_at timestamptz NOT NULL,
  destroyed_at timestamptz NULL,
  PRIMARY KEY (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('subject_key_destructions');
CREATE INDEX subject_key_destructions_pending ON subject_key_destructions (tenant_id)
  WHERE destroyed_at IS NULL;
