import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { createCustomer, staffCall } from '../../modules/recipients/recipients.test-helpers.js';
import type { Tenant } from '../../modules/tenants/index.js';
import type { Kernel } from '../kernel.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
}, 60_000);
afterAll(async () => {
  await app.close();
  await database.close();
});

interface Logged {
  disclosureId: number;
  recipient: string;
  purpose: string;
  people: number;
  actor: { kind: string; id: string };
  reference: string;
}

describe('GET /api/v1/disclosures — the disclosure log as a list (issue 20)', () => {
  it('VK-10: the privacy officer lists what went to which recipient, filtered by recipient and period; others are refused', async () => {
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const people = [
      await createCustomer(kernel, voiceking, 'order_processing'),
      await createCustomer(kernel, voiceking, 'order_processing'),
    ];
    const references: string[] = [];
    for (const subjectIds of [[people[0]?.subjectId], people.map((person) => person.subjectId)]) {
      const file = await staffCall(app, sales, 'POST', '/api/v1/recipients/email_marketing/exports', {
        purpose: 'newsletter_customers',
        payload: { subjectIds },
      });
      expect(file.statusCode, file.body).toBe(200);
      references.push(String(file.headers['x-kluis-disclosure']));
    }

    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const listed = await staffCall(app, officer, 'GET', '/api/v1/disclosures');
    expect(listed.statusCode, listed.body).toBe(200);
    const items = listed.json<{ items: Logged[] }>().items;
    expect(items.map((item) => [item.reference, item.people])).toEqual([
      [references[1], 2],
      [references[0], 1],
    ]);
    expect(items[0]).toMatchObject({
      recipient: 'email_marketing',
      purpose: 'newsletter_customers',
      actor: { kind: 'staff', id: String(sales.staffId) },
    });
    const rows = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from disclosures where tenant_id = $1',
      [voiceking.tenantId],
    );
    expect(rows.rows[0]?.n).toBe(items.length);

    const today = new Date().toISOString().slice(0, 10);
    const paged = await staffCall(
      app,
      officer,
      'GET',
      `/api/v1/disclosures?limit=1&from=${today}&to=${today}`,
    );
    expect(paged.json<{ items: Logged[] }>().items).toHaveLength(1);
    expect(paged.headers.link).toContain('rel="next"');
    const other = await staffCall(app, officer, 'GET', '/api/v1/disclosures?recipient=judicial_authorities');
    expect(other.json<{ items: unknown[] }>().items).toEqual([]);
    const past = await staffCall(app, officer, 'GET', '/api/v1/disclosures?to=2020-01-01');
    expect(past.json<{ items: unknown[] }>().items).toEqual([]);
    const backwards = await staffCall(
      app,
      officer,
      'GET',
      '/api/v1/disclosures?from=2026-12-01&to=2026-11-01',
    );
    expect(backwards.statusCode).toBe(400);

    for (const role of ['sales', 'admin']) {
      const session = role === 'sales' ? sales : await loginAs(app, kernel, voiceking, role);
      expect((await staffCall(app, session, 'GET', '/api/v1/disclosures')).statusCode).toBe(403);
    }
    const foreign = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const theirs = await staffCall(app, foreign, 'GET', '/api/v1/disclosures');
    expect(theirs.json<{ items: unknown[] }>().items).toEqual([]);
  });
});
