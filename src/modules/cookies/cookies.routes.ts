import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff, staffOf } from '../../http/auth.js';
import type { Kernel } from '../../kernel/kernel.js';
import { LANGUAGES } from '../../kernel/policy/index.js';
import { AppError } from '../../platform/errors.js';
import { assertFormToken, formToken, loadFrame } from '../portal/index.js';
import { countAttempt, throttledError, type Limit } from '../throttle/index.js';
import { BANNER_CSS, renderBannerScript } from './banner.script.js';
import { BANNER_VERSION } from './banner.texts.js';
import { CONSENT_COOKIE } from '../../kernel/policy/index.js';
import {
  askedCategories,
  assertBannerOffered,
  CONSENT_CATEGORIES,
  cookieSectionVersion,
} from './cookie-policy.js';
import { consentIdOfCookie, consentKeyOfCookie } from './consent-link.service.js';
import {
  CONSENT_ID,
  consentRates,
  holdingChoice,
  listReceipts,
  policyVersionsOf,
  receiptInputSchema,
  recordChoice,
  type Receipt,
} from './receipt.service.js';
import { renderSettingsPage } from './settings.page.js';
import { recordVisit, visitInputSchema, visitStatistics } from './visit.service.js';

export interface CookiesRouteOptions {
  /** Kluis's public base URL, when configured; otherwise the origin the request came to. */
  publicUrl?: string;
  /** Limits of the public endpoints (tests set small ones). */
  limits?: CookieLimits;
  /** Cookies set by the settings page carry `Secure` (production behind https). */
  secureCookies?: boolean;
}

export interface CookieLimits {
  receiptsByAddress: Limit;
  visitsByAddress: Limit;
}

const MINUTE = 60_000;
export const DEFAULT_COOKIE_LIMITS: CookieLimits = {
  receiptsByAddress: { bucket: 'cookie-receipts.address', mode: 'block', max: 60, windowMs: 10 * MINUTE },
  visitsByAddress: { bucket: 'website-visits.address', mode: 'block', max: 600, windowMs: 10 * MINUTE },
};

/** Staff who may show an authority a receipt and read the rates and statistics (docs/decisions/0140). */
export const RECORD_ROLES: ReadonlySet<string> = new Set(['admin', 'privacy_officer']);
/** The date GPC support was published (the field of /.well-known/gpc.json). */
const GPC_SINCE = '2026-11-29';

const slugParams = z.object({ slug: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/) });
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const rangeQuery = z
  .object({ from: day, to: day })
  .refine((range) => range.from <= range.to, { message: 'from must not be after to', path: ['from'] })
  .refine((range) => Date.parse(range.to) - Date.parse(range.from) <= 366 * 86_400_000, {
    message: 'at most 366 days',
    path: ['to'],
  });

const receiptSchema = z.object({
  receiptId: z.string(),
  consentId: z.string(),
  categories: z.array(z.enum(CONSENT_CATEGORIES as ['analytical', 'tracking'])),
  policyVersion: z.string(),
  bannerVersion: z.string(),
  language: z.enum(LANGUAGES),
  source: z.enum(['banner', 'settings', 'gpc']),
  gpc: z.boolean(),
  givenAt: z.string(),
  expiresAt: z.string(),
  /** Only when the choice made a new consent id: its secret, kept next to the id (decision 0410). */
  consentKey: z.string().optional(),
});

function presentReceipt(receipt: Receipt): z.infer<typeof receiptSchema> {
  return {
    receiptId: receipt.receiptId,
    consentId: receipt.consentId,
    categories: receipt.categories,
    policyVersion: receipt.policyVersion,
    bannerVersion: receipt.bannerVersion,
    language: receipt.language,
    source: receipt.source,
    gpc: receipt.gpc,
    givenAt: receipt.givenAt.toISOString(),
    expiresAt: receipt.expiresAt.toISOString(),
    ...(receipt.consentKey === undefined ? {} : { consentKey: receipt.consentKey }),
  };
}

/** The banner runs on the provider's site: its resources and endpoints answer any origin, without credentials. */
function crossOrigin(reply: FastifyReply): FastifyReply {
  return reply
    .header('access-control-allow-origin', '*')
    .header('cross-origin-resource-policy', 'cross-origin')
    .header('vary', 'origin');
}

function sentGpc(request: FastifyRequest): boolean {
  return request.headers['sec-gpc'] === '1';
}

function staffTenant(request: FastifyRequest): number {
  const staff = staffOf(request);
  if (!RECORD_ROLES.has(staff.role))
    throw new AppError('forbidden', 'role may not read cookie records', {
      publicMessage:
        'only admins and privacy officers may read cookie consent records and website statistics',
    });
  return staff.tenantId;
}

/** Form fields as the settings page posts them (application/x-www-form-urlencoded). */
function parseForm(body: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (key === 'categories')
      fields.categories = [...((fields.categories as string[] | undefined) ?? []), value];
    else if (!(key in fields)) fields[key] = value;
  }
  return fields;
}

export function registerCookiesRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  options: CookiesRouteOptions = {},
): void {
  const limits = options.limits ?? DEFAULT_COOKIE_LIMITS;
  const tenantBase = (request: FastifyRequest, slug: string): string =>
    `${options.publicUrl ?? `${request.protocol}://${request.host}`}/t/${slug}`;
  const limit = async (tenantId: number, which: Limit, request: FastifyRequest): Promise<void> => {
    const verdict = await countAttempt(kernel, tenantId, [{ limit: which, value: request.ip }]);
    if (!verdict.allowed) throw throttledError(verdict);
  };

  // The public endpoints the banner posts to take their JSON as text/plain, so a browser sends them
  // without a CORS preflight; the settings page posts an ordinary form. Both parsers are local.
  void app.register((scope, _options, done) => {
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser(
      'text/plain',
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, body, done) => {
        try {
          done(null, JSON.parse(String(body)) as unknown);
        } catch {
          done(
            new AppError('validation_failed', 'body is not JSON', { publicMessage: 'the body must be JSON' }),
          );
        }
      },
    );
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, body, done) => done(null, parseForm(String(body))),
    );
    const typed = scope.withTypeProvider<ZodTypeProvider>();

    typed.get(
      '/t/:slug/consent.js',
      {
        schema: {
          summary: 'The cookie banner script the provider embeds on its website (one async script tag)',
          tags: ['cookies'],
          params: slugParams,
          response: { 200: z.string() },
        },
      },
      async (request, reply) => {
        const tenant = await kernel.tenants.bySlug(request.params.slug);
        const { policy } = await kernel.policies.current(tenant.tenantId);
        assertBannerOffered(policy);
        return crossOrigin(reply)
          .type('text/javascript; charset=utf-8')
          .header('cache-control', 'public, max-age=300')
          .send(renderBannerScript(policy, { tenantBase: tenantBase(request, tenant.slug) }));
      },
    );
    typed.get(
      '/t/:slug/consent.css',
      {
        schema: {
          summary: 'The cookie banner’s stylesheet',
          tags: ['cookies'],
          params: slugParams,
          response: { 200: z.string() },
        },
      },
      async (request, reply) => {
        await kernel.tenants.bySlug(request.params.slug);
        return crossOrigin(reply)
          .type('text/css; charset=utf-8')
          .header('cache-control', 'public, max-age=3600')
          .send(BANNER_CSS);
      },
    );
    typed.post(
      '/t/:slug/consent/receipts',
      {
        schema: {
          summary: 'Record a visitor’s cookie choice; answers the receipt (consent id, versions, expiry)',
          description:
            'Called by the banner from the provider’s site (JSON sent as text/plain, no credentials). ' +
            'A browser sending `Sec-GPC: 1` is recorded with GPC; source `gpc` records a refusal.',
          tags: ['cookies'],
          params: slugParams,
          body: receiptInputSchema,
          response: { 201: receiptSchema },
        },
      },
      async (request, reply) => {
        crossOrigin(reply);
        const tenant = await kernel.tenants.bySlug(request.params.slug);
        await limit(tenant.tenantId, limits.receiptsByAddress, request);
        const receipt = await recordChoice(kernel, tenant.tenantId, request.body, {
          gpcHeader: sentGpc(request),
        });
        return reply.status(201).header('cache-control', 'no-store').send(presentReceipt(receipt));
      },
    );
    typed.post(
      '/t/:slug/visits',
      {
        schema: {
          summary:
            'Record a page view in the visit log (VK-3); answers the choice holding for the consent id. With Sec-GPC: 1, an acceptance made without GPC is withdrawn first (a gpc refusal recorded and answered; the visit not counted, decision 0860)',
          tags: ['cookies'],
          params: slugParams,
          body: visitInputSchema,
          response: { 200: z.object({ recorded: z.boolean(), consent: receiptSchema.nullable() }) },
        },
      },
      async (request, reply) => {
        crossOrigin(reply);
        const tenant = await kernel.tenants.bySlug(request.params.slug);
        await limit(tenant.tenantId, limits.visitsByAddress, request);
        const outcome = await recordVisit(kernel, tenant.tenantId, request.body, {
          address: request.ip,
          userAgent: request.headers['user-agent'],
          gpc: sentGpc(request),
        });
        return reply.header('cache-control', 'no-store').send({
          recorded: outcome.recorded,
          consent: outcome.consent ? presentReceipt(outcome.consent) : null,
        });
      },
    );

    const settingsQuery = z.object({
      lang: z.enum(LANGUAGES).optional(),
      consent: z.string().regex(CONSENT_ID).optional(),
      saved: z.literal('1').optional(),
    });
    typed.get(
      '/t/:slug/cookies',
      {
        schema: {
          summary: 'The cookie-settings page: the choice of a consent id, a form to change it, every cookie',
          tags: ['cookies'],
          params: slugParams,
          querystring: settingsQuery,
          response: { 200: z.string() },
        },
      },
      async (request, reply) => {
        const tenant = await kernel.tenants.bySlug(request.params.slug);
        const { policy } = await kernel.policies.current(tenant.tenantId);
        assertBannerOffered(policy);
        const frame = await loadFrame(kernel, request, reply, tenant.slug, {
          secureCookies: options.secureCookies ?? false,
        });
        // The id in the link, else the one this page remembered (a choice made here earlier).
        const held = consentIdOfCookie(request.cookies[CONSENT_COOKIE]);
        const consentId = request.query.consent ?? held;
        // Another browser's id (from a link) is shown, and may be refused, but not changed here: only
        // the holder of its secret changes it (decision 0410).
        const foreign =
          consentId !== undefined &&
          (consentId !== held || consentKeyOfCookie(request.cookies[CONSENT_COOKIE]) === undefined);
        const receipts = consentId ? await listReceipts(kernel, tenant.tenantId, consentId) : [];
        const csrf = formToken(request, reply, frame.base, options.secureCookies ?? false);
        const page = renderSettingsPage({
          frame,
          csrf,
          tenantBase: tenantBase(request, tenant.slug),
          // An id nobody chose under is not shown back as if it were the visitor's.
          consentId: receipts.length > 0 ? consentId : undefined,
          receipts,
          holding: holdingChoice(receipts, policy, kernel.clock.now()),
          gpc: sentGpc(request),
          saved: request.query.saved === '1',
          readOnly: foreign && receipts.length > 0,
        });
        return reply
          .type('text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('referrer-policy', 'no-referrer')
          .send(page);
      },
    );
    typed.post(
      '/t/:slug/cookies',
      {
        schema: {
          summary: 'Change a cookie choice from the settings page (a form post; answers 303 to the page)',
          tags: ['cookies'],
          params: slugParams,
          body: z
            .object({
              lang: z.enum(LANGUAGES),
              csrf: z.string().max(200).optional(),
              consent: z.string().regex(CONSENT_ID).optional(),
              action: z.enum(['accept', 'refuse', 'save']),
              categories: z
                .array(z.enum(CONSENT_CATEGORIES as ['analytical', 'tracking']))
                .max(2)
                .default([]),
            })
            .meta({
              example: {
                lang: 'nl',
                csrf: 'the token of the page the form came from',
                consent: 'q3Xb8RkTn2VwYzL5mPa7Cw',
                action: 'save',
                categories: ['analytical'],
              },
            }),
          response: { 303: z.null() },
        },
      },
      async (request, reply) => {
        const tenant = await kernel.tenants.bySlug(request.params.slug);
        await limit(tenant.tenantId, limits.receiptsByAddress, request);
        // Only the settings page's own form (its token, never a cross-site post) changes a choice:
        // otherwise another site could plant its consent id in the visitor's cookie (fixation).
        assertFormToken(request, request.body.csrf);
        const { policy } = await kernel.policies.current(tenant.tenantId);
        assertBannerOffered(policy);
        const body = request.body;
        // The browser's cookie only ever holds an id it already held or a new one: a consent id from
        // the form that the cookie does not hold (the page opened from a link naming it) gets the
        // choice recorded under it, but is never adopted into this browser's cookie.
        const held = consentIdOfCookie(request.cookies[CONSENT_COOKIE]);
        const adopt = body.consent === undefined || body.consent === held;
        // The proof that this browser holds the id (its secret in the same cookie), decision 0410.
        const heldKey =
          body.consent !== undefined && adopt
            ? consentKeyOfCookie(request.cookies[CONSENT_COOKIE])
            : undefined;
        const asked = askedCategories(policy);
        const categories =
          body.action === 'accept'
            ? asked
            : body.action === 'refuse'
              ? []
              : body.categories.filter((category) => asked.includes(category));
        const receipt = await recordChoice(
          kernel,
          tenant.tenantId,
          {
            ...(body.consent ? { consentId: body.consent } : {}),
            ...(heldKey ? { consentKey: heldKey } : {}),
            categories,
            policyVersion: cookieSectionVersion(policy),
            bannerVersion: BANNER_VERSION,
            language: body.lang,
            source: 'settings',
            gpc: false,
          },
          { gpcHeader: sentGpc(request) },
        );
        // Remembered for the tenant's pages on Kluis's site, in the banner's format, so a login to
        // the privacy portal from this browser links the choice to the person (decision 0290).
        const expires = Math.floor(receipt.expiresAt.getTime() / 1000);
        // A new id's secret, or the held one's kept: the cookie keeps it next to the id.
        const cookieKey = receipt.consentKey ?? (receipt.consentId === body.consent ? heldKey : undefined);
        if (adopt || receipt.consentId !== body.consent)
          void reply.setCookie(
            CONSENT_COOKIE,
            [
              receipt.consentId,
              receipt.policyVersion,
              receipt.categories.join('+') || '-',
              expires,
              ...(cookieKey === undefined ? [] : [cookieKey]),
            ].join('.'),
            {
              path: `/t/${tenant.slug}/`,
              httpOnly: true,
              sameSite: 'lax',
              secure: options.secureCookies ?? false,
              maxAge: Math.max(0, expires - Math.floor(kernel.clock.now().getTime() / 1000)),
            },
          );
        return reply
          .status(303)
          .header(
            'location',
            `${tenantBase(request, tenant.slug)}/cookies?lang=${body.lang}&consent=${receipt.consentId}&saved=1`,
          )
          .send(null);
      },
    );
    done();
  });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/.well-known/gpc.json',
    {
      schema: {
        summary: 'Global Privacy Control support (the banner and receipts honour Sec-GPC)',
        tags: ['cookies'],
        response: { 200: z.object({ gpc: z.literal(true), lastUpdate: z.string() }) },
      },
    },
    async (_request, reply) =>
      crossOrigin(reply)
        .header('cache-control', 'public, max-age=86400')
        .send({ gpc: true, lastUpdate: GPC_SINCE }),
  );

  typed.get(
    '/api/v1/cookies/consents/:consentId',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary:
          'Every receipt of a consent id and the cookie policy versions they were given under (for an authority)',
        tags: ['cookies'],
        params: z.object({ consentId: z.string().regex(CONSENT_ID) }),
        response: {
          200: z.object({
            consentId: z.string(),
            receipts: z.array(receiptSchema),
            policyVersions: z.array(
              z.object({ version: z.string(), firstUsedAt: z.string(), cookies: z.unknown() }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const tenantId = staffTenant(request);
      const receipts = await listReceipts(kernel, tenantId, request.params.consentId);
      if (receipts.length === 0) throw new AppError('not_found', 'no receipts for this consent id');
      const versions = await policyVersionsOf(
        kernel,
        tenantId,
        receipts.map((receipt) => receipt.policyVersion),
      );
      return {
        consentId: request.params.consentId,
        receipts: receipts.map(presentReceipt),
        policyVersions: versions.map((version) => ({
          version: version.version,
          firstUsedAt: version.firstUsedAt.toISOString(),
          cookies: version.cookies,
        })),
      };
    },
  );
  typed.get(
    '/api/v1/cookies/consent-rates',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary: 'Consent rates per cookie category over the newest choice of each consent id in a period',
        tags: ['cookies'],
        querystring: rangeQuery,
        response: {
          200: z.object({
            from: z.string(),
            to: z.string(),
            choices: z.number().int(),
            withGpc: z.number().int(),
            categories: z.array(
              z.object({ category: z.string(), granted: z.number().int(), rate: z.number() }),
            ),
          }),
        },
      },
    },
    async (request) => consentRates(kernel, staffTenant(request), request.query),
  );
  typed.get(
    '/api/v1/cookies/statistics',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary:
          'Website visits per page and day, from visitors who consented to analytical cookies only (VK-3)',
        tags: ['cookies'],
        querystring: rangeQuery,
        response: {
          200: z.object({
            from: z.string(),
            to: z.string(),
            days: z.array(z.object({ day: z.string(), page: z.string(), visits: z.number().int() })),
            countries: z.array(z.object({ country: z.string(), visits: z.number().int() })),
          }),
        },
      },
    },
    async (request) => visitStatistics(kernel, staffTenant(request), request.query),
  );
}
