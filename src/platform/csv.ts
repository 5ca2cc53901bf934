import { stringify } from 'csv-stringify/sync';

/**
 * One CSV record (RFC 4180), written by csv-stringify instead of three hand-written quoters:
 * fields quoted when they hold a comma, a quote or any line break (a lone LF or CR too, which
 * csv-stringify alone quotes only when it is the record delimiter), quotes doubled, and a leading
 * = + - @ tab or CR defused with an apostrophe so a spreadsheet never runs a cell as a formula.
 * null and undefined are empty cells; other non-strings are written as JSON.
 */
export function csvRecord(values: readonly unknown[], lineEnd: '\r\n' | '\n' = '\r\n'): string {
  const cells = values.map((value) =>
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value),
  );
  return stringify([cells], {
    record_delimiter: lineEnd === '\r\n' ? 'windows' : 'unix',
    escape_formulas: true,
    quoted_match: /[\r\n]/,
  });
}

/**
 * One CSV cell exactly as csvRecord writes it (formula defused, quoted when it needs to be): for
 * writers that put most cells down as bytes and only hand the ones that need escaping here.
 */
export function csvField(value: string): string {
  return csvRecord([value], '\n').slice(0, -1);
}
