import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp } from '../../test/http.js';
import { createTestKernel } from '../../test/kernel.js';
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
