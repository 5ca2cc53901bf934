import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff, staffOf } from '../../http/auth.js';
import { logUnreadable } from '../../http/unreadable.js';
import { purposeOf } from '../../http/purpose.js';
import type { Kernel } from '../../kernel/kernel.js';
import { isAppError } from '../../platform/errors.js';
import {
  assetSchema,
  attachmentSchema,
  presentAttachment,
  dossierSchema,
  ITEM_SCHEMAS,
  presentDossier,
  presentItem,
} from './dossier.presenter.js';
import { ITEM_KINDS, type ItemKind } from './dossier.repository.js';
import {
  createItem,
  deleteItem,
  ITEM_INPUT,
  ITEM_PATCH,
  updateItem,
  assertDossierKept,
  getDossier,
  searchAssets,
} from './dossier.service.js';
import {
  exportInputSchema,
  exportItems,
  IMPORT_FORMATS,
  IMPORT_KINDS,
  importItems,
} from './import.service.js';
import { createShareInputSchema, createShareLink } from './share.service.js';
import { lookAtShareLink, openShareLinkAtDoor, type ShareDoorCall } from './share-door.js';
import {
  revealInputSchema,
  revealSecret,
  showTotpCode,
  totpCodeInputSchema,
  type RevealContext,
} from './reveal.service.js';
import { countShareCreation, DEFAULT_SHARE_LIMITS, type ShareLimits } from './share-limits.js';
import {
  downloadOwnAttachment,
  getOwnDossier,
  ownRevealInputSchema,
  revealOwnSecret,
} from './own-dossier.service.js';
import {
  addAttachment,
  ATTACHMENT_TYPES,
  attachmentInputSchema,
  deleteAttachment,
  downloadAttachment,
  listAttachments,
  revealAttachment,
  type AttachmentFile,
} from './attachment.service.js';
import { acceptCsvBodies } from '../../http/csv-body.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const TAGS = ['dossier'];

/**
 * Who acts, under the purpose declared in the x-kluis-purpose header (never substituted,
 * decision 0061), and when their session last proved a second factor. A tenant whose policy
 * keeps no dossier is told so first. Plain data for the services.
 */
async function contextOf(kernel: Kernel, request: FastifyRequest): Promise<RevealContext> {
  const staff = staffOf(request);
  await assertDossierKept(kernel, staff.tenantId);
  return {
    tenantId: staff.tenantId,
    actor: { kind: 'staff', staffId: staff.staffId, role: staff.role },
    purpose: purposeOf(request),
    requestId: request.id,
    secondFactorAt: staff.secondFactorAt,
  };
}

/** Each item kind's place in the API. */
const ITEM_ROUTES: Record<
  ItemKind,
  { segment: string; idParam: string; name: string; article: string; createSummary: string }
> = {
  asset: {
    segment: 'assets',
    idParam: 'assetId',
    name: 'Asset',
    article: 'an asset',
    createSummary: 'Add an asset (kind, brand, model, serial, location, hostname, IP, dates, notes)',
  },
  credential: {
    segment: 'credentials',
    idParam: 'credentialId',
    name: 'Credential',
    article: 'a credential (a password or TOTP seed given is encrypted under the dossier key)',
    createSummary:
      'Add a credential (system, URL, username, password, TOTP seed, notes); secrets are never shown back',
  },
  fact: {
    segment: 'facts',
    idParam: 'factId',
    name: 'Fact',
    article: 'a network fact or licence',
    createSummary: 'Add a network fact or a licence',
  },
};

/** A revealed secret must not linger in a cache. */
const noStore = (reply: FastifyReply): void => void reply.header('cache-control', 'no-store');

export interface DossierRouteOptions {
  /** Base URL of the one-time share links. */
  publicUrl: string;
  /** Limits of the share-link doors (defaults: DEFAULT_SHARE_LIMITS). */
  shareLimits?: ShareLimits;
  /** The privacy-portal account of a request (requests/account.routes.ts's portalSessionOf). */
  portalSession?: PortalAuthenticator;
  /**
   * The page a browser gets for a share link (the privacy portal's, decision 0472): a button that
   * opens it, or (no link) a sentence that it is unknown, used or expired. Without it, JSON only.
   */
  sharePage?: ShareLinkPage;
}

/** Renders the page of a share link (`link` undefined: unknown, used or expired). */
export type ShareLinkPage = (
  request: FastifyRequest,
  reply: FastifyReply,
  slug: string,
  token: string,
  link: { field: 'password' | 'totpSeed'; expiresAt: Date } | undefined,
) => Promise<string>;

/** Whether the client asks for a page (a browser's Accept names text/html; API clients do not). */
function prefersHtml(request: FastifyRequest): boolean {
  return /\btext\/html\b/i.test(request.headers.accept ?? '');
}

/** The portal account of a request: its tenant and subject (the requests module's session). */
export type PortalAuthenticator = (
  request: FastifyRequest<{ Params: { slug: string } }>,
  write: boolean,
) => Promise<{ tenant: { tenantId: number }; subjectId: number }>;

/** The technical dossier and credentials vault (VX-4), under /api/v1/; share links under /t/<slug>/. */
export function registerDossierRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  options: DossierRouteOptions = { publicUrl: 'http://localhost:3000' },
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);
  const shareLimits = options.shareLimits ?? DEFAULT_SHARE_LIMITS;
  const customer = z.object({ subjectId: id });

  typed.get(
    '/api/v1/customers/:subjectId/dossier',
    {
      onRequest,
      schema: {
        summary:
          'A customer’s technical dossier: assets, network facts, licences, credentials (secrets masked)',
        tags: TAGS,
        operationId: 'getDossier',
        params: customer,
        response: { 200: dossierSchema },
      },
    },
    async (request, reply) => {
      noStore(reply);
      return presentDossier(
        await getDossier(kernel, await contextOf(kernel, request), request.params.subjectId),
      );
    },
  );
  for (const kind of ITEM_KINDS) {
    const route = ITEM_ROUTES[kind];
    typed.post(
      `/api/v1/customers/:subjectId/dossier/${route.segment}`,
      {
        onRequest,
        schema: {
          summary: route.createSummary,
          tags: TAGS,
          operationId: `createDossier${route.name}`,
          params: customer,
          body: ITEM_INPUT[kind],
          response: { 201: ITEM_SCHEMAS[kind] },
        },
      },
      async (request, reply) => {
        const item = await createItem(
          kernel,
          await contextOf(kernel, request),
          kind,
          request.params.subjectId,
          request.body,
        );
        return reply.status(201).send(presentItem(item));
      },
    );
    const itemPath = `/api/v1/dossier/${route.segment}/:${route.idParam}`;
    const itemParams = z.object({ [route.idParam]: id });
    const itemIdOf = (params: Record<string, number>): number => params[route.idParam] ?? 0;
    typed.patch(
      itemPath,
      {
        onRequest,
        schema: {
          summary: `Change ${route.article} (fields left out keep their value, null clears one); audited`,
          tags: TAGS,
          operationId: `updateDossier${route.name}`,
          params: itemParams,
          body: ITEM_PATCH[kind],
          response: { 200: ITEM_SCHEMAS[kind] },
        },
      },
      async (request) => {
        const item = await updateItem(
          kernel,
          await contextOf(kernel, request),
          kind,
          itemIdOf(request.params),
          request.body,
        );
        return presentItem(item);
      },
    );
    typed.delete(
      itemPath,
      {
        onRequest,
        schema: {
          summary: `Delete ${route.article}; audited`,
          tags: TAGS,
          operationId: `deleteDossier${route.name}`,
          params: itemParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await deleteItem(kernel, await contextOf(kernel, request), kind, itemIdOf(request.params));
        return reply.status(204).send(null);
      },
    );
  }
  registerAttachmentRoutes(app, kernel, customer);
  acceptCsvBodies(app);
  typed.post(
    '/api/v1/customers/:subjectId/dossier/import',
    {
      onRequest,
      schema: {
        summary:
          'Import an export of ITFlow, Hudu or IT Glue (text/csv: credentials, assets or licences) into the customer’s dossier: every row or none',
        tags: TAGS,
        operationId: 'importDossierItems',
        params: customer,
        querystring: z
          .object({ format: z.enum(IMPORT_FORMATS), kind: z.enum(IMPORT_KINDS).default('credentials') })
          .strict(),
        body: z.string().max(5_000_000),
        response: { 200: z.object({ imported: z.number().int() }) },
      },
    },
    async (request) =>
      importItems(
        kernel,
        await contextOf(kernel, request),
        request.params.subjectId,
        request.query,
        request.body,
      ),
  );
  typed.post(
    '/api/v1/customers/:subjectId/dossier/export',
    {
      onRequest,
      schema: {
        summary:
          'Export credentials, assets or licences as CSV in the import layout of ITFlow, Hudu or IT Glue, or the list of attachments (name, type, size, secret; no content); secrets only with withSecrets under the reveal rule (reason, fresh second factor); audited',
        tags: TAGS,
        operationId: 'exportDossierItems',
        params: customer,
        body: exportInputSchema,
        response: { 200: z.string() },
      },
    },
    async (request, reply) => {
      noStore(reply);
      const csv = await exportItems(
        kernel,
        await contextOf(kernel, request),
        request.params.subjectId,
        request.body,
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="dossier-${request.params.subjectId}-${request.body.kind}-${request.body.format}.csv"`,
        )
        .send(csv);
    },
  );
  typed.get(
    '/api/v1/dossier/assets',
    {
      onRequest,
      schema: {
        summary: 'Find assets by exact hostname or serial number, across customers',
        tags: TAGS,
        operationId: 'searchDossierAssets',
        querystring: z
          .object({
            hostname: z.string().min(1).max(253).optional(),
            serial: z.string().min(1).max(100).optional(),
          })
          .strict(),
        response: {
          200: z.object({
            items: z.array(assetSchema),
            unreadable: z
              .number()
              .int()
              .describe(
                'assets found whose details cannot be opened with this installation’s key store (field_unreadable: key store and data of different backups?); left out of items and logged for the operator',
              ),
          }),
        },
      },
    },
    async (request, reply) => {
      noStore(reply);
      const context = await contextOf(kernel, request);
      const found = await searchAssets(kernel, context, request.query);
      logUnreadable(request, context.tenantId, found.unreadable);
      return { items: found.items.map((item) => presentItem(item)), unreadable: found.unreadable.length };
    },
  );
  typed.post(
    '/api/v1/dossier/credentials/:credentialId/reveal',
    {
      onRequest,
      schema: {
        summary:
          'Reveal a password or TOTP seed: technician only, with a typed reason and a second factor from the last 5 minutes; audited',
        tags: TAGS,
        operationId: 'revealDossierSecret',
        params: z.object({ credentialId: id }),
        body: revealInputSchema,
        response: { 200: z.object({ field: z.enum(['password', 'totpSeed']), value: z.string() }) },
      },
    },
    async (request, reply) => {
      noStore(reply);
      return revealSecret(
        kernel,
        await contextOf(kernel, request),
        request.params.credentialId,
        request.body,
      );
    },
  );
  typed.post(
    '/api/v1/dossier/credentials/:credentialId/totp-code',
    {
      onRequest,
      schema: {
        summary: 'The current TOTP code of a credential, without its seed; same rule and audit as a reveal',
        tags: TAGS,
        operationId: 'showDossierTotpCode',
        params: z.object({ credentialId: id }),
        body: totpCodeInputSchema,
        response: { 200: z.object({ code: z.string(), validForSeconds: z.number().int() }) },
      },
    },
    async (request, reply) => {
      noStore(reply);
      return showTotpCode(
        kernel,
        await contextOf(kernel, request),
        request.params.credentialId,
        request.body,
      );
    },
  );

  typed.post(
    '/api/v1/dossier/credentials/:credentialId/share',
    {
      onRequest,
      schema: {
        summary:
          'A one-time link to one secret (expiring, single view), for a customer’s employee; same rule as a reveal; audited',
        tags: TAGS,
        operationId: 'createDossierShareLink',
        params: z.object({ credentialId: id }),
        body: createShareInputSchema,
        response: {
          201: z.object({ url: z.string(), field: z.enum(['password', 'totpSeed']), expiresAt: z.string() }),
        },
      },
    },
    async (request, reply) => {
      noStore(reply);
      const staff = staffOf(request);
      await assertDossierKept(kernel, staff.tenantId);
      await countShareCreation(kernel, shareLimits, staff.tenantId, staff.staffId);
      const link = await createShareLink(
        kernel,
        await contextOf(kernel, request),
        request.params.credentialId,
        request.body,
      );
      return reply.status(201).send({
        url: `${options.publicUrl}/t/${staff.tenantSlug}/dossier/shares/${link.token}`,
        field: link.field,
        expiresAt: link.expiresAt.toISOString(),
      });
    },
  );

  const shareParams = z.object({ slug: z.string().min(1).max(63), token: z.string().min(1).max(100) });
  const doorCall = (request: FastifyRequest<{ Params: { slug: string; token: string } }>): ShareDoorCall => ({
    slug: request.params.slug,
    token: request.params.token,
    address: request.ip,
    limits: shareLimits,
  });
  typed.get(
    '/t/:slug/dossier/shares/:token',
    {
      schema: {
        summary:
          'The one-time link as handed out: a browser (Accept: text/html) gets a page in its language with one button that opens it; JSON clients get what it gives (not the secret). A GET never opens it, so link scanners do not use it up',
        tags: TAGS,
        operationId: 'describeDossierShareLink',
        params: shareParams,
        response: {
          200: z.union([
            z.object({ field: z.enum(['password', 'totpSeed']), expiresAt: z.string() }),
            z.string(),
          ]),
          404: z.unknown(),
        },
      },
    },
    async (request, reply) => {
      noStore(reply);
      const page = options.sharePage && prefersHtml(request) ? options.sharePage : undefined;
      if (!page) {
        const link = await lookAtShareLink(kernel, doorCall(request));
        return { field: link.field, expiresAt: link.expiresAt.toISOString() };
      }
      void reply.header('vary', 'accept').header('referrer-policy', 'no-referrer');
      let link: { field: 'password' | 'totpSeed'; expiresAt: Date } | undefined;
      try {
        link = await lookAtShareLink(kernel, doorCall(request));
      } catch (error) {
        // An unknown, used or expired link: the page says so (other refusals answer as usual).
        if (!isAppError(error) || error.code !== 'not_found') throw error;
      }
      const html = await page(request, reply, request.params.slug, request.params.token, link);
      return reply
        .status(link ? 200 : 404)
        .type('text/html; charset=utf-8')
        .send(html);
    },
  );
  typed.post(
    '/t/:slug/dossier/shares/:token/open',
    {
      schema: {
        summary: 'Open a one-time link (JSON): the secret, once, before it expires; audited',
        tags: TAGS,
        operationId: 'openDossierShareLink',
        params: shareParams,
        response: { 200: z.object({ field: z.enum(['password', 'totpSeed']), value: z.string() }) },
      },
    },
    async (request, reply) => {
      noStore(reply);
      return openShareLinkAtDoor(kernel, doorCall(request));
    },
  );

  if (options.portalSession) registerOwnDossierRoutes(app, kernel, options.portalSession);
}

/**
 * The customer's own dossier in the privacy portal (issue 17): masked, and their own secrets
 * revealed after logging in to the portal account, audited in their name. JSON for the portal's
 * pages; writes need the account's CSRF token.
 */
function registerOwnDossierRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  portalSession: PortalAuthenticator,
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const slug = z.string().regex(/^[a-z][a-z0-9-]{1,62}$/);
  const tags = ['privacy portal'];
  const own = async (request: FastifyRequest<{ Params: { slug: string } }>, write: boolean) => {
    const session = await portalSession(request, write);
    return { tenantId: session.tenant.tenantId, subjectId: session.subjectId };
  };
  typed.get(
    '/t/:slug/account/dossier',
    {
      schema: {
        summary: 'My technical dossier (assets, network facts, licences, credentials), secrets masked',
        tags,
        operationId: 'getOwnDossier',
        params: z.object({ slug }),
        response: { 200: dossierSchema },
      },
    },
    async (request, reply) => {
      noStore(reply);
      return presentDossier(await getOwnDossier(kernel, await own(request, false)));
    },
  );
  typed.post(
    '/t/:slug/account/dossier/credentials/:credentialId/reveal',
    {
      schema: {
        summary: 'Reveal one of my own passwords or TOTP seeds (signed in to the portal account); audited',
        tags,
        operationId: 'revealOwnDossierSecret',
        params: z.object({ slug, credentialId: id }),
        body: ownRevealInputSchema,
        response: { 200: z.object({ field: z.enum(['password', 'totpSeed']), value: z.string() }) },
      },
    },
    async (request, reply) => {
      noStore(reply);
      return revealOwnSecret(kernel, await own(request, true), request.params.credentialId, request.body);
    },
  );
  typed.post(
    '/t/:slug/account/dossier/attachments/:attachmentId/content',
    {
      schema: {
        summary:
          'Download one of my own attachments, a secret one too (signed in to the portal account, CSRF token); audited',
        tags,
        operationId: 'downloadOwnDossierAttachment',
        params: z.object({ slug, attachmentId: id }),
      },
    },
    async (request, reply) =>
      sendFile(
        reply,
        await downloadOwnAttachment(kernel, await own(request, true), request.params.attachmentId),
      ),
  );
}

/** A file leaves as a download: never sniffed, never cached, never shown inline. */
export function sendFile(reply: FastifyReply, file: AttachmentFile): FastifyReply {
  const ascii = file.fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return reply
    .header('content-type', file.contentType)
    .header(
      'content-disposition',
      `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.fileName)}`,
    )
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .send(file.content);
}

/** Small attachments of the dossier (issue 17): upload, list, download, secret reveal, delete. */
function registerAttachmentRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  customer: z.ZodObject<{ subjectId: typeof id }>,
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);
  const attachment = z.object({ attachmentId: id });
  typed.post(
    '/api/v1/customers/:subjectId/dossier/attachments',
    {
      onRequest,
      // Base64 of at most 1 MiB, in JSON.
      bodyLimit: 2 * 1024 * 1024,
      schema: {
        summary: `Add a small attachment (Base64, at most 1 MiB; ${ATTACHMENT_TYPES.join(', ')}), optionally secret; audited`,
        tags: TAGS,
        operationId: 'addDossierAttachment',
        params: customer,
        body: attachmentInputSchema,
        response: { 201: attachmentSchema },
      },
    },
    async (request, reply) => {
      const record = await addAttachment(
        kernel,
        await contextOf(kernel, request),
        request.params.subjectId,
        request.body,
      );
      return reply.status(201).send(presentAttachment(record));
    },
  );
  typed.get(
    '/api/v1/customers/:subjectId/dossier/attachments',
    {
      onRequest,
      schema: {
        summary: 'A customer’s dossier attachments (names, types, sizes; no content)',
        tags: TAGS,
        operationId: 'listDossierAttachments',
        params: customer,
        response: { 200: z.object({ items: z.array(attachmentSchema) }) },
      },
    },
    async (request, reply) => {
      noStore(reply);
      const items = await listAttachments(kernel, await contextOf(kernel, request), request.params.subjectId);
      return { items: items.map(presentAttachment) };
    },
  );
  typed.get(
    '/api/v1/dossier/attachments/:attachmentId/content',
    {
      onRequest,
      schema: {
        summary: 'Download an attachment that is not secret; audited',
        tags: TAGS,
        operationId: 'downloadDossierAttachment',
        params: attachment,
      },
    },
    async (request, reply) =>
      sendFile(
        reply,
        await downloadAttachment(kernel, await contextOf(kernel, request), request.params.attachmentId),
      ),
  );
  typed.post(
    '/api/v1/dossier/attachments/:attachmentId/reveal',
    {
      onRequest,
      schema: {
        summary:
          'Reveal a secret attachment: technician, typed reason, second factor from the last 5 minutes; audited',
        tags: TAGS,
        operationId: 'revealDossierAttachment',
        params: attachment,
        body: totpCodeInputSchema,
      },
    },
    async (request, reply) =>
      sendFile(
        reply,
        await revealAttachment(
          kernel,
          await contextOf(kernel, request),
          request.params.attachmentId,
          request.body,
        ),
      ),
  );
  typed.delete(
    '/api/v1/dossier/attachments/:attachmentId',
    {
      onRequest,
      schema: {
        summary: 'Delete an attachment; audited',
        tags: TAGS,
        operationId: 'deleteDossierAttachment',
        params: attachment,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await deleteAttachment(kernel, await contextOf(kernel, request), request.params.attachmentId);
      return reply.status(204).send(null);
    },
  );
}
