-- The privacy portal's logo per tenant (issue 19; docs/decisions/0291): PNG or JPEG only (SVG is
-- refused: it can carry script), at most 200 kB, its type taken from its bytes. Not personal data.
CREATE TABLE portal_logos (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
  content bytea NOT NULL CHECK (octet_length(content) BETWEEN 1 AND 204800),
  width integer NOT NULL CHECK (width BETWEEN 1 AND 4096),
  height integer NOT NULL CHECK (height BETWEEN 1 AND 4096),
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id)
);
SELECT kluis_isolate_tenant('portal_logos');
