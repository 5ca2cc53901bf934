import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { fixedClock } from '../../../test/kernel.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import type { Tenant } from '../tenants/index.js';

/**
 * Attack S20-14 (decision 0940): a person whose contract still runs is not erased, by the portal
 * or by staff; the contract is ended first, then the erasure runs and leaves an ended contract of
 * no one. Attack S20-17 (decision 0941): a contract is made only for a holder the billing
 * purposes cover.
 */
const PUBLIC = 'https://portal.voiceking.example';
// Monday 2 March 2026, 11:00 in Brussels.
const clock = fixedClock(new Date('2026-03-02T10:00:00Z'));
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC, clock });
}, 120_000);
afterAll(async () => {
  await testApp?.close();
});

/** The purpose contracts are made under: VoiceKing's order_processing, Voxtra's customer_administration. */
const contractPurposeOf = (tenant: Tenant): string =>
  tenant.tenantId === testApp.voiceking.tenantId ? 'order_processing' : 'customer_administration';

let serial = 0;

async function createPersonOverHttp(
  sales: StaffSession,
  tenant: Tenant,
  fields: Record<string, unknown>,
): Promise<number> {
  serial += 1;
  const created = await requestAs(testApp.app, sales, contractPurposeOf(tenant))('POST', '/api/v1/people', {
    familyName: `Houder${serial}`,
    givenName: 'Lotte',
    ...fields,
  });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<{ subjectId: number }>().subjectId;
}

/** A new company (made by billing) and a contact person of it (made by sales). */
async function createContactPersonOverHttp(
  sales: StaffSession,
  billing: StaffSession,
  tenant: Tenant,
  organisation: Record<string, unknown>,
  person: Record<string, unknown> = {},
): Promise<{ organisationId: number; contact: number }> {
  const created = await requestAs(testApp.app, billing)('POST', '/api/v1/organisations', {
    country: 'BE',
    ...organisation,
  });
  expect(created.statusCode, created.body).toBe(201);
  const organisationId = created.json<{ organisationId: number }>().organisationId;
  const contact = await createPersonOverHttp(sales, tenant, {
    subjectType: 'contact_person',
    organisationId,
    ...person,
  });
  return { organisationId, contact };
}

async function createProductOverHttp(sales: StaffSession, tenant: Tenant): Promise<number> {
  serial += 1;
  const created = await requestAs(testApp.app, sales, contractPurposeOf(tenant))('POST', '/api/v1/products', {
    code: `LINE-${serial}`,
    name: `Telefoonlijn ${serial}`,
    kind: 'subscription',
    priceCents: 1995,
    vatRatePercent: 21,
  });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<{ productId: number }>().productId;
}

async function contractRows(tenant: Tenant, where: string, value: number) {
  const result = await runAsOwner<{
    contract_id: number;
    subject_id: number | null;
    end_date: string | null;
    terminated_on: string | null;
  }>(
    testApp.database.ownerUrl,
    `select contract_id::int, subject_id::int, end_date::text, terminated_on::text from contracts
      where tenant_id = $1 and ${where} = $2 order by contract_id`,
    [tenant.tenantId, value],
  );
  return result.rows;
}

async function personState(tenant: Tenant, subjectId: number) {
  const result = await runAsOwner<{ person: boolean; erased: boolean; requests: number }>(
    testApp.database.ownerUrl,
    `select exists (select 1 from people where tenant_id = $1 and subject_id = $2) as person,
            (select erased_at is not null from data_subjects where tenant_id = $1 and subject_id = $2) as erased,
            (select count(*)::int from rights_requests where tenant_id = $1 and subject_id = $2) as requests`,
    [tenant.tenantId, subjectId],
  );
  return result.rows[0];
}

describe('an erasure of a person whose contract runs (attack S20-14, decision 0940)', () => {
  it('VK-23: the portal’s "erase my account" of a customer with a running contract says in their language that the contract runs and that an erasure asked now is carried out the day after its last day; the post records it and erases nothing (decision 1210); terminated and past its last day, the person can still erase their account at once, leaving an ended contract of no one', async () => {
    clock.set(new Date('2026-03-02T10:00:00Z'));
    const { app, kernel, voiceking } = testApp;
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const email = `tom.lopend${serial}@mail.example`;
    const subjectId = await createPersonOverHttp(sales, voiceking, {
      subjectType: 'customer',
      email,
      preferredLanguage: 'nl',
    });
    const productId = await createProductOverHttp(sales, voiceking);
    const made = await requestAs(app, sales, 'order_processing')('POST', '/api/v1/contracts', {
      subjectId,
      startDate: '2026-02-01',
      lines: [{ productId }],
    });
    expect(made.statusCode, made.body).toBe(201);
    const contractId = made.json<{ contractId: number }>().contractId;

    const { cookie, csrf } = await signInByMailedLink(testApp, voiceking, email);
    const erasePage = (lang: string) =>
      app.inject({
        method: 'GET',
        url: `/t/${voiceking.slug}/account/erase?lang=${lang}`,
        headers: { cookie },
      });
    const dutch = await erasePage('nl');
    expect(dutch.statusCode).toBe(200);
    expect(dutch.body).toContain('U hebt bij ons een contract dat nog loopt (zonder einddatum)');
    expect(dutch.body).toContain('zeg het op, schriftelijk, per e-mail of telefonisch');
    expect(dutch.body).toContain('name="confirm"');
    expect((await erasePage('fr')).body).toContain('un contrat toujours en cours (sans date de fin)');
    const english = await erasePage('en');
    expect(english.body).toContain('You have a contract with us that still runs (without an end date)');
    expect(english.body).toContain('If you ask for the erasure here, we record it now');

    const post = (session: { cookie: string; csrf: string }) =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/account/erase`,
        headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `csrf=${encodeURIComponent(session.csrf)}&confirm=yes`,
      });
    const recorded = await post({ cookie, csrf });
    expect(recorded.statusCode).toBe(303);
    expect(await personState(voiceking, subjectId)).toEqual({ person: true, erased: false, requests: 1 });
    expect(await contractRows(voiceking, 'contract_id', contractId)).toEqual([
      { contract_id: contractId, subject_id: subjectId, end_date: null, terminated_on: null },
    ]);

    // The person ends the contract (recorded by staff); until its last day has passed it still runs.
    const terminated = await requestAs(app, sales, 'order_processing')(
      'POST',
      `/api/v1/contracts/${contractId}/terminate`,
      { terminatedOn: '2026-03-31', channel: 'portal', reasonCode: 'customer_leaves' },
    );
    expect(terminated.statusCode, terminated.body).toBe(200);
    expect((await erasePage('en')).body).toContain('Your request to erase your account is recorded.');
    expect((await post({ cookie, csrf })).statusCode).toBe(303);
    expect(await personState(voiceking, subjectId)).toEqual({ person: true, erased: false, requests: 1 });

    clock.set(new Date('2026-04-01T08:00:00Z'));
    // The second mail is the answer with the date (decision 1210).
    const again = await signInByMailedLink(testApp, voiceking, email, 3);
    const free = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/erase?lang=en`,
      headers: { cookie: again.cookie },
    });
    expect(free.statusCode).toBe(200);
    expect(free.body).toContain('name="confirm"');
    const erased = await post(again);
    expect(erased.statusCode, erased.body).toBe(303);
    expect(await personState(voiceking, subjectId)).toMatchObject({ person: false, erased: true });
    expect(await contractRows(voiceking, 'contract_id', contractId)).toEqual([
      { contract_id: contractId, subject_id: null, end_date: '2026-03-31', terminated_on: '2026-03-31' },
    ]);
    const admin = await loginAs(app, kernel, voiceking, 'sales');
    const shown = await requestAs(app, admin, 'order_processing')('GET', `/api/v1/contracts/${contractId}`);
    expect(shown.statusCode, shown.body).toBe(200);
    expect(shown.json()).toMatchObject({ subjectId: null, status: 'ended', endDate: '2026-03-31' });
  });

  it('VX-13: a staff DELETE of a customer whose contract runs answers 409 erasure_contract_running naming the contract and its end and erases nothing; the fulfilment of their erasure request erases nothing either but answers the request with the day after the contract’s last day (decision 1210); after the last day the DELETE erases the person and the contract stays ended, of no one', async () => {
    clock.set(new Date('2026-03-02T10:00:00Z'));
    const { app, kernel, voxtra } = testApp;
    const sales = await loginAs(app, kernel, voxtra, 'sales');
    const officer = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const subjectId = await createPersonOverHttp(sales, voxtra, {
      subjectType: 'customer',
      email: `an.lopend${serial}@mail.example`,
    });
    const productId = await createProductOverHttp(sales, voxtra);
    const made = await requestAs(app, sales, 'customer_administration')('POST', '/api/v1/contracts', {
      subjectId,
      startDate: '2026-01-01',
      endDate: '2026-12-31',
      lines: [{ productId }],
    });
    expect(made.statusCode, made.body).toBe(201);
    const contractId = made.json<{ contractId: number }>().contractId;
    const asOfficer = requestAs(app, officer, 'rights_requests');

    const deleted = await asOfficer('DELETE', `/api/v1/people/${subjectId}`, {});
    expect(deleted.statusCode, deleted.body).toBe(409);
    expect(deleted.json()).toMatchObject({
      code: 'erasure_contract_running',
      details: { holds: [{ kind: 'contract', endsOn: '2026-12-31' }] },
    });
    expect(deleted.json<{ detail: string }>().detail).toContain('terminate the contract');

    const registered = await asOfficer('POST', '/api/v1/requests', {
      kind: 'erasure',
      channel: 'letter',
      subjectId,
      language: 'nl',
      verificationMethod: 'id_card_seen',
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const { requestId } = registered.json<{ requestId: string }>();
    const fulfil = () => asOfficer('POST', `/api/v1/requests/${requestId}/fulfil`, {});
    const answered = await fulfil();
    expect(answered.statusCode, answered.body).toBe(200);
    expect(answered.json()).toEqual({ outcome: { erasureDeferred: { lastDay: '2026-12-31' } } });
    const requestState = async () =>
      (
        await runAsOwner<{ state: string }>(
          testApp.database.ownerUrl,
          'select state from rights_requests where tenant_id = $1 and request_id = $2',
          [voxtra.tenantId, requestId],
        )
      ).rows[0]?.state;
    expect(await requestState()).toBe('fulfilled');
    expect(await personState(voxtra, subjectId)).toMatchObject({ person: true, erased: false });
    expect(await contractRows(voxtra, 'contract_id', contractId)).toEqual([
      { contract_id: contractId, subject_id: subjectId, end_date: '2026-12-31', terminated_on: null },
    ]);

    const terminated = await requestAs(app, sales, 'customer_administration')(
      'POST',
      `/api/v1/contracts/${contractId}/terminate`,
      { terminatedOn: '2026-03-15', channel: 'written', reasonCode: 'erasure_request' },
    );
    expect(terminated.statusCode, terminated.body).toBe(200);
    expect((await asOfficer('DELETE', `/api/v1/people/${subjectId}`, {})).json()).toMatchObject({
      code: 'erasure_contract_running',
      details: { holds: [{ kind: 'contract', endsOn: '2026-03-15' }] },
    });

    clock.set(new Date('2026-03-16T09:00:00Z'));
    const officerLater = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const done = await requestAs(app, officerLater, 'rights_requests')(
      'DELETE',
      `/api/v1/people/${subjectId}`,
      {},
    );
    expect(done.statusCode, done.body).toBe(200);
    expect(await personState(voxtra, subjectId)).toMatchObject({ person: false, erased: true });
    expect(await contractRows(voxtra, 'contract_id', contractId)).toEqual([
      { contract_id: contractId, subject_id: null, end_date: '2026-03-15', terminated_on: '2026-03-15' },
    ]);
  });
});

describe('a contract is held by someone the billing purposes cover (attack S20-17, decision 0941)', () => {
  for (const slug of ['voiceking', 'voxtra'] as const) {
    it(`VX-3: at ${slug} a contract for a company's contact person is refused 422 holder_not_billable naming the subject type and the fix, and nothing is written; the same contract for a customer is made`, async () => {
      clock.set(new Date('2026-03-02T10:00:00Z'));
      const { app, kernel } = testApp;
      const tenant = testApp[slug];
      const sales = await loginAs(app, kernel, tenant, 'sales');
      const billing = await loginAs(app, kernel, tenant, 'billing');
      serial += 1;
      const { organisationId, contact } = await createContactPersonOverHttp(sales, billing, tenant, {
        name: `Formule ${serial} BV`,
        enterpriseNumber: 'BE0403.170.701',
      });
      const productId = await createProductOverHttp(sales, tenant);
      const asSales = requestAs(app, sales, contractPurposeOf(tenant));

      const refused = await asSales('POST', '/api/v1/contracts', {
        organisationId,
        subjectId: contact,
        startDate: '2026-03-01',
        endDate: null,
        lines: [{ productId, quantity: 1, unitPriceCents: 1995 }],
      });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json()).toMatchObject({
        code: 'holder_not_billable',
        details: { subjectType: 'contact_person', billableSubjectTypes: ['customer'] },
      });
      expect(refused.json<{ detail: string }>().detail).toContain(
        'a contract is held by a customer: the purposes that bill it (payments, call records) do not cover a contact_person',
      );
      expect(await contractRows(tenant, 'subject_id', contact)).toEqual([]);

      const customer = await createPersonOverHttp(sales, tenant, { subjectType: 'customer', organisationId });
      const made = await asSales('POST', '/api/v1/contracts', {
        organisationId,
        subjectId: customer,
        startDate: '2026-03-01',
        lines: [{ productId }],
      });
      expect(made.statusCode, made.body).toBe(201);
      expect(await contractRows(tenant, 'subject_id', customer)).toHaveLength(1);
    });
  }
});

describe('a quote and an order are made only for a holder whose contract could be billed (attack S21-B-7, decision 1030)', () => {
  const quotePurposeOf = (tenant: Tenant): string =>
    tenant.tenantId === testApp.voiceking.tenantId ? 'order_processing' : 'quotes';
  const orderPurposeOf = (tenant: Tenant): string =>
    tenant.tenantId === testApp.voiceking.tenantId ? 'order_processing' : 'orders_deliveries';

  async function countRows(tenant: Tenant, table: 'quotes' | 'orders', subjectId: number): Promise<number> {
    const result = await runAsOwner<{ count: number }>(
      testApp.database.ownerUrl,
      `select count(*)::int as count from ${table} where tenant_id = $1 and subject_id = $2`,
      [tenant.tenantId, subjectId],
    );
    return result.rows[0]?.count ?? -1;
  }

  for (const slug of ['voiceking', 'voxtra'] as const) {
    it(`VX-3: at ${slug} a quote and a direct order for a company's contact person are refused 422 holder_not_billable with the contract's words and a fix that exists, and nothing is written; the fix (the person registered as a customer) is followed and the quote, order and contract are made; me/purposes names the types the back office may offer`, async () => {
      clock.set(new Date('2026-03-02T10:00:00Z'));
      const { app, kernel } = testApp;
      const tenant = testApp[slug];
      const sales = await loginAs(app, kernel, tenant, 'sales');
      const billing = await loginAs(app, kernel, tenant, 'billing');
      serial += 1;
      const { organisationId, contact } = await createContactPersonOverHttp(
        sales,
        billing,
        tenant,
        { name: `Bestelling ${serial} BV` },
        { email: `contact.bestelling${serial}@mail.example` },
      );
      const productId = await createProductOverHttp(sales, tenant);
      const asQuotes = requestAs(app, sales, quotePurposeOf(tenant));
      const asOrders = requestAs(app, sales, orderPurposeOf(tenant));
      const expectRefusal = (answer: { statusCode: number; body: string; json: <T>() => T }) => {
        expect(answer.statusCode, answer.body).toBe(422);
        expect(answer.json()).toMatchObject({
          code: 'holder_not_billable',
          details: { subjectType: 'contact_person', billableSubjectTypes: ['customer'] },
        });
        const detail = answer.json<{ detail: string }>().detail;
        expect(detail).toContain(
          'a contract is held by a customer: the purposes that bill it (payments, call records) do not cover a contact_person',
        );
        expect(detail).toContain(
          'register the person as a customer (back office: People, New person, kind customer; API: POST /api/v1/people with subjectType customer)',
        );
      };

      const quote = await asQuotes('POST', '/api/v1/quotes', {
        subjectId: contact,
        organisationId,
        validUntil: '2026-04-01',
        lines: [{ productId }],
      });
      expectRefusal(quote);
      expect(quote.json()).toMatchObject({ details: { work: 'quote' } });
      expect(await countRows(tenant, 'quotes', contact)).toBe(0);

      const order = await asOrders('POST', '/api/v1/orders', {
        subjectId: contact,
        organisationId,
        lines: [{ productId, quantity: 1 }],
        deliveryAddress: { street: 'Kerkstraat 1', postalCode: '9000', city: 'Gent' },
      });
      expectRefusal(order);
      expect(order.json()).toMatchObject({ details: { work: 'order', acceptedSubjectTypes: ['customer'] } });
      expect(await countRows(tenant, 'orders', contact)).toBe(0);

      // The advice is followed: the same person registered as a customer of the same organisation.
      const customer = await createPersonOverHttp(sales, tenant, {
        subjectType: 'customer',
        organisationId,
        email: `contact.bestelling${serial}@mail.example`,
      });
      const madeQuote = await asQuotes('POST', '/api/v1/quotes', {
        subjectId: customer,
        organisationId,
        validUntil: '2026-04-01',
        lines: [{ productId }],
      });
      expect(madeQuote.statusCode, madeQuote.body).toBe(201);
      const quoteId = madeQuote.json<{ quoteId: number }>().quoteId;
      for (const step of ['send', 'accept']) {
        const moved = await asQuotes('POST', `/api/v1/quotes/${quoteId}/${step}`, {});
        expect(moved.statusCode, moved.body).toBe(200);
      }
      const madeOrder = await asOrders('POST', '/api/v1/orders', { quoteId });
      expect(madeOrder.statusCode, madeOrder.body).toBe(201);
      const orderId = madeOrder.json<{ orderId: number }>().orderId;
      const delivered = await asOrders('POST', `/api/v1/orders/${orderId}/deliver`, {});
      expect(delivered.statusCode, delivered.body).toBe(200);
      const contract = await requestAs(app, sales, contractPurposeOf(tenant))('POST', '/api/v1/contracts', {
        orderId,
        startDate: '2026-03-10',
      });
      expect(contract.statusCode, contract.body).toBe(201);
      expect(await contractRows(tenant, 'subject_id', customer)).toHaveLength(1);

      const me = await requestAs(app, sales)('GET', '/api/v1/me/purposes');
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json()).toMatchObject({
        holderTypes: { quote: ['customer', 'prospect'], order: ['customer'], contract: ['customer'] },
      });
    });
  }

  it('VX-3: at voxtra a quote for a prospect is made (accepting it makes them a customer); a direct order for the prospect is refused and writes nothing', async () => {
    clock.set(new Date('2026-03-02T10:00:00Z'));
    const { app, kernel, voxtra } = testApp;
    const sales = await loginAs(app, kernel, voxtra, 'sales');
    serial += 1;
    const asQuotes = requestAs(app, sales, 'quotes');
    const created = await asQuotes('POST', '/api/v1/people', {
      subjectType: 'prospect',
      familyName: `Prospect${serial}`,
      givenName: 'Ruth',
    });
    expect(created.statusCode, created.body).toBe(201);
    const prospect = created.json<{ subjectId: number }>().subjectId;
    const productId = await createProductOverHttp(sales, voxtra);
    const quote = await asQuotes('POST', '/api/v1/quotes', {
      subjectId: prospect,
      validUntil: '2026-04-01',
      lines: [{ productId }],
    });
    expect(quote.statusCode, quote.body).toBe(201);
    expect(await countRows(voxtra, 'quotes', prospect)).toBe(1);
    const order = await requestAs(app, sales, 'orders_deliveries')('POST', '/api/v1/orders', {
      subjectId: prospect,
      lines: [{ productId }],
    });
    expect(order.statusCode, order.body).toBeGreaterThanOrEqual(400);
    expect(order.statusCode, order.body).toBeLessThan(500);
    expect(await countRows(voxtra, 'orders', prospect)).toBe(0);
  });
});
