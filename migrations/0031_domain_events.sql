-- Domain events (transactional outbox): written in the same transaction as the change they
-- report, so a subscriber (technical dossier erasure VX-7, retention clocks VK-14) never misses
-- one and never sees one whose change rolled back. Payloads hold ids, dates and fixed keys only.
CREATE TABLE domain_events (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  event_id bigint GENERATED ALWAYS AS IDENTITY,
  type text NOT NULL CHECK (type ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
  payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
  occurred_at timestamptz NOT NULL,
  processed_at timestamptz NULL,
  PRIMARY KEY (tenant_id, event_id)
);
SELECT kluis_isolate_tenant('domain_events');
CREATE INDEX domain_events_pending ON domain_events (tenant_id, event_id) WHERE processed_at IS NULL;
