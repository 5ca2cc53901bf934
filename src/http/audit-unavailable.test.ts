import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, requestAs } from '../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import { writeRowBeyondHead } from '../kernel/audit/audit.test-helpers.js';
import type { Kernel } from '../kernel/kernel.js';

// Attack finding S11-4, decision 0680: a row inserted past the chain head takes the seq every
// audited write of the tenant needs. The write is refused with a stable code, not a bare 500 from
// the unique violation. Since decision 0685 only the owner can write such a row: the app role's
// attempt is refused and the tenant's writes go on.

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

describe('an audited write under a blocked chain', () => {
  it('answers 503 audit_unavailable naming nothing of the input, and changes nothing', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const officer = requestAs(app, await loginAs(app, kernel, tenant, 'privacy_officer'));
    const before = await officer('POST', '/api/v1/incidents', {
      kind: 'other',
      description: 'before the block',
    });
    expect(before.statusCode).toBe(201);
    const seq = await writeRowBeyondHead(database.ownerUrl, tenant.tenantId, 'owner');
    expect(seq).toBeGreaterThan(1);

    const blocked = await officer('POST', '/api/v1/incidents', {
      kind: 'other',
      description: 'attack S11 write under a blocked chain',
    });
    expect(blocked.statusCode).toBe(503);
    const problem = blocked.json<{ code: string; details?: { blockedSeq?: number } }>();
    expect(problem.code).toBe('audit_unavailable');
    expect(problem.details?.blockedSeq).toBe(seq);
    const { rows } = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from incidents where tenant_id = $1`,
      [tenant.tenantId],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('S11-4: the attack as the app role is refused (permission denied), and the next audited write answers 201', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const officer = requestAs(app, await loginAs(app, kernel, tenant, 'privacy_officer'));
    const before = await officer('POST', '/api/v1/incidents', {
      kind: 'other',
      description: 'before the refused row',
    });
    expect(before.statusCode).toBe(201);
    await expect(writeRowBeyondHead(database.ownerUrl, tenant.tenantId)).rejects.toThrow(
      /permission denied for table audit_log/,
    );
    const after = await officer('POST', '/api/v1/incidents', {
      kind: 'other',
      description: 'attack S11 write after the refused row',
    });
    expect(after.statusCode).toBe(201);
    const { rows } = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from incidents where tenant_id = $1`,
      [tenant.tenantId],
    );
    expect(rows[0]?.n).toBe(2);
  });
});
