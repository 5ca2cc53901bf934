import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readCookie } from '../../http/auth.js';
import { AccessReportSchema, writeAccessReportJson } from '../../kernel/access-report/index.js';
import {
  authenticateSubject,
  fileAccountRequest,
  ownDataOptions,
  type PortalLogin,
  type SubjectSession,
} from './account.service.js';
import { REQUEST_KINDS, type RequestsDeps, type SignInBrowser } from './requests.service.js';
import { AppError } from '../../platform/errors.js';
import { askLoginLinkAtDoor, changePasswordAtDoor, loginAtDoor } from './doors.js';
import { sendExport } from './export-download.js';

export const SUBJECT_COOKIE = 'kluis_subject';
/**
 * The session's CSRF token for the portal's server-rendered forms (HttpOnly, SameSite=Strict): the
 * pages write it into each form, and a POST must bring it back in the body (decision 0160).
 */
export const SUBJECT_CSRF_COOKIE = 'kluis_subject_csrf';
const slugParams = z.object({ slug: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/) });
const statusSchema = z.object({
  requestId: z.string(),
  kind: z.enum(REQUEST_KINDS),
  state: z.string(),
  receivedOn: z.string(),
  dueOn: z.string(),
});

export function setSessionCookie(
  reply: FastifyReply,
  slug: string,
  login: PortalLogin,
  secure: boolean,
): { csrfToken: string } {
  // Browser-session cookies (the policies declare them so); the server ends the session after
  // 30 idle minutes or 8 hours anyway.
  const options = {
    path: `/t/${slug}/`,
    httpOnly: true,
    sameSite: 'strict',
    secure,
  } as const;
  void reply.setCookie(SUBJECT_COOKIE, login.sessionToken, options);
  void reply.setCookie(SUBJECT_CSRF_COOKIE, login.csrfToken, options);
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

/**
 * The browser of a login request as the sign-in sees it: its cookies, and whether a page of another
 * site sent it (Fetch Metadata). A cross-site login joins nothing (decision 0412).
 */
export function signInBrowserOf(request: FastifyRequest): SignInBrowser {
  return { cookies: request.cookies, crossSite: request.headers['sec-fetch-site'] === 'cross-site' };
}

/** The privacy portal for the provider's customers: login, own data, requests from the account. */
export function registerAccountRoutes(
  app: FastifyInstance,
  deps: RequestsDeps,
  options: { secureCookies: boolean },
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
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
      await askLoginLinkAtDoor(deps, request.params.slug, request.body.email, request.ip);
      // Sent after the hold, not inside it.
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
      // A browser's login another site sent is refused: login CSRF (attack finding A12, decision 0412).
      if (request.headers['sec-fetch-site'] === 'cross-site')
        throw new AppError('forbidden', 'cross-site login', { publicMessage: 'cross-site login refused' });
      // A wrong password answers at the same moment for a known and an unknown address (issue 11).
      const login = await loginAtDoor(
        deps,
        request.params.slug,
        request.body,
        request.ip,
        signInBrowserOf(request),
      );
      return setSessionCookie(reply, request.params.slug, login, options.secureCookies);
    },
  );
  typed.post(
    '/t/:slug/account/password',
    {
      schema: {
        summary:
          'Set or change the account password: the current one is required once one is set (except just after a mailed link); every other session of the account ends',
        tags: ['privacy portal'],
        params: slugParams,
        body: z.object({
          password: z.string().max(1024),
          currentPassword: z.string().max(1024).optional(),
        }),
        response: { 200: z.object({ otherSessionsEnded: z.number().int() }) },
      },
    },
    async (request) =>
      changePasswordAtDoor(
        deps,
        await session(deps, request, true),
        { password: request.body.password, currentPassword: request.body.currentPassword },
        request.ip,
      ),
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
    async (request, reply) => {
      const subject = await session(deps, request, false);
      const { policy } = await deps.kernel.policies.current(subject.tenant.tenantId);
      // Written while the rows are read, one export per person at a time (decision 0490).
      return sendExport(
        request,
        reply,
        {
          kernel: deps.kernel,
          tenantId: subject.tenant.tenantId,
          subjectId: subject.subjectId,
          type: 'application/json; charset=utf-8',
          ...(deps.exportPace ? { pace: deps.exportPace } : {}),
        },
        (output) =>
          writeAccessReportJson(
            deps.kernel,
            deps.dataMap,
            ownDataOptions(subject, policy.statement.languages[0] ?? 'nl'),
            output,
          ),
      );
    },
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
