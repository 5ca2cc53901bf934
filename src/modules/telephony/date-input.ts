import { AppError } from '../../platform/errors.js';
import { parseTimestamp, resolveWallClock } from './local-time.js';

/** Billing months are calendar months where the provider is. */
export const BILLING_TIME_ZONE = 'Europe/Brussels';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A date or time given by a person (CLI option, form field): "2024-03-01" is midnight in the
 * zone, "2024-03-01 08:00:00" a wall time there, and a value with Z or an offset is taken as is.
 * Throws validation_failed naming the field.
 */
export function parseDateOrInstant(text: string, timeZone: string, field: string): Date {
  const trimmed = text.trim();
  const dateOnly = DATE_ONLY.exec(trimmed);
  const parsed = parseTimestamp(dateOnly ? `${trimmed} 00:00:00` : trimmed);
  if (parsed === null) {
    throw new AppError('validation_failed', `${field} is not a date`, {
      publicMessage: `${field}: expected a date YYYY-MM-DD or a time YYYY-MM-DD HH:MM:SS (optionally with Z or an offset)`,
    });
  }
  if (parsed.kind === 'instant') return new Date(parsed.epochMs);
  const [first] = resolveWallClock(parsed.wall, timeZone);
  return new Date(first ?? Number.NaN);
}

/** Midnight at the start of the month `monthsBack` months before the month holding `at`, in the zone. */
export function startOfMonthBefore(at: Date, monthsBack: number, timeZone: string): Date {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
  }).formatToParts(at);
  const year = Number(parts.find((p) => p.type === 'year')?.value);
  const month = Number(parts.find((p) => p.type === 'month')?.value);
  const index = year * 12 + (month - 1) - monthsBack;
  const wall = {
    year: Math.floor(index / 12),
    month: (index % 12) + 1,
    day: 1,
    hour: 0,
    minute: 0,
    second: 0,
  };
  const [first] = resolveWallClock(wall, timeZone);
  return new Date(first ?? Number.NaN);
}
