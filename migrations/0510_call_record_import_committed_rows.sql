-- Issue 21 / attack S7-8 (docs/decisions/0510): the rows an import inserted in batches that
-- committed, over all its runs. Written in each batch's own transaction, so a run killed
-- half-way leaves exactly what it stored; the run that resumes the import counts those rows as
-- imported by the file, not as duplicates of it.
ALTER TABLE call_record_imports
  ADD COLUMN committed_rows bigint NOT NULL DEFAULT 0 CHECK (committed_rows >= 0);
