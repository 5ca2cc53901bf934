import { mod97 } from './iban.js';

export type CreditorIdValidation =
  { ok: true; creditorId: string } | { ok: false; reason: 'bad_format' | 'bad_check_digits' };

/**
 * A SEPA creditor identifier (EPC262-08), e.g. BE69ZZZ050D000000008: country, two check digits,
 * a three-character business code the check leaves out, and the national identifier. The check
 * digits are ISO 7064 MOD 97-10 over the national identifier followed by country and digits.
 */
export function validateCreditorId(input: string): CreditorIdValidation {
  const creditorId = input.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}$/.test(creditorId))
    return { ok: false, reason: 'bad_format' };
  const checked = creditorId.slice(7) + creditorId.slice(0, 4);
  return mod97(checked) === 1 ? { ok: true, creditorId } : { ok: false, reason: 'bad_check_digits' };
}
