/**
 * IBAN (ISO 13616): two letters of country, two check digits, a country-specific BBAN.
 * Valid when the length fits the country and the mod-97 of the rearranged number is 1.
 * Belgian IBANs also carry the national account check (first ten digits mod 97).
 */

export type IbanValidation =
  | { ok: true; iban: string; country: string }
  | {
      ok: false;
      reason: 'empty' | 'bad_characters' | 'unknown_country' | 'wrong_length' | 'bad_check_digits';
    };

export interface IbanMatch {
  /** Electronic form: upper case, no spaces. */
  iban: string;
  start: number;
  end: number;
}

/**
 * Total IBAN length per country. Every EU/EEA country, Switzerland and the United Kingdom,
 * plus the European micro-states and the other registry members customers are likely to
 * pay from. A country missing here is refused rather than guessed.
 */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  CH: 21,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PL: 28,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  XK: 20,
};

const ALPHANUMERIC = /^[A-Z0-9]+$/;
const IBAN_START_IN_TEXT = /(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})/g;

/** Upper case, spaces and dashes removed. Does not validate. */
export function normaliseIban(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

/** Validates an IBAN typed in any usual way ("be68 5390 0754 7034", "BE68539007547034"). */
export function validateIban(input: string): IbanValidation {
  const iban = normaliseIban(input);
  if (iban.length === 0) return { ok: false, reason: 'empty' };
  if (!ALPHANUMERIC.test(iban) || !/^[A-Z]{2}\d{2}/.test(iban))
    return { ok: false, reason: 'bad_characters' };
  const country = iban.slice(0, 2);
  const expectedLength = IBAN_LENGTHS[country];
  if (expectedLength === undefined) return { ok: false, reason: 'unknown_country' };
  if (iban.length !== expectedLength) return { ok: false, reason: 'wrong_length' };
  if (computeIbanRemainder(iban) !== 1) return { ok: false, reason: 'bad_check_digits' };
  if (country === 'BE' && !hasValidBelgianAccountCheck(iban.slice(4)))
    return { ok: false, reason: 'bad_check_digits' };
  return { ok: true, iban, country };
}

export function isValidIban(input: string): boolean {
  return validateIban(input).ok;
}

/** Print form: groups of four separated by a space ("BE68 5390 0754 7034"). */
export function formatIban(input: string): string {
  return normaliseIban(input).replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * The form an IBAN is kept in on a document that outlives the person's erasure (an invoice under
 * the accounting hold, docs/decisions/0066): country code and last four characters, the rest
 * starred ("BE**********7034"; printed "BE** **** **** 7034"). It names the account to its
 * holder without being usable by anyone else, and needs no key.
 */
export function maskIban(input: string): string {
  const iban = normaliseIban(input);
  if (iban.length <= 6) return '*'.repeat(iban.length);
  return `${iban.slice(0, 2)}${'*'.repeat(iban.length - 6)}${iban.slice(-4)}`;
}

/** True for the masked form maskIban returns (never a usable IBAN). */
export const MASKED_IBAN = /^[A-Z]{2}\*+[0-9A-Z]{4}$/;

/**
 * Finds valid IBANs in free text, written with or without single spaces between
 * characters, in either case. Only candidates that pass the full validation are returned.
 */
export function findIbans(text: string): IbanMatch[] {
  const matches: IbanMatch[] = [];
  let searchFrom = 0;
  for (const start of text.matchAll(IBAN_START_IN_TEXT)) {
    if (start.index < searchFrom) continue;
    const expectedLength = IBAN_LENGTHS[(start[1] ?? '').toUpperCase()];
    if (expectedLength === undefined) continue;
    const end = findCandidateEnd(text, start.index + start[0].length, expectedLength - 4);
    if (end === null) continue;
    const validation = validateIban(text.slice(start.index, end));
    if (!validation.ok) continue;
    matches.push({ iban: validation.iban, start: start.index, end });
    searchFrom = end;
  }
  return matches;
}

// Reads exactly `wanted` alphanumerics after the check digits, allowing one space between
// characters, and requires that the candidate is not glued to a longer word.
function findCandidateEnd(text: string, from: number, wanted: number): number | null {
  let position = from;
  let taken = 0;
  while (taken < wanted) {
    if (text[position] === ' ' && isAlphanumeric(text[position + 1])) position += 1;
    if (!isAlphanumeric(text[position])) return null;
    position += 1;
    taken += 1;
  }
  return isAlphanumeric(text[position]) ? null : position;
}

function isAlphanumeric(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9]/.test(char);
}

// Moves the first four characters to the end and reads letters as 10..35, taking the
// remainder chunk by chunk so the number never exceeds a double's exact range.
function computeIbanRemainder(iban: string): number {
  return mod97(iban.slice(4) + iban.slice(0, 4));
}

/** ISO 7064 MOD 97-10 of an upper-case alphanumeric text, letters counted as 10 (A) to 35 (Z). */
export function mod97(text: string): number {
  let remainder = 0;
  for (const char of text) {
    const value = char >= 'A' ? char.charCodeAt(0) - 55 : char.charCodeAt(0) - 48;
    remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97;
  }
  return remainder;
}

function hasValidBelgianAccountCheck(bban: string): boolean {
  if (!/^\d{12}$/.test(bban)) return false;
  const remainder = Number(bban.slice(0, 10)) % 97;
  return (remainder === 0 ? 97 : remainder) === Number(bban.slice(10));
}
