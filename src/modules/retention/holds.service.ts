import { z } from 'zod';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { retentionDataMap } from './datamap.js';
import { isIsoDay } from './dates.js';
import { today } from './evaluation.js';

/** The category of a hold's reason and end (both seed policies declare it). */
export const HOLD_CATEGORY = 'kluis.communication.correspondence';

export interface HoldContext {
  tenantId: number;
  actor: Actor;
  purpose: string;
}

export interface LegalHold {
  holdId: number;
  subjectId: number;
  reason: string;
  endsOn: string;
  placedAt: Date;
  releasedAt: Date | null;
  /** Runs today: not released and its last day not passed. */
  active: boolean;
}

const day = z.string().refine(isIsoDay, 'a calendar day YYYY-MM-DD');

export const placeHoldInputSchema = z.strictObject({
  subjectId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  reason: z.string().trim().min(3).max(500),
  endsOn: day,
});
export type PlaceHoldInput = z.infer<typeof placeHoldInputSchema>;

function staffIdOf(actor: Actor): number | null {
  return actor.kind === 'staff' ? actor.staffId : null;
}

/**
 * Places a legal hold on a person (litigation, an authority's request): until `endsOn` the
 * retention sweep erases nothing of them. Writes kluis.communication.correspondence (the reason)
 * under the caller's purpose; the gate checks role, purpose and the person's state.
 */
export async function placeLegalHold(
  kernel: Kernel,
  context: HoldContext,
  input: unknown,
): Promise<LegalHold> {
  const data = parseInput(placeHoldInputSchema, input);
  // The officer's words are scanned like any typed text (VK-16): no identifiers, no health data.
  assertFreeTextAllowed(tableMap(retentionDataMap, 'legal_holds'), [
    { column: 'reason', field: 'reason', value: data.reason },
  ]);
  const now = kernel.clock.now();
  if (data.endsOn < today(kernel)) {
    throw new AppError('validation_failed', 'hold ends in the past', {
      publicMessage: 'endsOn: lies in the past',
    });
  }
  return kernel.transact(context.tenantId, async (atx) => {
    await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: [HOLD_CATEGORY],
      subjectIds: [data.subjectId],
    });
    const row = await atx.tx
      .insertInto('legal_holds')
      .values({
        tenant_id: context.tenantId,
        subject_id: data.subjectId,
        reason: data.reason,
        ends_on: data.endsOn,
        placed_at: now,
        placed_by_staff_id: staffIdOf(context.actor),
      })
      .returning(['hold_id'])
      .executeTakeFirstOrThrow();
    atx.audit.record({
      actor:
        context.actor.kind === 'staff'
          ? { kind: 'staff', id: String(context.actor.staffId) }
          : { kind: 'system', id: 'retention' },
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: context.purpose,
      action: 'retention.hold.place',
      subjectIds: [data.subjectId],
      categories: [HOLD_CATEGORY],
      decision: 'allowed',
    });
    return {
      holdId: row.hold_id,
      subjectId: data.subjectId,
      reason: data.reason,
      endsOn: data.endsOn,
      placedAt: now,
      releasedAt: null,
      active: true,
    };
  });
}

/** A person's legal holds, newest first, read under the caller's purpose. */
export async function listLegalHolds(
  kernel: Kernel,
  context: HoldContext,
  subjectId: number,
): Promise<LegalHold[]> {
  const on = today(kernel);
  return kernel.transact(context.tenantId, async (atx) => {
    await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [HOLD_CATEGORY],
      subjectIds: [subjectId],
    });
    const rows = await atx.tx
      .selectFrom('legal_holds')
      .select(['hold_id', 'subject_id', 'reason', 'ends_on', 'placed_at', 'released_at'])
      .where('subject_id', '=', subjectId)
      .orderBy('hold_id', 'desc')
      .execute();
    return rows.map((row) => ({
      holdId: row.hold_id,
      subjectId: row.subject_id,
      reason: row.reason,
      endsOn: row.ends_on,
      placedAt: row.placed_at,
      releasedAt: row.released_at,
      active: row.released_at === null && row.ends_on >= on,
    }));
  });
}

/** Lifts a hold before its end (the case is closed); the sweep then treats the person as usual. */
export async function releaseLegalHold(kernel: Kernel, context: HoldContext, holdId: number): Promise<void> {
  await kernel.transact(context.tenantId, async (atx) => {
    const hold = await atx.tx
      .selectFrom('legal_holds')
      .select(['subject_id', 'released_at'])
      .where('hold_id', '=', holdId)
      .executeTakeFirst();
    if (!hold) throw new AppError('not_found', 'no such hold', { publicMessage: 'no such legal hold' });
    await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: [HOLD_CATEGORY],
      subjectIds: [hold.subject_id],
    });
    if (hold.released_at !== null) {
      throw new AppError('conflict', 'hold already released', {
        publicMessage: 'this legal hold was already lifted',
      });
    }
    await atx.tx
      .updateTable('legal_holds')
      .set({ released_at: kernel.clock.now(), released_by_staff_id: staffIdOf(context.actor) })
      .where('hold_id', '=', holdId)
      .execute();
    atx.audit.record({
      actor:
        context.actor.kind === 'staff'
          ? { kind: 'staff', id: String(context.actor.staffId) }
          : { kind: 'system', id: 'retention' },
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: context.purpose,
      action: 'retention.hold.release',
      subjectIds: [hold.subject_id],
      categories: [HOLD_CATEGORY],
      decision: 'allowed',
    });
  });
}
