import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { importCdrFile } from './cdr-import.service.js';
import { CdrLayoutError } from './cdr.parse.js';
import {
  asteriskLine,
  bulkConnection,
  registerCustomers,
  tempDir,
  writeLines,
} from './telephony.test-helpers.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let voiceking: Tenant;
let billing: StaffSession;
let sales: StaffSession;
let otherBilling: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  billing = await loginAs(app, kernel, voxtra, 'billing');
  sales = await loginAs(app, kernel, voxtra, 'sales');
  otherBilling = await loginAs(app, kernel, voiceking, 'billing');
}, 60_000);
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(session: StaffSession, method: 'GET' | 'POST', url: string, payload?: unknown) {
  return app.inject({
    method,
    url,
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

interface ImportItem {
  importId: number;
  fileName: string;
  status: string;
  linesRead: number;
  imported: number;
  rejected: number;
  rejectsByReason: Record<string, number>;
  errorCode: string | null;
}

describe('call-record imports on record (issue 20)', () => {
  it('VX-5: each import is listed with its counts; the one that rejected lines, the one that failed on its layout and one interrupted are the failed imports', async () => {
    const [customer = 0] = await registerCustomers(kernel, voxtra, 1);
    const assigned = await app.inject({
      method: 'POST',
      url: '/api/v1/phone-numbers/assignments',
      headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'x-kluis-purpose': 'invoicing' },
      payload: { number: '056 22 33 44', subjectId: customer, from: '2024-06-01' },
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
    const dir = await tempDir();
    const line = (src: string, uniqueId: string) =>
      asteriskLine({
        src,
        dst: '0470123456',
        start: '2024-06-03 09:00:00',
        answer: '2024-06-03 09:00:04',
        end: '2024-06-03 09:01:04',
        duration: 64,
        billsec: 60,
        uniqueId,
        sequence: 1,
      });
    const deps = { kernel, connection: bulkConnection(database) };
    const clean = await writeLines(dir, 'june clean.csv', [line('056223344', '1.1')]);
    await importCdrFile(deps, { tenantId: voxtra.tenantId, file: clean });
    const partly = await writeLines(dir, 'june-partly.csv', [
      line('056223344', '2.1'),
      line('056999999', '2.2'),
    ]);
    const summary = await importCdrFile(deps, { tenantId: voxtra.tenantId, file: partly });
    expect(summary).toMatchObject({ imported: 1, rejected: 1 });
    const wrong = await writeLines(dir, 'wrong.csv', ['a,b,c,d,e,f,g,h,i,j', '1,2,3,4,5,6,7,8,9,10']);
    await expect(importCdrFile(deps, { tenantId: voxtra.tenantId, file: wrong })).rejects.toThrow(
      CdrLayoutError,
    );
    // A run killed half-way stays "running"; not heard of for an hour, it shows as interrupted.
    await runAsOwner(
      database.ownerUrl,
      `insert into call_record_imports (tenant_id, file_name, format, status, started_at, updated_at, lines_read)
       values ($1, 'killed.csv', 'auto', 'running', now() - interval '2 hours', now() - interval '1 hour', 50000)`,
      [voxtra.tenantId],
    );

    const listed = await call(billing, 'GET', '/api/v1/call-record-imports');
    expect(listed.statusCode, listed.body).toBe(200);
    const items = listed.json<{ items: ImportItem[] }>().items;
    expect(items.map((item) => [item.fileName, item.status])).toEqual([
      ['killed.csv', 'interrupted'],
      ['wrong.csv', 'failed'],
      ['june-partly.csv', 'finished'],
      ['june clean.csv', 'finished'],
    ]);
    expect(items[1]).toMatchObject({ errorCode: 'layout', imported: 0 });
    expect(items[2]).toMatchObject({
      linesRead: 2,
      imported: 1,
      rejected: 1,
      rejectsByReason: { not_attributed: 1 },
      errorCode: null,
    });

    const problems = await call(billing, 'GET', '/api/v1/call-record-imports?problems=true&limit=2');
    const page = problems.json<{ items: ImportItem[]; nextCursor: string | null }>();
    expect(page.items.map((item) => item.fileName)).toEqual(['killed.csv', 'wrong.csv']);
    expect(problems.headers.link).toContain('rel="next"');
    const rest = await call(
      billing,
      'GET',
      `/api/v1/call-record-imports?problems=true&limit=2&cursor=${page.nextCursor ?? ''}`,
    );
    expect(rest.json<{ items: ImportItem[] }>().items.map((item) => item.fileName)).toEqual([
      'june-partly.csv',
    ]);

    const rows = await runAsOwner<{ status: string; n: number }>(
      database.ownerUrl,
      'select status, count(*)::int as n from call_record_imports where tenant_id = $1 group by status order by status',
      [voxtra.tenantId],
    );
    expect(rows.rows).toEqual([
      { status: 'failed', n: 1 },
      { status: 'finished', n: 2 },
      { status: 'running', n: 1 },
    ]);

    // Sales has no work on call records; another tenant's billing sees none of these.
    const refused = await call(sales, 'GET', '/api/v1/call-record-imports');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'role_not_allowed' });
    const other = await call(otherBilling, 'GET', '/api/v1/call-record-imports');
    expect(other.json<{ items: unknown[] }>().items).toEqual([]);
    expect((await call(billing, 'GET', '/api/v1/call-record-imports?cursor=x')).statusCode).toBe(400);
  });
});

describe('rating plans over HTTP (issue 20)', () => {
  const definition = {
    timeBands: [{ band: 'off_peak', days: [1, 2, 3, 4, 5], from: '19:00', to: '24:00' }],
    prices: [{ group: '*', band: 'off_peak', pricePerMinute: '0.02' }],
    included: [],
    onNetFree: true,
  };

  it('billing creates, lists and shows a plan and makes it the tenant’s default; bad input changes nothing; sales and another tenant are refused', async () => {
    const created = await call(billing, 'POST', '/api/v1/rating-plans', {
      code: 'EVENING',
      name: 'Goedkope avonden',
      definition,
    });
    expect(created.statusCode, created.body).toBe(201);
    const plan = created.json<{ planId: number; code: string }>();
    expect(plan.code).toBe('EVENING');
    expect(
      (await call(billing, 'POST', '/api/v1/rating-plans', { code: 'B', name: 'Basis', definition: {} }))
        .statusCode,
    ).toBe(201);

    const taken = await call(billing, 'POST', '/api/v1/rating-plans', {
      code: 'EVENING',
      name: 'Again',
      definition,
    });
    expect(taken.statusCode).toBe(409);
    const bad = await call(billing, 'POST', '/api/v1/rating-plans', {
      code: 'BAD',
      name: 'Bad',
      definition: { timeBands: [{ band: 'x', days: [1], from: '20:00', to: '08:00' }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });

    const first = await call(billing, 'GET', '/api/v1/rating-plans?limit=1');
    const page = first.json<{ items: { code: string }[]; nextCursor: string | null }>();
    expect(page.items.map((item) => item.code)).toEqual(['B']);
    const second = await call(billing, 'GET', `/api/v1/rating-plans?limit=1&cursor=${page.nextCursor ?? ''}`);
    expect(second.json<{ items: { code: string }[]; nextCursor: string | null }>()).toMatchObject({
      items: [{ code: 'EVENING' }],
      nextCursor: null,
    });

    const assigned = await call(billing, 'POST', `/api/v1/rating-plans/${plan.planId}/assignments`, {
      productId: null,
      validFrom: '2026-12-01',
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
    const badDay = await call(billing, 'POST', `/api/v1/rating-plans/${plan.planId}/assignments`, {
      productId: null,
      validFrom: '2026-13-01',
    });
    expect(badDay.statusCode).toBe(400);
    const shown = await call(billing, 'GET', `/api/v1/rating-plans/${plan.planId}`);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({
      code: 'EVENING',
      name: 'Goedkope avonden',
      definition: { onNetFree: true },
      assignments: [{ productId: null, validFrom: '2026-12-01' }],
    });
    const rows = await runAsOwner<{ code: string; valid_from: string }>(
      database.ownerUrl,
      `select p.code, a.valid_from::text as valid_from from rating_plan_assignments a
         join rating_plans p using (tenant_id, plan_id) where a.tenant_id = $1`,
      [voxtra.tenantId],
    );
    expect(rows.rows).toEqual([{ code: 'EVENING', valid_from: '2026-12-01' }]);
    const plans = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from rating_plans where tenant_id = $1',
      [voxtra.tenantId],
    );
    expect(plans.rows[0]?.n).toBe(2);

    const bySales = await call(sales, 'GET', '/api/v1/rating-plans');
    expect(bySales.statusCode).toBe(403);
    expect(
      (await call(sales, 'POST', '/api/v1/rating-plans', { code: 'S', name: 'S', definition })).statusCode,
    ).toBe(403);
    expect((await call(otherBilling, 'GET', `/api/v1/rating-plans/${plan.planId}`)).statusCode).toBe(404);
    const crossed = await call(otherBilling, 'POST', `/api/v1/rating-plans/${plan.planId}/assignments`, {
      productId: null,
      validFrom: '2026-12-01',
    });
    expect(crossed.statusCode).toBe(404);
  });

  it('VX-5: a plan price the rater could not apply exactly (over 1000 euros a minute) is refused naming its field, and nothing is stored; 1000 euros is accepted (attack S22-6, decision 1001)', async () => {
    const plansBefore = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from rating_plans',
    );
    for (const price of ['99999999999999999999', '9007199254.740993', '1000.000001']) {
      const refused = await call(billing, 'POST', '/api/v1/rating-plans', {
        code: 'HUGE',
        name: 'Huge',
        definition: { prices: [{ group: '*', pricePerMinute: price }] },
      });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'validation_failed' });
      expect(refused.body).toContain('pricePerMinute');
      expect(refused.body).toContain('at most 1000 euros');
    }
    const plansAfter = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from rating_plans',
    );
    expect(plansAfter.rows).toEqual(plansBefore.rows);
    const dearest = await call(billing, 'POST', '/api/v1/rating-plans', {
      code: 'DEAREST',
      name: 'Satelliet',
      definition: { prices: [{ group: '*', pricePerMinute: '1000' }] },
    });
    expect(dearest.statusCode, dearest.body).toBe(201);
  });

  it('concurrent creations of one code (in any case) answer one 201 and 409 conflicts; concurrent assignments of one day all succeed and leave one row; never a 5xx', async () => {
    const codes = ['ATT-1', 'ATT-1', 'att-1', 'ATT-1', 'Att-1', 'ATT-1'];
    const created = await Promise.all(
      codes.map((code) => call(billing, 'POST', '/api/v1/rating-plans', { code, name: 'Race', definition })),
    );
    const statuses = created.map((response) => response.statusCode).sort();
    expect(statuses, created.map((response) => response.body).join('\n')).toEqual([
      201, 409, 409, 409, 409, 409,
    ]);
    for (const response of created.filter((answer) => answer.statusCode === 409))
      expect(response.json()).toMatchObject({ code: 'conflict' });
    const raced = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from rating_plans where tenant_id = $1 and lower(code) = 'att-1'",
      [voxtra.tenantId],
    );
    expect(raced.rows[0]?.n).toBe(1);
    const plan = created.find((response) => response.statusCode === 201)?.json<{ planId: number }>();

    const assigned = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(billing, 'POST', `/api/v1/rating-plans/${plan?.planId ?? 0}/assignments`, {
          productId: null,
          validFrom: '2027-02-01',
        }),
      ),
    );
    expect(
      assigned.map((response) => response.statusCode),
      assigned.map((response) => response.body).join('\n'),
    ).toEqual([201, 201, 201, 201, 201, 201]);
    const rows = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from rating_plan_assignments where tenant_id = $1 and valid_from = '2027-02-01'",
      [voxtra.tenantId],
    );
    expect(rows.rows[0]?.n).toBe(1);
  });
});
