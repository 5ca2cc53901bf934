/**
 * Issue 10, "Found by the attack": each finding of the attack on a running instance, replayed
 * over HTTP against both seed policies. Every test here failed on the code before the fix.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Tenant } from '../modules/tenants/index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;
let sales: StaffSession;
let admin: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  sales = await loginAs(app, kernel, voiceking, 'sales');
  admin = await loginAs(app, kernel, voiceking, 'admin');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(
  session: StaffSession,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  headers: Record<string, string> = {},
  payload?: Record<string, unknown>,
) {
  return app.inject({
    method,
    url,
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
}

const codeOf = (response: { json: () => unknown }): unknown => {
  const body = response.json() as { code?: unknown; error?: { code?: unknown } };
  return body.code ?? body.error?.code;
};

describe('hostile keys and values are bad input (400), never a crash', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'x', ''])(
    'x-kluis-purpose: %j is refused with 400',
    async (purpose) => {
      for (const [method, url] of [
        ['GET', '/api/v1/people?name=Jan'],
        ['GET', '/api/v1/people/1'],
        ['POST', '/api/v1/people/1/report-minor'],
        ['GET', '/api/v1/invoices'],
        ['GET', '/api/v1/contracts'],
      ] as const) {
        const response = await call(sales, method, url, { 'x-kluis-purpose': purpose });
        expect({ url, status: response.statusCode, code: codeOf(response) }).toEqual({
          url,
          status: 400,
          code: 'validation_failed',
        });
      }
    },
  );

  it('a role named like an Object.prototype member is not a role of the policy', async () => {
    const response = await call(admin, 'POST', '/api/v1/tokens', {}, { label: 'proto', role: 'constructor' });
    expect(response.statusCode).toBe(400);
    expect(codeOf(response)).toBe('validation_failed');
  });

  it.each([
    '/api/v1/people?cursor=99999999999999999999',
    '/api/v1/people?cursor=9999999999',
    '/api/v1/contracts?cursor=99999999999999999999',
    '/api/v1/invoices?cursor=99999999999999999999',
    '/api/v1/people/1%00',
    '/api/v1/requests/1%00/verify',
    '/t/voiceking%00/privacy',
    '/api/v1/people?name=Jan%00',
  ])('%s answers 400', async (url) => {
    const method = url.includes('/verify') ? 'POST' : 'GET';
    const purpose = url.includes('invoices') ? 'billing' : 'order_processing';
    const session = url.includes('invoices') ? await loginAs(app, kernel, voiceking, 'billing') : sales;
    const response = await call(session, method, url, { 'x-kluis-purpose': purpose });
    expect(response.statusCode).toBe(400);
    expect(codeOf(response)).toBe('validation_failed');
  });

  it.each([
    '/api/v1/organisations?cursor=9999999999',
    '/api/v1/people/99999999999',
    '/api/v1/invoices/99999999999',
    '/api/v1/contracts/99999999999',
    '/api/v1/staff/99999999999',
  ])('%s (beyond the database integer range) answers without a 5xx', async (url) => {
    const purpose = url.includes('invoices') ? 'billing' : 'order_processing';
    const session = url.includes('invoices') ? await loginAs(app, kernel, voiceking, 'billing') : sales;
    const response = await call(url.includes('staff') ? admin : session, 'GET', url, {
      'x-kluis-purpose': purpose,
    });
    expect(response.statusCode).toBeLessThan(500);
  });

  it('the Voxtra tenant refuses the same keys', async () => {
    const voxtraSales = await loginAs(app, kernel, voxtra, 'sales');
    const response = await call(voxtraSales, 'GET', '/api/v1/people', { 'x-kluis-purpose': 'constructor' });
    expect(response.statusCode).toBe(400);
  });
});
