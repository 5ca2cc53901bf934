import { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { endWhileArriving } from './error-handler.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The handler reads the body itself, as it arrives (the call-record upload): the body may be
     * far larger than any route's bodyLimit says, so it has only the idle bound (decision 0865).
     */
    streamsBody?: boolean;
  }
}

/**
 * How long a request's body may take once its headers are in (attack S18-4, decision 0865).
 * Node's own `requestTimeout` (30 minutes, decision 0811) stays the bound of the whole request.
 */
export interface BodyArrivalLimits {
  /** The whole body of a route that takes small bodies, counted from the end of the headers. */
  bodyTimeoutMs: number;
  /** A large or streamed body (the call-record upload): no byte for this long and it is ended. */
  bodyIdleTimeoutMs: number;
  /** How often the bodies still arriving are looked at (as Node looks at headers). */
  checkEveryMs: number;
}

/** As the headers (decision 0817): a login's or a form's body arrives in the same packets. */
export const BODY_TIMEOUT_MS = 20_000;
/**
 * Nginx's `client_body_timeout` default, which operators know: a switch's upload over a flaky line
 * may pause for a retransmission or a handover, not for a minute.
 */
export const BODY_IDLE_TIMEOUT_MS = 60_000;

/** A body still arriving, and what the sweep needs to judge it. */
interface Arriving {
  request: FastifyRequest;
  reply: FastifyReply;
  socket: Socket;
  /** Whole-body deadline (Date.now()), or undefined for a large or streamed body. */
  deadline: number | undefined;
  /** What the connection had read at the last sweep that saw it read more. */
  bytesRead: number;
  lastProgress: number;
}

/**
 * Bounds the arrival of request bodies (attack S18-4): 512 connections sending a login body one
 * byte every 10 s kept every slot of the server for the 30 minutes meant for a call-record upload.
 *
 * - A route whose bodyLimit is the app's default or less must receive its whole body within
 *   `bodyTimeoutMs` of its headers.
 * - A route that takes a larger body (bodyLimit above the app's), or streams it (`streamsBody`),
 *   is ended when no byte arrived for `bodyIdleTimeoutMs`; the 30 minutes of 0811 bound the whole.
 *
 * Ended means Node's own way for a request past `requestTimeout`: `408 request_timeout` written
 * as a problem, then the socket destroyed (decision 0817), which frees the slot. The parser, or the
 * upload's handler, then sees its body break off: nothing was parsed, so nothing ran, and the
 * upload removes its part file (0835). One log line at info says it, without the body.
 *
 * One interval for the server (unref'd, from 'listening' to 'close'), not a timer per request;
 * only requests that announce a body (Content-Length above 0, or Transfer-Encoding) are watched,
 * and a request is dropped from the watch once its body is in or its answer has started.
 */
export function limitBodyArrival(app: FastifyInstance, limits: BodyArrivalLimits): void {
  const arriving = new Set<Arriving>();
  const appBodyLimit = app.initialConfig.bodyLimit ?? 1024 * 1024;
  app.addHook('onRequest', (request, reply, done) => {
    const headers = request.raw.headers;
    const announcesBody =
      headers['transfer-encoding'] !== undefined ||
      (headers['content-length'] !== undefined && headers['content-length'] !== '0');
    // Not app.inject's stand-in socket: nothing arrives slowly there, and it cannot be closed.
    const socket: unknown = request.raw.socket;
    if (announcesBody && socket instanceof Socket && !request.raw.complete) {
      const options = request.routeOptions;
      const large = options.config.streamsBody === true || (options.bodyLimit ?? 0) > appBodyLimit;
      const now = Date.now();
      arriving.add({
        request,
        reply,
        socket,
        deadline: large ? undefined : now + limits.bodyTimeoutMs,
        bytesRead: socket.bytesRead,
        lastProgress: now,
      });
    }
    done();
  });

  const sweep = () => {
    const now = Date.now();
    for (const entry of arriving) {
      const { request, reply, socket } = entry;
      if (request.raw.complete || reply.raw.headersSent || socket.destroyed) {
        arriving.delete(entry);
        continue;
      }
      // Counted by the socket, before Node's parser: the body's bytes, whoever reads them.
      const bytesRead = socket.bytesRead;
      if (bytesRead !== entry.bytesRead) {
        entry.bytesRead = bytesRead;
        entry.lastProgress = now;
      }
      const late = entry.deadline !== undefined && now >= entry.deadline;
      const idle = now - entry.lastProgress >= limits.bodyIdleTimeoutMs;
      if (!late && !idle) continue;
      arriving.delete(entry);
      request.log.info(
        {
          bound: late ? 'whole body' : 'idle body',
          boundMs: late ? limits.bodyTimeoutMs : limits.bodyIdleTimeoutMs,
          contentLength: request.raw.headers['content-length'] ?? null,
        },
        'request body not received in time: answered 408 and the connection closed',
      );
      endWhileArriving(request.raw, socket);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  app.server.on('listening', () => {
    clearInterval(timer);
    timer = setInterval(sweep, limits.checkEveryMs).unref();
  });
  app.server.on('close', () => {
    clearInterval(timer);
    arriving.clear();
  });
}
