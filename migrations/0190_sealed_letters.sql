-- The letter outbox (issue 11, decision 0190): a letter to a person (a rights request's code or
-- answer, the erasure letter) is written here in the same transaction as what it reports, sealed
-- under a key of its own in the key store, and sent by the letter-sender job. Once SMTP accepted
-- it (or it was given up), the sealed body is nulled and its key destroyed. No readable personal
-- data: the recipient and the text are only inside `sealed`.
CREATE TABLE sealed_letters (
  tenant_id integer NOT NULL,
  letter_id uuid NOT NULL,
  purpose text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
  kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]*$'),
  message_id text NOT NULL CHECK (message_id ~ '^<[A-Za-z0-9._-]+@[A-Za-z0-9.-]+>$'),
  sealed bytea NULL,
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'sent', 'dropped', 'failed', 'shredded')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  done_at timestamptz NULL,
  key_destroyed_at timestamptz NULL,
  CHECK ((state = 'pending') = (sealed IS NOT NULL)),
  CHECK ((state = 'pending') = (done_at IS NULL)),
  PRIMARY KEY (tenant_id, letter_id)
);
SELECT kluis_isolate_tenant('sealed_letters');
CREATE INDEX sealed_letters_pending ON sealed_letters (tenant_id, next_attempt_at) WHERE state = 'pending';
CREATE INDEX sealed_letters_keys ON sealed_letters (tenant_id)
  WHERE state <> 'pending' AND key_destroyed_at IS NULL;
