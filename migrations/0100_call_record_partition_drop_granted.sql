-- Issue 10: a whole-month drop of call records goes through the gate. The application asks the
-- gate for an erase grant over the month's callers, then drops the month only if every row of
-- it belongs to one of them. The partition is locked first, so no row can arrive between the
-- check and the drop; the check and the drop happen in the caller's transaction, with its
-- audit entries. The old unchecked function is no longer granted to the application.
CREATE FUNCTION kluis_drop_granted_call_record_partition(p_month date, p_subjects bigint[]) RETURNS bigint
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
  EXECUTE format('DROP TABLE %I', v_name);
  DELETE FROM call_record_partitions WHERE tenant_id = v_tenant AND month = p_month;
  RETURN v_rows;
END $$;

REVOKE EXECUTE ON FUNCTION kluis_drop_granted_call_record_partition(date, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kluis_drop_granted_call_record_partition(date, bigint[]) TO kluis_app;
REVOKE EXECUTE ON FUNCTION kluis_drop_call_record_partition(date) FROM kluis_app;
