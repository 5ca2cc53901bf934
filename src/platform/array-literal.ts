/** An element of an array parameter: what the run's array inserts send (decision 0720). */
export type ArrayElement = string | number | bigint | boolean | null | undefined;

const NEEDS_ESCAPE = /["\\]/;

/**
 * A JS array as PostgreSQL's text form of an array (`{1,2,NULL}`, `{"a","b \"c\""}`), for a
 * parameter cast to the column's array type (`$1::bigint[]`). The server reads what pg's own
 * conversion of an array parameter sends, built with one join instead of a concatenation per
 * element: a 5,000-row insert of 40 columns sends 200,000 elements (decision 0720). Strings are
 * always quoted (so 'NULL' stays a string); numbers, bigints and booleans need no quotes.
 */
export function arrayLiteral(values: readonly ArrayElement[]): string {
  return `{${values.map(elementOf).join(',')}}`;
}

function elementOf(value: ArrayElement): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value !== 'string') return String(value);
  return NEEDS_ESCAPE.test(value) ? `"${value.replace(/["\\]/g, '\\$&')}"` : `"${value}"`;
}
