import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { generate } from 'otplib';
import { buildApp, type HttpDependencies } from '../src/http/app.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { createStaffUser } from '../src/modules/staff/index.js';
import { testLogger } from './database.js';

export async function createTestApp(
  kernel: Kernel,
  options: Partial<
    Pick<
      HttpDependencies,
      | 'mailer'
      | 'publicUrl'
      | 'trustProxy'
      | 'publicLimits'
      | 'cookieLimits'
      | 'answerQuanta'
      | 'exportPace'
      | 'events'
      | 'cdrUploads'
      | 'connectionLimits'
    >
  > = {},
): Promise<FastifyInstance> {
  return buildApp({ kernel, logger: testLogger, version: 'test', ...options });
}

export interface StaffSession {
  cookie: string;
  csrfToken: string;
  staffId: number;
  /** Set when the role required a second factor and loginAs enrolled one. */
  totpSecret?: string;
}

const cookieOf = (response: { headers: Record<string, unknown> }): string =>
  String(response.headers['set-cookie']).split(';')[0] ?? '';

/** A TOTP code for the kernel's clock (tests may fix it). */
export async function totpCode(kernel: Kernel, secret: string, offsetSeconds = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(kernel.clock.now().getTime() / 1000) + offsetSeconds });
}

/**
 * Creates a staff member with a role and logs in through the API. A role that requires a second
 * factor (decision 0020) is enrolled on the way, so the session returned is always a full one.
 */
export async function loginAs(
  app: FastifyInstance,
  kernel: Kernel,
  tenant: { tenantId: number; slug: string },
  role: string,
): Promise<StaffSession> {
  const email = `${role}-${Math.random().toString(36).slice(2, 8)}@staff.example`;
  const created = await createStaffUser(
    kernel,
    tenant.tenantId,
    { kind: 'system', job: 'test' },
    { email, displayName: role, role },
  );
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { tenant: tenant.slug, email, password: created.oneTimePassword },
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
  const login = response.json<{ csrfToken: string; session: string }>();
  const session: StaffSession = {
    cookie: cookieOf(response),
    csrfToken: login.csrfToken,
    staffId: created.staffId,
  };
  if (login.session !== 'mfa_enrolment') return changeOneTimePassword(app, session, created.oneTimePassword);
  const headers = { cookie: session.cookie, 'x-csrf-token': session.csrfToken };
  const enrol = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/enrol', headers });
  if (enrol.statusCode !== 200) throw new Error(`MFA enrolment failed: ${enrol.body}`);
  const { secret } = enrol.json<{ secret: string }>();
  const confirm = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/mfa/confirm',
    headers,
    payload: { code: await totpCode(kernel, secret) },
  });
  if (confirm.statusCode !== 200) throw new Error(`MFA confirmation failed: ${confirm.body}`);
  return changeOneTimePassword(
    app,
    {
      cookie: cookieOf(confirm),
      csrfToken: confirm.json<{ csrfToken: string }>().csrfToken,
      staffId: created.staffId,
      totpSecret: secret,
    },
    created.oneTimePassword,
  );
}

/** A one-time password only opens the password change; the session then becomes a full one. */
async function changeOneTimePassword(
  app: FastifyInstance,
  session: StaffSession,
  oneTimePassword: string,
): Promise<StaffSession> {
  const changed = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/password',
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
    payload: { currentPassword: oneTimePassword, newPassword: `${oneTimePassword}-Changed-2026!` },
  });
  if (changed.statusCode !== 204) throw new Error(`password change failed: ${changed.body}`);
  return session;
}

export type StaffRequest = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
) => Promise<LightMyRequestResponse>;

/** Requests as a signed-in staff member (session cookie and CSRF token), under `purpose` when given. */
export function requestAs(app: FastifyInstance, session: StaffSession, purpose?: string): StaffRequest {
  return (method, url, payload) =>
    app.inject({
      method,
      url,
      headers: {
        cookie: session.cookie,
        'x-csrf-token': session.csrfToken,
        ...(purpose === undefined ? {} : { 'x-kluis-purpose': purpose }),
      },
      ...(payload === undefined ? {} : { payload: payload as string }),
    });
}
