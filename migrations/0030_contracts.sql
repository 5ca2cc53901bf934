-- Contracts and orders (VX-3): the catalogue, quotes, orders with a delivery address, contracts
-- with their termination. docs/decisions/0030-contracts.md explains the choices.
--
-- The link to a person is `subject_id`. It is nullable only so that erasure can unlink a row
-- (data map rule null_personal): the commercial facts stay, anonymous. New rows always have it.
-- `organisation_id` refers to a business customer of the parties module (no foreign key yet).

-- The catalogue: not personal data. Prices in integer euro cents, VAT in basis points (2100 = 21 %).
CREATE TABLE contract_products (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  product_id bigint GENERATED ALWAYS AS IDENTITY,
  code text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('subscription', 'one_off', 'service')),
  -- Per month for a subscription; per unit for a one-off product or a service.
  price_cents bigint NOT NULL CHECK (price_cents >= 0),
  vat_rate_bp integer NOT NULL CHECK (vat_rate_bp BETWEEN 0 AND 10000),
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, product_id),
  UNIQUE (tenant_id, code)
);
SELECT kluis_isolate_tenant('contract_products');

-- Quotes: draft → sent → accepted | rejected. "Expired" is derived (sent or draft past valid_until).
CREATE TABLE quotes (
  tenant_id integer NOT NULL,
  quote_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NULL,
  organisation_id bigint NULL,
  status text NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'rejected')),
  valid_until date NOT NULL,
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  sent_at timestamptz NULL,
  decided_at timestamptz NULL,
  PRIMARY KEY (tenant_id, quote_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  CHECK ((status IN ('accepted', 'rejected')) = (decided_at IS NOT NULL))
);
SELECT kluis_isolate_tenant('quotes');
CREATE INDEX quotes_subject ON quotes (tenant_id, subject_id) WHERE subject_id IS NOT NULL;

-- Lines are commercial facts (product, quantity, price at the time); they concern a person only
-- through their quote's subject_id.
CREATE TABLE quote_lines (
  tenant_id integer NOT NULL,
  quote_id bigint NOT NULL,
  line_no integer NOT NULL CHECK (line_no >= 1),
  product_id bigint NOT NULL,
  quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 100000),
  unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
  vat_rate_bp integer NOT NULL CHECK (vat_rate_bp BETWEEN 0 AND 10000),
  PRIMARY KEY (tenant_id, quote_id, line_no),
  FOREIGN KEY (tenant_id, quote_id) REFERENCES quotes (tenant_id, quote_id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES contract_products (tenant_id, product_id)
);
SELECT kluis_isolate_tenant('quote_lines');

-- Orders: from an accepted quote (at most one order per quote) or direct.
CREATE TABLE orders (
  tenant_id integer NOT NULL,
  order_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NULL,
  organisation_id bigint NULL,
  quote_id bigint NULL,
  status text NOT NULL CHECK (status IN ('placed', 'delivered', 'cancelled')),
  delivery_street text NULL CHECK (length(delivery_street) BETWEEN 1 AND 200),
  delivery_postal_code text NULL CHECK (length(delivery_postal_code) BETWEEN 1 AND 16),
  delivery_city text NULL CHECK (length(delivery_city) BETWEEN 1 AND 100),
  delivery_country text NULL CHECK (delivery_country ~ '^[A-Z]{2}$'),
  delivered_at timestamptz NULL,
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, order_id),
  UNIQUE (tenant_id, quote_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, quote_id) REFERENCES quotes (tenant_id, quote_id),
  -- An address is whole or absent (erasure nulls all four together).
  CHECK (
    (delivery_street IS NULL) = (delivery_postal_code IS NULL)
    AND (delivery_street IS NULL) = (delivery_city IS NULL)
    AND (delivery_street IS NULL) = (delivery_country IS NULL)
  ),
  CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
SELECT kluis_isolate_tenant('orders');
CREATE INDEX orders_subject ON orders (tenant_id, subject_id) WHERE subject_id IS NOT NULL;

CREATE TABLE order_lines (
  tenant_id integer NOT NULL,
  order_id bigint NOT NULL,
  line_no integer NOT NULL CHECK (line_no >= 1),
  product_id bigint NOT NULL,
  quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 100000),
  unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
  vat_rate_bp integer NOT NULL CHECK (vat_rate_bp BETWEEN 0 AND 10000),
  PRIMARY KEY (tenant_id, order_id, line_no),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, order_id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES contract_products (tenant_id, product_id)
);
SELECT kluis_isolate_tenant('order_lines');

-- Contracts. end_date is the last day covered (inclusive); NULL while open-ended. A termination
-- sets end_date to the day it takes effect and records when, how and by whom it was received.
-- The contract's status (upcoming, active, ended) is derived from the dates, never stored.
CREATE TABLE contracts (
  tenant_id integer NOT NULL,
  contract_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NULL,
  organisation_id bigint NULL,
  order_id bigint NULL,
  start_date date NOT NULL,
  end_date date NULL CHECK (end_date >= start_date),
  terminated_on date NULL,
  termination_channel text NULL CHECK (termination_channel IN ('written', 'email', 'phone', 'portal')),
  termination_reason text NULL CHECK (termination_reason ~ '^[a-z][a-z0-9_]{0,39}$'),
  termination_recorded_at timestamptz NULL,
  terminated_by_staff_id bigint NULL,
  created_by_staff_id bigint NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, contract_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, order_id),
  CHECK (
    (terminated_on IS NULL) = (termination_channel IS NULL)
    AND (terminated_on IS NULL) = (termination_reason IS NULL)
    AND (terminated_on IS NULL) = (termination_recorded_at IS NULL)
  ),
  CHECK (terminated_on IS NULL OR terminated_on = end_date)
);
SELECT kluis_isolate_tenant('contracts');
CREATE INDEX contracts_subject ON contracts (tenant_id, subject_id) WHERE subject_id IS NOT NULL;

CREATE TABLE contract_lines (
  tenant_id integer NOT NULL,
  contract_id bigint NOT NULL,
  line_no integer NOT NULL CHECK (line_no >= 1),
  product_id bigint NOT NULL,
  quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 100000),
  unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
  vat_rate_bp integer NOT NULL CHECK (vat_rate_bp BETWEEN 0 AND 10000),
  PRIMARY KEY (tenant_id, contract_id, line_no),
  FOREIGN KEY (tenant_id, contract_id) REFERENCES contracts (tenant_id, contract_id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES contract_products (tenant_id, product_id)
);
SELECT kluis_isolate_tenant('contract_lines');
