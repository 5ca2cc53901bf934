import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { eraseSubject } from '../../kernel/erasure/index.js';
import { setRestriction } from '../../kernel/subjects/index.js';
import { DATA_MAP } from '../data-map.js';
import type { Tenant } from '../tenants/index.js';
import type { ContractWork } from './access.js';
import {
  DomainEventSubscribers,
  listPendingEvents,
  purposeFor,
  terminateContract,
  type DomainEvent,
} from './index.js';

// "Today" is Monday 2 March 2026 in Belgium.
const clock = fixedClock(new Date('2026-03-02T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;
let voxtraSales: StaffSession;
let voicekingSales: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  voxtraSales = await loginAs(app, kernel, voxtra, 'sales');
  voicekingSales = await loginAs(app, kernel, voiceking, 'sales');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

async function call(
  session: StaffSession,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const purpose = headers['x-kluis-purpose'] ?? (await declaredPurposeOf(session, url));
  return app.inject({
    method,
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      ...(purpose ? { 'x-kluis-purpose': purpose } : {}),
      ...headers,
    },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

const WORK_BY_PATH: Array<[RegExp, ContractWork]> = [
  [/^\/api\/v1\/quotes/, 'quote'],
  [/^\/api\/v1\/orders/, 'order'],
  [/^\/api\/v1\/(contracts|customer-status)/, 'contract'],
];

/**
 * The purpose a call declares unless the test names one: the tenant's purpose for this kind of
 * work and the session's role (every call must name one; the routes never choose it).
 */
async function declaredPurposeOf(session: StaffSession, url: string): Promise<string | undefined> {
  const work = WORK_BY_PATH.find(([pattern]) => pattern.test(url))?.[1];
  if (!work) return undefined;
  const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: session.cookie } });
  const { tenant, role } = me.json<{ tenant: string; role: string }>();
  const found = await kernel.tenants.bySlug(tenant);
  return purposeFor(kernel, found.tenantId, work, role);
}

async function count(table: string, tenant: Tenant, where = 'true'): Promise<number> {
  const result = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    `select count(*)::int as n from ${table} where tenant_id = $1 and ${where}`,
    [tenant.tenantId],
  );
  return result.rows[0]?.n ?? -1;
}

async function counts(tenant: Tenant) {
  return {
    quotes: await count('quotes', tenant),
    orders: await count('orders', tenant),
    contracts: await count('contracts', tenant),
    terminated: await count('contracts', tenant, 'terminated_on is not null'),
    events: await count('domain_events', tenant),
  };
}

async function createPerson(
  session: StaffSession,
  purpose: string,
  subjectType: string,
  familyName: string,
): Promise<number> {
  const response = await call(
    session,
    'POST',
    '/api/v1/people',
    { subjectType, familyName, givenName: 'Lotte' },
    { 'x-kluis-purpose': purpose },
  );
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ subjectId: number }>().subjectId;
}

async function createProduct(session: StaffSession, code: string, kind = 'subscription', priceCents = 4500) {
  const response = await call(session, 'POST', '/api/v1/products', {
    code,
    name: `Product ${code}`,
    kind,
    priceCents,
    vatRatePercent: 21,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ productId: number }>().productId;
}

/** A customer with a running contract at VoiceKing (order_processing covers all of it there). */
async function voicekingContract(familyName: string): Promise<{ subjectId: number; contractId: number }> {
  const subjectId = await createPerson(voicekingSales, 'order_processing', 'customer', familyName);
  const productId = await createProduct(voicekingSales, `VK-${familyName}`);
  const response = await call(voicekingSales, 'POST', '/api/v1/contracts', {
    subjectId,
    startDate: '2026-01-01',
    lines: [{ productId }],
  });
  expect(response.statusCode, response.body).toBe(201);
  return { subjectId, contractId: response.json<{ contractId: number }>().contractId };
}

describe('contracts and orders over HTTP (VX-3)', () => {
  it('VX-3: product → quote → accept → order → contract → written termination: one contract.terminated event, and the person is a former customer', async () => {
    const fibre = await createProduct(voxtraSales, 'FIBRE-100', 'subscription', 4500);
    const router = await createProduct(voxtraSales, 'ROUTER-AX', 'one_off', 12900);
    const subjectId = await createPerson(voxtraSales, 'quotes', 'prospect', 'Declercq');

    const before = await call(voxtraSales, 'GET', `/api/v1/customer-status/${subjectId}`);
    expect(before.json()).toMatchObject({
      status: 'prospect',
      activeContracts: 0,
      lastContractEndedOn: null,
    });

    const quote = await call(voxtraSales, 'POST', '/api/v1/quotes', {
      subjectId,
      validUntil: '2026-03-31',
      lines: [{ productId: fibre }, { productId: router, quantity: 2, unitPriceCents: 9900 }],
    });
    expect(quote.statusCode, quote.body).toBe(201);
    const quoteId = quote.json<{ quoteId: number }>().quoteId;
    expect(quote.json()).toMatchObject({ status: 'draft', totalCents: 4500 + 2 * 9900 });
    expect((await call(voxtraSales, 'POST', `/api/v1/quotes/${quoteId}/send`)).json()).toMatchObject({
      status: 'sent',
    });
    const accepted = await call(voxtraSales, 'POST', `/api/v1/quotes/${quoteId}/accept`);
    expect(accepted.json()).toMatchObject({ status: 'accepted', decidedAt: '2026-03-02T10:00:00.000Z' });
    // Accepting the quote made the prospect a customer in the policy's sense (orders need one).
    const type = await runAsOwner<{ subject_type: string }>(
      database.ownerUrl,
      'select subject_type from data_subjects where tenant_id = $1 and subject_id = $2',
      [voxtra.tenantId, subjectId],
    );
    expect(type.rows[0]?.subject_type).toBe('customer');

    const order = await call(voxtraSales, 'POST', '/api/v1/orders', {
      quoteId,
      deliveryAddress: { street: 'Stationsstraat 12', postalCode: '9900', city: 'Eeklo', country: 'be' },
    });
    expect(order.statusCode, order.body).toBe(201);
    const orderId = order.json<{ orderId: number }>().orderId;
    expect(order.json()).toMatchObject({
      subjectId,
      quoteId,
      status: 'placed',
      deliveryAddress: { street: 'Stationsstraat 12', postalCode: '9900', city: 'Eeklo', country: 'BE' },
      lines: [
        { productCode: 'FIBRE-100', quantity: 1, unitPriceCents: 4500, vatRatePercent: 21 },
        { productCode: 'ROUTER-AX', quantity: 2, unitPriceCents: 9900 },
      ],
    });
    const delivered = await call(voxtraSales, 'POST', `/api/v1/orders/${orderId}/deliver`, {});
    expect(delivered.json()).toMatchObject({ status: 'delivered', deliveredAt: '2026-03-02T10:00:00.000Z' });

    const contract = await call(voxtraSales, 'POST', '/api/v1/contracts', {
      orderId,
      startDate: '2025-06-01',
    });
    expect(contract.statusCode, contract.body).toBe(201);
    const contractId = contract.json<{ contractId: number }>().contractId;
    expect(contract.json()).toMatchObject({
      subjectId,
      orderId,
      status: 'active',
      endDate: null,
      termination: null,
      monthlyTotalCents: 4500,
    });
    expect((await call(voxtraSales, 'GET', `/api/v1/customer-status/${subjectId}`)).json()).toMatchObject({
      status: 'customer',
      activeContracts: 1,
    });

    // The customer's letter of 27 February is processed on 2 March: the contract ended on the 28th.
    const terminated = await call(voxtraSales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
      terminatedOn: '2026-02-28',
      channel: 'written',
      reasonCode: 'moved_abroad',
    });
    expect(terminated.statusCode, terminated.body).toBe(200);
    expect(terminated.json()).toMatchObject({
      status: 'ended',
      endDate: '2026-02-28',
      termination: {
        terminatedOn: '2026-02-28',
        channel: 'written',
        reasonCode: 'moved_abroad',
        recordedAt: '2026-03-02T10:00:00.000Z',
        recordedByStaffId: voxtraSales.staffId,
      },
    });

    const pending = await listPendingEvents(kernel, voxtra.tenantId);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      type: 'contract.terminated',
      processedAt: null,
      payload: {
        contractId,
        subjectId,
        organisationId: null,
        terminatedOn: '2026-02-28',
        channel: 'written',
        recordedAt: '2026-03-02T10:00:00.000Z',
      },
    });
    // Ids, dates and keys only: nothing of the person travels with the event.
    expect(JSON.stringify(pending[0]?.payload)).not.toMatch(/Declercq|Lotte|Stationsstraat|Eeklo/);

    const status = await call(voxtraSales, 'GET', `/api/v1/customer-status/${subjectId}`);
    expect(status.json()).toEqual({
      subjectId,
      status: 'former_customer',
      activeContracts: 0,
      upcomingContracts: 0,
      endedContracts: 1,
      lastContractEndedOn: '2026-02-28',
    });

    // A subscriber (VX-7 later) receives the event once; afterwards nothing is pending.
    const subscribers = new DomainEventSubscribers();
    const seen: DomainEvent[] = [];
    subscribers.on('contract.terminated', (event) => {
      seen.push(event);
      return Promise.resolve();
    });
    expect(await subscribers.dispatchPending(kernel, voxtra.tenantId)).toBe(1);
    expect(await subscribers.dispatchPending(kernel, voxtra.tenantId)).toBe(0);
    expect(seen.map((event) => event.payload.contractId)).toEqual([contractId]);
    expect(await listPendingEvents(kernel, voxtra.tenantId)).toEqual([]);
  });

  it('VX-3: a termination that rolls back leaves no event and no termination', async () => {
    const { contractId } = await voicekingContract('Rollback');
    const before = await counts(voiceking);
    // The same use case on a kernel whose transaction fails after the work, just before commit.
    const crashing: Kernel = {
      ...kernel,
      transact: (tenantId, work) =>
        kernel.transact(tenantId, async (atx) => {
          await work(atx);
          throw new Error('crash before commit');
        }),
    };
    await expect(
      terminateContract(
        crashing,
        {
          tenantId: voiceking.tenantId,
          actor: { kind: 'staff', staffId: voicekingSales.staffId, role: 'sales' },
          purpose: 'order_processing',
        },
        contractId,
        { terminatedOn: '2026-03-31', channel: 'email', reasonCode: 'price' },
      ),
    ).rejects.toThrow('crash before commit');
    expect(await counts(voiceking)).toEqual(before);
    expect(await listPendingEvents(kernel, voiceking.tenantId, { types: ['contract.terminated'] })).toEqual(
      [],
    );
  });

  it('VX-3: a role without the purpose is refused: a VoiceKing technician cannot make a quote, and nothing is written', async () => {
    const technician = await loginAs(app, kernel, voiceking, 'technician');
    const subjectId = await createPerson(voicekingSales, 'order_processing', 'customer', 'Refused');
    const productId = await createProduct(voicekingSales, 'VK-REFUSED');
    const before = await counts(voiceking);
    const response = await call(technician, 'POST', '/api/v1/quotes', {
      subjectId,
      validUntil: '2026-04-30',
      lines: [{ productId }],
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'role_not_allowed' });
    expect(await counts(voiceking)).toEqual(before);
    const denied = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log
        where tenant_id = $1 and decision = 'denied' and reason = 'role_not_allowed' and purpose = 'order_processing'`,
      [voiceking.tenantId],
    );
    expect(denied.rows[0]?.n).toBeGreaterThanOrEqual(1);
    // Nor may a technician change the catalogue.
    const product = await call(technician, 'POST', '/api/v1/products', {
      code: 'NOPE',
      name: 'Nope',
      kind: 'service',
      priceCents: 1,
      vatRatePercent: 21,
    });
    expect(product.statusCode).toBe(403);
  });

  it('VX-3: quotes, orders and contracts are made only under the purposes the policy declares for that work: a VoiceKing technician under installation support, support under service updates, a Voxtra technician under deliveries and billing under invoicing are refused 403 purpose_not_allowed naming the valid purposes, and nothing is written (attack S20-12, decision 0927)', async () => {
    const vkCustomer = await createPerson(voicekingSales, 'order_processing', 'customer', 'Wrongpurpose');
    const vkProduct = await createProduct(voicekingSales, 'VK-S20-12');
    const vxCustomer = await createPerson(voxtraSales, 'customer_administration', 'customer', 'Wrongpurpose');
    const vxProduct = await createProduct(voxtraSales, 'VX-S20-12');
    const quote = (subjectId: number, productId: number) => ({
      subjectId,
      validUntil: '2026-04-30',
      lines: [{ productId }],
    });
    const attempts: Array<[Tenant, string, string, string, unknown, string[]]> = [
      [
        voiceking,
        'technician',
        'installation_support',
        '/api/v1/quotes',
        quote(vkCustomer, vkProduct),
        ['order_processing'],
      ],
      [
        voiceking,
        'support',
        'service_updates',
        '/api/v1/quotes',
        quote(vkCustomer, vkProduct),
        ['order_processing'],
      ],
      [
        voiceking,
        'support',
        'service_updates',
        '/api/v1/contracts',
        { subjectId: vkCustomer, startDate: '2026-03-02', lines: [{ productId: vkProduct }] },
        ['order_processing'],
      ],
      [voxtra, 'technician', 'orders_deliveries', '/api/v1/quotes', quote(vxCustomer, vxProduct), ['quotes']],
      [voxtra, 'billing', 'invoicing', '/api/v1/quotes', quote(vxCustomer, vxProduct), ['quotes']],
    ];
    for (const [tenant, role, purpose, url, payload, validPurposes] of attempts) {
      const session = await loginAs(app, kernel, tenant, role);
      const before = await counts(tenant);
      const response = await call(session, 'POST', url, payload, { 'x-kluis-purpose': purpose });
      expect({ role, purpose, url, status: response.statusCode }).toEqual({
        role,
        purpose,
        url,
        status: 403,
      });
      expect(response.json()).toMatchObject({ code: 'purpose_not_allowed', details: { validPurposes } });
      expect(await counts(tenant)).toEqual(before);
    }
    // The work's own purpose still makes them.
    const made = await call(voxtraSales, 'POST', '/api/v1/quotes', quote(vxCustomer, vxProduct), {
      'x-kluis-purpose': 'quotes',
    });
    expect(made.statusCode, made.body).toBe(201);
  });

  it("VX-3: staff of tenant A cannot see, list or terminate tenant B's contracts", async () => {
    const { subjectId, contractId } = await voicekingContract('Isolated');
    const before = await counts(voiceking);
    const byId = await call(voxtraSales, 'GET', `/api/v1/contracts/${contractId}`);
    expect(byId.statusCode).toBe(404);
    expect(byId.json()).toMatchObject({ code: 'not_found' });
    const list = await call(voxtraSales, 'GET', `/api/v1/contracts?subjectId=${subjectId}`);
    expect(list.json()).toEqual({ items: [], nextCursor: null, withheld: 0 });
    const status = await call(voxtraSales, 'GET', `/api/v1/customer-status/${subjectId}`);
    expect(status.statusCode).toBe(404);
    const terminate = await call(voxtraSales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
      terminatedOn: '2026-03-31',
      channel: 'written',
      reasonCode: 'guessing',
    });
    expect(terminate.statusCode).toBe(404);
    expect(await counts(voiceking)).toEqual(before);
    // Its own staff do see it.
    const own = await call(voicekingSales, 'GET', `/api/v1/contracts/${contractId}`);
    expect(own.json()).toMatchObject({ contractId, subjectId, status: 'active' });
  });

  it('VX-3: bad input gets a stable code and changes nothing (end before start, unknown product, terminating twice)', async () => {
    const subjectId = await createPerson(voicekingSales, 'order_processing', 'customer', 'Invalid');
    const productId = await createProduct(voicekingSales, 'VK-INVALID');
    const before = await counts(voiceking);

    const endBeforeStart = await call(voicekingSales, 'POST', '/api/v1/contracts', {
      subjectId,
      startDate: '2026-03-10',
      endDate: '2026-03-01',
      lines: [{ productId }],
    });
    expect(endBeforeStart.statusCode).toBe(400);
    expect(endBeforeStart.json()).toMatchObject({ code: 'validation_failed' });

    for (const [url, body] of [
      ['/api/v1/quotes', { subjectId, validUntil: '2026-03-31', lines: [{ productId: 987654 }] }],
      ['/api/v1/orders', { subjectId, lines: [{ productId: 987654 }] }],
      ['/api/v1/contracts', { subjectId, startDate: '2026-03-01', lines: [{ productId: 987654 }] }],
    ] as const) {
      const unknown = await call(voicekingSales, 'POST', url, body);
      expect(unknown.statusCode, url).toBe(400);
      expect(unknown.json(), url).toMatchObject({
        code: 'validation_failed',
        detail: 'lines.0.productId: no such product',
      });
    }
    const notADate = await call(voicekingSales, 'POST', '/api/v1/contracts', {
      subjectId,
      startDate: '2026-02-30',
      lines: [{ productId }],
    });
    expect(notADate.statusCode).toBe(400);
    const pastQuote = await call(voicekingSales, 'POST', '/api/v1/quotes', {
      subjectId,
      validUntil: '2026-03-01',
      lines: [{ productId }],
    });
    expect(pastQuote.json()).toMatchObject({ code: 'validation_failed' });
    expect(await counts(voiceking)).toEqual(before);

    const { contractId } = await voicekingContract('Twice');
    const afterCreate = await counts(voiceking);
    const beforeStart = await call(voicekingSales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
      terminatedOn: '2025-12-31',
      channel: 'written',
      reasonCode: 'too_early',
    });
    expect(beforeStart.statusCode).toBe(400);
    const noChannel = await call(voicekingSales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
      terminatedOn: '2026-03-31',
      channel: 'pigeon',
      reasonCode: 'price',
    });
    expect(noChannel.json()).toMatchObject({ code: 'validation_failed' });
    expect(await counts(voiceking)).toEqual(afterCreate);

    const first = await call(voicekingSales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
      terminatedOn: '2026-03-31',
      channel: 'phone',
      reasonCode: 'price',
    });
    expect(first.statusCode).toBe(200);
    const afterFirst = await counts(voiceking);
    const second = await call(voicekingSales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
      terminatedOn: '2026-04-30',
      channel: 'written',
      reasonCode: 'other',
    });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ code: 'conflict', detail: 'the contract is already terminated' });
    expect(await counts(voiceking)).toEqual(afterFirst);
    const kept = await call(voicekingSales, 'GET', `/api/v1/contracts/${contractId}`);
    expect(kept.json()).toMatchObject({
      endDate: '2026-03-31',
      termination: { channel: 'phone', reasonCode: 'price' },
    });
  });

  it('VX-3: a quote cannot be accepted twice, an order is made once per quote, and an expired quote cannot be accepted', async () => {
    const subjectId = await createPerson(voicekingSales, 'order_processing', 'customer', 'Once');
    const productId = await createProduct(voicekingSales, 'VK-ONCE');
    const quoteId = (
      await call(voicekingSales, 'POST', '/api/v1/quotes', {
        subjectId,
        validUntil: '2026-03-02',
        lines: [{ productId }],
      })
    ).json<{ quoteId: number }>().quoteId;
    expect((await call(voicekingSales, 'POST', `/api/v1/quotes/${quoteId}/accept`)).statusCode).toBe(409); // still a draft
    await call(voicekingSales, 'POST', `/api/v1/quotes/${quoteId}/send`);
    expect((await call(voicekingSales, 'POST', `/api/v1/quotes/${quoteId}/accept`)).statusCode).toBe(200);
    expect((await call(voicekingSales, 'POST', `/api/v1/quotes/${quoteId}/accept`)).statusCode).toBe(409);
    expect((await call(voicekingSales, 'POST', '/api/v1/orders', { quoteId })).statusCode).toBe(201);
    const again = await call(voicekingSales, 'POST', '/api/v1/orders', { quoteId });
    expect(again.json()).toMatchObject({ code: 'conflict', detail: 'the quote already has an order' });

    const late = (
      await call(voicekingSales, 'POST', '/api/v1/quotes', {
        subjectId,
        validUntil: '2026-03-02',
        lines: [{ productId }],
      })
    ).json<{ quoteId: number }>().quoteId;
    await call(voicekingSales, 'POST', `/api/v1/quotes/${late}/send`);
    clock.advance(24 * 60 * 60 * 1000);
    try {
      // The session's idle clock moved as well: log in again on the next day.
      const nextDay = await loginAs(app, kernel, voiceking, 'sales');
      expect((await call(nextDay, 'GET', `/api/v1/quotes/${late}`)).json()).toMatchObject({
        status: 'expired',
      });
      const accept = await call(nextDay, 'POST', `/api/v1/quotes/${late}/accept`);
      expect(accept.json()).toMatchObject({ code: 'conflict', detail: 'a expired quote cannot be accepted' });
    } finally {
      clock.set(new Date('2026-03-02T10:00:00Z'));
    }
  });

  it('VX-3: lists are paginated by cursor; VX-14: a restricted customer’s contracts are withheld, the others still listed', async () => {
    const a = await voicekingContract('PageA');
    const b = await voicekingContract('PageB');
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/v1/contracts?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await call(voicekingSales, 'GET', query)).json<{
        items: Array<{ contractId: number }>;
        nextCursor: string | null;
      }>();
      expect(page.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.items.map((item) => item.contractId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    expect(seen).toEqual(expect.arrayContaining([a.contractId, b.contractId]));

    await kernel.transact(voiceking.tenantId, (atx) => setRestriction(atx, b.subjectId, true, clock.now()));
    const listed = (await call(voicekingSales, 'GET', '/api/v1/contracts?limit=100')).json<{
      items: Array<{ contractId: number }>;
      withheld: number;
    }>();
    expect(listed.withheld).toBe(1);
    expect(listed.items.map((item) => item.contractId)).toContain(a.contractId);
    expect(listed.items.map((item) => item.contractId)).not.toContain(b.contractId);
    const one = await call(voicekingSales, 'GET', `/api/v1/contracts/${b.contractId}`);
    expect(one.json()).toMatchObject({ code: 'subject_restricted' });
  });

  it('VX-3: at Voxtra a technician follows orders (orders_deliveries) but cannot read contracts (customer_administration)', async () => {
    const technician = await loginAs(app, kernel, voxtra, 'technician');
    const subjectId = await createPerson(voxtraSales, 'customer_administration', 'customer', 'Technician');
    const productId = await createProduct(voxtraSales, 'VX-TECH');
    const order = await call(voxtraSales, 'POST', '/api/v1/orders', {
      subjectId,
      lines: [{ productId }],
      deliveryAddress: { street: 'Kerkstraat 1', postalCode: '9900', city: 'Eeklo' },
    });
    expect(order.statusCode, order.body).toBe(201);
    const orderId = order.json<{ orderId: number }>().orderId;
    const read = await call(technician, 'GET', `/api/v1/orders/${orderId}`);
    expect(read.json()).toMatchObject({ orderId, deliveryAddress: { city: 'Eeklo', country: 'BE' } });
    const contracts = await call(technician, 'GET', '/api/v1/contracts');
    expect(contracts.statusCode).toBe(403);
    expect(contracts.json()).toMatchObject({ code: 'role_not_allowed' });
  });
  it('VK-23: erasing a customer unlinks their quotes, orders and contracts and drops the delivery address; the commercial facts stay', async () => {
    const subjectId = await createPerson(voxtraSales, 'customer_administration', 'customer', 'Erased');
    const productId = await createProduct(voxtraSales, 'VX-ERASE');
    const quote = await call(voxtraSales, 'POST', '/api/v1/quotes', {
      subjectId,
      validUntil: '2026-03-31',
      lines: [{ productId }],
    });
    const quoteId = quote.json<{ quoteId: number }>().quoteId;
    await call(voxtraSales, 'POST', `/api/v1/quotes/${quoteId}/send`);
    await call(voxtraSales, 'POST', `/api/v1/quotes/${quoteId}/accept`);
    const order = await call(voxtraSales, 'POST', '/api/v1/orders', {
      quoteId,
      deliveryAddress: { street: 'Markt 3', postalCode: '9900', city: 'Eeklo' },
    });
    const orderId = order.json<{ orderId: number }>().orderId;
    // Ended yesterday: a contract that still runs keeps its holder from erasure (decision 0940).
    const contract = await call(voxtraSales, 'POST', '/api/v1/contracts', {
      orderId,
      startDate: '2026-03-01',
      endDate: '2026-03-01',
    });
    const contractId = contract.json<{ contractId: number }>().contractId;

    const outcome = await eraseSubject(kernel, DATA_MAP, {
      tenantId: voxtra.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' },
      purpose: 'rights_requests',
      subjectId,
    });
    expect(outcome.erased.map((entry) => entry.table)).toEqual(
      expect.arrayContaining(['contracts', 'orders', 'quotes']),
    );
    const rows = await runAsOwner<{ kind: string; subject_id: number | null; street: string | null }>(
      database.ownerUrl,
      `select 'quote' as kind, subject_id, null as street from quotes where tenant_id = $1 and quote_id = $2
       union all select 'order', subject_id, delivery_street from orders where tenant_id = $1 and order_id = $3
       union all select 'contract', subject_id, null from contracts where tenant_id = $1 and contract_id = $4`,
      [voxtra.tenantId, quoteId, orderId, contractId],
    );
    expect(rows.rows).toEqual([
      { kind: 'quote', subject_id: null, street: null },
      { kind: 'order', subject_id: null, street: null },
      { kind: 'contract', subject_id: null, street: null },
    ]);
    // The contract is still there as a fact (product, dates), belonging to no one.
    const anonymous = await call(voxtraSales, 'GET', `/api/v1/contracts/${contractId}`);
    expect(anonymous.json()).toMatchObject({
      contractId,
      subjectId: null,
      lines: [{ productCode: 'VX-ERASE' }],
    });
    const terminate = await call(voxtraSales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
      terminatedOn: '2026-03-31',
      channel: 'written',
      reasonCode: 'erased',
    });
    expect(terminate.statusCode).toBe(409);
  });
});
