import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The id of the HTTP request whose handler is running (decision 0728). An audit event recorded
 * without a request id of its own takes this one, so every request's entries carry its id (decision
 * 0521), including those of use cases that take no id, such as the privacy portal's.
 */
const scope = new AsyncLocalStorage<RequestScope>();

interface RequestScope {
  id: string;
  /** One of the request's transactions committed (decision 0762). */
  committed: boolean;
  /**
   * The pools (their silence watches) that found the database silent during this request
   * (decision 0810); shared by the request's bookkeeping scopes (withoutNotingCommits).
   */
  silentPools: Set<object>;
}

/** The scope of each request whose handler ran, by the object `runAsRequest` was given. */
const SCOPES = new WeakMap<object, RequestScope>();

/**
 * Runs `work` (a route's handler) as the request `requestId`. `request`: the object the error
 * handler will get, so it can ask `committedDuring` afterwards.
 */
export function runAsRequest<T>(requestId: string, work: () => T, request?: object): T {
  const store: RequestScope = { id: requestId, committed: false, silentPools: new Set() };
  if (request) SCOPES.set(request, store);
  return scope.run(store, work);
}

/** The id of the request whose handler this call runs in, if any (none in jobs and the CLI). */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.id;
}

/** Said by the database layer when a transaction has committed: of the request it runs for, if any. */
export function noteCommitted(): void {
  const store = scope.getStore();
  if (store) store.committed = true;
}

/**
 * Said by the database layer when `pool` found the database silent (a probe unanswered) during the
 * request this call runs for, if any: its later statements and connection waits on that pool fail
 * at once (decision 0810).
 */
export function noteSilentDatabase(pool: object): void {
  scope.getStore()?.silentPools.add(pool);
}

/** Whether `pool` found the database silent earlier in the request this call runs for. */
export function metSilentDatabase(pool: object): boolean {
  return scope.getStore()?.silentPools.has(pool) === true;
}

/**
 * Whether a transaction of `request`'s handler committed (decision 0762): a 503 after that is
 * not "nothing changed".
 */
export function committedDuring(request: object): boolean {
  return SCOPES.get(request)?.committed === true;
}

/**
 * Runs `work` as no request: background work (a job's run, a queue's loops and timers, a chain run
 * a read asked for) serves no one request, so the entries it records must not name one, even when
 * it was first started, or its loop created, inside a request's handler.
 */
export function outsideRequest<T>(work: () => T): T {
  return scope.exit(work);
}

/**
 * Runs `work` (a request's bookkeeping, such as its Idempotency-Key's row) so that its commits do
 * not count as the request's: a 503 after them still means nothing of the request's work was saved.
 */
export function withoutNotingCommits<T>(work: () => T): T {
  const store = scope.getStore();
  return store ? scope.run({ ...store, committed: false }, work) : work();
}
