import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant, createTestKernel, type SeedPolicy } from '../../test/kernel.js';
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
];

async function countRows(tenant: Tenant): Promise<{ tokens: number; requests: number; staff: number }> {
  const result = await runAsOwner<{ tokens: number; requests: number; staff: number }>(
    database.ownerUrl,
    `select (select count(*)::int from staff_api_tokens where tenant_id = $1) as tokens,
            (select count(*)::int from rights_requests where tenant_id = $1) as requests,
            (select count(*)::int from staff_users where tenant_id = $1) as staff`,
    [tenant.tenantId],
  );
  return result.rows[0] ?? { tokens: 0, requests: 0, staff: 0 };
}

describe('fixed-purpose routes (decision 0061)', () => {
  it('a staff or requests route refuses a declared purpose that is not its own (purpose_not_allowed), for every role of both seed policies, and changes nothing', async () => {
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
        for (const url of ['/api/v1/staff', '/api/v1/requests']) {
          const purpose = url === '/api/v1/staff' ? 'staff_accounts' : 'rights_requests';
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
});
