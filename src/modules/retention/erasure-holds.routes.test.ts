import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import {
  billingContext,
  insertCalls,
  prepareTenant,
  SYSTEM,
  startContract,
} from '../billing/billing.test-helpers.js';
import { runInvoices } from '../billing/index.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

/**
 * Attack finding A18 (decision 0415): no erasure of a whole person runs while an officer's legal
 * hold (alone or in a case) or an open invoice dispute covers them; it is refused with
 * `erasure_held`, changes nothing, and the hold row stays. Released, the erasure works.
 */
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
const clock = fixedClock(new Date('2026-03-02T10:00:00Z'));
let voiceking: Tenant;
let voxtra: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
}, 120_000);
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(
  session: StaffSession,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  purpose: string,
  payload?: unknown,
) {
  return requestAs(app, session, purpose)(method, url, payload);
}

let serial = 0;
async function person(tenant: Tenant, subjectType: string, purpose: string): Promise<number> {
  serial += 1;
  const created = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose },
    {
      subjectType,
      familyName: `Bewaard${serial}`,
      givenName: 'Lucas',
      email: `lucas.bewaard${serial}@mail.example`,
      ...(subjectType === 'customer'
        ? { address: { street: 'Kerkstraat 5', postalCode: '8500', city: 'Kortrijk', country: 'BE' } }
        : {}),
    },
  );
  return created.subjectId;
}

/** The person, their data key and their holds, as the database and the key store hold them. */
async function stateOf(tenant: Tenant, subjectId: number) {
  const data = await runAsOwner<{ erased: boolean; person: boolean; holds: number; open_holds: number }>(
    database.ownerUrl,
    `select (select erased_at is not null from data_subjects where tenant_id = $1 and subject_id = $2) as erased,
            exists (select 1 from people where tenant_id = $1 and subject_id = $2) as person,
            (select count(*)::int from legal_holds where tenant_id = $1 and subject_id = $2) as holds,
            (select count(*)::int from legal_holds where tenant_id = $1 and subject_id = $2
               and released_at is null) as open_holds`,
    [tenant.tenantId, subjectId],
  );
  const key = await runAsOwner<{ live: boolean }>(
    database.keystoreOwnerUrl,
    "select wrapped is not null as live from data_keys where tenant_id = $1 and owner_kind = 'subject' and owner_ref = $2",
    [tenant.tenantId, String(subjectId)],
  );
  return { ...data.rows[0], keyLive: key.rows[0]?.live ?? false };
}

async function placeHold(officer: StaffSession, subjectId: number): Promise<number> {
  const placed = await call(officer, 'POST', '/api/v1/retention/holds', 'rights_requests', {
    subjectId,
    reason: 'Litigation: summons Rechtbank Kortrijk',
    endsOn: '2027-06-30',
  });
  expect(placed.statusCode, placed.body).toBe(201);
  return placed.json<{ holdId: number }>().holdId;
}

describe('an erasure never destroys a person under a legal hold (attack A18, decision 0415)', () => {
  it('VK-23: a staff DELETE of a person under an active legal hold answers 409 erasure_held naming the hold and its end, not its reason; the person, their data key and the hold row stay; released, the DELETE erases them', async () => {
    const subjectId = await person(voiceking, 'customer', 'order_processing');
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const holdId = await placeHold(officer, subjectId);
    const before = await stateOf(voiceking, subjectId);
    expect(before).toEqual({ erased: false, person: true, holds: 1, open_holds: 1, keyLive: true });

    const refused = await call(officer, 'DELETE', `/api/v1/people/${subjectId}`, 'rights_requests', {});
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'erasure_held',
      details: { holds: [{ kind: 'legal_hold', endsOn: '2027-06-30' }] },
    });
    expect(refused.body).toContain('2027-06-30');
    expect(refused.body).not.toContain('Rechtbank');
    expect(await stateOf(voiceking, subjectId)).toEqual(before);

    const released = await call(
      officer,
      'POST',
      `/api/v1/retention/holds/${holdId}/release`,
      'rights_requests',
    );
    expect(released.statusCode, released.body).toBe(204);
    const erased = await call(officer, 'DELETE', `/api/v1/people/${subjectId}`, 'rights_requests', {});
    expect(erased.statusCode, erased.body).toBe(200);
    expect(await stateOf(voiceking, subjectId)).toEqual({
      erased: true,
      person: false,
      holds: 0,
      open_holds: 0,
      keyLive: false,
    });
  });

  it('VK-23: fulfilling an erasure request of a person under a case hold answers 409 erasure_held and erases nothing; the request stays open so the officer can reject it under Art. 17(3)(e)', async () => {
    const subjectId = await person(voiceking, 'customer', 'order_processing');
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const opened = await call(officer, 'POST', '/api/v1/retention/cases', 'rights_requests', {
      name: 'Rechtbank Kortrijk A/26/0101',
      reason: 'Claim about a disputed installation',
      endsOn: '2027-01-31',
      subjectIds: [subjectId],
    });
    expect(opened.statusCode, opened.body).toBe(201);
    const registered = await call(officer, 'POST', '/api/v1/requests', 'rights_requests', {
      kind: 'erasure',
      channel: 'letter',
      subjectId,
      language: 'en',
      verificationMethod: 'id_card_seen',
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const { requestId } = registered.json<{ requestId: string }>();
    const before = await stateOf(voiceking, subjectId);

    const refused = await call(
      officer,
      'POST',
      `/api/v1/requests/${requestId}/fulfil`,
      'rights_requests',
      {},
    );
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'erasure_held',
      details: { holds: [{ kind: 'legal_hold', endsOn: '2027-01-31' }] },
    });
    expect(await stateOf(voiceking, subjectId)).toEqual(before);
    const request = await runAsOwner<{ state: string }>(
      database.ownerUrl,
      'select state from rights_requests where request_id = $1',
      [requestId],
    );
    expect(request.rows[0]?.state).not.toBe('fulfilled');
  });

  it('VX-8: a DELETE of a customer whose invoice is disputed answers 409 erasure_held; the person, their invoice and the calls of the disputed month stay; settled, the erasure runs', async () => {
    clock.set(new Date('2026-01-15T10:00:00Z'));
    const catalogue = await prepareTenant(kernel, voxtra);
    const customer = await person(voxtra, 'customer', 'customer_administration');
    // January only: a contract that still runs would keep the customer too (decision 0940).
    await startContract(kernel, voxtra, customer, {
      startDate: '2026-01-01',
      endDate: '2026-01-31',
      lines: [{ productId: catalogue.subscription }],
    });
    await insertCalls(kernel, voxtra, [
      {
        subjectId: customer,
        startedAt: '2026-01-05T09:00:00Z',
        destination: '+3292001122',
        seconds: 60,
        costMicros: 1000,
      },
      {
        subjectId: customer,
        startedAt: '2026-01-06T09:00:00Z',
        destination: '+3292001123',
        seconds: 90,
        costMicros: 1500,
      },
    ]);
    clock.set(new Date('2026-02-03T10:00:00Z'));
    await runInvoices(kernel, billingContext(voxtra), { callsPurpose: 'call_billing', period: '2026-01' });
    const invoiceId = (
      await runAsOwner<{ invoice_id: number }>(
        database.ownerUrl,
        'select invoice_id from invoices where tenant_id = $1 and subject_id = $2',
        [voxtra.tenantId, customer],
      )
    ).rows[0]?.invoice_id;
    expect(invoiceId).toBeDefined();
    const billing = await loginAs(app, kernel, voxtra, 'billing');
    const disputed = await call(billing, 'POST', `/api/v1/invoices/${invoiceId}/dispute`, 'invoicing', {
      reason: 'The customer contests the January calls.',
    });
    expect(disputed.statusCode, disputed.body).toBe(201);
    const calls = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from call_records where tenant_id = $1 and subject_id = $2',
          [voxtra.tenantId, customer],
        )
      ).rows[0]?.n;
    expect(await calls()).toBe(2);

    const officer = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const refused = await call(officer, 'DELETE', `/api/v1/people/${customer}`, 'rights_requests', {});
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'erasure_held',
      details: { holds: [{ kind: 'dispute', endsOn: null }] },
    });
    expect(refused.body).not.toContain('contests');
    expect(await calls()).toBe(2);
    expect(await stateOf(voxtra, customer)).toMatchObject({ erased: false, person: true, keyLive: true });

    const settled = await call(billing, 'DELETE', `/api/v1/invoices/${invoiceId}/dispute`, 'invoicing');
    expect(settled.statusCode, settled.body).toBe(204);
    const erased = await call(officer, 'DELETE', `/api/v1/people/${customer}`, 'rights_requests', {});
    expect(erased.statusCode, erased.body).toBe(200);
    expect(await calls()).toBe(0);
    expect(await stateOf(voxtra, customer)).toMatchObject({ erased: true, person: false });
  });
});
