import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import {
  chainPendingAudit,
  createPolicyTenant,
  createTestKernel,
  type SeedPolicy,
} from '../../test/kernel.js';
import { listPurposeKeysFor } from '../kernel/gate/gate.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Tenant } from '../modules/tenants/index.js';
import { PURPOSE_HEADER } from './purpose.js';

/**
 * Issue 10 / decision 0061: routes whose work has one purpose by nature (staff management under
 * staff_accounts, rights requests under rights_requests) use the declared purpose or refuse it;
 * a header naming another purpose is never ignored.
 */

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
const tenants = new Map<SeedPolicy, Tenant>();

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  for (const policy of ['voiceking', 'voxtra'] as const)
    tenants.set(policy, await createPolicyTenant(kernel, policy));
});
afterAll(async () => {
  await app.close();
  await database.close();
});

interface FixedRoute {
  method: 'GET' | 'POST';
  url: (session: StaffSession) => string;
  purpose: string;
  payload?: object;
}

const ROUTES: FixedRoute[] = [
  { method: 'GET', url: () => '/api/v1/staff', purpose: 'staff_accounts' },
  { method: 'GET', url: (session) => `/api/v1/staff/${session.staffId}`, purpose: 'staff_accounts' },
  { method: 'GET', url: () => '/api/v1/tokens', purpose: 'staff_accounts' },
  {
    method: 'POST',
    url: () => '/api/v1/tokens',
    purpose: 'staff_accounts',
    payload: { label: 'mismatch', role: 'sales' },
  },
  { method: 'GET', url: () => '/api/v1/requests', purpose: 'rights_requests' },
  {
    method: 'POST',
    url: () => '/api/v1/requests',
    purpose: 'rights_requests',
    payload: { kind: 'access', channel: 'letter', subjectId: 1 },
  },
  {
    method: 'POST',
    url: () => '/api/v1/requests/1/reject',
    purpose: 'rights_requests',
    payload: { reason: 'x' },
  },
  // The privacy registers (attack finding A2): the incident register under the policy's incident
  // purpose, the disclosure log under the rights purpose, authorities' requests under legal disclosure.
  { method: 'GET', url: () => '/api/v1/incidents', purpose: 'breach_notification' },
  {
    method: 'POST',
    url: () => '/api/v1/incidents',
    purpose: 'breach_notification',
    payload: { kind: 'breach', description: 'Laptop stolen with customer export' },
  },
  { method: 'GET', url: () => '/api/v1/incidents/1', purpose: 'breach_notification' },
  {
    method: 'POST',
    url: () => '/api/v1/incidents/1/assessment',
    purpose: 'breach_notification',
    payload: {
      isBreach: true,
      risk: 'high',
      riskAssessment: 'leaked',
      measures: 'rotated',
      whatHappened: 'A laptop was stolen.',
    },
  },
  { method: 'GET', url: () => '/api/v1/incidents/1/notification-draft', purpose: 'breach_notification' },
  {
    method: 'POST',
    url: () => '/api/v1/incidents/1/authority-notification',
    purpose: 'breach_notification',
    payload: { decision: 'notified' },
  },
  {
    method: 'POST',
    url: () => '/api/v1/incidents/1/persons-notification',
    purpose: 'breach_notification',
    payload: { decision: 'inform' },
  },
  { method: 'GET', url: () => '/api/v1/disclosures', purpose: 'rights_requests' },
  { method: 'GET', url: () => '/api/v1/authority-requests', purpose: 'legal_disclosure' },
  {
    method: 'POST',
    url: () => '/api/v1/authority-requests',
    purpose: 'legal_disclosure',
    payload: {
      recipient: 'judicial_authorities',
      authority: 'Parket',
      country: 'BE',
      legalBasis: 'art. 46bis Sv.',
      orderReference: 'KO.1',
      subjectIds: [1],
      categories: ['user.name'],
      decision: 'disclose',
    },
  },
  { method: 'POST', url: () => '/api/v1/authority-requests/1/approve', purpose: 'legal_disclosure' },
  { method: 'POST', url: () => '/api/v1/authority-requests/1/disclose', purpose: 'legal_disclosure' },
  // The bookkeeper's CSV (attack note A20): under the accounting purpose only, not any purpose that
  // covers payments (decision 0473).
  {
    method: 'GET',
    url: () => '/api/v1/accounting/export?from=2026-10-01&to=2026-10-31',
    purpose: 'accounting',
  },
];

interface Counts {
  tokens: number;
  requests: number;
  staff: number;
  incidents: number;
  authorityRequests: number;
  disclosures: number;
}

async function countRows(tenant: Tenant): Promise<Counts> {
  const result = await runAsOwner<Counts>(
    database.ownerUrl,
    `select (select count(*)::int from staff_api_tokens where tenant_id = $1) as tokens,
            (select count(*)::int from rights_requests where tenant_id = $1) as requests,
            (select count(*)::int from staff_users where tenant_id = $1) as staff,
            (select count(*)::int from incidents where tenant_id = $1) as incidents,
            (select count(*)::int from authority_requests where tenant_id = $1) as "authorityRequests",
            (select count(*)::int from disclosures where tenant_id = $1) as disclosures`,
    [tenant.tenantId],
  );
  const counts = result.rows[0];
  if (!counts) throw new Error('no counts');
  return counts;
}

/** The audit entries of a tenant after `seq`: action and purpose. */
async function auditAfter(
  tenant: Tenant,
  seq: number,
): Promise<Array<{ action: string; purpose: string | null }>> {
  // A gated read's entry is chained after the call returns (decision 0480): chain first.
  await chainPendingAudit(kernel, tenant.tenantId);
  const result = await runAsOwner<{ action: string; purpose: string | null }>(
    database.ownerUrl,
    'select action, purpose from audit_log where tenant_id = $1 and seq > $2 order by seq',
    [tenant.tenantId, seq],
  );
  return result.rows;
}

async function lastSeq(tenant: Tenant): Promise<number> {
  await chainPendingAudit(kernel, tenant.tenantId);
  const result = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    'select coalesce(max(seq), 0)::int as n from audit_log where tenant_id = $1',
    [tenant.tenantId],
  );
  return result.rows[0]?.n ?? 0;
}

describe('fixed-purpose routes (decision 0061)', () => {
  it('a staff, requests or privacy-register route refuses a declared purpose that is not its own (purpose_not_allowed), for every role of both seed policies, and changes nothing', async () => {
    let checked = 0;
    for (const [name, tenant] of tenants) {
      const { policy } = await kernel.policies.current(tenant.tenantId);
      for (const role of Object.keys(policy.roles)) {
        const session = await loginAs(app, kernel, tenant, role);
        const before = await countRows(tenant);
        // The role's own purposes first (the tempting ones), else any other of the policy.
        const own = listPurposeKeysFor(policy, { kind: 'staff', staffId: session.staffId, role });
        for (const route of ROUTES) {
          const wrong =
            own.find((key) => key !== route.purpose) ??
            Object.keys(policy.purposes).find((key) => key !== route.purpose);
          if (wrong === undefined) throw new Error(`${name}: a policy with one purpose`);
          const response = await app.inject({
            method: route.method,
            url: route.url(session),
            headers: {
              cookie: session.cookie,
              'x-csrf-token': session.csrfToken,
              [PURPOSE_HEADER]: wrong,
            },
            ...(route.payload ? { payload: route.payload } : {}),
          });
          expect({
            name,
            role,
            route: `${route.method} ${route.url(session)}`,
            wrong,
            status: response.statusCode,
          }).toEqual({ name, role, route: `${route.method} ${route.url(session)}`, wrong, status: 403 });
          expect(response.json()).toMatchObject({
            code: 'purpose_not_allowed',
            details: { validPurposes: [route.purpose] },
          });
          checked += 1;
        }
        expect(await countRows(tenant)).toEqual(before);
      }
    }
    expect(checked).toBe(13 * ROUTES.length);
  });

  it("declaring the route's own purpose answers as leaving the header out does", async () => {
    for (const tenant of tenants.values()) {
      for (const role of ['admin', 'privacy_officer', 'sales']) {
        const session = await loginAs(app, kernel, tenant, role);
        for (const [url, purpose] of [
          ['/api/v1/staff', 'staff_accounts'],
          ['/api/v1/requests', 'rights_requests'],
          ['/api/v1/incidents', 'breach_notification'],
          ['/api/v1/disclosures', 'rights_requests'],
          ['/api/v1/authority-requests', 'legal_disclosure'],
          ['/api/v1/accounting/export?from=2026-10-01&to=2026-10-31', 'accounting'],
        ] as const) {
          const bare = await app.inject({ method: 'GET', url, headers: { cookie: session.cookie } });
          const declared = await app.inject({
            method: 'GET',
            url,
            headers: { cookie: session.cookie, [PURPOSE_HEADER]: purpose },
          });
          expect({ role, url, status: declared.statusCode }).toEqual({ role, url, status: bare.statusCode });
        }
      }
    }
  });

  it('A2 (#10): the privacy registers act and audit under their own purpose: a staff incident report under the incident purpose, the disclosure-log read audited under the rights purpose', async () => {
    for (const tenant of tenants.values()) {
      const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
      const technician = await loginAs(app, kernel, tenant, 'technician');
      const seq = await lastSeq(tenant);
      // A technician reports without a header; the officer declares the register's purpose.
      for (const [session, headers] of [
        [technician, {}],
        [officer, { [PURPOSE_HEADER]: 'breach_notification' }],
      ] as const) {
        const report = await app.inject({
          method: 'POST',
          url: '/api/v1/incidents',
          headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, ...headers },
          payload: { kind: 'insecurity', description: 'A badge reader at the back door is broken' },
        });
        expect(report.statusCode).toBe(201);
      }
      for (const headers of [{}, { [PURPOSE_HEADER]: 'rights_requests' }]) {
        const log = await app.inject({
          method: 'GET',
          url: '/api/v1/disclosures',
          headers: { cookie: officer.cookie, ...headers },
        });
        expect(log.statusCode).toBe(200);
      }
      const list = await app.inject({
        method: 'GET',
        url: '/api/v1/incidents',
        headers: { cookie: officer.cookie },
      });
      expect(list.statusCode).toBe(200);
      const entries = (await auditAfter(tenant, seq)).filter((entry) =>
        ['incident.report', 'incident.list', 'disclosure.list'].includes(entry.action),
      );
      expect(entries).toEqual([
        { action: 'incident.report', purpose: 'breach_notification' },
        { action: 'incident.report', purpose: 'breach_notification' },
        { action: 'disclosure.list', purpose: 'rights_requests' },
        { action: 'disclosure.list', purpose: 'rights_requests' },
        { action: 'incident.list', purpose: 'breach_notification' },
      ]);
    }
  });

  it('A20: the bookkeeper’s CSV is served under the accounting purpose only: sales under order_processing, the officer under legal_disclosure, the admin under business_transfer are refused and get no ledger; the billing clerk and the admin get it, audited under accounting', async () => {
    const url = '/api/v1/accounting/export?from=2026-10-01&to=2026-10-31';
    const get = (session: StaffSession, purpose?: string) =>
      app.inject({
        method: 'GET',
        url,
        headers: { cookie: session.cookie, ...(purpose ? { [PURPOSE_HEADER]: purpose } : {}) },
      });
    const voiceking = tenants.get('voiceking');
    const voxtra = tenants.get('voxtra');
    if (!voiceking || !voxtra) throw new Error('no tenants');
    for (const [tenant, role, purpose] of [
      [voiceking, 'sales', 'order_processing'],
      [voiceking, 'privacy_officer', 'legal_disclosure'],
      [voxtra, 'admin', 'business_transfer'],
    ] as const) {
      const refused = await get(await loginAs(app, kernel, tenant, role), purpose);
      expect({ role, purpose, status: refused.statusCode }).toEqual({ role, purpose, status: 403 });
      expect(refused.json()).toMatchObject({
        code: 'purpose_not_allowed',
        details: { validPurposes: ['accounting'] },
      });
      expect(refused.body).not.toContain('type,date');
    }
    for (const tenant of [voiceking, voxtra]) {
      const clerk = await loginAs(app, kernel, tenant, 'billing');
      const admin = await loginAs(app, kernel, tenant, 'admin');
      const seq = await lastSeq(tenant);
      for (const [role, session, purpose] of [
        ['billing', clerk, 'accounting'],
        ['admin', admin, undefined],
      ] as const) {
        const csv = await get(session, purpose);
        expect({ role, status: csv.statusCode }).toEqual({ role, status: 200 });
        expect(csv.headers['content-type']).toContain('text/csv');
      }
      const reads = (await auditAfter(tenant, seq)).filter((entry) => entry.action === 'read');
      expect(reads.length).toBeGreaterThan(0);
      expect(new Set(reads.map((entry) => entry.purpose))).toEqual(new Set(['accounting']));
    }
  });

  it('A20: the incident register is kept by exactly the roles its policy purpose (incidents.purpose) names, in both seed policies; another purpose that names more roles (VoiceKing misuse_reports: admin) does not open it (decision 0474)', async () => {
    for (const [name, tenant] of tenants) {
      const { policy } = await kernel.policies.current(tenant.tenantId);
      const key = policy.incidents?.purpose ?? '';
      const keepers = policy.purposes[key]?.roles ?? [];
      expect(keepers.length, name).toBeGreaterThan(0);
      for (const role of Object.keys(policy.roles)) {
        const session = await loginAs(app, kernel, tenant, role);
        const list = await app.inject({
          method: 'GET',
          url: '/api/v1/incidents',
          headers: { cookie: session.cookie },
        });
        expect({ name, role, status: list.statusCode }).toEqual({
          name,
          role,
          status: keepers.includes(role) ? 200 : 403,
        });
      }
    }
    const voiceking = tenants.get('voiceking');
    if (!voiceking) throw new Error('no tenant');
    const admin = await loginAs(app, kernel, voiceking, 'admin');
    const underMisuse = await app.inject({
      method: 'GET',
      url: '/api/v1/incidents',
      headers: { cookie: admin.cookie, [PURPOSE_HEADER]: 'misuse_reports' },
    });
    expect(underMisuse.statusCode).toBe(403);
    expect(underMisuse.json()).toMatchObject({
      code: 'purpose_not_allowed',
      details: { validPurposes: ['breach_notification'] },
    });
  });
});
