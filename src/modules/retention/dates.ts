/** Calendar dates as YYYY-MM-DD strings; retention counts whole days in Belgium. */

export { addDays, addMonths, belgianDay, isIsoDay } from '../../platform/calendar.js';
import { addMonths } from '../../platform/calendar.js';

export function addYears(day: string, years: number): string {
  return addMonths(day, years * 12);
}
