import type { Counter, Limit } from '../throttle/index.js';

const MINUTE = 60_000;
/**
 * Failed staff logins slow the next attempt down, counted per account (the e-mail typed, known or
 * not) and per client address within the tenant, in PostgreSQL for every process; nothing here
 * locks an account (docs/decisions/0075). Only wrong second-factor codes lock, after a correct password.
 */
export const STAFF_LOGIN_LIMITS = {
  account: { bucket: 'staff-login.account', mode: 'slow', max: 5, windowMs: 15 * MINUTE, maxDelayMs: MINUTE },
  address: {
    bucket: 'staff-login.address',
    mode: 'slow',
    max: 20,
    windowMs: 15 * MINUTE,
    maxDelayMs: 30_000,
  },
} as const satisfies Record<string, Limit>;

/** The account counter of a typed e-mail address (also what `kluis staff unlock` resets). */
export const staffAccountCounter = (email: string): Counter => ({
  limit: STAFF_LOGIN_LIMITS.account,
  value: email.trim().toLowerCase(),
});
