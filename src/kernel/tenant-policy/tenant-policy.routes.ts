import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff, staffOf } from '../../http/auth.js';
import { AppError } from '../../platform/errors.js';
import { ID_CURSOR, pageQuery } from '../../http/pagination.js';
import type { Kernel } from '../kernel.js';
import { buildRegisterDocument, generateRegister } from '../policy/register.generator.js';
import { generateStatement } from '../policy/statement.generator.js';
import type { EnforcedPromises } from '../policy/promises.js';
import { LANGUAGES, type Language, type Policy } from '../policy/policy.schema.js';

/** Roles that may read the record of processing activities (an internal document, Art. 30). */
export const REGISTER_ROLES: ReadonlySet<string> = new Set(['admin', 'privacy_officer']);

/** A generated document's blocks: text only, so a screen draws it without parsing any markup. */
const DOCUMENT_SCHEMA = z.object({
  lang: z.string(),
  title: z.string(),
  blocks: z.array(
    z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('heading'),
        level: z.union([z.literal(1), z.literal(2), z.literal(3)]),
        text: z.string(),
      }),
      z.object({ kind: z.literal('paragraph'), text: z.string() }),
      z.object({ kind: z.literal('list'), items: z.array(z.string()) }),
      z.object({ kind: z.literal('table'), header: z.array(z.string()), rows: z.array(z.array(z.string())) }),
    ]),
  ),
});

/** `?lang=` first, then the best Accept-Language match, then the policy's first language. */
export function chooseLanguage(
  policy: Policy,
  query: string | undefined,
  acceptLanguage: string | undefined,
): Language {
  const offered = policy.statement.languages;
  if (query && (offered as readonly string[]).includes(query)) return query as Language;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.find((param) => param.trim().startsWith('q='));
      return { lang: tag.trim().slice(0, 2).toLowerCase(), q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((entry) => Number.isFinite(entry.q) && entry.q > 0)
    .sort((a, b) => b.q - a.q);
  const match = ranked.find((entry) => (offered as readonly string[]).includes(entry.lang));
  return (match?.lang as Language | undefined) ?? offered[0] ?? 'nl';
}

/** Draws the statement as a page of the privacy portal (the portal module passes it in). */
export type StatementPage = (request: FastifyRequest, reply: FastifyReply, slug: string) => Promise<string>;

export function registerPolicyRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  enforced: EnforcedPromises,
  options: { statementPage?: StatementPage } = {},
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/t/:slug/privacy',
    {
      schema: {
        summary: "A tenant's privacy statement in force, as HTML (generated from its policy)",
        tags: ['public'],
        params: z.object({ slug: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/) }),
        querystring: z.object({
          lang: z.enum(LANGUAGES).optional(),
          format: z.enum(['html', 'md']).default('html'),
        }),
        response: { 200: z.string() },
      },
    },
    async (request, reply) => {
      if (request.query.format === 'html' && options.statementPage) {
        const page = await options.statementPage(request, reply, request.params.slug);
        return reply.type('text/html; charset=utf-8').send(page);
      }
      const tenant = await kernel.tenants.bySlug(request.params.slug);
      const { policy } = await kernel.policies.current(tenant.tenantId);
      const lang = chooseLanguage(policy, request.query.lang, request.headers['accept-language']);
      const body = generateStatement(policy, { lang, format: request.query.format, enforced });
      return reply
        .type(request.query.format === 'md' ? 'text/markdown; charset=utf-8' : 'text/html; charset=utf-8')
        .header('content-language', lang)
        .header('vary', 'accept-language')
        .send(body);
    },
  );
  const assertRegisterRole = (request: FastifyRequest, what: string): number => {
    const staff = staffOf(request);
    if (!REGISTER_ROLES.has(staff.role)) {
      throw new AppError('forbidden', `role may not read the ${what}`, {
        publicMessage: `only admins and privacy officers may read the ${what}`,
      });
    }
    return staff.tenantId;
  };
  typed.get(
    '/api/v1/policy/register/document',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary:
          'The record of processing activities (GDPR Art. 30) as a document of plain-text blocks, for a screen to draw (admin, privacy officer)',
        tags: ['policy'],
        querystring: z.object({ lang: z.enum(LANGUAGES).optional() }),
        response: { 200: DOCUMENT_SCHEMA },
      },
    },
    async (request) => {
      const tenantId = assertRegisterRole(request, 'register');
      const { policy } = await kernel.policies.current(tenantId);
      const lang = request.query.lang ?? policy.statement.languages[0] ?? 'en';
      return buildRegisterDocument(policy, lang);
    },
  );
  typed.get(
    '/api/v1/policy/register',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary: 'The record of processing activities (GDPR Art. 30) of the staff member’s tenant',
        tags: ['policy'],
        querystring: z.object({
          format: z.enum(['csv', 'md']).default('csv'),
          lang: z.enum(LANGUAGES).optional(),
        }),
        response: { 200: z.string() },
      },
    },
    async (request: FastifyRequest<{ Querystring: { format: 'csv' | 'md'; lang?: Language } }>, reply) => {
      const staff = staffOf(request);
      if (!REGISTER_ROLES.has(staff.role)) {
        throw new AppError('forbidden', 'role may not read the register', {
          publicMessage: 'only admins and privacy officers may read the register',
        });
      }
      const { policy } = await kernel.policies.current(staff.tenantId);
      const body = generateRegister(policy, {
        format: request.query.format,
        ...(request.query.lang ? { lang: request.query.lang } : {}),
      });
      return reply
        .type(request.query.format === 'csv' ? 'text/csv; charset=utf-8' : 'text/markdown; charset=utf-8')
        .send(body);
    },
  );

  typed.get(
    '/api/v1/policy/versions',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary:
          "The tenant's policy versions, newest first, with the day each took effect (admin, privacy officer)",
        tags: ['policy'],
        querystring: z.object({ ...pageQuery(), cursor: ID_CURSOR.optional() }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                versionNo: z.number().int(),
                statementVersion: z.string(),
                effectiveDate: z.string(),
                loadedAt: z.string(),
                sourceFile: z.string().describe('the file name it was installed from'),
                inForce: z.boolean(),
              }),
            ),
            nextCursor: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const tenantId = assertRegisterRole(request, 'policy versions');
      const { versionNo: inForce } = await kernel.policies.current(tenantId);
      const page = await kernel.policies.versionsPage(tenantId, {
        limit: request.query.limit,
        ...(request.query.cursor === undefined ? {} : { beforeNo: Number(request.query.cursor) }),
      });
      return {
        items: page.items.map((item) => ({
          ...item,
          sourceFile: item.sourceFile.split(/[\\/]/).at(-1) ?? item.sourceFile,
          loadedAt: item.loadedAt.toISOString(),
          inForce: item.versionNo === inForce,
        })),
        nextCursor: page.nextBeforeNo === null ? null : String(page.nextBeforeNo),
      };
    },
  );
  typed.get(
    '/api/v1/policy/versions/:versionNo/statement',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary:
          'The privacy statement as one policy version made it (HTML or Markdown; admin, privacy officer)',
        tags: ['policy'],
        params: z.strictObject({ versionNo: z.coerce.number().int().positive().max(2_147_483_647) }),
        querystring: z.object({
          lang: z.enum(LANGUAGES).optional(),
          format: z.enum(['html', 'md']).default('html'),
        }),
        response: { 200: z.string() },
      },
    },
    async (
      request: FastifyRequest<{
        Params: { versionNo: number };
        Querystring: { lang?: Language; format: 'html' | 'md' };
      }>,
      reply,
    ) => {
      const tenantId = assertRegisterRole(request, 'policy versions');
      const policy = await kernel.policies.version(tenantId, request.params.versionNo);
      const lang = chooseLanguage(policy, request.query.lang, request.headers['accept-language']);
      const body = generateStatement(policy, { lang, format: request.query.format, enforced });
      return reply
        .type(request.query.format === 'md' ? 'text/markdown; charset=utf-8' : 'text/html; charset=utf-8')
        .header('content-language', lang)
        .send(body);
    },
  );
}
