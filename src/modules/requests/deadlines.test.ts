import { describe, expect, it } from 'vitest';
import { addCalendarMonths, brusselsDate, computeDueDate, latestExtension } from './deadlines.js';

describe('deadlines (VK-27)', () => {
  // Part of VK-27, at unit level (requirement IDs title end-to-end tests only).
  it('receipt + the policy’s 30 days, capped at one calendar month', () => {
    expect(computeDueDate('2026-03-01', 30)).toBe('2026-03-31');
    expect(computeDueDate('2026-01-15', 30)).toBe('2026-02-14');
    // February: 30 days would pass the one-month mark.
    expect(computeDueDate('2026-02-01', 30)).toBe('2026-03-01');
    expect(computeDueDate('2026-02-10', 30)).toBe('2026-03-10');
    // A shorter policy deadline wins.
    expect(computeDueDate('2026-03-01', 15)).toBe('2026-03-16');
  });

  // Part of VK-27, at unit level (requirement IDs title end-to-end tests only).

  it('month ends: 31 January + 1 month is the last day of February (leap years included)', () => {
    expect(addCalendarMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addCalendarMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(computeDueDate('2026-01-31', 30)).toBe('2026-02-28');
    expect(addCalendarMonths('2026-12-15', 1)).toBe('2027-01-15');
  });

  // Part of VK-27, at unit level (requirement IDs title end-to-end tests only).

  it('an extension reaches at most two further months after the original due date', () => {
    expect(latestExtension('2026-02-28')).toBe('2026-04-28');
    expect(latestExtension('2026-12-31')).toBe('2027-02-28');
  });

  it('receipt is counted on the Brussels calendar day', () => {
    expect(brusselsDate(new Date('2026-03-31T22:30:00Z'))).toBe('2026-04-01');
    expect(brusselsDate(new Date('2026-01-31T22:30:00Z'))).toBe('2026-01-31');
  });
});
