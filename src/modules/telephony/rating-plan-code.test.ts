import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';

// Rating-plan codes are unique regardless of case in the database itself (migration 0382,
// decision 0383), not only in the service (issue 22 attack).
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  billing = await loginAs(app, kernel, voxtra, 'billing');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const create = (code: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/rating-plans',
    headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken },
    payload: { code, name: `Plan ${code}`, definition: {} },
  });

async function plansCoded(code: string): Promise<string[]> {
  const rows = await runAsOwner<{ code: string }>(
    database.ownerUrl,
    'select code from rating_plans where tenant_id = $1 and lower(code) = lower($2)',
    [voxtra.tenantId, code],
  );
  return rows.rows.map((row) => row.code);
}

describe('rating-plan codes regardless of case', () => {
  it('two concurrent creations of one code in different case: one 201, one 409 conflict, one plan', async () => {
    for (let round = 0; round < 5; round += 1) {
      const code = `night-${round}`;
      const answers = await Promise.all([create(code.toUpperCase()), create(code)]);
      expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 409]);
      const refused = answers.find((answer) => answer.statusCode === 409);
      expect(refused?.json()).toMatchObject({ code: 'conflict' });
      expect(await plansCoded(code)).toHaveLength(1);
    }
  });

  it('the database itself refuses a second plan whose code differs only in case', async () => {
    expect((await create('Weekend')).statusCode).toBe(201);
    await expect(
      runAsOwner(
        database.ownerUrl,
        `insert into rating_plans (tenant_id, code, name, definition, created_at) values ($1, 'WEEKEND', 'x', '{}', now())`,
        [voxtra.tenantId],
      ),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await plansCoded('weekend')).toEqual(['Weekend']);
  });
});
