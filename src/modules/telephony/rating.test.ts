import { describe, expect, it } from 'vitest';
import {
  TariffError,
  buildRatingTable,
  computeChargedSeconds,
  computeCost,
  findGroup,
  findRate,
  parseEurosToMicros,
  parseTariffCsv,
  rateCall,
  selectBillableSeconds,
} from './rating.js';
import type { TariffRate } from './rating.js';

const JAN_2024 = new Date('2024-01-01T00:00:00Z');

function rate(prefix: string, overrides: Partial<TariffRate> = {}): TariffRate {
  return {
    prefix,
    pricePerMinute: 60_000, // €0.06 per minute = 1,000 µ€ per second
    minimumSeconds: 0,
    incrementSeconds: 1,
    connectionFee: 0,
    validFrom: JAN_2024,
    validTo: null,
    ...overrides,
  };
}

const AT = new Date('2024-06-03T12:00:00Z');

describe('rating: charged seconds', () => {
  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).
  it('30/6 charges 30 s minimum, then 6-second steps, exactly at the boundaries', () => {
    expect(computeChargedSeconds(1, 30, 6)).toBe(30);
    expect(computeChargedSeconds(30, 30, 6)).toBe(30);
    expect(computeChargedSeconds(31, 30, 6)).toBe(36);
    expect(computeChargedSeconds(36, 30, 6)).toBe(36);
    expect(computeChargedSeconds(37, 30, 6)).toBe(42);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('60/60 charges whole minutes; 1/1 charges per second', () => {
    expect(computeChargedSeconds(1, 60, 60)).toBe(60);
    expect(computeChargedSeconds(60, 60, 60)).toBe(60);
    expect(computeChargedSeconds(61, 60, 60)).toBe(120);
    expect(computeChargedSeconds(1, 1, 1)).toBe(1);
    expect(computeChargedSeconds(61, 1, 1)).toBe(61);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('45/30 is a first block of 45 s, then 30-s steps counted from its end (46 s is 75 s)', () => {
    expect(computeChargedSeconds(1, 45, 30)).toBe(45);
    expect(computeChargedSeconds(45, 45, 30)).toBe(45);
    expect(computeChargedSeconds(46, 45, 30)).toBe(75);
    expect(computeChargedSeconds(75, 45, 30)).toBe(75);
    expect(computeChargedSeconds(76, 45, 30)).toBe(105);
    // A first block of 0 is plain rounding up to the step.
    expect(computeChargedSeconds(61, 0, 60)).toBe(120);
    // Cost of a 46-s call at 0.06 €/min under 45/30: 75 s = 75,000 µ€.
    expect(computeCost(rate('32', { minimumSeconds: 45, incrementSeconds: 30 }), 46)).toBe(75_000);
  });

  it('no billable seconds, nothing charged (not even the minimum)', () => {
    expect(computeChargedSeconds(0, 30, 6)).toBe(0);
  });
});

describe('rating: cost', () => {
  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).
  it('price per minute × charged seconds, in integer micro-euros', () => {
    const table = buildRatingTable([rate('32', { minimumSeconds: 30, incrementSeconds: 6 })]);
    expect(rateCall(table, '+3256223344', 30, AT)).toBe(30_000);
    expect(rateCall(table, '+3256223344', 31, AT)).toBe(36_000);
    expect(rateCall(table, '+3256223344', 36, AT)).toBe(36_000);
    expect(rateCall(table, '+3256223344', 37, AT)).toBe(42_000);
    expect(rateCall(table, '+3256223344', 1, AT)).toBe(30_000);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('the connection fee is added once to an answered call, and not to an unanswered one', () => {
    const table = buildRatingTable([
      rate('32', { connectionFee: 50_000, minimumSeconds: 60, incrementSeconds: 60 }),
    ]);
    expect(rateCall(table, '+3256223344', 61, AT)).toBe(50_000 + 120_000);
    expect(rateCall(table, '+3256223344', 0, AT)).toBe(0);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('sub-cent prices stay exact and the cost is rounded half up once, to the micro-euro', () => {
    // €0.0125/min for 7 s = 1458.33… µ€ → 1458; €0.0127/min for 15 s = 3175 µ€ exactly
    expect(computeCost(rate('32', { pricePerMinute: 12_500 }), 7)).toBe(1_458);
    expect(computeCost(rate('32', { pricePerMinute: 12_700 }), 15)).toBe(3_175);
    // 1 µ€/min for 30 s = 0.5 µ€ → rounds up to 1
    expect(computeCost(rate('32', { pricePerMinute: 1 }), 30)).toBe(1);
    expect(Number.isInteger(computeCost(rate('32', { pricePerMinute: 99_999 }), 7))).toBe(true);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('unanswered calls cost nothing even without a rate; answered calls without one are no_rate', () => {
    const table = buildRatingTable([rate('32')]);
    expect(rateCall(table, '+447700900123', 0, AT)).toBe(0);
    expect(rateCall(table, '+447700900123', 10, AT)).toBe('no_rate');
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('only answered calls on a billable leg carry billable seconds', () => {
    expect(selectBillableSeconds({ disposition: 'answered', billableSeconds: 42, isBillableLeg: true })).toBe(
      42,
    );
    expect(
      selectBillableSeconds({ disposition: 'answered', billableSeconds: 42, isBillableLeg: false }),
    ).toBe(0);
    expect(
      selectBillableSeconds({ disposition: 'no_answer', billableSeconds: 42, isBillableLeg: true }),
    ).toBe(0);
  });
});

describe('rating: prefix lookup', () => {
  const table = buildRatingTable([
    rate('32', { pricePerMinute: 10_000 }),
    rate('324', { pricePerMinute: 150_000 }),
    rate('3247', { pricePerMinute: 120_000 }),
  ]);

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('the longest matching prefix wins (32 vs 324 vs 3247)', () => {
    expect(findRate(table, '+32470123456', AT)?.prefix).toBe('3247');
    expect(findRate(table, '+32490123456', AT)?.prefix).toBe('324');
    expect(findRate(table, '+3256223344', AT)?.prefix).toBe('32');
    // Without '+' a destination is dialled digits: only the tariff's dialled prefixes rate it.
    expect(findRate(table, '32470123456', AT)).toBeNull();
    expect(findRate(table, '+31201234567', AT)).toBeNull();
  });

  it('a destination that is not digits has no rate', () => {
    expect(findRate(table, '+32 470', AT)).toBeNull();
    expect(rateCall(table, 'ch1', 10, AT)).toBe('no_rate');
  });
});

describe('rating: dialled prefixes and destination groups', () => {
  const table = buildRatingTable([
    rate('32', { group: { key: 'national_fixed', label: 'Belgian fixed numbers' } }),
    rate('324', { group: { key: 'national_mobile', label: 'Belgian mobiles' }, pricePerMinute: 120_000 }),
    rate('3247012', { pricePerMinute: 1 }),
    rate('1207', { pricePerMinute: 90_000, group: { key: 'international_zone_2', label: 'Zone 2' } }),
    rate('112', { scope: 'dialled', pricePerMinute: 0, group: { key: 'emergency', label: 'Emergency' } }),
    rate('1207', { scope: 'dialled', pricePerMinute: 30_000, group: { key: 'service', label: 'Services' } }),
  ]);

  it('a destination kept as dialled digits is rated by the dialled prefixes, never by an E.164 one', () => {
    expect(findRate(table, '1207', AT)?.pricePerMinute).toBe(30_000);
    expect(findRate(table, '+12075550100', AT)?.pricePerMinute).toBe(90_000);
    expect(rateCall(table, '112', 60, AT)).toBe(0);
    expect(rateCall(table, '1307', 60, AT)).toBe('no_rate');
    expect(rateCall(table, '*43', 60, AT)).toBe('no_rate');
  });

  it('a group is that of the longest matching prefix that names one', () => {
    expect(findGroup(table, '+3292123456')?.key).toBe('national_fixed');
    expect(findGroup(table, '+32470123456')?.key).toBe('national_mobile');
    expect(findGroup(table, '+32470129999')?.key).toBe('national_mobile');
    expect(findGroup(table, '1207')?.label).toBe('Services');
    expect(findGroup(table, '+33123')).toBeNull();
    expect(table.longestGroupPrefix).toBe(4);
    expect([...table.groups.keys()]).toEqual([
      'national_fixed',
      'national_mobile',
      'international_zone_2',
      'emergency',
      'service',
    ]);
  });

  it('reads scope, group and group_label from the tariff CSV; a label given once names the group', () => {
    const text = [
      'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to,scope,group,group_label',
      '32,0.06,60,60,0,2024-01-01,,,national_fixed,Belgian fixed numbers',
      '3292,0.05,60,60,0,2024-01-01,,e164,national_fixed,',
      '1207,0.10,0,60,0,2024-01-01,,dialled,service,Service numbers',
      '112,0,0,1,0,2024-01-01,,dialled,,',
    ].join('\n');
    const result = parseTariffCsv(text);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.rates.map((r) => [r.prefix, r.scope ?? 'e164', r.group?.label ?? null])).toEqual([
      ['32', 'e164', 'Belgian fixed numbers'],
      ['3292', 'e164', 'Belgian fixed numbers'],
      ['1207', 'dialled', 'Service numbers'],
      ['112', 'dialled', null],
    ]);
    const bad = parseTariffCsv(
      [
        'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to,scope,group,group_label',
        '32,0.06,60,60,0,2024-01-01,,everywhere,,',
        '33,0.06,60,60,0,2024-01-01,,,Zone 1,',
        '34,0.06,60,60,0,2024-01-01,,,,Label only',
        '35,0.06,60,60,0,2024-01-01,,,zone_1,A',
        '36,0.06,60,60,0,2024-01-01,,,zone_1,B',
      ].join('\n'),
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors.map((error) => error.line)).toEqual([2, 3, 4]);
    }
    const twoLabels = parseTariffCsv(
      [
        'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to,group,group_label',
        '35,0.06,60,60,0,2024-01-01,,zone_1,A',
        '36,0.06,60,60,0,2024-01-01,,zone_1,B',
      ].join('\n'),
    );
    expect(twoLabels).toEqual({
      ok: false,
      errors: [{ line: 3, message: 'prefix 36: group zone_1 has two labels' }],
    });
  });
});

describe('rating: validity dates', () => {
  const JUL_2024 = new Date('2024-07-01T00:00:00Z');
  const table = buildRatingTable([
    rate('32', { pricePerMinute: 10_000 }),
    rate('3247', { pricePerMinute: 120_000, validTo: JUL_2024 }),
    rate('3247', { pricePerMinute: 90_000, validFrom: JUL_2024 }),
    rate('3249', {
      pricePerMinute: 200_000,
      validFrom: new Date('2024-03-01T00:00:00Z'),
      validTo: new Date('2024-04-01T00:00:00Z'),
    }),
  ]);

  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it("the rate valid at the call's start applies; validTo is exclusive", () => {
    expect(findRate(table, '+32470123456', new Date('2024-06-30T23:59:59Z'))?.pricePerMinute).toBe(120_000);
    expect(findRate(table, '+32470123456', JUL_2024)?.pricePerMinute).toBe(90_000);
  });

  // Part of VX-5, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).

  it("outside a longer prefix's validity the shorter prefix applies", () => {
    expect(findRate(table, '+32490123456', new Date('2024-03-15T00:00:00Z'))?.prefix).toBe('3249');
    expect(findRate(table, '+32490123456', new Date('2024-04-01T00:00:00Z'))?.prefix).toBe('32');
    expect(findRate(table, '+32490123456', new Date('2023-12-31T23:59:59Z'))).toBeNull();
  });

  it('asked again at other instants, in any order, a destination gets the rate valid at each (the memo keeps its window)', () => {
    const rates = [
      rate('32', { pricePerMinute: 10_000, validFrom: new Date('2024-02-01T00:00:00Z') }),
      rate('3247', { pricePerMinute: 120_000, validTo: JUL_2024 }),
      rate('3249', {
        pricePerMinute: 200_000,
        validFrom: new Date('2024-03-01T00:00:00Z'),
        validTo: new Date('2024-04-01T00:00:00Z'),
      }),
      rate('324912', { pricePerMinute: 300_000, validFrom: new Date('2024-03-10T00:00:00Z') }),
    ];
    const instants = [
      '2023-12-31T23:59:59Z',
      '2024-01-15T00:00:00Z',
      '2024-02-01T00:00:00Z',
      '2024-03-01T00:00:00Z',
      '2024-03-09T23:59:59Z',
      '2024-03-10T00:00:00Z',
      '2024-03-31T23:59:59Z',
      '2024-04-01T00:00:00Z',
      '2024-06-30T23:59:59Z',
      '2024-07-01T00:00:00Z',
    ].map((text) => new Date(text));
    const destinations = ['+32470123456', '+32490123456', '+32491234567', '+3225550000', '+3247x', '1207'];
    const memo = buildRatingTable(rates);
    for (const order of [
      instants,
      [...instants].reverse(),
      [...instants.slice(5), ...instants.slice(0, 5)],
    ]) {
      for (const at of order) {
        for (const destination of destinations) {
          // A fresh table remembers nothing: its answer is the walk of the trie.
          const fresh = findRate(buildRatingTable(rates), destination, at);
          expect(
            findRate(memo, destination, at)?.prefix ?? null,
            `${destination} at ${at.toISOString()}`,
          ).toBe(fresh?.prefix ?? null);
        }
      }
    }
    expect(findRate(memo, '+32491234567', new Date('2024-03-05T00:00:00Z'))?.prefix).toBe('3249');
    expect(findRate(memo, '+32491234567', new Date('2024-05-05T00:00:00Z'))?.prefix).toBe('324912');
    expect(findRate(memo, '+32491234567', new Date('2024-01-05T00:00:00Z'))).toBeNull();
  });

  it('two rates for one prefix with overlapping validity are refused', () => {
    expect(() => buildRatingTable([rate('3247'), rate('3247', { validFrom: JUL_2024 })])).toThrow(
      new TariffError('prefix 3247 has two rates with overlapping validity'),
    );
  });

  it('invalid rates are refused: prefix, increment, money not in whole micro-euros', () => {
    expect(() => buildRatingTable([rate('+32')])).toThrow(TariffError);
    expect(() => buildRatingTable([rate('32', { incrementSeconds: 0 })])).toThrow(TariffError);
    expect(() => buildRatingTable([rate('32', { pricePerMinute: 0.5 })])).toThrow(TariffError);
  });
});

describe('rating: tariff CSV', () => {
  const header =
    'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to';

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('reads euros exactly into micro-euros and dates at Brussels midnight', () => {
    const text = `${header}\n32,0.0125,30,6,0.05,2024-01-01,\n+3247,0.12,60,60,0,2024-01-01,2024-07-01\n`;
    const result = parseTariffCsv(text);
    expect(result).toEqual({
      ok: true,
      rates: [
        {
          prefix: '32',
          pricePerMinute: 12_500,
          minimumSeconds: 30,
          incrementSeconds: 6,
          connectionFee: 50_000,
          validFrom: new Date('2023-12-31T23:00:00Z'),
          validTo: null,
        },
        {
          prefix: '3247',
          pricePerMinute: 120_000,
          minimumSeconds: 60,
          incrementSeconds: 60,
          connectionFee: 0,
          validFrom: new Date('2023-12-31T23:00:00Z'),
          validTo: new Date('2024-06-30T22:00:00Z'),
        },
      ],
    });
  });

  it('reads the semicolon-and-decimal-comma files spreadsheets write in Belgium, columns in any order', () => {
    const text =
      'valid_to;valid_from;connection_fee;increment_seconds;minimum_seconds;price_per_minute;prefix\r\n;2024-01-01;0;1;1;0,0125;32\r\n';
    const result = parseTariffCsv(text);
    expect(result.ok && result.rates[0]?.pricePerMinute).toBe(12_500);
  });

  it('reports every bad line with its number and what is wrong, and returns no rates', () => {
    const text = [
      header,
      '32,0.0125,30,6,0,2024-01-01,',
      '',
      '32x,0.01,30,6,0,2024-01-01,',
      '33,0.0000001,30,6,0,2024-01-01,',
      '34,0.01,30,0,0,2024-01-01,',
      '35,0.01,30,6,0,2024-02-30,',
      '36,0.01,30,6,0,2024-03-01,2024-02-01',
      '37,0.01,30,6',
    ].join('\n');
    expect(parseTariffCsv(text)).toEqual({
      ok: false,
      errors: [
        { line: 4, message: 'prefix is not 1 to 15 digits (E.164, country code first)' },
        { line: 5, message: 'price_per_minute is not an amount in euros with at most six decimals' },
        { line: 6, message: 'increment_seconds is not a whole number of at least 1' },
        { line: 7, message: 'valid_from is not a date YYYY-MM-DD' },
        { line: 8, message: 'valid_to is not after valid_from' },
        { line: 9, message: 'the line has 4 columns; the header has 7' },
      ],
    });
  });

  it('names the missing header columns, and the line of an overlapping rate', () => {
    expect(parseTariffCsv('prefix,price\n32,0.01\n')).toEqual({
      ok: false,
      errors: [
        {
          line: 1,
          message:
            'the header lacks the column(s) price_per_minute, minimum_seconds, increment_seconds, connection_fee, valid_from, valid_to',
        },
      ],
    });
    const overlapping = `${header}\n32,0.01,1,1,0,2024-01-01,\n32,0.02,1,1,0,2024-06-01,\n`;
    expect(parseTariffCsv(overlapping)).toEqual({
      ok: false,
      errors: [{ line: 3, message: 'prefix 32 has two rates with overlapping validity' }],
    });
  });

  it('parses euro amounts without floating point', () => {
    expect(parseEurosToMicros('0.1')).toBe(100_000);
    expect(parseEurosToMicros('0,000001')).toBe(1);
    expect(parseEurosToMicros('12')).toBe(12_000_000);
    expect(parseEurosToMicros('-1')).toBeNull();
    expect(parseEurosToMicros('1e3')).toBeNull();
  });
});

describe('rating: size', () => {
  it('a 50,000-prefix tariff builds and resolves the longest prefix', () => {
    const rates = Array.from({ length: 50_000 }, (_, i) => rate(`32${String(i).padStart(5, '0')}`));
    const table = buildRatingTable(rates);
    expect(table.size).toBe(50_000);
    expect(findRate(table, '+3212345678', AT)?.prefix).toBe('3212345');
  });
});
