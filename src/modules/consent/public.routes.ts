import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { loadFrame, type PortalFrame } from '../portal/index.js';
import type { MailLanguage } from './consent.tables.js';
import type { ConsentDeps } from './deps.js';
import { CONFIRM_TEXT, renderPage, UNSUBSCRIBE_TEXT } from './pages.js';
import { confirmSignup, peekSignup, signUp, signupLanguage } from './signup.service.js';
import { findRecipient, followClick, recordOpen } from './tracking.service.js';
import { unsubscribe } from './unsubscribe.service.js';

const slug = z.string().regex(/^[a-z][a-z0-9-]{1,62}$/);
const token = z.string().max(64);
const tokenParams = z.object({ slug, token });
const langQuery = z.object({ lang: z.enum(['nl', 'fr', 'en']).optional() });
const TAGS = ['newsletter (public)'];
/** A 1×1 transparent GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** No cache, no referrer, no cookie: these pages and answers are about one person's link. */
function privateAnswer(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
}

/**
 * The portal's frame for one of these pages, in the language asked (`?lang=`), else the one of the
 * link's mail, else the browser's; no cookie is set (the links carry the choice).
 */
function frameOf(
  deps: ConsentDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  linkLanguage: MailLanguage | undefined,
): Promise<PortalFrame> {
  const { slug } = request.params as { slug: string };
  return loadFrame(deps.kernel, request, reply, slug, {
    secureCookies: false,
    rememberLanguage: false,
    personLanguage: linkLanguage ?? null,
  });
}

/** The page's own path (no query), and the form's action keeping the page's language. */
const pathOf = (request: FastifyRequest): string => request.url.split('?')[0] ?? request.url;
const actionOf = (request: FastifyRequest, frame: PortalFrame): string =>
  `${pathOf(request)}?lang=${frame.lang}`;

/**
 * The public newsletter doors under /t/<slug>/: sign-up and its double opt-in confirmation, the
 * unsubscribe link of every mailing (VK-18), the open pixel and click redirect (VK-19). The POSTs
 * take form posts and RFC 8058 one-click posts (their bodies carry nothing we need).
 */
export function registerNewsletterPublicRoutes(app: FastifyInstance, deps: ConsentDeps): void {
  // Its own plugin scope: the form and multipart parsers apply to these routes only.
  // eslint-disable-next-line @typescript-eslint/require-await -- Fastify plugins are async functions
  void app.register(async (child) => {
    child.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    child.addContentTypeParser(
      'multipart/form-data',
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, _body, done) => done(null, {}),
    );
    const typed = child.withTypeProvider<ZodTypeProvider>();

    typed.post(
      '/t/:slug/newsletter/signup',
      {
        schema: {
          summary:
            'Sign up for the newsletter (double opt-in: a confirmation link goes to the address; the answer is the same for any address)',
          tags: TAGS,
          params: z.object({ slug }),
          body: z
            .object({ email: z.string().max(320), language: z.string().max(5).optional() })
            .meta({ example: { email: 'lotte.vermeulen@example.be', language: 'nl' } }),
          response: { 202: z.object({ next: z.string() }) },
        },
      },
      async (request, reply) => {
        await signUp(deps, request.params.slug, request.body, request.ip);
        return reply.status(202).send({
          next: 'a confirmation link was sent to this address; nothing is sent before it is confirmed',
        });
      },
    );

    typed.get(
      '/t/:slug/newsletter/confirm/:token',
      {
        schema: {
          summary:
            'The confirmation link as mailed: a page with one button while the link still confirms, else what pressing it would answer (a GET confirms nothing)',
          tags: TAGS,
          params: tokenParams,
          querystring: langQuery,
          response: { 200: z.string(), 404: z.string(), 410: z.string() },
        },
      },
      async (request, reply) => {
        const tenant = await deps.kernel.tenants.bySlug(request.params.slug);
        const frame = await frameOf(
          deps,
          request,
          reply,
          await signupLanguage(deps, tenant, request.params.token),
        );
        const outcome = await peekSignup(deps, tenant, request.params.token);
        const text = CONFIRM_TEXT[frame.lang];
        const answer = privateAnswer(reply).type('text/html; charset=utf-8');
        if (outcome === 'confirmable')
          return answer.send(renderPage(frame, pathOf(request), text.ask, actionOf(request, frame)));
        return answer
          .status(outcome === 'confirmed' ? 200 : outcome === 'used' ? 410 : 404)
          .send(
            renderPage(
              frame,
              pathOf(request),
              outcome === 'confirmed' ? text.done : outcome === 'used' ? text.used : text.unknown,
            ),
          );
      },
    );

    typed.post(
      '/t/:slug/newsletter/confirm/:token',
      {
        schema: {
          summary: 'Confirm the sign-up (the page’s button): from now on the person receives the newsletter',
          tags: TAGS,
          params: tokenParams,
          querystring: langQuery,
          response: { 200: z.string(), 404: z.string(), 410: z.string() },
        },
      },
      async (request, reply) => {
        const tenant = await deps.kernel.tenants.bySlug(request.params.slug);
        const language = await signupLanguage(deps, tenant, request.params.token);
        const outcome = await confirmSignup(deps, tenant, request.params.token);
        const frame = await frameOf(deps, request, reply, language);
        const text = CONFIRM_TEXT[frame.lang];
        return privateAnswer(reply)
          .status(outcome === 'confirmed' ? 200 : outcome === 'used' ? 410 : 404)
          .type('text/html; charset=utf-8')
          .send(
            renderPage(
              frame,
              pathOf(request),
              outcome === 'confirmed' ? text.done : outcome === 'used' ? text.used : text.unknown,
            ),
          );
      },
    );

    typed.get(
      '/t/:slug/mail/unsubscribe/:token',
      {
        schema: {
          summary:
            'The unsubscribe link of a mailing: a page with one button (a GET unsubscribes nothing: mail scanners open links)',
          tags: TAGS,
          params: tokenParams,
          querystring: langQuery,
          response: { 200: z.string(), 404: z.string() },
        },
      },
      async (request, reply) => {
        const tenant = await deps.kernel.tenants.bySlug(request.params.slug);
        const recipient = await findRecipient(deps.kernel, tenant, request.params.token);
        const frame = await frameOf(deps, request, reply, recipient?.language);
        const text = UNSUBSCRIBE_TEXT[frame.lang];
        return privateAnswer(reply)
          .status(recipient ? 200 : 404)
          .type('text/html; charset=utf-8')
          .send(
            renderPage(
              frame,
              pathOf(request),
              recipient ? text.ask : text.unknown,
              recipient ? actionOf(request, frame) : undefined,
            ),
          );
      },
    );

    typed.post(
      '/t/:slug/mail/unsubscribe/:token',
      {
        schema: {
          summary:
            'Unsubscribe at once (the page’s button, or RFC 8058 one-click): no login, no cookie, no redirect',
          tags: TAGS,
          params: tokenParams,
          querystring: langQuery,
          response: { 200: z.string(), 404: z.string() },
        },
      },
      async (request, reply) => {
        const tenant = await deps.kernel.tenants.bySlug(request.params.slug);
        const recipient = await findRecipient(deps.kernel, tenant, request.params.token);
        const outcome = await unsubscribe(deps.kernel, tenant, request.params.token);
        const frame = await frameOf(deps, request, reply, recipient?.language);
        const text = UNSUBSCRIBE_TEXT[frame.lang];
        return privateAnswer(reply)
          .status(outcome === 'done' ? 200 : 404)
          .type('text/html; charset=utf-8')
          .send(renderPage(frame, pathOf(request), outcome === 'done' ? text.done : text.unknown));
      },
    );

    typed.get(
      '/t/:slug/mail/o/:token',
      {
        schema: {
          summary: 'Open pixel (recorded only for a recipient who consented to tracking)',
          tags: TAGS,
          params: tokenParams,
        },
      },
      async (request, reply) => {
        const tenant = await deps.kernel.tenants.bySlug(request.params.slug);
        await recordOpen(deps.kernel, tenant, request.params.token);
        return privateAnswer(reply).type('image/gif').send(PIXEL);
      },
    );

    typed.get(
      '/t/:slug/mail/c/:token/:linkNo',
      {
        schema: {
          summary: 'Click redirect: only to a link of that mailing (recorded only with tracking consent)',
          tags: TAGS,
          params: z.object({ slug, token, linkNo: z.coerce.number().int().min(1).max(10_000) }),
          response: { 404: z.string() },
        },
      },
      async (request, reply) => {
        const tenant = await deps.kernel.tenants.bySlug(request.params.slug);
        const url = await followClick(deps.kernel, tenant, request.params.token, request.params.linkNo);
        if (!url) {
          const frame = await frameOf(deps, request, reply, undefined);
          return privateAnswer(reply)
            .status(404)
            .type('text/html; charset=utf-8')
            .send(renderPage(frame, pathOf(request), UNSUBSCRIBE_TEXT[frame.lang].unknown));
        }
        return privateAnswer(reply).redirect(url, 302);
      },
    );
  });
}
