-- Cookies on the provider's website (issue 15, VK-20, VK-3): the cookie sections of the policy a
-- choice was made under, the server receipts of every choice and the visit log. docs/decisions/0140.

-- Each version of a tenant's cookie section, kept for as long as the tenant: a receipt names the
-- version, and an authority may ask what the visitor was shown (earlier cookie policies kept).
CREATE TABLE cookie_policy_versions (
  tenant_id integer NOT NULL,
  version text NOT NULL CHECK (version ~ '^[0-9a-f]{12}$'),
  cookies jsonb NOT NULL,
  first_used_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, version)
);
SELECT kluis_isolate_tenant('cookie_policy_versions');

-- One row per choice. The consent id is 128 random bits the visitor's browser keeps in a
-- first-party cookie; nothing else here identifies the visitor (no address, no user agent).
CREATE TABLE cookie_receipts (
  tenant_id integer NOT NULL,
  receipt_id bigint GENERATED ALWAYS AS IDENTITY,
  consent_id text NOT NULL CHECK (consent_id ~ '^[A-Za-z0-9_-]{22}$'),
  -- The non-functional categories consented to (functional cookies need no consent).
  categories text[] NOT NULL CHECK (categories <@ ARRAY['analytical', 'tracking']::text[]),
  policy_version text NOT NULL CHECK (policy_version ~ '^[0-9a-f]{12}$'),
  banner_version text NOT NULL CHECK (banner_version ~ '^[0-9a-f]{12}$'),
  language text NOT NULL CHECK (language IN ('nl', 'fr', 'en')),
  -- banner: a click in the banner; settings: the cookie-settings page; gpc: the browser's Global
  -- Privacy Control signal taken as a refusal without a click.
  source text NOT NULL CHECK (source IN ('banner', 'settings', 'gpc')),
  gpc boolean NOT NULL,
  given_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, receipt_id),
  FOREIGN KEY (tenant_id, policy_version) REFERENCES cookie_policy_versions (tenant_id, version)
);
SELECT kluis_isolate_tenant('cookie_receipts');
CREATE INDEX cookie_receipts_consent ON cookie_receipts (tenant_id, consent_id, given_at DESC);
CREATE INDEX cookie_receipts_given ON cookie_receipts (tenant_id, given_at);

-- The visit log (VK-3): no consent id, no full address, no full user agent. The address is cut to
-- its /24 (IPv4) or /48 (IPv6) network before it is stored; the country only with analytics consent.
CREATE TABLE website_visits (
  tenant_id integer NOT NULL,
  visit_id bigint GENERATED ALWAYS AS IDENTITY,
  visited_at timestamptz NOT NULL,
  page text NOT NULL CHECK (page ~ '^/[!-~]*$' AND length(page) <= 300),
  referrer_host text NULL CHECK (referrer_host ~ '^[a-z0-9.-]+$' AND length(referrer_host) <= 253),
  device_type text NOT NULL CHECK (device_type IN ('desktop', 'mobile', 'tablet', 'tv', 'bot', 'other')),
  os text NOT NULL CHECK (os ~ '^[A-Za-z0-9 ._()/-]{1,40}$'),
  browser text NOT NULL CHECK (browser ~ '^[A-Za-z0-9 ._()/-]{1,40}$'),
  network cidr NULL CHECK (network IS NULL OR (family(network) = 4 AND masklen(network) = 24)
                                             OR (family(network) = 6 AND masklen(network) = 48)),
  country text NULL CHECK (country ~ '^[A-Z]{2}$'),
  analytics_consent boolean NOT NULL,
  CHECK (analytics_consent OR country IS NULL),
  PRIMARY KEY (tenant_id, visit_id)
);
SELECT kluis_isolate_tenant('website_visits');
CREATE INDEX website_visits_time ON website_visits (tenant_id, visited_at);
