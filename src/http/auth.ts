import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../kernel/kernel.js';
import { authenticateSession, type StaffPrincipal } from '../modules/staff/auth.service.js';
import { AppError } from '../platform/errors.js';

export const SESSION_COOKIE = 'kluis_session';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    staff?: StaffPrincipal;
  }
}

/** The value of one cookie from the Cookie header (we set exactly one). */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export function sessionCookie(value: string, options: { secure: boolean; maxAgeSeconds?: number }): string {
  const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (options.secure) parts.push('Secure');
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join('; ');
}

/**
 * preHandler for staff routes: a valid session cookie, and on writes the CSRF token issued at
 * login in `x-csrf-token` (the cookie is SameSite=Strict as well).
 */
export function requireStaff(kernel: Kernel) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const cookie = readCookie(request, SESSION_COOKIE);
    if (!cookie) throw new AppError('unauthenticated', 'no session cookie');
    const csrf = WRITE_METHODS.has(request.method) ? (request.headers['x-csrf-token'] ?? '') : undefined;
    if (Array.isArray(csrf)) throw new AppError('forbidden', 'several CSRF headers');
    request.staff = await authenticateSession(kernel, cookie, csrf);
  };
}

/** The principal of a route behind requireStaff. */
export function staffOf(request: FastifyRequest): StaffPrincipal {
  if (!request.staff) throw new AppError('unauthenticated', 'route is missing requireStaff');
  return request.staff;
}
