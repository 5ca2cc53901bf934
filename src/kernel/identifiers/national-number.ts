/**
 * Belgian national register number (rijksregisternummer / numéro de registre national):
 * YYMMDD-SSS-CC. The check digits are 97 − (first nine digits mod 97); for people born
 * in 2000 or later the same is computed over "2" followed by the first nine digits.
 * Bis numbers (people not in the register) add 20 or 40 to the month and use the same check.
 */

export interface NationalNumberMatch {
  /** The eleven digits, separators removed. */
  digits: string;
  start: number;
  end: number;
}

export type NationalNumberCentury = 1900 | 2000;

const ELEVEN_DIGITS = /^\d{11}$/;

// Separators people actually type: dots, a dash, spaces. Lookarounds keep the match from
// being a slice of a longer number (a card, an IBAN's digits, a phone number).
const NATIONAL_NUMBER_IN_TEXT =
  /(?<!\d)(?<![\d][ .-])(\d{2})[. ]?(\d{2})[. ]?(\d{2})[-. ]?(\d{3})[-. ]?(\d{2})(?![ .-]?\d)/g;

/** Strips the usual separators; returns null when what is left is not eleven digits. */
export function normaliseNationalNumber(input: string): string | null {
  const digits = input.replace(/[\s.-]/g, '');
  return ELEVEN_DIGITS.test(digits) ? digits : null;
}

/**
 * Which century the check digits point to, or null when they match neither.
 * Expects exactly eleven digits.
 */
export function findNationalNumberCentury(digits: string): NationalNumberCentury | null {
  if (!ELEVEN_DIGITS.test(digits)) return null;
  const base = Number(digits.slice(0, 9));
  const check = Number(digits.slice(9));
  if (computeCheck(base) === check) return 1900;
  if (computeCheck(2_000_000_000 + base) === check) return 2000;
  return null;
}

/** True when the input (with or without separators) is a national register number with valid check digits and a plausible date part. */
export function isValidNationalNumber(input: string): boolean {
  const digits = normaliseNationalNumber(input);
  if (digits === null) return false;
  return hasPlausibleDatePart(digits) && findNationalNumberCentury(digits) !== null;
}

/** Finds national register numbers in free text; only candidates with valid check digits are returned. */
export function findNationalNumbers(text: string): NationalNumberMatch[] {
  const matches: NationalNumberMatch[] = [];
  for (const match of text.matchAll(NATIONAL_NUMBER_IN_TEXT)) {
    const digits = match.slice(1, 6).join('');
    if (!hasPlausibleDatePart(digits)) continue;
    if (findNationalNumberCentury(digits) === null) continue;
    matches.push({ digits, start: match.index, end: match.index + match[0].length });
  }
  return matches;
}

/** Formats eleven digits as YY.MM.DD-SSS.CC, the way the eID card prints them. */
export function formatNationalNumber(digits: string): string {
  return `${digits.slice(0, 2)}.${digits.slice(2, 4)}.${digits.slice(4, 6)}-${digits.slice(6, 9)}.${digits.slice(9, 11)}`;
}

function computeCheck(base: number): number {
  return 97 - (base % 97);
}

// Month 0 / day 0 occur when the birth date is unknown; bis numbers add 20 or 40 to the month.
// Rejecting other months keeps random eleven-digit strings (order numbers…) out of the findings.
function hasPlausibleDatePart(digits: string): boolean {
  const month = Number(digits.slice(2, 4)) % 20;
  const monthOffset = Number(digits.slice(2, 4)) - month;
  const day = Number(digits.slice(4, 6));
  if (monthOffset > 40) return false;
  return month <= 12 && day <= 31;
}
