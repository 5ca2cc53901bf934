-- Staff accounts of a tenant. Passwords are argon2id hashes; the role is one of the policy's roles
-- (checked by the service against the tenant's policy, which lives outside the database).
CREATE TABLE staff_users (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  staff_id bigint GENERATED ALWAYS AS IDENTITY,
  email text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
  display_name text NOT NULL,
  role text NOT NULL,
  password_hash text NOT NULL,
  must_change_password boolean NOT NULL DEFAULT true,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, staff_id),
  UNIQUE (tenant_id, email)
);
SELECT kluis_isolate_tenant('staff_users');
