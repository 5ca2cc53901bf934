import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idempotencyHeaderSchema, runIdempotently } from '../../http/idempotency.js';
import { pageQuery } from '../../http/pagination.js';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import {
  extendRequest,
  fulfilByStaff,
  getPublicStatus,
  letterPreviewSchema,
  listRequests,
  previewLetter,
  publicRequestSchema,
  registerStaffRequest,
  rejectRequest,
  REQUEST_KINDS,
  RIGHTS_PURPOSE,
  staffRequestSchema,
  verifyByStaff,
  type RequestsDeps,
  type StaffContext,
} from './requests.service.js';
import { fileRequestAtDoor, verifyAtDoor } from './doors.js';
import { sendPackageToStaff } from './download.js';
import { liftRestriction, readRestriction, restrictionLiftSchema } from './restriction-lift.service.js';

const statusSchema = z.object({
  requestId: z.string(),
  kind: z.enum(REQUEST_KINDS),
  state: z.enum(['awaiting_verification', 'verified', 'fulfilled', 'rejected']),
  receivedOn: z.string(),
  dueOn: z.string(),
});
const listItemSchema = statusSchema.extend({
  channel: z.string(),
  subjectId: z.number().int().nullable(),
  overdue: z.boolean(),
  verificationMethod: z.string().nullable(),
  extendedUntil: z.string().nullable().describe('the extended due date, once extended (at most once)'),
  canExtend: z
    .boolean()
    .describe(
      'whether POST …/extend would be accepted now: the request is open, not yet extended, and its first due date not past (decision 0918)',
    ),
});
const slugParams = z.object({ slug: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/) });
const requestParams = z.object({ id: z.string().uuid() });
const idempotentHeaders = z.object(idempotencyHeaderSchema).passthrough();

function staffContext(request: FastifyRequest): StaffContext {
  const staff = staffOf(request);
  return { tenantId: staff.tenantId, actor: actorOf(staff), requestId: request.id };
}

export function registerRequestsRoutes(app: FastifyInstance, deps: RequestsDeps): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  // ------------------------------------------------------------------ public privacy portal
  typed.post(
    '/t/:slug/privacy/requests',
    {
      schema: {
        summary:
          'File a data-subject request (VK-21…VK-27); a code is sent to the e-mail address on file, if any. The answer never reveals whether the address is known.',
        tags: ['privacy portal'],
        params: slugParams,
        body: publicRequestSchema,
        response: {
          202: z.object({
            requestId: z.string(),
            statusToken: z.string(),
            dueOn: z.string(),
            next: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      // The same moment for a known and an unknown address (issue 11): held to the form's quantum.
      // The body is sent after the hold; an error is held alike.
      const receipt = await fileRequestAtDoor(deps, request.params.slug, request.body, request.ip);
      return reply.status(202).send({
        ...receipt,
        next: 'if this e-mail address is known to us, a code was sent to it; enter it to confirm your request',
      });
    },
  );
  typed.post(
    '/t/:slug/privacy/requests/:id/verify',
    {
      schema: {
        summary: 'Confirm a request with the code sent to the e-mail address on file',
        tags: ['privacy portal'],
        params: slugParams.extend({ id: z.string().max(64) }),
        body: z.object({ code: z.string().max(12) }),
        response: {
          200: z.object({ state: z.enum(['awaiting_verification', 'verified', 'fulfilled', 'rejected']) }),
        },
      },
    },
    async (request) =>
      verifyAtDoor(deps, request.params.slug, request.params.id, request.body.code, request.ip),
  );
  typed.get(
    '/t/:slug/privacy/requests/:id',
    {
      schema: {
        summary: 'Status of a request by its unguessable status token (no personal data)',
        tags: ['privacy portal'],
        params: slugParams.extend({ id: z.string().max(64) }),
        querystring: z.object({ token: z.string().min(20).max(64) }),
        response: { 200: statusSchema },
      },
    },
    async (request) => getPublicStatus(deps, request.params.slug, request.params.id, request.query.token),
  );
  // ------------------------------------------------------------------ staff
  const onRequest = requireStaff(deps.kernel, { purpose: RIGHTS_PURPOSE });
  typed.get(
    '/api/v1/requests',
    {
      onRequest,
      schema: {
        summary: 'Data-subject requests by due date; filter by state or overdue (VK-27 dashboard)',
        tags: ['requests'],
        querystring: z.object({
          state: z.enum(['awaiting_verification', 'verified', 'fulfilled', 'rejected']).optional(),
          overdue: z.enum(['true', 'false']).optional(),
          ...pageQuery({ defaultLimit: 100, maxLimit: 500 }),
        }),
        response: { 200: z.object({ items: z.array(listItemSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) =>
      listRequests(deps, staffContext(request), {
        limit: request.query.limit,
        ...(request.query.cursor === undefined ? {} : { cursor: request.query.cursor }),
        ...(request.query.state ? { state: request.query.state } : {}),
        ...(request.query.overdue === undefined ? {} : { overdue: request.query.overdue === 'true' }),
      }),
  );
  typed.post(
    '/api/v1/requests',
    {
      onRequest,
      schema: {
        summary: 'Register a request received by letter, e-mail, phone or in person',
        tags: ['requests'],
        headers: idempotentHeaders,
        body: staffRequestSchema,
        response: { 201: statusSchema },
      },
    },
    async (request, reply) => {
      const context = staffContext(request);
      const { status, body } = await runIdempotently(deps.kernel, request, reply, context.tenantId, {
        status: 201,
        run: () => registerStaffRequest(deps, context, request.body),
      });
      return reply.status(status).send(body);
    },
  );
  typed.post(
    '/api/v1/requests/:id/verify',
    {
      onRequest,
      schema: {
        summary: 'Record that staff verified the person by another method',
        tags: ['requests'],
        params: requestParams,
        body: z.object({ method: z.string() }),
        response: { 200: statusSchema },
      },
    },
    async (request) => verifyByStaff(deps, staffContext(request), request.params.id, request.body.method),
  );
  typed.post(
    '/api/v1/requests/:id/extend',
    {
      onRequest,
      schema: {
        summary: 'Extend the deadline by up to two further months, with a reason (the person is told)',
        tags: ['requests'],
        params: requestParams,
        headers: idempotentHeaders,
        body: z.object({
          until: z.string(),
          reason: z.string(),
          letterPosted: z
            .boolean()
            .optional()
            .describe('true: staff posted the printed letter (needed when the person has no e-mail on file)'),
        }),
        response: { 200: statusSchema },
      },
    },
    async (request, reply) => {
      const context = staffContext(request);
      const { status, body } = await runIdempotently(deps.kernel, request, reply, context.tenantId, {
        status: 200,
        run: () => extendRequest(deps, context, request.params.id, request.body),
      });
      return reply.status(status).send(body);
    },
  );
  typed.post(
    '/api/v1/requests/:id/fulfil',
    {
      onRequest,
      schema: {
        summary: 'Carry out a verified request (rectification takes the corrections)',
        description:
          'The person is told by e-mail; with no e-mail address on file, by the letter staff post (decision 1250): refused 409 letter_by_post until letterPosted is true, then the answer carries the letter to print (access, portability: post the package of GET …/package with it). Neither an e-mail nor a postal address: 409 no_contact_on_file, except an erasure.',
        tags: ['requests'],
        params: requestParams,
        headers: idempotentHeaders,
        body: z.object({
          corrections: z.record(z.string(), z.unknown()).optional(),
          letterPosted: z
            .boolean()
            .optional()
            .describe(
              'true: the person has no e-mail on file and staff post the letter this answer carries (decision 1250)',
            ),
        }),
        response: {
          200: z.object({
            outcome: z.record(z.string(), z.unknown()),
            letter: z
              .object({ subject: z.string(), text: z.string() })
              .optional()
              .describe('the letter to print and post, starting with the address block (by post only)'),
          }),
        },
      },
    },
    async (request, reply) => {
      const context = staffContext(request);
      // The outcome names categories, tables and counts (as rights_requests.outcome), no personal
      // data; a letter by post names the person, for the staff member who prints it.
      const { status, body } = await runIdempotently(deps.kernel, request, reply, context.tenantId, {
        status: 200,
        run: () =>
          fulfilByStaff(deps, context, request.params.id, {
            corrections: request.body.corrections,
            letterPosted: request.body.letterPosted,
          }),
      });
      return reply.status(status).send(body);
    },
  );
  typed.get(
    '/api/v1/requests/:id/package',
    {
      onRequest,
      schema: {
        summary:
          'The package of a verified access or portability request, for staff to post with the letter to a person with no e-mail address on file (decision 1250); anyone else gets the mailed link (409 letter_by_email)',
        tags: ['requests'],
        params: requestParams,
        produces: ['application/zip'],
      },
    },
    async (request, reply) =>
      sendPackageToStaff(deps, request, reply, staffContext(request), request.params.id),
  );
  const subjectParams = z.strictObject({
    subjectId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  });
  typed.get(
    '/api/v1/requests/restrictions/:subjectId',
    {
      onRequest,
      schema: {
        summary: "Whether a person's processing is restricted (Art. 18), and an announced lifting's day",
        tags: ['requests'],
        params: subjectParams,
        response: {
          200: z.object({
            subjectId: z.number(),
            restricted: z.boolean(),
            restrictedSince: z.string().nullable(),
            liftOn: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => readRestriction(deps, staffContext(request), request.params.subjectId),
  );
  typed.post(
    '/api/v1/requests/restrictions/:subjectId/lift',
    {
      onRequest,
      schema: {
        summary:
          'Lift a restriction of processing (Art. 18(3)): the person is told first, by e-mail (or staff confirm a letter by post); it ends the next day',
        tags: ['requests'],
        params: z.strictObject({
          subjectId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
        }),
        body: restrictionLiftSchema,
        response: {
          200: z.object({
            subjectId: z.number(),
            restrictedSince: z.string(),
            liftOn: z
              .string()
              .describe(
                'the day the restriction ends; from then the retention sweep judges the person as usual',
              ),
          }),
        },
      },
    },
    async (request) => liftRestriction(deps, staffContext(request), request.params.subjectId, request.body),
  );
  typed.post(
    '/api/v1/requests/:id/letter-preview',
    {
      onRequest,
      schema: {
        summary:
          'The letter the person will get if the request is extended, rejected or fulfilled (changes and sends nothing)',
        tags: ['requests'],
        params: requestParams,
        body: letterPreviewSchema,
        response: {
          200: z.object({
            language: z.enum(['nl', 'fr', 'en']),
            subject: z.string(),
            text: z.string(),
            delivery: z
              .enum(['email', 'post', 'status_page', 'none'])
              .describe(
                'post: the person has no e-mail on file, staff print and post this letter (it starts with the address block); status_page: the request names nobody, its requester follows it on the status page; none: neither an e-mail nor a postal address on file, an extension or rejection is refused (409 no_contact_on_file) until staff record one',
              ),
          }),
        },
      },
    },
    async (request) => previewLetter(deps, staffContext(request), request.params.id, request.body),
  );
  typed.post(
    '/api/v1/requests/:id/reject',
    {
      onRequest,
      schema: {
        summary: 'Reject a request with a reason (the person is told)',
        tags: ['requests'],
        params: requestParams,
        headers: idempotentHeaders,
        body: z.object({
          reason: z.string(),
          letterPosted: z
            .boolean()
            .optional()
            .describe('true: staff posted the printed letter (needed when the person has no e-mail on file)'),
        }),
        response: { 200: statusSchema },
      },
    },
    async (request, reply) => {
      const context = staffContext(request);
      const { status, body } = await runIdempotently(deps.kernel, request, reply, context.tenantId, {
        status: 200,
        run: () =>
          rejectRequest(deps, context, request.params.id, request.body.reason, request.body.letterPosted),
      });
      return reply.status(status).send(body);
    },
  );
}
