import { describe, expect, it } from 'vitest';
import { findIbans, formatIban, isValidIban, normaliseIban, validateIban } from './iban.js';

describe('IBAN', () => {
  it('validates IBANs of Belgium, the Netherlands, France and Germany', () => {
    expect(validateIban('BE68539007547034')).toEqual({ ok: true, iban: 'BE68539007547034', country: 'BE' });
    expect(isValidIban('NL91ABNA0417164300')).toBe(true);
    expect(isValidIban('FR1420041010050500013M02606')).toBe(true);
    expect(isValidIban('DE89370400440532013000')).toBe(true);
  });

  it('accepts the paper form: spaces, lower case', () => {
    expect(isValidIban('be68 5390 0754 7034')).toBe(true);
    expect(normaliseIban(' be68 5390 0754 7034 ')).toBe('BE68539007547034');
  });

  it('refuses a typo (mod 97 ≠ 1)', () => {
    expect(validateIban('BE68539007547035')).toEqual({ ok: false, reason: 'bad_check_digits' });
    expect(validateIban('NL91ABNA0417164301')).toEqual({ ok: false, reason: 'bad_check_digits' });
    expect(validateIban('DE88370400440532013000')).toEqual({ ok: false, reason: 'bad_check_digits' });
  });

  it('refuses a length that does not fit the country and an unknown country', () => {
    expect(validateIban('BE6853900754703')).toEqual({ ok: false, reason: 'wrong_length' });
    expect(validateIban('FR1420041010050500013M0260')).toEqual({ ok: false, reason: 'wrong_length' });
    expect(validateIban('ZZ68539007547034')).toEqual({ ok: false, reason: 'unknown_country' });
    expect(validateIban('')).toEqual({ ok: false, reason: 'empty' });
    expect(validateIban('BE68-5390_0754')).toEqual({ ok: false, reason: 'bad_characters' });
  });

  it('formats in groups of four', () => {
    expect(formatIban('BE68539007547034')).toBe('BE68 5390 0754 7034');
    expect(formatIban('fr1420041010050500013m02606')).toBe('FR14 2004 1010 0505 0001 3M02 606');
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('IBANs in a note are found with or without spaces, and a near miss is not', () => {
    const note = 'Betaalt via BE68 5390 0754 7034. Oud: NL91ABNA0417164300; fout: BE68 5390 0754 7035.';
    const found = findIbans(note);
    expect(found.map((m) => m.iban)).toEqual(['BE68539007547034', 'NL91ABNA0417164300']);
    const first = found[0];
    expect(first && note.slice(first.start, first.end)).toBe('BE68 5390 0754 7034');
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('an IBAN glued to more letters or digits is not taken', () => {
    expect(findIbans('XBE68539007547034')).toEqual([]);
    expect(findIbans('BE685390075470341')).toEqual([]);
  });
});
