/**
 * Rating plans and the record of call-record imports over HTTP (issue 20): what the CLI already
 * did (`kluis rating-plans …`), and the list the back office shows imports and failed ones from.
 * Neither touches personal data: plans are price lists, imports are counts.
 */
import { Readable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { ID_CURSOR, pageQuery } from '../../http/pagination.js';
import type { Kernel } from '../../kernel/kernel.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError, validationError } from '../../platform/errors.js';
import { csvRecord } from '../../platform/csv.js';
import { idempotencyHeaderSchema, runIdempotently } from '../../http/idempotency.js';
import { PURPOSE_HEADER, purposeOf } from '../../http/purpose.js';
import { listImports, type ImportView } from './cdr-import-log.js';
import { CALL_BILLING_PURPOSE } from './cdr-import.service.js';
import {
  acceptUpload,
  DEFAULT_MAX_UPLOAD_BYTES,
  readRejects,
  REJECTS_KEPT_DAYS,
  type CdrUploadSettings,
} from './cdr-upload.service.js';
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
  status: z.enum(['queued', 'running', 'finished', 'failed', 'interrupted']),
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
  source: z.enum(['file', 'upload']).describe('file: imported by `kluis cdr import`; upload: sent over HTTP'),
  sizeBytes: z.number().int().nullable().describe('size of an uploaded file'),
  rejectsKeptUntil: z
    .string()
    .nullable()
    .describe('until when the rejected lines can be downloaded (uploads); null: none kept'),
});

function presentImport(item: ImportView): z.infer<typeof importSchema> {
  return {
    ...item,
    startedAt: item.startedAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
    finishedAt: item.finishedAt?.toISOString() ?? null,
    rejectsKeptUntil: item.rejectsKeptUntil?.toISOString() ?? null,
  };
}

const REJECTS_PAGE = 5000;

const EXAMPLE_DEFINITION = {
  timeBands: [{ band: 'off_peak', days: [1, 2, 3, 4, 5], from: '19:00', to: '24:00' }],
  prices: [{ group: 'mobile_be', band: 'off_peak', pricePerMinute: '0.05' }],
  included: [{ groups: ['landline_be'], minutes: 500 }],
  onNetFree: true,
};

export function registerPlanAndImportRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  uploads: CdrUploadSettings = {
    spoolDir: path.join(os.tmpdir(), 'kluis-cdr-uploads'),
    maxBytes: DEFAULT_MAX_UPLOAD_BYTES,
  },
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);
  const uploadDoor = requireStaff(kernel, { purpose: CALL_BILLING_PURPOSE });

  // The upload's body is streamed by the handler: its own context, where no parser reads it.
  void app.register((child, _options, registered) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser(['text/csv', 'application/octet-stream'], (request, _payload, done) => {
      // What the Idempotency-Key's fingerprint sees of the body: its name, format and length.
      const query = request.query as Record<string, unknown>;
      done(null, {
        name: query.name ?? null,
        format: query.format ?? null,
        bytes: request.headers['content-length'] ?? null,
      });
    });
    child.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/call-record-imports',
      {
        // The file is call records, imported under the call-billing purpose: a declared purpose
        // is that one or refused, never ignored (decision 0061; attack S7-6).
        onRequest: uploadDoor,
        // Read as it arrives, up to maxBytes: bounded by a pause of a minute, not 20 s (0865).
        config: { streamsBody: true },
        schema: {
          summary: 'Upload a call-record file; it is imported by a job (202 with the import to follow)',
          description: `The body is the file itself (text/csv or application/octet-stream), streamed to the data folder; at most ${DEFAULT_MAX_UPLOAD_BYTES} bytes by default (\`payload_too_large\`, 413, beyond). For the roles the policy lets work on call records, and the admin. Progress: the import's counts (GET …/{id}); a file that is no call-record layout fails with \`layout\` and writes nothing. Rejected lines are kept ${REJECTS_KEPT_DAYS} days: GET …/{id}/rejects under the call-billing purpose.`,
          tags: ['telephony'],
          consumes: ['text/csv', 'application/octet-stream'],
          headers: z.object(idempotencyHeaderSchema).passthrough(),
          // Documents the body; the handler streams it (the parser hands over only its name and length).
          body: z
            .unknown()
            .describe(
              'the call-record file as the switch wrote it (Asterisk Master.csv, FreeSWITCH cdr_csv)',
            ),
          querystring: z.object({
            name: z.string().min(1).max(255).describe("the file's name (its folder is dropped)"),
            format: z.enum(['auto', 'asterisk', 'freeswitch']).default('auto'),
          }),
          response: {
            202: z.object({ importId: z.number().int(), status: z.literal('queued') }),
          },
        },
      },
      async (request, reply) => {
        const staff = staffOf(request);
        const declared = Number(request.headers['content-length']);
        const { status, body } = await runIdempotently(kernel, request, reply, staff.tenantId, {
          status: 202,
          run: async () => {
            try {
              const accepted = await acceptUpload(kernel, staff.tenantId, actorOf(staff), uploads, {
                fileName: request.query.name,
                format: request.query.format,
                body: request.raw,
                declaredBytes: Number.isSafeInteger(declared) && declared >= 0 ? declared : null,
              });
              return { importId: accepted.importId, status: 'queued' as const };
            } catch (error) {
              // A refused body may still be arriving: the answer ends the connection, not the body.
              void reply.header('connection', 'close');
              throw error;
            }
          },
        });
        // A replay did not read the body: it is drained so the connection stays usable.
        if (reply.getHeader('idempotent-replayed') === 'true') request.raw.resume();
        return reply
          .status(status)
          .header('location', `/api/v1/call-record-imports/${body.importId}`)
          .send(body);
      },
    );
    registered();
  });

  typed.get(
    '/api/v1/call-record-imports/:id',
    {
      onRequest,
      schema: {
        summary: 'One call-record import with its counts so far (poll it for an upload’s progress)',
        tags: ['telephony'],
        params: z.strictObject({ id }),
        response: { 200: importSchema },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const page = await listImports(kernel, staff.tenantId, actorOf(staff), {
        limit: 1,
        importId: request.params.id,
      });
      const item = page.items[0];
      if (!item) throw new AppError('not_found', 'no such import', { publicMessage: 'no such import' });
      return presentImport(item);
    },
  );

  typed.get(
    '/api/v1/call-record-imports/:id/rejects',
    {
      onRequest,
      schema: {
        summary: "An uploaded import's rejected lines as CSV: line number, reason code, the line as read",
        description: `Call records (a caller's number, a time): only under the purpose that covers them (call_billing), read through the gate and recorded. Kept ${REJECTS_KEPT_DAYS} days after the import; none for imports by \`kluis cdr import\` (their reject file is next to the imported file).`,
        tags: ['telephony'],
        headers: z
          .object({ [PURPOSE_HEADER]: z.string().describe("purpose key of the tenant's policy") })
          .passthrough(),
        params: z.strictObject({ id }),
        produces: ['text/csv'],
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      const context = {
        tenantId: staff.tenantId,
        actor: actorOf(staff),
        purpose: purposeOf(request),
        requestId: request.id,
      };
      const importId = request.params.id;
      // The first page before the answer starts: a refusal or an unknown import is a problem document.
      const first = await readRejects(kernel, context, importId, { afterLine: 0, limit: REJECTS_PAGE });
      async function* lines(): AsyncGenerator<string> {
        yield csvRecord(['line', 'reason', 'content']);
        let page = first;
        for (;;) {
          for (const reject of page) yield csvRecord([String(reject.lineNumber), reject.reason, reject.line]);
          const last = page.at(-1);
          if (page.length < REJECTS_PAGE || last === undefined) return;
          page = await readRejects(kernel, context, importId, {
            afterLine: last.lineNumber,
            limit: REJECTS_PAGE,
          });
        }
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="import-${importId}-rejects.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines()));
    },
  );

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
        items: page.items.map(presentImport),
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
