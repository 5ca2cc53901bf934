-- Every version of a tenant's policy file, as loaded. The highest version_no is in force;
-- older ones are kept, because consents and answers refer to the version they were given under.
CREATE TABLE tenant_policies (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  version_no integer NOT NULL CHECK (version_no >= 1),
  statement_version text NOT NULL,
  effective_date date NOT NULL,
  source_file text NOT NULL,
  source_yaml text NOT NULL,
  source_sha256 text NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, version_no)
);
SELECT kluis_isolate_tenant('tenant_policies');
-- Policy history is evidence: never rewritten.
REVOKE UPDATE, DELETE ON tenant_policies FROM kluis_app;
