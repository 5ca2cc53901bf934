-- A cell holding a lone LF or CR is quoted too (src/platform/csv.ts now quotes any line break):
-- a spreadsheet or parser that reads LF as the end of a record would otherwise split the row.
CREATE OR REPLACE FUNCTION kluis_csv_cell(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  cell text := value;
BEGIN
  IF left(value, 1) IN ('=', '+', '-', '@', E'\t', E'\r', U&'\FF1D', U&'\FF0B', U&'\FF0D', U&'\FF20') THEN
    cell := '''' || value;
  END IF;
  IF strpos(value, '"') > 0 OR strpos(value, ',') > 0 OR strpos(value, E'\n') > 0 OR strpos(value, E'\r') > 0 THEN
    RETURN '"' || replace(cell, '"', '""') || '"';
  END IF;
  RETURN cell;
END
$$;
