-- Counters of the public doors under abuse (issue 11): form posts, code guesses and failed logins
-- per client address, per target (the e-mail address typed) and per tenant, shared by every
-- Kluis process through this table (docs/decisions/0075). The key is a keyed hash (HMAC with a
-- tenant secret from the key store) of the address or e-mail, never the value itself; rows are
-- reset when their window has passed and deleted a day or two after their last hit.
CREATE TABLE throttle_counters (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  bucket text NOT NULL CHECK (bucket ~ '^[a-z][a-z0-9.-]{1,62}$'),
  key_hash bytea NOT NULL CHECK (length(key_hash) = 16),
  window_started_at timestamptz NOT NULL,
  last_hit_at timestamptz NOT NULL,
  hits integer NOT NULL CHECK (hits >= 0),
  PRIMARY KEY (tenant_id, bucket, key_hash)
);
CREATE INDEX throttle_counters_last_hit ON throttle_counters (tenant_id, last_hit_at);
SELECT kluis_isolate_tenant('throttle_counters');
