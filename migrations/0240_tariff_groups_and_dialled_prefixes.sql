-- Issue 13 (VX-5): the tariff names destination groups (national fixed, national mobile,
-- international zone 1, …) that the invoice's summary lines and rating plans' bundles use, and
-- rates destinations that are no E.164 number (112, 1207, short codes) by prefixes of the
-- digits as dialled. docs/decisions/0240-rating-plans.md.
ALTER TABLE tariff_rates
  ADD COLUMN scope text NOT NULL DEFAULT 'e164' CHECK (scope IN ('e164', 'dialled')),
  ADD COLUMN destination_group text NULL CHECK (destination_group ~ '^[a-z0-9][a-z0-9_]{0,39}$'),
  ADD COLUMN group_label text NULL CHECK (group_label ~ '^[^\x01-\x1f<>]{1,80}$'),
  ADD CONSTRAINT tariff_rates_group_labelled CHECK ((destination_group IS NULL) = (group_label IS NULL));
-- A dialled 1207 and the E.164 prefix 1207 (+1 207, Maine) are different rates.
ALTER TABLE tariff_rates DROP CONSTRAINT tariff_rates_pkey;
ALTER TABLE tariff_rates ADD PRIMARY KEY (tenant_id, scope, prefix, valid_from);
