import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The staff back office (web/, built by `npm run build` into dist/web) at `/`. Files come from the
 * build folder; any other GET of a page path answers index.html so that the browser app's own
 * routes (/requests/…) load on a reload. Paths of the API and the public pages are never shadowed:
 * /api, /t/, /health and /docs keep their own answers (their 404 included), and so does a missing
 * file under /assets (never index.html in place of a script).
 */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const NOT_THE_APP = /^\/(api|t|health|docs|assets)(\/|$)/;

export async function registerWebApp(app: FastifyInstance, root: string): Promise<void> {
  if (!existsSync(`${root}index.html`)) {
    app.log.warn({ root }, 'web app not built (npm run build): the back office is not served');
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: false,
    cacheControl: false,
    // Hashed file names under assets/ never change; index.html is always asked again.
    setHeaders: (reply, filePath) => {
      reply.setHeader(
        'cache-control',
        filePath.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  const sendApp = (request: FastifyRequest, reply: FastifyReply) => {
    if (NOT_THE_APP.test(request.url)) return reply.callNotFound();
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  };
  app.get('/', { schema: { hide: true } }, sendApp);
  app.get('/*', { schema: { hide: true } }, sendApp);
}
