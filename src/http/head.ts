import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

// Fastify answers HEAD with the GET route's own handler (`exposeHeadRoutes`) and then drains the
// body it produced, so a HEAD of a streamed export used to run the whole export into nothing
// (attack S8-4, decision 0580).

/** Whether this request only wants the headers (a HEAD through a GET route). */
export function isHeadRequest(request: FastifyRequest): boolean {
  return request.method === 'HEAD';
}

/**
 * Ends a HEAD with the headers already set on `reply`, no body and no Content-Length (a streamed
 * GET has none either): the export itself is never started.
 */
export function sendHeadersOnly(reply: FastifyReply): FastifyReply {
  return reply.send(Readable.from([]));
}

/**
 * The app-wide net under the routes that check `isHeadRequest` themselves: a HEAD whose handler
 * still answered with a stream gets the stream stopped (a generator behind it is not read on), where
 * Fastify would read it to its end.
 */
export function stopStreamOfHead(request: FastifyRequest, payload: unknown): unknown {
  if (!isHeadRequest(request) || !(payload instanceof Readable)) return payload;
  payload.destroy();
  return Readable.from([]);
}
