import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readCookie, requireStaff, SESSION_COOKIE, sessionCookie, staffOf } from '../../http/auth.js';
import type { Kernel } from '../../kernel/kernel.js';
import { loginStaff, logoutSession, SESSION_ABSOLUTE_MS } from './auth.service.js';

const principalSchema = z.object({ tenant: z.string(), staffId: z.number().int(), role: z.string() });

export function registerAuthRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  options: { secureCookies: boolean },
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.post(
    '/api/v1/auth/login',
    {
      schema: {
        summary:
          'Staff login (password); sets an HttpOnly session cookie and returns the CSRF token for writes',
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
      const result = await loginStaff(kernel, request.body);
      void reply.header(
        'set-cookie',
        sessionCookie(result.sessionToken, {
          secure: options.secureCookies,
          maxAgeSeconds: SESSION_ABSOLUTE_MS / 1000,
        }),
      );
      return {
        tenant: result.principal.tenantSlug,
        staffId: result.principal.staffId,
        role: result.principal.role,
        csrfToken: result.csrfToken,
        mustChangePassword: result.mustChangePassword,
      };
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
      preHandler: requireStaff(kernel),
      schema: { summary: 'The logged-in staff member', tags: ['auth'], response: { 200: principalSchema } },
    },
    (request) => {
      const staff = staffOf(request);
      return { tenant: staff.tenantSlug, staffId: staff.staffId, role: staff.role };
    },
  );
}
