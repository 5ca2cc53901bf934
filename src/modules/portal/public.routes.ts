import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RIGHTS, type Right } from '../../kernel/policy/policy.schema.js';
import { isAppError } from '../../platform/errors.js';
import { fileRequestAtDoor, getPublicStatus, verifyAtDoor } from '../requests/index.js';
import { assertFormToken, fieldOf, fieldsOf, formToken, loadFrame, type FormBody } from './frame.js';
import { textsOf, type PortalFrame } from './layout.js';
import {
  CORRECTABLE_FIELDS,
  renderErrorPage,
  renderRequestForm,
  renderRequestPage,
  renderRightsPage,
  type FormState,
} from './rights.pages.js';
import { formatDate } from '../../kernel/policy/statement.generator.js';
import type { PortalDeps } from './portal.routes.js';

export const slugParams = z.object({ slug: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/) });
export const formBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
const langQuery = z.object({ lang: z.string().max(5).optional() });
const PAGE = { 200: z.string() };

/** The HTML of a page, sent with the headers every portal page carries. */
export function sendPage(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

/** An error as a page in the person's language: what went wrong, never a stack or a code. */
export function sendErrorPage(
  reply: FastifyReply,
  frame: PortalFrame,
  error: unknown,
  back: string,
): FastifyReply {
  const t = textsOf(frame);
  if (!isAppError(error)) throw error;
  const [status, text] =
    error.code === 'not_found'
      ? [404, t.errors.notFound]
      : error.code === 'forbidden'
        ? [403, t.errors.forbidden]
        : error.code === 'rate_limited'
          ? [429, t.errors.tooMany]
          : error.code === 'export_in_progress'
            ? [429, t.errors.exportRunning]
            : error.code === 'exports_busy'
              ? [429, t.errors.exportsBusy]
              : error.code === 'validation_failed'
                ? // The server's sentences are English and name keys: the person reads the page's words.
                  [422, t.errors.refused]
                : [400, t.errors.generic];
  const retryAfter = error.details?.retryAfterSeconds;
  if (status === 429 && typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
  return sendPage(reply, renderErrorPage(frame, text, back), status);
}

/** The form's own words for what the request service refused (its messages are for the API). */
function describeInvalid(frame: PortalFrame, message: string | undefined): string {
  const t = textsOf(frame);
  if (message?.startsWith('corrections')) return t.form.invalid.corrections;
  if (message?.startsWith('transferTo')) return t.form.invalid.transferTo;
  if (message?.includes('mail')) return t.form.invalid.email;
  return t.errors.generic;
}

const isRight = (value: string): value is Right => (RIGHTS as readonly string[]).includes(value);

/** The public pages: the rights, a form for each, and the page the verification mail links to. */
export function registerPublicPages(app: FastifyInstance, deps: PortalDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const frameOf = (request: FastifyRequest, reply: FastifyReply, slug: string): Promise<PortalFrame> =>
    loadFrame(deps.kernel, request, reply, slug, { secureCookies: deps.secureCookies });

  typed.get(
    '/t/:slug/rights',
    {
      schema: {
        summary: 'Page: the rights a person has here, each with a link to its form',
        tags: ['privacy portal pages'],
        params: slugParams,
        querystring: langQuery,
        response: PAGE,
      },
    },
    async (request, reply) =>
      sendPage(reply, renderRightsPage(await frameOf(request, reply, request.params.slug))),
  );

  typed.get(
    '/t/:slug/rights/:right',
    {
      schema: {
        summary: 'Page: the request form of one right (works without JavaScript)',
        tags: ['privacy portal pages'],
        params: slugParams.extend({ right: z.string().max(40) }),
        querystring: langQuery,
        response: PAGE,
      },
    },
    async (request, reply) => {
      const frame = await frameOf(request, reply, request.params.slug);
      const right = request.params.right;
      if (!isRight(right) || !frame.policy.rights.offered.includes(right))
        return sendPage(
          reply,
          renderErrorPage(frame, textsOf(frame).errors.notFound, `${frame.base}/rights`),
          404,
        );
      const csrf = formToken(request, reply, frame.base, deps.secureCookies);
      return sendPage(reply, renderRequestForm(frame, right, csrf));
    },
  );

  typed.post(
    '/t/:slug/rights/:right',
    {
      schema: {
        summary: 'Form post: file a request; answers 303 to the page where the mailed code is entered',
        tags: ['privacy portal pages'],
        params: slugParams.extend({ right: z.string().max(40) }),
        body: formBody,
      },
    },
    async (request, reply) => {
      const frame = await frameOf(request, reply, request.params.slug);
      const right = request.params.right;
      const back = `${frame.base}/rights/${right}`;
      if (!isRight(right) || !frame.policy.rights.offered.includes(right))
        return sendPage(
          reply,
          renderErrorPage(frame, textsOf(frame).errors.notFound, `${frame.base}/rights`),
          404,
        );
      const body: FormBody = request.body;
      const email = fieldOf(body, 'email');
      const values: FormState['values'] = { transferTo: fieldOf(body, 'transferTo') };
      const corrections: Record<string, unknown> = {};
      const address: Record<string, string> = {};
      for (const field of CORRECTABLE_FIELDS) {
        const value = fieldOf(body, `c-${field}`);
        values[field] = value;
        if (value === '') continue;
        if (field === 'street' || field === 'postalCode' || field === 'city') address[field] = value;
        else corrections[field] = value;
      }
      if (Object.keys(address).length > 0) corrections.address = address;
      try {
        assertFormToken(request, fieldOf(body, 'csrf'));
        const language = fieldOf(body, 'language');
        const receipt = await fileRequestAtDoor(
          deps.requests,
          frame.tenant.slug,
          {
            kind: right,
            email,
            ...(language === 'nl' || language === 'fr' || language === 'en'
              ? { language }
              : { language: frame.lang }),
            purposes: fieldsOf(body, 'purposes'),
            ...(values.transferTo ? { transferTo: values.transferTo } : {}),
            ...(right === 'rectification' && Object.keys(corrections).length > 0 ? { corrections } : {}),
          },
          request.ip,
        );
        return reply
          .header('cache-control', 'no-store')
          .redirect(`${frame.base}/rights/requests/${receipt.requestId}?token=${receipt.statusToken}`, 303);
      } catch (error) {
        if (isAppError(error) && error.code === 'validation_failed') {
          const csrf = formToken(request, reply, frame.base, deps.secureCookies);
          const state: FormState = { email, values, error: describeInvalid(frame, error.publicMessage) };
          return sendPage(reply, renderRequestForm(frame, right, csrf, state), 422);
        }
        return sendErrorPage(reply, frame, error, back);
      }
    },
  );

  const requestParams = slugParams.extend({ id: z.string().max(64) });
  const showRequest = async (
    request: FastifyRequest,
    reply: FastifyReply,
    frame: PortalFrame,
    id: string,
    token: string,
    notice?: { kind: 'info' | 'error'; text: string },
    status = 200,
  ): Promise<FastifyReply> => {
    const found = await getPublicStatus(deps.requests, frame.tenant.slug, id, token);
    const csrf = formToken(request, reply, frame.base, deps.secureCookies);
    const view = {
      ...found,
      receivedOn: formatDate(found.receivedOn, frame.lang),
      dueOn: formatDate(found.dueOn, frame.lang),
    };
    return sendPage(reply, renderRequestPage(frame, view, token, csrf, notice), status);
  };

  typed.get(
    '/t/:slug/rights/requests/:id',
    {
      schema: {
        summary:
          'Page: enter the mailed code (while the request waits for it), then the status of the request',
        tags: ['privacy portal pages'],
        params: requestParams,
        querystring: langQuery.extend({ token: z.string().max(64).default('') }),
        response: PAGE,
      },
    },
    async (request, reply) => {
      const frame = await frameOf(request, reply, request.params.slug);
      try {
        return await showRequest(request, reply, frame, request.params.id, request.query.token);
      } catch (error) {
        return sendErrorPage(reply, frame, error, `${frame.base}/rights`);
      }
    },
  );

  typed.post(
    '/t/:slug/rights/requests/:id',
    {
      schema: {
        summary:
          'Form post: the mailed code; answers 303 to the status page, or the code page with the error',
        tags: ['privacy portal pages'],
        params: requestParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const frame = await frameOf(request, reply, request.params.slug);
      const token = fieldOf(request.body, 'token');
      const page = `${frame.base}/rights/requests/${request.params.id}?token=${encodeURIComponent(token)}`;
      try {
        assertFormToken(request, fieldOf(request.body, 'csrf'));
        // The status token proves the code is entered for a request this person filed or was mailed.
        await getPublicStatus(deps.requests, frame.tenant.slug, request.params.id, token);
        await verifyAtDoor(
          deps.requests,
          frame.tenant.slug,
          request.params.id,
          fieldOf(request.body, 'code'),
          request.ip,
        );
        return reply.header('cache-control', 'no-store').redirect(page, 303);
      } catch (error) {
        const t = textsOf(frame);
        if (isAppError(error) && (error.code === 'validation_failed' || error.code === 'rate_limited')) {
          const text = error.code === 'rate_limited' ? t.confirm.tooMany : t.confirm.wrong;
          return showRequest(
            request,
            reply,
            frame,
            request.params.id,
            token,
            { kind: 'error', text },
            error.code === 'rate_limited' ? 429 : 422,
          );
        }
        return sendErrorPage(reply, frame, error, `${frame.base}/rights`);
      }
    },
  );
}
