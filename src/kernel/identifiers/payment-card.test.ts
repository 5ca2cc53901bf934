import { describe, expect, it } from 'vitest';
import { findPaymentCardNumbers, hasValidLuhnCheck, isValidPaymentCardNumber } from './payment-card.js';

describe('payment card number', () => {
  it("accepts the networks' published test numbers (Luhn-valid, 13–19 digits)", () => {
    for (const pan of [
      '4111111111111111',
      '5555555555554444',
      '378282246310005',
      '6011111111111117',
      '4222222222222',
      '3530111333300000',
    ]) {
      expect(isValidPaymentCardNumber(pan)).toBe(true);
    }
  });

  it('refuses a wrong check digit and lengths outside 13–19', () => {
    expect(isValidPaymentCardNumber('4111111111111112')).toBe(false);
    expect(isValidPaymentCardNumber('411111111111')).toBe(false);
    expect(isValidPaymentCardNumber('41111111111111111111')).toBe(false);
    expect(hasValidLuhnCheck('79927398713')).toBe(true);
    expect(hasValidLuhnCheck('79927398710')).toBe(false);
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('card numbers in a note are found with spaces or dashes', () => {
    const note = 'Kaart: 4111 1111 1111 1111, amex 3782-822463-10005.';
    const found = findPaymentCardNumbers(note);
    expect(found.map((m) => note.slice(m.start, m.end))).toEqual([
      '4111 1111 1111 1111',
      '3782-822463-10005',
    ]);
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('Luhn failures, IBAN digits and numbers glued to letters are not flagged', () => {
    expect(findPaymentCardNumbers('order 4111 1111 1111 1112')).toEqual([]);
    expect(findPaymentCardNumbers('BE68 5390 0754 7034')).toEqual([]);
    expect(findPaymentCardNumbers('ref X4111111111111111')).toEqual([]);
  });
});
