import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { PURPOSE_HEADER, purposeOf } from '../../http/purpose.js';
import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import type { Kernel } from '../../kernel/kernel.js';
import { findPurpose } from '../../kernel/policy/policy.query.js';
import { AppError } from '../../platform/errors.js';
import { RIGHTS_PURPOSE } from '../requests/index.js';
import { isIsoDay } from './dates.js';
import { today } from './evaluation.js';
import {
  addToCaseHold,
  addToCaseInputSchema,
  listCaseHolds,
  listLegalHolds,
  placeCaseHold,
  placeCaseInputSchema,
  placeLegalHold,
  releaseCaseHold,
  releaseLegalHold,
  type HoldCase,
  type HoldContext,
  type LegalHold,
} from './holds.service.js';
import { planRetention } from './plan.service.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const holdSchema = z.object({
  kind: z.literal('legal_hold'),
  holdId: z.number(),
  reason: z.string(),
  endsOn: z.string(),
  caseId: z.number().nullable(),
});
const disputeSchema = z.object({ kind: z.literal('dispute'), invoices: z.number(), since: z.string() });
const requestHoldSchema = z.object({
  kind: z.literal('rights_request'),
  request: z.enum(['access', 'portability']),
  stage: z.enum(['open', 'download']).meta({
    description:
      'open: not answered yet (held through its due date); download: answered by a link not yet downloaded',
  }),
  receivedOn: z.string(),
  until: z.string(),
});
const restrictionSchema = z.object({
  kind: z.literal('restriction'),
  since: z.string().meta({
    description: 'the day processing was restricted (Art. 18); everything is kept until staff lift it',
  }),
});
const accountingSchema = z.object({
  kind: z.literal('accounting'),
  legalHold: z.string(),
  invoices: z.number(),
  until: z.string(),
});
const planSchema = z.object({
  asOf: z.string(),
  people: z.array(
    z.object({
      pseudonym: z.string(),
      subjectType: z.string(),
      scope: z.enum(['person', 'categories']),
      categories: z.array(
        z.object({ category: z.string(), rule: z.string(), purpose: z.string(), dueOn: z.string() }),
      ),
      waiting: z.array(z.string()),
      held: z.boolean(),
      returnOnRequest: z.boolean(),
      holds: z.array(
        z.discriminatedUnion('kind', [
          holdSchema,
          accountingSchema,
          disputeSchema,
          requestHoldSchema,
          restrictionSchema,
        ]),
      ),
    }),
  ),
  documentsReleased: z.number(),
  peopleRefused: z.number().meta({
    description: 'Persons the gate refused the retention job: not judged, kept (decision 0280)',
  }),
});
const legalHoldSchema = z.object({
  holdId: z.number(),
  subjectId: z.number(),
  reason: z.string(),
  endsOn: z.string(),
  placedAt: z.string(),
  releasedAt: z.string().nullable(),
  active: z.boolean(),
  caseId: z.number().nullable(),
});
const caseSchema = z.object({
  caseId: z.number(),
  name: z.string(),
  endsOn: z.string(),
  placedAt: z.string(),
  releasedAt: z.string().nullable(),
  active: z.boolean(),
  people: z.number(),
});

function presentCase(found: HoldCase): z.infer<typeof caseSchema> {
  return {
    ...found,
    placedAt: found.placedAt.toISOString(),
    releasedAt: found.releasedAt?.toISOString() ?? null,
  };
}

function presentHold(hold: LegalHold): z.infer<typeof legalHoldSchema> {
  return {
    holdId: hold.holdId,
    subjectId: hold.subjectId,
    reason: hold.reason,
    endsOn: hold.endsOn,
    placedAt: hold.placedAt.toISOString(),
    releasedAt: hold.releasedAt?.toISOString() ?? null,
    active: hold.active,
    caseId: hold.caseId,
  };
}

/**
 * The purpose retention work is done under: the one named in the header, else the policy's
 * rights purpose (the privacy officer's). The staff member's role must be one of its roles.
 */
async function contextOf(kernel: Kernel, request: FastifyRequest): Promise<HoldContext> {
  const staff = staffOf(request);
  const purposeKey = request.headers[PURPOSE_HEADER] === undefined ? RIGHTS_PURPOSE : purposeOf(request);
  const { policy } = await kernel.policies.current(staff.tenantId);
  const purpose = findPurpose(policy, purposeKey);
  if (!purpose) throw new AppError('purpose_not_allowed', `the policy has no purpose ${purposeKey}`);
  if (!purpose.roles.includes(staff.role)) {
    throw new AppError('role_not_allowed', `role ${staff.role} may not act under ${purposeKey}`, {
      publicMessage: `role ${staff.role} may not see or change retention under purpose ${purposeKey}`,
    });
  }
  return { tenantId: staff.tenantId, actor: actorOf(staff), purpose: purposeKey };
}

/** Retention (issue 16): the dry run and legal holds, under /api/v1/retention. */
export function registerRetentionRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);

  typed.get(
    '/api/v1/retention/plan',
    {
      onRequest,
      schema: {
        summary:
          'Dry run of the retention sweep: per person (pseudonym) what would go, why, and what is held',
        tags: ['retention'],
        querystring: z.strictObject({
          until: z.string().refine(isIsoDay, 'a calendar day YYYY-MM-DD').optional(),
        }),
        response: { 200: planSchema },
      },
    },
    async (request) => {
      const context = await contextOf(kernel, request);
      const until = request.query.until;
      if (until !== undefined && until < today(kernel)) {
        throw new AppError('validation_failed', 'until in the past', {
          publicMessage: 'until: lies in the past (the plan shows what is due from today on)',
        });
      }
      const plan = await planRetention(kernel, dataMap, context.tenantId, until ? { until } : {});
      await kernel.transact(context.tenantId, (atx) => {
        atx.audit.record({
          actor: { kind: 'staff', id: String(staffOf(request).staffId) },
          role: staffOf(request).role,
          purpose: context.purpose,
          action: 'retention.plan',
          records: plan.people.length,
          decision: 'allowed',
        });
        return Promise.resolve();
      });
      return plan;
    },
  );

  typed.post(
    '/api/v1/retention/holds',
    {
      onRequest,
      schema: {
        summary: 'Place a legal hold on a person: retention erases nothing of them until it ends',
        tags: ['retention'],
        body: z.strictObject({
          subjectId: id,
          reason: z.string().min(3).max(500),
          endsOn: z.string().refine(isIsoDay, 'a calendar day YYYY-MM-DD'),
        }),
        response: {
          201: legalHoldSchema,
          200: legalHoldSchema.describe('the same hold was open already: it is answered, nothing is added'),
        },
      },
    },
    async (request, reply) => {
      const hold = await placeLegalHold(kernel, await contextOf(kernel, request), request.body);
      return reply.status(hold.created ? 201 : 200).send(presentHold(hold));
    },
  );

  typed.get(
    '/api/v1/retention/holds',
    {
      onRequest,
      schema: {
        summary: "A person's legal holds",
        tags: ['retention'],
        querystring: z.strictObject({ subjectId: id }),
        response: { 200: z.object({ items: z.array(legalHoldSchema) }) },
      },
    },
    async (request) => {
      const holds = await listLegalHolds(kernel, await contextOf(kernel, request), request.query.subjectId);
      return { items: holds.map(presentHold) };
    },
  );

  typed.post(
    '/api/v1/retention/holds/:holdId/release',
    {
      onRequest,
      schema: {
        summary: 'Lift a legal hold before its end',
        tags: ['retention'],
        params: z.strictObject({ holdId: id }),
      },
    },
    async (request, reply) => {
      await releaseLegalHold(kernel, await contextOf(kernel, request), request.params.holdId);
      return reply.status(204).send();
    },
  );

  typed.post(
    '/api/v1/retention/cases',
    {
      onRequest,
      schema: {
        summary: 'Open a case that holds several persons (litigation, an authority’s request) until its end',
        tags: ['retention'],
        body: placeCaseInputSchema,
        response: {
          201: caseSchema,
          200: caseSchema.describe('the same case was open already: it is answered, nothing is added'),
        },
      },
    },
    async (request, reply) => {
      const found = await placeCaseHold(kernel, await contextOf(kernel, request), request.body);
      return reply.status(found.created ? 201 : 200).send(presentCase(found));
    },
  );

  typed.get(
    '/api/v1/retention/cases',
    {
      onRequest,
      schema: {
        summary: 'The cases that hold persons (names and counts)',
        tags: ['retention'],
        response: { 200: z.object({ items: z.array(caseSchema) }) },
      },
    },
    async (request) => {
      const cases = await listCaseHolds(kernel, await contextOf(kernel, request));
      return { items: cases.map(presentCase) };
    },
  );

  typed.post(
    '/api/v1/retention/cases/:caseId/people',
    {
      onRequest,
      schema: {
        summary: 'Add persons to a running case',
        tags: ['retention'],
        params: z.strictObject({ caseId: id }),
        body: addToCaseInputSchema,
        response: { 200: caseSchema },
      },
    },
    async (request) => {
      const found = await addToCaseHold(
        kernel,
        await contextOf(kernel, request),
        request.params.caseId,
        request.body,
      );
      return presentCase(found);
    },
  );

  typed.post(
    '/api/v1/retention/cases/:caseId/release',
    {
      onRequest,
      schema: {
        summary: 'Close a case before its end: every hold of it is lifted',
        tags: ['retention'],
        params: z.strictObject({ caseId: id }),
      },
    },
    async (request, reply) => {
      await releaseCaseHold(kernel, await contextOf(kernel, request), request.params.caseId);
      return reply.status(204).send();
    },
  );
}
