import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Kernel } from '../kernel/kernel.js';
import { AppError, validationError } from '../platform/errors.js';

/**
 * `Idempotency-Key` on the POSTs that make a money document or send mail (decision 0086): the
 * same key with the same request answers what the first call answered, without doing the work
 * again; the same key with a different request is refused (`idempotency_key_reused`, 422); a
 * key whose first call is still running is a 409. Keys are kept per tenant for 24 hours.
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
  const now = kernel.clock.now();
  const existing = await kernel.plain(tenantId, async (tx) => {
    await tx
      .deleteFrom('idempotency_keys')
      .where('created_at', '<', new Date(now.getTime() - KEEP_MS))
      .execute();
    const claimed = await tx
      .insertInto('idempotency_keys')
      .values({
        tenant_id: tenantId,
        idempotency_key: key,
        fingerprint,
        state: 'pending',
        created_at: now,
      })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'idempotency_key']).doNothing())
      .returning('idempotency_key')
      .executeTakeFirst();
    if (claimed) return undefined;
    return tx
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'state', 'response_status', 'response_body'])
      .where('idempotency_key', '=', key)
      .executeTakeFirstOrThrow();
  });
  if (existing) {
    if (!existing.fingerprint.equals(fingerprint)) {
      throw new AppError('idempotency_key_reused', 'idempotency key reused for another request', {
        publicMessage: `this ${IDEMPOTENCY_HEADER} was used for a different request; use a new key`,
      });
    }
    if (existing.state !== 'done' || existing.response_status === null) {
      throw new AppError('conflict', 'idempotent request in progress', {
        publicMessage: `a request with this ${IDEMPOTENCY_HEADER} is still being processed; retry later`,
      });
    }
    reply.header('idempotent-replayed', 'true');
    const body = work.replay ? await work.replay(existing.response_body) : (existing.response_body as T);
    return { status: work.status, body };
  }
  let answer: T;
  try {
    answer = await work.run();
  } catch (error) {
    // Nothing was made: the key may be used again for a corrected request.
    await kernel.plain(tenantId, (tx) =>
      tx
        .deleteFrom('idempotency_keys')
        .where('idempotency_key', '=', key)
        .where('state', '=', 'pending')
        .execute(),
    );
    throw error;
  }
  const kept = work.remember ? work.remember(answer) : answer;
  await kernel.plain(tenantId, (tx) =>
    tx
      .updateTable('idempotency_keys')
      .set({ state: 'done', response_status: work.status, response_body: JSON.stringify(kept) })
      .where('idempotency_key', '=', key)
      .execute(),
  );
  return { status: work.status, body: answer };
}

/** Who asks, on which route, with which parameters and body: a retry has the same fingerprint. */
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
        request.body ?? null,
      ]),
    )
    .digest();
}
