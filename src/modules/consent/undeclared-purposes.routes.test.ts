import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { buildAccessReport } from '../../kernel/access-report/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import { recordConsent } from './index.js';

// Decision 0982 left the ledger of a dropped purpose readable only in the person's own access
// report; decision 1041: the privacy officer reads it too, under the rights purpose.

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
const clock = fixedClock(new Date('2026-11-20T10:00:00Z'));

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
}, 120_000);
afterAll(async () => {
  await app.close();
  await database.close();
});

const SALES = { kind: 'staff', staffId: 1, role: 'sales' } as const;

describe('the consent ledger of a purpose the policy no longer declares (decision 0982, 1041)', () => {
  it('VK-29: after a new policy version drops a purpose, the privacy officer reads its consent records over HTTP under the rights purpose, as the access report lists them; a declared purpose, another role and an unknown person are refused', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const person = await createPerson(
      kernel,
      { tenantId: tenant.tenantId, actor: SALES, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Profiel', givenName: 'Ilse', email: 'ilse@mail.example' },
    );
    const given = await recordConsent(
      kernel,
      { tenantId: tenant.tenantId, actor: SALES, purpose: 'interest_profiles' },
      {
        subjectId: person.subjectId,
        purpose: 'interest_profiles',
        event: 'given',
        channel: 'staff_phone',
        wording: { language: 'nl', text: 'Mogen wij uw interesses bijhouden?' },
        statement: 'Ja, dat mag.',
      },
    );
    // The next version renames the purpose: `interest_profiles` is no longer declared.
    const seed = await readFile(path.join(import.meta.dirname, '../../../policies/voiceking.yaml'), 'utf8');
    await kernel.policies.install(
      tenant.tenantId,
      seed
        .replaceAll('interest_profiles', 'interest_profiling')
        .replace(/version: '[0-9.]+'/, "version: '2027.1'"),
      'policies/voiceking-2027.yaml',
    );
    const { policy } = await kernel.policies.current(tenant.tenantId);
    expect(Object.keys(policy.purposes)).not.toContain('interest_profiles');

    const officer = requestAs(app, await loginAs(app, kernel, tenant, 'privacy_officer'), 'rights_requests');
    const url = `/api/v1/people/${person.subjectId}/consents/undeclared-purposes`;
    const read = await officer('GET', url);
    expect(read.statusCode).toBe(200);
    const items = read.json<{ items: Array<Record<string, unknown>> }>().items;
    expect(items).toEqual([
      expect.objectContaining({
        recordId: given.recordId,
        purpose: 'interest_profiles',
        event: 'given',
        channel: 'staff_phone',
        statement: 'Ja, dat mag.',
      }),
    ]);
    expect(items[0]?.wording).toMatchObject({ language: 'nl', text: 'Mogen wij uw interesses bijhouden?' });
    // The same records the person's access report lists.
    const report = await buildAccessReport(kernel, DATA_MAP, {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' },
      purpose: 'rights_requests',
      subjectId: person.subjectId,
      language: 'en',
    });
    const ledger = report.data.find((table) => table.table === 'consent_records');
    expect(JSON.stringify(ledger?.rows)).toContain('interest_profiles');
    // The read went through the gate and is audited under the rights purpose.
    const audit = await runAsOwner<{ purpose: string; decision: string }>(
      database.ownerUrl,
      `select purpose, decision from audit_log where tenant_id = $1 and actor_kind = 'staff'
         and action = 'read' order by seq desc limit 1`,
      [tenant.tenantId],
    );
    expect(audit.rows[0]).toEqual({ purpose: 'rights_requests', decision: 'allowed' });

    // Under another purpose of the officer's role, or by a role without the rights purpose: refused.
    const sales = await loginAs(app, kernel, tenant, 'sales');
    const bySales = await requestAs(app, sales, 'newsletter_customers')('GET', url);
    expect(bySales.statusCode).toBe(403);
    expect(bySales.json<{ code: string }>().code).toBe('purpose_not_allowed');
    const salesAsOfficer = await requestAs(app, sales, 'rights_requests')('GET', url);
    expect(salesAsOfficer.statusCode).toBe(403);
    const unknown = await officer('GET', '/api/v1/people/999999/consents/undeclared-purposes');
    expect(unknown.statusCode).toBe(404);
  });
});
