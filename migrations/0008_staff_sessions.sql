-- Staff login sessions. Only a SHA-256 of the session token is stored, so a copy of this table
-- cannot be replayed as a login. Idle and absolute expiry are checked on every request.
CREATE TABLE staff_sessions (
  tenant_id integer NOT NULL,
  session_hash bytea NOT NULL CHECK (length(session_hash) = 32),
  staff_id bigint NOT NULL,
  csrf_hash bytea NOT NULL CHECK (length(csrf_hash) = 32),
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, session_hash),
  FOREIGN KEY (tenant_id, staff_id) REFERENCES staff_users (tenant_id, staff_id) ON DELETE CASCADE
);
SELECT kluis_isolate_tenant('staff_sessions');
CREATE INDEX staff_sessions_staff ON staff_sessions (tenant_id, staff_id);
