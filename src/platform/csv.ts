import { stringify } from 'csv-stringify/sync';

/** What a spreadsheet may run as a formula: a leading = + - @, tab or CR (or a full-width = + - @). */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * A signed number (`+3256223345`, `-12.50`): a spreadsheet reads it as a number, never a formula
 * that calls anything, so it is written as it is (a phone number keeps its '+'; attack S18-5).
 */
export const SIGNED_NUMBER = /^[+-]\d+(?:\.\d+)?$/;

/** A cell's text with a formula start defused by an apostrophe; a signed number is left as it is. */
export function defusedFormula(text: string): string {
  return FORMULA_START.test(text) && !SIGNED_NUMBER.test(text) ? `'${text}` : text;
}

/**
 * One CSV record (RFC 4180), written by csv-stringify instead of three hand-written quoters:
 * fields quoted when they hold a comma, a quote or any line break (a lone LF or CR too, which
 * csv-stringify alone quotes only when it is the record delimiter), quotes doubled, and a leading
 * = + - @ tab or CR defused with an apostrophe so a spreadsheet never runs a cell as a formula —
 * except a signed number, which no spreadsheet runs and a machine must get exactly (decision 0870).
 * null and undefined are empty cells; other non-strings are written as JSON.
 */
export function csvRecord(values: readonly unknown[], lineEnd: '\r\n' | '\n' = '\r\n'): string {
  const cells = values.map((value) =>
    value === null || value === undefined
      ? ''
      : defusedFormula(typeof value === 'string' ? value : JSON.stringify(value)),
  );
  return stringify([cells], {
    record_delimiter: lineEnd === '\r\n' ? 'windows' : 'unix',
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
