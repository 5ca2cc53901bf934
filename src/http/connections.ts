import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * How long a request may take to arrive whole, headers and body (Node's `requestTimeout`,
 * decision 0811): the largest body is a call-record upload of DEFAULT_MAX_UPLOAD_BYTES (512 MiB),
 * which arrives within this at about 2.4 Mbit/s. A client slower than that is ended with
 * `408 request_timeout`. Bodies have shorter bounds of their own (body-arrival.ts, decision 0865).
 */
export const REQUEST_RECEIVE_TIMEOUT_MS = 30 * 60_000;

/**
 * How long a stop leaves the connections that carry no running request (an answered request's body
 * still arriving, headers still arriving, an idle keep-alive) before it ends them (decision 0811).
 */
export const STOP_CONNECTION_GRACE_MS = 2_000;

/** What the HTTP side of a stop is still waiting for. */
export interface HttpInFlight {
  /** Requests past their body (validated) whose answer has not been sent in full. */
  requests: number;
  /** Open client connections. */
  connections: number;
}

/**
 * Connections that carry no running request do not hold a stop (decisions 0811, 0835):
 * - an answer of 400 or more sent before the request's body had arrived (a 401, 403 or 413 before
 *   the body: the body is not wanted) says `Connection: close`, and Node ends the socket after
 *   it instead of reading the rest of the body;
 * - once the app is closing, the connections without a running request (one that got past its
 *   body to validation and whose answer is not sent in full) are ended after
 *   `graceMs`, and again every 250 ms until the server has closed: Node's `closeIdleConnections`
 *   ends only connections between two requests, not one still receiving an answered request's
 *   body or a request's headers;
 * - so are the connections whose running requests are all still receiving a body their handler
 *   streams (the call-record upload): such a handler has only spooled a part file, which it
 *   removes when its body breaks off, and records nothing until the body is whole (0835).
 * httpInFlight(app) then says what is in flight, for the stop's log line.
 */
export function endConnectionsWithoutRequests(
  app: FastifyInstance,
  graceMs = STOP_CONNECTION_GRACE_MS,
): void {
  /** Each open connection and its running requests (answer not sent in full). */
  const running = new Map<Socket, Set<IncomingMessage>>();
  app.server.on('connection', (socket: Socket) => {
    running.set(socket, new Set());
    socket.once('close', () => running.delete(socket));
  });
  // Running from its validation on: its body has been read (or is streamed by its handler, as an
  // upload's), and it may do work. A request answered before (a 401, a 503 of a stopping server)
  // or still receiving the body it will parse has done nothing.
  app.addHook('preValidation', (request, reply, done) => {
    const socket = request.raw.socket as Socket | undefined;
    const requests = socket ? running.get(socket) : undefined;
    if (requests) {
      requests.add(request.raw);
      // 'close' of the response: sent in full, or its connection lost; once either way.
      reply.raw.once('close', () => requests.delete(request.raw));
    }
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    // An answer given before its request's body is in (a refusal, or a GET that was sent a body it
    // ignores) ends the connection: the body would otherwise hold it for as long as it trickles
    // (decision 0811; any status since attack S18-4's retest, decision 0865).
    if (!request.raw.complete) void reply.header('connection', 'close');
    done(null, payload);
  });
  let sweeping: NodeJS.Timeout | undefined;
  const endIdle = () => {
    for (const [socket, requests] of running) if (holdsNoWork(requests)) socket.destroy();
  };
  app.addHook('preClose', (done) => {
    sweeping = setTimeout(function sweep() {
      endIdle();
      sweeping = setTimeout(sweep, 250).unref();
    }, graceMs).unref();
    app.server.once('close', () => clearTimeout(sweeping));
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearTimeout(sweeping);
    done();
  });
  IN_FLIGHT.set(app, () => {
    let requests = 0;
    for (const each of running.values()) requests += each.size;
    return { requests, connections: running.size };
  });
}

/**
 * No request of the connection is at work a stop must wait for: none runs, or every running one
 * is still receiving its (streamed) body (decision 0835).
 */
function holdsNoWork(requests: ReadonlySet<IncomingMessage>): boolean {
  for (const request of requests) if (request.complete) return false;
  return true;
}

const IN_FLIGHT = new WeakMap<object, () => HttpInFlight>();

/** What `app`'s server is still serving (endConnectionsWithoutRequests), for a stop's log line. */
export function httpInFlight(app: FastifyInstance): HttpInFlight | undefined {
  return IN_FLIGHT.get(app)?.();
}
