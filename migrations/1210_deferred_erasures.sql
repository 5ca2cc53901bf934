-- An erasure a person asked for while a contract of theirs runs (docs/decisions/1210): the request
-- is answered with the date, and this row waits for the day after the relation's last day, when
-- the deferred-erasures job carries it out. The erasure deletes the row in its own transaction,
-- so a row exists only while the erasure is still to be done.
CREATE TABLE deferred_erasures (
  tenant_id integer NOT NULL,
  request_id uuid NOT NULL,
  subject_id bigint NOT NULL,
  -- The relation's last day the person was last told; NULL: a contract without an end date
  -- ("after it ends").
  last_day date NULL,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, request_id),
  FOREIGN KEY (tenant_id, request_id) REFERENCES rights_requests (tenant_id, request_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('deferred_erasures');
CREATE INDEX deferred_erasures_subject ON deferred_erasures (tenant_id, subject_id);
