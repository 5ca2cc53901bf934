import { z } from 'zod';
import { eraseSubject, type ErasureOutcome } from '../../kernel/erasure/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError, validationError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { DATA_MAP } from '../data-map.js';
import type { ErasureFollowUpOf } from './erase.service.js';
import { insertParentalConsent } from './minors.repository.js';
import { addYears, ageOn, type UseCaseContext } from './people.service.js';

export const parentalConsentInputSchema = z.object({
  relation: z.enum(['parent', 'guardian']),
  /** How the parent's identity and authority were checked, e.g. `id_card_seen_in_shop`, `itsme`. */
  verificationMethod: z
    .string()
    .regex(/^[a-z][a-z0-9_]{2,40}$/, 'expected a method key like id_card_seen_in_shop'),
  /** A reference to the signed form or scan kept elsewhere; never the document itself. */
  evidenceReference: z.string().trim().min(1).max(200).nullish(),
});

export type ParentalConsentInput = z.input<typeof parentalConsentInputSchema>;

/**
 * VK-15: records that a parent or guardian consented for a minor (who, by relation only; how it
 * was verified; when; by which staff member). From then on the gate allows consent-based purposes.
 */
export async function recordParentalConsent(
  kernel: Kernel,
  context: UseCaseContext,
  subjectId: number,
  input: ParentalConsentInput,
): Promise<void> {
  const valid = parseInput(parentalConsentInputSchema, input);
  await kernel.transact(context.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: ['user.demographic.date_of_birth'],
      subjectIds: [subjectId],
    });
    const subject = await atx.tx
      .selectFrom('data_subjects')
      .select(['minor_until'])
      .where('subject_id', '=', subjectId)
      .executeTakeFirstOrThrow();
    if (subject.minor_until === null) {
      throw new AppError('conflict', 'not a minor', {
        publicMessage: 'this person is not recorded as a minor',
      });
    }
    const at = kernel.clock.now();
    await insertParentalConsent(atx.tx, grant, {
      subjectId,
      relation: valid.relation,
      verificationMethod: valid.verificationMethod,
      evidenceReference: valid.evidenceReference ?? null,
      recordedByStaffId: context.actor.kind === 'staff' ? context.actor.staffId : null,
      at,
    });
    await atx.tx
      .updateTable('data_subjects')
      .set({ parental_consent_at: at })
      .where('subject_id', '=', subjectId)
      .execute();
  });
}

export const reportMinorInputSchema = z
  .object({
    /**
     * The birth date the notice gives, when the person's own is not on file: it must make them
     * younger than the policy's age (minors.parentalConsentBelowAge) on the day of the report.
     */
    birthDate: z.iso.date('expected a date as YYYY-MM-DD').optional(),
  })
  .strict();

export type ReportMinorInput = z.input<typeof reportMinorInputSchema>;

/**
 * VK-15 "deletion on notice": a staff member reports that a person is a minor whose parent did
 * not consent; everything about the person is erased at once (except what a legal hold keeps).
 * Only a person who is a minor by the policy's rule is erased this way: one already recorded as a
 * minor (a birth date on file), or one whose birth date given with the report makes them one (the
 * claim is recorded first, under the same purpose). The gate then allows the erasure only under a
 * purpose the policy declares for it (wholePerson: minor_erasure), for its subject types and roles,
 * and only while no parental consent is recorded; a staff account is never erased this way.
 */
export async function reportMinorWithoutConsent(
  kernel: Kernel,
  context: UseCaseContext,
  subjectId: number,
  input: ReportMinorInput = {},
  followUp?: ErasureFollowUpOf,
): Promise<ErasureOutcome> {
  const valid = parseInput(reportMinorInputSchema, input);
  if (valid.birthDate !== undefined) await recordMinorClaim(kernel, context, subjectId, valid.birthDate);
  const follow = await followUp?.(context.tenantId, subjectId, context.actor);
  const outcome = await eraseSubject(kernel, DATA_MAP, {
    tenantId: context.tenantId,
    actor: context.actor,
    purpose: context.purpose,
    subjectId,
    ...(context.requestId ? { requestId: context.requestId } : {}),
    ...(follow ? { withinErasure: follow.withinErasure } : {}),
  });
  follow?.afterCommit();
  return outcome;
}

/** Records that a report says the person is a minor until the policy's age; refuses an adult's date. */
async function recordMinorClaim(
  kernel: Kernel,
  context: UseCaseContext,
  subjectId: number,
  birthDate: string,
): Promise<void> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const today = kernel.clock.now().toISOString().slice(0, 10);
  if (birthDate > today) throw validationError('birthDate: lies in the future');
  const age = policy.minors.parentalConsentBelowAge;
  if (ageOn(birthDate, today) >= age) {
    throw new AppError('conflict', 'reported birth date is not a minor', {
      publicMessage: `birthDate: the person would be ${age} or older; only a minor is erased on a report`,
    });
  }
  await kernel.transact(context.tenantId, async (atx) => {
    await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: ['user.demographic.date_of_birth'],
      subjectIds: [subjectId],
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    await atx.tx
      .updateTable('data_subjects')
      .set({ minor_until: addYears(birthDate, age) })
      .where('subject_id', '=', subjectId)
      .execute();
  });
}
