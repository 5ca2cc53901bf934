-- Retention (issue 16): a legal hold a privacy officer places on a person (litigation, an
-- authority's request). While it runs (not released, ends_on not passed), the retention sweep
-- erases nothing of the person; the hold shows in the person's access report (data map).
CREATE TABLE legal_holds (
  tenant_id integer NOT NULL,
  hold_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  -- Written by the officer; may name the case, so it is personal data (correspondence).
  reason text NOT NULL CHECK (length(reason) BETWEEN 3 AND 500),
  -- The last day the hold keeps the person's data (inclusive).
  ends_on date NOT NULL,
  placed_at timestamptz NOT NULL,
  placed_by_staff_id bigint NULL,
  released_at timestamptz NULL,
  released_by_staff_id bigint NULL,
  PRIMARY KEY (tenant_id, hold_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('legal_holds');
CREATE INDEX legal_holds_subject ON legal_holds (tenant_id, subject_id);
