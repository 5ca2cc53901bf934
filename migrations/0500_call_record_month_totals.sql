-- Per-customer monthly call totals kept with the calls (docs/decisions/0500, issue 21). The
-- invoice run read the month's call records twice (who to bill, then each customer's sums); it
-- now reads these totals. They are kept exact in the transaction that changes the calls, by
-- statement-level triggers on call_records with transition tables: one aggregate upsert per
-- statement, whatever path wrote the calls (import, rating, rerate, erasure, retention).
--
-- One row per customer, Belgian calendar month (the billing month) and destination head (the
-- destination's first 8 characters: what the tariff's destination groups look at, up to a
-- 7-digit prefix). Counts and sums only; a row whose calls are all gone is deleted.
CREATE TABLE call_record_month_totals (
  tenant_id integer NOT NULL,
  subject_id bigint NOT NULL,
  -- First day of the month in Europe/Brussels.
  month date NOT NULL CHECK (extract(day FROM month) = 1),
  head text NOT NULL CHECK (char_length(head) <= 8 AND head !~ '[[:space:][:cntrl:]]'),
  -- Every call record.
  calls integer NOT NULL CHECK (calls >= 0),
  -- Chargeable: answered, on the billable leg, with billable seconds (whatever it costs).
  chargeable_calls integer NOT NULL CHECK (chargeable_calls >= 0),
  chargeable_seconds bigint NOT NULL CHECK (chargeable_seconds >= 0),
  chargeable_cost_micros bigint NOT NULL CHECK (chargeable_cost_micros >= 0),
  chargeable_unrated integer NOT NULL CHECK (chargeable_unrated >= 0),
  -- Charged: the calls that cost something.
  charged_calls integer NOT NULL CHECK (charged_calls >= 0),
  charged_seconds bigint NOT NULL CHECK (charged_seconds >= 0),
  charged_cost_micros bigint NOT NULL CHECK (charged_cost_micros >= 0),
  -- On the billable leg with billable seconds and no rate (any disposition): the run's check.
  unrated integer NOT NULL CHECK (unrated >= 0),
  PRIMARY KEY (tenant_id, month, subject_id, head),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('call_record_month_totals');
ALTER TABLE call_record_month_totals FORCE ROW LEVEL SECURITY;
-- Written only by the triggers below (as the owner); the application reads them and an erasure
-- deletes a person's rows.
REVOKE INSERT, UPDATE, TRUNCATE ON call_record_month_totals FROM kluis_app;
CREATE INDEX call_record_month_totals_subject ON call_record_month_totals (tenant_id, subject_id, month);

-- What a statement changed, per (tenant, customer, month, head): +1 per new row, -1 per old row,
-- with the same conditions as the invoice run's former reads of call_records (decision 0420).
-- Inserts (imports) add; updates (rating, rerating, a call moved to another leg) add the
-- difference, which may create a row; deletes (erasure, retention) lower the existing rows.
-- Totals left with no calls are deleted.
CREATE FUNCTION kluis_call_totals_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  WITH changed AS (
    SELECT r.tenant_id, r.subject_id,
           date_trunc('month', r.started_at AT TIME ZONE 'Europe/Brussels')::date AS month,
           left(r.destination, 8) AS head, 1 AS sign,
           (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered') AS chargeable,
           (r.is_billable_leg AND r.billable_seconds > 0 AND r.cost_micros IS NULL) AS unrated,
           r.billable_seconds::bigint AS billable_seconds, r.cost_micros
      FROM new_rows r
  ), delta AS (
    SELECT tenant_id, subject_id, month, head,
           sum(sign)::integer AS calls,
           coalesce(sum(sign) FILTER (WHERE chargeable), 0)::integer AS chargeable_calls,
           coalesce(sum(sign * billable_seconds) FILTER (WHERE chargeable), 0)::bigint AS chargeable_seconds,
           coalesce(sum(sign * cost_micros) FILTER (WHERE chargeable), 0)::bigint AS chargeable_cost_micros,
           coalesce(sum(sign) FILTER (WHERE chargeable AND cost_micros IS NULL), 0)::integer AS chargeable_unrated,
           coalesce(sum(sign) FILTER (WHERE cost_micros > 0), 0)::integer AS charged_calls,
           coalesce(sum(sign * billable_seconds) FILTER (WHERE cost_micros > 0), 0)::bigint AS charged_seconds,
           coalesce(sum(sign * cost_micros) FILTER (WHERE cost_micros > 0), 0)::bigint AS charged_cost_micros,
           coalesce(sum(sign) FILTER (WHERE unrated), 0)::integer AS unrated
      FROM changed
     GROUP BY 1, 2, 3, 4
  ), nonzero AS (
    SELECT * FROM delta
     WHERE (calls, chargeable_calls, chargeable_seconds, chargeable_cost_micros, chargeable_unrated, charged_calls,
            charged_seconds, charged_cost_micros, unrated) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
     -- Concurrent statements touching the same totals take their row locks in the same order.
     ORDER BY tenant_id, month, subject_id, head
  )
    INSERT INTO call_record_month_totals AS t
      (tenant_id, subject_id, month, head, calls, chargeable_calls, chargeable_seconds, chargeable_cost_micros,
       chargeable_unrated, charged_calls, charged_seconds, charged_cost_micros, unrated)
    SELECT * FROM nonzero
    ON CONFLICT (tenant_id, month, subject_id, head) DO UPDATE SET
      calls = t.calls + excluded.calls,
      chargeable_calls = t.chargeable_calls + excluded.chargeable_calls,
      chargeable_seconds = t.chargeable_seconds + excluded.chargeable_seconds,
      chargeable_cost_micros = t.chargeable_cost_micros + excluded.chargeable_cost_micros,
      chargeable_unrated = t.chargeable_unrated + excluded.chargeable_unrated,
      charged_calls = t.charged_calls + excluded.charged_calls,
      charged_seconds = t.charged_seconds + excluded.charged_seconds,
      charged_cost_micros = t.charged_cost_micros + excluded.charged_cost_micros,
      unrated = t.unrated + excluded.unrated;
  RETURN NULL;
END $$;

CREATE FUNCTION kluis_call_totals_after_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_tenant integer[];
  v_month date[];
  v_subject bigint[];
  v_head text[];
BEGIN
  WITH changed AS (
    SELECT r.tenant_id, r.subject_id,
           date_trunc('month', r.started_at AT TIME ZONE 'Europe/Brussels')::date AS month,
           left(r.destination, 8) AS head, 1 AS sign,
           (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered') AS chargeable,
           (r.is_billable_leg AND r.billable_seconds > 0 AND r.cost_micros IS NULL) AS unrated,
           r.billable_seconds::bigint AS billable_seconds, r.cost_micros
      FROM new_rows r
    UNION ALL
    SELECT r.tenant_id, r.subject_id,
           date_trunc('month', r.started_at AT TIME ZONE 'Europe/Brussels')::date AS month,
           left(r.destination, 8) AS head, -1 AS sign,
           (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered') AS chargeable,
           (r.is_billable_leg AND r.billable_seconds > 0 AND r.cost_micros IS NULL) AS unrated,
           r.billable_seconds::bigint AS billable_seconds, r.cost_micros
      FROM old_rows r
  ), delta AS (
    SELECT tenant_id, subject_id, month, head,
           sum(sign)::integer AS calls,
           coalesce(sum(sign) FILTER (WHERE chargeable), 0)::integer AS chargeable_calls,
           coalesce(sum(sign * billable_seconds) FILTER (WHERE chargeable), 0)::bigint AS chargeable_seconds,
           coalesce(sum(sign * cost_micros) FILTER (WHERE chargeable), 0)::bigint AS chargeable_cost_micros,
           coalesce(sum(sign) FILTER (WHERE chargeable AND cost_micros IS NULL), 0)::integer AS chargeable_unrated,
           coalesce(sum(sign) FILTER (WHERE cost_micros > 0), 0)::integer AS charged_calls,
           coalesce(sum(sign * billable_seconds) FILTER (WHERE cost_micros > 0), 0)::bigint AS charged_seconds,
           coalesce(sum(sign * cost_micros) FILTER (WHERE cost_micros > 0), 0)::bigint AS charged_cost_micros,
           coalesce(sum(sign) FILTER (WHERE unrated), 0)::integer AS unrated
      FROM changed
     GROUP BY 1, 2, 3, 4
  ), nonzero AS (
    SELECT * FROM delta
     WHERE (calls, chargeable_calls, chargeable_seconds, chargeable_cost_micros, chargeable_unrated, charged_calls,
            charged_seconds, charged_cost_micros, unrated) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
     -- Concurrent statements touching the same totals take their row locks in the same order.
     ORDER BY tenant_id, month, subject_id, head
  ), lowered AS (
    -- Existing totals take the difference, whatever its sign (a check of the proposed row would
    -- refuse a negative difference before an upsert could add it to the row).
    UPDATE call_record_month_totals t SET
      calls = t.calls + d.calls,
      chargeable_calls = t.chargeable_calls + d.chargeable_calls,
      chargeable_seconds = t.chargeable_seconds + d.chargeable_seconds,
      chargeable_cost_micros = t.chargeable_cost_micros + d.chargeable_cost_micros,
      chargeable_unrated = t.chargeable_unrated + d.chargeable_unrated,
      charged_calls = t.charged_calls + d.charged_calls,
      charged_seconds = t.charged_seconds + d.charged_seconds,
      charged_cost_micros = t.charged_cost_micros + d.charged_cost_micros,
      unrated = t.unrated + d.unrated
      FROM nonzero d
     WHERE t.tenant_id = d.tenant_id AND t.month = d.month AND t.subject_id = d.subject_id AND t.head = d.head
    RETURNING t.tenant_id, t.month, t.subject_id, t.head, t.calls
  ), added AS (
    -- A call moved to a customer, month or head without totals yet: only additions.
    INSERT INTO call_record_month_totals AS t
      (tenant_id, subject_id, month, head, calls, chargeable_calls, chargeable_seconds, chargeable_cost_micros,
       chargeable_unrated, charged_calls, charged_seconds, charged_cost_micros, unrated)
    SELECT d.* FROM nonzero d
     WHERE NOT EXISTS (SELECT 1 FROM call_record_month_totals e
                        WHERE e.tenant_id = d.tenant_id AND e.month = d.month AND e.subject_id = d.subject_id
                          AND e.head = d.head)
    ON CONFLICT (tenant_id, month, subject_id, head) DO UPDATE SET
      calls = t.calls + excluded.calls,
      chargeable_calls = t.chargeable_calls + excluded.chargeable_calls,
      chargeable_seconds = t.chargeable_seconds + excluded.chargeable_seconds,
      chargeable_cost_micros = t.chargeable_cost_micros + excluded.chargeable_cost_micros,
      chargeable_unrated = t.chargeable_unrated + excluded.chargeable_unrated,
      charged_calls = t.charged_calls + excluded.charged_calls,
      charged_seconds = t.charged_seconds + excluded.charged_seconds,
      charged_cost_micros = t.charged_cost_micros + excluded.charged_cost_micros,
      unrated = t.unrated + excluded.unrated
    RETURNING t.tenant_id, t.month, t.subject_id, t.head, t.calls
  ), applied AS (
    SELECT * FROM lowered UNION ALL SELECT * FROM added
  )
  SELECT array_agg(tenant_id), array_agg(month), array_agg(subject_id), array_agg(head)
    INTO v_tenant, v_month, v_subject, v_head
    FROM applied WHERE calls = 0;
  IF v_tenant IS NOT NULL THEN
    DELETE FROM call_record_month_totals t
     USING unnest(v_tenant, v_month, v_subject, v_head) AS e(tenant_id, month, subject_id, head)
     WHERE t.tenant_id = e.tenant_id AND t.month = e.month AND t.subject_id = e.subject_id AND t.head = e.head
       AND t.calls = 0;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION kluis_call_totals_after_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_tenant integer[];
  v_month date[];
  v_subject bigint[];
  v_head text[];
BEGIN
  WITH changed AS (
    SELECT r.tenant_id, r.subject_id,
           date_trunc('month', r.started_at AT TIME ZONE 'Europe/Brussels')::date AS month,
           left(r.destination, 8) AS head, -1 AS sign,
           (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered') AS chargeable,
           (r.is_billable_leg AND r.billable_seconds > 0 AND r.cost_micros IS NULL) AS unrated,
           r.billable_seconds::bigint AS billable_seconds, r.cost_micros
      FROM old_rows r
  ), delta AS (
    SELECT tenant_id, subject_id, month, head,
           sum(sign)::integer AS calls,
           coalesce(sum(sign) FILTER (WHERE chargeable), 0)::integer AS chargeable_calls,
           coalesce(sum(sign * billable_seconds) FILTER (WHERE chargeable), 0)::bigint AS chargeable_seconds,
           coalesce(sum(sign * cost_micros) FILTER (WHERE chargeable), 0)::bigint AS chargeable_cost_micros,
           coalesce(sum(sign) FILTER (WHERE chargeable AND cost_micros IS NULL), 0)::integer AS chargeable_unrated,
           coalesce(sum(sign) FILTER (WHERE cost_micros > 0), 0)::integer AS charged_calls,
           coalesce(sum(sign * billable_seconds) FILTER (WHERE cost_micros > 0), 0)::bigint AS charged_seconds,
           coalesce(sum(sign * cost_micros) FILTER (WHERE cost_micros > 0), 0)::bigint AS charged_cost_micros,
           coalesce(sum(sign) FILTER (WHERE unrated), 0)::integer AS unrated
      FROM changed
     GROUP BY 1, 2, 3, 4
  ), nonzero AS (
    SELECT * FROM delta
     WHERE (calls, chargeable_calls, chargeable_seconds, chargeable_cost_micros, chargeable_unrated, charged_calls,
            charged_seconds, charged_cost_micros, unrated) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
     -- Concurrent statements touching the same totals take their row locks in the same order.
     ORDER BY tenant_id, month, subject_id, head
  ), applied AS (
    UPDATE call_record_month_totals t SET
      calls = t.calls + d.calls,
      chargeable_calls = t.chargeable_calls + d.chargeable_calls,
      chargeable_seconds = t.chargeable_seconds + d.chargeable_seconds,
      chargeable_cost_micros = t.chargeable_cost_micros + d.chargeable_cost_micros,
      chargeable_unrated = t.chargeable_unrated + d.chargeable_unrated,
      charged_calls = t.charged_calls + d.charged_calls,
      charged_seconds = t.charged_seconds + d.charged_seconds,
      charged_cost_micros = t.charged_cost_micros + d.charged_cost_micros,
      unrated = t.unrated + d.unrated
      FROM nonzero d
     WHERE t.tenant_id = d.tenant_id AND t.month = d.month AND t.subject_id = d.subject_id AND t.head = d.head
    RETURNING t.tenant_id, t.month, t.subject_id, t.head, t.calls
  )
  SELECT array_agg(tenant_id), array_agg(month), array_agg(subject_id), array_agg(head)
    INTO v_tenant, v_month, v_subject, v_head
    FROM applied WHERE calls = 0;
  IF v_tenant IS NOT NULL THEN
    DELETE FROM call_record_month_totals t
     USING unnest(v_tenant, v_month, v_subject, v_head) AS e(tenant_id, month, subject_id, head)
     WHERE t.tenant_id = e.tenant_id AND t.month = e.month AND t.subject_id = e.subject_id AND t.head = e.head
       AND t.calls = 0;
  END IF;
  RETURN NULL;
END $$;

REVOKE EXECUTE ON FUNCTION kluis_call_totals_after_insert() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kluis_call_totals_after_update() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kluis_call_totals_after_delete() FROM PUBLIC;

CREATE TRIGGER call_record_month_totals_insert AFTER INSERT ON call_records
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kluis_call_totals_after_insert();
CREATE TRIGGER call_record_month_totals_update AFTER UPDATE ON call_records
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION kluis_call_totals_after_update();
CREATE TRIGGER call_record_month_totals_delete AFTER DELETE ON call_records
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kluis_call_totals_after_delete();

-- The totals of the calls already stored.
INSERT INTO call_record_month_totals
  (tenant_id, subject_id, month, head, calls, chargeable_calls, chargeable_seconds, chargeable_cost_micros,
       chargeable_unrated, charged_calls, charged_seconds, charged_cost_micros, unrated)
SELECT r.tenant_id, r.subject_id, date_trunc('month', r.started_at AT TIME ZONE 'Europe/Brussels')::date,
       left(r.destination, 8), count(*),
       count(*) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered')),
       coalesce(sum(r.billable_seconds) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered')), 0),
       coalesce(sum(r.cost_micros) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered')), 0),
       count(*) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered') AND r.cost_micros IS NULL),
       count(*) FILTER (WHERE r.cost_micros > 0),
       coalesce(sum(r.billable_seconds) FILTER (WHERE r.cost_micros > 0), 0),
       coalesce(sum(r.cost_micros) FILTER (WHERE r.cost_micros > 0), 0),
       count(*) FILTER (WHERE r.is_billable_leg AND r.billable_seconds > 0 AND r.cost_micros IS NULL)
  FROM call_records r
 GROUP BY 1, 2, 3, 4;

-- A whole month dropped by retention (decision 0100) fires no delete trigger: the same function,
-- which now takes the partition's calls off the totals before it drops them. A partition holds a
-- UTC month, so it touches the end of one Belgian month and most of the next.
CREATE OR REPLACE FUNCTION kluis_drop_granted_call_record_partition(p_month date, p_subjects bigint[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_tenant integer := current_setting('app.tenant')::integer;
  v_name text;
  v_rows bigint;
  v_outside boolean;
BEGIN
  SELECT partition_name INTO v_name FROM call_record_partitions WHERE tenant_id = v_tenant AND month = p_month;
  IF v_name IS NULL THEN
    RETURN 0;
  END IF;
  EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', v_name);
  EXECUTE format(
    'SELECT EXISTS (SELECT 1 FROM %I c LEFT JOIN unnest($1) AS s(id) ON s.id = c.subject_id WHERE s.id IS NULL)',
    v_name)
    INTO v_outside USING p_subjects;
  IF v_outside THEN
    RAISE EXCEPTION 'call records of % belong to subjects the grant does not name', p_month
      USING ERRCODE = '42501';
  END IF;
  EXECUTE format('SELECT count(*) FROM %I', v_name) INTO v_rows;
  -- The partition's calls off the totals (it is locked: nothing changes it meanwhile); a DROP
  -- fires no delete trigger, and reading the month costs less than deleting it row by row.
  EXECUTE format($sql$
    WITH delta AS (
      SELECT r.tenant_id, r.subject_id, date_trunc('month', r.started_at AT TIME ZONE 'Europe/Brussels')::date AS month,
             left(r.destination, 8) AS head, count(*)::integer AS calls,
             count(*) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered'))::integer AS chargeable_calls,
             coalesce(sum(r.billable_seconds) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered')), 0)::bigint AS chargeable_seconds,
             coalesce(sum(r.cost_micros) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered')), 0)::bigint AS chargeable_cost_micros,
             count(*) FILTER (WHERE (r.is_billable_leg AND r.billable_seconds > 0 AND r.disposition = 'answered') AND r.cost_micros IS NULL)::integer AS chargeable_unrated,
             count(*) FILTER (WHERE r.cost_micros > 0)::integer AS charged_calls,
             coalesce(sum(r.billable_seconds) FILTER (WHERE r.cost_micros > 0), 0)::bigint AS charged_seconds,
             coalesce(sum(r.cost_micros) FILTER (WHERE r.cost_micros > 0), 0)::bigint AS charged_cost_micros,
             count(*) FILTER (WHERE r.is_billable_leg AND r.billable_seconds > 0 AND r.cost_micros IS NULL)::integer
               AS unrated
        FROM %I r
       GROUP BY 1, 2, 3, 4
    )
    UPDATE call_record_month_totals t SET
      calls = t.calls - d.calls,
      chargeable_calls = t.chargeable_calls - d.chargeable_calls,
      chargeable_seconds = t.chargeable_seconds - d.chargeable_seconds,
      chargeable_cost_micros = t.chargeable_cost_micros - d.chargeable_cost_micros,
      chargeable_unrated = t.chargeable_unrated - d.chargeable_unrated,
      charged_calls = t.charged_calls - d.charged_calls,
      charged_seconds = t.charged_seconds - d.charged_seconds,
      charged_cost_micros = t.charged_cost_micros - d.charged_cost_micros,
      unrated = t.unrated - d.unrated
      FROM delta d
     WHERE t.tenant_id = d.tenant_id AND t.month = d.month AND t.subject_id = d.subject_id AND t.head = d.head
  $sql$, v_name);
  -- A UTC month holds calls of two Belgian months: the end of this one, the first hours of the next.
  DELETE FROM call_record_month_totals
   WHERE tenant_id = v_tenant AND month IN (p_month, (p_month + interval '1 month')::date) AND calls = 0;
  EXECUTE format('DROP TABLE %I', v_name);
  DELETE FROM call_record_partitions WHERE tenant_id = v_tenant AND month = p_month;
  RETURN v_rows;
END $$;
