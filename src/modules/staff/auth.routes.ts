import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readCookie, requireStaff, SESSION_COOKIE, sessionCookie, staffOf } from '../../http/auth.js';
import type { Kernel } from '../../kernel/kernel.js';
import { isAppError } from '../../platform/errors.js';
import {
  changeOwnPassword,
  completeMfaLogin,
  loginStaff,
  logoutSession,
  recordRateLimited,
  RESTRICTED_SESSION_MS,
  SESSION_ABSOLUTE_MS,
  stepUpSession,
  upgradeSession,
  type IssuedSession,
} from './auth.service.js';
import {
  assertAllowed,
  checkAttempt,
  recordFailure,
  resetCounters,
  type Counter,
} from '../throttle/index.js';
import { STAFF_LOGIN_LIMITS, staffAccountCounter } from './login-limits.js';
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
}

export function registerAuthRoutes(app: FastifyInstance, kernel: Kernel, options: AuthRouteOptions): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  const setSession = (reply: FastifyReply, issued: IssuedSession): void => {
    const lifetime = issued.stage === 'full' ? SESSION_ABSOLUTE_MS : RESTRICTED_SESSION_MS;
    void reply.header(
      'set-cookie',
      sessionCookie(issued.sessionToken, { secure: options.secureCookies, maxAgeSeconds: lifetime / 1000 }),
    );
  };

  /**
   * Runs an attempt under its counters: refused with 429 and Retry-After while a slow-down runs,
   * failures counted (one audit entry when a count reaches its limit), `resetOnSuccess` cleared
   * after a success. Without a tenant (unknown slug) there is nothing to count.
   */
  async function limited<T>(
    tenantId: number | undefined,
    counters: { all: Counter[]; resetOnSuccess: Counter[] },
    attempt: () => Promise<T>,
  ): Promise<T> {
    if (tenantId !== undefined)
      assertAllowed(await checkAttempt(kernel, tenantId, counters.all), 'too many failed attempts');
    try {
      const result = await attempt();
      if (tenantId !== undefined) await resetCounters(kernel, tenantId, counters.resetOnSuccess);
      return result;
    } catch (error) {
      const isFailure = isAppError(error) && (error.code === 'unauthenticated' || error.code === 'forbidden');
      if (isFailure && tenantId !== undefined) {
        const usedUp = await recordFailure(kernel, tenantId, counters.all);
        if (usedUp.length > 0) await recordRateLimited(kernel, tenantId, usedUp.join(', '));
      }
      throw error;
    }
  }

  const addressCounter = (request: FastifyRequest): Counter => ({
    limit: STAFF_LOGIN_LIMITS.address,
    value: request.ip,
  });

  /** The tenant of a login form, or undefined for an unknown slug (answered like a wrong password). */
  const tenantIdOf = (slug: string): Promise<number | undefined> =>
    kernel.tenants.bySlug(slug).then(
      (tenant) => tenant.tenantId,
      (error: unknown) => {
        if (isAppError(error) && error.code === 'tenant_not_found') return undefined;
        throw error;
      },
    );

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
      const account = staffAccountCounter(request.body.email);
      const result = await limited(
        await tenantIdOf(request.body.tenant),
        { all: [addressCounter(request), account], resetOnSuccess: [account] },
        () => loginStaff(kernel, request.body),
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
      const issued = await limited(
        staff.tenantId,
        { all: [addressCounter(request)], resetOnSuccess: [] },
        () => completeMfaLogin(kernel, staff, readCookie(request, SESSION_COOKIE), request.body.code),
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
    '/api/v1/auth/mfa/step-up',
    {
      onRequest: requireStaff(kernel, { stages: ['full'], tokens: false }),
      schema: {
        summary:
          'Step-up: a fresh TOTP code proves the second factor again; revealing a dossier secret needs one from the last 5 minutes',
        tags: ['auth'],
        operationId: 'stepUpSecondFactor',
        body: codeSchema,
        response: { 200: z.object({ secondFactorAt: z.string() }) },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const at = await limited(staff.tenantId, { all: [addressCounter(request)], resetOnSuccess: [] }, () =>
        stepUpSession(kernel, staff, readCookie(request, SESSION_COOKIE), request.body.code),
      );
      return { secondFactorAt: at.toISOString() };
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
      await limited(staff.tenantId, { all: [addressCounter(request)], resetOnSuccess: [] }, () =>
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
