-- Attack S14-1, docs/decisions/0766: PostgreSQL's timestamptz takes 'infinity', '-infinity' and
-- years JavaScript's Date cannot hold (beyond 275760); node-postgres reads them as a number or an
-- Invalid Date, which no entry hash or MAC can be computed over. A row carrying one, written by the
-- app role (a pending row, a checkpoint, or a chained row through the link functions), stopped the
-- chainer and made verification answer 500 instead of naming the row. Kluis writes only its clock's
-- instants, so every new row of the audit tables must hold an instant from 1970 to year 9999.
-- NOT VALID: rows already stored are not checked here (a forged one must not block the upgrade);
-- the code names them as not Kluis's.
ALTER TABLE audit_log
  ADD CONSTRAINT audit_log_at_instant CHECK (at >= '1970-01-01 00:00:00+00' AND at < '10000-01-01 00:00:00+00') NOT VALID;
ALTER TABLE audit_pending
  ADD CONSTRAINT audit_pending_at_instant CHECK (at >= '1970-01-01 00:00:00+00' AND at < '10000-01-01 00:00:00+00') NOT VALID;
ALTER TABLE audit_checkpoints
  ADD CONSTRAINT audit_checkpoints_signed_at_instant CHECK (signed_at >= '1970-01-01 00:00:00+00' AND signed_at < '10000-01-01 00:00:00+00') NOT VALID;
