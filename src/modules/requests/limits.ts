import { answerInQuanta } from '../../http/constant-time.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Logger } from '../../platform/logger.js';
import { assertAllowed, countAttempt, type Limit } from '../throttle/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The limits of the public doors of the rights module (docs/decisions/0075). Counted per tenant:
 * per client address, per target (the e-mail address typed, known or not, so a 429 says nothing
 * about who exists) and for the tenant as a whole.
 */
export interface PublicDoorLimits {
  /** POST /t/<slug>/privacy/requests: every post counts. */
  formByAddress: Limit;
  formByTarget: Limit;
  formByTenant: Limit;
  /** POST …/requests/:id/verify: every guess counts, across all requests (each also allows 5). */
  codeByAddress: Limit;
  codeByTenant: Limit;
  /** POST /t/<slug>/account/link: every mail asked for counts. */
  linkByAddress: Limit;
  linkByTarget: Limit;
  linkByTenant: Limit;
  /** Portal logins: failures slow the next attempt down; nothing locks. */
  loginByAccount: Limit;
  loginByAddress: Limit;
}

export const DEFAULT_PUBLIC_LIMITS: PublicDoorLimits = {
  formByAddress: { bucket: 'request-form.address', mode: 'block', max: 20, windowMs: HOUR },
  formByTarget: { bucket: 'request-form.target', mode: 'block', max: 5, windowMs: HOUR },
  formByTenant: { bucket: 'request-form.tenant', mode: 'block', max: 500, windowMs: HOUR },
  codeByAddress: { bucket: 'request-code.address', mode: 'block', max: 30, windowMs: HOUR },
  codeByTenant: { bucket: 'request-code.tenant', mode: 'block', max: 1000, windowMs: HOUR },
  linkByAddress: { bucket: 'portal-link.address', mode: 'block', max: 10, windowMs: HOUR },
  linkByTarget: { bucket: 'portal-link.target', mode: 'block', max: 3, windowMs: HOUR },
  linkByTenant: { bucket: 'portal-link.tenant', mode: 'block', max: 500, windowMs: HOUR },
  loginByAccount: {
    bucket: 'portal-login.account',
    mode: 'slow',
    max: 5,
    windowMs: 15 * MINUTE,
    maxDelayMs: MINUTE,
  },
  loginByAddress: {
    bucket: 'portal-login.address',
    mode: 'slow',
    max: 20,
    windowMs: 15 * MINUTE,
    maxDelayMs: 30_000,
  },
};

/**
 * How long the doors that must not tell known from unknown people hold every answer (a multiple
 * of this, from the start of the handler; docs/decisions/0076). Several times the work measured
 * on a loaded two-core machine (median 90-180 ms, maximum ~450 ms).
 */
export interface AnswerQuanta {
  form: number;
  link: number;
  login: number;
}

export const DEFAULT_ANSWER_QUANTA: AnswerQuanta = { form: 400, link: 400, login: 600 };

/** What a typed e-mail address is counted as: trimmed and lower-cased, like every lookup. */
export const targetOf = (email: string): string => email.trim().toLowerCase();

/**
 * Counts a post of the request form per client address, typed address and tenant, and refuses it
 * (429) past a limit. Called once the input is known to be valid, so a typo costs no allowance.
 */
export async function countFormPost(
  kernel: Kernel,
  limits: PublicDoorLimits,
  tenantId: number,
  from: { address: string; email: string },
): Promise<void> {
  const verdict = await countAttempt(kernel, tenantId, [
    { limit: limits.formByAddress, value: from.address },
    { limit: limits.formByTarget, value: targetOf(from.email) },
    { limit: limits.formByTenant, value: '' },
  ]);
  assertAllowed(verdict, 'too many requests');
}

/** Runs a door's handler and holds its answer to the door's quantum; an overrun is logged. */
export function holdAnswer<T>(
  deps: { answerQuanta?: AnswerQuanta; logger: Logger },
  door: keyof AnswerQuanta,
  work: () => Promise<T>,
): Promise<T> {
  const quantum = (deps.answerQuanta ?? DEFAULT_ANSWER_QUANTA)[door];
  return answerInQuanta(quantum, work, (elapsedMs) =>
    deps.logger.warn(
      { door, elapsedMs: Math.round(elapsedMs), quantumMs: quantum },
      'a public door took longer than its answer quantum (timing may tell known from unknown people)',
    ),
  );
}
