/**
 * Phone numbers to E.164.
 *
 * Uses libphonenumber-js with its `max` metadata: `min` only checks lengths, so it would
 * accept numbers in ranges no operator has (a Belgian "0412 34 56 78"); `max` checks the
 * national numbering plan. The extra metadata (~150 kB) costs nothing on a server, and a
 * number inventory and CDR attribution need real validity, not a plausible length.
 */
import { ParseError, parsePhoneNumberWithError } from 'libphonenumber-js/max';
import type { CountryCode, NumberType } from 'libphonenumber-js/max';

export type PhoneNormalisationFailure =
  'empty' | 'not_a_number' | 'invalid_country' | 'too_short' | 'too_long' | 'invalid';

export type PhoneNormalisation =
  | { ok: true; e164: string; country: CountryCode | null; type: NumberType }
  | { ok: false; reason: PhoneNormalisationFailure };

export interface NormalisePhoneOptions {
  /** ISO 3166-1 alpha-2 country for numbers written in national form; the tenant's country. */
  defaultCountry: CountryCode;
}

const PARSE_ERROR_REASONS: Readonly<Record<string, PhoneNormalisationFailure>> = {
  INVALID_COUNTRY: 'invalid_country',
  NOT_A_NUMBER: 'not_a_number',
  TOO_SHORT: 'too_short',
  TOO_LONG: 'too_long',
  INVALID_LENGTH: 'invalid',
};

/**
 * Normalises a phone number written in national or international form ("0470 12 34 56",
 * "+32 470 12 34 56", "0032470123456") to E.164. Never throws.
 */
export function normalisePhoneNumber(input: string, options: NormalisePhoneOptions): PhoneNormalisation {
  if (input.trim().length === 0) return { ok: false, reason: 'empty' };
  try {
    const phone = parsePhoneNumberWithError(input, { defaultCountry: options.defaultCountry });
    if (!phone.isValid()) return { ok: false, reason: 'invalid' };
    return { ok: true, e164: phone.number, country: phone.country ?? null, type: phone.getType() };
  } catch (error) {
    if (error instanceof ParseError)
      return { ok: false, reason: PARSE_ERROR_REASONS[error.message] ?? 'invalid' };
    return { ok: false, reason: 'invalid' };
  }
}

/** E.164 without the plus: the digit string tariff prefixes are matched against. */
export function toE164Digits(e164: string): string {
  return e164.startsWith('+') ? e164.slice(1) : e164;
}
