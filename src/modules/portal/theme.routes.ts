import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff, staffOf } from '../../http/auth.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { readPortalTheme, savePortalTheme } from './theme.js';

const colour = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, 'a colour as #rrggbb')
  .transform((value) => value.toLowerCase());
const themeSchema = z.object({ primary: z.string(), accent: z.string() });
const themeInputSchema = z
  .strictObject({ primary: colour, accent: colour })
  .meta({ example: { primary: '#e30613', accent: '#1d1d1b' } });

/** The tenant's portal colours (issue 19): admins only; nothing personal, so no purpose is needed. */
export function registerThemeRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const adminTenant = (request: Parameters<typeof staffOf>[0]): number => {
    const staff = staffOf(request);
    if (staff.role !== 'admin')
      throw new AppError('forbidden', 'role may not set the portal theme', {
        publicMessage: 'only admins may change the privacy portal’s colours',
      });
    return staff.tenantId;
  };
  typed.get(
    '/api/v1/portal/theme',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary: 'The privacy portal’s colours (admins)',
        tags: ['privacy portal pages'],
        response: { 200: themeSchema },
      },
    },
    async (request) => readPortalTheme(kernel, adminTenant(request)),
  );
  typed.put(
    '/api/v1/portal/theme',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary:
          'Set the privacy portal’s colours (#rrggbb; text on them is darkened to 4.5:1 on the pages); admins',
        tags: ['privacy portal pages'],
        body: themeInputSchema,
        response: { 200: themeSchema },
      },
    },
    async (request) => {
      const tenantId = adminTenant(request);
      return savePortalTheme(kernel, tenantId, request.body);
    },
  );
}
