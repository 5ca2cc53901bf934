-- Category erasures in the data (issue 16, decision 0111): the last time each category of a
-- subject was erased by itself (a retention rule ended for it, not for the person). The key
-- store's category_erasure_journal holds the same facts outside every data backup; a restored
-- database whose marker is older than the journal's (or missing) is behind, and the replay erases
-- those categories again. No personal data: the subject's number, a category key, a time.
CREATE TABLE subject_category_erasures (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  category text NOT NULL CHECK (category ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$'),
  erased_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subject_id, category),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('subject_category_erasures');
