/**
 * Attack S19 (decision 0877): a path id that names a row of ANOTHER tenant answers exactly as a
 * well-formed id that exists nowhere: 404 not_found, never 200 with an empty list, never a 409/422
 * that says the row exists elsewhere, never 5xx, and nothing changes in the database. Every staff
 * route of the OpenAPI document with a record id in its path is called by every role of the
 * tenant under every purpose that role holds, with the other tenant's real ids and with ids that
 * exist nowhere; the two answers must be the same, and some role's answer must be 404 not_found.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '../src/kernel/kernel.js';
import { cookieSectionVersion } from '../src/modules/cookies/index.js';
import { BANNER_VERSION } from '../src/modules/cookies/banner.texts.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import { tempDir } from '../src/modules/telephony/telephony.test-helpers.js';
import { createMailer } from '../src/platform/mailer.js';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from './database.js';
import { createTestApp, requestAs } from './http.js';
import { createPolicyTenant, createTestKernel } from './kernel.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';
import { prepareTenantFixture, type TenantFixture } from './tenant-fixture.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Operation {
  method: Method;
  /** As the OpenAPI document writes it: /api/v1/invoices/{id}. */
  path: string;
  contentType: string | undefined;
  example: unknown;
}

/** Path parameters that name no row of tenant data (a slug, a token, a policy's own key …). */
const NOT_A_RECORD = new Set([
  'slug',
  'token',
  'code',
  'right',
  'table',
  'recipient',
  'format',
  'linkNo',
  'versionNo',
]);

/** Query strings a route requires, so the call reaches the lookup (the calls of the fixture's month). */
const QUERIES: Record<string, string> = {
  'GET /api/v1/customers/{id}/call-records': '?from=2026-10-01&to=2026-11-01',
  'POST /api/v1/customers/{subjectId}/dossier/import': '?format=itflow',
};

/** Routes that refuse API tokens (staff, tokens, own account): called with the role's session. */
const SESSION_ONLY = /^\/api\/v1\/(staff|tokens|auth|me)\b/;

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let operations: Operation[];
/** Holds the cookie receipt both tenants' staff are called with. */
let bannerTenant: Tenant;
type FixtureName = 'voiceking' | 'voxtra' | 'voxtraPeer';
const fixtures = {} as Record<FixtureName, TenantFixture>;
/** Whose ids a tenant's staff are called with. */
const OTHER: Record<'voiceking' | 'voxtra', FixtureName> = { voiceking: 'voxtra', voxtra: 'voxtraPeer' };

/** The value a creating route answered under `field`, as a path parameter. */
function made(response: LightMyRequestResponse, field: string): string {
  if (response.statusCode >= 300)
    throw new Error(`could not make ${field}: ${response.statusCode} ${response.body}`);
  const value = response.json<Record<string, unknown>>()[field];
  if (typeof value !== 'number' && typeof value !== 'string')
    throw new Error(`no ${field} in ${response.body.slice(0, 300)}`);
  return String(value);
}

/** The rows the fixture does not make, made over HTTP by the tenant's own staff (a Voxtra tenant). */
async function addRecords(fixture: TenantFixture): Promise<void> {
  const as = (role: string, purpose: string) => {
    const session = fixture.sessions.get(role);
    if (!session) throw new Error(`no ${role} session`);
    return requestAs(app, session, purpose);
  };
  const customer = Number(fixture.ids.subjectId);
  const ids = fixture.ids;
  ids.mailingId = made(
    await as('sales', 'news_opt_in')('POST', '/api/v1/mailings', exampleOf('POST', '/api/v1/mailings')),
    'mailingId',
  );
  ids.quoteId = made(
    await as('sales', 'quotes')('POST', '/api/v1/quotes', {
      subjectId: customer,
      validUntil: '2099-12-31',
      lines: [{ productId: Number(ids.productId), quantity: 1 }],
    }),
    'quoteId',
  );
  ids.orderId = made(
    await as('sales', 'orders_deliveries')('POST', '/api/v1/orders', {
      subjectId: customer,
      lines: [{ productId: Number(ids.productId), quantity: 1 }],
    }),
    'orderId',
  );
  ids.incidentId = made(
    await as('privacy_officer', 'breach_notification')(
      'POST',
      '/api/v1/incidents',
      exampleOf('POST', '/api/v1/incidents'),
    ),
    'incidentId',
  );
  ids.authorityRequestId = made(
    await as('privacy_officer', 'legal_disclosure')('POST', '/api/v1/authority-requests', {
      ...(exampleOf('POST', '/api/v1/authority-requests') as Record<string, unknown>),
      recipient: 'authorities',
      subjectIds: [customer],
    }),
    'authorityRequestId',
  );
  ids.caseId = made(
    await as('privacy_officer', 'rights_requests')('POST', '/api/v1/retention/cases', {
      ...(exampleOf('POST', '/api/v1/retention/cases') as Record<string, unknown>),
      subjectIds: [customer],
    }),
    'caseId',
  );
  ids.lineIdentifierId = made(
    await as('technician', 'telephony_service')('POST', '/api/v1/line-identifiers', {
      subjectId: customer,
      kind: 'channel',
      value: 'PJSIP/trunk-',
      from: '2026-12-01',
    }),
    'identifierId',
  );
  ids.planId = made(
    await as('admin', 'customer_administration')(
      'POST',
      '/api/v1/rating-plans',
      exampleOf('POST', '/api/v1/rating-plans'),
    ),
    'planId',
  );
  ids.requestId = made(
    await as('privacy_officer', 'rights_requests')('POST', '/api/v1/requests', {
      kind: 'access',
      channel: 'letter',
      subjectId: customer,
      verificationMethod: 'id_card_seen',
    }),
    'requestId',
  );
  const session = fixture.sessions.get('billing');
  const csv = (url: string, purpose: string) =>
    app.inject({
      method: 'POST',
      url,
      headers: {
        cookie: session?.cookie ?? '',
        'x-csrf-token': session?.csrfToken ?? '',
        'x-kluis-purpose': purpose,
        'content-type': 'text/csv',
      },
      payload: String(exampleOf('POST', url.replace(/\?.*$/, ''))),
    });
  const imported = await csv('/api/v1/payments/import', 'invoicing');
  if (imported.statusCode !== 200) throw new Error(`could not import payments: ${imported.body}`);
  const unmatched = await as('billing', 'invoicing')('GET', '/api/v1/payments/unmatched');
  ids.paymentId = String(unmatched.json<{ items: Array<{ paymentId: number }> }>().items[0]?.paymentId ?? '');
  ids.importId = made(await csv('/api/v1/call-record-imports?name=foreign.csv', 'call_billing'), 'importId');
  ids.tokenId = made(
    await as('admin', 'staff_accounts')('POST', '/api/v1/tokens', { label: 'foreign ids', role: 'admin' }),
    'tokenId',
  );
}

function exampleOf(method: Method, path: string): unknown {
  return operations.find((operation) => operation.method === method && operation.path === path)?.example;
}

/** A cookie receipt of a tenant whose policy asks for a banner (Voxtra's does not). */
async function makeCookieReceipt(tenant: Tenant): Promise<string> {
  const { policy } = await kernel.policies.current(tenant.tenantId);
  return made(
    await app.inject({
      method: 'POST',
      url: `/t/${tenant.slug}/consent/receipts`,
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      payload: JSON.stringify({
        policyVersion: cookieSectionVersion(policy),
        bannerVersion: BANNER_VERSION,
        language: 'nl',
        source: 'banner',
        categories: [],
      }),
    }),
    'consentId',
  );
}

/** The other tenant's row a path parameter names; `{id}` is the person, invoice, … the path is about. */
function foreignIdOf(path: string, name: string, ids: Record<string, string>): string | undefined {
  if (name !== 'id') return ids[name];
  if (path.startsWith('/api/v1/invoices')) return ids.invoiceId;
  if (path.startsWith('/api/v1/contracts')) return ids.contractId;
  if (path.startsWith('/api/v1/organisations')) return ids.organisationId;
  if (path.startsWith('/api/v1/line-identifiers')) return ids.lineIdentifierId;
  if (path.startsWith('/api/v1/payments')) return ids.paymentId;
  if (path.startsWith('/api/v1/call-record-imports')) return ids.importId;
  if (path.startsWith('/api/v1/requests') || path.includes('/requests/')) return ids.requestId;
  if (path.startsWith('/api/v1/people') || path.startsWith('/api/v1/customers')) return ids.subjectId;
  return undefined;
}

/** An id of the same shape (digits, a UUID, a base64url key) that no tenant holds. */
function nowhere(foreign: string): string {
  if (/^\d+$/.test(foreign)) return '2147480001';
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(foreign)) return randomUUID();
  const rotate = (char: string, alphabet: string) =>
    alphabet[(alphabet.indexOf(char) + 1) % alphabet.length] ?? char;
  return foreign.replace(/[0-9A-Za-z]/g, (char) =>
    /[0-9]/.test(char)
      ? rotate(char, '0123456789')
      : /[a-f]/.test(char)
        ? rotate(char, 'abcdef')
        : /[A-F]/.test(char)
          ? rotate(char, 'ABCDEF')
          : /[g-z]/.test(char)
            ? rotate(char, 'ghijklmnopqrstuvwxyz')
            : rotate(char, 'GHIJKLMNOPQRSTUVWXYZ'),
  );
}

interface Call {
  operation: Operation;
  role: string;
  purpose: string;
}

async function call(own: TenantFixture, { operation, role, purpose }: Call, url: string) {
  const session = own.sessions.get(role);
  const token = own.tokens.get(role);
  if (!session || !token) throw new Error(`no ${role}`);
  const body = operation.example;
  return app.inject({
    method: operation.method,
    url,
    headers: {
      ...(SESSION_ONLY.test(operation.path)
        ? { cookie: session.cookie, 'x-csrf-token': session.csrfToken }
        : { authorization: `Bearer ${token}` }),
      'x-kluis-purpose': purpose,
      // A text body (a CSV file) is described as JSON in the document; the routes take text/csv.
      ...(typeof body === 'string'
        ? { 'content-type': 'text/csv' }
        : operation.contentType
          ? { 'content-type': operation.contentType }
          : {}),
    },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** Status and problem code, e.g. `404 not_found`; a 2xx has no code. */
function answerOf(response: LightMyRequestResponse): string {
  let code: unknown = '';
  try {
    code = response.json<{ code?: unknown }>().code ?? '';
  } catch {
    code = 'not json';
  }
  return `${response.statusCode} ${typeof code === 'string' ? code : JSON.stringify(code)}`;
}

/**
 * Every table with a tenant_id, as a digest of the tenants' rows. Left out: the audit trail
 * (refusals are audited), sessions and tokens (last use), and the throttle's attempt counters
 * (a share link asked for counts against its maker whatever the id).
 */
async function snapshot(tenantIds: number[]): Promise<Record<string, string>> {
  const tables = await runAsOwner<{ table_name: string }>(
    database.ownerUrl,
    `select table_name from information_schema.columns
      where table_schema = 'public' and column_name = 'tenant_id'
        and table_name not in ('audit_log', 'audit_pending', 'audit_heads', 'audit_checkpoints',
                               'staff_sessions', 'staff_api_tokens', 'throttle_counters')
      order by table_name`,
  );
  const digests: Record<string, string> = {};
  for (const { table_name: table } of tables.rows) {
    const result = await runAsOwner<{ digest: string | null }>(
      database.ownerUrl,
      `select md5(string_agg(t::text, '|' order by t::text)) as digest from "${table}" t where tenant_id = any($1)`,
      [tenantIds],
    );
    digests[table] = result.rows[0]?.digest ?? '';
  }
  return digests;
}

interface MediaType {
  example?: unknown;
  schema?: { example?: unknown; examples?: unknown[] };
}

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  // A relay that delivers, so a mailing is held to the tenant's signed sender (decision 0837):
  // the sweep shows that check comes after the mailing is looked up.
  const relay = createMailer({
    smtpUrl: smtp.url,
    from: 'privacy@provider.example',
    outboxDir: '/nonexistent',
    logger: testLogger,
  });
  app = await createTestApp(kernel, {
    mailer: relay,
    publicUrl: 'https://privacy.provider.example',
    cdrUploads: { spoolDir: await tempDir(), maxBytes: 64 * 1024 },
  });
  const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{
    paths: Record<string, Record<string, { requestBody?: { content?: Record<string, MediaType> } }>>;
  }>();
  operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, spec]) => {
        const [contentType, media] = Object.entries(spec.requestBody?.content ?? {})[0] ?? [];
        const example = media?.example ?? media?.schema?.example ?? media?.schema?.examples?.[0];
        return { method: method.toUpperCase() as Method, path, contentType, example };
      }),
  );
  const environment = { app, kernel, database };
  fixtures.voiceking = await prepareTenantFixture(environment, 'voiceking');
  fixtures.voxtra = await prepareTenantFixture(environment, 'voxtra');
  fixtures.voxtraPeer = await prepareTenantFixture(environment, 'voxtra');
  await addRecords(fixtures.voxtra);
  await addRecords(fixtures.voxtraPeer);
  bannerTenant = await createPolicyTenant(kernel, 'voiceking');
  const consentId = await makeCookieReceipt(bannerTenant);
  fixtures.voxtra.ids.consentId = consentId;
  fixtures.voxtraPeer.ids.consentId = consentId;
}, 300_000);

afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

/** The staff routes whose path names a row of tenant data. */
function recordOperations(): Operation[] {
  return operations.filter(
    (operation) =>
      operation.path.startsWith('/api/v1/') &&
      [...operation.path.matchAll(/\{(\w+)\}/g)].some((match) => !NOT_A_RECORD.has(match[1] ?? '')),
  );
}

describe('ids of another tenant answer as ids that exist nowhere (attack S19, decision 0877)', () => {
  it.each(['voiceking', 'voxtra'] as const)(
    '%s staff: every route with a record id answers the other tenant’s id and an unknown id with the same 404 not_found, and nothing changes',
    async (name) => {
      const own = fixtures[name];
      const other = fixtures[OTHER[name]];
      const tenantIds = [own.tenant.tenantId, other.tenant.tenantId, bannerTenant.tenantId];
      const before = await snapshot(tenantIds);
      const unfilled: string[] = [];
      const differing: string[] = [];
      const revealing: string[] = [];
      const neverNotFound: string[] = [];
      for (const operation of recordOperations()) {
        const names = [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
        const foreign: Record<string, string> = {};
        for (const param of names.filter((param) => !NOT_A_RECORD.has(param))) {
          const value = foreignIdOf(operation.path, param, other.ids);
          if (value === undefined) unfilled.push(`${operation.method} ${operation.path} {${param}}`);
          else foreign[param] = value;
        }
        if (Object.keys(foreign).length === 0) continue;
        const urlWith = (value: (param: string, id: string) => string) =>
          operation.path.replace(/\{(\w+)\}/g, (_match, param: string) =>
            param === 'slug' ? own.tenant.slug : encodeURIComponent(value(param, foreign[param] ?? 'x')),
          );
        const query = QUERIES[`${operation.method} ${operation.path}`] ?? '';
        const foreignUrl = urlWith((_param, id) => id) + query;
        const nowhereUrl = urlWith((_param, id) => nowhere(id)) + query;
        let found = false;
        for (const role of own.sessions.keys()) {
          const held = Object.keys(own.policy.purposes).filter((key) =>
            own.policy.purposes[key]?.roles.includes(role),
          );
          for (const purpose of held) {
            const step = { operation, role, purpose };
            const toForeign = answerOf(await call(own, step, foreignUrl));
            const toNowhere = answerOf(await call(own, step, nowhereUrl));
            const label = `${operation.method} ${operation.path} as ${role} under ${purpose}`;
            if (toForeign !== toNowhere)
              differing.push(`${label}: other tenant's ${toForeign}, nowhere ${toNowhere}`);
            if (/^(2\d\d|409|422|5\d\d)/.test(toForeign)) revealing.push(`${label}: ${toForeign}`);
            if (toForeign === '404 not_found') found = true;
          }
        }
        // A policy that keeps no dossier refuses its routes before any lookup, for any id.
        const isOffered = !operation.path.includes('/dossier') || 'technical_dossier' in own.policy.purposes;
        if (!found && isOffered) neverNotFound.push(`${operation.method} ${operation.path}`);
      }
      expect(revealing).toEqual([]);
      expect(differing).toEqual([]);
      expect(neverNotFound).toEqual([]);
      expect(unfilled).toEqual([]);
      expect(await snapshot(tenantIds)).toEqual(before);
    },
    300_000,
  );

  it('the privacy portal’s request doors (code, status) answer another tenant’s request id as an unknown one, and change nothing', async () => {
    const own = fixtures.voxtra;
    const other = fixtures.voxtraPeer;
    const foreign = other.ids.requestId ?? '';
    const tenantIds = [own.tenant.tenantId, other.tenant.tenantId];
    const before = await snapshot(tenantIds);
    const token = 't'.repeat(43);
    const doors = (id: string) => [
      {
        method: 'POST' as const,
        url: `/t/${own.tenant.slug}/privacy/requests/${id}/verify`,
        payload: { code: '123456' },
      },
      { method: 'GET' as const, url: `/t/${own.tenant.slug}/privacy/requests/${id}?token=${token}` },
      { method: 'GET' as const, url: `/t/${own.tenant.slug}/rights/requests/${id}?token=${token}` },
    ];
    const answers = async (id: string) => {
      const seen: string[] = [];
      for (const door of doors(id)) seen.push(answerOf(await app.inject(door)).replace('not json', 'page'));
      return seen;
    };
    const toForeign = await answers(foreign);
    expect(toForeign).toEqual(await answers(nowhere(foreign)));
    expect(toForeign.slice(0, 2)).toEqual(['400 validation_failed', '404 not_found']);
    expect(await snapshot(tenantIds)).toEqual(before);
  });
});
