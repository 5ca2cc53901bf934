import { AsyncLocalStorage } from 'node:async_hooks';
import type { Tx } from '../platform/db.js';

/**
 * While an idempotent request's work runs (src/http/idempotency.ts), every tenant transaction it
 * commits also marks its Idempotency-Key `committed`, in that same transaction. A retry after the
 * request died can then tell "nothing was made" (the key is still `pending`: do the work) from
 * "something was made, its answer is lost" (`committed`: refuse), so a crash never turns a retry
 * into a second money document or mail (docs/decisions/0380).
 */
interface IdempotentScope {
  tenantId: number;
  key: string;
}

const scope = new AsyncLocalStorage<IdempotentScope>();

/** Runs `work` with its commits marking this tenant's key. */
export function runInIdempotentScope<T>(tenantId: number, key: string, work: () => Promise<T>): Promise<T> {
  return scope.run({ tenantId, key }, work);
}

/** Wraps a transaction's work so that, inside an idempotent scope, it marks the key before commit. */
export function markingIdempotentCommit<X, T>(
  tenantId: number,
  txOf: (x: X) => Tx,
  work: (x: X) => Promise<T>,
): (x: X) => Promise<T> {
  const current = scope.getStore();
  if (current?.tenantId !== tenantId) return work;
  return async (x) => {
    const result = await work(x);
    await txOf(x)
      .updateTable('idempotency_keys')
      .set({ state: 'committed' })
      .where('idempotency_key', '=', current.key)
      .where('state', '=', 'pending')
      .execute();
    return result;
  };
}
