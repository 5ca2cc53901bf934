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
import { createHash } from 'node:crypto';
import { LoginLimiter } from '../staff/index.js';
import { AppError } from '../../platform/errors.js';

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
  const parts = [
    `${SUBJECT_COOKIE}=${login.sessionToken}`,
    `Path=/t/${slug}/`,
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${8 * 3600}`,
  ];
  if (secure) parts.push('Secure');
  void reply.header('set-cookie', parts.join('; '));
  return { csrfToken: login.csrfToken };
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

const WINDOW_MS = 15 * 60 * 1000;

/**
 * Limits, in this process's memory: failed portal logins per client address and per e-mail
 * address tried (against password guessing), and login-link mails per client address and per
 * e-mail address (against flooding a customer's inbox). Over a limit the answer is 429.
 */
function createPortalLimits(deps: RequestsDeps) {
  const limiter = (maxFailures: number) =>
    new LoginLimiter({ maxFailures, windowMs: WINDOW_MS, clock: deps.kernel.clock });
  return {
    loginByAddress: limiter(20),
    loginByEmail: limiter(5),
    linkByAddress: limiter(10),
    linkByEmail: limiter(3),
  };
}

function emailKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
}

function refuseIfBlocked(...checks: Array<[LoginLimiter, string]>): void {
  if (checks.some(([limiter, key]) => key !== '' && limiter.isBlocked(key))) {
    throw new AppError('rate_limited', 'portal limit reached', {
      publicMessage: 'too many attempts; try again in 15 minutes',
    });
  }
}

/** The privacy portal for the provider's customers: login, own data, requests from the account. */
export function registerAccountRoutes(
  app: FastifyInstance,
  deps: RequestsDeps,
  options: { secureCookies: boolean },
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const limits = createPortalLimits(deps);
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
    async (request, reply) => {
      const email = emailKey(request.body.email);
      refuseIfBlocked([limits.linkByAddress, request.ip], [limits.linkByEmail, email]);
      limits.linkByAddress.recordFailure(request.ip);
      limits.linkByEmail.recordFailure(email);
      await requestLoginLink(deps, request.params.slug, request.body.email);
      return reply
        .status(202)
        .send({ next: 'if this e-mail address is known to us, a login link was sent to it' });
    },
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
    async (request, reply) => {
      const body = request.body;
      const email = 'email' in body ? emailKey(body.email) : '';
      refuseIfBlocked([limits.loginByAddress, request.ip], [limits.loginByEmail, email]);
      try {
        const login =
          'token' in body
            ? await loginWithLink(deps, request.params.slug, body.token)
            : await loginWithPassword(deps, request.params.slug, body.email, body.password);
        return setSessionCookie(reply, request.params.slug, login, options.secureCookies);
      } catch (error) {
        limits.loginByAddress.recordFailure(request.ip);
        if (email) limits.loginByEmail.recordFailure(email);
        throw error;
      }
    },
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
      refuseIfBlocked([limits.loginByAddress, request.ip]);
      let login: PortalLogin;
      try {
        login = await loginWithLink(deps, request.params.slug, request.query.token);
      } catch (error) {
        limits.loginByAddress.recordFailure(request.ip);
        throw error;
      }
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
