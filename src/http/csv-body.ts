import type { FastifyInstance } from 'fastify';

/** Lets routes take a CSV upload as a string body; safe to call from every module that needs it. */
export function acceptCsvBodies(app: FastifyInstance): void {
  if (app.hasContentTypeParser('text/csv')) return;
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));
}
