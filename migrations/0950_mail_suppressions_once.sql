-- One suppression per person, address and purpose (NULL: every mailing, a hard bounce): concurrent
-- one-click unsubscribes and a bounce in each mailing add it once (docs/decisions/0951).
DO $$
DECLARE
  t integer;
BEGIN
  FOR t IN SELECT tenant_id FROM tenants ORDER BY tenant_id LOOP
    PERFORM set_config('app.tenant', t::text, true);
    DELETE FROM mail_suppressions later
      USING mail_suppressions first
      WHERE later.tenant_id = t
        AND first.tenant_id = t
        AND first.subject_id = later.subject_id
        AND first.address_bidx = later.address_bidx
        AND first.purpose IS NOT DISTINCT FROM later.purpose
        AND first.suppression_id < later.suppression_id;
  END LOOP;
  PERFORM set_config('app.tenant', '', true);
END $$;

ALTER TABLE mail_suppressions
  ADD CONSTRAINT mail_suppressions_once UNIQUE NULLS NOT DISTINCT (tenant_id, subject_id, address_bidx, purpose);
