import { sql } from 'kysely';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';

/**
 * One limit of a public door. `block`: at most `max` hits per fixed window; over it, refused until
 * the window ends. `slow`: the first `max` failures are free; from then on each attempt must wait a
 * doubling delay after the last failure (1 s, 2 s, 4 s … up to `maxDelayMs`), and the count is
 * forgotten after `windowMs` without failures. `slow` is for logins: it stops guessing without
 * handing an attacker a switch that locks the real person out (docs/decisions/0075).
 */
export interface Limit {
  /** Stable name, stored with the counter: `<door>.<what is counted>`. */
  bucket: string;
  mode: 'block' | 'slow';
  max: number;
  windowMs: number;
  /** `slow` only: the longest wait between attempts (default one minute). */
  maxDelayMs?: number;
}

/** A value counted under a limit: a client address, a typed e-mail address, or the tenant itself. */
export interface Counter {
  limit: Limit;
  value: string;
}

export type Verdict = { allowed: true } | { allowed: false; bucket: string; retryAfterSeconds: number };

const ALLOWED: Verdict = { allowed: true };
const DEFAULT_MAX_DELAY_MS = 60_000;
/** Rows not hit for this long are deleted (longer than any window). */
const FORGET_AFTER_MS = 2 * 24 * 60 * 60 * 1000;

interface Row {
  bucket: string;
  window_started_at: Date;
  last_hit_at: Date;
  hits: number;
}

async function keyOf(kernel: Kernel, tenantId: number, counter: Counter): Promise<Buffer> {
  // One tenant secret for all buckets; the bucket is part of what is hashed.
  return kernel.keys.blindIndex(tenantId, 'throttle', `${counter.limit.bucket}\u0000${counter.value}`);
}

function isExpired(limit: Limit, row: Row, now: Date): boolean {
  const since = limit.mode === 'block' ? row.window_started_at : row.last_hit_at;
  return now.getTime() - since.getTime() >= limit.windowMs;
}

/** The verdict on the next attempt, given the counter as it stands. */
function judge(limit: Limit, row: Row | undefined, now: Date, counted: boolean): Verdict {
  if (!row || (!counted && isExpired(limit, row, now))) return ALLOWED;
  if (limit.mode === 'block') {
    const over = counted ? row.hits > limit.max : row.hits >= limit.max;
    if (!over) return ALLOWED;
    const endsAt = row.window_started_at.getTime() + limit.windowMs;
    return refusal(limit, endsAt - now.getTime());
  }
  if (row.hits < limit.max) return ALLOWED;
  const delay = Math.min(1000 * 2 ** (row.hits - limit.max), limit.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
  const wait = row.last_hit_at.getTime() + delay - now.getTime();
  return wait > 0 ? refusal(limit, wait) : ALLOWED;
}

function refusal(limit: Limit, waitMs: number): Verdict {
  return { allowed: false, bucket: limit.bucket, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

/** Adds one hit to each counter in one transaction; returns the counters as they are afterwards. */
async function increment(kernel: Kernel, tenantId: number, counters: readonly Counter[]): Promise<Row[]> {
  const now = kernel.clock.now();
  const keys = await Promise.all(counters.map((counter) => keyOf(kernel, tenantId, counter)));
  return kernel.plain(tenantId, async (tx) => {
    const rows: Row[] = [];
    for (const [index, counter] of counters.entries()) {
      const { limit } = counter;
      const resetBefore = new Date(now.getTime() - limit.windowMs);
      const since =
        limit.mode === 'block'
          ? sql.ref('throttle_counters.window_started_at')
          : sql.ref('throttle_counters.last_hit_at');
      // One atomic upsert per counter: concurrent processes add up, none overwrites another's hit.
      const result = await sql<Row>`
        insert into throttle_counters (tenant_id, bucket, key_hash, window_started_at, last_hit_at, hits)
        values (${tenantId}, ${limit.bucket}, ${keys[index]}, ${now}, ${now}, 1)
        on conflict (tenant_id, bucket, key_hash) do update set
          hits = case when ${since} <= ${resetBefore} then 1 else throttle_counters.hits + 1 end,
          window_started_at = case when ${since} <= ${resetBefore} then ${now}
                                   else throttle_counters.window_started_at end,
          last_hit_at = ${now}
        returning bucket, window_started_at, last_hit_at, hits`.execute(tx);
      const row = result.rows[0];
      if (row) rows.push(row);
    }
    // Now and then, forget counters nobody hit for two days (cheap: an index on last_hit_at).
    if (Math.random() < 0.02) {
      await tx
        .deleteFrom('throttle_counters')
        .where('last_hit_at', '<', new Date(now.getTime() - FORGET_AFTER_MS))
        .execute();
    }
    return rows;
  });
}

/**
 * Counts this attempt against every counter, then says whether it may go on: for limits on
 * everything that is tried (form posts, code guesses, mails asked for).
 */
export async function countAttempt(
  kernel: Kernel,
  tenantId: number,
  counters: readonly Counter[],
): Promise<Verdict> {
  const rows = await increment(kernel, tenantId, counters);
  const now = kernel.clock.now();
  for (const [index, counter] of counters.entries()) {
    const verdict = judge(counter.limit, rows[index], now, true);
    if (!verdict.allowed) return verdict;
  }
  return ALLOWED;
}

/** What `admitAttempt` decided: the verdict on the attempt, and per budget whether it had room. */
export interface Admission {
  verdict: Verdict;
  /** Per budget counter, in order: true when it had room (and was counted); all false when refused. */
  withinBudget: boolean[];
}

/**
 * Counts an attempt only when every limit lets it through (decision 0460): a refused attempt is
 * counted nowhere, so it neither uses up nor prolongs any allowance. `budgets` never refuse: they
 * say whether the attempt may still cause a mail (counted only while they have room). Block-mode
 * limits only. The counters' rows are locked for the decision, so concurrent processes add up.
 */
export async function admitAttempt(
  kernel: Kernel,
  tenantId: number,
  limits: readonly Counter[],
  budgets: readonly Counter[] = [],
): Promise<Admission> {
  const counters = [...limits, ...budgets];
  if (counters.some((counter) => counter.limit.mode !== 'block'))
    throw new Error('admitAttempt counts block-mode limits only');
  const now = kernel.clock.now();
  const keys = await Promise.all(counters.map((counter) => keyOf(kernel, tenantId, counter)));
  return kernel.plain(tenantId, async (tx) => {
    const rows: Row[] = [];
    for (const [index, counter] of counters.entries()) {
      const { limit } = counter;
      const resetBefore = new Date(now.getTime() - limit.windowMs);
      const expired = sql`throttle_counters.window_started_at <= ${resetBefore}`;
      // Takes (or creates, at nought) the counter's row and locks it; a window that has passed starts again.
      const result = await sql<Row>`
        insert into throttle_counters (tenant_id, bucket, key_hash, window_started_at, last_hit_at, hits)
        values (${tenantId}, ${limit.bucket}, ${keys[index]}, ${now}, ${now}, 0)
        on conflict (tenant_id, bucket, key_hash) do update set
          hits = case when ${expired} then 0 else throttle_counters.hits end,
          window_started_at = case when ${expired} then ${now} else throttle_counters.window_started_at end
        returning bucket, window_started_at, last_hit_at, hits`.execute(tx);
      const row = result.rows[0];
      if (!row) throw new Error('throttle counter not written');
      rows.push(row);
    }
    for (const [index, counter] of limits.entries()) {
      const row = rows[index];
      if (row && row.hits >= counter.limit.max) {
        const endsAt = row.window_started_at.getTime() + counter.limit.windowMs;
        return {
          verdict: refusal(counter.limit, endsAt - now.getTime()),
          withinBudget: budgets.map(() => false),
        };
      }
    }
    const withinBudget = budgets.map(
      (counter, index) => (rows[limits.length + index]?.hits ?? 0) < counter.limit.max,
    );
    const counted = counters.filter(
      (_, index) => index < limits.length || withinBudget[index - limits.length],
    );
    for (const counter of counted) {
      const index = counters.indexOf(counter);
      await tx
        .updateTable('throttle_counters')
        .set((eb) => ({ hits: eb('hits', '+', 1), last_hit_at: now }))
        .where('bucket', '=', counter.limit.bucket)
        .where('key_hash', '=', keys[index] ?? Buffer.alloc(0))
        .execute();
    }
    return { verdict: ALLOWED, withinBudget };
  });
}

/** Whether an attempt may go on, without counting it: for limits on failures only (logins). */
export async function checkAttempt(
  kernel: Kernel,
  tenantId: number,
  counters: readonly Counter[],
): Promise<Verdict> {
  const now = kernel.clock.now();
  const keys = await Promise.all(counters.map((counter) => keyOf(kernel, tenantId, counter)));
  const rows = await kernel.plain(tenantId, (tx) =>
    Promise.all(
      counters.map((counter, index) =>
        tx
          .selectFrom('throttle_counters')
          .select(['bucket', 'window_started_at', 'last_hit_at', 'hits'])
          .where('bucket', '=', counter.limit.bucket)
          .where('key_hash', '=', keys[index] ?? Buffer.alloc(0))
          .executeTakeFirst(),
      ),
    ),
  );
  for (const [index, counter] of counters.entries()) {
    const verdict = judge(counter.limit, rows[index], now, false);
    if (!verdict.allowed) return verdict;
  }
  return ALLOWED;
}

/**
 * Counts a failure against every counter. Returns the buckets whose allowance this very failure
 * used up (worth one audit entry, not one per refused attempt).
 */
export async function recordFailure(
  kernel: Kernel,
  tenantId: number,
  counters: readonly Counter[],
): Promise<string[]> {
  const rows = await increment(kernel, tenantId, counters);
  return counters
    .filter((counter, index) => rows[index]?.hits === counter.limit.max)
    .map((counter) => counter.limit.bucket);
}

/** Forgets counters: after a successful login (its account counter), or when staff unlock an account. */
export async function resetCounters(
  kernel: Kernel,
  tenantId: number,
  counters: readonly Counter[],
): Promise<void> {
  if (counters.length === 0) return;
  const keys = await Promise.all(counters.map((counter) => keyOf(kernel, tenantId, counter)));
  await kernel.plain(tenantId, async (tx) => {
    for (const [index, counter] of counters.entries()) {
      await tx
        .deleteFrom('throttle_counters')
        .where('bucket', '=', counter.limit.bucket)
        .where('key_hash', '=', keys[index] ?? Buffer.alloc(0))
        .execute();
    }
  });
}

/** "12 minutes" / "40 seconds": a wait in words, for public messages. */
export function describeWait(seconds: number): string {
  return seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`;
}

/** The error a refused attempt gets: 429 `rate_limited`, with the wait in `Retry-After`. */
export function throttledError(verdict: Verdict & { allowed: false }, what = 'too many attempts'): AppError {
  return new AppError('rate_limited', `limit ${verdict.bucket} reached`, {
    publicMessage: `${what}; try again in ${describeWait(verdict.retryAfterSeconds)}`,
    details: { retryAfterSeconds: verdict.retryAfterSeconds },
  });
}

/** Throws `throttledError` when refused; `what` starts the public message ("too many requests"). */
export function assertAllowed(verdict: Verdict, what?: string): void {
  if (!verdict.allowed) throw throttledError(verdict, what);
}
