import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, installLaterVoiceKingVersion } from '../../../test/kernel.js';
import type { Tenant } from '../../modules/tenants/index.js';
import type { Kernel } from '../kernel.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;
let admin: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  admin = await loginAs(app, kernel, voiceking, 'admin');
  // A second version of VoiceKing's statement, in force from a later day.
  await installLaterVoiceKingVersion(kernel, voiceking, '/etc/kluis/voiceking-2026.2.yaml');
}, 60_000);
afterAll(async () => {
  await app.close();
  await database.close();
});

const as = (session: StaffSession) => ({ cookie: session.cookie });

describe('GET /api/v1/policy/versions — the policy versions and their statements (issue 20)', () => {
  it('VK-29: lists every version newest first with its effective day, and renders the statement each version made', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/policy/versions', headers: as(admin) });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      items: [
        {
          versionNo: 2,
          statementVersion: '2026.2',
          effectiveDate: '2027-01-01',
          inForce: true,
          sourceFile: 'voiceking-2026.2.yaml',
        },
        { versionNo: 1, statementVersion: '2026.1', effectiveDate: '2026-11-22', inForce: false },
      ],
      nextCursor: null,
    });
    const stored = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from tenant_policies where tenant_id = $1',
      [voiceking.tenantId],
    );
    expect(stored.rows[0]?.n).toBe(2);
    const paged = await app.inject({
      method: 'GET',
      url: '/api/v1/policy/versions?limit=1',
      headers: as(admin),
    });
    expect(paged.headers.link).toContain('rel="next"');

    const first = await app.inject({
      method: 'GET',
      url: '/api/v1/policy/versions/1/statement?lang=en&format=md',
      headers: as(admin),
    });
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('2026.1');
    expect(first.body).not.toContain('2026.2');
    const second = await app.inject({
      method: 'GET',
      url: '/api/v1/policy/versions/2/statement?lang=nl',
      headers: as(admin),
    });
    expect(second.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(second.body).toContain('2026.2');
  });

  it('is refused to other roles, and another tenant’s version is not found', async () => {
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/policy/versions', headers: as(sales) })).statusCode,
    ).toBe(403);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/policy/versions/1/statement', headers: as(sales) }))
        .statusCode,
    ).toBe(403);
    const officer = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const own = await app.inject({ method: 'GET', url: '/api/v1/policy/versions', headers: as(officer) });
    expect(own.json<{ items: unknown[] }>().items).toHaveLength(1);
    const crossed = await app.inject({
      method: 'GET',
      url: '/api/v1/policy/versions/2/statement',
      headers: as(officer),
    });
    expect(crossed.statusCode).toBe(404);
  });
});
