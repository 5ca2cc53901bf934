import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { importCdrFile } from './cdr-import.service.js';
import {
  asteriskLine,
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
let billing: StaffSession;
let sales: StaffSession;
let customer: number;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  [customer = 0] = await registerCustomers(kernel, voxtra, 1);
  billing = await loginAs(app, kernel, voxtra, 'billing');
  sales = await loginAs(app, kernel, voxtra, 'sales');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(
  session: StaffSession,
  method: 'GET' | 'POST',
  url: string,
  purpose: string | undefined,
  payload?: unknown,
  contentType?: string,
) {
  return app.inject({
    method,
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      ...(purpose ? { 'x-kluis-purpose': purpose } : {}),
      ...(contentType ? { 'content-type': contentType } : {}),
    },
    ...(payload === undefined ? {} : { payload: payload as string }),
  });
}

describe('telephony over HTTP (issue 12, VX-5)', () => {
  it('tariffs: billing replaces and lists the price list; sales is refused', async () => {
    const created = await call(billing, 'POST', '/api/v1/tariffs', undefined, TARIFF_CSV, 'text/csv');
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toEqual({ rates: 3, prefixes: 3 });
    const first = await call(billing, 'GET', '/api/v1/tariffs?limit=2', undefined);
    expect(first.statusCode).toBe(200);
    const page = first.json<{ items: { prefix: string }[]; nextCursor: string | null }>();
    expect(page.items.map((rate) => rate.prefix)).toEqual(['31', '32']);
    expect(first.headers.link).toContain('rel="next"');
    const rest = await call(billing, 'GET', `/api/v1/tariffs?limit=2&cursor=${page.nextCursor}`, undefined);
    expect(rest.json<{ items: { prefix: string }[] }>().items.map((rate) => rate.prefix)).toEqual(['3247']);

    expect((await call(sales, 'GET', '/api/v1/tariffs', undefined)).statusCode).toBe(403);
    const refused = await call(sales, 'POST', '/api/v1/tariffs', undefined, TARIFF_CSV, 'text/csv');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'role_not_allowed' });

    // A file with the header only would wipe the price list: refused, the tariff kept.
    const header = TARIFF_CSV.split('\n')[0] ?? '';
    const empty = await call(billing, 'POST', '/api/v1/tariffs', undefined, `${header}\n`, 'text/csv');
    expect(empty.statusCode, empty.body).toBe(400);
    expect(empty.json()).toMatchObject({ code: 'validation_failed' });
    // A price or fee over 1000 euros is refused naming the line and the column (decision 1001).
    for (const line of ['33,1000.01,60,60,0,2020-01-01,', '33,0.1,60,60,1000.5,2020-01-01,']) {
      const dear = await call(
        billing,
        'POST',
        '/api/v1/tariffs',
        undefined,
        `${header}\n${line}\n`,
        'text/csv',
      );
      expect(dear.statusCode, dear.body).toBe(400);
      expect(dear.body).toMatch(/(price_per_minute|connection_fee) is more than 1000 euros/);
    }
    const kept = await call(billing, 'GET', '/api/v1/tariffs?limit=10', undefined);
    expect(kept.json<{ items: unknown[] }>().items).toHaveLength(3);
  });

  it('phone numbers: billing assigns, lists and ports out a number under invoicing; sales is refused', async () => {
    const assigned = await call(billing, 'POST', '/api/v1/phone-numbers/assignments', 'invoicing', {
      number: '056 22 33 44',
      subjectId: customer,
      from: '2024-06-01',
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
    expect(assigned.json()).toMatchObject({ number: '+3256223344', subjectId: customer, validTo: null });

    const listed = await call(billing, 'GET', '/api/v1/phone-numbers?number=056223344', 'invoicing');
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ items: { subjectId: number }[] }>().items.map((item) => item.subjectId)).toEqual([
      customer,
    ]);

    const refused = await call(sales, 'GET', '/api/v1/phone-numbers', 'customer_administration');
    expect(refused.statusCode).toBe(403);
    const refusedWrite = await call(
      sales,
      'POST',
      '/api/v1/phone-numbers/assignments',
      'customer_administration',
      {
        number: '056 22 33 45',
        subjectId: customer,
        from: '2024-06-01',
      },
    );
    expect(refusedWrite.statusCode).toBe(403);

    const second = await call(billing, 'POST', '/api/v1/phone-numbers/assignments', 'invoicing', {
      number: '056 22 33 46',
      subjectId: customer,
      from: '2024-06-01',
    });
    expect(second.statusCode).toBe(201);
    const ported = await call(billing, 'POST', '/api/v1/phone-numbers/porting', 'invoicing', {
      number: '056223346',
      direction: 'out',
      at: '2024-09-01',
    });
    expect(ported.statusCode, ported.body).toBe(204);
    const after = await call(billing, 'GET', '/api/v1/phone-numbers?number=056223346', 'invoicing');
    expect(after.json<{ items: { validTo: string | null }[] }>().items[0]?.validTo).toBe(
      '2024-08-31T22:00:00.000Z',
    );
  });

  it('VX-5: call records of a customer are read under the call billing purpose only; invoicing and sales are refused', async () => {
    const dir = await tempDir();
    const file = await writeLines(dir, 'calls.csv', [
      asteriskLine({
        src: '056223344',
        dst: '0470123456',
        start: '2024-06-03 09:00:00',
        answer: '2024-06-03 09:00:04',
        end: '2024-06-03 09:01:04',
        duration: 64,
        billsec: 60,
        uniqueId: '1717398000.1',
        sequence: 1,
      }),
    ]);
    const summary = await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: voxtra.tenantId, file },
    );
    expect(summary.imported).toBe(1);
    const url = `/api/v1/customers/${customer}/call-records?from=2024-06-01&to=2024-07-01`;
    const read = await call(billing, 'GET', url, 'call_billing');
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({
      items: [
        { caller: '+3256223344', destination: '+32470123456', billableSeconds: 60, direction: 'outbound' },
      ],
    });
    const underInvoicing = await call(billing, 'GET', url, 'invoicing');
    expect(underInvoicing.statusCode).toBe(403);
    expect(underInvoicing.json()).toMatchObject({ code: 'category_not_allowed' });
    const bySales = await call(sales, 'GET', url, 'customer_administration');
    expect(bySales.statusCode).toBe(403);
  });

  it('VX-5: line identifiers over HTTP: billing gives a customer a trunk and an extension, lists and ends them, and the import attributes a withheld caller on that trunk; bad input is a 400, sales is refused', async () => {
    const [trunkCustomer = 0, next = 0] = await registerCustomers(kernel, voxtra, 2);
    const trunk = await call(billing, 'POST', '/api/v1/line-identifiers', 'telephony_service', {
      subjectId: trunkCustomer,
      kind: 'channel',
      value: 'PJSIP/trunk-',
      from: '2024-01-01',
    });
    expect(trunk.statusCode, trunk.body).toBe(201);
    expect(trunk.json()).toMatchObject({
      subjectId: trunkCustomer,
      kind: 'channel',
      value: 'PJSIP/trunk-',
      context: null,
      validFrom: '2023-12-31T23:00:00.000Z',
      validTo: null,
    });
    const extension = await call(billing, 'POST', '/api/v1/line-identifiers', 'telephony_service', {
      subjectId: trunkCustomer,
      kind: 'extension',
      value: '1002',
      context: 'cust318-internal',
      from: '2024-01-01',
    });
    expect(extension.statusCode, extension.body).toBe(201);

    const noContext = await call(billing, 'POST', '/api/v1/line-identifiers', 'telephony_service', {
      subjectId: trunkCustomer,
      kind: 'extension',
      value: '1003',
      from: '2024-01-01',
    });
    expect(noContext.statusCode).toBe(400);
    expect(noContext.json()).toMatchObject({ code: 'validation_failed' });
    const badValue = await call(billing, 'POST', '/api/v1/line-identifiers', 'telephony_service', {
      subjectId: trunkCustomer,
      kind: 'account_code',
      value: 'two words',
      from: '2024-01-01',
    });
    expect(badValue.statusCode).toBe(400);
    const refused = await call(sales, 'POST', '/api/v1/line-identifiers', 'customer_administration', {
      subjectId: trunkCustomer,
      kind: 'account_code',
      value: 'cust9',
      from: '2024-01-01',
    });
    expect(refused.statusCode).toBe(403);
    expect((await call(sales, 'GET', '/api/v1/line-identifiers', 'customer_administration')).statusCode).toBe(
      403,
    );

    // A withheld caller on the trunk is the trunk customer's call.
    const dir = await tempDir();
    const line = asteriskLine({
      src: 'anonymous',
      dst: '0470123456',
      start: '2024-06-03 10:00:00',
      answer: '2024-06-03 10:00:02',
      end: '2024-06-03 10:01:02',
      duration: 62,
      billsec: 60,
      uniqueId: '1717401600.9',
      sequence: 9,
      channel: 'PJSIP/trunk-00000009',
    });
    const summary = await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      { tenantId: voxtra.tenantId, file: await writeLines(dir, 'trunk.csv', [line]) },
    );
    expect(summary).toMatchObject({ imported: 1, rejected: 0 });
    const read = await call(
      billing,
      'GET',
      `/api/v1/customers/${trunkCustomer}/call-records?from=2024-06-01&to=2024-07-01`,
      'call_billing',
    );
    expect(read.json()).toMatchObject({ items: [{ caller: '', direction: 'outbound' }] });

    // The trunk moves to another customer on 1 July: the first period ends there.
    const moved = await call(billing, 'POST', '/api/v1/line-identifiers', 'telephony_service', {
      subjectId: next,
      kind: 'channel',
      value: 'PJSIP/trunk-',
      from: '2024-07-01',
    });
    expect(moved.statusCode, moved.body).toBe(201);
    const listed = await call(
      billing,
      'GET',
      `/api/v1/line-identifiers?subjectId=${trunkCustomer}&kind=channel`,
      'telephony_service',
    );
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toMatchObject({
      items: [{ value: 'PJSIP/trunk-', subjectId: trunkCustomer, validTo: '2024-06-30T22:00:00.000Z' }],
    });
    // Moving the first holder's end into the next holder's period is a conflict and changes nothing.
    const firstPeriod = listed.json<{ items: { identifierId: number }[] }>().items[0]?.identifierId;
    const overlapping = await call(
      billing,
      'POST',
      `/api/v1/line-identifiers/${firstPeriod}/end`,
      'telephony_service',
      { at: '2024-09-01' },
    );
    expect(overlapping.statusCode, overlapping.body).toBe(409);
    expect(overlapping.json()).toMatchObject({ code: 'conflict' });
    const unchanged = await call(
      billing,
      'GET',
      `/api/v1/line-identifiers?subjectId=${trunkCustomer}&kind=channel`,
      'telephony_service',
    );
    expect(unchanged.json()).toMatchObject({ items: [{ validTo: '2024-06-30T22:00:00.000Z' }] });
    const id = extension.json<{ identifierId: number }>().identifierId;
    const ended = await call(billing, 'POST', `/api/v1/line-identifiers/${id}/end`, 'telephony_service', {
      at: '2024-08-01',
    });
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json()).toMatchObject({ identifierId: id, validTo: '2024-07-31T22:00:00.000Z' });
    const missing = await call(billing, 'POST', '/api/v1/line-identifiers/999999/end', 'telephony_service', {
      at: '2024-08-01',
    });
    expect(missing.statusCode).toBe(404);
  });

  it('VK-16: a national register number typed as a line identifier (an account code, a SIP user, an extension’s dialplan context) is refused 422 sensitive_data_refused and nothing is stored (attack S18-6)', async () => {
    const [holder = 0] = await registerCustomers(kernel, voxtra, 1);
    // 85.07.30-033.28: a well-formed Belgian national register number (97 − 850730033 mod 97 = 28).
    for (const [kind, value] of [
      ['account_code', '85.07.30-033.28'],
      ['sip_user', '85073003328'],
    ] as const) {
      const refused = await call(billing, 'POST', '/api/v1/line-identifiers', 'telephony_service', {
        subjectId: holder,
        kind,
        value,
        from: '2024-01-01',
      });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json()).toMatchObject({
        code: 'sensitive_data_refused',
        details: { kinds: ['national_register_number'] },
      });
      expect(refused.body).not.toContain(value);
    }
    // The extension's dialplan context too (attack S18-6, retested).
    const inContext = await call(billing, 'POST', '/api/v1/line-identifiers', 'telephony_service', {
      subjectId: holder,
      kind: 'extension',
      value: '202',
      context: '85073003328',
      from: '2024-01-01',
    });
    expect(inContext.statusCode, inContext.body).toBe(422);
    expect(inContext.json()).toMatchObject({ details: { issues: [{ path: 'body/context' }] } });
    const listed = await call(
      billing,
      'GET',
      `/api/v1/line-identifiers?subjectId=${holder}`,
      'telephony_service',
    );
    expect(listed.json()).toMatchObject({ items: [] });
    // An ordinary numeric account code is kept.
    const kept = await call(billing, 'POST', '/api/v1/line-identifiers', 'telephony_service', {
      subjectId: holder,
      kind: 'account_code',
      value: '85073003300',
      from: '2024-01-01',
    });
    expect(kept.statusCode, kept.body).toBe(201);
  });

  it('absurd dates are refused and change nothing: a line identifier from year 0000 or 9999 or with a +99:00 offset is a 400, a call of year 9999 is rejected by the import; an ended identifier’s end is not moved (409 already_ended)', async () => {
    const [holder = 0] = await registerCustomers(kernel, voxtra, 1);
    const add = (from: string, value = 'cust-window') =>
      call(billing, 'POST', '/api/v1/line-identifiers', 'telephony_service', {
        subjectId: holder,
        kind: 'account_code',
        value,
        from,
      });
    for (const from of ['0000-01-01', '1999-12-31', '9999-01-01', '2024-01-01T10:00:00+99:00']) {
      const refused = await add(from);
      expect(refused.statusCode, from).toBe(400);
      expect(refused.json(), from).toMatchObject({ code: 'validation_failed' });
    }
    const listed = async () =>
      (await call(billing, 'GET', `/api/v1/line-identifiers?subjectId=${holder}`, 'telephony_service')).json<{
        items: Array<{ identifierId: number; validTo: string | null }>;
      }>().items;
    expect(await listed()).toEqual([]);

    const made = await add('2024-01-01T10:00:00+14:00');
    expect(made.statusCode, made.body).toBe(201);
    const id = made.json<{ identifierId: number }>().identifierId;
    const end = (at: string) =>
      call(billing, 'POST', `/api/v1/line-identifiers/${id}/end`, 'telephony_service', { at });
    expect((await end('9999-12-31')).statusCode).toBe(400);
    const ended = await end('2024-03-01');
    expect(ended.statusCode, ended.body).toBe(200);
    for (const at of ['2024-02-01', '2024-04-01']) {
      const moved = await end(at);
      expect(moved.statusCode, at).toBe(409);
      expect(moved.json()).toMatchObject({ code: 'conflict', details: { reason: 'already_ended' } });
    }
    expect(await listed()).toEqual([
      expect.objectContaining({ identifierId: id, validTo: '2024-02-29T23:00:00.000Z' }),
    ]);

    // The import: a call dated 9999 (a switch's wrong clock) is rejected with its reason, the other stored.
    await call(billing, 'POST', '/api/v1/phone-numbers/assignments', 'telephony_service', {
      number: '056 77 88 99',
      subjectId: holder,
      from: '2024-01-01',
    });
    const dir = await tempDir();
    const line = (start: string, end: string, sequence: number) =>
      asteriskLine({
        src: '056778899',
        dst: '0470123456',
        start,
        answer: start,
        end,
        duration: 60,
        billsec: 60,
        uniqueId: `window.${sequence}`,
        sequence,
      });
    const summary = await importCdrFile(
      { kernel, connection: bulkConnection(database) },
      {
        tenantId: voxtra.tenantId,
        file: await writeLines(dir, 'window.csv', [
          line('9999-06-03 10:00:00', '9999-06-03 10:01:00', 1),
          line('2024-06-03 10:00:00', '2024-06-03 10:01:00', 2),
        ]),
      },
    );
    expect(summary).toMatchObject({ imported: 1, rejected: 1, rejectsByReason: { date_out_of_range: 1 } });
  });
});
