-- One CSV cell exactly as src/platform/csv.ts (csv-stringify with escape_formulas) writes it, so
-- that a portability export's rows that need no decryption are written by the database itself
-- (docs/decisions/0251): a leading = + - @ tab or CR (or their full-width forms) is defused with
-- an apostrophe, and a value holding a comma, a quote or the record delimiter CRLF is quoted with
-- quotes doubled. A lone LF or CR is not quoted: that is what csv-stringify does with a CRLF
-- record delimiter, and the database must write the same bytes.
-- PL/pgSQL rather than SQL: an SQL function naming its argument more than once is not inlined for
-- a costly argument (to_char …) and then pays the SQL-function executor on every cell.
CREATE FUNCTION kluis_csv_cell(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  cell text := value;
BEGIN
  IF left(value, 1) IN ('=', '+', '-', '@', E'\t', E'\r', U&'\FF1D', U&'\FF0B', U&'\FF0D', U&'\FF20') THEN
    cell := '''' || value;
  END IF;
  IF strpos(value, '"') > 0 OR strpos(value, ',') > 0 OR strpos(value, E'\r\n') > 0 THEN
    RETURN '"' || replace(cell, '"', '""') || '"';
  END IF;
  RETURN cell;
END
$$;
