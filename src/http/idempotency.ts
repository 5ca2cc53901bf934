import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { sql } from 'kysely';
import { runInIdempotentScope } from '../kernel/idempotent-commits.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Tx } from '../platform/db.js';
import { AppError, validationError } from '../platform/errors.js';
import { withoutNotingCommits } from '../platform/request-scope.js';
import { reachTestHook } from '../platform/test-hooks.js';
import { PURPOSE_HEADER } from './purpose.js';

/**
 * `Idempotency-Key` on the POSTs that make a money document or send mail (decision 0086): the
 * same key with the same request answers what the first call answered, without doing the work
 * again; the same key with a different request is refused (`idempotency_key_reused`, 422); a
 * key whose first call is still running is a 409 (`idempotency_in_progress`); a key whose first
 * call died before it made anything is taken over by the retry (decision 0380). Keys are kept per
 * tenant for 24 hours.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY = /^[\x21-\x7e]{1,255}$/;
const KEEP_MS = 24 * 60 * 60 * 1000;

/** For route schemas: the optional header, documented in the OpenAPI document. */
export const idempotencyHeaderSchema = {
  [IDEMPOTENCY_HEADER]: z
    .string()
    .optional()
    .describe(
      'A unique value per operation (e.g. a UUID). A retry with the same key and body answers the first result and creates nothing; kept 24 hours.',
    ),
};

export interface IdempotentWork<T, S extends number> {
  /** The status of a fresh success (e.g. 201); a replay answers the same. */
  status: S;
  run: () => Promise<T>;
  /** What is kept for a replay; must hold no personal data (default: the answer itself). */
  remember?: (answer: T) => unknown;
  /** Rebuilds the answer from what was kept, e.g. re-reads a document through the gate. */
  replay?: (kept: unknown) => Promise<T>;
}

/** Runs the work once per Idempotency-Key (or every time without one) and says what to answer. */
export async function runIdempotently<T, S extends number>(
  kernel: Kernel,
  request: FastifyRequest,
  reply: FastifyReply,
  tenantId: number,
  work: IdempotentWork<T, S>,
): Promise<{ status: S; body: T }> {
  const key = request.headers[IDEMPOTENCY_HEADER];
  if (key === undefined) return { status: work.status, body: await work.run() };
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw validationError(`${IDEMPOTENCY_HEADER}: 1 to 255 visible ASCII characters`, {
      issues: [{ path: `headers/${IDEMPOTENCY_HEADER}`, message: '1 to 255 visible ASCII characters' }],
    });
  }
  const fingerprint = fingerprintOf(request);
  await holders.acquire();
  try {
    const outcome = await kernel.plain(tenantId, (lockTx) =>
      runHoldingKey(kernel, lockTx, tenantId, key, fingerprint, work),
    );
    if (outcome.kind === 'fresh') return { status: work.status, body: outcome.answer };
    reply.header('idempotent-replayed', 'true');
    const body = work.replay ? await work.replay(outcome.kept) : (outcome.kept as T);
    return { status: work.status, body };
  } finally {
    holders.release();
  }
}

type Outcome<T> = { kind: 'fresh'; answer: T } | { kind: 'replay'; kept: unknown };

/**
 * Inside `lockTx`, which holds the key's transaction-scoped advisory lock for as long as the work
 * runs: whoever holds it owns the key, and a process that dies (or loses its connection) frees it
 * at once. The key's row is written in separate short transactions, so the work's own commits can
 * mark it `committed` (src/kernel/idempotent-commits.ts) without waiting on this one.
 */
async function runHoldingKey<T, S extends number>(
  kernel: Kernel,
  lockTx: Tx,
  tenantId: number,
  key: string,
  fingerprint: Buffer,
  work: IdempotentWork<T, S>,
): Promise<Outcome<T>> {
  const locked = await sql<{
    locked: boolean;
  }>`select pg_try_advisory_xact_lock(hashtextextended(${`kluis.idempotency.${tenantId}.${key}`}, 0)) as locked`.execute(
    lockTx,
  );
  if (locked.rows[0]?.locked !== true) {
    throw new AppError('idempotency_in_progress', 'idempotent request in progress', {
      publicMessage: `a request with this ${IDEMPOTENCY_HEADER} is still being processed; retry later`,
    });
  }
  const now = kernel.clock.now();
  // The key's own row is bookkeeping: its commit is not part of the request's work (decision 0762).
  const existing = await withoutNotingCommits(() =>
    kernel.plain(tenantId, async (tx) => {
      await tx
        .deleteFrom('idempotency_keys')
        .where('created_at', '<', new Date(now.getTime() - KEEP_MS))
        .execute();
      const row = await tx
        .selectFrom('idempotency_keys')
        .select(['fingerprint', 'state', 'response_status', 'response_body'])
        .where('idempotency_key', '=', key)
        .executeTakeFirst();
      if (row === undefined) {
        await tx
          .insertInto('idempotency_keys')
          .values({
            tenant_id: tenantId,
            idempotency_key: key,
            fingerprint,
            state: 'pending',
            created_at: now,
          })
          .execute();
      } else if (row.state === 'pending' && row.fingerprint.equals(fingerprint)) {
        // Its holder is gone (we hold the lock) and it made nothing: this retry takes the key over.
        await tx
          .updateTable('idempotency_keys')
          .set({ created_at: now })
          .where('idempotency_key', '=', key)
          .execute();
      }
      return row;
    }),
  );
  if (existing && !existing.fingerprint.equals(fingerprint)) {
    throw new AppError('idempotency_key_reused', 'idempotency key reused for another request', {
      publicMessage: `this ${IDEMPOTENCY_HEADER} was used for a different request; use a new key`,
    });
  }
  if (existing?.state === 'committed' || (existing?.state === 'done' && existing.response_status === null)) {
    // The first call committed changes beyond audit entries and died before it answered: doing
    // it again could make a second document or mail, and its answer cannot be rebuilt. A call
    // that committed audit entries only is still `pending` and taken over (decision 0522).
    throw new AppError('conflict', 'idempotent request interrupted after its commit', {
      publicMessage: `the first request with this ${IDEMPOTENCY_HEADER} was interrupted after some or all of its changes had been committed; check the result before sending the request again with a new key`,
      details: { state: 'interrupted' },
    });
  }
  if (existing?.state === 'done') return { kind: 'replay', kept: existing.response_body };

  await reachTestHook('idempotency.claimed');
  let answer: T;
  try {
    answer = await runInIdempotentScope(tenantId, key, work.run);
  } catch (error) {
    // The work failed: the key may be used again for a corrected request.
    await kernel.plain(tenantId, (tx) =>
      tx.deleteFrom('idempotency_keys').where('idempotency_key', '=', key).execute(),
    );
    throw error;
  }
  await reachTestHook('idempotency.work-done');
  const kept = work.remember ? work.remember(answer) : answer;
  await lockTx
    .updateTable('idempotency_keys')
    .set({ state: 'done', response_status: work.status, response_body: JSON.stringify(kept) })
    .where('idempotency_key', '=', key)
    .execute();
  return { kind: 'fresh', answer };
}

/**
 * Each running idempotent request holds one pooled connection (its lock) besides those its work
 * uses: at most this many at once per process, so they can never take the whole pool.
 */
const MAX_HOLDERS = 3;
const holders = {
  running: 0,
  waiting: [] as (() => void)[],
  async acquire(): Promise<void> {
    if (this.running < MAX_HOLDERS) {
      this.running += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  },
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  },
};

/**
 * Who asks, under which declared purpose, on which route, with which parameters and body: a retry
 * has the same fingerprint. The purpose is part of it because a replay answers before the route
 * checks the purpose: the same key under another purpose is another request (422), never the
 * first answer handed out unchecked.
 */
function fingerprintOf(request: FastifyRequest): Buffer {
  const staff = request.staff;
  const caller = staff ? `${staff.via}:${staff.staffId}:${staff.role}` : 'anonymous';
  return createHash('sha256')
    .update(
      JSON.stringify([
        request.method,
        request.routeOptions.url,
        request.params,
        caller,
        request.headers[PURPOSE_HEADER] ?? null,
        request.body ?? null,
      ]),
    )
    .digest();
}
