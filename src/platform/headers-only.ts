import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A HEAD gets a GET's headers and no body, so it has no business reading personal data or
 * writing an audit entry (decision 0621). The HTTP layer runs every HEAD handler inside this
 * scope; the gate and the audit trail refuse to work inside it, whichever route asked.
 */
const scope = new AsyncLocalStorage<true>();

/** Thrown where a HEAD would have read personal data or written an audit entry: the HEAD ends there. */
export class HeadersOnlyStop extends Error {
  constructor(where: string) {
    super(`a HEAD stopped before ${where}`);
    this.name = 'HeadersOnlyStop';
  }
}

/** Runs `work` (a HEAD's handler) with the gate and the audit trail closed to it. */
export function runHeadersOnly<T>(work: () => T): T {
  return scope.run(true, work);
}

export function isHeadersOnly(): boolean {
  return scope.getStore() === true;
}

/** Throws `HeadersOnlyStop` inside a HEAD's handler. */
export function stopIfHeadersOnly(where: string): void {
  if (isHeadersOnly()) throw new HeadersOnlyStop(where);
}
