-- Idempotency-Key after a crash (issue 10/22 attack: a request killed mid-way left its key
-- `pending` for 24 hours, so every retry got 409). Who runs a key is now told by a
-- transaction-scoped advisory lock held while the work runs (a dead process frees it), and each
-- commit of the work marks the key `committed` in that same transaction: a retry takes over a
-- `pending` key whose holder is gone (nothing was made), and refuses a `committed` one (something
-- was made, its answer is lost). docs/decisions/0380.
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_state_check;
ALTER TABLE idempotency_keys
  ADD CONSTRAINT idempotency_keys_state_check CHECK (state IN ('pending', 'committed', 'done'));
