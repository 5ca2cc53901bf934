import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { pageQuery } from '../../http/pagination.js';
import { PURPOSE_HEADER } from '../../http/purpose.js';
import type { Kernel } from '../../kernel/kernel.js';
import { belgianDay } from '../../platform/calendar.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { validationError } from '../../platform/errors.js';
import { BILLING_TIME_ZONE, findCallRecords } from './call-record.service.js';
import { parseDateOrInstant } from './date-input.js';
import { assignNumber, listNumberAssignments, recordPorting } from './number.service.js';
import {
  addLineIdentifier,
  endLineIdentifier,
  LINE_IDENTIFIER_KINDS,
  listLineIdentifiers,
  type LineIdentifier,
} from './line-identifier.service.js';
import { assertMayManageTariff, importTariff, listTariffRates } from './tariff.service.js';
import { acceptCsvBodies } from '../../http/csv-body.js';
import { registerPlanAndImportRoutes } from './plans-imports.routes.js';
import { findUnratedCalls } from './unrated-calls.service.js';
import type { CdrUploadSettings } from './cdr-upload.service.js';
import { declaredContext } from '../../http/declared-context.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const purposeHeaders = z
  .object({ [PURPOSE_HEADER]: z.string().describe("purpose key of the tenant's policy") })
  .passthrough();
const when = z
  .string()
  .min(10)
  .max(40)
  .describe(
    'YYYY-MM-DD (midnight in Brussels), YYYY-MM-DD HH:MM:SS (Brussels) or an ISO instant with Z/offset',
  );

// Presenters: the fields that may leave, one by one.
const assignmentSchema = z.object({
  assignmentId: z.number().int(),
  number: z.string().describe('E.164'),
  subjectId: z.number().int(),
  contractRef: z.string().nullable(),
  validFrom: z.string(),
  validTo: z.string().nullable(),
});
const lineIdentifierSchema = z.object({
  identifierId: z.number().int(),
  subjectId: z.number().int(),
  kind: z.enum(LINE_IDENTIFIER_KINDS),
  value: z.string(),
  context: z.string().nullable().describe('dialplan context of an extension; null for the other kinds'),
  validFrom: z.string(),
  validTo: z.string().nullable(),
});
// The answer to giving a number or identifier also says when its period ends with the relation.
const relationLastDay = z.iso
  .date()
  .nullable()
  .describe(
    "the holder's customer relation's last day when the period was given an end because of it (validTo is then the next midnight in Brussels, decision 1160); null otherwise",
  );
const givenAssignmentSchema = assignmentSchema.extend({ relationLastDay });
const givenLineIdentifierSchema = lineIdentifierSchema.extend({ relationLastDay });
function presentIdentifier(item: LineIdentifier): z.infer<typeof lineIdentifierSchema> {
  return {
    identifierId: item.identifierId,
    subjectId: item.subjectId,
    kind: item.kind,
    value: item.value,
    context: item.context === '' ? null : item.context,
    validFrom: item.validFrom.toISOString(),
    validTo: item.validTo?.toISOString() ?? null,
  };
}
const callRecordSchema = z.object({
  startedAt: z.string(),
  caller: z.string(),
  destination: z.string(),
  answeredAt: z.string().nullable(),
  endedAt: z.string(),
  durationSeconds: z.number().int(),
  billableSeconds: z.number().int(),
  disposition: z.string(),
  direction: z
    .enum(['outbound', 'inbound', 'internal', 'forwarded'])
    .describe('outbound and forwarded legs are charged; inbound and internal calls are not'),
  costMicros: z.number().int().nullable(),
});
const tariffRateSchema = z.object({
  prefix: z.string(),
  scope: z.enum(['e164', 'dialled']),
  group: z.string().nullable(),
  groupLabel: z.string().nullable(),
  validFrom: z.iso.date().describe('the first day the rate applies (from midnight in Belgium)'),
  validTo: z.iso.date().nullable().describe('the day the rate no longer applies (exclusive), or null'),
  pricePerMinuteMicros: z.number().int(),
  minimumSeconds: z.number().int(),
  incrementSeconds: z.number().int(),
  connectionFeeMicros: z.number().int(),
});

const instant = (text: string, field: string): Date => parseDateOrInstant(text, BILLING_TIME_ZONE, field);

/**
 * Phone numbers, call records and the tariff over HTTP (issue 12; the staff UI uses them). Numbers
 * and call records are personal data, read and written through the gate under the declared
 * purpose; call records only under the purpose that covers them (VX-5: billing). The tariff is
 * not personal data: admins and billing staff manage it.
 */
export function registerTelephonyRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  uploads?: CdrUploadSettings,
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);
  acceptCsvBodies(app);
  registerPlanAndImportRoutes(app, kernel, uploads);

  typed.get(
    '/api/v1/phone-numbers',
    {
      onRequest,
      schema: {
        summary: 'Number assignments (who held which number when), of all numbers or one',
        tags: ['telephony'],
        headers: purposeHeaders,
        querystring: z.object({ number: z.string().min(3).max(40).optional() }),
        response: { 200: z.object({ items: z.array(assignmentSchema) }) },
      },
    },
    async (request) => {
      const items = await listNumberAssignments(
        kernel,
        declaredContext(request),
        request.query.number === undefined ? {} : { number: request.query.number },
      );
      return {
        items: items.map((item) => ({
          assignmentId: item.assignmentId,
          number: item.e164,
          subjectId: item.subjectId,
          contractRef: item.contractRef,
          validFrom: item.validFrom.toISOString(),
          validTo: item.validTo?.toISOString() ?? null,
        })),
      };
    },
  );
  typed.post(
    '/api/v1/phone-numbers/assignments',
    {
      onRequest,
      schema: {
        summary:
          'Give a number to a customer from a moment (the previous open holder ends there; the period ends with the customer relation)',
        tags: ['telephony'],
        headers: purposeHeaders,
        body: z.object({
          number: z.string().min(3).max(40),
          subjectId: id,
          contractRef: z.string().max(64).optional(),
          from: when,
          to: when.optional(),
        }),
        response: { 201: givenAssignmentSchema },
      },
    },
    async (request, reply) => {
      const { number, subjectId, contractRef, from, to } = request.body;
      const made = await assignNumber(kernel, declaredContext(request), {
        number,
        subjectId,
        ...(contractRef === undefined ? {} : { contractRef }),
        from: instant(from, 'from'),
        ...(to === undefined ? {} : { to: instant(to, 'to') }),
      });
      return reply.status(201).send({
        assignmentId: made.assignmentId,
        number: made.e164,
        subjectId: made.subjectId,
        contractRef: made.contractRef,
        validFrom: made.validFrom.toISOString(),
        validTo: made.validTo?.toISOString() ?? null,
        relationLastDay: made.relationLastDay,
      });
    },
  );
  typed.post(
    '/api/v1/phone-numbers/porting',
    {
      onRequest,
      schema: {
        summary: 'Record a port-in or a port-out (a port-out ends the holder’s open period)',
        tags: ['telephony'],
        headers: purposeHeaders,
        body: z.object({ number: z.string().min(3).max(40), direction: z.enum(['in', 'out']), at: when }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await recordPorting(kernel, declaredContext(request), {
        number: request.body.number,
        direction: request.body.direction,
        at: instant(request.body.at, 'at'),
      });
      return reply.status(204).send(null);
    },
  );
  typed.get(
    '/api/v1/line-identifiers',
    {
      onRequest,
      schema: {
        summary:
          "Customers' line identifiers besides numbers (account codes, channel/trunk prefixes, extensions, SIP users) with their periods",
        tags: ['telephony'],
        headers: purposeHeaders,
        querystring: z.object({ subjectId: id.optional(), kind: z.enum(LINE_IDENTIFIER_KINDS).optional() }),
        response: { 200: z.object({ items: z.array(lineIdentifierSchema) }) },
      },
    },
    async (request) => {
      const { subjectId, kind } = request.query;
      const items = await listLineIdentifiers(kernel, declaredContext(request), {
        ...(subjectId === undefined ? {} : { subjectId }),
        ...(kind === undefined ? {} : { kind }),
      });
      return { items: items.map(presentIdentifier) };
    },
  );
  typed.post(
    '/api/v1/line-identifiers',
    {
      onRequest,
      schema: {
        summary:
          'Give a customer an identifier the switch names its calls by, from a moment (the previous open holder ends there)',
        tags: ['telephony'],
        headers: purposeHeaders,
        body: z.object({
          subjectId: id,
          kind: z.enum(LINE_IDENTIFIER_KINDS),
          value: z
            .string()
            .min(1)
            .max(80)
            .describe('account code, channel prefix (PJSIP/trunk-), extension or SIP user'),
          context: z
            .string()
            .min(1)
            .max(80)
            .optional()
            .describe('dialplan context; required for an extension'),
          from: when,
          to: when.optional(),
        }),
        response: { 201: givenLineIdentifierSchema },
      },
    },
    async (request, reply) => {
      const { subjectId, kind, value, context, from, to } = request.body;
      const made = await addLineIdentifier(kernel, declaredContext(request), {
        subjectId,
        kind,
        value,
        ...(context === undefined ? {} : { context }),
        from: instant(from, 'from'),
        ...(to === undefined ? {} : { to: instant(to, 'to') }),
      });
      return reply.status(201).send({ ...presentIdentifier(made), relationLastDay: made.relationLastDay });
    },
  );
  typed.post(
    '/api/v1/line-identifiers/:id/end',
    {
      onRequest,
      schema: {
        summary: "End a line identifier's period (the customer stops using it)",
        tags: ['telephony'],
        headers: purposeHeaders,
        params: z.object({ id }),
        body: z.object({ at: when }),
        response: { 200: lineIdentifierSchema },
      },
    },
    async (request) => {
      const ended = await endLineIdentifier(kernel, declaredContext(request), {
        identifierId: request.params.id,
        at: instant(request.body.at, 'at'),
      });
      return presentIdentifier(ended);
    },
  );
  typed.get(
    '/api/v1/customers/:id/call-records',
    {
      onRequest,
      schema: {
        summary:
          "A customer's call records in [from, to): only under the purpose that covers them (VX-5: billing)",
        tags: ['telephony'],
        headers: purposeHeaders,
        params: z.object({ id }),
        querystring: z.object({
          from: when,
          to: when,
          limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
        }),
        response: { 200: z.object({ items: z.array(callRecordSchema) }) },
      },
    },
    async (request) => {
      const from = instant(request.query.from, 'from');
      const to = instant(request.query.to, 'to');
      if (to.getTime() <= from.getTime()) throw validationError('to: must be after from');
      const records = await findCallRecords(kernel, declaredContext(request), {
        from,
        to,
        subjectId: request.params.id,
        limit: request.query.limit,
      });
      return {
        items: records.map((record) => ({
          startedAt: record.startedAt.toISOString(),
          caller: record.callerE164,
          destination: record.destination,
          answeredAt: record.answeredAt?.toISOString() ?? null,
          endedAt: record.endedAt.toISOString(),
          durationSeconds: record.durationSeconds,
          billableSeconds: record.billableSeconds,
          disposition: record.disposition,
          direction: record.direction,
          costMicros: record.costMicros,
        })),
      };
    },
  );
  typed.get(
    '/api/v1/call-records/unrated',
    {
      onRequest,
      schema: {
        summary:
          "The tenant's unrated calls of a billing month, across customers, with the reason (VX-5: call-billing purpose only)",
        description:
          'Chargeable calls the tariff could not price; the invoice run refuses a month that has any. Reasons, against the tariff as it is now: `no_tariff`, `rate_added_since` (a rerate prices it), `rate_not_valid_then`, `no_rate_for_destination`, `no_rate_for_dialled_digits`.',
        tags: ['telephony'],
        headers: purposeHeaders,
        querystring: z.object({
          month: z
            .string()
            .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM')
            .describe('billing month (calendar month in Brussels)'),
          ...pageQuery(),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                subjectId: z.number().int(),
                startedAt: z.string(),
                caller: z.string(),
                destination: z.string(),
                billableSeconds: z.number().int(),
                direction: callRecordSchema.shape.direction,
                reason: z.enum([
                  'no_tariff',
                  'rate_added_since',
                  'rate_not_valid_then',
                  'no_rate_for_destination',
                  'no_rate_for_dialled_digits',
                ]),
              }),
            ),
            total: z.number().int().describe('unrated calls of the whole month'),
            nextCursor: z.string().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const cursor = request.query.cursor;
      const position = cursor === undefined ? undefined : decodeCursor(cursor, 2);
      const afterTime = position?.[0] === undefined ? Number.NaN : Date.parse(position[0]);
      if (cursor !== undefined && (!position?.[1] || !Number.isFinite(afterTime)))
        throw validationError('cursor: not a cursor from a previous page');
      const page = await findUnratedCalls(kernel, declaredContext(request), {
        month: request.query.month,
        limit: request.query.limit,
        ...(position?.[1] === undefined
          ? {}
          : { after: { startedAt: new Date(afterTime), dedupKey: position[1] } }),
      });
      return {
        items: page.items.map((call) => ({
          subjectId: call.subjectId,
          startedAt: call.startedAt.toISOString(),
          caller: call.callerE164,
          destination: call.destination,
          billableSeconds: call.billableSeconds,
          direction: call.direction,
          reason: call.reason,
        })),
        total: page.total,
        nextCursor:
          page.next === null ? null : encodeCursor([page.next.startedAt.toISOString(), page.next.dedupKey]),
      };
    },
  );
  typed.get(
    '/api/v1/tariffs',
    {
      onRequest,
      schema: {
        summary: 'The price list: rate per destination prefix and validity (admin, billing)',
        tags: ['telephony'],
        querystring: z.object(pageQuery({ defaultLimit: 200, maxLimit: 1000 })),
        response: { 200: z.object({ items: z.array(tariffRateSchema), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const position = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor, 3);
      if (request.query.cursor !== undefined && (!position || Number.isNaN(Date.parse(position[2] ?? '')))) {
        throw validationError('cursor: not a cursor from a previous page');
      }
      const page = await listTariffRates(kernel, staff.tenantId, actorOf(staff), {
        limit: request.query.limit,
        ...(position
          ? {
              after: {
                prefix: position[0] ?? '',
                scope: position[1] ?? '',
                validFrom: new Date(position[2] ?? ''),
              },
            }
          : {}),
      });
      return {
        items: page.items.map((rate) => ({
          ...rate,
          // Day columns (midnight in Belgium) answered as the day, YYYY-MM-DD (attack A8).
          validFrom: belgianDay(rate.validFrom),
          validTo: rate.validTo === null ? null : belgianDay(rate.validTo),
        })),
        nextCursor: page.next
          ? encodeCursor([page.next.prefix, page.next.scope, page.next.validFrom.toISOString()])
          : null,
      };
    },
  );
  typed.post(
    '/api/v1/tariffs',
    {
      onRequest,
      bodyLimit: 10 * 1024 * 1024,
      schema: {
        summary:
          'Replace the price list with a CSV (the whole list, validity history included; admin, billing)',
        tags: ['telephony'],
        consumes: ['text/csv'],
        body: z.string().min(1),
        response: { 201: z.object({ rates: z.number().int(), prefixes: z.number().int() }) },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      assertMayManageTariff(actorOf(staff));
      return reply.status(201).send(await importTariff(kernel, staff.tenantId, request.body));
    },
  );
}
