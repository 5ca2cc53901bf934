/**
 * Decision 1120: a field this installation's key store cannot open (data and key store that do
 * not belong together, or a row altered by hand) answers a stable code over HTTP, not a bare 500.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { createPerson } from '../../modules/parties/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import type { Kernel } from '../kernel.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let tenant: Tenant;
let sales: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  tenant = await createPolicyTenant(kernel, 'voxtra');
  sales = await loginAs(app, kernel, tenant, 'sales');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

describe('a field that cannot be opened (attack S23-3, decision 1120)', () => {
  it('GET /api/v1/people/:id of a person whose e-mail does not open answers 500 field_unreadable with a message for the operator', async () => {
    const context = {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff' as const, staffId: 1, role: 'sales' },
      purpose: 'customer_administration',
    };
    const make = (email: string, familyName: string) =>
      createPerson(kernel, context, { subjectType: 'customer', familyName, givenName: 'Test', email });
    const a = await make('a.unreadable@example.be', 'Aerts');
    const b = await make('b.unreadable@example.be', 'Bauwens');
    // Another data key's ciphertext in b's row: what a key store of another installation looks like.
    await runAsOwner(
      database.ownerUrl,
      'update people set email_enc = (select email_enc from people where tenant_id = $1 and subject_id = $2) where tenant_id = $1 and subject_id = $3',
      [tenant.tenantId, a.subjectId, b.subjectId],
    );
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${b.subjectId}`,
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'customer_administration' },
    });
    expect(response.statusCode).toBe(500);
    const body = response.json<{ code: string; detail: string; details: unknown }>();
    expect(body.code).toBe('field_unreadable');
    expect(body.detail).toMatch(/cannot be read with this installation’s key store/);
    expect(body.details).toEqual({ table: 'people', column: 'email_enc' });
    const readable = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${a.subjectId}`,
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'customer_administration' },
    });
    expect(readable.statusCode).toBe(200);
  });
});
