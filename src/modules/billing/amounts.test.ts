import { describe, expect, it } from 'vitest';
import { validateIban } from '../../kernel/identifiers/iban.js';
import {
  createStructuredCommunication,
  parseStructuredCommunication,
} from '../../kernel/identifiers/structured-communication.js';
import {
  divideRounded,
  formatAmount,
  formatEuro,
  formatInvoiceNumber,
  holdUntil,
  parseEuroAmount,
  parsePeriod,
  prorate,
  structuredCommunicationOf,
  totalsOf,
  vatOf,
} from './amounts.js';
import { parseStatementCsv } from './payment.service.js';

describe('structured communication (VX-3)', () => {
  // Part of VX-3, at unit level (requirement IDs title end-to-end tests only).
  it('check digits are the first ten digits mod 97, and 97 when the remainder is 0', () => {
    expect(createStructuredCommunication('0000000097')).toBe('+++000/0000/09797+++');
    expect(createStructuredCommunication('1234567890')).toBe('+++123/4567/89002+++'); // 1234567890 mod 97 = 2
    expect(parseStructuredCommunication('+++090/9337/55493+++')).toMatchObject({ ok: true });
    expect(parseStructuredCommunication('+++090/9337/55494+++')).toMatchObject({
      ok: false,
      reason: 'bad_check_digits',
    });
  });

  // Part of VX-3, at unit level (requirement IDs title end-to-end tests only).

  it('every invoice gets a unique valid communication from its series, year and number', () => {
    const seen = new Set<string>();
    for (const series of ['F', 'C'] as const) {
      for (const number of [1, 2, 97, 9_999_999]) {
        const digits = structuredCommunicationOf(series, 2026, number);
        expect(parseStructuredCommunication(digits)).toMatchObject({ ok: true, digits });
        seen.add(digits);
      }
    }
    expect(seen.size).toBe(8);
    expect(structuredCommunicationOf('F', 2026, 1).slice(0, 10)).toBe('2610000001');
    expect(formatInvoiceNumber('F', 2026, 42)).toBe('F2026-000042');
  });
});

describe('IBAN (VK-2)', () => {
  // Part of VK-2, at unit level (requirement IDs title end-to-end tests only).
  it('IBANs are validated by length per country, mod 97 and the Belgian account check', () => {
    expect(validateIban('BE68 5390 0754 7034')).toMatchObject({ ok: true, iban: 'BE68539007547034' });
    expect(validateIban('NL91ABNA0417164300')).toMatchObject({ ok: true });
    expect(validateIban('BE68 5390 0754 7035')).toMatchObject({ ok: false, reason: 'bad_check_digits' });
    expect(validateIban('BE68 5390 0754 703')).toMatchObject({ ok: false, reason: 'wrong_length' });
    expect(validateIban('XX68539007547034')).toMatchObject({ ok: false, reason: 'unknown_country' });
  });
});

describe('amounts (VX-3)', () => {
  // Part of VX-3, at unit level (requirement IDs title end-to-end tests only).
  it('integer cents, VAT per rate rounded half away from zero, pro-rated months', () => {
    expect(vatOf(1603, 2100)).toBe(337); // 336.63
    expect(vatOf(50, 2100)).toBe(11); // 10.5 → 11
    expect(divideRounded(-105, 10)).toBe(-11);
    expect(prorate(3000, 16, 31)).toBe(1548);
    expect(prorate(3000, 31, 31)).toBe(3000);
    expect(
      totalsOf([
        { amountCents: 1000, vatRateBp: 2100 },
        { amountCents: 333, vatRateBp: 2100 },
        { amountCents: 1000, vatRateBp: 600 },
      ]),
    ).toEqual({
      totalExclVatCents: 2333,
      vatCents: 280 + 60,
      totalInclVatCents: 2673,
      subtotals: [
        {
          rateBp: 2100,
          category: 'S',
          exemptionCode: null,
          exemptionReason: null,
          taxableCents: 1333,
          vatCents: 280,
        },
        {
          rateBp: 600,
          category: 'S',
          exemptionCode: null,
          exemptionReason: null,
          taxableCents: 1000,
          vatCents: 60,
        },
      ],
    });
    expect(formatAmount(123456)).toBe('1234.56');
    expect(formatEuro(123456)).toBe('€ 1.234,56');
    expect(parseEuroAmount('1.234,56')).toBe(123456);
    expect(parseEuroAmount('12,3')).toBe(1230);
    expect(parseEuroAmount('12.34')).toBe(1234);
    expect(parseEuroAmount('12.345')).toBeUndefined();
  });

  // Part of VK-14, at unit level (requirement IDs title end-to-end tests only).

  it('the accounting hold runs 10 years from 1 January after the document date', () => {
    expect(holdUntil('2026-10-31', 10)).toBe('2037-01-01');
    expect(holdUntil('2026-01-01', 10)).toBe('2037-01-01');
    expect(parsePeriod('2026-02')).toMatchObject({ start: '2026-02-01', end: '2026-02-28', days: 28 });
    expect(parsePeriod('2028-02')?.days).toBe(29);
    expect(parsePeriod('2026-13')).toBeUndefined();
  });

  // Part of VX-3, at unit level (requirement IDs title end-to-end tests only).

  it('a statement line is read with its structured communication only; free text is dropped', () => {
    const { lines, outgoing } = parseStatementCsv(
      'Date;Amount;Communication;Reference\n01/12/2026;10,00;+++090/9337/55493+++;R1\n2026-12-02;5;hello;R2\n2026-12-02;-5;;R3\n',
      new Date('2026-12-02T10:00:00Z'),
    );
    expect(outgoing).toBe(1);
    expect(lines).toEqual([
      {
        line: 2,
        bankReference: 'R1',
        valueDate: '2026-12-01',
        amountCents: 1000,
        structuredCommunication: '090933755493',
      },
      {
        line: 3,
        bankReference: 'R2',
        valueDate: '2026-12-02',
        amountCents: 500,
        structuredCommunication: null,
      },
    ]);
    expect(() => parseStatementCsv('date,amount\n', new Date())).toThrow(/header must name/);
  });
});
