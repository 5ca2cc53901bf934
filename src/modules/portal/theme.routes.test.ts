import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

describe('the staff API for the portal colours (issue 19)', () => {
  it('an admin sets the colours and the portal pages use them; another role and a bad colour change nothing', async () => {
    const admin = await loginAs(app, kernel, voiceking, 'admin');
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const call = (session: typeof admin, method: 'GET' | 'PUT', payload?: Record<string, string>) =>
      app.inject({
        method,
        url: '/api/v1/portal/theme',
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
        ...(payload === undefined ? {} : { payload }),
      });
    expect((await call(admin, 'GET')).json()).toEqual({ primary: '#1f4e79', accent: '#9e1b32' });
    const saved = await call(admin, 'PUT', { primary: '#E30613', accent: '#1d1d1b' });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json()).toEqual({ primary: '#e30613', accent: '#1d1d1b' });
    const page = await app.inject({ method: 'GET', url: `/t/${voiceking.slug}/rights` });
    expect(page.body).toContain('--brand:#e30613');

    const bad = await call(admin, 'PUT', { primary: 'red', accent: '#1d1d1b' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });
    const refused = await call(sales, 'PUT', { primary: '#000000', accent: '#000000' });
    expect(refused.statusCode).toBe(403);
    expect((await call(sales, 'GET')).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/portal/theme' })).statusCode).toBe(401);
    expect((await call(admin, 'GET')).json()).toEqual({ primary: '#e30613', accent: '#1d1d1b' });
  });
});
