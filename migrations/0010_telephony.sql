-- Telephony (VX-5, G-1): the number inventory, who held which number when, the tariff, and the
-- call records themselves, partitioned per tenant and month so retention is a partition drop.
-- docs/decisions/0010-cdr-import.md explains the choices.

-- Exclusion constraints on (tenant, number, period) need btree equality inside a GiST index.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- The provider's numbers (E.164). Porting dates say since/until when the number was ours.
-- A number alone says nothing about a person; who held it is in number_assignments.
CREATE TABLE phone_numbers (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  e164 text NOT NULL CHECK (e164 ~ '^\+[1-9][0-9]{5,14}$'),
  ported_in_at timestamptz NULL,
  ported_out_at timestamptz NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, e164),
  CHECK (ported_in_at IS NULL OR ported_out_at IS NULL OR ported_out_at > ported_in_at)
);
SELECT kluis_isolate_tenant('phone_numbers');

-- Who held a number, for [valid_from, valid_to). History is kept: a call belongs to whoever held
-- the caller's number at the call's start. Two holders of one number at once are impossible.
CREATE TABLE number_assignments (
  tenant_id integer NOT NULL,
  assignment_id bigint GENERATED ALWAYS AS IDENTITY,
  e164 text NOT NULL,
  subject_id bigint NOT NULL,
  -- The contract the number belongs to, as the contracts module names it (free reference).
  contract_ref text NULL CHECK (contract_ref ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$'),
  valid_from timestamptz NOT NULL,
  valid_to timestamptz NULL CHECK (valid_to IS NULL OR valid_to > valid_from),
  PRIMARY KEY (tenant_id, assignment_id),
  FOREIGN KEY (tenant_id, e164) REFERENCES phone_numbers (tenant_id, e164),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id),
  CONSTRAINT number_assignments_no_overlap
    EXCLUDE USING gist (tenant_id WITH =, e164 WITH =, tstzrange(valid_from, valid_to) WITH &&)
);
SELECT kluis_isolate_tenant('number_assignments');
CREATE INDEX number_assignments_subject ON number_assignments (tenant_id, subject_id);

-- The tenant's tariff: one rate per prefix and validity start; replaced as a whole on import.
CREATE TABLE tariff_rates (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  prefix text NOT NULL CHECK (prefix ~ '^[0-9]{1,15}$'),
  valid_from timestamptz NOT NULL,
  valid_to timestamptz NULL CHECK (valid_to IS NULL OR valid_to > valid_from),
  price_per_minute_micros bigint NOT NULL CHECK (price_per_minute_micros >= 0),
  minimum_seconds integer NOT NULL CHECK (minimum_seconds >= 0),
  increment_seconds integer NOT NULL CHECK (increment_seconds >= 1),
  connection_fee_micros bigint NOT NULL CHECK (connection_fee_micros >= 0),
  imported_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, prefix, valid_from)
);
SELECT kluis_isolate_tenant('tariff_rates');

-- Call records, personal data of the caller (VX-5). Range-partitioned on (tenant_id, started_at):
-- one partition per tenant and UTC month, so one tenant's expired month is dropped without
-- touching another tenant whose policy keeps records longer. The key is the switch's unique id
-- when it has one, else the parser's record hash; started_at is in it because a partitioned
-- table's unique key must hold the partition key (a record's start never changes).
CREATE TABLE call_records (
  tenant_id integer NOT NULL,
  started_at timestamptz NOT NULL,
  dedup_key text NOT NULL CHECK (length(dedup_key) BETWEEN 1 AND 200),
  subject_id bigint NOT NULL,
  caller_e164 text NOT NULL,
  -- E.164 when the dialled number is one; otherwise the digits as dialled (short codes).
  destination text NOT NULL,
  answered_at timestamptz NULL,
  ended_at timestamptz NOT NULL,
  duration_seconds integer NOT NULL CHECK (duration_seconds >= 0),
  billable_seconds integer NOT NULL CHECK (billable_seconds >= 0),
  disposition text NOT NULL CHECK (disposition IN ('answered', 'no_answer', 'busy', 'failed', 'congestion', 'unknown')),
  is_billable_leg boolean NOT NULL,
  linked_id text NULL,
  -- Micro-euros; 0 when nothing is charged; NULL when the call is chargeable but no rate matched.
  cost_micros bigint NULL CHECK (cost_micros >= 0),
  PRIMARY KEY (tenant_id, started_at, dedup_key),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
) PARTITION BY RANGE (tenant_id, started_at);
SELECT kluis_isolate_tenant('call_records');
-- Per-customer reads (itemised bills, access requests, erasure).
CREATE INDEX call_records_subject ON call_records (tenant_id, subject_id, started_at);

-- Which partitions exist, per tenant and month. Written only by the functions below.
CREATE TABLE call_record_partitions (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  month date NOT NULL CHECK (extract(day FROM month) = 1),
  partition_name text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, month)
);
SELECT kluis_isolate_tenant('call_record_partitions');
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON call_record_partitions FROM kluis_app;

-- The app role owns nothing and may not run DDL. These two functions run as the schema owner and
-- do exactly one thing each, for the tenant of the calling transaction only.
CREATE FUNCTION kluis_ensure_call_record_partition(p_month date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_tenant integer := current_setting('app.tenant')::integer;
  v_month date := date_trunc('month', p_month)::date;
  v_name text := format('call_records_t%s_%s', v_tenant, to_char(v_month, 'YYYY_MM'));
BEGIN
  IF EXISTS (SELECT 1 FROM call_record_partitions WHERE tenant_id = v_tenant AND month = v_month) THEN
    RETURN v_name;
  END IF;
  -- Two importers of one tenant may both find the month missing: the second waits, then sees it.
  PERFORM pg_advisory_xact_lock(hashtextextended('kluis.call_record_partition', v_tenant));
  IF EXISTS (SELECT 1 FROM call_record_partitions WHERE tenant_id = v_tenant AND month = v_month) THEN
    RETURN v_name;
  END IF;
  EXECUTE format(
    'CREATE TABLE %I PARTITION OF call_records FOR VALUES FROM (%s, %L) TO (%s, %L)',
    v_name, v_tenant, to_char(v_month, 'YYYY-MM-DD') || ' 00:00:00+00',
    v_tenant, to_char((v_month + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
  -- Only through the parent, where row-level security applies: never the partition directly.
  EXECUTE format('REVOKE ALL ON %I FROM kluis_app', v_name);
  INSERT INTO call_record_partitions (tenant_id, month, partition_name) VALUES (v_tenant, v_month, v_name);
  RETURN v_name;
END $$;

-- Drops one expired month of the calling tenant; returns how many call records went with it.
CREATE FUNCTION kluis_drop_call_record_partition(p_month date) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_tenant integer := current_setting('app.tenant')::integer;
  v_name text;
  v_rows bigint;
BEGIN
  SELECT partition_name INTO v_name FROM call_record_partitions WHERE tenant_id = v_tenant AND month = p_month;
  IF v_name IS NULL THEN
    RETURN 0;
  END IF;
  EXECUTE format('SELECT count(*) FROM %I', v_name) INTO v_rows;
  EXECUTE format('DROP TABLE %I', v_name);
  DELETE FROM call_record_partitions WHERE tenant_id = v_tenant AND month = p_month;
  RETURN v_rows;
END $$;

REVOKE EXECUTE ON FUNCTION kluis_ensure_call_record_partition(date) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kluis_drop_call_record_partition(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kluis_ensure_call_record_partition(date) TO kluis_app;
GRANT EXECUTE ON FUNCTION kluis_drop_call_record_partition(date) TO kluis_app;
