import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff, staffOf } from '../../http/auth.js';
import { idempotencyHeaderSchema, runIdempotently } from '../../http/idempotency.js';
import { AppError } from '../../platform/errors.js';
import type { ConsentDeps } from './deps.js';
import {
  createMailing,
  createMailingInputSchema,
  getMailing,
  previewAudience,
  queueMailing,
  type Mailing,
} from './mailing.service.js';
import {
  mailSettingsInputSchema,
  describeMailSettings,
  readMailSettings,
  writeMailSettings,
} from './settings.service.js';
import { declaredContext } from '../../http/declared-context.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const TAGS = ['consent'];

const mailingSchema = z.object({
  mailingId: z.number().int(),
  purpose: z.string(),
  state: z.enum(['draft', 'sending', 'sent']),
  createdAt: z.string(),
  queuedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  languages: z.array(z.string()),
  links: z.array(z.string()),
  recipients: z.object({
    pending: z.number().int(),
    sending: z.number().int(),
    sent: z.number().int(),
    skipped: z.number().int(),
    uncertain: z.number().int(),
    bounced: z.number().int(),
  }),
});

const present = (mailing: Mailing): z.infer<typeof mailingSchema> => ({
  ...mailing,
  createdAt: mailing.createdAt.toISOString(),
  queuedAt: mailing.queuedAt?.toISOString() ?? null,
  finishedAt: mailing.finishedAt?.toISOString() ?? null,
});

const settingsSchema = z.object({
  fromAddress: z.string().nullable(),
  dkim: z
    .object({
      domain: z.string(),
      selector: z.string(),
      problem: z
        .string()
        .nullable()
        .describe('why the stored key cannot sign (replace it with an RSA key); mailings wait meanwhile'),
    })
    .nullable(),
  ratePerSecond: z.number().int(),
});

/** The sender's settings are the administrator's (a company secret; no personal data). */
function assertAdmin(request: FastifyRequest): number {
  const staff = staffOf(request);
  if (staff.role !== 'admin')
    throw new AppError('role_not_allowed', 'mail settings are for admins', {
      publicMessage: 'only an administrator manages the mail settings',
    });
  return staff.tenantId;
}

/** Mailings (VK-17, VX-9): compose per language, see the audience, send; and the sender's settings. */
export function registerMailingRoutes(app: FastifyInstance, deps: ConsentDeps): void {
  const { kernel } = deps;
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);

  typed.post(
    '/api/v1/mailings',
    {
      onRequest,
      schema: {
        summary:
          'Compose a mailing under the newsletter purpose declared in x-kluis-purpose, one text per language',
        tags: TAGS,
        operationId: 'createMailing',
        body: createMailingInputSchema,
        response: { 201: mailingSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(present(await createMailing(kernel, declaredContext(request), request.body))),
  );
  typed.get(
    '/api/v1/mailings/:mailingId',
    {
      onRequest,
      schema: {
        summary: 'A mailing and how far sending is (recipients per state)',
        tags: TAGS,
        operationId: 'getMailing',
        params: z.object({ mailingId: id }),
        response: { 200: mailingSchema },
      },
    },
    async (request) => present(await getMailing(kernel, declaredContext(request), request.params.mailingId)),
  );
  typed.get(
    '/api/v1/mailings/:mailingId/audience',
    {
      onRequest,
      schema: {
        summary: 'Who it would reach now, as counts (per language, tracked), and why others are left out',
        tags: TAGS,
        operationId: 'previewMailingAudience',
        params: z.object({ mailingId: id }),
        response: {
          200: z.object({
            count: z.number().int(),
            byLanguage: z.record(z.string(), z.number().int()),
            tracked: z.number().int(),
            leftOut: z.object({
              refusedByGate: z.number().int(),
              minors: z.number().int(),
              noAddress: z.number().int(),
              suppressed: z.number().int(),
              duplicates: z.number().int(),
            }),
          }),
        },
      },
    },
    async (request) => previewAudience(kernel, declaredContext(request), request.params.mailingId),
  );
  typed.post(
    '/api/v1/mailings/:mailingId/send',
    {
      onRequest,
      schema: {
        summary:
          'Send: the audience is computed through the gate and queued (one outbox row per recipient); the job queue sends it',
        tags: TAGS,
        operationId: 'sendMailing',
        params: z.object({ mailingId: id }),
        headers: z.object(idempotencyHeaderSchema),
        response: { 202: mailingSchema },
      },
    },
    async (request, reply) => {
      const context = declaredContext(request);
      const answer = await runIdempotently(kernel, request, reply, context.tenantId, {
        status: 202 as const,
        run: async () =>
          present(await queueMailing(kernel, context, request.params.mailingId, deps.mailer.delivers)),
      });
      await deps.wakeSender?.().catch(() => undefined);
      return reply.status(answer.status).send(answer.body);
    },
  );
  typed.get(
    '/api/v1/mail-settings',
    {
      onRequest,
      schema: {
        summary: 'The sender of mailings and its DKIM domain and selector (never the key)',
        tags: TAGS,
        operationId: 'getMailSettings',
        response: { 200: settingsSchema },
      },
    },
    async (request) => {
      const tenantId = assertAdmin(request);
      return describeMailSettings(kernel, tenantId, await kernel.plain(tenantId, readMailSettings));
    },
  );
  typed.put(
    '/api/v1/mail-settings',
    {
      onRequest,
      schema: {
        summary: 'Set the sender of mailings, its DKIM key and the sending rate (admins)',
        tags: TAGS,
        operationId: 'putMailSettings',
        body: mailSettingsInputSchema,
        response: { 200: settingsSchema },
      },
    },
    async (request) => writeMailSettings(kernel, assertAdmin(request), request.body),
  );
}
