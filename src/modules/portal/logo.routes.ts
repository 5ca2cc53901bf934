import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff, staffOf } from '../../http/auth.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import {
  decodeLogo,
  deletePortalLogo,
  LOGO_MAX_BYTES,
  readPortalLogo,
  readPortalLogoFacts,
  savePortalLogo,
  type StoredLogo,
} from './logo.js';
import { slugParams } from './public.routes.js';

/** A 1×1 PNG: the OpenAPI example. */
const EXAMPLE_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const logoSchema = z.object({
  contentType: z.enum(['image/png', 'image/jpeg']),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
  sha256: z.string(),
  updatedAt: z.string(),
  /** Where the portal pages load it from. */
  url: z.string(),
});
const logoInputSchema = z
  .strictObject({
    // Base64 of at most 200 kB (checked after decoding, with a clear message; this bound only keeps
    // the body small); the type is read from the bytes, never declared.
    contentBase64: z
      .string()
      .min(1)
      .max(2 * LOGO_MAX_BYTES),
  })
  .meta({ example: { contentBase64: EXAMPLE_PNG } });

/**
 * The portal's logo (issue 19; docs/decisions/0291): admins upload a PNG or JPEG (SVG refused),
 * at most 200 kB, its type sniffed from the bytes; every portal page shows it in its header. The
 * image is served from `/t/<slug>/logo` as an image only: nosniff, a CSP that allows nothing, and
 * a content hash as its ETag.
 */
export function registerLogoRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  // The same rule as the colours (theme.routes.ts): admins only, nothing personal, no purpose.
  const adminTenant = (request: FastifyRequest): number => {
    const staff = staffOf(request);
    if (staff.role !== 'admin')
      throw new AppError('forbidden', 'role may not set the portal logo', {
        publicMessage: 'only admins may change the privacy portal’s logo',
      });
    return staff.tenantId;
  };
  const present = (slug: string, logo: StoredLogo): z.infer<typeof logoSchema> => {
    return {
      contentType: logo.contentType,
      width: logo.width,
      height: logo.height,
      bytes: logo.bytes,
      sha256: logo.sha256,
      updatedAt: logo.updatedAt.toISOString(),
      url: `/t/${slug}/logo?v=${logo.sha256.slice(0, 12)}`,
    };
  };
  const tags = ['privacy portal pages'];

  typed.get(
    '/api/v1/portal/logo',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary: 'The privacy portal’s logo: type, size and where it is served (admins); 404 when none',
        tags,
        response: { 200: logoSchema },
      },
    },
    async (request) => {
      const tenantId = adminTenant(request);
      const logo = await readPortalLogoFacts(kernel, tenantId);
      if (!logo)
        throw new AppError('not_found', 'no portal logo', { publicMessage: 'the portal has no logo' });
      return present((await kernel.tenants.byId(tenantId)).slug, logo);
    },
  );
  typed.put(
    '/api/v1/portal/logo',
    {
      onRequest: requireStaff(kernel),
      // The Base64 bound of the schema, in JSON, with room for the field name.
      bodyLimit: 2 * LOGO_MAX_BYTES + 1024,
      schema: {
        summary:
          'Set the privacy portal’s logo: Base64 of a PNG or JPEG of at most 200 kB and 4096×4096 px (SVG refused; the type is read from the bytes); admins',
        tags,
        body: logoInputSchema,
        response: { 200: logoSchema },
      },
    },
    async (request) => {
      const tenantId = adminTenant(request);
      const decoded = decodeLogo(request.body.contentBase64);
      // The slug before the save: nothing after it may fail for want of the database (decision 0725).
      const { slug } = await kernel.tenants.byId(tenantId);
      const stored = await savePortalLogo(kernel, tenantId, decoded);
      return present(slug, stored);
    },
  );
  typed.delete(
    '/api/v1/portal/logo',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary: 'Remove the privacy portal’s logo (admins); the pages show the name alone',
        tags,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const tenantId = adminTenant(request);
      if (!(await deletePortalLogo(kernel, tenantId)))
        throw new AppError('not_found', 'no portal logo', { publicMessage: 'the portal has no logo' });
      return reply.status(204).send(null);
    },
  );

  typed.get(
    '/t/:slug/logo',
    {
      schema: {
        summary: 'The provider’s logo as the portal pages show it (PNG or JPEG); 404 when none',
        tags,
        params: slugParams,
      },
    },
    async (request, reply) => {
      const tenant = await kernel.tenants.bySlug(request.params.slug);
      const logo = await readPortalLogo(kernel, tenant.tenantId);
      if (!logo) throw new AppError('not_found', 'no portal logo', { publicMessage: 'no logo' });
      const etag = `"${logo.sha256}"`;
      void reply
        .header('etag', etag)
        .header('cache-control', 'public, max-age=300')
        .header('x-content-type-options', 'nosniff')
        // An image and nothing else, even when opened on its own.
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('content-disposition', 'inline; filename="logo"');
      if (request.headers['if-none-match'] === etag) return reply.status(304).send();
      return reply.type(logo.contentType).send(logo.content);
    },
  );
}
