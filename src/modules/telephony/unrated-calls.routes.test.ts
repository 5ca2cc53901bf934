import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { importCdrFile } from './cdr-import.service.js';
import {
  answeredCall,
  bulkConnection,
  registerCustomers,
  TARIFF_CSV,
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
let customers: number[];

// France was priced until the end of 2023 only.
const TARIFF = `${TARIFF_CSV}\n33,0.10,1,1,0,2020-01-01,2024-01-01`;

function call(session: StaffSession, method: 'GET' | 'POST', url: string, purpose?: string, csv?: string) {
  return app.inject({
    method,
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      ...(purpose ? { 'x-kluis-purpose': purpose } : {}),
      ...(csv === undefined ? {} : { 'content-type': 'text/csv' }),
    },
    ...(csv === undefined ? {} : { payload: csv }),
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  billing = await loginAs(app, kernel, voxtra, 'billing');
  sales = await loginAs(app, kernel, voxtra, 'sales');
  otherBilling = await loginAs(app, kernel, voiceking, 'billing');
  customers = await registerCustomers(kernel, voxtra, 2);
  for (const [index, number] of ['056 22 33 44', '056 22 33 55'].entries()) {
    const assigned = await app.inject({
      method: 'POST',
      url: '/api/v1/phone-numbers/assignments',
      headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'x-kluis-purpose': 'invoicing' },
      payload: { number, subjectId: customers[index], from: '2024-06-01' },
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
  }
  expect((await call(billing, 'POST', '/api/v1/tariffs', undefined, TARIFF)).statusCode).toBe(201);
  const dir = await tempDir();
  const file = await writeLines(dir, 'june.csv', [
    answeredCall('n.1', '056223344', '0470123456', '2024-06-03 09:00:00', 60),
    answeredCall('n.2', '056223344', '00442079460000', '2024-06-03 10:00:00', 60),
    answeredCall('n.3', '056223355', '1207', '2024-06-04 10:00:00', 60),
    answeredCall('n.4', '056223355', '0033123456789', '2024-06-05 10:00:00', 60),
    answeredCall('n.5', '056223344', '0012125550100', '2024-06-06 10:00:00', 60),
    // July: another month.
    answeredCall('n.6', '056223344', '00442079460000', '2024-07-01 10:00:00', 60),
  ]);
  const summary = await importCdrFile(
    { kernel, connection: bulkConnection(database) },
    { tenantId: voxtra.tenantId, file },
  );
  expect(summary).toMatchObject({ imported: 6, unrated: 5 });
  // North America priced since: a rerate would price that call.
  expect(
    (await call(billing, 'POST', '/api/v1/tariffs', undefined, `${TARIFF}\n1,0.05,1,1,0,2020-01-01,`))
      .statusCode,
  ).toBe(201);
}, 60_000);
afterAll(async () => {
  await app.close();
  await database.close();
});

interface UnratedPage {
  items: Array<{ subjectId: number; startedAt: string; destination: string; reason: string; caller: string }>;
  total: number;
  nextCursor: string | null;
}

describe('unrated calls across customers (issue 20)', () => {
  it('VX-5: billing lists the month’s unrated calls of every customer with the reason, a page at a time', async () => {
    const first = await call(
      billing,
      'GET',
      '/api/v1/call-records/unrated?month=2024-06&limit=3',
      'call_billing',
    );
    expect(first.statusCode, first.body).toBe(200);
    const page = first.json<UnratedPage>();
    expect(page.total).toBe(4);
    expect(page.items.map((item) => [item.destination, item.reason, item.subjectId])).toEqual([
      ['+442079460000', 'no_rate_for_destination', customers[0]],
      ['1207', 'no_rate_for_dialled_digits', customers[1]],
      ['+33123456789', 'rate_not_valid_then', customers[1]],
    ]);
    expect(page.items[0]).toMatchObject({ caller: '+3256223344', startedAt: '2024-06-03T08:00:00.000Z' });
    expect(first.headers.link).toContain('rel="next"');
    const second = await call(
      billing,
      'GET',
      `/api/v1/call-records/unrated?month=2024-06&limit=3&cursor=${page.nextCursor ?? ''}`,
      'call_billing',
    );
    const rest = second.json<UnratedPage>();
    expect(rest.items.map((item) => [item.destination, item.reason])).toEqual([
      ['+12125550100', 'rate_added_since'],
    ]);
    expect(rest.nextCursor).toBeNull();
    const july = await call(billing, 'GET', '/api/v1/call-records/unrated?month=2024-07', 'call_billing');
    expect(july.json<UnratedPage>().items.map((item) => item.destination)).toEqual(['+442079460000']);
  });

  it('only under the call-billing purpose and its roles; another tenant sees none of them; bad input is a 400', async () => {
    const url = '/api/v1/call-records/unrated?month=2024-06';
    const wrongPurpose = await call(billing, 'GET', url, 'invoicing');
    expect(wrongPurpose.statusCode).toBe(403);
    expect(wrongPurpose.json()).toMatchObject({ code: 'category_not_allowed' });
    const bySales = await call(sales, 'GET', url, 'call_billing');
    expect(bySales.statusCode).toBe(403);
    expect(bySales.json()).toMatchObject({ code: 'role_not_allowed' });
    const other = await call(otherBilling, 'GET', url, 'call_billing');
    expect(other.statusCode).toBe(200);
    expect(other.json<UnratedPage>()).toMatchObject({ items: [], total: 0 });
    for (const bad of ['month=2024-13', 'month=june', '', 'month=2024-06&cursor=bm90LWEtY3Vyc29y']) {
      const answer = await call(billing, 'GET', `/api/v1/call-records/unrated?${bad}`, 'call_billing');
      expect(answer.statusCode, bad).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'validation_failed' });
    }
  });
});
