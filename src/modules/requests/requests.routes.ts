import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { reachTestHook } from '../../platform/test-hooks.js';
import { idempotencyHeaderSchema, runIdempotently } from '../../http/idempotency.js';
import { pageQuery } from '../../http/pagination.js';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  streamPortabilityZip,
  writeAccessReportHtml,
  writeAccessReportJson,
} from '../../kernel/access-report/index.js';
import yazl from 'yazl';
import {
  completeDownload,
  consumeDownload,
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
  typed.get(
    '/t/:slug/privacy/downloads/:token',
    {
      schema: {
        summary:
          'Expiring download of an access or portability package (link sent to the contact on file): spent by one complete download, or after 3 started ones',
        tags: ['privacy portal'],
        params: slugParams.extend({ token: z.string().max(64) }),
      },
    },
    async (request, reply) => {
      const { tenant, request: rightsRequest } = await consumeDownload(
        deps,
        request.params.slug,
        request.params.token,
      );
      const subjectId = rightsRequest.subject_id ?? 0;
      const options = {
        tenantId: tenant.tenantId,
        actor: { kind: 'system' as const, job: 'rights-download' },
        purpose: RIGHTS_PURPOSE,
        subjectId,
        language: rightsRequest.language,
      };
      void reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="${tenant.slug}-${rightsRequest.kind}.zip"`)
        .header('cache-control', 'no-store');
      // The link is spent only by a download written to the end (decision 0382): a broken
      // connection leaves it for the next try.
      const raw = reply.raw;
      const delivered = finished(raw).then(
        () => true,
        () => false,
      );
      reply.hijack();
      raw.writeHead(200, reply.getHeaders() as Record<string, string>);
      raw.flushHeaders();
      await reachTestHook('requests.download-started');
      try {
        if (rightsRequest.kind === 'portability') {
          await streamPortabilityZip(deps.kernel, deps.dataMap, options, raw);
        } else {
          // The JSON and the HTML are written while the rows are read, a page at a time, one file
          // after the other (the ZIP reads its entries in order): memory stays flat however long
          // the person's history is (call records).
          const zip = new yazl.ZipFile();
          zip.outputStream.pipe(raw);
          const json = new PassThrough();
          const page = new PassThrough();
          // The person went away: stop reading their rows.
          raw.once('close', () => {
            if (raw.writableFinished) return;
            json.destroy(new Error('download interrupted'));
            page.destroy(new Error('download interrupted'));
          });
          zip.addReadStream(json, 'access-report.json');
          zip.addReadStream(page, 'access-report.html');
          zip.end();
          await writeAccessReportJson(deps.kernel, deps.dataMap, options, json);
          await writeAccessReportHtml(deps.kernel, deps.dataMap, options, page);
          if (!raw.writableFinished) await finished(raw);
        }
      } catch (error) {
        if (!raw.destroyed || raw.writableFinished) throw error;
      }
      if (await delivered) await completeDownload(deps, tenant.tenantId, request.params.token);
      else request.log.info('download interrupted; the link stays usable');
      return reply;
    },
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
        body: z.object({ until: z.string(), reason: z.string() }),
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
        tags: ['requests'],
        params: requestParams,
        headers: idempotentHeaders,
        body: z.object({ corrections: z.record(z.string(), z.unknown()).optional() }),
        response: { 200: z.object({ outcome: z.record(z.string(), z.unknown()) }) },
      },
    },
    async (request, reply) => {
      const context = staffContext(request);
      // The outcome names categories, tables and counts (as rights_requests.outcome), no personal data.
      const { status, body } = await runIdempotently(deps.kernel, request, reply, context.tenantId, {
        status: 200,
        run: async () => ({
          outcome: await fulfilByStaff(deps, context, request.params.id, {
            corrections: request.body.corrections,
          }),
        }),
      });
      return reply.status(status).send(body);
    },
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
          200: z.object({ language: z.enum(['nl', 'fr', 'en']), subject: z.string(), text: z.string() }),
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
        body: z.object({ reason: z.string() }),
        response: { 200: statusSchema },
      },
    },
    async (request, reply) => {
      const context = staffContext(request);
      const { status, body } = await runIdempotently(deps.kernel, request, reply, context.tenantId, {
        status: 200,
        run: () => rejectRequest(deps, context, request.params.id, request.body.reason),
      });
      return reply.status(status).send(body);
    },
  );
}
