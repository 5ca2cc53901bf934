import { z } from 'zod';
import { eraseSubject, type ErasureOutcome } from '../../kernel/erasure/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { DATA_MAP } from '../data-map.js';
import type { UseCaseContext } from './people.service.js';

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
    await kernel.gate.authorize(atx, context.actor, {
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
    await atx.tx
      .insertInto('parental_consents')
      .values({
        tenant_id: context.tenantId,
        subject_id: subjectId,
        relation: valid.relation,
        verification_method: valid.verificationMethod,
        evidence_reference: valid.evidenceReference ?? null,
        recorded_by_staff_id: context.actor.kind === 'staff' ? context.actor.staffId : null,
        recorded_at: at,
      })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'subject_id']).doNothing())
      .execute();
    await atx.tx
      .updateTable('data_subjects')
      .set({ parental_consent_at: at })
      .where('subject_id', '=', subjectId)
      .execute();
  });
}

/**
 * VK-15 "deletion on notice": a staff member reports that a person is a minor whose parent did
 * not consent; everything about the person is erased at once (except what a legal hold keeps).
 */
export async function reportMinorWithoutConsent(
  kernel: Kernel,
  context: UseCaseContext,
  subjectId: number,
): Promise<ErasureOutcome> {
  return eraseSubject(kernel, DATA_MAP, {
    tenantId: context.tenantId,
    actor: context.actor,
    purpose: context.purpose,
    subjectId,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  });
}
