import { describe, expect, it } from 'vitest';
import {
  createStructuredCommunication,
  isValidStructuredCommunication,
  parseStructuredCommunication,
} from './structured-communication.js';

describe('structured communication (OGM/VCS)', () => {
  it('creates +++ddd/dddd/ddddd+++ with check = base mod 97', () => {
    expect(createStructuredCommunication('1234567890')).toBe('+++123/4567/89002+++');
    expect(createStructuredCommunication('0000000001')).toBe('+++000/0000/00101+++');
  });

  it('uses 97 when the remainder is 0', () => {
    expect(createStructuredCommunication('0000000097')).toBe('+++000/0000/09797+++');
    expect(createStructuredCommunication('1197530766')).toBe('+++119/7530/76697+++');
  });

  it('refuses a base that is not ten digits', () => {
    expect(() => createStructuredCommunication('123456789')).toThrow(RangeError);
    expect(() => createStructuredCommunication('12345678901')).toThrow(RangeError);
  });

  it('parses the forms payers and banks return', () => {
    const expected = { ok: true, digits: '123456789002', formatted: '+++123/4567/89002+++' };
    expect(parseStructuredCommunication('+++123/4567/89002+++')).toEqual(expected);
    expect(parseStructuredCommunication('***123/4567/89002***')).toEqual(expected);
    expect(parseStructuredCommunication(' 123456789002 ')).toEqual(expected);
    expect(parseStructuredCommunication('123 4567 89002')).toEqual(expected);
  });

  it('refuses wrong check digits, other lengths, letters', () => {
    expect(parseStructuredCommunication('+++123/4567/89003+++')).toEqual({
      ok: false,
      reason: 'bad_check_digits',
    });
    expect(parseStructuredCommunication('+++000/0000/09700+++')).toEqual({
      ok: false,
      reason: 'bad_check_digits',
    });
    expect(parseStructuredCommunication('12345678900')).toEqual({ ok: false, reason: 'wrong_length' });
    expect(parseStructuredCommunication('+++12A/4567/89002+++')).toEqual({
      ok: false,
      reason: 'bad_characters',
    });
    expect(parseStructuredCommunication('   ')).toEqual({ ok: false, reason: 'empty' });
    expect(isValidStructuredCommunication('+++000/0000/09797+++')).toBe(true);
  });
});
