import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, installLaterVoiceKingVersion } from '../../../test/kernel.js';
import { createTenant, type Tenant } from '../../modules/tenants/index.js';
import { kernelCore } from '../kernel.js';
import { policiesBehindNewRules } from './index.js';
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
  await installLaterVoiceKingVersion(kernel, voiceking, '/etc/kluis/voiceking-2026.3.yaml');
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
          statementVersion: '2026.3',
          effectiveDate: '2027-01-01',
          inForce: true,
          sourceFile: 'voiceking-2026.3.yaml',
        },
        { versionNo: 1, statementVersion: '2026.2', effectiveDate: '2026-12-01', inForce: false },
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
    expect(first.body).toContain('2026.2');
    expect(first.body).not.toContain('2026.3');
    const second = await app.inject({
      method: 'GET',
      url: '/api/v1/policy/versions/2/statement?lang=nl',
      headers: as(admin),
    });
    expect(second.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(second.body).toContain('2026.3');
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

  it('VK-29: a version stored before a rule new versions follow stays in force after an upgrade: the API, the statement and its version answer; installing it again is refused naming the rule; the start names the tenant (attack S18-10, decision 0871)', async () => {
    // Voxtra as an earlier Kluis stored it: the incidents purpose without staff (before S18-1's rule).
    const tenant = await createTenant(kernelCore(kernel).db, {
      slug: `voxtra-old-${Date.now()}`,
      name: 'voxtra',
    });
    const before = (await readFile('policies/voxtra.yaml', 'utf8')).replace(
      /(# Everyone whose data we keep[^\n]*\n\s*subjectTypes: \[customer, contact_person, prospect), staff\]/,
      '$1]',
    );
    expect(before).toMatch(
      /our own staff too[^\n]*\n\s*subjectTypes: \[customer, contact_person, prospect\]\n/,
    );
    await runAsOwner(
      database.ownerUrl,
      `insert into tenant_policies (tenant_id, version_no, statement_version, effective_date, source_file, source_yaml, source_sha256)
       values ($1, 1, '2026.1', '2026-11-22', 'policies/voxtra.yaml', $2, $3)`,
      [tenant.tenantId, before, createHash('sha256').update(before).digest('hex')],
    );
    const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
    const incidents = await app.inject({
      method: 'GET',
      url: '/api/v1/incidents',
      headers: { ...as(officer), 'x-kluis-purpose': 'breach_notification' },
    });
    expect(incidents.statusCode, incidents.body).toBe(200);
    const statement = await app.inject({ method: 'GET', url: `/t/${tenant.slug}/privacy` });
    expect(statement.statusCode).toBe(200);
    const tenantAdmin = await loginAs(app, kernel, tenant, 'admin');
    const version = await app.inject({
      method: 'GET',
      url: '/api/v1/policy/versions/1/statement',
      headers: as(tenantAdmin),
    });
    expect(version.statusCode, version.body).toBe(200);

    await expect(
      kernel.policies.install(tenant.tenantId, before, 'policies/voxtra.yaml'),
    ).rejects.toMatchObject({
      code: 'invalid_policy',
    });
    expect(await policiesBehindNewRules(kernel)).toContainEqual({
      slug: tenant.slug,
      versionNo: 1,
      issues: [expect.stringContaining('the incidents purpose must reach every subject type')],
    });
    // The seed as it is now passes: installing it clears the warning.
    // Its statement changed (staff among the people of the incidents purpose): a new statement version (0923).
    await kernel.policies.install(
      tenant.tenantId,
      (await readFile('policies/voxtra.yaml', 'utf8')).replace("version: '2026.1'", "version: '2026.2'"),
      'policies/voxtra.yaml',
    );
    expect((await policiesBehindNewRules(kernel)).map((behind) => behind.slug)).not.toContain(tenant.slug);
  });
});
