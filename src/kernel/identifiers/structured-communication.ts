/**
 * Belgian structured communication (gestructureerde mededeling / communication structurée,
 * OGM/VCS): twelve digits printed as +++ddd/dddd/ddddd+++. The last two digits are the
 * first ten mod 97, or 97 when that remainder is 0.
 */

export type StructuredCommunicationParse =
  | { ok: true; digits: string; formatted: string }
  | { ok: false; reason: 'empty' | 'wrong_length' | 'bad_characters' | 'bad_check_digits' };

const TEN_DIGITS = /^\d{10}$/;

/** Builds the structured communication for a ten-digit base (leading zeros allowed). */
export function createStructuredCommunication(base: string): string {
  if (!TEN_DIGITS.test(base)) throw new RangeError('a structured communication base has exactly ten digits');
  return formatStructuredCommunication(base + computeStructuredCheck(base));
}

/**
 * Reads what a payer or a bank statement gives back: with +++ or *** fences, slashes,
 * spaces, or bare digits. Returns the twelve digits and the canonical print form.
 */
export function parseStructuredCommunication(input: string): StructuredCommunicationParse {
  const stripped = input
    .trim()
    .replace(/^(?:\+{3}|\*{3})/, '')
    .replace(/(?:\+{3}|\*{3})$/, '');
  const digits = stripped.replace(/[\s/.-]/g, '');
  if (digits.length === 0) return { ok: false, reason: 'empty' };
  if (!/^\d+$/.test(digits)) return { ok: false, reason: 'bad_characters' };
  if (digits.length !== 12) return { ok: false, reason: 'wrong_length' };
  if (computeStructuredCheck(digits.slice(0, 10)) !== digits.slice(10))
    return { ok: false, reason: 'bad_check_digits' };
  return { ok: true, digits, formatted: formatStructuredCommunication(digits) };
}

export function isValidStructuredCommunication(input: string): boolean {
  return parseStructuredCommunication(input).ok;
}

function formatStructuredCommunication(digits: string): string {
  return `+++${digits.slice(0, 3)}/${digits.slice(3, 7)}/${digits.slice(7, 12)}+++`;
}

function computeStructuredCheck(base: string): string {
  const remainder = Number(base) % 97;
  return String(remainder === 0 ? 97 : remainder).padStart(2, '0');
}
