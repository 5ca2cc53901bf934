/**
 * Wall-clock timestamps ("2024-03-31 02:30:00", as switches write them) to instants in an
 * IANA time zone, with Intl only (no time-zone library). Around DST changes a wall time can
 * be missing (spring forward) or occur twice (fall back); callers get every candidate and
 * choose with what else they know (a call's duration).
 */

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export type ParsedTimestamp = { kind: 'wall'; wall: WallClock } | { kind: 'instant'; epochMs: number };

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCaches = new Map<string, Map<number, number>>();
const OFFSET_CACHE_LIMIT = 100_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const HALF_DAY_MS = 12 * 3_600_000;

/**
 * Parses "YYYY-MM-DD HH:MM:SS" (or with T, fractions dropped). With a Z or ±HH:MM suffix the
 * instant is known; without one it is a wall-clock time still to be placed in a zone.
 * Returns null for anything else, including impossible dates (2024-02-30).
 */
export function parseTimestamp(text: string): ParsedTimestamp | null {
  const match = TIMESTAMP.exec(text.trim());
  if (match === null) return null;
  const [, y, mo, d, h, mi, s, zone] = match;
  const wall = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s),
  };
  if (!isValidWallClock(wall)) return null;
  if (zone === undefined) return { kind: 'wall', wall };
  const offsetMs = parseOffsetMs(zone);
  if (offsetMs === null) return null;
  return { kind: 'instant', epochMs: wallAsUtc(wall) - offsetMs };
}

/** Throws a RangeError for a zone Intl does not know; call once when options are read. */
export function assertTimeZone(timeZone: string): void {
  findFormatter(timeZone);
}

/**
 * Every instant at which clocks in `timeZone` showed `wall`, earliest first: one normally,
 * two in the repeated hour of autumn. For the missing hour of spring the single result is
 * the wall time read with the offset before the change (02:30 becomes 03:30 summer time),
 * the same choice as Temporal's "compatible" disambiguation.
 */
export function resolveWallClock(wall: WallClock, timeZone: string): number[] {
  const local = wallAsUtc(wall);
  if (timeZone === 'UTC') return [local];
  const offsetBefore = findOffsetMs(local - HALF_DAY_MS, timeZone);
  const offsetAfter = findOffsetMs(local + HALF_DAY_MS, timeZone);
  const candidates = new Set<number>();
  for (const offset of [offsetBefore, offsetAfter]) {
    const instant = local - offset;
    if (findOffsetMs(instant, timeZone) === offset) candidates.add(instant);
  }
  if (candidates.size === 0) return [local - offsetBefore];
  return [...candidates].sort((a, b) => a - b);
}

/** The zone's UTC offset at an instant, in milliseconds (Brussels in summer: 7,200,000). */
export function findOffsetMs(epochMs: number, timeZone: string): number {
  // Intl is slow; millions of call records fall in a few thousand hours. An hour whose
  // start and end have the same offset holds no change (changes are at least a day apart),
  // so its offset is cached; the rare hour with a change is computed per minute, and
  // offsets change on whole minutes in every zone since 1972.
  let cache = offsetCaches.get(timeZone);
  if (cache === undefined) {
    cache = new Map<number, number>();
    offsetCaches.set(timeZone, cache);
  }
  const hour = Math.floor(epochMs / HOUR_MS);
  const cached = cache.get(hour);
  if (cached !== undefined) return cached;
  const atStart = computeOffsetMs(hour * HOUR_MS, timeZone);
  const atEnd = computeOffsetMs((hour + 1) * HOUR_MS - MINUTE_MS, timeZone);
  if (atStart !== atEnd) return computeOffsetMs(Math.floor(epochMs / MINUTE_MS) * MINUTE_MS, timeZone);
  if (cache.size >= OFFSET_CACHE_LIMIT) cache.clear();
  cache.set(hour, atStart);
  return atStart;
}

function computeOffsetMs(epochMs: number, timeZone: string): number {
  const parts = findFormatter(timeZone).formatToParts(new Date(epochMs));
  const read = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value);
  const wall = {
    year: read('year'),
    month: read('month'),
    day: read('day'),
    hour: read('hour'),
    minute: read('minute'),
    second: read('second'),
  };
  return wallAsUtc(wall) - epochMs;
}

function findFormatter(timeZone: string): Intl.DateTimeFormat {
  const existing = formatters.get(timeZone);
  if (existing !== undefined) return existing;
  const formatter = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  formatters.set(timeZone, formatter);
  return formatter;
}

function wallAsUtc(wall: WallClock): number {
  // Date.UTC reads the years 0 to 99 as 1900 to 1999; set the full year after.
  const at = new Date(Date.UTC(2000, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second));
  return at.setUTCFullYear(wall.year, wall.month - 1, wall.day);
}

function isValidWallClock(wall: WallClock): boolean {
  if (wall.month < 1 || wall.month > 12 || wall.day < 1) return false;
  if (wall.hour > 23 || wall.minute > 59 || wall.second > 59) return false;
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(wall.year, wall.month, 0);
  const daysInMonth = lastDay.getUTCDate();
  return wall.day <= daysInMonth;
}

/** Offsets in use on Earth run from -12:00 to +14:00; anything else (+99:00) is no offset. */
const MAX_OFFSET_MINUTES = 14 * 60;

function parseOffsetMs(zone: string): number | null {
  if (zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(2, 4));
  const total = Number(digits.slice(0, 2)) * 60 + minutes;
  if (minutes > 59 || total > MAX_OFFSET_MINUTES) return null;
  return sign * total * MINUTE_MS;
}
