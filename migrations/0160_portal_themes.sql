-- The privacy portal's look per tenant (issue 19): the two colours its pages are drawn in. Not
-- personal data. A tenant without a row gets the portal's neutral colours. The CHECKs keep the
-- values plain #rrggbb, so they can be written into a page's style without further escaping.
CREATE TABLE portal_themes (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  primary_colour text NOT NULL CHECK (primary_colour ~ '^#[0-9a-f]{6}$'),
  accent_colour text NOT NULL CHECK (accent_colour ~ '^#[0-9a-f]{6}$'),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id)
);
SELECT kluis_isolate_tenant('portal_themes');
