import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isAppError } from '../../platform/errors.js';
import {
  findDownload,
  loginWithLinkAtDoor,
  sendDownload,
  setSessionCookie,
  signInBrowserOf,
} from '../requests/index.js';
import { assertFormToken, fieldOf, formToken, loadFrame } from './frame.js';
import { html } from './html.js';
import { renderPortalPage, textsOf, type PortalFrame } from './layout.js';
import type { PortalDeps } from './portal.routes.js';
import { formBody, sendErrorPage, sendPage, slugParams } from './public.routes.js';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const tags = ['privacy portal pages'];

/**
 * The pages behind the one-time links we mail (decision 0400): a GET or HEAD (a mail scanner,
 * a link preview) shows a page with one button and spends nothing; only the button's POST, with
 * the page's form token, logs in or starts the download.
 */
export function registerOneTimePages(app: FastifyInstance, deps: PortalDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const secure = deps.secureCookies;

  const buttonPage = (
    frame: PortalFrame,
    path: string,
    content: { title: string; intro: string; submit: string; action: string; csrf: string; token?: string },
  ): string =>
    renderPortalPage(frame, {
      title: content.title,
      path,
      body: html`<h1>${content.title}</h1>
        <p>${content.intro}</p>
        <form method="post" action="${content.action}">
          <input type="hidden" name="csrf" value="${content.csrf}" />
          ${content.token === undefined ? '' : html`<input type="hidden" name="token" value="${content.token}" />`}
          <button type="submit">${content.submit}</button>
        </form>`,
    });

  // ------------------------------------------------------------------ login link
  typed.get(
    '/t/:slug/account/login',
    {
      schema: {
        summary:
          'The one-time login link as mailed: a page with one button that logs in (a GET or HEAD spends nothing; mail scanners open links)',
        tags,
        params: slugParams,
        // `language` is the mail's: the page speaks it unless this browser chose another (`lang`).
        querystring: z.object({
          token: z.string().max(64),
          language: z.string().max(5).optional(),
          lang: z.string().max(5).optional(),
        }),
        response: { 200: z.string() },
      },
    },
    async (request, reply) => {
      const frame = await loadFrame(deps.kernel, request, reply, request.params.slug, {
        secureCookies: secure,
        personLanguage: request.query.language ?? null,
      });
      const t = textsOf(frame).oneTime;
      const csrf = formToken(request, reply, frame.base, secure);
      // The token stays in the page's own links (language switcher) and in the form, nowhere else.
      const path = `${frame.base}/account/login?token=${encodeURIComponent(request.query.token)}`;
      return sendPage(
        reply.header('referrer-policy', 'no-referrer'),
        buttonPage(frame, path, {
          title: t.loginTitle,
          intro: t.loginIntro,
          submit: t.loginSubmit,
          action: `${frame.base}/account/login-token`,
          csrf,
          token: request.query.token,
        }),
      );
    },
  );

  typed.post(
    '/t/:slug/account/login-token',
    {
      schema: {
        summary:
          'Form post (the login link page’s button): log in with the one-time token; 303 to the account',
        tags,
        params: slugParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const frame = await loadFrame(deps.kernel, request, reply, request.params.slug, {
        secureCookies: secure,
      });
      const see = (location: string) => reply.header('cache-control', 'no-store').redirect(location, 303);
      try {
        assertFormToken(request, fieldOf(request.body, 'csrf'));
        const login = await loginWithLinkAtDoor(
          deps.requests,
          frame.tenant.slug,
          fieldOf(request.body, 'token').slice(0, 64),
          request.ip,
          signInBrowserOf(request),
        );
        setSessionCookie(reply, frame.tenant.slug, login, secure);
      } catch (error) {
        // A used or expired link lands on the login page, which says so in the person's language.
        if (isAppError(error) && error.code === 'unauthenticated')
          return see(`${frame.base}/account?failed=link`);
        return sendErrorPage(reply, frame, error, `${frame.base}/account`);
      }
      return see(`${frame.base}/account`);
    },
  );

  // ------------------------------------------------------------------ download link
  const downloadParams = slugParams.extend({ token: z.string().max(64) });
  typed.get(
    '/t/:slug/privacy/downloads/:token',
    {
      schema: {
        summary:
          'The access or portability download link as mailed: a page with one button that starts the download (a GET or HEAD counts no start)',
        tags,
        params: downloadParams,
        querystring: z.object({ lang: z.string().max(5).optional() }),
        response: { 200: z.string(), 404: z.string() },
      },
    },
    async (request, reply) => {
      const found = await findDownload(deps.requests, request.params.slug, request.params.token);
      const frame = await loadFrame(deps.kernel, request, reply, request.params.slug, {
        secureCookies: secure,
        personLanguage: found?.language ?? null,
      });
      const t = textsOf(frame).oneTime;
      const path = `${frame.base}/privacy/downloads/${TOKEN.test(request.params.token) ? request.params.token : ''}`;
      void reply.header('referrer-policy', 'no-referrer');
      if (!found)
        return sendPage(
          reply,
          renderPortalPage(frame, {
            title: t.downloadTitle,
            path,
            body: html`<h1>${t.downloadTitle}</h1>
              <p role="alert">${t.downloadGone}</p>`,
          }),
          404,
        );
      const csrf = formToken(request, reply, frame.base, secure);
      return sendPage(
        reply,
        buttonPage(frame, path, {
          title: t.downloadTitle,
          intro: t.downloadIntro,
          submit: t.downloadSubmit,
          action: path,
          csrf,
        }),
      );
    },
  );

  typed.post(
    '/t/:slug/privacy/downloads/:token',
    {
      schema: {
        summary:
          'Form post (the download page’s button): the access or portability package as a ZIP; the link is spent by one complete download, or after 3 started ones',
        tags,
        params: downloadParams,
        body: formBody,
      },
    },
    async (request, reply) => {
      const { slug, token } = request.params;
      try {
        assertFormToken(request, fieldOf(request.body, 'csrf'));
        return await sendDownload(deps.requests, request, reply, slug, token);
      } catch (error) {
        // Refusals come before the first byte; after it, the answer is the broken download.
        if (reply.sent) throw error;
        const frame = await loadFrame(deps.kernel, request, reply, slug, { secureCookies: secure });
        if (isAppError(error) && error.code === 'not_found') {
          const t = textsOf(frame).oneTime;
          return sendPage(
            reply,
            renderPortalPage(frame, {
              title: t.downloadTitle,
              path: `${frame.base}/privacy/downloads/${TOKEN.test(token) ? token : ''}`,
              body: html`<h1>${t.downloadTitle}</h1>
                <p role="alert">${t.downloadGone}</p>`,
            }),
            404,
          );
        }
        return sendErrorPage(reply, frame, error, `${frame.base}/privacy`);
      }
    },
  );
}
