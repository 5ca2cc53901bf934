import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import helmet from 'helmet';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pingDatabase, type DatabaseProbe } from '../platform/db.js';
import type { DatabaseRecovery } from '../platform/database-watchdog.js';
import { kernelCore, type Kernel } from '../kernel/kernel.js';
import type { Logger } from '../platform/logger.js';
import { linkNextPage } from './pagination.js';
import { runHandlerAsRequest, runHeadWithoutPersonalData, stopStreamOfHead } from './head.js';
import { describeRoute, SECURITY_SCHEMES } from './openapi.js';
import { endConnectionsWithoutRequests, REQUEST_RECEIVE_TIMEOUT_MS } from './connections.js';
import { defaultConnectionLimits, limitConnections, type ConnectionLimits } from './connection-limits.js';
import { limitBodyArrival } from './body-arrival.js';
import { describeProblemType, handleError, sendProblem, writeClientErrorProblem } from './error-handler.js';
import { AppError } from '../platform/errors.js';
import os from 'node:os';
import path from 'node:path';
import { createMailer, type Mailer } from '../platform/mailer.js';
import { DATA_MAP } from '../modules/data-map.js';
import { ENFORCED_PROMISES } from '../modules/enforcement.js';
import { registerRequestsRoutes } from '../modules/requests/requests.routes.js';
import { portalSessionOf, registerAccountRoutes } from '../modules/requests/account.routes.js';
import {
  registerConsentRoutes,
  registerMailingRoutes,
  registerNewsletterPublicRoutes,
  selectSubscribersOfType,
} from '../modules/consent/index.js';
import {
  followUpErasure,
  type AnswerQuanta,
  type ExportPace,
  type PortalSignIn,
  type PublicDoorLimits,
  type TransferSettings,
} from '../modules/requests/index.js';
import { registerAuthRoutes } from '../modules/staff/auth.routes.js';
import { registerStaffRoutes } from '../modules/staff/staff.routes.js';
import { registerMeRoutes } from '../modules/staff/me.routes.js';
import { registerPolicyRoutes } from '../kernel/tenant-policy/tenant-policy.routes.js';
import { registerAuditRoutes } from '../kernel/audit/audit.routes.js';
import { registerDisclosureRoutes } from '../kernel/disclosure/disclosure.routes.js';
import { registerPartiesRoutes } from '../modules/parties/parties.routes.js';
import { registerContractRoutes } from '../modules/contracts/index.js';
import { registerBillingRoutes } from '../modules/billing/index.js';
import { registerTelephonyRoutes, type CdrUploadSettings } from '../modules/telephony/index.js';
import { registerRetentionRoutes } from '../modules/retention/index.js';
import { registerDossierRoutes } from '../modules/dossier/index.js';
import { registerWebApp } from './web.js';
import { refuseIllFormedText } from './well-formed-text.js';
import { registerIncidentRoutes, registerRecipientsRoutes } from '../modules/recipients/index.js';
import {
  linkConsentAtSignIn,
  readOwnCookieChoices,
  registerCookiesRoutes,
  type CookieLimits,
} from '../modules/cookies/index.js';
import { dossierSharePage, registerPortalRoutes, statementPage } from '../modules/portal/index.js';
import type { DomainEventSubscribers } from '../modules/contracts/index.js';

export interface HttpDependencies {
  kernel: Kernel;
  /** What is done about a database that went away (the server's watchdog); /health says it. */
  databaseRecovery?: () => DatabaseRecovery;
  /** /health's own connection (the server's), so a busy pool is not read as a dead database (A14). */
  databaseProbe?: DatabaseProbe;
  /** Mark cookies Secure (when served over HTTPS, i.e. KLUIS_PUBLIC_URL is https). */
  secureCookies?: boolean;
  logger: Logger;
  version: string;
  /** Outgoing mail (verification codes, answers); without it mail goes to an outbox folder in tmp. */
  mailer?: Mailer;
  /** Base URL used in links that Kluis mails. */
  publicUrl?: string;
  /** Portability pushed to another organisation's endpoint: allow-list and extra CA. */
  transfer?: TransferSettings;
  /** Proxies whose X-Forwarded-For gives the client address (KLUIS_TRUST_PROXY); default none. */
  trustProxy?: boolean | number | string;
  /** Limits of the public rights doors (tests set small ones); the defaults otherwise. */
  publicLimits?: PublicDoorLimits;
  /** Limits of the cookie banner's receipts and the visit log (tests set small ones). */
  cookieLimits?: CookieLimits;
  /** Readiness: false while the first-run setup is still running (/health answers "starting"). */
  isReady?: () => boolean;
  /** How long the form, link and login doors hold their answers; the defaults otherwise. */
  answerQuanta?: AnswerQuanta;
  /** How many exports may hold a connection at once, and when a stalled one ends (decision 0531). */
  exportPace?: ExportPace;
  /** Asks the job queue to send queued mailings now (the server; otherwise the next tick). */
  wakeMailingSender?: () => Promise<void>;
  /** Asks the job queue to send the letter outbox now (decision 0190); else sent in-process. */
  wakeLetterSender?: () => Promise<void>;
  /** Subscribers of the domain events, handed each change's events at once (VX-7 dossier erasure). */
  events?: DomainEventSubscribers;
  /** Where uploaded call-record files wait for their import job, and how large one may be (decision 0360). */
  cdrUploads?: CdrUploadSettings;
  /** Folder of the built staff back office (main.ts: dist/web); without it, or unbuilt, not served. */
  webRoot?: string;
  /** What one client may hold of the server (decision 0817); the defaults otherwise (tests set small ones). */
  connectionLimits?: ConnectionLimits;
}

export type App = FastifyInstance;

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** A hop count becomes the function Fastify's types expect (the proxies closest to us are trusted). */
function trustProxyOption(
  value: boolean | number | string | undefined,
): boolean | string | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return value ?? false;
}

export async function buildApp(deps: HttpDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    // Typed as Fastify's base logger so the app is a plain FastifyInstance that route modules accept.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    // The request id names one request in the audit log, so the server makes it, always; a
    // caller's own id (when it looks like one) is kept beside it in the log lines only, as
    // clientRequestId, to correlate across systems (attack S7-8, decision 0521).
    genReqId: () => randomUUID(),
    childLoggerFactory: (logger, bindings, childOptions, rawRequest) => {
      const given = rawRequest.headers['x-request-id'];
      const client = typeof given === 'string' && REQUEST_ID.test(given) ? { clientRequestId: given } : {};
      return logger.child({ ...bindings, ...client }, childOptions);
    },
    bodyLimit: 1024 * 1024,
    // The client address counted by the limits of the public doors and logins.
    trustProxy: trustProxyOption(deps.trustProxy),
    // The router's own refusals (a malformed or overlong path segment) as problems like any other;
    // the detail is fixed because Fastify's message echoes the path, which may hold a token.
    frameworkErrors: (_error, request, reply) => {
      sendProblem(request, reply, 'validation_failed', 'a path segment is malformed or too long');
    },
    // Node's HTTP parser's refusals (431, a bad header) as problem+json with a stable code.
    clientErrorHandler: writeClientErrorProblem,
    // Requests arriving while the server closes get Kluis's problem, not Fastify's plain body
    // (answerWhileStopping below).
    return503OnClosing: false,
    // A request must arrive whole within this (Node's own 300 s default is off while Fastify's
    // is 0); sized for the largest upload (decision 0811). Bodies have shorter bounds (0865).
    requestTimeout: REQUEST_RECEIVE_TIMEOUT_MS,
  });
  // Which connections carry a running request; ends the others at a stop (decision 0811).
  endConnectionsWithoutRequests(app);
  // Slow-loris: headers must arrive within 20 s, and the connections stay below the file limit (0817).
  const connectionLimits = deps.connectionLimits ?? defaultConnectionLimits();
  limitConnections(app.server, connectionLimits, deps.logger);
  // … and a body within 20 s of its headers, or a large one with no pause of a minute (0865).
  limitBodyArrival(app, connectionLimits);
  // Cookie parsing and Set-Cookie serialisation (session cookies of staff and of the portal).
  await app.register(fastifyCookie);
  // Security headers on every answer: CSP (scripts only from here, no inline script), nosniff,
  // frame-ancestors, referrer policy …; HSTS and upgrade-insecure-requests only when served over HTTPS.
  // Helmet's middleware is built once here: @fastify/helmet built it again on every request
  // (parsing the CSP directives each time) for per-route options no route uses (decision 0730).
  const https = deps.secureCookies ?? false;
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        scriptSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    hsts: https ? { maxAge: 31_536_000 } : false,
  });
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, () => done());
  });
  answerWhileStopping(app);
  // Before any route: completes each route's schema for the OpenAPI document (decision 0087).
  app.addHook('onRoute', describeRoute);
  app.addHook('onRoute', runHeadWithoutPersonalData);
  app.addHook('onRoute', runHandlerAsRequest);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, 'not_found', 'no such route'));
  // A NUL character is never part of a valid path id or query value, and PostgreSQL refuses it.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!/%00|\0/i.test(request.raw.url ?? '')) return done();
    done(
      new AppError('validation_failed', 'NUL in URL', { publicMessage: 'the URL contains a NUL character' }),
    );
  });
  refuseIllFormedText(app);
  // Callback hooks, not async ones: every request runs them, and they never wait for anything.
  app.addHook('preSerialization', (request, reply, payload: unknown, done) => {
    linkNextPage(request, reply, payload);
    done(null, payload);
  });
  app.addHook('onSend', (request, reply, payload: unknown, done) => {
    reply.header('x-request-id', request.id);
    done(null, stopStreamOfHead(request, payload));
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Kluis API',
        version: deps.version,
        description:
          'Back office for telecom and IT service providers, with the privacy statement enforced by code.\n\n' +
          '**Authorise**: log in with `POST /api/v1/auth/login` (the session cookie then travels by itself on this origin; put the answered `csrfToken` under *csrfToken* for writes), or paste an API token under *bearerToken*.\n\n' +
          '**Purpose**: routes that touch personal data take the purpose of the access in `x-kluis-purpose`; `GET /api/v1/me/purposes` lists yours.\n\n' +
          '**Errors** are RFC 9457 problems (`application/problem+json`: `type`, `title`, `status`, `detail`, `instance`) with a stable `code`, the `requestId` and, where useful, `details` (input problems under `details.issues`).\n\n' +
          '**Lists** take `limit` and `cursor` and answer `nextCursor` and `Link: rel="next"`. **Retries**: POSTs that make money documents or send mail take `Idempotency-Key`.',
      },
      components: { securitySchemes: SECURITY_SCHEMES },
      tags: [
        { name: 'auth', description: 'Staff login, second factor, the signed-in principal and its purposes' },
        { name: 'staff', description: 'Staff accounts (admins)' },
        { name: 'tokens', description: 'API tokens (admins)' },
        { name: 'policy', description: 'The privacy statement and the processing register' },
        { name: 'audit', description: "A person's audit trail and the verification of the audit chain" },
        { name: 'people', description: 'Customers, contacts, prospects: personal data under a purpose' },
        { name: 'organisations', description: 'Business customers' },
        { name: 'contracts', description: 'Products, quotes, orders, contracts' },
        { name: 'telephony', description: 'Phone numbers, call records, tariffs' },
        { name: 'billing', description: 'Invoices, credit notes, payments, bank accounts, credit scores' },
        { name: 'requests', description: 'Data-subject rights requests' },
        { name: 'consent', description: 'Consent ledger, newsletters and mailings' },
        {
          name: 'recipients',
          description:
            'Recipients of the policy, files for them, authority requests (every disclosure logged)',
        },
        { name: 'incidents', description: 'Misuse reports and the incident register (72-hour clock)' },
        {
          name: 'cookies',
          description: 'Cookie banner, consent receipts, Global Privacy Control, visit log',
        },
        { name: 'system', description: 'Health and problem types' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs',
    // Authorise once and try calls; the session cookie goes along on this origin.
    uiConfig: { persistAuthorization: true, tryItOutEnabled: true, withCredentials: true, deepLinking: true },
  });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());
  typed.get(
    '/health',
    {
      schema: {
        summary: 'Readiness: setup done and database reachable',
        tags: ['system'],
        response: {
          200: z.object({ status: z.literal('ok'), db: z.literal('ok') }),
          503: z.union([
            z.object({
              status: z.literal('degraded'),
              db: z.literal('unreachable'),
              recovery: z.enum(['restarting-embedded-server', 'exiting', 'reconnecting']),
            }),
            z.object({ status: z.literal('starting') }),
          ]),
        },
      },
    },
    async (_request, reply) => {
      // Until the first-run setup is done the server is up but not ready for traffic.
      if (deps.isReady && !deps.isReady()) return reply.status(503).send({ status: 'starting' });
      // A dead embedded postmaster is down even while one of its orphaned backends still answers
      // a pooled connection's `select 1` for a moment: ask the watchdog before the database.
      const known = deps.databaseRecovery?.() ?? 'reconnecting';
      if (known !== 'reconnecting') {
        return reply.status(503).send({ status: 'degraded', db: 'unreachable', recovery: known });
      }
      const reachable = deps.databaseProbe
        ? await deps.databaseProbe.ping()
        : await pingDatabase(kernelCore(deps.kernel).db);
      if (reachable) return reply.status(200).send({ status: 'ok', db: 'ok' });
      const recovery = deps.databaseRecovery?.() ?? 'reconnecting';
      return reply.status(503).send({ status: 'degraded', db: 'unreachable', recovery });
    },
  );
  typed.get(
    '/api/problems/:code',
    {
      schema: {
        summary: 'What a problem type (the `type` of an error) means',
        tags: ['system'],
        params: z.object({ code: z.string().max(60) }),
        response: { 200: z.object({ code: z.string(), title: z.string(), status: z.number().int() }) },
      },
    },
    async (request, reply) => {
      const described = describeProblemType(request.params.code);
      if (!described) return sendProblem(request, reply, 'not_found', 'no such problem type');
      return described;
    },
  );
  registerAuthRoutes(app, deps.kernel, { secureCookies: deps.secureCookies ?? false });
  registerStaffRoutes(app, deps.kernel);
  registerMeRoutes(app, deps.kernel);
  const portal = {
    kernel: deps.kernel,
    enforced: ENFORCED_PROMISES,
    secureCookies: deps.secureCookies ?? false,
  };
  registerPolicyRoutes(app, deps.kernel, ENFORCED_PROMISES, { statementPage: statementPage(portal) });
  registerAuditRoutes(app, deps.kernel);
  registerDisclosureRoutes(app, deps.kernel);
  const requestsDeps = {
    kernel: deps.kernel,
    mailer:
      deps.mailer ??
      createMailer({
        smtpUrl: undefined,
        from: 'no-reply@kluis.localhost',
        outboxDir: path.join(os.tmpdir(), 'kluis-outbox'),
        logger: deps.logger,
      }),
    dataMap: DATA_MAP,
    publicUrl: deps.publicUrl ?? 'http://localhost:3000',
    logger: deps.logger,
    ...(deps.transfer ? { transfer: deps.transfer } : {}),
    ...(deps.publicLimits ? { limits: deps.publicLimits } : {}),
    ...(deps.answerQuanta ? { answerQuanta: deps.answerQuanta } : {}),
    ...(deps.exportPace ? { exportPace: deps.exportPace } : {}),
    ...(deps.wakeLetterSender ? { wakeLetterSender: deps.wakeLetterSender } : {}),
    // The browser's cookie consent id joins the person at a portal login (docs/decisions/0290).
    onPortalSignIn: (signIn: PortalSignIn) => linkConsentAtSignIn(deps.kernel, signIn),
  };
  registerPartiesRoutes(app, deps.kernel, {
    subscribersAt: selectSubscribersOfType,
    // An erasure of a person whose erasure request waits completes that request (decision 1251).
    erasureFollowUp: (tenantId, subjectId, actor) =>
      followUpErasure(requestsDeps, tenantId, subjectId, actor),
  });
  const events = deps.events;
  registerContractRoutes(
    app,
    deps.kernel,
    events
      ? { afterTermination: async (tenantId) => void (await events.dispatchPending(deps.kernel, tenantId)) }
      : {},
  );
  registerBillingRoutes(app, deps.kernel);
  registerTelephonyRoutes(app, deps.kernel, deps.cdrUploads);
  registerRetentionRoutes(app, deps.kernel, DATA_MAP);
  registerRecipientsRoutes(app, deps.kernel);
  registerCookiesRoutes(app, deps.kernel, {
    ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
    secureCookies: deps.secureCookies ?? false,
    ...(deps.cookieLimits ? { limits: deps.cookieLimits } : {}),
  });
  registerRequestsRoutes(app, requestsDeps);
  registerAccountRoutes(app, requestsDeps, { secureCookies: deps.secureCookies ?? false });
  registerIncidentRoutes(app, deps.kernel, {
    mailer: requestsDeps.mailer,
    publicUrl: requestsDeps.publicUrl,
    logger: deps.logger,
    dataMap: DATA_MAP,
  });
  registerConsentRoutes(app, deps.kernel, {
    portalSession: (request, write) => portalSessionOf(requestsDeps, request, write),
    mail: requestsDeps,
  });
  registerDossierRoutes(app, deps.kernel, {
    publicUrl: deps.publicUrl ?? 'http://localhost:3000',
    portalSession: (request, write) => portalSessionOf(requestsDeps, request, write),
    sharePage: dossierSharePage(portal),
  });
  await registerPortalRoutes(app, {
    ...portal,
    requests: requestsDeps,
    cookieChoices: (session) => readOwnCookieChoices(deps.kernel, session),
  });
  const consentDeps = {
    ...requestsDeps,
    ...(deps.wakeMailingSender ? { wakeSender: deps.wakeMailingSender } : {}),
  };
  registerMailingRoutes(app, consentDeps);
  registerNewsletterPublicRoutes(app, consentDeps);
  // The staff back office at `/` (after every API route, so none is shadowed).
  if (deps.webRoot) await registerWebApp(app, deps.webRoot);
  return app;
}

/** How long a client is asked to wait before it repeats a request refused while the server stops. */
export const STOPPING_RETRY_AFTER_SECONDS = 5;

/**
 * Once the server is closing (`app.close()`: `kluis serve` stops), a request that still arrives on
 * an open keep-alive connection is answered `503 server_stopping` with `Retry-After`, in the problem
 * format (code, request id), before it runs anything; requests already running finish. Fastify's
 * own answer (`return503OnClosing`) was a plain JSON body without either.
 */
function answerWhileStopping(app: FastifyInstance): void {
  let stopping = false;
  app.addHook('preClose', (done) => {
    stopping = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (!stopping) return done();
    void reply.header('retry-after', String(STOPPING_RETRY_AFTER_SECONDS));
    sendProblem(request, reply, 'server_stopping', 'the server is stopping; try again shortly');
  });
}
