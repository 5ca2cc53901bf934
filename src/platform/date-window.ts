import { AppError } from './errors.js';

/**
 * The dates Kluis stores for what happened or holds (decision 0282): nothing before 2000-01-01
 * (no telecom or bank record of a customer of today is older; an earlier year is a typo or a
 * parser reading "0000" as 1900), and nothing later than today plus a margin:
 *
 * - `happened`: a fact already true (a call, a payment's value date): a week, for clocks and
 *   time zones of switches and a bank's value date set a few days after booking;
 * - `planned`: a period set ahead (a number or line identifier given or ended from a day): a year.
 */
export const EARLIEST_ACCEPTED_DAY = '2000-01-01';
export const FUTURE_MARGIN_DAYS = { happened: 7, planned: 366 } as const;
export type DateKind = keyof typeof FUTURE_MARGIN_DAYS;

const DAY_MS = 86_400_000;
const EARLIEST_MS = Date.parse(`${EARLIEST_ACCEPTED_DAY}T00:00:00Z`);

/** The accepted window on `now` for a kind of date, as instants [notBefore, notAfter]. */
export function acceptedWindow(now: Date, kind: DateKind): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(EARLIEST_MS),
    notAfter: new Date(now.getTime() + FUTURE_MARGIN_DAYS[kind] * DAY_MS),
  };
}

/**
 * Why an instant or a calendar day (YYYY-MM-DD) lies outside the window, or undefined when it
 * lies inside. The message names the window, never the value (it may be part of a record).
 */
export function outsideAcceptedWindow(at: Date | string, now: Date, kind: DateKind): string | undefined {
  const { notBefore, notAfter } = acceptedWindow(now, kind);
  const last = notAfter.toISOString().slice(0, 10);
  const ms = typeof at === 'string' ? Date.parse(`${at}T00:00:00Z`) : at.getTime();
  const tooLate = typeof at === 'string' ? at > last : ms > notAfter.getTime();
  if (Number.isNaN(ms) || ms < notBefore.getTime() || tooLate)
    return `must lie between ${EARLIEST_ACCEPTED_DAY} and ${last}`;
  return undefined;
}

/** Throws validation_failed naming the field when the date lies outside the accepted window. */
export function assertAcceptedDate(at: Date | string, now: Date, kind: DateKind, field: string): void {
  const problem = outsideAcceptedWindow(at, now, kind);
  if (problem !== undefined)
    throw new AppError('validation_failed', `${field} outside the accepted window`, {
      publicMessage: `${field}: ${problem}`,
      details: { issues: [{ path: field, message: problem }] },
    });
}
