-- Audit anchoring (issue 11): each entry carries an HMAC of its seq and hash under the tenant's
-- audit key (wrapped by the master key, held in the key store), so an entry appended or rewritten
-- by someone with the database but without the master key no longer verifies, even with every
-- hash and the head recomputed. Entries written before this migration have none (NULL); once an
-- entry of a chain carries a MAC, every later one must.
ALTER TABLE audit_log ADD COLUMN mac bytea NULL CHECK (mac IS NULL OR length(mac) = 32);
