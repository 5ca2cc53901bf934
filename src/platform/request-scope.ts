import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The id of the HTTP request whose handler is running (decision 0728). An audit event recorded
 * without a request id of its own takes this one, so every request's entries carry its id (decision
 * 0521), including those of use cases that take no id, such as the privacy portal's.
 */
const scope = new AsyncLocalStorage<string>();

/** Runs `work` (a route's handler) as the request `requestId`. */
export function runAsRequest<T>(requestId: string, work: () => T): T {
  return scope.run(requestId, work);
}

/** The id of the request whose handler this call runs in, if any (none in jobs and the CLI). */
export function currentRequestId(): string | undefined {
  return scope.getStore();
}

/**
 * Runs `work` as no request: background work (a job's run, a queue's loops and timers, a chain run
 * a read asked for) serves no one request, so the entries it records must not name one, even when
 * it was first started, or its loop created, inside a request's handler.
 */
export function outsideRequest<T>(work: () => T): T {
  return scope.exit(work);
}
