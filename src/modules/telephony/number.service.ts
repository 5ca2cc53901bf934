import type { CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import { normalisePhoneNumber } from '../../kernel/identifiers/phone.js';
import { assertAcceptedDate } from '../../platform/date-window.js';
import { AppError } from '../../platform/errors.js';
import type { UseCaseContext } from '../parties/index.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';
import { keepPeriodWithinRelation } from './relation-limit.js';
import {
  closeOpenAssignment,
  insertAssignment,
  lockPhoneNumber,
  selectAssignedSubjectIds,
  selectAssignments,
  selectHoldersAfter,
  updatePorting,
  type NumberAssignment,
} from './number.repository.js';

export type { NumberAssignment };

const assignInputSchema = z.object({
  number: z.string().trim().min(3).max(40),
  subjectId: z.number().int().positive(),
  contractRef: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/, 'a contract reference is 1-64 letters, digits and ._/-')
    .nullish(),
  from: z.date(),
  to: z.date().nullish(),
  defaultCountry: z.string().length(2).default('BE'),
});

export type AssignNumberInput = z.input<typeof assignInputSchema>;

/** A number given: its period, and the relation's last day when the period ends with it (decision 1160). */
export type GivenNumberAssignment = NumberAssignment & { relationLastDay: string | null };

function invalid(message: string): AppError {
  return new AppError('validation_failed', message, { publicMessage: message });
}

/** E.164 of a number as staff type it (national form in the tenant's country, or international). */
export function normaliseInventoryNumber(number: string, defaultCountry: string): string {
  const result = normalisePhoneNumber(number, { defaultCountry: defaultCountry as CountryCode });
  if (!result.ok) throw invalid(`number: not a valid phone number (${result.reason})`);
  return result.e164;
}

/**
 * Gives a number to a customer from `from` (until `to`, or open). An open period of the previous
 * holder that started earlier ends at `from`; any other overlap is a conflict. The period ends
 * with the holder's customer relation when that has a last day, and a former customer is refused
 * (`relation_ended`, decision 1160). Writes kluis.telephony.number of the new (and previous)
 * holder under the context's purpose.
 */
export async function assignNumber(
  kernel: Kernel,
  context: UseCaseContext,
  input: AssignNumberInput,
): Promise<GivenNumberAssignment> {
  const parsed = assignInputSchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  const data = parsed.data;
  if (data.to && data.to.getTime() <= data.from.getTime()) throw invalid('to: must be after from');
  const now = kernel.clock.now();
  assertAcceptedDate(data.from, now, 'planned', 'from');
  if (data.to) assertAcceptedDate(data.to, now, 'planned', 'to');
  const e164 = normaliseInventoryNumber(data.number, data.defaultCountry);
  return kernel.transact(context.tenantId, async (atx) => {
    const number = await lockPhoneNumber(atx.tx, context.tenantId, e164);
    if (number.portedOutAt && number.portedOutAt.getTime() <= data.from.getTime()) {
      throw new AppError('conflict', 'number ported out', {
        publicMessage: 'the number was ported out before the assignment would start',
      });
    }
    const previous = await selectHoldersAfter(atx.tx, e164, data.from);
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: [TELEPHONY_CATEGORIES.number],
      subjectIds: [...new Set([data.subjectId, ...previous])],
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    const within = await keepPeriodWithinRelation(
      atx.tx,
      data.subjectId,
      { from: data.from, to: data.to ?? null },
      now,
    );
    await closeOpenAssignment(atx.tx, grant, e164, data.from);
    try {
      const made = await insertAssignment(atx.tx, grant, {
        e164,
        subjectId: data.subjectId,
        contractRef: data.contractRef ?? null,
        validFrom: data.from,
        validTo: within.validTo,
      });
      return { ...made, relationLastDay: within.relationLastDay };
    } catch (error) {
      throwIfPeriodsOverlap(
        error,
        'overlapping number assignment',
        'the number is held by someone else during (part of) that period',
      );
      throw error;
    }
  });
}

export interface RecordPortingInput {
  number: string;
  direction: 'in' | 'out';
  at: Date;
  defaultCountry?: string;
}

/**
 * Records a port-in (the number came to the provider) or port-out (it left). A port-out ends the
 * holder's open period at that moment. Writes kluis.telephony.number of that holder.
 */
export async function recordPorting(
  kernel: Kernel,
  context: UseCaseContext,
  input: RecordPortingInput,
): Promise<void> {
  assertAcceptedDate(input.at, kernel.clock.now(), 'planned', 'at');
  const e164 = normaliseInventoryNumber(input.number, input.defaultCountry ?? 'BE');
  await kernel.transact(context.tenantId, async (atx) => {
    await lockPhoneNumber(atx.tx, context.tenantId, e164);
    if (input.direction === 'in') {
      await updatePorting(atx.tx, e164, { portedInAt: input.at });
      return;
    }
    const holders = await selectHoldersAfter(atx.tx, e164, input.at);
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: [TELEPHONY_CATEGORIES.number],
      subjectIds: holders,
    });
    await closeOpenAssignment(atx.tx, grant, e164, input.at);
    try {
      await updatePorting(atx.tx, e164, { portedOutAt: input.at });
    } catch (error) {
      if (isPgError(error, '23514')) throw invalid('the port-out must come after the port-in');
      throw error;
    }
  });
}

/** Assignment history (all numbers, or one), read under the context's purpose for every holder listed. */
export async function listNumberAssignments(
  kernel: Kernel,
  context: UseCaseContext,
  options: { number?: string; defaultCountry?: string } = {},
): Promise<NumberAssignment[]> {
  const e164 =
    options.number === undefined
      ? undefined
      : normaliseInventoryNumber(options.number, options.defaultCountry ?? 'BE');
  return kernel.transact(context.tenantId, async (atx) => {
    const subjectIds = await selectAssignedSubjectIds(atx.tx, e164);
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [TELEPHONY_CATEGORIES.number],
      subjectIds,
    });
    return selectAssignments(atx.tx, grant, e164);
  });
}

export function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

/**
 * PostgreSQL's exclusion violation (23P01: two periods of one number or line identifier would
 * overlap) as a 409 conflict saying so in words, with the database error as its cause; any other
 * error is left to the caller.
 */
export function throwIfPeriodsOverlap(error: unknown, message: string, publicMessage: string): void {
  if (isPgError(error, '23P01')) throw new AppError('conflict', message, { publicMessage, cause: error });
}
