import { z } from 'zod';
import { announceRestrictionLift } from '../../kernel/subjects/index.js';
import { addDays, belgianDay } from '../../platform/calendar.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { brusselsDate } from './deadlines.js';
import { RESTRICTION_LIFT_GROUNDS, writeLetter } from './letters.js';
import {
  authorizeStaff,
  contactOnFile,
  dispatchLetters,
  queueLetter,
  RIGHTS_PURPOSE,
  type RequestsDeps,
  type StaffContext,
} from './requests.service.js';

export const restrictionLiftSchema = z.strictObject({
  ground: z.enum(RESTRICTION_LIFT_GROUNDS),
  /**
   * The person has no e-mail address on file: staff confirm they sent the same letter by post
   * before asking for the lift (Art. 18(3)).
   */
  informedByPost: z.boolean().optional(),
});
export type RestrictionLiftInput = z.input<typeof restrictionLiftSchema>;

export interface RestrictionLift {
  subjectId: number;
  /** The day the restriction took effect (Brussels). */
  restrictedSince: string;
  /** The day it ends: the sweep judges the person as usual from then on. */
  liftOn: string;
  /** False when the lifting had been announced already: nothing was changed or sent. */
  announced: boolean;
}

export interface RestrictionState {
  subjectId: number;
  restricted: boolean;
  /** The day the restriction took effect (Brussels), while it holds. */
  restrictedSince: string | null;
  /** The day an announced lifting takes effect. */
  liftOn: string | null;
}

/** Whether a person's processing is restricted, for the rights purpose's staff (the person screen). */
export async function readRestriction(
  deps: RequestsDeps,
  context: StaffContext,
  subjectId: number,
): Promise<RestrictionState> {
  await authorizeStaff(deps, context, [subjectId]);
  const row = await deps.kernel.plain(context.tenantId, (tx) =>
    tx
      .selectFrom('data_subjects')
      .select(['restricted_at', 'restriction_lift_on'])
      .where('subject_id', '=', subjectId)
      .executeTakeFirst(),
  );
  const since = row?.restricted_at ? belgianDay(row.restricted_at) : null;
  return {
    subjectId,
    restricted: since !== null,
    restrictedSince: since,
    liftOn: since === null ? null : (row?.restriction_lift_on ?? null),
  };
}

/**
 * Art. 18(3), VX-14: staff under the rights purpose lift a person's restriction. The person is told
 * first: the letter is sealed in the transaction that records the lifting, which takes effect the
 * next day (decision 1200); until then the gate and every purge still treat them as restricted.
 * A second call answers the first lifting's day and changes and sends nothing.
 */
export async function liftRestriction(
  deps: RequestsDeps,
  context: StaffContext,
  subjectId: number,
  input: RestrictionLiftInput,
): Promise<RestrictionLift> {
  const { ground, informedByPost } = parseInput(restrictionLiftSchema, input);
  await authorizeStaff(deps, context, [subjectId]);
  const { kernel } = deps;
  const notRestricted = (): AppError =>
    new AppError('conflict', 'not restricted', {
      publicMessage: 'the processing of this person is not restricted',
      details: { reason: 'not_restricted' },
    });
  const state = await kernel.plain(context.tenantId, (tx) =>
    tx
      .selectFrom('data_subjects')
      .select(['restricted_at', 'restriction_lift_on'])
      .where('subject_id', '=', subjectId)
      .executeTakeFirst(),
  );
  if (!state?.restricted_at) throw notRestricted();
  const restrictedSince = belgianDay(state.restricted_at);
  if (state.restriction_lift_on !== null)
    return { subjectId, restrictedSince, liftOn: state.restriction_lift_on, announced: false };
  const email = await contactOnFile(deps, context.tenantId, subjectId);
  if (!email && informedByPost !== true)
    throw new AppError('conflict', 'no e-mail on file', {
      publicMessage:
        'the person has no e-mail address on file: send them the letter by post first, then confirm with informedByPost (GDPR Art. 18(3))',
      details: { reason: 'no_contact_on_file' },
    });
  const { policy } = await kernel.policies.current(context.tenantId);
  const liftOn = addDays(belgianDay(kernel.clock.now()), 1);
  const answer = await kernel.transact(context.tenantId, async (atx) => {
    // Under the person's row lock: of two calls at the same moment, the second finds it announced.
    const row = await atx.tx
      .selectFrom('data_subjects')
      .select(['restricted_at', 'restriction_lift_on'])
      .where('subject_id', '=', subjectId)
      .forUpdate()
      .executeTakeFirst();
    if (!row?.restricted_at) throw notRestricted();
    if (row.restriction_lift_on !== null)
      return { subjectId, restrictedSince, liftOn: row.restriction_lift_on, announced: false };
    const asked = await atx.tx
      .selectFrom('rights_requests')
      .select(['language', 'received_at', 'due_on'])
      .where('subject_id', '=', subjectId)
      .where('kind', '=', 'restriction')
      .where('state', '=', 'fulfilled')
      .orderBy('received_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    const language = asked?.language ?? policy.statement.languages[0] ?? 'nl';
    if (email) {
      const letter = writeLetter(policy, language, {
        kind: 'restriction',
        outcome: 'restriction_lift',
        receivedOn: asked ? brusselsDate(asked.received_at) : restrictedSince,
        dueOn: asked ? String(asked.due_on) : restrictedSince,
        liftOn,
        liftGround: ground,
      });
      await queueLetter(deps, atx.tx, context.tenantId, policy, email, letter, 'restriction_lift');
    }
    await announceRestrictionLift(atx, subjectId, liftOn);
    atx.audit.record({
      actor: { kind: 'staff', id: String(context.actor.staffId) },
      role: context.actor.role,
      purpose: RIGHTS_PURPOSE,
      action: 'subject.restriction_lift',
      subjectIds: [subjectId],
      decision: 'allowed',
      reason: `ground ${ground}; ends the next day; ${email ? 'letter mailed' : 'letter sent by post (staff confirmed)'}`,
    });
    return { subjectId, restrictedSince, liftOn, announced: true };
  });
  if (answer.announced && email) dispatchLetters(deps, context.tenantId);
  return answer;
}
