-- When an admin (or the CLI) last issued a one-time password to the account: a second reset
-- within a minute, while that password is unused, is refused as a double click naming the first
-- (docs/decisions/1130). Null: never reset since this migration.
ALTER TABLE staff_users ADD COLUMN password_reset_at timestamptz NULL;
