import { currentLanguage } from '../i18n/index.js';

/**
 * A calendar day (`YYYY-MM-DD` from the API) as a person in Belgium writes it: dd-mm-jjjj in Dutch,
 * dd/mm/yyyy in French and English. Read from the string itself, so no time zone can move the day;
 * anything that is not such a day is shown as it came.
 */
export function formatDay(iso: string | null | undefined, fallback = '—'): string {
  if (!iso) return fallback;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) return iso;
  const [, year, month, day] = match;
  return currentLanguage() === 'nl' ? `${day}-${month}-${year}` : `${day}/${month}/${year}`;
}

/** A table cell showing its column's day as formatDay writes it (sorting keeps the ISO value). */
export function dayCell({ getValue }: { getValue: () => unknown }): string {
  const value = getValue();
  return typeof value === 'string' ? formatDay(value, value) : '—';
}

/** The day in Brussels of a moment (an ISO timestamp), as formatDay writes it. */
export function formatDayOfMoment(iso: string): string {
  return formatDay(brusselsToday(new Date(iso)));
}

/**
 * Today in Brussels as `YYYY-MM-DD`: the calendar day of the business, not of UTC (which is still
 * yesterday between midnight and 01:00/02:00 Brussels time) nor of the browser's own zone.
 */
export function brusselsToday(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Brussels' }).format(now);
}

/** A calendar day `days` later (earlier when negative), counted on the calendar, not in hours. */
export function addDays(day: string, days: number): string {
  const [year = 1970, month = 1, date = 1] = day.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, date + days)).toISOString().slice(0, 10);
}

/** Last month in Brussels as `YYYY-MM`, with its first and last day. */
export function brusselsLastMonth(now: Date = new Date()): { month: string; from: string; to: string } {
  const [year = 1970, month = 1] = brusselsToday(now).split('-').map(Number);
  const from = new Date(Date.UTC(year, month - 2, 1)).toISOString().slice(0, 10);
  const to = new Date(Date.UTC(year, month - 1, 0)).toISOString().slice(0, 10);
  return { month: from.slice(0, 7), from, to };
}

/**
 * A moment as a person in Belgium reads it: the Brussels day as formatDay writes it (four-digit
 * year in every language), then the Brussels time (`seconds` for the audit trail). The browser's
 * own zone plays no part.
 */
export function formatMoment(iso: string, options: { seconds?: boolean } = {}): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Brussels',
    hour: '2-digit',
    minute: '2-digit',
    ...(options.seconds ? { second: '2-digit' as const } : {}),
    hourCycle: 'h23',
  }).format(date);
  return `${formatDay(brusselsToday(date))} ${time}`;
}

/** The Brussels clock time of a moment, `HH:MM:SS` (24 h), the browser's own zone playing no part. */
export function brusselsTime(date: Date): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Brussels',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(date);
}

/** A month (`YYYY-MM`) in words in the screen's language: "October 2026", "oktober 2026". */
export function formatMonth(month: string): string {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  if (!match) return month;
  return new Intl.DateTimeFormat(`${currentLanguage()}-BE`, {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)));
}
