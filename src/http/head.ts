import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { HeadersOnlyStop, runHeadersOnly } from '../platform/headers-only.js';
import { runAsRequest } from '../platform/request-scope.js';

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

/**
 * An `onRoute` hook: every HEAD runs its handler with the gate and the audit trail closed to it
 * (decision 0621), so a HEAD reads no personal data and writes no audit entry on any route, not
 * only on those that answer a HEAD themselves (decision 0580). Authentication hooks still run.
 */
export function runHeadWithoutPersonalData(route: RouteOptions): void {
  if (![route.method].flat().includes('HEAD')) return;
  const handler = route.handler;
  route.handler = function (this: unknown, request, reply) {
    if (!isHeadRequest(request)) return handler.call(this as never, request, reply);
    return runHeadersOnly(() => handler.call(this as never, request, reply));
  };
}

/**
 * A HEAD that reached the gate or the audit trail: the caller is signed in and the route answers,
 * which is all a HEAD says; the status and headers the GET would add depend on the read it may
 * not do (decision 0621).
 */
export function answerStoppedHead(request: FastifyRequest, reply: FastifyReply, error: unknown): boolean {
  if (!(error instanceof HeadersOnlyStop) || !isHeadRequest(request) || reply.sent) return false;
  reply.code(200).header('cache-control', 'no-store');
  sendHeadersOnly(reply);
  return true;
}

/**
 * Runs every route's handler as its request (decision 0728): the audit entries it records carry
 * the request's id, whether or not the use case was given it (the portal's are not).
 */
export function runHandlerAsRequest(route: RouteOptions): void {
  const handler = route.handler;
  route.handler = function (this: unknown, request, reply) {
    return runAsRequest(request.id, () => handler.call(this as never, request, reply), request);
  };
}
