-- The collection clock (docs/decisions/0916): when the provider last received data from or about
-- the person (their registration, a quote, order or contract, a bank account, a consent given).
-- Retention's `after_collection` rules ("12 months after we received it") count from it. Unlike
-- last_activity_at it does not move on a privacy-portal login or a rights request.
ALTER TABLE data_subjects ADD COLUMN last_received_at timestamptz;

-- Existing people: the last activity is the best known bound (it may be later than the last
-- receipt, so nobody is kept shorter than before).
DO $$
DECLARE
  t integer;
BEGIN
  FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id LOOP
    PERFORM set_config('app.tenant', t::text, true);
    UPDATE data_subjects SET last_received_at = last_activity_at WHERE tenant_id = t;
  END LOOP;
  PERFORM set_config('app.tenant', '', true);
END $$;

ALTER TABLE data_subjects ALTER COLUMN last_received_at SET DEFAULT now();
ALTER TABLE data_subjects ALTER COLUMN last_received_at SET NOT NULL;
