-- The category erasure journal (issue 16, decision 0111): like erasure_journal, but for erasures
-- of some categories of a subject. One line per erasure (append-only for the application); the
-- latest time per subject and category is compared with the data's subject_category_erasures.
CREATE TABLE category_erasure_journal (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  subject_created_at timestamptz NOT NULL,
  category text NOT NULL CHECK (category ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$'),
  erased_at timestamptz NOT NULL,
  journaled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, subject_id, category, erased_at)
);
GRANT SELECT, INSERT ON category_erasure_journal TO kluis_app;
ALTER TABLE category_erasure_journal ENABLE ROW LEVEL SECURITY;
ALTER TABLE category_erasure_journal FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON category_erasure_journal
  USING (tenant_id = current_setting('app.tenant')::integer)
  WITH CHECK (tenant_id = current_setting('app.tenant')::integer);
