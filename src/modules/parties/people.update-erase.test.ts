import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let sales: StaffSession;
let technician: StaffSession;
let privacy: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  sales = await loginAs(app, kernel, voxtra, 'sales');
  technician = await loginAs(app, kernel, voxtra, 'technician');
  privacy = await loginAs(app, kernel, voxtra, 'privacy_officer');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(
  session: StaffSession,
  method: 'POST' | 'PATCH' | 'DELETE' | 'GET',
  url: string,
  purpose: string,
  payload?: unknown,
) {
  return requestAs(app, session, purpose)(method, url, payload);
}

async function createCustomer(familyName: string): Promise<number> {
  const created = await call(sales, 'POST', '/api/v1/people', 'customer_administration', {
    subjectType: 'customer',
    familyName,
    givenName: 'Els',
    email: `${familyName.toLowerCase()}@mail.example`,
  });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<{ subjectId: number }>().subjectId;
}

describe('a person updated and erased over HTTP (issue 12)', () => {
  it('PATCH /api/v1/people/:id corrects the fields given under the purpose; a technician is refused', async () => {
    const id = await createCustomer('Wouters');
    const patched = await call(sales, 'PATCH', `/api/v1/people/${id}`, 'customer_administration', {
      familyName: 'Wouters-Peeters',
      email: 'els.wp@mail.example',
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({
      subjectId: id,
      familyName: 'Wouters-Peeters',
      email: 'els.wp@mail.example',
      givenName: 'Els',
    });
    const refused = await call(technician, 'PATCH', `/api/v1/people/${id}`, 'customer_administration', {
      familyName: 'X',
    });
    expect(refused.statusCode).toBe(403);
    const empty = await call(sales, 'PATCH', `/api/v1/people/${id}`, 'customer_administration', {});
    expect(empty.statusCode).toBe(400);
  });

  it('DELETE /api/v1/people/:id erases the person through the gate under a rights purpose; sales under its own purpose is refused and nothing is erased', async () => {
    const id = await createCustomer('Maes');
    const refused = await call(sales, 'DELETE', `/api/v1/people/${id}`, 'customer_administration');
    expect(refused.statusCode).toBe(403);
    const still = await runAsOwner<{ erased_at: Date | null }>(
      database.ownerUrl,
      'select erased_at from data_subjects where tenant_id = $1 and subject_id = $2',
      [voxtra.tenantId, id],
    );
    expect(still.rows[0]?.erased_at).toBeNull();

    const erased = await call(privacy, 'DELETE', `/api/v1/people/${id}`, 'rights_requests');
    expect(erased.statusCode, erased.body).toBe(200);
    expect(erased.json<{ erased: { table: string }[] }>().erased.map((entry) => entry.table)).toContain(
      'people',
    );
    const gone = await call(sales, 'GET', `/api/v1/people/${id}`, 'customer_administration');
    expect(gone.statusCode).toBe(410);
    const row = await runAsOwner(
      database.ownerUrl,
      'select 1 from people where tenant_id = $1 and subject_id = $2',
      [voxtra.tenantId, id],
    );
    expect(row.rowCount).toBe(0);
  });
});
