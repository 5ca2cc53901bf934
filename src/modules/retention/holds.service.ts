import { z } from 'zod';
import type { Actor, Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { findPurpose } from '../../kernel/policy/policy.query.js';
import { retentionDataMap } from './datamap.js';
import { isIsoDay } from './dates.js';
import { today } from './evaluation.js';
import {
  findCaseMembersWithReason,
  findOpenHold,
  insertLegalHold,
  lockHoldPlacement,
  selectHoldPlacedAt,
  selectLegalHolds,
} from './holds.repository.js';

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
  /** The case it is part of, or null for a hold on this person alone. */
  caseId: number | null;
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
 * A hold decides what the sweep may erase of a whole person, so holds are placed, read and lifted
 * only under a purpose the policy gives for privacy rights over a whole person (`wholePerson:
 * rights`), whatever categories other purposes cover: a purpose that may write correspondence
 * (Voxtra's customer administration) must not lift a litigation hold (decision 0192).
 */
export async function assertHoldPurpose(kernel: Kernel, context: HoldContext): Promise<void> {
  const { policy } = await kernel.policies.current(context.tenantId);
  if (findPurpose(policy, context.purpose)?.wholePerson === 'rights') return;
  throw new AppError('purpose_not_allowed', `legal holds under ${context.purpose}`, {
    publicMessage: `legal holds are kept only under the policy's purpose for privacy rights, not under ${context.purpose}`,
  });
}

/**
 * Places a legal hold on a person (litigation, an authority's request): until `endsOn` the
 * retention sweep erases nothing of them. Writes kluis.communication.correspondence (the reason)
 * under the caller's purpose; the gate checks role, purpose and the person's state. Placing the
 * same hold again (same person, reason and end, still open) is once: the open hold is answered,
 * `created: false`, and nothing is written (decision 0283).
 */
export async function placeLegalHold(
  kernel: Kernel,
  context: HoldContext,
  input: unknown,
): Promise<LegalHold & { created: boolean }> {
  await assertHoldPurpose(kernel, context);
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
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: [HOLD_CATEGORY],
      subjectIds: [data.subjectId],
    });
    await lockHoldPlacement(atx.tx, `hold:${context.tenantId}:${data.subjectId}`);
    const [open] = await findOpenHold(atx.tx, data);
    if (open !== undefined) {
      return {
        holdId: open,
        subjectId: data.subjectId,
        reason: data.reason,
        endsOn: data.endsOn,
        placedAt: await selectHoldPlacedAt(atx.tx, open),
        releasedAt: null,
        active: true,
        caseId: null,
        created: false,
      };
    }
    const holdId = await insertLegalHold(atx.tx, grant, {
      subjectId: data.subjectId,
      reason: data.reason,
      endsOn: data.endsOn,
      placedAt: now,
      placedBy: staffIdOf(context.actor),
    });
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
      holdId,
      subjectId: data.subjectId,
      reason: data.reason,
      endsOn: data.endsOn,
      placedAt: now,
      releasedAt: null,
      active: true,
      caseId: null,
      created: true,
    };
  });
}

/** A person's legal holds, newest first, read under the caller's purpose. */
export async function listLegalHolds(
  kernel: Kernel,
  context: HoldContext,
  subjectId: number,
): Promise<LegalHold[]> {
  await assertHoldPurpose(kernel, context);
  const on = today(kernel);
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [HOLD_CATEGORY],
      subjectIds: [subjectId],
    });
    const rows = await selectLegalHolds(atx.tx, grant, subjectId);
    return rows.map((row) => ({
      holdId: row.hold_id,
      subjectId: row.subject_id,
      reason: row.reason,
      endsOn: row.ends_on,
      placedAt: row.placed_at,
      releasedAt: row.released_at,
      active: row.released_at === null && row.ends_on >= on,
      caseId: row.case_id,
    }));
  });
}

/** Lifts a hold before its end (the case is closed); the sweep then treats the person as usual. */
export async function releaseLegalHold(kernel: Kernel, context: HoldContext, holdId: number): Promise<void> {
  await assertHoldPurpose(kernel, context);
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

/** A case a privacy officer holds: one hold per person, all ending and released together. */
export interface HoldCase {
  caseId: number;
  name: string;
  endsOn: string;
  placedAt: Date;
  releasedAt: Date | null;
  active: boolean;
  /** How many persons the case holds (no one is named). */
  people: number;
}

const subjectIds = z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).min(1).max(500);

export const placeCaseInputSchema = z.strictObject({
  name: z.string().trim().min(3).max(120),
  reason: z.string().trim().min(3).max(360),
  endsOn: day,
  subjectIds,
});
export const addToCaseInputSchema = z.strictObject({ subjectIds });

/** What each member's hold says: the case and its reason, in their own access report. */
function memberReason(name: string, reason: string): string {
  return `Case ${name}: ${reason}`;
}

/**
 * Opens a case (litigation, an authority's request) that holds several persons until `endsOn`:
 * each gets a legal hold naming the case (kluis.communication.correspondence, written under the
 * caller's purpose for all of them at once: the gate refuses the whole case if it refuses one).
 * A case's name is its reference: opening the same case again (an open case of that name with
 * the same reason, end and persons) is once (`created: false`, nothing written); an open case of
 * that name that differs is a conflict (`case_open`: add persons to it, or close it first).
 */
export async function placeCaseHold(
  kernel: Kernel,
  context: HoldContext,
  input: unknown,
): Promise<HoldCase & { created: boolean }> {
  await assertHoldPurpose(kernel, context);
  const data = parseInput(placeCaseInputSchema, input);
  const reason = scanCaseText(data.name, data.reason);
  if (data.endsOn < today(kernel)) {
    throw new AppError('validation_failed', 'case ends in the past', {
      publicMessage: 'endsOn: lies in the past',
    });
  }
  const now = kernel.clock.now();
  const on = today(kernel);
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorizeMembers(kernel, context, atx, data.subjectIds);
    await lockHoldPlacement(atx.tx, `case:${context.tenantId}:${data.name}`);
    const open = await findSameOpenCase(atx.tx, grant, { name: data.name, reason, endsOn: data.endsOn, on });
    if (open !== undefined) return { ...(await caseOf(atx.tx, open, on)), created: false };
    const row = await atx.tx
      .insertInto('legal_hold_cases')
      .values({
        tenant_id: context.tenantId,
        name: data.name,
        ends_on: data.endsOn,
        placed_at: now,
        placed_by_staff_id: staffIdOf(context.actor),
      })
      .returning(['case_id'])
      .executeTakeFirstOrThrow();
    const added = await addMembers(kernel, context, atx, grant, row.case_id, reason, data.endsOn);
    return {
      caseId: row.case_id,
      name: data.name,
      endsOn: data.endsOn,
      placedAt: now,
      releasedAt: null,
      active: true,
      people: added,
      created: true,
    };
  });
}

/** Adds persons to a running case (twice is once); they are held until the case's end. */
export async function addToCaseHold(
  kernel: Kernel,
  context: HoldContext,
  caseId: number,
  input: unknown,
): Promise<HoldCase> {
  await assertHoldPurpose(kernel, context);
  const data = parseInput(addToCaseInputSchema, input);
  return kernel.transact(context.tenantId, async (atx) => {
    const found = await atx.tx
      .selectFrom('legal_hold_cases')
      .select(['name', 'ends_on', 'released_at'])
      .where('case_id', '=', caseId)
      .forUpdate()
      .executeTakeFirst();
    if (!found) throw new AppError('not_found', 'no such case', { publicMessage: 'no such case' });
    if (found.released_at !== null || found.ends_on < today(kernel)) {
      throw new AppError('conflict', 'case closed', { publicMessage: 'this case no longer holds anyone' });
    }
    const grant = await authorizeMembers(kernel, context, atx, data.subjectIds);
    await addMembers(kernel, context, atx, grant, caseId, undefined, found.ends_on);
    return caseOf(atx.tx, caseId, today(kernel));
  });
}

/** Closes a case before its end: every hold of it is lifted at once. */
export async function releaseCaseHold(kernel: Kernel, context: HoldContext, caseId: number): Promise<void> {
  await assertHoldPurpose(kernel, context);
  await kernel.transact(context.tenantId, async (atx) => {
    const found = await atx.tx
      .selectFrom('legal_hold_cases')
      .select(['released_at'])
      .where('case_id', '=', caseId)
      .forUpdate()
      .executeTakeFirst();
    if (!found) throw new AppError('not_found', 'no such case', { publicMessage: 'no such case' });
    const members = await atx.tx
      .selectFrom('legal_holds')
      .select('subject_id')
      .where('case_id', '=', caseId)
      .execute();
    await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: [HOLD_CATEGORY],
      subjectIds: members.map((member) => member.subject_id),
    });
    if (found.released_at !== null) {
      throw new AppError('conflict', 'case already released', {
        publicMessage: 'this case was already closed',
      });
    }
    const now = kernel.clock.now();
    const by = staffIdOf(context.actor);
    await atx.tx
      .updateTable('legal_hold_cases')
      .set({ released_at: now, released_by_staff_id: by })
      .where('case_id', '=', caseId)
      .execute();
    await atx.tx
      .updateTable('legal_holds')
      .set({ released_at: now, released_by_staff_id: by })
      .where('case_id', '=', caseId)
      .where('released_at', 'is', null)
      .execute();
    atx.audit.record({
      actor: auditActorOf(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: context.purpose,
      action: 'retention.case.release',
      subjectIds: members.map((member) => member.subject_id),
      categories: [HOLD_CATEGORY],
      decision: 'allowed',
    });
  });
}

/** The tenant's cases, newest first (names and counts; no person). */
export async function listCaseHolds(kernel: Kernel, context: HoldContext): Promise<HoldCase[]> {
  await assertHoldPurpose(kernel, context);
  const on = today(kernel);
  return kernel.transact(context.tenantId, async (atx) => {
    // Reading the list needs the officer's purpose over the hold category, as any hold does.
    await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [HOLD_CATEGORY],
      subjectIds: [],
    });
    const rows = await atx.tx
      .selectFrom('legal_hold_cases')
      .select('case_id')
      .orderBy('case_id', 'desc')
      .execute();
    return Promise.all(rows.map((row) => caseOf(atx.tx, row.case_id, on)));
  });
}

/**
 * The open case named `name` when it is the same case (same members' reason, end and persons, the
 * grant's): its id; undefined when no case of that name is open; a conflict (`case_open`) when one
 * is open that differs. The members' reason is only compared, never read.
 */
async function findSameOpenCase(
  tx: Tx,
  grant: Grant,
  wanted: { name: string; reason: string; endsOn: string; on: string },
): Promise<number | undefined> {
  const open = await tx
    .selectFrom('legal_hold_cases')
    .select(['case_id', 'ends_on'])
    .where('name', '=', wanted.name)
    .where('released_at', 'is', null)
    .where('ends_on', '>=', wanted.on)
    .orderBy('case_id')
    .executeTakeFirst();
  if (open === undefined) return undefined;
  const members = await countCaseMembers(tx, open.case_id);
  const same = (await findCaseMembersWithReason(tx, open.case_id, wanted.reason)).sort((a, b) => a - b);
  const persons = [...grant.subjectIds].sort((a, b) => a - b);
  const identical =
    open.ends_on === wanted.endsOn &&
    same.length === members &&
    same.length === persons.length &&
    same.every((subjectId, index) => subjectId === persons[index]);
  if (identical) return open.case_id;
  throw new AppError('conflict', 'a case of that name is open', {
    publicMessage: `a case named ${wanted.name} is open with other persons, reason or end: add persons to it, or close it first`,
    details: { reason: 'case_open', caseId: open.case_id },
  });
}

type HoldTx = Parameters<Parameters<Kernel['transact']>[1]>[0];

/** The write grant for the persons a case holds (the gate refuses the whole case if it refuses one). */
function authorizeMembers(
  kernel: Kernel,
  context: HoldContext,
  atx: HoldTx,
  subjects: readonly number[],
): Promise<Grant> {
  return kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action: 'write',
    categories: [HOLD_CATEGORY],
    subjectIds: [...new Set(subjects)],
  });
}

async function addMembers(
  kernel: Kernel,
  context: HoldContext,
  atx: HoldTx,
  grant: Grant,
  caseId: number,
  /** The members' reason; undefined: the case's existing one (adding to a running case). */
  reason: string | undefined,
  endsOn: string,
): Promise<number> {
  const inserted = await insertMemberHolds(atx.tx, grant, {
    tenantId: context.tenantId,
    caseId,
    reason: reason ?? (await selectCaseReason(atx.tx, grant, caseId)),
    endsOn,
    placedAt: kernel.clock.now(),
    placedBy: staffIdOf(context.actor),
  });
  atx.audit.record({
    actor: auditActorOf(context.actor),
    role: context.actor.kind === 'staff' ? context.actor.role : null,
    purpose: context.purpose,
    action: 'retention.case.place',
    subjectIds: inserted.map((row) => row.subject_id),
    categories: [HOLD_CATEGORY],
    decision: 'allowed',
  });
  return inserted.length;
}

async function caseOf(tx: Tx, caseId: number, on: string): Promise<HoldCase> {
  const row = await tx
    .selectFrom('legal_hold_cases')
    .select(['case_id', 'name', 'ends_on', 'placed_at', 'released_at'])
    .where('case_id', '=', caseId)
    .executeTakeFirstOrThrow();
  return {
    caseId: row.case_id,
    name: row.name,
    endsOn: row.ends_on,
    placedAt: row.placed_at,
    releasedAt: row.released_at,
    active: row.released_at === null && row.ends_on >= on,
    people: await countCaseMembers(tx, caseId),
  };
}

/** How many persons a case holds (counts only). */
async function countCaseMembers(tx: Tx, caseId: number): Promise<number> {
  const row = await tx
    .selectFrom('legal_holds')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('case_id', '=', caseId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The case's name and reason, scanned like any typed text (VK-16); returns the members' reason. */
function scanCaseText(name: string, reason: string): string {
  assertFreeTextAllowed(tableMap(retentionDataMap, 'legal_hold_cases'), [
    { column: 'name', field: 'name', value: name },
  ]);
  const member = memberReason(name, reason);
  assertFreeTextAllowed(tableMap(retentionDataMap, 'legal_holds'), [
    { column: 'reason', field: 'reason', value: member },
  ]);
  return member;
}

/** The reason the case's holds carry, read under the write grant of the persons being added. */
async function selectCaseReason(tx: Tx, grant: Grant, caseId: number): Promise<string> {
  grant.assertWritable();
  const row = await tx
    .selectFrom('legal_holds')
    .select('reason')
    .where('case_id', '=', caseId)
    .limit(1)
    .executeTakeFirstOrThrow();
  return row.reason;
}

/** One hold per person naming the case (kluis.communication.correspondence), under the gate's grant. */
async function insertMemberHolds(
  tx: Tx,
  grant: Grant,
  hold: {
    tenantId: number;
    caseId: number;
    reason: string;
    endsOn: string;
    placedAt: Date;
    placedBy: number | null;
  },
): Promise<Array<{ subject_id: number }>> {
  grant.assertWritable();
  return tx
    .insertInto('legal_holds')
    .values(
      [...grant.subjectIds].map((subjectId) => ({
        tenant_id: hold.tenantId,
        subject_id: subjectId,
        reason: hold.reason,
        ends_on: hold.endsOn,
        placed_at: hold.placedAt,
        placed_by_staff_id: hold.placedBy,
        case_id: hold.caseId,
      })),
    )
    .onConflict((conflict) =>
      conflict.columns(['tenant_id', 'case_id', 'subject_id']).where('case_id', 'is not', null).doNothing(),
    )
    .returning('subject_id')
    .execute();
}

function auditActorOf(actor: Actor): { kind: 'staff' | 'system'; id: string } {
  return actor.kind === 'staff'
    ? { kind: 'staff', id: String(actor.staffId) }
    : { kind: 'system', id: 'retention' };
}
