import { AsyncLocalStorage } from 'node:async_hooks';
import { sql } from 'kysely';
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

/**
 * Rows this connection changed outside the audit trail (the audit_* tables and the keys themselves
 * only record what happened), by PostgreSQL's own counts of inserts, updates and deletes. The
 * counts also hold earlier transactions of the connection that are not yet flushed to the
 * statistics (PostgreSQL 15 on), but never shrink inside a transaction: the growth between the
 * work's start and its end is the transaction's own changes.
 */
const CHANGED_ROWS = sql<string>`(select coalesce(sum(t.n_tup_ins + t.n_tup_upd + t.n_tup_del), 0)::text
  from pg_stat_xact_user_tables t
  where left(t.relname, 6) <> 'audit_' and t.relname <> 'idempotency_keys')`;

/**
 * Wraps a transaction's work so that, inside an idempotent scope, it marks the key before commit
 * when the transaction changed rows outside the audit trail. A commit of audit entries only (the
 * first transaction of an invoice run: its decision and candidates) leaves the key `pending`, so
 * a retry after a crash does the work instead of answering that changes were made (attack S7-8,
 * decision 0522). Without the counts (`track_counts` off) every commit marks, as before.
 */
export function markingIdempotentCommit<X, T>(
  tenantId: number,
  txOf: (x: X) => Tx,
  work: (x: X) => Promise<T>,
): (x: X) => Promise<T> {
  const current = scope.getStore();
  if (current?.tenantId !== tenantId) return work;
  return async (x) => {
    const before = await sql<{ changed: string }>`select ${CHANGED_ROWS} as changed`.execute(txOf(x));
    const result = await work(x);
    await sql`update idempotency_keys set state = 'committed'
      where idempotency_key = ${current.key} and state = 'pending'
        and (current_setting('track_counts') <> 'on'
          or ${CHANGED_ROWS}::numeric > ${before.rows[0]?.changed ?? '0'}::numeric)`.execute(txOf(x));
    return result;
  };
}
