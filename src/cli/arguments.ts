import { AppError } from '../platform/errors.js';

/** A whole number given on the command line (`--people 20000`); anything else names the option. */
export function parseWholeNumber(
  value: string,
  option: string,
  range: { min?: number; max?: number } = {},
): number {
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    const bounds = range.max === undefined ? `${min} or more` : `from ${min} to ${max}`;
    throw new AppError('validation_failed', `${option} is not a whole number`, {
      publicMessage: `${option}: expected a whole number ${bounds}`,
    });
  }
  return parsed;
}

/**
 * An instant as a person reads it in the zone the dates were given in: `2026-10-01` for
 * midnight (as `--from 2026-10-01` was meant), else `2026-10-01 08:30:00`.
 */
export function formatLocal(at: Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(at);
  return text.endsWith(' 00:00:00') ? text.slice(0, 10) : text;
}
