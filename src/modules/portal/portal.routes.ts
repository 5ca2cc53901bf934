import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/kernel.js';
import type { EnforcedPromises } from '../../kernel/policy/index.js';
import type { LinkedCookieChoice } from '../cookies/index.js';
import type { RequestsDeps } from '../requests/index.js';
import { parseFormBody, loadFrame } from './frame.js';
import { registerPublicPages } from './public.routes.js';
import { registerAccountPages } from './account.pages.js';
import { registerReportPages } from './report.pages.js';
import { registerSharePages } from './share.pages.js';
import { registerOneTimePages } from './one-time.pages.js';
import { registerLogoRoutes } from './logo.routes.js';
import { registerThemeRoutes } from './theme.routes.js';
import { renderStatementPage } from './statement.page.js';

export interface PortalDeps {
  kernel: Kernel;
  /** The rights module's doors and account services, with the same limits as its JSON routes. */
  requests: RequestsDeps;
  enforced: EnforcedPromises;
  secureCookies: boolean;
  /**
   * The person's cookie choices linked to them at a portal login (the cookies module; decision
   * 0290), for "my consents". Without it the page shows none.
   */
  cookieChoices?: (session: { tenantId: number; subjectId: number }) => Promise<LinkedCookieChoice[]>;
}

/**
 * The privacy portal's pages under /t/<slug>/ (issue 19). Registered in their own scope, so the
 * form-body parser (application/x-www-form-urlencoded, what a form without JavaScript posts)
 * applies to these routes only; the JSON API keeps taking JSON alone.
 */
export async function registerPortalRoutes(app: FastifyInstance, deps: PortalDeps): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/require-await -- Fastify encapsulates async plugins only
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => done(null, parseFormBody(String(body))),
    );
    registerPublicPages(scope, deps);
    registerAccountPages(scope, deps);
    registerReportPages(scope, deps);
    registerOneTimePages(scope, deps);
    registerSharePages(scope, deps);
    registerThemeRoutes(scope, deps.kernel);
    registerLogoRoutes(scope, deps.kernel);
  });
}

/** The statement page, for the policy route's HTML answer (GET /t/<slug>/privacy). */
export function statementPage(
  deps: Pick<PortalDeps, 'kernel' | 'enforced' | 'secureCookies'>,
): (request: FastifyRequest, reply: FastifyReply, slug: string) => Promise<string> {
  return async (request, reply, slug) =>
    renderStatementPage(
      await loadFrame(deps.kernel, request, reply, slug, { secureCookies: deps.secureCookies }),
      deps.enforced,
    );
}
