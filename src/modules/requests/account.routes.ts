import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readCookie } from '../../http/auth.js';
import { AccessReportSchema } from '../../kernel/access-report/index.js';
import {
  authenticateSubject,
  fileAccountRequest,
  loginWithLink,
  loginWithPassword,
  readOwnData,
  requestLoginLink,
  setPortalPassword,
  type PortalLogin,
  type SubjectSession,
} from './account.service.js';
import { REQUEST_KINDS, type RequestsDeps } from './requests.service.js';
import { isAppError } from '../../platform/errors.js';
import {
  assertAllowed,
  checkAttempt,
  countAttempt,
  recordFailure,
  resetCounters,
  type Counter,
} from '../throttle/index.js';
import { DEFAULT_PUBLIC_LIMITS, holdAnswer, targetOf, type PublicDoorLimits } from './limits.js';

export const SUBJECT_COOKIE = 'kluis_subject';
const slugParams = z.object({ slug: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/) });
const statusSchema = z.object({
  requestId: z.string(),
  kind: z.enum(REQUEST_KINDS),
  state: z.string(),
  receivedOn: z.string(),
  dueOn: z.string(),
});

function setSessionCookie(
  reply: FastifyReply,
  slug: string,
  login: PortalLogin,
  secure: boolean,
): { csrfToken: string } {
  void reply.setCookie(SUBJECT_COOKIE, login.sessionToken, {
    path: `/t/${slug}/`,
    httpOnly: true,
    sameSite: 'strict',
    maxAge: 8 * 3600,
    secure,
  });
  return { csrfToken: login.csrfToken };
}

/**
 * The portal account signed in on this request (the HttpOnly cookie; on writes also the CSRF
 * token in x-csrf-token). Other modules' portal routes authenticate with it (consent).
 */
export async function portalSessionOf(
  deps: RequestsDeps,
  request: FastifyRequest<{ Params: { slug: string } }>,
  write: boolean,
): Promise<SubjectSession> {
  return session(deps, request, write);
}

async function session(
  deps: RequestsDeps,
  request: FastifyRequest<{ Params: { slug: string } }>,
  write: boolean,
): Promise<SubjectSession> {
  const cookie = readCookie(request, SUBJECT_COOKIE) ?? '';
  const csrf = write ? String(request.headers['x-csrf-token'] ?? '') : undefined;
  return authenticateSubject(deps, request.params.slug, cookie, csrf);
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

/** The privacy portal for the provider's customers: login, own data, requests from the account. */
export function registerAccountRoutes(
  app: FastifyInstance,
  deps: RequestsDeps,
  options: { secureCookies: boolean },
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const limits = deps.limits ?? DEFAULT_PUBLIC_LIMITS;
  typed.post(
    '/t/:slug/account/link',
    {
      schema: {
        summary:
          'Send a one-time login link to the e-mail address on file (the answer is the same for unknown addresses)',
        tags: ['privacy portal'],
        params: slugParams,
        body: z.object({ email: z.string().max(320) }),
        response: { 202: z.object({ next: z.string() }) },
      },
    },
    async (request, reply) =>
      // The same moment for a known and an unknown address (issue 11): held to the link's quantum.
      holdAnswer(deps, 'link', async () => {
        // Every mail asked for counts: per client address, per typed address (known or not), per tenant.
        const tenant = await deps.kernel.tenants.bySlug(request.params.slug);
        const verdict = await countAttempt(deps.kernel, tenant.tenantId, [
          { limit: limits.linkByAddress, value: request.ip },
          { limit: limits.linkByTarget, value: targetOf(request.body.email) },
          { limit: limits.linkByTenant, value: '' },
        ]);
        assertAllowed(verdict, 'too many login links asked for');
        await requestLoginLink(deps, request.params.slug, request.body.email);
      }).then(() =>
        // Sent after the hold, not inside it.
        reply
          .status(202)
          .send({ next: 'if this e-mail address is known to us, a login link was sent to it' }),
      ),
  );
  typed.post(
    '/t/:slug/account/login',
    {
      schema: {
        summary: 'Log in with the one-time link token, or with e-mail and password',
        tags: ['privacy portal'],
        params: slugParams,
        body: z.union([
          z.object({ token: z.string().max(64) }),
          z.object({ email: z.string().max(320), password: z.string().max(200) }),
        ]),
        response: { 200: z.object({ csrfToken: z.string() }) },
      },
    },
    async (request, reply) =>
      // A wrong password answers at the same moment for a known and an unknown address (issue 11).
      holdAnswer(deps, 'login', async () => {
        const body = request.body;
        const counters = loginCounters(limits, request.ip, 'email' in body ? body.email : undefined);
        const login = await throttledLogin(deps, request.params.slug, counters, () =>
          'token' in body
            ? loginWithLink(deps, request.params.slug, body.token)
            : loginWithPassword(deps, request.params.slug, body.email, body.password),
        );
        return setSessionCookie(reply, request.params.slug, login, options.secureCookies);
      }),
  );
  typed.get(
    '/t/:slug/account/login',
    {
      schema: {
        summary:
          'The one-time login link as mailed: logs in and shows the portal page (works once, for 15 minutes)',
        tags: ['privacy portal'],
        params: slugParams,
        querystring: z.object({ token: z.string().max(64) }),
        response: { 200: z.string() },
      },
    },
    async (request, reply) => {
      const login = await throttledLogin(
        deps,
        request.params.slug,
        loginCounters(limits, request.ip, undefined),
        () => loginWithLink(deps, request.params.slug, request.query.token),
      );
      const { csrfToken } = setSessionCookie(reply, request.params.slug, login, options.secureCookies);
      const base = `/t/${request.params.slug}`;
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(
          `<!doctype html><html><head><meta charset="utf-8"><meta name="csrf-token" content="${csrfToken}"><title>Privacy portal</title></head><body><h1>Privacy portal</h1><p><a href="${base}/account/data">My data</a> · <a href="${base}/privacy">Privacy statement</a></p></body></html>`,
        );
    },
  );
  typed.post(
    '/t/:slug/account/password',
    {
      schema: {
        summary: 'Set the account password',
        tags: ['privacy portal'],
        params: slugParams,
        body: z.object({ password: z.string().max(200) }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await setPortalPassword(deps, await session(deps, request, true), request.body.password);
      return reply.status(204).send(null);
    },
  );
  typed.get(
    '/t/:slug/account/data',
    {
      schema: {
        summary: 'Everything the provider holds about me (the access report)',
        tags: ['privacy portal'],
        params: slugParams,
        response: { 200: AccessReportSchema },
      },
    },
    async (request) => readOwnData(deps, await session(deps, request, false)),
  );
  typed.post(
    '/t/:slug/account/requests',
    {
      schema: {
        summary:
          'Exercise a right from the account: carried out at once (erasure included; legal holds respected)',
        tags: ['privacy portal'],
        params: slugParams,
        body: z.object({
          kind: z.enum(REQUEST_KINDS),
          purposes: z.array(z.string()).max(30).optional(),
          corrections: z.record(z.string(), z.unknown()).optional(),
          /** Portability only: push the package to this https:// endpoint (Art. 20(2)). */
          transferTo: z.string().max(2048).optional(),
        }),
        response: { 200: statusSchema },
      },
    },
    async (request) => {
      const subject = await session(deps, request, true);
      return fileAccountRequest(deps, subject, {
        kind: request.body.kind,
        ...(request.body.purposes ? { purposes: request.body.purposes } : {}),
        ...(request.body.corrections ? { corrections: request.body.corrections } : {}),
        ...(request.body.transferTo === undefined ? {} : { transferTo: request.body.transferTo }),
      });
    },
  );
}
