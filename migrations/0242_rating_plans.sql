-- Issue 13 (VX-5): rating plans on top of the tariff — time bands, prices per destination group
-- and band, included minutes, free on-net calls — and which plan applies to whom from when:
-- the tenant's default, a product's, a customer's. docs/decisions/0242-rating-plans.md.
CREATE TABLE rating_plans (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  plan_id bigint GENERATED ALWAYS AS IDENTITY,
  code text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$'),
  name text NOT NULL CHECK (name ~ '^[^\x01-\x1f<>]{1,80}$'),
  -- Validated by the service (rating-plans.ts planDefinitionSchema): bands, prices, bundles.
  definition jsonb NOT NULL CHECK (jsonb_typeof(definition) = 'object'),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, plan_id),
  UNIQUE (tenant_id, code)
);
SELECT kluis_isolate_tenant('rating_plans');

-- Activation dates: an assignment applies from valid_from (a day in Brussels) until the next
-- assignment of the same target. A customer's own plan wins over a product's, which wins over
-- the tenant's default. Tenant and product assignments say nothing about a person; a customer's
-- does (what they subscribed to) and is kept apart, in the data map under kluis.contract.product.
CREATE TABLE rating_plan_assignments (
  tenant_id integer NOT NULL,
  assignment_id bigint GENERATED ALWAYS AS IDENTITY,
  plan_id bigint NOT NULL,
  -- NULL: the tenant's default plan.
  product_id bigint NULL,
  valid_from date NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, assignment_id),
  FOREIGN KEY (tenant_id, plan_id) REFERENCES rating_plans (tenant_id, plan_id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES contract_products (tenant_id, product_id)
);
SELECT kluis_isolate_tenant('rating_plan_assignments');
CREATE UNIQUE INDEX rating_plan_assignments_one_per_day
  ON rating_plan_assignments (tenant_id, coalesce(product_id, 0), valid_from);

CREATE TABLE customer_rating_plans (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  valid_from date NOT NULL,
  plan_id bigint NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, subject_id, valid_from),
  FOREIGN KEY (tenant_id, plan_id) REFERENCES rating_plans (tenant_id, plan_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('customer_rating_plans');
