-- How a portal session was opened: a session opened by a mailed link may set a new password
-- without the current one while the link is fresh; one opened by a password never may
-- (docs/decisions/1061). Sessions open before this migration count as opened by a password.
ALTER TABLE subject_sessions
  ADD COLUMN opened_by text NOT NULL DEFAULT 'password' CHECK (opened_by IN ('link', 'password'));
ALTER TABLE subject_sessions ALTER COLUMN opened_by DROP DEFAULT;
