/**
 * Rating plans (issue 13, VX-5): what a customer pays for calls on top of the tariff. A plan
 * names time bands (peak, off-peak, weekend … in the provider's zone), a price per minute per
 * destination group and band (else the tariff's), included minutes per group consumed in call
 * order within the billing month (or unlimited), and whether calls to the provider's own
 * numbers (on-net) are free. Increments, minimum and connection fee stay the tariff's.
 * docs/decisions/0242-rating-plans.md.
 */
import { z } from 'zod';
import {
  parseEurosToMicros,
  parseRateMicros,
  computeChargedSeconds,
  findGroup,
  findRate,
  type RatingTable,
} from './rating.js';
import { findOffsetMs } from './local-time.js';

const HHMM = /^([01]\d|2[0-4]):([0-5]\d)$/;
const KEY = /^[a-z0-9][a-z0-9_]{0,39}$/;

const minutesOfDay = (text: string): number => {
  const match = HHMM.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : Number.NaN;
};

export const planDefinitionSchema = z
  .strictObject({
    timeBands: z
      .array(
        z.strictObject({
          band: z.string().regex(KEY, 'a band is a key such as off_peak'),
          /** ISO weekdays: 1 = Monday … 7 = Sunday. */
          days: z.array(z.number().int().min(1).max(7)).min(1),
          from: z.string().regex(HHMM, 'HH:MM'),
          to: z.string().regex(HHMM, 'HH:MM'),
        }),
      )
      .max(50)
      .default([])
      .describe('first matching band wins; time no band covers is peak'),
    prices: z
      .array(
        z.strictObject({
          group: z
            .string()
            .regex(/^(\*|[a-z0-9][a-z0-9_]{0,39})$/, 'a destination group key, or *')
            .describe('destination group key of the tariff, or * for every group'),
          band: z.string().regex(KEY).optional().describe('absent: every band'),
          pricePerMinute: z
            .string()
            .regex(/^\d+(?:[.,]\d{1,6})?$/, 'euros, at most six decimals')
            // A price the rater could not apply exactly is refused, never billed as another (S22-6).
            .refine((text) => typeof parseRateMicros(text, 'price') === 'number', 'at most 1000 euros'),
        }),
      )
      .max(500)
      .default([]),
    included: z
      .array(
        z.strictObject({
          groups: z.array(z.string().regex(KEY)).min(1),
          minutes: z.union([z.number().int().min(1).max(1_000_000), z.literal('unlimited')]),
        }),
      )
      .max(20)
      .default([]),
    onNetFree: z.boolean().default(false),
  })
  .superRefine((plan, context) => {
    plan.timeBands.forEach((band, index) => {
      if (minutesOfDay(band.from) >= minutesOfDay(band.to))
        context.addIssue({
          code: 'custom',
          path: ['timeBands', index, 'to'],
          message: 'to must be after from',
        });
    });
  });

export type PlanDefinition = z.infer<typeof planDefinitionSchema>;

export interface RatingPlan {
  planId: number;
  code: string;
  definition: PlanDefinition;
}

/** A call as the plan rates it. */
export interface PlanCall {
  destination: string;
  /** When the billable part starts (answer), and its length. */
  answeredAt: Date;
  billableSeconds: number;
  /** The provider's own number at that moment (on-net). */
  isOnNet: boolean;
}

/** Included seconds left per plan and bundle within one customer's billing month. */
export type BundleState = Map<string, number>;

export type PlanRating =
  { kind: 'no_rate' } | { kind: 'rated'; costMicros: number; includedSeconds: number; group: string | null };

const PEAK = 'peak';

/** The band at an instant in the zone: the first band whose day and hours hold it, else peak. */
export function bandAt(plan: PlanDefinition, epochMs: number, timeZone: string): string {
  const local = new Date(epochMs + findOffsetMs(epochMs, timeZone));
  const weekday = ((local.getUTCDay() + 6) % 7) + 1;
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  for (const band of plan.timeBands) {
    if (band.days.includes(weekday) && minute >= minutesOfDay(band.from) && minute < minutesOfDay(band.to))
      return band.band;
  }
  return PEAK;
}

/** The next instant after `epochMs` at which the band may change (the next whole minute in the zone). */
function nextMinute(epochMs: number): number {
  return Math.floor(epochMs / 60_000) * 60_000 + 60_000;
}

/**
 * The call's seconds per band, in order: a call that crosses a band boundary is split there.
 * Bands change on whole local minutes; zones with second offsets do not exist in practice.
 */
export function splitByBand(
  plan: PlanDefinition,
  start: Date,
  seconds: number,
  timeZone: string,
): Array<{ band: string; seconds: number }> {
  const parts: Array<{ band: string; seconds: number }> = [];
  let at = start.getTime();
  const end = at + seconds * 1000;
  while (at < end) {
    const band = plan.timeBands.length === 0 ? PEAK : bandAt(plan, at, timeZone);
    let next = plan.timeBands.length === 0 ? end : Math.min(end, nextMinute(at));
    while (next < end && bandAt(plan, next, timeZone) === band) next = Math.min(end, nextMinute(next));
    const part = Math.round((next - at) / 1000);
    const last = parts.at(-1);
    if (last && last.band === band) last.seconds += part;
    else if (part > 0) parts.push({ band, seconds: part });
    at = next;
  }
  return parts;
}

function priceFor(plan: PlanDefinition, group: string | null, band: string, tariffPrice: number): number {
  let best: { score: number; price: string } | null = null;
  for (const price of plan.prices) {
    const groupScore = price.group === group ? 2 : price.group === '*' ? 1 : 0;
    if (groupScore === 0) continue;
    const bandScore = price.band === band ? 2 : price.band === undefined ? 1 : 0;
    if (bandScore === 0) continue;
    const score = groupScore * 3 + bandScore;
    if (!best || score > best.score) best = { score, price: price.pricePerMinute };
  }
  return best ? (parseEurosToMicros(best.price) ?? tariffPrice) : tariffPrice;
}

/**
 * Rates one call under a plan (null: the tariff alone). Charged seconds come from the tariff's
 * minimum and increment over the whole call; they are split over the bands the call crosses
 * (the rounding goes to the last band). Included minutes of the call's group are consumed first,
 * from the call's start, and the rest is priced. A call wholly included costs nothing, not even
 * the connection fee; so does an on-net call under a plan that makes them free.
 */
export function rateWithPlan(
  table: RatingTable,
  plan: RatingPlan | null,
  call: PlanCall,
  bundles: BundleState,
  timeZone: string,
): PlanRating {
  if (call.billableSeconds <= 0) return { kind: 'rated', costMicros: 0, includedSeconds: 0, group: null };
  const group = findGroup(table, call.destination)?.key ?? null;
  if (plan?.definition.onNetFree && call.isOnNet)
    return { kind: 'rated', costMicros: 0, includedSeconds: 0, group };
  const rate = findRate(table, call.destination, call.answeredAt);
  if (rate === null) return { kind: 'no_rate' };
  const charged = computeChargedSeconds(call.billableSeconds, rate.minimumSeconds, rate.incrementSeconds);
  if (plan === null) {
    return {
      kind: 'rated',
      costMicros: rate.connectionFee + Math.floor((rate.pricePerMinute * charged + 30) / 60),
      includedSeconds: 0,
      group,
    };
  }
  const definition = plan.definition;
  let included = 0;
  for (const [index, bundle] of definition.included.entries()) {
    if (group === null || !bundle.groups.includes(group)) continue;
    if (bundle.minutes === 'unlimited') {
      included = charged;
      break;
    }
    const key = `${plan.planId}:${index}`;
    const left = bundles.get(key) ?? bundle.minutes * 60;
    const take = Math.min(left, charged - included);
    bundles.set(key, left - take);
    included += take;
    if (included >= charged) break;
  }
  if (included >= charged) return { kind: 'rated', costMicros: 0, includedSeconds: charged, group };
  const parts = splitByBand(definition, call.answeredAt, call.billableSeconds, timeZone);
  // The rounding up to the increment is charged in the last band the call reaches.
  const last = parts.at(-1);
  if (last) last.seconds += charged - call.billableSeconds;
  let skip = included;
  let weighted = 0;
  for (const part of parts) {
    const paid = Math.max(0, part.seconds - skip);
    skip = Math.max(0, skip - part.seconds);
    weighted += priceFor(definition, group, part.band, rate.pricePerMinute) * paid;
  }
  return {
    kind: 'rated',
    costMicros: rate.connectionFee + Math.floor((weighted + 30) / 60),
    includedSeconds: included,
    group,
  };
}

/** Which plan applies when: the customer's, else a product's of a running contract, else the tenant's. */
export interface PlanAssignment {
  planId: number;
  target: 'tenant' | 'product' | 'customer';
  productId: number | null;
  subjectId: number | null;
  /** Activation day, YYYY-MM-DD in the provider's zone. */
  validFrom: string;
}

/** A customer's contract products with their running days (YYYY-MM-DD, end inclusive or open). */
export interface ContractProduct {
  productId: number;
  startDate: string;
  endDate: string | null;
}

/** The assignment in force on a day among one target's assignments: the latest activated. */
function inForce(assignments: readonly PlanAssignment[], day: string): PlanAssignment | null {
  let best: PlanAssignment | null = null;
  for (const assignment of assignments) {
    if (assignment.validFrom <= day && (!best || assignment.validFrom > best.validFrom)) best = assignment;
  }
  return best;
}

/**
 * The plan id in force for a customer on a day: their own assignment, else one of a product
 * on a contract running that day (the most recently activated), else the tenant default; null:
 * the tariff alone.
 */
export function selectPlanId(
  assignments: readonly PlanAssignment[],
  subjectId: number,
  products: readonly ContractProduct[],
  day: string,
): number | null {
  const own = inForce(
    assignments.filter((a) => a.target === 'customer' && a.subjectId === subjectId),
    day,
  );
  if (own) return own.planId;
  const running = new Set(
    products
      .filter((p) => p.startDate <= day && (p.endDate === null || p.endDate >= day))
      .map((p) => p.productId),
  );
  const byProduct = [...running]
    .map((productId) =>
      inForce(
        assignments.filter((a) => a.target === 'product' && a.productId === productId),
        day,
      ),
    )
    .filter((a): a is PlanAssignment => a !== null)
    .sort((a, b) => (a.validFrom < b.validFrom ? 1 : a.validFrom > b.validFrom ? -1 : a.planId - b.planId));
  if (byProduct[0]) return byProduct[0].planId;
  return (
    inForce(
      assignments.filter((a) => a.target === 'tenant'),
      day,
    )?.planId ?? null
  );
}
