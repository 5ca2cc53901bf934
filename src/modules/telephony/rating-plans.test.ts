import { describe, expect, it } from 'vitest';
import { buildRatingTable, type TariffRate } from './rating.js';
import {
  planDefinitionSchema,
  rateWithPlan,
  selectPlanId,
  splitByBand,
  type PlanAssignment,
  type RatingPlan,
} from './rating-plans.js';

const FROM = new Date('2020-01-01T00:00:00Z');
const rate = (
  prefix: string,
  pricePerMinute: number,
  group: string,
  extra: Partial<TariffRate> = {},
): TariffRate => ({
  prefix,
  pricePerMinute,
  minimumSeconds: 0,
  incrementSeconds: 1,
  connectionFee: 0,
  validFrom: FROM,
  validTo: null,
  group: { key: group, label: group },
  ...extra,
});
const table = buildRatingTable([
  rate('32', 60_000, 'national_fixed'),
  rate('324', 120_000, 'national_mobile'),
]);
const plan = (planId: number, definition: unknown): RatingPlan => ({
  planId,
  code: `P${planId}`,
  definition: planDefinitionSchema.parse(definition),
});
const BANDS = {
  timeBands: [
    { band: 'off_peak', days: [1, 2, 3, 4, 5], from: '19:00', to: '24:00' },
    { band: 'weekend', days: [6, 7], from: '00:00', to: '24:00' },
  ],
  prices: [
    { group: '*', band: 'off_peak', pricePerMinute: '0.03' },
    { group: 'national_mobile', band: 'weekend', pricePerMinute: '0.05' },
    { group: '*', band: 'weekend', pricePerMinute: '0.01' },
  ],
};
const call = (destination: string, at: string, seconds: number, isOnNet = false) => ({
  destination,
  answeredAt: new Date(at),
  billableSeconds: seconds,
  isOnNet,
});

// Part of VX-5, at unit level (requirement IDs title end-to-end tests only).
describe('rating plans: time bands', () => {
  it('a call crossing from peak into off-peak is split at 19:00 Brussels time, also across DST', () => {
    const bands = planDefinitionSchema.parse(BANDS);
    // 16:59:30 UTC on Monday 7 September 2026 is 18:59:30 in Brussels (UTC+2).
    expect(splitByBand(bands, new Date('2026-09-07T16:59:30Z'), 90, 'Europe/Brussels')).toEqual([
      { band: 'peak', seconds: 30 },
      { band: 'off_peak', seconds: 60 },
    ]);
    // In winter (UTC+1) 19:00 is 18:00 UTC.
    expect(splitByBand(bands, new Date('2026-12-07T17:59:00Z'), 120, 'Europe/Brussels')).toEqual([
      { band: 'peak', seconds: 60 },
      { band: 'off_peak', seconds: 60 },
    ]);
    // Friday 23:59 into Saturday: off-peak, then weekend.
    expect(splitByBand(bands, new Date('2026-09-11T21:59:00Z'), 120, 'Europe/Brussels')).toEqual([
      { band: 'off_peak', seconds: 60 },
      { band: 'weekend', seconds: 60 },
    ]);
  });

  it('each part is priced in its band; the most specific price wins; the rounding goes to the last band', () => {
    const basic = plan(1, BANDS);
    const bundles = new Map<string, number>();
    // 30 s peak at 0.06 + 60 s off-peak at 0.03 = 0.03 + 0.03.
    expect(
      rateWithPlan(table, basic, call('+3292123456', '2026-09-07T16:59:30Z', 90), bundles, 'Europe/Brussels'),
    ).toMatchObject({
      kind: 'rated',
      costMicros: 60_000,
    });
    // A Saturday mobile call: the mobile weekend price (0.05), not the general one (0.01).
    expect(
      rateWithPlan(
        table,
        basic,
        call('+32470123456', '2026-09-12T08:00:00Z', 60),
        bundles,
        'Europe/Brussels',
      ),
    ).toMatchObject({
      costMicros: 50_000,
    });
    // 60/60: a 61-s call is charged 120 s; the extra 59 s fall in the last band (off-peak).
    const minute = buildRatingTable([
      rate('32', 60_000, 'national_fixed', { minimumSeconds: 60, incrementSeconds: 60 }),
    ]);
    expect(
      rateWithPlan(
        minute,
        basic,
        call('+3292123456', '2026-09-07T16:59:30Z', 61),
        bundles,
        'Europe/Brussels',
      ),
    ).toMatchObject({
      // 30 s peak (0.03) + 90 s off-peak (0.045).
      costMicros: 75_000,
    });
  });
});

describe('rating plans: included minutes and on-net calls', () => {
  it('included minutes are consumed in call order by charged seconds; the rest is rated; unlimited covers all', () => {
    const bundle = plan(2, { included: [{ groups: ['national_mobile'], minutes: 10 }] });
    const bundles = new Map<string, number>();
    const rated = [480, 300, 60].map((seconds) =>
      rateWithPlan(
        table,
        bundle,
        call('+32470123456', '2026-09-16T08:00:00Z', seconds),
        bundles,
        'Europe/Brussels',
      ),
    );
    expect(rated).toEqual([
      { kind: 'rated', costMicros: 0, includedSeconds: 480, group: 'national_mobile' },
      { kind: 'rated', costMicros: 360_000, includedSeconds: 120, group: 'national_mobile' },
      { kind: 'rated', costMicros: 120_000, includedSeconds: 0, group: 'national_mobile' },
    ]);
    // Fixed calls are not in the bundle.
    expect(
      rateWithPlan(
        table,
        bundle,
        call('+3292123456', '2026-09-16T08:00:00Z', 60),
        bundles,
        'Europe/Brussels',
      ),
    ).toMatchObject({
      costMicros: 60_000,
    });
    const unlimited = plan(3, {
      included: [{ groups: ['national_fixed', 'national_mobile'], minutes: 'unlimited' }],
    });
    expect(
      rateWithPlan(
        table,
        unlimited,
        call('+32470123456', '2026-09-16T08:00:00Z', 7_200),
        new Map(),
        'Europe/Brussels',
      ),
    ).toMatchObject({ costMicros: 0, includedSeconds: 7_200 });
  });

  it('an on-net call is free only under a plan that says so; without a rate a call stays unrated', () => {
    const onNet = plan(4, { onNetFree: true });
    const fixed = call('+3292000002', '2026-09-16T08:00:00Z', 60, true);
    expect(rateWithPlan(table, onNet, fixed, new Map(), 'Europe/Brussels')).toMatchObject({ costMicros: 0 });
    expect(rateWithPlan(table, plan(5, {}), fixed, new Map(), 'Europe/Brussels')).toMatchObject({
      costMicros: 60_000,
    });
    expect(
      rateWithPlan(table, null, call('+33123', '2026-09-16T08:00:00Z', 60), new Map(), 'Europe/Brussels'),
    ).toEqual({
      kind: 'no_rate',
    });
  });
});

describe('rating plans: which plan applies', () => {
  const assignments: PlanAssignment[] = [
    { planId: 1, target: 'tenant', productId: null, subjectId: null, validFrom: '2026-01-01' },
    { planId: 9, target: 'tenant', productId: null, subjectId: null, validFrom: '2026-10-01' },
    { planId: 2, target: 'product', productId: 7, subjectId: null, validFrom: '2026-03-01' },
    { planId: 3, target: 'customer', productId: null, subjectId: 42, validFrom: '2026-09-15' },
  ];
  const products = [{ productId: 7, startDate: '2026-05-01', endDate: '2026-08-31' }];

  it("the customer's own plan from its activation day, else a running contract's product plan, else the tenant default of the day", () => {
    expect(selectPlanId(assignments, 42, products, '2026-04-30')).toBe(1);
    expect(selectPlanId(assignments, 42, products, '2026-05-01')).toBe(2);
    expect(selectPlanId(assignments, 42, products, '2026-09-01')).toBe(1);
    expect(selectPlanId(assignments, 42, products, '2026-09-15')).toBe(3);
    expect(selectPlanId(assignments, 43, [], '2026-10-01')).toBe(9);
    expect(selectPlanId(assignments, 43, [], '2025-12-31')).toBeNull();
  });

  it('a definition with a bad band is refused, naming where', () => {
    const result = planDefinitionSchema.safeParse({
      timeBands: [{ band: 'evening', days: [1], from: '19:00', to: '18:00' }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['timeBands', 0, 'to']);
  });
});
