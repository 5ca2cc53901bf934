import { describe, expect, it } from 'vitest';
import {
  findNationalNumberCentury,
  findNationalNumbers,
  formatNationalNumber,
  isValidNationalNumber,
  normaliseNationalNumber,
} from './national-number.js';

describe('national register number', () => {
  it('accepts a number of someone born before 2000 (check = 97 − first nine mod 97)', () => {
    expect(isValidNationalNumber('85073003328')).toBe(true);
    expect(findNationalNumberCentury('85073003328')).toBe(1900);
  });

  it('accepts a number of someone born in 2000 or later (check over "2" + first nine)', () => {
    expect(isValidNationalNumber('01020312345')).toBe(true);
    expect(findNationalNumberCentury('01020312345')).toBe(2000);
    expect(findNationalNumberCentury('00123100749')).toBe(2000);
  });

  it('tells the centuries apart: the 1900 check of the same first nine digits is different', () => {
    expect(findNationalNumberCentury('01020312316')).toBe(1900);
    expect(findNationalNumberCentury('00123100720')).toBe(1900);
  });

  it('refuses wrong check digits', () => {
    expect(isValidNationalNumber('85073003329')).toBe(false);
    expect(isValidNationalNumber('85073003327')).toBe(false);
    expect(findNationalNumberCentury('85073003300')).toBeNull();
  });

  it('accepts a bis number (month + 40) and refuses an impossible month', () => {
    expect(isValidNationalNumber('85473003317')).toBe(true);
    // 85.13.30 passes no plausibility test whatever its check digits
    expect(isValidNationalNumber('85133003300')).toBe(false);
  });

  it('accepts the usual written forms and refuses other lengths', () => {
    expect(isValidNationalNumber('85.07.30-033.28')).toBe(true);
    expect(isValidNationalNumber('850730 033 28')).toBe(true);
    expect(normaliseNationalNumber('85.07.30-033.28')).toBe('85073003328');
    expect(normaliseNationalNumber('8507300332')).toBeNull();
    expect(normaliseNationalNumber('850730033288')).toBeNull();
    expect(formatNationalNumber('85073003328')).toBe('85.07.30-033.28');
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('a national register number in a note is detected in each written form', () => {
    const note = 'RRN 85.07.30-033.28, ook als 85073003328 of (850730 033 28). Kind: 01020312345.';
    const found = findNationalNumbers(note);
    expect(found.map((m) => m.digits)).toEqual(['85073003328', '85073003328', '85073003328', '01020312345']);
    for (const match of found)
      expect(normaliseNationalNumber(note.slice(match.start, match.end))).toBe(match.digits);
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('eleven digits with a wrong check, or inside a longer number, are not flagged', () => {
    expect(findNationalNumbers('order 85073003329 shipped')).toEqual([]);
    expect(findNationalNumbers('ref 1285073003328')).toEqual([]);
    expect(findNationalNumbers('ref 12 85073003328')).toEqual([]);
    expect(findNationalNumbers('card 4111 1111 1111 1111')).toEqual([]);
  });
});
