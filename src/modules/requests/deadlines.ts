/**
 * GDPR Art. 12(3): answer "without undue delay and in any event within one month of receipt";
 * extendable "by two further months where necessary". Dates are calendar dates in Brussels time
 * (YYYY-MM-DD), and a month after 31 January is the last day of February (no overflow into March).
 */

export function addCalendarMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const targetMonthIndex = m - 1 + months;
  const year = y + Math.floor(targetMonthIndex / 12);
  const month = ((targetMonthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return `${year}-${String(month + 1).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}`;
}

export function addDays(date: string, days: number): string {
  const at = new Date(`${date}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

/** The calendar date in Europe/Brussels of an instant: requests are received on Belgian days. */
export function brusselsDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Brussels',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** Due date: receipt + the policy's days, but never later than one calendar month after receipt. */
export function computeDueDate(receivedOn: string, policyDays: number): string {
  const byPolicy = addDays(receivedOn, policyDays);
  const oneMonth = addCalendarMonths(receivedOn, 1);
  return byPolicy < oneMonth ? byPolicy : oneMonth;
}

/** The latest allowed extended due date: two further months after the original due date. */
export function latestExtension(originalDueOn: string): string {
  return addCalendarMonths(originalDueOn, 2);
}
