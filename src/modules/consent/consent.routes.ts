import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff } from '../../http/auth.js';
import { ID_CURSOR, pageQuery } from '../../http/pagination.js';
import type { Kernel } from '../../kernel/kernel.js';
import { LANGUAGES, type Language } from '../../kernel/policy/policy.schema.js';
import { AppError } from '../../platform/errors.js';
import {
  consentRecordSchema,
  portalConsentsSchema,
  presentConsentRecord,
  presentConsentState,
} from './consent.presenter.js';
import type { ConsentDeps } from './deps.js';
import {
  consentWording,
  listConsentRecords,
  listConsentStates,
  listUndeclaredConsentRecords,
} from './ledger.service.js';
import { recordConsentOrAskConfirmation } from './signup.service.js';
import { declaredContext } from '../../http/declared-context.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const slugParams = z.object({ slug: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/) });

/** The portal account of a request: its tenant and subject (the requests module's session). */
export type PortalAuthenticator = (
  request: FastifyRequest<{ Params: { slug: string } }>,
  write: boolean,
) => Promise<{ tenant: { tenantId: number; slug: string }; subjectId: number }>;

export interface ConsentRouteOptions {
  /** Authenticates the privacy-portal account (requests/account.routes.ts's session). */
  portalSession: PortalAuthenticator;
  /** The confirmation mail of a double opt-in asked by staff or the portal (decision 0910). */
  mail: Pick<ConsentDeps, 'mailer' | 'publicUrl' | 'logger'>;
}

const staffBody = z
  .object({
    event: z
      .enum(['given', 'withdrawn', 'objected', 'objected_marketing'])
      .describe(
        'given / withdrawn: consent (or, for a legitimate interest, opting back in); objected: Art. 21(1) objection; objected_marketing: objection to all direct marketing',
      ),
    channel: z.enum(['staff_phone', 'import']).default('staff_phone'),
    wording: z
      .object({ language: z.enum(LANGUAGES), text: z.string().trim().min(1).max(4000) })
      .optional()
      .describe('the wording read out to the person (required when consent is given)'),
    statement: z
      .string()
      .trim()
      .min(1)
      .max(2000)
      .optional()
      .describe('what the person said (required when consent is given)'),
    email: z
      .string()
      .max(320)
      .optional()
      .describe(
        'the address the person gave for a double opt-in newsletter: consent to it is pending until they confirm the mail sent there',
      ),
  })
  .meta({
    example: {
      event: 'given',
      channel: 'staff_phone',
      wording: {
        language: 'nl',
        text: 'Mogen wij u onze nieuwsbrief sturen? U kunt zich altijd uitschrijven.',
      },
      statement: 'Ja, stuur mij de nieuwsbrief maar.',
      email: 'an.peeters@example.be',
    },
  });

const portalBody = z
  .object({
    purpose: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .optional(),
    event: z.enum(['given', 'withdrawn', 'objected', 'objected_marketing']),
    language: z.enum(LANGUAGES).optional(),
  })
  .meta({ example: { purpose: 'newsletter_opt_in', event: 'given', language: 'nl' } });

/** The consent ledger over HTTP: staff (by phone, import) and the person's own privacy portal. */
export function registerConsentRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  options: ConsentRouteOptions,
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);

  typed.post(
    '/api/v1/people/:subjectId/consents',
    {
      onRequest,
      schema: {
        summary:
          'Record a consent given or withdrawn, or an objection, for the purpose declared in x-kluis-purpose (e.g. by phone: what was read out and what the person said)',
        tags: ['consent'],
        operationId: 'recordConsent',
        params: z.object({ subjectId: id }),
        body: staffBody,
        response: {
          201: consentRecordSchema,
          202: consentRecordSchema
            .extend({ state: z.literal('pending') })
            .describe(
              'a double opt-in: recorded as a sign-up, the confirmation mail sent; consent once confirmed',
            ),
        },
      },
    },
    async (request, reply) => {
      const context = declaredContext(request);
      const body = request.body;
      if (body.event === 'given' && (body.wording === undefined || body.statement === undefined))
        throw new AppError('validation_failed', 'consent without proof', {
          publicMessage: 'wording and statement: say what was read out and what the person said',
          details: { issues: [{ path: 'body/statement', message: 'required when consent is given' }] },
        });
      const { record, state } = await recordConsentOrAskConfirmation({ kernel, ...options.mail }, context, {
        subjectId: request.params.subjectId,
        purpose: body.event === 'objected_marketing' ? null : context.purpose,
        event: body.event,
        channel: body.channel,
        wording: body.wording,
        statement: body.statement,
        email: body.email,
      });
      if (state === 'pending' && record.event === 'signed_up')
        return reply.status(202).send({ ...presentConsentRecord(record), state });
      return reply.status(201).send(presentConsentRecord(record));
    },
  );

  typed.get(
    '/api/v1/people/:subjectId/consents/undeclared-purposes',
    {
      onRequest,
      schema: {
        summary:
          'The consent records of a person for purposes the policy in force no longer declares (oldest first), read under the rights purpose only (decision 1041)',
        tags: ['consent'],
        operationId: 'listUndeclaredPurposeConsents',
        params: z.object({ subjectId: id }),
        response: { 200: z.object({ items: z.array(consentRecordSchema) }) },
      },
    },
    async (request) => {
      const records = await listUndeclaredConsentRecords(
        kernel,
        declaredContext(request),
        request.params.subjectId,
      );
      return { items: records.map(presentConsentRecord) };
    },
  );

  typed.get(
    '/api/v1/people/:subjectId/consents',
    {
      onRequest,
      schema: {
        summary: 'The consent ledger of a person for the declared purpose (oldest first; history is kept)',
        tags: ['consent'],
        operationId: 'listConsents',
        params: z.object({ subjectId: id }),
        querystring: z.object({ ...pageQuery({ defaultLimit: 100 }), cursor: ID_CURSOR.optional() }),
        response: {
          200: z.object({ items: z.array(consentRecordSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const records = await listConsentRecords(kernel, declaredContext(request), request.params.subjectId);
      const after = Number(request.query.cursor ?? 0);
      const page = records.filter((record) => record.recordId > after).slice(0, request.query.limit + 1);
      const more = page.length > request.query.limit;
      const items = page.slice(0, request.query.limit);
      return {
        items: items.map(presentConsentRecord),
        nextCursor: more ? String(items[items.length - 1]?.recordId ?? '') : null,
      };
    },
  );

  typed.get(
    '/t/:slug/account/consents',
    {
      schema: {
        summary:
          'My consents and objections: the state per purpose, the wording to agree to, and the history',
        tags: ['privacy portal'],
        params: slugParams,
        querystring: z.object({ lang: z.enum(LANGUAGES).optional() }),
        response: { 200: portalConsentsSchema },
      },
    },
    async (request) => {
      const session = await options.portalSession(request, false);
      const language = await languageOf(kernel, session.tenant.tenantId, request.query.lang);
      const context = {
        tenantId: session.tenant.tenantId,
        actor: { kind: 'subject', subjectId: session.subjectId } as const,
        requestId: request.id,
      };
      const states = await listConsentStates(kernel, context, language);
      const history = await listConsentRecords(kernel, context, session.subjectId);
      return {
        objectedToDirectMarketing: states.marketingObjectedAt !== null,
        objectedToDirectMarketingSince: states.marketingObjectedAt?.toISOString() ?? null,
        purposes: states.purposes.map(presentConsentState),
        history: history.map((record) => {
          const { staffId: _staffId, statement: _statement, ...rest } = presentConsentRecord(record);
          return rest;
        }),
      };
    },
  );

  typed.post(
    '/t/:slug/account/consents',
    {
      schema: {
        summary:
          'Give or withdraw my consent, object to a purpose, or object to all direct marketing: in effect at once',
        tags: ['privacy portal'],
        params: slugParams,
        body: portalBody,
        response: {
          201: consentRecordSchema.omit({ staffId: true, statement: true }),
          202: consentRecordSchema
            .omit({ staffId: true, statement: true })
            .extend({ state: z.literal('pending') })
            .describe('a double opt-in: the confirmation mail went to the address on file'),
        },
      },
    },
    async (request, reply) => {
      const session = await options.portalSession(request, true);
      const tenantId = session.tenant.tenantId;
      const body = request.body;
      if ((body.event === 'objected_marketing') !== (body.purpose === undefined))
        throw new AppError('validation_failed', 'purpose mismatch', {
          publicMessage: 'purpose: name the purpose, except for an objection to all direct marketing',
        });
      const language = await languageOf(kernel, tenantId, body.language);
      const { policy } = await kernel.policies.current(tenantId);
      const purpose = body.purpose ?? null;
      const { record, state } = await recordConsentOrAskConfirmation(
        { kernel, ...options.mail },
        { tenantId, actor: { kind: 'subject', subjectId: session.subjectId }, requestId: request.id },
        {
          subjectId: session.subjectId,
          purpose,
          event: body.event,
          channel: 'privacy_portal',
          wording:
            body.event === 'given' && purpose !== null
              ? { language, text: consentWording(policy, purpose, language) }
              : undefined,
        },
      );
      const { staffId: _staffId, statement: _statement, ...rest } = presentConsentRecord(record);
      if (state === 'pending' && record.event === 'signed_up')
        return reply.status(202).send({ ...rest, state });
      return reply.status(201).send(rest);
    },
  );
}

async function languageOf(kernel: Kernel, tenantId: number, asked: Language | undefined): Promise<Language> {
  const { policy } = await kernel.policies.current(tenantId);
  if (asked && policy.statement.languages.includes(asked)) return asked;
  return policy.statement.languages[0] ?? 'nl';
}
