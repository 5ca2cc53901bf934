/**
 * Calendar days (YYYY-MM-DD) and Belgian time, in one place (decision 0088). Before: the Belgian
 * date of an instant was written four times, adding days three times, adding months twice.
 *
 * Days are civil dates, not instants: their arithmetic is done on UTC midnights, where every day
 * has 24 hours, so a daylight-saving change cannot move a date. The one conversion that needs the
 * zone, instant → Belgian day, uses Intl with the IANA database Node ships (full ICU).
 */

const BELGIAN_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Brussels',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar day in Belgium at an instant: contracts, invoices and requests run on Belgian days. */
export function belgianDay(at: Date): string {
  return BELGIAN_DAY.format(at);
}

const BELGIAN_MOMENT = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Brussels',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

export type MomentPart = 'day' | 'month' | 'year' | 'hour' | 'minute' | 'second';

/** The parts of an instant on the Brussels clock, two digits each (the year four). */
export function belgianMomentParts(at: Date): Record<MomentPart, string> {
  const parts = BELGIAN_MOMENT.formatToParts(at);
  const part = (type: MomentPart): string => parts.find((piece) => piece.type === type)?.value ?? '';
  return {
    day: part('day'),
    month: part('month'),
    year: part('year'),
    hour: part('hour'),
    minute: part('minute'),
    second: part('second'),
  };
}

/** An instant as a person in Belgium reads it: dd-mm-jjjj hh:mm, Brussels time (decision 0924). */
export function belgianMoment(at: Date): string {
  const { day, month, year, hour, minute } = belgianMomentParts(at);
  return `${day}-${month}-${year} ${hour}:${minute}`;
}

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function partsOf(day: string): [number, number, number] {
  const match = ISO_DAY.exec(day);
  if (!match) throw new Error('not a calendar day');
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

const dayOf = (utc: Date): string => utc.toISOString().slice(0, 10);

export function isIsoDay(value: string): boolean {
  const match = ISO_DAY.exec(value);
  if (!match) return false;
  return dayOf(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])))) === value;
}

/** The languages a person reads a day in: Belgian Dutch and French, British English. */
export type DayLanguage = 'nl' | 'fr' | 'en';

// UTC on a date-only value: the day is formatted at its own midnight and never shifts a day.
const LONG_DATE: Record<DayLanguage, Intl.DateTimeFormat> = {
  nl: new Intl.DateTimeFormat('nl-BE', { dateStyle: 'long', timeZone: 'UTC' }),
  fr: new Intl.DateTimeFormat('fr-BE', { dateStyle: 'long', timeZone: 'UTC' }),
  en: new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' }),
};

/**
 * A calendar day as a person reads it in a letter, mail or page: "2 december 2026", "2 décembre
 * 2026", "2 December 2026". Stored facts stay ISO; this is applied where the text is composed.
 * A value that is not an ISO day is returned as given: a letter never fails over its date.
 */
export function longDate(day: string, lang: DayLanguage): string {
  if (!isIsoDay(day)) return day;
  return LONG_DATE[lang].format(new Date(`${day}T00:00:00Z`));
}

export function addDays(day: string, days: number): string {
  const [year, month, date] = partsOf(day);
  return dayOf(new Date(Date.UTC(year, month - 1, date + days)));
}

/** Adds months; a day that the target month lacks becomes its last day (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(day: string, months: number): string {
  const [year, month, date] = partsOf(day);
  const first = new Date(Date.UTC(year, month - 1 + months, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  first.setUTCDate(Math.min(date, last));
  return dayOf(first);
}

/** `from` plus an ISO 8601 period of whole years, months or days (calendar arithmetic, UTC). */
export function addPeriod(from: Date, period: string): Date {
  const match = /^P(\d+)([YMD])$/.exec(period);
  if (!match) throw new Error(`not a period: ${period}`);
  const n = Number(match[1]);
  const date = new Date(from.getTime());
  if (match[2] === 'Y') date.setUTCFullYear(date.getUTCFullYear() + n);
  else if (match[2] === 'M') date.setUTCMonth(date.getUTCMonth() + n);
  else date.setUTCDate(date.getUTCDate() + n);
  return date;
}
