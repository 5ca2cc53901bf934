import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readCookie, requireStaff, SESSION_COOKIE, sessionCookie, staffOf } from '../../http/auth.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError, isAppError } from '../../platform/errors.js';
import {
  changeOwnPassword,
  completeMfaLogin,
  loginStaff,
  logoutSession,
  recordRateLimited,
  RESTRICTED_SESSION_MS,
  SESSION_ABSOLUTE_MS,
  upgradeSession,
  type IssuedSession,
} from './auth.service.js';
import { LoginLimiter } from './login-limiter.js';
import { confirmMfaEnrolment, startMfaEnrolment } from './mfa.service.js';

const stageSchema = z.enum(['full', 'mfa_pending', 'mfa_enrolment', 'password_change']);
const principalSchema = z.object({
  tenant: z.string(),
  staffId: z.number().int(),
  role: z.string(),
  session: stageSchema,
});
const codeSchema = z.object({ code: z.string().trim().min(6).max(32) });

export interface AuthRouteOptions {
  secureCookies: boolean;
  /** Failed logins per client address per window before `rate_limited` (default 20 per 15 min). */
  loginLimiter?: LoginLimiter;
}

/** Per-address failures: 20 per 15 minutes, in this process's memory (decision 0020). */
export const DEFAULT_IP_FAILURES = 20;
const IP_WINDOW_MS = 15 * 60 * 1000;

export function registerAuthRoutes(app: FastifyInstance, kernel: Kernel, options: AuthRouteOptions): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const limiter =
    options.loginLimiter ??
    new LoginLimiter({ maxFailures: DEFAULT_IP_FAILURES, windowMs: IP_WINDOW_MS, clock: kernel.clock });

  const setSession = (reply: FastifyReply, issued: IssuedSession): void => {
    const lifetime = issued.stage === 'full' ? SESSION_ABSOLUTE_MS : RESTRICTED_SESSION_MS;
    void reply.header(
      'set-cookie',
      sessionCookie(issued.sessionToken, { secure: options.secureCookies, maxAgeSeconds: lifetime / 1000 }),
    );
  };

  /** Runs an attempt under the per-address limiter: refused when used up, failures counted. */
  async function limited<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    tenantSlug: string,
    attempt: () => Promise<T>,
  ): Promise<T> {
    if (limiter.isBlocked(request.ip)) {
      void reply.header('retry-after', String(IP_WINDOW_MS / 1000));
      throw new AppError('rate_limited', 'too many failed attempts from this address', {
        publicMessage: 'too many failed attempts; try again later',
      });
    }
    try {
      return await attempt();
    } catch (error) {
      const isFailure = isAppError(error) && (error.code === 'unauthenticated' || error.code === 'forbidden');
      if (isFailure && limiter.recordFailure(request.ip)) await recordRateLimited(kernel, tenantSlug);
      throw error;
    }
  }

  typed.post(
    '/api/v1/auth/login',
    {
      schema: {
        summary:
          'Staff login (password). Sets an HttpOnly session cookie and returns the CSRF token for writes. ' +
          'session=mfa_pending: send a code to /auth/mfa/verify; session=mfa_enrolment: the role requires a second factor, enrol first.',
        tags: ['auth'],
        body: z.object({
          tenant: z.string().min(1).max(63),
          email: z.string().min(3).max(320),
          password: z.string().min(1).max(1024),
        }),
        response: {
          200: principalSchema.extend({ csrfToken: z.string(), mustChangePassword: z.boolean() }),
        },
      },
    },
    async (request, reply) => {
      const result = await limited(request, reply, request.body.tenant, () =>
        loginStaff(kernel, request.body),
      );
      setSession(reply, result);
      return {
        tenant: result.principal.tenantSlug,
        staffId: result.principal.staffId,
        role: result.principal.role,
        session: result.principal.stage,
        csrfToken: result.csrfToken,
        mustChangePassword: result.mustChangePassword,
      };
    },
  );

  typed.post(
    '/api/v1/auth/mfa/verify',
    {
      onRequest: requireStaff(kernel, { stages: ['mfa_pending'], tokens: false }),
      schema: {
        summary:
          'Second login step: a TOTP code or an unused recovery code; replaces the session by a full one',
        tags: ['auth'],
        body: codeSchema,
        response: { 200: principalSchema.extend({ csrfToken: z.string() }) },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      const issued = await limited(request, reply, staff.tenantSlug, () =>
        completeMfaLogin(kernel, staff, readCookie(request, SESSION_COOKIE), request.body.code),
      );
      setSession(reply, issued);
      return {
        tenant: staff.tenantSlug,
        staffId: staff.staffId,
        role: staff.role,
        session: issued.stage,
        csrfToken: issued.csrfToken,
      };
    },
  );

  typed.post(
    '/api/v1/auth/mfa/enrol',
    {
      onRequest: requireStaff(kernel, { stages: ['full', 'mfa_enrolment'], tokens: false }),
      schema: {
        summary:
          'Start TOTP enrolment: returns the otpauth:// URI (for a QR code) and the secret for manual entry, once',
        tags: ['auth'],
        response: { 200: z.object({ otpauthUri: z.string(), secret: z.string() }) },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      return startMfaEnrolment(kernel, staff, staff.staffId, staff.role);
    },
  );

  typed.post(
    '/api/v1/auth/mfa/confirm',
    {
      onRequest: requireStaff(kernel, { stages: ['full', 'mfa_enrolment'], tokens: false }),
      schema: {
        summary:
          'Confirm TOTP enrolment with a first code; returns 10 single-use recovery codes, once. ' +
          'An enrolment-only session becomes a full one (new cookie and CSRF token).',
        tags: ['auth'],
        body: codeSchema,
        response: {
          200: z.object({
            recoveryCodes: z.array(z.string()),
            session: stageSchema,
            csrfToken: z.string().optional(),
          }),
        },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      let upgraded: IssuedSession | undefined;
      const { recoveryCodes } = await confirmMfaEnrolment(
        kernel,
        staff.tenantId,
        staff.staffId,
        staff.role,
        request.body.code,
        async (atx) => {
          if (staff.stage === 'mfa_enrolment')
            upgraded = await upgradeSession(
              atx,
              staff.staffId,
              readCookie(request, SESSION_COOKIE),
              kernel.clock.now(),
            );
        },
      );
      if (upgraded) {
        setSession(reply, upgraded);
        return { recoveryCodes, session: upgraded.stage, csrfToken: upgraded.csrfToken };
      }
      return { recoveryCodes, session: staff.stage };
    },
  );

  typed.post(
    '/api/v1/auth/password',
    {
      onRequest: requireStaff(kernel, {
        stages: ['full', 'mfa_enrolment', 'password_change'],
        tokens: false,
      }),
      schema: {
        summary:
          'Change one’s own password (current password required); clears must-change and ends every other session',
        tags: ['auth'],
        body: z.object({
          currentPassword: z.string().min(1).max(1024),
          newPassword: z.string().min(1).max(1024),
        }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      await limited(request, reply, staff.tenantSlug, () =>
        changeOwnPassword(kernel, staff, readCookie(request, SESSION_COOKIE), request.body),
      );
      return reply.status(204).send(null);
    },
  );

  typed.post(
    '/api/v1/auth/logout',
    { schema: { summary: 'End the session', tags: ['auth'], response: { 204: z.null() } } },
    async (request, reply) => {
      const cookie = readCookie(request, SESSION_COOKIE);
      if (cookie) await logoutSession(kernel, cookie);
      void reply.header('set-cookie', sessionCookie('', { secure: options.secureCookies, maxAgeSeconds: 0 }));
      return reply.status(204).send(null);
    },
  );

  typed.get(
    '/api/v1/auth/me',
    {
      onRequest: requireStaff(kernel, {
        stages: ['full', 'mfa_pending', 'mfa_enrolment', 'password_change'],
      }),
      schema: {
        summary: 'The logged-in staff member (or the API token’s role) and the session stage',
        tags: ['auth'],
        response: { 200: principalSchema.extend({ via: z.enum(['session', 'token']) }) },
      },
    },
    (request) => {
      const staff = staffOf(request);
      return {
        tenant: staff.tenantSlug,
        staffId: staff.staffId,
        role: staff.role,
        session: staff.stage,
        via: staff.via,
      };
    },
  );
}
