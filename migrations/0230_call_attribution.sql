-- Issue 13 (VX-5): who pays for a call. docs/decisions/0230-call-attribution.md explains the order.

-- A customer's line identifiers other than numbers: the switch's account code, a channel or trunk
-- prefix ("SIP/cust318-", "PJSIP/trunk-"), an extension within a PBX context, a SIP user. Held for
-- [valid_from, valid_to) like numbers; one identifier has one holder at a time.
CREATE TABLE line_identifiers (
  tenant_id integer NOT NULL,
  identifier_id bigint GENERATED ALWAYS AS IDENTITY,
  subject_id bigint NOT NULL,
  kind text NOT NULL CHECK (kind IN ('account_code', 'channel', 'extension', 'sip_user')),
  value text NOT NULL CHECK (value ~ '^[A-Za-z0-9_*#+][A-Za-z0-9_*#+.@:/-]{0,79}$'),
  -- The dialplan context an extension lives in; empty for the other kinds.
  context text NOT NULL DEFAULT '' CHECK (context ~ '^([A-Za-z0-9_][A-Za-z0-9_.-]{0,79})?$'),
  valid_from timestamptz NOT NULL,
  valid_to timestamptz NULL CHECK (valid_to IS NULL OR valid_to > valid_from),
  CHECK ((kind = 'extension') = (context <> '')),
  PRIMARY KEY (tenant_id, identifier_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  CONSTRAINT line_identifiers_no_overlap
    EXCLUDE USING gist (tenant_id WITH =, kind WITH =, value WITH =, context WITH =,
                        tstzrange(valid_from, valid_to) WITH &&)
);
SELECT kluis_isolate_tenant('line_identifiers');
CREATE INDEX line_identifiers_subject ON line_identifiers (tenant_id, subject_id);

-- The call's direction as seen from the customer it is stored under: outbound and forwarded legs
-- are chargeable, inbound calls and internal calls are not (is_billable_leg is false for them).
-- Every record stored so far was attributed by its caller's number: outbound.
ALTER TABLE call_records
  ADD COLUMN direction text NOT NULL DEFAULT 'outbound'
    CHECK (direction IN ('outbound', 'inbound', 'internal', 'forwarded')),
  -- FreeSWITCH: the b-leg uuid an a-leg names (bleg_uuid); the import charges the pair once.
  ADD COLUMN b_leg text NULL CHECK (b_leg ~ '^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}$');
-- Finds the a-leg that names a b-leg arriving later; Asterisk rows (no b_leg) stay out of it.
CREATE INDEX call_records_b_leg ON call_records (tenant_id, b_leg) WHERE b_leg IS NOT NULL;
