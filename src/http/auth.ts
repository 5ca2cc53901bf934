import { fastifyCookie } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../kernel/gate/gate.js';
import type { Kernel } from '../kernel/kernel.js';
import { authenticateSession, type StaffPrincipal } from '../modules/staff/auth.service.js';
import type { SessionStage } from '../modules/staff/session.tables.js';
import { authenticateApiToken } from '../modules/staff/token.service.js';
import { AppError } from '../platform/errors.js';
import { checkDeclaredPurpose, type RoutePurpose } from './purpose.js';

export const SESSION_COOKIE = 'kluis_session';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    staff?: StaffPrincipal;
  }
}

/** The value of one cookie, parsed by @fastify/cookie (registered in app.ts). */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  return request.cookies[name];
}

/** The staff session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS (serialised by @fastify/cookie). */
export function sessionCookie(value: string, options: { secure: boolean; maxAgeSeconds?: number }): string {
  return fastifyCookie.serialize(SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: options.secure,
    ...(options.maxAgeSeconds === undefined ? {} : { maxAge: options.maxAgeSeconds }),
  });
}

/** Marks an onRequest hook as staff authentication, so the OpenAPI document states the route's security. */
export const STAFF_AUTH = Symbol('kluis.staffAuth');
export interface StaffAuthMarker {
  [STAFF_AUTH]?: { tokens: boolean };
}

export interface RequireStaffOptions {
  /** Session stages the route accepts (default: only `full`). */
  stages?: readonly SessionStage[];
  /** Whether an API token may call the route (default: yes). */
  tokens?: boolean;
  /**
   * The one purpose the route's work is done under (staff management, rights requests). A
   * declared `x-kluis-purpose` naming another one is refused (decision 0061), never ignored. A
   * function reads it from the tenant's policy (the incident register's purpose).
   */
  purpose?: RoutePurpose;
  /**
   * The route may be called under a purpose of an authority recipient: only the people reads that
   * name the persons of an authority request (they give names only under it). Every other route
   * refuses such a purpose (decision 0816).
   */
  authorityNames?: boolean;
  /**
   * The route discloses data to a recipient (the recipients' exports): it may be called under a
   * purpose the policy keeps for disclosures only (`disclosureOnly`); every other route refuses
   * such a purpose (decision 0872).
   */
  disclosure?: boolean;
}

const STAGE_MESSAGE: Record<SessionStage, string> = {
  full: 'not allowed',
  mfa_pending: 'complete the login with a second factor (POST /api/v1/auth/mfa/verify)',
  mfa_enrolment: 'your role requires a second factor: set one up first (POST /api/v1/auth/mfa/enrol)',
  password_change: 'change your one-time password first (POST /api/v1/auth/password)',
};

/**
 * onRequest hook for staff routes (before the body is parsed or validated, so an anonymous caller
 * learns nothing about the schema). Either `Authorization: Bearer kluis_…` (an API token; no CSRF,
 * browsers never attach it on their own), or a session cookie with, on writes, the CSRF token
 * issued at login in `x-csrf-token` (the cookie is SameSite=Strict as well). A session that still
 * owes its second factor reaches only the routes that accept its stage.
 */
export function requireStaff(kernel: Kernel, options: RequireStaffOptions = {}) {
  const stages = new Set<SessionStage>(options.stages ?? ['full']);
  const allowTokens = options.tokens ?? true;
  const hook = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      // The scheme is case-insensitive (RFC 9110 §11.1): `bearer kluis_…` is the same header.
      const match = /^Bearer +([^\s]+)$/i.exec(authorization);
      if (!match?.[1]) throw new AppError('unauthenticated', 'malformed Authorization header');
      if (!allowTokens)
        throw new AppError('forbidden', 'route refuses API tokens', {
          publicMessage: 'this route needs a staff login, not an API token',
        });
      request.staff = await authenticateApiToken(kernel, match[1]);
      await checkDeclaredPurpose(kernel, request, request.staff.tenantId, options);
      return;
    }
    const cookie = readCookie(request, SESSION_COOKIE);
    if (!cookie) throw new AppError('unauthenticated', 'no session cookie');
    const csrf = WRITE_METHODS.has(request.method) ? (request.headers['x-csrf-token'] ?? '') : undefined;
    if (Array.isArray(csrf)) throw new AppError('forbidden', 'several CSRF headers');
    const principal = await authenticateSession(kernel, cookie, csrf);
    if (!stages.has(principal.stage)) {
      throw new AppError('forbidden', `session stage ${principal.stage} refused`, {
        publicMessage: STAGE_MESSAGE[principal.stage],
        details: { stage: principal.stage },
      });
    }
    request.staff = principal;
    await checkDeclaredPurpose(kernel, request, principal.tenantId, options);
  };
  return Object.assign(hook, { [STAFF_AUTH]: { tokens: allowTokens } });
}

/** The principal of a route behind requireStaff. */
export function staffOf(request: FastifyRequest): StaffPrincipal {
  if (!request.staff) throw new AppError('unauthenticated', 'route is missing requireStaff');
  return request.staff;
}

/** The actor the gate sees for a principal: the staff member (or accountable admin) with the role. */
export function actorOf(principal: StaffPrincipal): Actor & { kind: 'staff' } {
  return { kind: 'staff', staffId: principal.staffId, role: principal.role };
}
