/**
 * Payment card numbers (PAN): 13 to 19 digits, the last one a Luhn check digit.
 */

export interface PaymentCardMatch {
  start: number;
  end: number;
}

// 13–19 digits, single spaces or dashes allowed between digits, not glued to letters or
// digits on either side (so the digits of an IBAN or a longer reference are not taken).
const CARD_IN_TEXT = /(?<![A-Za-z0-9])(?:\d[ -]?){12,18}\d(?![A-Za-z0-9])/g;

// Major industry identifier: issuers of cards people pay with (Visa, Mastercard, Amex,
// Diners, JCB, Discover, Maestro, Bancontact, UnionPay) start with 2 to 6. Requiring it
// lowers the 1-in-10 chance that any long number passes Luhn.
const PAYMENT_MII = /^[2-6]/;

/** True when the digits (separators allowed) pass the Luhn check and have a card length. */
export function isValidPaymentCardNumber(input: string): boolean {
  const digits = input.replace(/[ -]/g, '');
  if (!/^\d{13,19}$/.test(digits)) return false;
  return hasValidLuhnCheck(digits);
}

/** Luhn (mod 10) over a string of digits, the check digit included. */
export function hasValidLuhnCheck(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let value = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    sum += value;
  }
  return sum % 10 === 0;
}

/** Finds card numbers in free text: Luhn-valid, 13–19 digits, starting with a payment-card industry digit. */
export function findPaymentCardNumbers(text: string): PaymentCardMatch[] {
  const matches: PaymentCardMatch[] = [];
  for (const match of text.matchAll(CARD_IN_TEXT)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (!PAYMENT_MII.test(digits)) continue;
    if (!hasValidLuhnCheck(digits)) continue;
    matches.push({ start: match.index, end: match.index + match[0].length });
  }
  return matches;
}
