import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isAppError } from '../../platform/errors.js';
import { openShareLinkAtDoor, type ShareLinkPage } from '../dossier/index.js';
import { displayValue } from './account.view.js';
import { assertFormToken, fieldOf, formToken, loadFrame } from './frame.js';
import { html } from './html.js';
import { renderPortalPage, textsOf, type PortalFrame } from './layout.js';
import type { PortalDeps } from './portal.routes.js';
import { formBody, sendErrorPage, sendPage, slugParams } from './public.routes.js';

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The page's own address (language switcher, form): the token only when it looks like one. */
const pathOf = (frame: PortalFrame, token: string): string =>
  `${frame.base}/dossier/shares/${TOKEN.test(token) ? token : ''}`;

/** An unknown, used or expired link, in the person's language. */
function gonePage(frame: PortalFrame, token: string): string {
  const t = textsOf(frame).oneTime;
  return renderPortalPage(frame, {
    title: t.shareTitle,
    path: pathOf(frame, token),
    body: html`<h1>${t.shareTitle}</h1>
      <p role="alert">${t.shareGone}</p>`,
  });
}

/**
 * The page a browser gets for a technician's one-time link to a secret (decision 0472, like the
 * mailed links of decision 0400): what it gives and until when, in the person's language, with
 * one button; the GET opens nothing. Given to the dossier's GET route, which answers JSON to
 * API clients.
 */
export function dossierSharePage(deps: Pick<PortalDeps, 'kernel' | 'secureCookies'>): ShareLinkPage {
  return async (request, reply, slug, token, link) => {
    const frame = await loadFrame(deps.kernel, request, reply, slug, { secureCookies: deps.secureCookies });
    if (!link) return gonePage(frame, token);
    const t = textsOf(frame);
    const csrf = formToken(request, reply, frame.base, deps.secureCookies);
    const path = pathOf(frame, token);
    return renderPortalPage(frame, {
      title: t.oneTime.shareTitle,
      path,
      body: html`<h1>${t.oneTime.shareTitle}</h1>
        <p>
          ${t.oneTime.shareIntro(
            t.dossier.fields[link.field],
            displayValue(link.expiresAt.toISOString(), frame.lang),
          )}
        </p>
        <form method="post" action="${path}">
          <input type="hidden" name="csrf" value="${csrf}" />
          <button type="submit">${t.oneTime.shareSubmit}</button>
        </form>`,
    });
  };
}

/** The share link page's button: opens the link (once) and shows the secret in the answer only. */
export function registerSharePages(app: FastifyInstance, deps: PortalDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.post(
    '/t/:slug/dossier/shares/:token',
    {
      schema: {
        summary:
          'Form post (the share link page’s button): the secret, shown once in this answer (no-store); the link is used',
        tags: ['privacy portal pages'],
        params: slugParams.extend({ token: z.string().max(100) }),
        body: formBody,
      },
    },
    async (request, reply) => {
      const { slug, token } = request.params;
      const frame = await loadFrame(deps.kernel, request, reply, slug, { secureCookies: deps.secureCookies });
      void reply.header('referrer-policy', 'no-referrer');
      try {
        assertFormToken(request, fieldOf(request.body, 'csrf'));
        const secret = await openShareLinkAtDoor(deps.kernel, { slug, token, address: request.ip });
        const t = textsOf(frame);
        return sendPage(
          reply,
          renderPortalPage(frame, {
            title: t.oneTime.shareTitle,
            path: pathOf(frame, token),
            body: html`<h1>${t.oneTime.shareTitle}</h1>
              <p>${t.dossier.fields[secret.field]}:</p>
              <p><code class="secret">${secret.value}</code></p>
              <p role="status">${t.oneTime.shareOnce}</p>`,
          }),
        );
      } catch (error) {
        if (isAppError(error) && error.code === 'not_found')
          return sendPage(reply, gonePage(frame, token), 404);
        return sendErrorPage(reply, frame, error, `${frame.base}/privacy`);
      }
    },
  );
}
