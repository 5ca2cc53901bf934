/**
 * Rating plans and the record of call-record imports over HTTP (issue 20): what the CLI already
 * did (`kluis rating-plans …`), and the list the back office shows imports and failed ones from.
 * Neither touches personal data: plans are price lists, imports are counts.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { ID_CURSOR, pageQuery } from '../../http/pagination.js';
import type { Kernel } from '../../kernel/kernel.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { validationError } from '../../platform/errors.js';
import { listImports } from './cdr-import-log.js';
import {
  assignRatingPlan,
  createRatingPlan,
  getRatingPlan,
  listRatingPlansPage,
} from './rating-plan.service.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const planSchema = z.object({
  planId: z.number().int(),
  code: z.string(),
  name: z.string(),
  definition: z.unknown().describe('time bands, prices per destination group and band, bundles, on-net'),
});

const importSchema = z.object({
  importId: z.number().int(),
  fileName: z.string(),
  format: z.string(),
  status: z.enum(['running', 'finished', 'failed', 'interrupted']),
  startedAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  linesRead: z.number().int(),
  imported: z.number().int(),
  rejected: z.number().int(),
  duplicates: z.number().int(),
  unrated: z.number().int(),
  rejectsByReason: z.record(z.string(), z.number().int()),
  errorCode: z.string().nullable(),
});

const EXAMPLE_DEFINITION = {
  timeBands: [{ band: 'off_peak', days: [1, 2, 3, 4, 5], from: '19:00', to: '24:00' }],
  prices: [{ group: 'mobile_be', band: 'off_peak', pricePerMinute: '0.05' }],
  included: [{ groups: ['landline_be'], minutes: 500 }],
  onNetFree: true,
};

export function registerPlanAndImportRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);

  typed.get(
    '/api/v1/call-record-imports',
    {
      onRequest,
      schema: {
        summary: 'Call-record imports, newest first, with their counts and how each ended',
        description:
          'For the roles the policy lets work on call records, and the admin. `problems=true`: only imports that failed, were interrupted (running but not heard of for 15 minutes) or rejected lines. The rejected lines themselves are in the reject file next to the imported file, not in the database.',
        tags: ['telephony'],
        querystring: z.object({
          ...pageQuery(),
          cursor: ID_CURSOR.optional(),
          problems: z.enum(['true', 'false']).optional(),
          since: z.iso.datetime({ offset: true }).optional().describe('only imports started at or after'),
        }),
        response: { 200: z.object({ items: z.array(importSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const page = await listImports(kernel, staff.tenantId, actorOf(staff), {
        limit: request.query.limit,
        ...(request.query.cursor === undefined ? {} : { beforeId: Number(request.query.cursor) }),
        ...(request.query.problems === 'true' ? { problems: true } : {}),
        ...(request.query.since === undefined ? {} : { since: new Date(request.query.since) }),
      });
      return {
        items: page.items.map((item) => ({
          ...item,
          startedAt: item.startedAt.toISOString(),
          updatedAt: item.updatedAt.toISOString(),
          finishedAt: item.finishedAt?.toISOString() ?? null,
        })),
        nextCursor: page.nextBeforeId === null ? null : String(page.nextBeforeId),
      };
    },
  );

  typed.get(
    '/api/v1/rating-plans',
    {
      onRequest,
      schema: {
        summary: 'Rating plans in code order (admin, billing)',
        tags: ['telephony'],
        querystring: z.object(pageQuery()),
        response: { 200: z.object({ items: z.array(planSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const position = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor, 1);
      if (request.query.cursor !== undefined && !position?.[0])
        throw validationError('cursor: not a cursor from a previous page');
      const page = await listRatingPlansPage(kernel, staff.tenantId, actorOf(staff), {
        limit: request.query.limit,
        ...(position?.[0] === undefined ? {} : { afterCode: position[0] }),
      });
      return {
        items: page.items,
        nextCursor: page.nextCode === null ? null : encodeCursor([page.nextCode]),
      };
    },
  );

  typed.post(
    '/api/v1/rating-plans',
    {
      onRequest,
      schema: {
        summary: 'Create a rating plan (admin, billing); a bad definition is refused whole',
        tags: ['telephony'],
        body: z
          .strictObject({ code: z.string().max(40), name: z.string().max(80), definition: z.unknown() })
          .meta({
            example: {
              code: 'BIZ-EVENING',
              name: 'Business, cheap evenings',
              definition: EXAMPLE_DEFINITION,
            },
          }),
        response: { 201: planSchema },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      const plan = await createRatingPlan(kernel, staff.tenantId, actorOf(staff), request.body);
      return reply.status(201).send(plan);
    },
  );

  typed.get(
    '/api/v1/rating-plans/:planId',
    {
      onRequest,
      schema: {
        summary: 'One rating plan and from which day it applies to the tenant or a product (admin, billing)',
        tags: ['telephony'],
        params: z.strictObject({ planId: id }),
        response: {
          200: planSchema.extend({
            createdAt: z.string(),
            assignments: z.array(
              z.object({
                productId: z.number().int().nullable().describe('null: the tenant’s default plan'),
                validFrom: z.string(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const plan = await getRatingPlan(kernel, staff.tenantId, actorOf(staff), request.params.planId);
      return { ...plan, createdAt: plan.createdAt.toISOString() };
    },
  );

  typed.post(
    '/api/v1/rating-plans/:planId/assignments',
    {
      onRequest,
      schema: {
        summary:
          'Make a plan the tenant’s default or a product’s from a day on (Brussels; admin, billing). A customer’s own plan: `kluis rating-plans assign --customer`.',
        tags: ['telephony'],
        params: z.strictObject({ planId: id }),
        body: z
          .strictObject({
            productId: z.number().int().positive().nullable().describe('null: the tenant’s default'),
            validFrom: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD'),
          })
          .meta({ example: { productId: null, validFrom: '2026-12-01' } }),
        response: { 201: z.object({ planId: z.number().int(), validFrom: z.string() }) },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      const actor = actorOf(staff);
      const plan = await getRatingPlan(kernel, staff.tenantId, actor, request.params.planId);
      const { productId, validFrom } = request.body;
      const result = await assignRatingPlan(
        kernel,
        // Tenant and product plans concern nobody: no personal data, so no purpose is read.
        { tenantId: staff.tenantId, actor, purpose: 'none', requestId: request.id },
        {
          planCode: plan.code,
          target: productId === null ? { kind: 'tenant' } : { kind: 'product', productId },
          validFrom,
        },
      );
      return reply.status(201).send(result);
    },
  );
}
