/**
 * Issue 10, "Done when": every route of the OpenAPI document, as every role of both seed
 * policies, under every purpose key of the policy and a few bogus ones, with path ids of the
 * tenant's own data and of the other tenant's. Nothing may answer 5xx, and nothing may answer 2xx
 * unless the policy grants the role that purpose for the data the route touches (derived below
 * from the policy's purposes: their roles and categories). One database, app.inject, one session
 * per role (created as the test helpers allow, with a second factor where the policy asks).
 * A route without an expectation in `touchOf` fails the walk: a new route says what it touches.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp } from '../../test/http.js';
import { createTestKernel } from '../../test/kernel.js';
import { prepareTenantFixture, type TenantFixture } from '../../test/tenant-fixture.js';
import type { Kernel } from '../kernel/kernel.js';
import { findPurpose } from '../kernel/policy/policy.query.js';
import type { Policy } from '../kernel/policy/policy.schema.js';

const BOGUS_PURPOSES = ['constructor', '__proto__', '', 'x'];

/**
 * What a route touches, for the expectation: `public` routes need no staff login; `self` routes
 * touch only the caller's own account and tokens; `none` routes touch no personal data (their own
 * role rules are not the policy's); `fixed` routes act under one purpose whatever is declared;
 * `data` routes act under the declared purpose on these categories (any one of them suffices for
 * a 2xx, since a read returns only what the purpose covers).
 */
type Touch =
  | { kind: 'public' }
  | { kind: 'self' }
  | { kind: 'none' }
  | { kind: 'fixed'; purpose: string }
  | { kind: 'data'; categories: readonly string[]; wholePerson?: boolean };

const PERSON = ['user.name', 'user.contact.email', 'user.contact.phone_number', 'user.contact.address'];
const CONTRACT = ['kluis.contract.product', 'kluis.contract.order'];
const PAYMENT = ['kluis.billing.payment'];
const DOSSIER = ['kluis.dossier.asset', 'kluis.dossier.credential'];

function touchOf(method: string, path: string): Touch | undefined {
  // The customer's own dossier: the privacy-portal account's session, no staff login (issue 17).
  if (path.startsWith('/t/{slug}/account/dossier')) return { kind: 'public' };
  // The privacy portal's pages (issue 19): public, or the person's own account by its own cookie;
  // a staff session or token opens nothing there.
  if (/^\/t\/\{slug\}\/(rights|account)(\/|$)/.test(path)) return { kind: 'public' };
  if (
    path.startsWith('/t/') ||
    path.startsWith('/.well-known/') ||
    path.startsWith('/api/problems') ||
    path === '/api/v1/auth/login' ||
    path === '/api/v1/auth/logout' ||
    path === '/health'
  )
    return { kind: 'public' };
  if (path.startsWith('/api/v1/auth/') || path.startsWith('/api/v1/tokens') || path.startsWith('/api/v1/me/'))
    return { kind: 'self' };
  if (path.startsWith('/api/v1/staff')) return { kind: 'fixed', purpose: 'staff_accounts' };
  if (path.startsWith('/api/v1/requests')) return { kind: 'fixed', purpose: 'rights_requests' };
  // A person's audit trail: under the rights purpose only; the chain's verification names nobody
  // and has its own role rule (admin, privacy officer) (issue 20).
  if (path === '/api/v1/people/{id}/audit') return { kind: 'fixed', purpose: 'rights_requests' };
  if (path === '/api/v1/audit/verify') return { kind: 'none' };
  // The disclosure log names nobody (pseudonyms in its own table); its own rule: the privacy officer.
  if (path === '/api/v1/disclosures') return { kind: 'none' };
  // Retention plans and holds are the declared purpose's work over every category it keeps.
  if (path.startsWith('/api/v1/retention')) return { kind: 'data', categories: [] };
  // One dossier item: edit (PATCH) and delete under the declared purpose (issue 17).
  if (/^\/api\/v1\/dossier\/(assets|credentials|facts)\/\{\w+\}$/.test(path))
    return { kind: 'data', categories: DOSSIER };
  // Attachments (issue 17): asset data, a secret one's content credential data.
  if (path.includes('/dossier/attachments')) return { kind: 'data', categories: DOSSIER };
  if (path.includes('/dossier')) return { kind: 'data', categories: DOSSIER };
  // The consent ledger of the declared purpose: the record's purpose is the declared one.
  if (path.endsWith('/consents')) return { kind: 'data', categories: [] };
  // The registry is the policy's; a file for a recipient reads the person fields it may receive.
  if (path === '/api/v1/recipients') return { kind: 'none' };
  // Any member of staff reports an incident; the register is kept under the policy's incident purpose.
  if (path === '/api/v1/incidents' && method === 'POST') return { kind: 'none' };
  if (path.startsWith('/api/v1/incidents')) return { kind: 'fixed', purpose: 'breach_notification' };
  if (path.startsWith('/api/v1/authority-requests')) return { kind: 'fixed', purpose: 'legal_disclosure' };
  if (path.startsWith('/api/v1/recipients/'))
    return { kind: 'data', categories: [...PERSON, 'user.demographic.language', 'user.demographic.gender'] };
  // Mailings are composed, previewed and sent under the declared (newsletter) purpose.
  if (path.startsWith('/api/v1/mailings')) return { kind: 'data', categories: [] };
  // The sender's address and DKIM key: no personal data; its own rule is admins only.
  if (path.startsWith('/api/v1/mail-settings')) return { kind: 'none' };
  // The privacy portal's colours: admins only, nothing personal.
  if (path === '/api/v1/portal/theme' || path === '/api/v1/portal/logo') return { kind: 'none' };
  if (path.endsWith('/report-minor')) return { kind: 'data', categories: [], wholePerson: true };
  if (path.endsWith('/parental-consent'))
    return { kind: 'data', categories: ['user.demographic.date_of_birth'] };
  if (path.startsWith('/api/v1/people')) return { kind: 'data', categories: PERSON };
  if (/^\/api\/v1\/(quotes|orders)/.test(path)) return { kind: 'data', categories: CONTRACT };
  if (path.endsWith('/billing-options')) return { kind: 'data', categories: [...PAYMENT, ...CONTRACT] };
  if (path.startsWith('/api/v1/contracts')) return { kind: 'data', categories: CONTRACT };
  if (path.endsWith('/bank-accounts')) return { kind: 'data', categories: ['user.financial.bank_account'] };
  if (path.endsWith('/credit-scores')) return { kind: 'data', categories: ['kluis.financial.credit_score'] };
  // A SEPA collection file: debtors' IBANs and names under the declared purpose (issue 22).
  if (path.startsWith('/api/v1/direct-debits'))
    return { kind: 'data', categories: ['user.financial.bank_account'] };
  // Unmatched payments and matching by hand: payment data under the declared purpose (issue 22).
  if (path.startsWith('/api/v1/payments/')) return { kind: 'data', categories: PAYMENT };
  // Dunning (issue 22): an invoice's reminders, its hand-over for collection and closing it
  // (decision 0465), payment data.
  if (/^\/api\/v1\/invoices\/\{id\}\/(reminders|collection|collection\/close)$/.test(path))
    return { kind: 'data', categories: PAYMENT };
  // The bookkeeper's CSV of a period (issue 22): payment data, buyer names as the purpose covers.
  if (path === '/api/v1/accounting/export') return { kind: 'data', categories: PAYMENT };
  if (/^\/api\/v1\/(invoices|invoice-runs|payments)/.test(path)) return { kind: 'data', categories: PAYMENT };
  if (path.startsWith('/api/v1/phone-numbers'))
    return { kind: 'data', categories: ['kluis.telephony.number'] };
  // Account codes, channels, extensions, SIP users: held like numbers (decision 0230).
  if (path.startsWith('/api/v1/line-identifiers'))
    return { kind: 'data', categories: ['kluis.telephony.number'] };
  if (path.endsWith('/call-records')) return { kind: 'data', categories: ['kluis.telephony.call_record'] };
  // Unrated calls across customers (issue 20): call records.
  if (path === '/api/v1/call-records/unrated')
    return { kind: 'data', categories: ['kluis.telephony.call_record'] };
  // An uploaded import's rejected lines are call records (decision 0360).
  if (path === '/api/v1/call-record-imports/{id}/rejects')
    return { kind: 'data', categories: ['kluis.telephony.call_record'] };
  // Consent receipts by a random id, consent rates and visit statistics name no data subject
  // (decision 0140); their own role rule (admin, privacy officer) is not the policy's.
  if (path.startsWith('/api/v1/cookies/')) return { kind: 'none' };
  // The price list is no personal data; its own role rule (admin, billing) is not the policy's.
  if (path.startsWith('/api/v1/tariffs')) return { kind: 'none' };
  // The policy's versions and their statements: no personal data; admins and privacy officers.
  if (path.startsWith('/api/v1/policy/versions')) return { kind: 'none' };
  // Rating plans are price lists, imports are counts (issue 20); their own role rules.
  // An upload is counted and imported by the system's job (decision 0360); the caller sees counts.
  if (path.startsWith('/api/v1/rating-plans') || path.startsWith('/api/v1/call-record-imports'))
    return { kind: 'none' };
  if (/^\/api\/v1\/(products|organisations|billing\/settings|policy\/register|customer-status)/.test(path))
    return { kind: 'none' };
  void method;
  return undefined;
}

/** Whether the policy lets `role` get a 2xx from a route that touches `touch` under `purpose`. */
function isGranted(policy: Policy, role: string, purposeKey: string, touch: Touch): boolean {
  if (touch.kind === 'public') return true;
  const declared = findPurpose(policy, purposeKey);
  // Every staff route checks a declared purpose at the door: it must be one of the policy's.
  if (!declared) return false;
  if (touch.kind === 'self' || touch.kind === 'none') return true;
  if (touch.kind === 'fixed') return findPurpose(policy, touch.purpose)?.roles.includes(role) === true;
  if (!declared.roles.includes(role)) return false;
  if (touch.wholePerson) return declared.wholePerson !== 'none';
  if (touch.categories.length === 0) return true;
  return touch.categories.some((category) => declared.categories.includes(category));
}

interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  touch: Touch;
}

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let operations: Operation[];
/** `voxtraPeer`: a second Voxtra tenant, so Voxtra's staff meet another tenant's dossier ids. */
type FixtureName = 'voiceking' | 'voxtra' | 'voxtraPeer';
const fixtures: Record<FixtureName, TenantFixture> = {} as Record<FixtureName, TenantFixture>;
/** Whose ids a tenant's staff are walked with in the cross-tenant pass. */
const OTHER: Record<'voiceking' | 'voxtra', FixtureName> = { voiceking: 'voxtra', voxtra: 'voxtraPeer' };

/**
 * Path parameters that name a row of tenant data: the cross-tenant pass fills them with the other
 * tenant's real ids, and nothing may answer 2xx.
 */
const CROSS_TENANT_IDS =
  /\{(id|subjectId|contractId|staffId|invoiceId|assetId|credentialId|factId|attachmentId|holdId)\}/;
/** Path parameters that are no row id (or whose rows the walk does not make): filled, not crossed. */
const OTHER_PARAMS = new Set([
  'slug',
  'token',
  'code',
  'right',
  'table',
  'recipient',
  'format',
  'linkNo',
  'consentId',
  'tokenId',
  'productId',
  'quoteId',
  'orderId',
  'incidentId',
  'mailingId',
  'caseId',
  'authorityRequestId',
  'planId',
  'versionNo',
]);

/** Fills a path's parameters; `{id}` is the person, invoice or contract the route is about. */
function urlOf(operation: Operation, ids: Record<string, string>): string {
  return operation.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    if (name === 'id' && operation.path.startsWith('/api/v1/invoices')) return ids.invoiceId ?? '1';
    if (name === 'id' && operation.path.startsWith('/api/v1/contracts')) return ids.contractId ?? '1';
    if (name === 'id' && operation.path.startsWith('/api/v1/organisations')) return ids.organisationId ?? '1';
    if (name === 'id' && operation.path.endsWith('/report-minor')) return ids.minor ?? '1';
    return encodeURIComponent(ids[name] ?? '1');
  });
}

/** Routes that refuse API tokens (staff, tokens, own account): walked with the role's session. */
const SESSION_ONLY = /^\/api\/v1\/(staff|tokens|auth|me)\b/;

const BODIES: Record<string, unknown> = {
  'POST /api/v1/people': { subjectType: 'customer', familyName: 'Walk', givenName: 'Route' },
  'POST /api/v1/people/{id}/parental-consent': { relation: 'parent', verificationMethod: 'id_card_seen' },
  'POST /api/v1/tokens': { label: 'walk', role: 'admin' },
  'POST /api/v1/invoice-runs': { period: '2026-09', callsPurpose: 'call_billing' },
};

/** Auth routes last (logout ends the session), so every other route sees a live session. */
function walkOrder(a: Operation, b: Operation): number {
  const rank = (operation: Operation) =>
    operation.path === '/api/v1/auth/logout' ? 2 : operation.path.startsWith('/api/v1/auth/') ? 1 : 0;
  return rank(a) - rank(b);
}

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  const environment = { app, kernel, database };
  fixtures.voiceking = await prepareTenantFixture(environment, 'voiceking');
  fixtures.voxtra = await prepareTenantFixture(environment, 'voxtra');
  fixtures.voxtraPeer = await prepareTenantFixture(environment, 'voxtra');
  // Voxtra keeps a dossier: the walk has real ids of both Voxtra tenants' items.
  for (const name of ['voxtra', 'voxtraPeer'] as const)
    for (const key of ['assetId', 'credentialId', 'factId', 'attachmentId'])
      if (!fixtures[name].ids[key]) throw new Error(`route-walk: no ${key} made for ${name}`);
  const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{
    paths: Record<string, Record<string, unknown>>;
  }>();
  const unknown: string[] = [];
  operations = Object.entries(document.paths)
    .flatMap(([path, methods]) =>
      Object.keys(methods)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .flatMap((method) => {
          const touch = touchOf(method.toUpperCase(), path);
          if (!touch) unknown.push(`${method.toUpperCase()} ${path}`);
          return touch ? [{ method: method.toUpperCase() as Operation['method'], path, touch }] : [];
        }),
    )
    .sort(walkOrder);
  if (unknown.length > 0)
    throw new Error(`route-walk: add to touchOf what these touch: ${unknown.join(', ')}`);
  // Every path parameter is either a row id the walk fills with real ids (and crosses), or listed.
  const parameters = new Set(
    operations.flatMap((operation) => [...operation.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '')),
  );
  // And the list names only parameters some path has: a row id listed by mistake would go uncrossed.
  const stray = [...OTHER_PARAMS].filter((name) => !parameters.has(name));
  if (stray.length > 0)
    throw new Error(`route-walk: OTHER_PARAMS names no path parameter: ${stray.join(', ')}`);
  const unfilled = [...parameters].filter(
    (name) =>
      !OTHER_PARAMS.has(name) &&
      (!CROSS_TENANT_IDS.test(`{${name}}`) || fixtures.voxtra.ids[name] === undefined),
  );
  if (unfilled.length > 0)
    throw new Error(`route-walk: path parameters without a real id in the fixture: ${unfilled.join(', ')}`);
}, 300_000);

afterAll(async () => {
  await app.close();
  await database.close();
});

interface Finding {
  tenant: string;
  role: string;
  purpose: string;
  request: string;
  status: number;
}

async function walk(
  own: TenantFixture,
  ids: Record<string, string>,
  purposesOf: (role: string) => readonly string[],
  only: (operation: Operation) => boolean = () => true,
) {
  const findings: Finding[] = [];
  let requests = 0;
  for (const [role, session] of own.sessions) {
    const purposes = purposesOf(role);
    for (const operation of operations.filter(only)) {
      const url = urlOf(operation, ids);
      const key = `${operation.method} ${operation.path}`;
      const payload = BODIES[key];
      // One request at a time: concurrent requests that each need a second connection could
      // starve the pool, and the walk measures the gate, not the pool.
      const answers = [];
      for (const purpose of purposes) {
        answers.push(
          await app.inject({
            method: operation.method,
            url,
            headers: {
              ...(SESSION_ONLY.test(operation.path)
                ? { cookie: session.cookie, 'x-csrf-token': session.csrfToken }
                : { authorization: `Bearer ${own.tokens.get(role) ?? ''}` }),
              'x-kluis-purpose': purpose,
            },
            ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
          }),
        );
      }
      requests += answers.length;
      answers.forEach((response, index) => {
        const purpose = purposes[index] ?? '';
        const isOwnData = ids === own.ids;
        const crossTenantData = !isOwnData && CROSS_TENANT_IDS.test(operation.path);
        const isWrongSuccess =
          response.statusCode < 300 &&
          (!isGranted(own.policy, role, purpose, operation.touch) || crossTenantData);
        if (response.statusCode >= 500 || isWrongSuccess) {
          findings.push({
            tenant: own.tenant.slug,
            role,
            purpose,
            request: `${operation.method} ${url}`,
            status: response.statusCode,
          });
        }
      });
    }
  }
  return { findings, requests };
}

/**
 * The purposes a role is walked with: every purpose it holds, the bogus keys, and one purpose it
 * does not hold. Every purpose it does not hold is refused by the same door check before any route
 * code runs (http/purpose.ts), so one of them stands for all; walking each would only repeat it
 * (and cost a minute on a shared machine). FULL_WALK=1 walks every purpose key.
 */
function purposesFor(policy: Policy, role: string): string[] {
  const all = Object.keys(policy.purposes);
  if (process.env.FULL_WALK) return [...all, ...BOGUS_PURPOSES];
  const held = all.filter((key) => findPurpose(policy, key)?.roles.includes(role) === true);
  const notHeld = all.filter((key) => !held.includes(key));
  return [...held, ...notHeld.slice(0, 1), ...BOGUS_PURPOSES];
}

/** The full walk (every purpose key) takes far longer on a shared machine. */
const WALK_TIMEOUT_MS = process.env.FULL_WALK ? 3_600_000 : 300_000;

describe('route walk: every route × every role × the purposes of both seed policies', () => {
  it.each(['voiceking', 'voxtra'] as const)(
    '%s: nothing answers 5xx, nothing answers 2xx the policy does not grant',
    async (name) => {
      const own = fixtures[name];
      const { findings, requests } = await walk(own, own.ids, (role) => purposesFor(own.policy, role));
      if (process.env.FULL_WALK)
        process.stderr.write(
          `route walk ${name}: ${requests} requests, ${operations.length} operations, ${own.sessions.size} roles, ${findings.length} findings\n`,
        );
      expect(requests).toBeGreaterThan(operations.length * own.sessions.size);
      expect(findings).toEqual([]);
    },
    WALK_TIMEOUT_MS,
  );

  it.each(['voiceking', 'voxtra'] as const)(
    '%s staff with the other tenant’s ids: nothing of the other tenant answers 2xx, nothing 5xx',
    async (name) => {
      const own = fixtures[name];
      const other = fixtures[OTHER[name]];
      const held = (role: string) =>
        Object.keys(own.policy.purposes).filter((key) => own.policy.purposes[key]?.roles.includes(role));
      const withIds = (operation: Operation) => CROSS_TENANT_IDS.test(operation.path);
      const { findings, requests } = await walk(own, { ...other.ids, slug: own.tenant.slug }, held, withIds);
      expect(requests).toBeGreaterThan(0);
      expect(findings).toEqual([]);
    },
    300_000,
  );
});
