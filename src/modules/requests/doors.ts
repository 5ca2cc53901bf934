import {
  assertAllowed,
  checkAttempt,
  countAttempt,
  recordFailure,
  resetCounters,
  type Counter,
} from '../throttle/index.js';
import { isAppError } from '../../platform/errors.js';
import {
  loginWithLink,
  loginWithPassword,
  requestLoginLink,
  setPortalPassword,
  type PortalLogin,
  type PortalPasswordChange,
  type SubjectSession,
} from './account.service.js';
import {
  countLinkAsked,
  DEFAULT_PUBLIC_LIMITS,
  holdAnswer,
  targetOf,
  type PublicDoorLimits,
} from './limits.js';
import {
  submitPublicRequest,
  verifyPublicRequest,
  type PublicRequestInput,
  NO_BROWSER,
  type SignInBrowser,
  type RequestReceipt,
  type RequestsDeps,
} from './requests.service.js';
import type { RequestState } from './requests.tables.js';

/**
 * The public doors of the rights portal, each with its limits and answer hold (issue 11,
 * docs/decisions/0075, 0076), shared by the JSON routes and the portal's HTML pages so a form
 * cannot be a way around a limit.
 */

/** Files a public request: the same moment for a known and an unknown address (held to the form's quantum). */
export function fileRequestAtDoor(
  deps: RequestsDeps,
  slug: string,
  input: PublicRequestInput,
  address: string,
): Promise<RequestReceipt> {
  return holdAnswer(deps, 'form', () => submitPublicRequest(deps, slug, input, { address }));
}

/** Checks a code: every guess counts, five per request, and these per address and tenant. */
export async function verifyAtDoor(
  deps: RequestsDeps,
  slug: string,
  requestId: string,
  code: string,
  address: string,
): Promise<{ state: RequestState }> {
  const limits = deps.limits ?? DEFAULT_PUBLIC_LIMITS;
  const tenant = await deps.kernel.tenants.bySlug(slug);
  const verdict = await countAttempt(deps.kernel, tenant.tenantId, [
    { limit: limits.codeByAddress, value: address },
    { limit: limits.codeByTenant, value: '' },
  ]);
  assertAllowed(verdict, 'too many codes tried');
  return verifyPublicRequest(deps, slug, requestId, code);
}

/**
 * Asks for a login link: counted per client network, typed address from it and tenant (refused
 * past a limit, counted nowhere then); past the typed address's day of link mails, no mail.
 */
export function askLoginLinkAtDoor(
  deps: RequestsDeps,
  slug: string,
  email: string,
  address: string,
): Promise<void> {
  const limits = deps.limits ?? DEFAULT_PUBLIC_LIMITS;
  return holdAnswer(deps, 'link', async () => {
    const tenant = await deps.kernel.tenants.bySlug(slug);
    const { mayMail } = await countLinkAsked(deps.kernel, limits, tenant.tenantId, { address, email });
    await requestLoginLink(deps, slug, email, { mail: mayMail });
  });
}

/** The client address and typed e-mail counted for a portal login, known account or not. */
function loginCounters(
  limits: PublicDoorLimits,
  address: string,
  email: string | undefined,
): { all: Counter[]; account: Counter[] } {
  const account = email === undefined ? [] : [{ limit: limits.loginByAccount, value: targetOf(email) }];
  return { all: [{ limit: limits.loginByAddress, value: address }, ...account], account };
}

/**
 * Runs a portal login under its counters: refused (429, Retry-After) while a failure slow-down
 * runs, failures counted, a success clears the account's count. Kept in PostgreSQL, so every
 * process sees the same counts (docs/decisions/0075).
 */
async function throttledLogin(
  deps: RequestsDeps,
  slug: string,
  counters: { all: Counter[]; account: Counter[] },
  attempt: () => Promise<PortalLogin>,
): Promise<PortalLogin> {
  const tenant = await deps.kernel.tenants.bySlug(slug);
  assertAllowed(await checkAttempt(deps.kernel, tenant.tenantId, counters.all), 'too many failed logins');
  try {
    const login = await attempt();
    await resetCounters(deps.kernel, tenant.tenantId, counters.account);
    return login;
  } catch (error) {
    if (isAppError(error) && error.code === 'unauthenticated')
      await recordFailure(deps.kernel, tenant.tenantId, counters.all);
    throw error;
  }
}

/** Logs in with a mailed link's token (not held: the token is unguessable, a miss tells nothing). */
export function loginWithLinkAtDoor(
  deps: RequestsDeps,
  slug: string,
  token: string,
  address: string,
  browser: SignInBrowser = NO_BROWSER,
): Promise<PortalLogin> {
  const limits = deps.limits ?? DEFAULT_PUBLIC_LIMITS;
  return throttledLogin(deps, slug, loginCounters(limits, address, undefined), () =>
    loginWithLink(deps, slug, token, browser),
  );
}

/** Logs in with e-mail and password or a token: a wrong password answers when a right one would. */
export function loginAtDoor(
  deps: RequestsDeps,
  slug: string,
  body: { token: string } | { email: string; password: string },
  address: string,
  browser: SignInBrowser = NO_BROWSER,
): Promise<PortalLogin> {
  const limits = deps.limits ?? DEFAULT_PUBLIC_LIMITS;
  return holdAnswer(deps, 'login', () =>
    throttledLogin(
      deps,
      slug,
      loginCounters(limits, address, 'email' in body ? body.email : undefined),
      () =>
        'token' in body
          ? loginWithLink(deps, slug, body.token, browser)
          : loginWithPassword(deps, slug, body.email, body.password, browser),
    ),
  );
}

/**
 * Sets or changes the portal password. A wrong current password counts as a failed login of the
 * client network and of the account (slowed down like the login form), so an unlocked browser is
 * no place to guess it.
 */
export async function changePasswordAtDoor(
  deps: RequestsDeps,
  session: SubjectSession,
  change: PortalPasswordChange,
  address: string,
): Promise<{ otherSessionsEnded: number }> {
  const limits = deps.limits ?? DEFAULT_PUBLIC_LIMITS;
  const tenantId = session.tenant.tenantId;
  const counters = [
    { limit: limits.loginByAddress, value: address },
    { limit: limits.loginByAccount, value: `subject:${session.subjectId}` },
  ];
  assertAllowed(await checkAttempt(deps.kernel, tenantId, counters), 'too many wrong current passwords');
  try {
    return await setPortalPassword(deps, session, change);
  } catch (error) {
    if (isAppError(error) && error.details?.rule === 'current_password_wrong')
      await recordFailure(deps.kernel, tenantId, counters);
    throw error;
  }
}
