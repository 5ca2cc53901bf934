/**
 * GDPR Art. 12(3): answer "without undue delay and in any event within one month of receipt";
 * extendable "by two further months where necessary". Dates are calendar dates in Brussels time
 * (YYYY-MM-DD), and a month after 31 January is the last day of February (no overflow into March).
 */

import { addDays, addMonths, belgianDay } from '../../platform/calendar.js';

/** Requests are received on Belgian days; a month after 31 January is the end of February. */
export { addMonths as addCalendarMonths, addDays, belgianDay as brusselsDate };

/** Due date: receipt + the policy's days, but never later than one calendar month after receipt. */
export function computeDueDate(receivedOn: string, policyDays: number): string {
  const byPolicy = addDays(receivedOn, policyDays);
  const oneMonth = addMonths(receivedOn, 1);
  return byPolicy < oneMonth ? byPolicy : oneMonth;
}

/** The latest allowed extended due date: two further months after the original due date. */
export function latestExtension(originalDueOn: string): string {
  return addMonths(originalDueOn, 2);
}
