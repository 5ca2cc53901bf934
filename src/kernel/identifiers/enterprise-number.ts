/**
 * Belgian enterprise number (ondernemingsnummer / numéro d'entreprise, KBO/BCE).
 * Ten digits, the first 0 or 1; the last two are a check: 97 − (first eight digits mod 97).
 */

/** A validated enterprise number as its ten digits, e.g. "0649503981". */
export type EnterpriseNumber = string & { readonly __brand: 'EnterpriseNumber' };

export type EnterpriseNumberProblem = 'format' | 'first_digit' | 'check_digits';

export type EnterpriseNumberResult =
  { ok: true; value: EnterpriseNumber } | { ok: false; problem: EnterpriseNumberProblem; message: string };

// Accepts the usual spellings: "BE0649.503.981", "0649503981", "BE 0649 503 981", "0649-503-981".
const SEPARATORS = /[\s.\-/]/g;

/** Parses any common spelling; says what is wrong instead of throwing. */
export function parseEnterpriseNumber(input: string): EnterpriseNumberResult {
  let compact = input.trim().replace(SEPARATORS, '').toUpperCase();
  if (compact.startsWith('BE')) compact = compact.slice(2);
  // Numbers issued before 2005 were written with nine digits; the leading 0 is implied.
  if (/^\d{9}$/.test(compact)) compact = `0${compact}`;
  if (!/^\d{10}$/.test(compact)) {
    return { ok: false, problem: 'format', message: 'expected 10 digits, e.g. BE0649.503.981' };
  }
  if (compact[0] !== '0' && compact[0] !== '1') {
    return { ok: false, problem: 'first_digit', message: 'the first digit must be 0 or 1' };
  }
  const base = Number(compact.slice(0, 8));
  const check = Number(compact.slice(8));
  const expected = 97 - (base % 97);
  if (check !== expected) {
    return {
      ok: false,
      problem: 'check_digits',
      message: `check digits ${compact.slice(8)} do not match (expected ${String(expected).padStart(2, '0')})`,
    };
  }
  return { ok: true, value: compact as EnterpriseNumber };
}

export function isValidEnterpriseNumber(input: string): boolean {
  return parseEnterpriseNumber(input).ok;
}

/** Formats as on official documents: "BE0649.503.981" (or without the country prefix). */
export function formatEnterpriseNumber(input: string, options: { prefix?: boolean } = {}): string {
  const parsed = parseEnterpriseNumber(input);
  if (!parsed.ok) throw new RangeError(`invalid enterprise number: ${parsed.message}`);
  const d = parsed.value;
  const dotted = `${d.slice(0, 4)}.${d.slice(4, 7)}.${d.slice(7)}`;
  return options.prefix === false ? dotted : `BE${dotted}`;
}
