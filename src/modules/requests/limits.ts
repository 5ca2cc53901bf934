import { answerInQuanta } from '../../http/constant-time.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Logger } from '../../platform/logger.js';
import { isIPv6 } from 'node:net';
import { admitAttempt, assertAllowed, type Counter, type Limit } from '../throttle/index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The limits of the public doors of the rights module (docs/decisions/0075, 0460). Counted per
 * tenant: per client network, per typed address from that network, per typed address from
 * anywhere (known or not, so a 429 or a missing mail says nothing about who exists), and for the
 * tenant as a whole. Only attempts let through are counted: a refused one counts nowhere.
 */
export interface PublicDoorLimits {
  /** POST /t/<slug>/privacy/requests (and the portal's forms): per client network. */
  formByAddress: Limit;
  /** Per typed address from one client network: one network cannot use up another's allowance. */
  formByTarget: Limit;
  /** Code mails to one typed address from all networks: past it the request is filed, no code is sent. */
  formMailsByTarget: Limit;
  formByTenant: Limit;
  /** POST …/requests/:id/verify: every guess counts, across all requests (each also allows 5). */
  codeByAddress: Limit;
  codeByTenant: Limit;
  /** POST /t/<slug>/account/link: per client network, per typed address from it, per tenant. */
  linkByAddress: Limit;
  linkByTarget: Limit;
  /** Login-link mails to one typed address from all networks: past it the answer is the same, no mail. */
  linkMailsByTarget: Limit;
  linkByTenant: Limit;
  /** Portal logins: failures slow the next attempt down; nothing locks. */
  loginByAccount: Limit;
  loginByAddress: Limit;
}

export const DEFAULT_PUBLIC_LIMITS: PublicDoorLimits = {
  formByAddress: { bucket: 'request-form.address', mode: 'block', max: 20, windowMs: HOUR },
  formByTarget: { bucket: 'request-form.target-network', mode: 'block', max: 5, windowMs: HOUR },
  formMailsByTarget: { bucket: 'request-form.target-mails', mode: 'block', max: 20, windowMs: DAY },
  formByTenant: { bucket: 'request-form.tenant', mode: 'block', max: 500, windowMs: HOUR },
  codeByAddress: { bucket: 'request-code.address', mode: 'block', max: 30, windowMs: HOUR },
  codeByTenant: { bucket: 'request-code.tenant', mode: 'block', max: 1000, windowMs: HOUR },
  linkByAddress: { bucket: 'portal-link.address', mode: 'block', max: 10, windowMs: HOUR },
  linkByTarget: { bucket: 'portal-link.target-network', mode: 'block', max: 3, windowMs: HOUR },
  linkMailsByTarget: { bucket: 'portal-link.target-mails', mode: 'block', max: 10, windowMs: DAY },
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
 * The network a client address stands for (decision 0460): an IPv4 address itself, and the /64
 * prefix of an IPv6 address, which one subscriber's devices share and can change freely within.
 */
export function networkOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The counters of one public door that mails a typed address: limits first, then its mail budget. */
function doorCounters(
  limits: MailingDoorLimits,
  from: { address: string; email: string },
): { limits: Counter[]; budgets: Counter[] } {
  const network = networkOf(from.address);
  const target = targetOf(from.email);
  return {
    limits: [
      { limit: limits.byAddress, value: network },
      { limit: limits.byTarget, value: `${target}\u0000${network}` },
      { limit: limits.byTenant, value: '' },
    ],
    budgets: [{ limit: limits.mailsByTarget, value: target }],
  };
}

interface MailingDoorLimits {
  byAddress: Limit;
  byTarget: Limit;
  mailsByTarget: Limit;
  byTenant: Limit;
}

/** Counts one attempt at a door that mails a typed address; 429 past a limit, else whether to mail. */
async function countMailingDoor(
  kernel: Kernel,
  tenantId: number,
  limits: MailingDoorLimits,
  from: { address: string; email: string },
  refusal: string,
): Promise<{ mayMail: boolean }> {
  const counters = doorCounters(limits, from);
  const { verdict, withinBudget } = await admitAttempt(kernel, tenantId, counters.limits, counters.budgets);
  assertAllowed(verdict, refusal);
  return { mayMail: withinBudget[0] === true };
}

/**
 * Counts a post of the request form per client network, typed address from that network and
 * tenant, and refuses it (429) past a limit; a refused post counts nowhere. Called once the input
 * is valid, so a typo costs no allowance. Returns whether the code may still be mailed: false once
 * the typed address had its day's code mails, from whatever network (the request is filed anyway).
 */
export async function countFormPost(
  kernel: Kernel,
  limits: PublicDoorLimits,
  tenantId: number,
  from: { address: string; email: string },
): Promise<{ mayMail: boolean }> {
  const door = {
    byAddress: limits.formByAddress,
    byTarget: limits.formByTarget,
    mailsByTarget: limits.formMailsByTarget,
    byTenant: limits.formByTenant,
  };
  return countMailingDoor(kernel, tenantId, door, from, 'too many requests');
}

/** `countFormPost` for the login-link door: whether the link may be mailed. */
export async function countLinkAsked(
  kernel: Kernel,
  limits: PublicDoorLimits,
  tenantId: number,
  from: { address: string; email: string },
): Promise<{ mayMail: boolean }> {
  const door = {
    byAddress: limits.linkByAddress,
    byTarget: limits.linkByTarget,
    mailsByTarget: limits.linkMailsByTarget,
    byTenant: limits.linkByTenant,
  };
  return countMailingDoor(kernel, tenantId, door, from, 'too many login links asked for');
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
