import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { keyringOf, type Kernel } from '../kernel.js';
import type { Tx } from '../../platform/db.js';
import { describeUnexpected } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mailer.js';
import { reachTestHook } from '../../platform/test-hooks.js';

/**
 * The letter outbox (issue 11, decision 0190). A letter to a person is written in the same
 * transaction as what it reports (an erasure, a fulfilled request, a request's code), sealed under
 * a key of its own in the key store; the letter sender hands it to SMTP, then nulls it and
 * destroys its key. At least once: a crash after SMTP accepted a letter and before it was marked
 * sends it again, with the same Message-ID.
 */

export interface Letter {
  /** The recipient; null = nothing is sent (a request from an unknown address: same work, no mail). */
  to: string | null;
  subject: string;
  text: string;
  /** Display name of the sender (the controller). */
  fromName?: string;
}

export interface SealOptions {
  tenantId: number;
  /** The policy purpose the letter is written under (e.g. rights_requests). */
  purpose: string;
  /** What the letter is, a fixed key (e.g. request.verification_code); no personal data. */
  kind: string;
  /** Domain of the Message-ID (the public host). */
  messageDomain: string;
}

const sealedSchema = z.object({
  to: z.string().nullable(),
  subject: z.string(),
  text: z.string(),
  fromName: z.string().optional(),
});

/** Transient SMTP failures are retried this many times (backing off to an hour), then given up. */
const MAX_ATTEMPTS = 20;

/**
 * Writes a letter to the outbox in the caller's transaction: it commits with what it reports, or
 * not at all. Returns the letter's id. The letter's key is created in the key store first (a
 * rolled-back transaction leaves an unused key, nothing readable).
 */
export async function sealLetter(
  kernel: Kernel,
  tx: Tx,
  letter: Letter,
  options: SealOptions,
): Promise<string> {
  const letterId = randomUUID();
  const sealed = await keyringOf(kernel).sealLetter(
    options.tenantId,
    letterId,
    JSON.stringify({
      to: letter.to,
      subject: letter.subject,
      text: letter.text,
      ...(letter.fromName === undefined ? {} : { fromName: letter.fromName }),
    }),
  );
  const now = kernel.clock.now();
  const domain = /^[A-Za-z0-9.-]+$/.test(options.messageDomain) ? options.messageDomain : 'kluis.invalid';
  await tx
    .insertInto('sealed_letters')
    .values({
      tenant_id: options.tenantId,
      letter_id: letterId,
      purpose: options.purpose,
      kind: options.kind,
      message_id: `<letter.${letterId}@${domain}>`,
      sealed,
      next_attempt_at: now,
      created_at: now,
    })
    .execute();
  return letterId;
}

/** The host of the public URL, for the letters' Message-ID (`kluis.invalid` when it has none). */
export function messageDomainOf(publicUrl: string): string {
  try {
    return new URL(publicUrl).hostname;
  } catch {
    return 'kluis.invalid';
  }
}

export interface DeliveryResult {
  sent: number;
  /** Letters without a recipient: opened and closed, nothing sent. */
  dropped: number;
  /** Refused for good by SMTP (a 5xx) or given up after MAX_ATTEMPTS. */
  failed: number;
  /** Found pending with their key already destroyed (a crash after sending, or a restore). */
  shredded: number;
  /** Failed for now; tried again later. */
  deferred: number;
}

/**
 * Sends every pending letter of the tenants, one row per transaction: the row is locked (SKIP
 * LOCKED: two senders never take the same letter), opened, handed to SMTP, then marked and its
 * body nulled in that transaction; its key is destroyed right after commit (and by the next run
 * if that was missed). Safe to run anywhere, any number of times.
 */
export async function deliverLetters(
  kernel: Kernel,
  mailer: Mailer,
  tenantIds: readonly number[],
  logger?: Logger,
): Promise<DeliveryResult> {
  const result: DeliveryResult = { sent: 0, dropped: 0, failed: 0, shredded: 0, deferred: 0 };
  const keyring = keyringOf(kernel);
  for (const tenantId of tenantIds) {
    await destroySpentKeys(kernel, tenantId);
    const skipped: string[] = [];
    for (;;) {
      const handled = await kernel.plain(tenantId, async (tx) => {
        const now = kernel.clock.now();
        let query = tx
          .selectFrom('sealed_letters')
          .select(['letter_id', 'message_id', 'sealed', 'attempts'])
          .where('state', '=', 'pending')
          .where('next_attempt_at', '<=', now)
          .orderBy('created_at')
          .orderBy('letter_id')
          .limit(1)
          .forUpdate()
          .skipLocked();
        if (skipped.length > 0) query = query.where('letter_id', 'not in', skipped);
        const row = await query.executeTakeFirst();
        if (!row?.sealed) return undefined;
        const close = async (state: 'sent' | 'dropped' | 'failed' | 'shredded'): Promise<typeof state> => {
          await tx
            .updateTable('sealed_letters')
            .set({
              state,
              sealed: null,
              done_at: now,
              attempts: row.attempts + (state === 'shredded' ? 0 : 1),
            })
            .where('letter_id', '=', row.letter_id)
            .execute();
          return state;
        };
        const opened = await keyring.openLetter(tenantId, row.letter_id, row.sealed);
        if (opened === null) return { letterId: row.letter_id, state: await close('shredded') };
        const letter = sealedSchema.parse(JSON.parse(opened));
        if (letter.to === null) return { letterId: row.letter_id, state: await close('dropped') };
        try {
          await mailer.send({
            to: letter.to,
            subject: letter.subject,
            text: letter.text,
            messageId: row.message_id,
            ...(letter.fromName === undefined ? {} : { fromName: letter.fromName }),
          });
        } catch (error) {
          const code = (error as { responseCode?: unknown } | null)?.responseCode;
          const permanent = typeof code === 'number' && code >= 500;
          if (permanent || row.attempts + 1 >= MAX_ATTEMPTS) {
            logger?.warn({ tenantId, smtpResponseCode: code ?? null }, 'letter given up');
            return { letterId: row.letter_id, state: await close('failed') };
          }
          logger?.warn(
            { tenantId, smtpResponseCode: code ?? null, err: describeUnexpected(error) },
            'letter deferred',
          );
          const backoffMs = Math.min(60 * 60_000, 30_000 * 2 ** row.attempts);
          await tx
            .updateTable('sealed_letters')
            .set({ attempts: row.attempts + 1, next_attempt_at: new Date(now.getTime() + backoffMs) })
            .where('letter_id', '=', row.letter_id)
            .execute();
          return { letterId: row.letter_id, state: 'deferred' as const };
        }
        // SMTP accepted it: a crash from here until the commit sends it again (same Message-ID).
        await reachTestHook('letters.smtp-accepted');
        return { letterId: row.letter_id, state: await close('sent') };
      });
      if (!handled) break;
      result[handled.state] += 1;
      if (handled.state === 'deferred') {
        skipped.push(handled.letterId);
        continue;
      }
      await destroyLetterKey(kernel, tenantId, handled.letterId).catch(() => undefined);
    }
  }
  return result;
}

/** Destroys a done letter's key, then records it. */
async function destroyLetterKey(kernel: Kernel, tenantId: number, letterId: string): Promise<void> {
  await keyringOf(kernel).destroyLetterKey(tenantId, letterId);
  await kernel.plain(tenantId, (tx) =>
    tx
      .updateTable('sealed_letters')
      .set({ key_destroyed_at: kernel.clock.now() })
      .where('letter_id', '=', letterId)
      .where('state', '<>', 'pending')
      .where('key_destroyed_at', 'is', null)
      .execute(),
  );
}

/** Keys of done letters a crash left alive (between the mark and the key store). */
async function destroySpentKeys(kernel: Kernel, tenantId: number): Promise<void> {
  const spent = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('sealed_letters')
      .select('letter_id')
      .where('state', '<>', 'pending')
      .where('key_destroyed_at', 'is', null)
      .orderBy('letter_id')
      .limit(1000)
      .execute(),
  );
  for (const row of spent) await destroyLetterKey(kernel, tenantId, row.letter_id);
}

/** How many letters of a tenant wait (operators, tests). */
export async function countPendingLetters(
  kernel: Kernel,
  tenantId: number,
  /** Only these letters (as sealLetter returned their ids); all of the tenant's without. */
  letterIds?: readonly string[],
): Promise<number> {
  if (letterIds?.length === 0) return 0;
  const row = await kernel.plain(tenantId, (tx) => {
    const pending = tx
      .selectFrom('sealed_letters')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('state', '=', 'pending');
    return (letterIds ? pending.where('letter_id', 'in', letterIds) : pending).executeTakeFirstOrThrow();
  });
  return Number(row.n);
}
