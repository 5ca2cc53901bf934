import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, requestAs } from '../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';

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

describe('authentication before validation', () => {
  it('an anonymous request with a bad body to a protected route gets 401 with WWW-Authenticate, not the schema', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/people',
      payload: { nonsense: true },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="kluis"');
    expect(response.body).not.toContain('nonsense');
    expect(response.body).not.toMatch(/body\//);
  });

  it('an anonymous request with a bad query or path to a protected route gets 401 too', async () => {
    const query = await app.inject({ method: 'GET', url: '/api/v1/invoices?limit=abc' });
    expect(query.statusCode).toBe(401);
    const params = await app.inject({ method: 'GET', url: '/api/v1/people/not-a-number' });
    expect(params.statusCode).toBe(401);
    expect(params.headers['www-authenticate']).toContain('Bearer');
  });
});

describe('errors as RFC 9457 problems', () => {
  it('a schema violation is an application/problem+json with type, title, status, detail, instance, code and details.issues', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const session = await loginAs(app, kernel, tenant, 'sales');
    const response = await requestAs(app, session, 'customer_administration')('POST', '/api/v1/people', {
      subjectType: 'customer',
      email: 42,
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const problem = response.json<{
      type: string;
      title: string;
      status: number;
      detail: string;
      instance: string;
      code: string;
      details: { issues: { path: string; message: string }[] };
    }>();
    expect(problem).toMatchObject({
      type: '/api/problems/validation_failed',
      title: 'The request is not valid',
      status: 400,
      code: 'validation_failed',
    });
    expect(problem.detail).toBeTruthy();
    expect(problem.instance).toBe(`urn:kluis:request:${response.headers['x-request-id'] as string}`);
    expect(problem.details.issues.some((issue) => issue.path.startsWith('body'))).toBe(true);
    expect(response.body).not.toContain('"error"');

    const type = await app.inject({ method: 'GET', url: problem.type });
    expect(type.json()).toEqual({
      code: 'validation_failed',
      title: 'The request is not valid',
      status: 400,
    });
  });

  it('an error raised by a service is a problem too, with its stable code as an extension member', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const session = await loginAs(app, kernel, tenant, 'sales');
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/people/999999',
      headers: { cookie: session.cookie, 'x-kluis-purpose': 'customer_administration' },
    });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({
      status: 404,
      code: 'not_found',
      type: '/api/problems/not_found',
    });
  });
});

describe('GET /api/v1/me/purposes', () => {
  it('lists the purposes the signed-in role may act under, with nl/fr/en labels, per tenant policy', async () => {
    const voxtra = await createPolicyTenant(kernel, 'voxtra');
    const voiceking = await createPolicyTenant(kernel, 'voiceking');
    const atVoxtra = await loginAs(app, kernel, voxtra, 'billing');
    const atVoiceking = await loginAs(app, kernel, voiceking, 'billing');
    const list = async (cookie: string) => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/me/purposes', headers: { cookie } });
      expect(response.statusCode).toBe(200);
      return response.json<{
        role: { key: string; label: { nl: string } | null };
        purposes: { key: string; label: { nl: string; fr: string; en: string } }[];
      }>();
    };
    const voxtraPurposes = await list(atVoxtra.cookie);
    expect(voxtraPurposes.role.key).toBe('billing');
    const voxtraKeys = voxtraPurposes.purposes.map((purpose) => purpose.key);
    expect(voxtraKeys).toContain('invoicing');
    expect(voxtraKeys).not.toContain('billing');
    expect(voxtraKeys).not.toContain('quotes'); // sales only
    expect(voxtraPurposes.purposes.find((purpose) => purpose.key === 'invoicing')?.label).toEqual({
      nl: 'facturatie',
      fr: 'facturation',
      en: 'invoicing',
    });
    const voicekingKeys = (await list(atVoiceking.cookie)).purposes.map((purpose) => purpose.key);
    expect(voicekingKeys).toContain('billing');
    expect(voicekingKeys).not.toContain('invoicing');
  });

  it("marks the purposes mailings are sent under (the policy's newsletter section)", async () => {
    const voiceking = await createPolicyTenant(kernel, 'voiceking');
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/me/purposes',
      headers: { cookie: sales.cookie },
    });
    const marked = response
      .json<{ purposes: { key: string; newsletter: boolean }[] }>()
      .purposes.filter((purpose) => purpose.newsletter)
      .map((purpose) => purpose.key);
    expect(marked).toEqual(['newsletter_customers', 'newsletter_opt_in']);
  });

  it('an unknown purpose is refused with the valid ones for the role in details.validPurposes', async () => {
    const voxtra = await createPolicyTenant(kernel, 'voxtra');
    const session = await loginAs(app, kernel, voxtra, 'billing');
    const valid = (
      await app.inject({ method: 'GET', url: '/api/v1/me/purposes', headers: { cookie: session.cookie } })
    )
      .json<{ purposes: { key: string }[] }>()
      .purposes.map((purpose) => purpose.key);
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/invoices',
      headers: { cookie: session.cookie, 'x-kluis-purpose': 'billing' },
    });
    expect(response.statusCode).toBe(400);
    const problem = response.json<{ code: string; details: { validPurposes: string[] } }>();
    expect(problem.code).toBe('validation_failed');
    expect(problem.details.validPurposes).toEqual(valid);
  });
});

describe('standard parts', () => {
  it('every answer carries security headers (CSP without inline script, nosniff, frame-ancestors) from helmet', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(response.headers['strict-transport-security']).toBeUndefined();
    const docs = await app.inject({ method: 'GET', url: '/api/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).not.toMatch(/<script>(?!\s*<\/script>)/);
  });

  it('the session cookie is set and read by @fastify/cookie: HttpOnly, SameSite=Strict, Path=/', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const session = await loginAs(app, kernel, tenant, 'sales');
    expect(session.cookie).toMatch(/^kluis_session=[^;]+$/);
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: `other=1; ${session.cookie}; third=x` },
    });
    expect(me.statusCode).toBe(200);
    const logout = await requestAs(app, session)('POST', '/api/v1/auth/logout');
    expect(String(logout.headers['set-cookie'])).toMatch(
      /^kluis_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/,
    );
  });
});
