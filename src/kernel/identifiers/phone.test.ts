import { describe, expect, it } from 'vitest';
import { normalisePhoneNumber, toE164Digits } from './phone.js';

const BE = { defaultCountry: 'BE' } as const;

describe('phone number normalisation', () => {
  it('normalises Belgian national, international and 00-prefixed forms to E.164', () => {
    for (const input of ['0470 12 34 56', '+32 470 12 34 56', '0032 470 12 34 56', '0470/12.34.56']) {
      expect(normalisePhoneNumber(input, BE)).toMatchObject({
        ok: true,
        e164: '+32470123456',
        country: 'BE',
        type: 'MOBILE',
      });
    }
    expect(normalisePhoneNumber('056 22 33 44', BE)).toMatchObject({
      ok: true,
      e164: '+3256223344',
      type: 'FIXED_LINE',
    });
  });

  it('keeps a foreign number written internationally', () => {
    expect(normalisePhoneNumber('+31 20 123 4567', BE)).toMatchObject({
      ok: true,
      e164: '+31201234567',
      country: 'NL',
    });
  });

  it('refuses a number outside the numbering plan (max metadata, not only length)', () => {
    expect(normalisePhoneNumber('0412 34 56 78', BE)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('returns a reason instead of throwing', () => {
    expect(normalisePhoneNumber('', BE)).toEqual({ ok: false, reason: 'empty' });
    expect(normalisePhoneNumber('call me', BE)).toEqual({ ok: false, reason: 'not_a_number' });
    expect(normalisePhoneNumber('+999 12345', BE)).toEqual({ ok: false, reason: 'invalid_country' });
    expect(normalisePhoneNumber('0470123456789012345', BE)).toEqual({ ok: false, reason: 'too_long' });
    // a Russian trunk-prefixed number from the Asterisk sample is not Belgian
    expect(normalisePhoneNumber('89245555937', BE).ok).toBe(false);
  });

  it('gives the digits tariff prefixes are matched on', () => {
    expect(toE164Digits('+32470123456')).toBe('32470123456');
  });
});
