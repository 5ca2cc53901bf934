-- An import that fails on a database constraint records the constraint's name (decision 0627).
-- PostgreSQL names carry digits (a partition's, a numbered check), which the code column
-- refused: the failed import was then logged as a bare "error". Same shape, digits allowed, up
-- to PostgreSQL's 63 characters.
ALTER TABLE call_record_imports DROP CONSTRAINT call_record_imports_error_code_check;
ALTER TABLE call_record_imports
  ADD CONSTRAINT call_record_imports_error_code_check CHECK (error_code ~ '^[a-z][a-z0-9_]{0,62}$');
