import { describe, expect, it } from 'vitest';
import {
  formatEnterpriseNumber,
  isValidEnterpriseNumber,
  parseEnterpriseNumber,
} from './enterprise-number.js';

describe('Belgian enterprise number', () => {
  it.each(['BE0649.503.981', '0649503981', 'BE 0649 503 981', 'be0649503981', '0649.503.981'])(
    'accepts the spelling %s',
    (input) => {
      expect(parseEnterpriseNumber(input)).toEqual({ ok: true, value: '0649503981' });
    },
  );

  it('accepts both seed controllers (VoiceKing and Voxtra)', () => {
    expect(isValidEnterpriseNumber('BE0653.989.638')).toBe(true);
    expect(isValidEnterpriseNumber('BE0649.503.981')).toBe(true);
  });

  it('accepts an old nine-digit number by implying the leading 0', () => {
    expect(parseEnterpriseNumber('649.503.981')).toEqual({ ok: true, value: '0649503981' });
  });

  it('rejects a wrong check number and says which was expected', () => {
    const result = parseEnterpriseNumber('BE0649.503.982');
    expect(result).toMatchObject({ ok: false, problem: 'check_digits' });
    expect(result.ok ? '' : result.message).toContain('expected 81');
  });

  it('rejects a first digit other than 0 or 1', () => {
    // 26495039 mod 97 = 71, so 2649503926 passes the mod-97 check; only the first-digit rule rejects it.
    expect(parseEnterpriseNumber('2649503926')).toMatchObject({ ok: false, problem: 'first_digit' });
  });

  it.each(['', 'BE', '06495039', '06495039811', 'BE0649.5O3.981', 'NL0649503981'])(
    'rejects the malformed %j',
    (input) => {
      expect(parseEnterpriseNumber(input)).toMatchObject({ ok: false, problem: 'format' });
    },
  );

  it('computes the check as 97 minus the first eight digits mod 97', () => {
    // 10000000 mod 97 = 76, so the check is 21.
    expect(isValidEnterpriseNumber('1000000021')).toBe(true);
    expect(isValidEnterpriseNumber('1000000022')).toBe(false);
  });

  it('formats with and without the BE prefix', () => {
    expect(formatEnterpriseNumber('0653989638')).toBe('BE0653.989.638');
    expect(formatEnterpriseNumber('BE 0653 989 638', { prefix: false })).toBe('0653.989.638');
    expect(() => formatEnterpriseNumber('123')).toThrow(RangeError);
  });
});
