-- Sealed letters (issue 11, decision 0190): a letter waiting in the data database's outbox is
-- encrypted under a data key of its own (owner_kind 'letter', owner_ref the letter's id). The key
-- is destroyed once the letter has left, so a copy of the outbox row in a data backup can no
-- longer be read, and a restored outbox does not send it again.
ALTER TABLE data_keys DROP CONSTRAINT data_keys_owner_kind_check;
ALTER TABLE data_keys ADD CONSTRAINT data_keys_owner_kind_check
  CHECK (owner_kind IN ('subject', 'secret', 'dossier', 'letter'));
