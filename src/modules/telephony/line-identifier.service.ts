import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import { assertAcceptedDate } from '../../platform/date-window.js';
import { AppError } from '../../platform/errors.js';
import type { UseCaseContext } from '../parties/index.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { TELEPHONY_CATEGORIES, telephonyDataMap } from './datamap.js';
import {
  closeOpenIdentifier,
  insertIdentifier,
  lockIdentifierKey,
  selectIdentifierHoldersAfter,
  selectIdentifiers,
  selectIdentifierSubject,
  selectIdentifierSubjectIds,
  updateIdentifierEnd,
  type LineIdentifier,
} from './line-identifier.repository.js';
import { isPgError, throwIfPeriodsOverlap } from './number.service.js';
import { keepPeriodWithinRelation } from './relation-limit.js';
import type { LineIdentifierKind } from './telephony.tables.js';

export type { LineIdentifier, LineIdentifierKind };

export const LINE_IDENTIFIER_KINDS = ['account_code', 'channel', 'extension', 'sip_user'] as const;

/** The column's CHECK, so a bad value is a 400 with a message, not a database error. */
const VALUE = /^[A-Za-z0-9_*#+][A-Za-z0-9_*#+.@:/-]{0,79}$/;
const CONTEXT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$/;

const addInputSchema = z
  .object({
    subjectId: z.number().int().positive(),
    kind: z.enum(LINE_IDENTIFIER_KINDS),
    value: z
      .string()
      .trim()
      .regex(VALUE, 'letters, digits and _*#+.@:/- (at most 80), not starting with a punctuation mark'),
    context: z
      .string()
      .trim()
      .regex(CONTEXT, 'a dialplan context: letters, digits and _.- (at most 80)')
      .optional(),
    from: z.date(),
    to: z.date().nullish(),
  })
  .superRefine((input, ctx) => {
    if (input.kind === 'extension' && input.context === undefined)
      ctx.addIssue({ code: 'custom', path: ['context'], message: 'an extension needs its dialplan context' });
    if (input.kind !== 'extension' && input.context !== undefined)
      ctx.addIssue({ code: 'custom', path: ['context'], message: 'only an extension has a context' });
    if (input.to && input.to.getTime() <= input.from.getTime())
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  });

export type AddLineIdentifierInput = z.input<typeof addInputSchema>;

/** An identifier given: its period, and the relation's last day when the period ends with it (decision 1160). */
export type GivenLineIdentifier = LineIdentifier & { relationLastDay: string | null };

function invalid(message: string): AppError {
  return new AppError('validation_failed', message, { publicMessage: message });
}

/**
 * Gives a customer an identifier the switch names its calls by (account code, channel or trunk
 * prefix, extension within a context, SIP user) from `from` (until `to`, or open). Like a number:
 * an open period of the previous holder that started earlier ends at `from`; any other overlap is
 * a conflict. Like a number, the period ends with the holder's customer relation, and a former
 * customer is refused (decision 1160). Writes kluis.telephony.number of the new (and previous)
 * holder under the context's purpose.
 */
export async function addLineIdentifier(
  kernel: Kernel,
  context: UseCaseContext,
  input: AddLineIdentifierInput,
): Promise<GivenLineIdentifier> {
  const parsed = addInputSchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  const data = parsed.data;
  assertFreeTextAllowed(tableMap(telephonyDataMap, 'line_identifiers'), [
    { column: 'value', field: 'value', value: data.value },
    { column: 'context', field: 'context', value: data.context },
  ]);
  const now = kernel.clock.now();
  assertAcceptedDate(data.from, now, 'planned', 'from');
  if (data.to) assertAcceptedDate(data.to, now, 'planned', 'to');
  const key = { kind: data.kind, value: data.value, context: data.context ?? '' };
  return kernel.transact(context.tenantId, async (atx) => {
    await lockIdentifierKey(atx.tx, key);
    const previous = await selectIdentifierHoldersAfter(atx.tx, key, data.from);
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
    await closeOpenIdentifier(atx.tx, grant, key, data.from);
    try {
      const made = await insertIdentifier(atx.tx, grant, {
        subjectId: data.subjectId,
        ...key,
        validFrom: data.from,
        validTo: within.validTo,
      });
      return { ...made, relationLastDay: within.relationLastDay };
    } catch (error) {
      throwIfPeriodsOverlap(
        error,
        'overlapping line identifier',
        'the identifier is held by someone else during (part of) that period',
      );
      if (isPgError(error, '23503')) throw invalid('subjectId: no such customer');
      throw error;
    }
  });
}

/**
 * Ends one identifier's open period at `at` (the customer stops using it). A period that already
 * has an end keeps it: calls were attributed by it, so it is not moved (409, details.reason
 * `already_ended`; decision 0282).
 */
export async function endLineIdentifier(
  kernel: Kernel,
  context: UseCaseContext,
  input: { identifierId: number; at: Date },
): Promise<LineIdentifier> {
  assertAcceptedDate(input.at, kernel.clock.now(), 'planned', 'at');
  return kernel.transact(context.tenantId, async (atx) => {
    const subjectId = await selectIdentifierSubject(atx.tx, input.identifierId);
    if (subjectId === null) throw new AppError('not_found', 'no such line identifier');
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories: [TELEPHONY_CATEGORIES.number],
      subjectIds: [subjectId],
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    try {
      const ended = await updateIdentifierEnd(atx.tx, grant, input.identifierId, input.at);
      if (ended === null) throw new AppError('not_found', 'no such line identifier');
      if (ended.kind === 'already_ended')
        throw new AppError('conflict', 'line identifier already ended', {
          publicMessage: "the identifier's period has already ended; its end is not moved",
          details: { reason: 'already_ended' },
        });
      return ended.identifier;
    } catch (error) {
      if (isPgError(error, '23514')) throw invalid('at: must be after the start of the period');
      throwIfPeriodsOverlap(
        error,
        'line identifier end overlaps the next holder',
        'at: the identifier is held by someone else from before that day',
      );
      throw error;
    }
  });
}

/** Identifiers of every customer (or one), read under the context's purpose for every holder listed. */
export async function listLineIdentifiers(
  kernel: Kernel,
  context: UseCaseContext,
  filter: { subjectId?: number; kind?: LineIdentifierKind } = {},
): Promise<LineIdentifier[]> {
  return kernel.transact(context.tenantId, async (atx) => {
    const subjectIds = await selectIdentifierSubjectIds(atx.tx, filter.subjectId);
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [TELEPHONY_CATEGORIES.number],
      subjectIds,
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    return selectIdentifiers(atx.tx, grant, filter.kind === undefined ? {} : { kind: filter.kind });
  });
}
