/**
 * Decision 0845 (attack S17-3): the capabilities `GET /api/v1/me/purposes` names are the routes'
 * own authorisation. For every role of both seed policies, each capability is checked against the
 * route behind it: listed (with these purposes) exactly when the route answers, refused (403, or 404
 * where the tenant's policy has no such work) when it is not listed.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, requestAs } from '../../test/http.js';
import { createPolicyTenant, createTestKernel, type SeedPolicy } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import { createCustomer, prepareTenant } from '../modules/billing/billing.test-helpers.js';
import { CAPABILITY_KEYS, type Capability, type CapabilityKey } from './capabilities.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
});
afterAll(async () => {
  await app.close();
  await database.close();
});

interface MeAnswer {
  purposes: Array<{ key: string; authorityRequestsOnly: boolean }>;
  capabilities: Capability[];
}

const RANGE = 'from=2026-11-01&to=2026-11-30';

/** A body, or a function of the purpose's subject types giving it (a person is registered as one). */
type Probe = [method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown];

/** A route per capability that takes no purpose (the compiler asks for one per new capability). */
const PLAIN_PROBES: Record<Exclude<CapabilityKey, PurposeCapability>, Probe> = {
  staffAccounts: ['GET', '/api/v1/staff/roles'],
  // The caller's own account: past both of the removal's gate calls, then 409 own_account (which
  // counts as answered below); nothing is removed.
  staffRemoval: ['DELETE', '/api/v1/staff/{own}'],
  rightsRequests: ['GET', '/api/v1/requests'],
  auditVerify: ['GET', '/api/v1/audit/verify'],
  policyRegister: ['GET', '/api/v1/policy/versions'],
  billingSettings: [
    'PUT',
    '/api/v1/billing/settings',
    { payeeIban: 'BE68539007547034', paymentTermDays: 30 },
  ],
  websiteStatistics: ['GET', `/api/v1/cookies/statistics?${RANGE}`],
  callImports: ['GET', '/api/v1/call-record-imports'],
  tariffs: ['GET', '/api/v1/tariffs'],
  organisationChanges: ['POST', '/api/v1/organisations', { name: 'Probe bv' }],
};

/** The capabilities whose routes act under the declared purpose, each with a route behind it. */
type PurposeCapability =
  'quotes' | 'orders' | 'people' | 'peopleCreate' | 'billing' | 'dossier' | 'telephony' | 'mailings';

function purposeProbes(customerId: number, productId: number): Record<PurposeCapability, Probe> {
  return {
    // The quotes screen makes quotes: a write, which only the policy's quote purposes do (decision 0927).
    quotes: [
      'POST',
      '/api/v1/quotes',
      { subjectId: customerId, validUntil: '2099-12-31', lines: [{ productId, quantity: 1 }] },
    ],
    orders: ['GET', '/api/v1/orders'],
    people: ['GET', '/api/v1/people'],
    // A person of a type the purpose reaches (staff accounts are the staff screen's; decision 1111).
    peopleCreate: [
      'POST',
      '/api/v1/people',
      (types: readonly string[]) => ({
        subjectType: types.find((type) => type !== 'staff') ?? 'customer',
        familyName: 'Probe',
        givenName: 'Registered',
      }),
    ],
    billing: ['GET', '/api/v1/invoices'],
    dossier: ['GET', `/api/v1/customers/${customerId}/dossier`],
    telephony: ['GET', '/api/v1/phone-numbers'],
    mailings: ['POST', '/api/v1/mailings', { texts: { en: { subject: 'Probe', body: 'Probe' } } }],
  };
}

/** A write that succeeded answers 201 (a new organisation) or 200. */
const isSuccess = (status: number): boolean => status === 200 || status === 201;

describe('the me answer names what the routes allow (decision 0845)', () => {
  for (const policy of ['voiceking', 'voxtra'] as const satisfies readonly SeedPolicy[]) {
    it(`${policy}: for every role, each capability is listed exactly when its route answers, under the purposes listed (attack S17-3)`, async () => {
      const tenant = await createPolicyTenant(kernel, policy);
      const { policy: installed } = await kernel.policies.current(tenant.tenantId);
      const websiteRoutes = await websiteRoutesAnswer(tenant);
      const customerId = await createCustomer(kernel, tenant);
      const { install } = await prepareTenant(kernel, tenant);
      const seen = new Set<CapabilityKey>();
      for (const role of Object.keys(installed.roles)) {
        const session = await loginAs(app, kernel, tenant, role);
        const me = await requestAs(app, session)('GET', '/api/v1/me/purposes');
        expect(me.statusCode).toBe(200);
        const answer = me.json<MeAnswer>();
        const capability = (key: CapabilityKey) => answer.capabilities.find((found) => found.key === key);
        for (const found of answer.capabilities) seen.add(found.key);
        // These act under the declared purpose: each of the role's ordinary purposes answers when
        // listed and is refused when not (403; 400 for a mailing under a purpose that is not a
        // newsletter's, which the route checks before the gate).
        const ordinary = answer.purposes.filter((purpose) => !purpose.authorityRequestsOnly);
        for (const [key, [method, url, body]] of Object.entries(purposeProbes(customerId, install)) as Array<
          [PurposeCapability, Probe]
        >) {
          const listed = capability(key)?.purposes ?? [];
          for (const purpose of ordinary) {
            const sent =
              typeof body === 'function'
                ? (body as (subjectTypes: readonly string[]) => unknown)(
                    installed.purposes[purpose.key]?.subjectTypes ?? [],
                  )
                : body;
            const status = (await requestAs(app, session, purpose.key)(method, url, sent)).statusCode;
            const refused = key === 'mailings' && status === 400 ? 400 : 403;
            expect({
              role,
              key,
              purpose: purpose.key,
              status: isSuccess(status) ? 'answered' : status,
            }).toEqual({
              role,
              key,
              purpose: purpose.key,
              status: listed.includes(purpose.key) ? 'answered' : refused,
            });
          }
          expect(listed.every((purpose) => ordinary.some((own) => own.key === purpose))).toBe(true);
        }
        for (const [key, [method, url, body]] of Object.entries(PLAIN_PROBES) as Array<
          [keyof typeof PLAIN_PROBES, Probe]
        >) {
          const answer = await requestAs(app, session)(
            method,
            url.replace('{own}', String(session.staffId)),
            body,
          );
          const ownAccount =
            key === 'staffRemoval' &&
            answer.statusCode === 409 &&
            answer.json<{ details?: { reason?: string } }>().details?.reason === 'own_account';
          const status = ownAccount ? 200 : answer.statusCode;
          const listed = capability(key) !== undefined;
          // Where the policy has no website statistics, the route's role rule still answers first.
          const refused = key === 'websiteStatistics' && !websiteRoutes && status === 404 ? 404 : 403;
          expect({ role, key, status: isSuccess(status) ? 'answered' : status }).toEqual({
            role,
            key,
            status: listed ? 'answered' : refused,
          });
        }
      }
      // Every capability is granted to some role of the seed, except the website's at Voxtra
      // (no banner, no statistics: its routes answer 404 to everyone) and the dossier at
      // VoiceKing (its policy keeps none).
      const expected = CAPABILITY_KEYS.filter(
        (key) => (key !== 'websiteStatistics' || websiteRoutes) && (key !== 'dossier' || policy === 'voxtra'),
      );
      expect([...seen].sort()).toEqual([...expected].sort());
    });
  }

  it('the Voxtra admin is not offered quotes, orders or the website; Voxtra sales is offered quotes under its quotes purpose', async () => {
    const voxtra = await createPolicyTenant(kernel, 'voxtra');
    const keysOf = async (role: string) =>
      (
        await requestAs(app, await loginAs(app, kernel, voxtra, role))('GET', '/api/v1/me/purposes')
      ).json<MeAnswer>().capabilities;
    const admin = (await keysOf('admin')).map((found) => found.key);
    expect(admin).toEqual(
      expect.arrayContaining(['staffAccounts', 'auditVerify', 'policyRegister', 'billingSettings']),
    );
    expect(admin).not.toContain('quotes');
    expect(admin).not.toContain('orders');
    expect(admin).not.toContain('websiteStatistics');
    expect((await keysOf('sales')).find((found) => found.key === 'quotes')?.purposes).toContain('quotes');
  });
});

/** Whether the tenant's website statistics routes answer at all (as an admin, who may read them). */
async function websiteRoutesAnswer(tenant: { tenantId: number; slug: string }): Promise<boolean> {
  const admin = await loginAs(app, kernel, tenant, 'admin');
  const status = (await requestAs(app, admin)('GET', `/api/v1/cookies/statistics?${RANGE}`)).statusCode;
  expect([200, 404]).toContain(status);
  return status === 200;
}
