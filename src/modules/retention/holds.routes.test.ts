import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { buildAccessReport } from '../../kernel/access-report/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { billingContext, prepareTenant, SYSTEM, startContract } from '../billing/billing.test-helpers.js';
import { runInvoices } from '../billing/index.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { planRetention, runRetentionSweep } from './index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
const clock = fixedClock(new Date('2020-01-01T10:00:00Z'));
let voiceking: Tenant;
let voxtra: Tenant;

function on(day: string): void {
  clock.set(new Date(`${day}T10:00:00Z`));
}

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

async function call(
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
      familyName: `Houvast${serial}`,
      givenName: 'Jo',
      email: `jo.houvast${serial}@mail.example`,
      ...(subjectType === 'customer'
        ? { address: { street: 'Kerkstraat 5', postalCode: '9900', city: 'Eeklo', country: 'BE' } }
        : {}),
    },
  );
  return created.subjectId;
}

async function stateOf(tenant: Tenant, subjectId: number) {
  const row = await runAsOwner<{ erased: boolean; person: boolean }>(
    database.ownerUrl,
    `select (select erased_at is not null from data_subjects where tenant_id = $1 and subject_id = $2) as erased,
            exists (select 1 from people where tenant_id = $1 and subject_id = $2) as person`,
    [tenant.tenantId, subjectId],
  );
  return row.rows[0];
}

async function planned(tenant: Tenant, subjectId: number) {
  const pseudonym = await kernel.keys.pseudonym(tenant.tenantId, subjectId);
  const plan = await planRetention(kernel, DATA_MAP, tenant.tenantId);
  return plan.people.find((entry) => entry.pseudonym === pseudonym);
}

async function reportOf(tenant: Tenant, subjectId: number): Promise<string> {
  const report = await buildAccessReport(kernel, DATA_MAP, {
    tenantId: tenant.tenantId,
    actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' },
    purpose: 'rights_requests',
    subjectId,
    language: 'en',
  });
  return JSON.stringify(report);
}

describe('a dispute on an invoice holds the invoice, its customer and its calls (issue 16, decision 0112)', () => {
  it('VX-8: billing marks an invoice disputed over HTTP; while disputed the sweep keeps the customer and the invoice past its accounting hold; settled, both go; other roles and tenants are refused', async () => {
    on('2020-01-15');
    const catalogue = await prepareTenant(kernel, voxtra);
    const customer = await person(voxtra, 'customer', 'customer_administration');
    await startContract(kernel, voxtra, customer, {
      startDate: '2020-01-01',
      endDate: '2020-01-31',
      lines: [{ productId: catalogue.subscription }],
    });
    on('2020-02-03');
    await runInvoices(kernel, billingContext(voxtra), { callsPurpose: 'call_billing', period: '2020-01' });
    const invoiceId = (
      await runAsOwner<{ invoice_id: number }>(
        database.ownerUrl,
        'select invoice_id from invoices where tenant_id = $1 and subject_id = $2',
        [voxtra.tenantId, customer],
      )
    ).rows[0]?.invoice_id;
    expect(invoiceId).toBeDefined();
    const url = `/api/v1/invoices/${invoiceId}/dispute`;
    const reason = { reason: 'The customer contests the January subscription in a letter.' };

    const billing = await loginAs(app, kernel, voxtra, 'billing');
    const sales = await loginAs(app, kernel, voxtra, 'sales');
    expect((await call(sales, 'POST', url, 'invoicing', reason)).statusCode).toBe(403);
    const foreign = await loginAs(app, kernel, voiceking, 'billing');
    expect((await call(foreign, 'POST', url, 'billing', reason)).statusCode).toBe(404);
    expect((await call(billing, 'POST', url, 'invoicing', { reason: 'x' })).statusCode).toBe(400);
    const opened = await call(billing, 'POST', url, 'invoicing', reason);
    expect(opened.statusCode, opened.body).toBe(201);
    expect(opened.json()).toMatchObject({ invoiceId, closedAt: null });
    expect((await call(billing, 'POST', url, 'invoicing', reason)).statusCode).toBe(409);
    expect(await reportOf(voxtra, customer)).toContain('contests the January subscription');

    // customer_file: two years after the contract's end the customer would go.
    on('2022-02-01');
    expect(await planned(voxtra, customer)).toMatchObject({
      held: true,
      holds: [{ kind: 'dispute', invoices: 1, since: '2020-02-03' }, { kind: 'accounting' }],
    });
    await runRetentionSweep(kernel, DATA_MAP, voxtra.tenantId);
    expect(await stateOf(voxtra, customer)).toEqual({ erased: false, person: true });

    // The invoice's accounting hold has ended, but the dispute keeps it whole.
    on('2031-01-02');
    await runRetentionSweep(kernel, DATA_MAP, voxtra.tenantId);
    const invoice = async () =>
      (
        await runAsOwner<{ subject_id: number | null; buyer_name: string | null }>(
          database.ownerUrl,
          'select subject_id, buyer_name from invoices where tenant_id = $1 and invoice_id = $2',
          [voxtra.tenantId, invoiceId],
        )
      ).rows[0];
    expect(await invoice()).toMatchObject({ subject_id: customer });
    expect((await invoice())?.buyer_name).not.toBeNull();
    expect(await stateOf(voxtra, customer)).toEqual({ erased: false, person: true });

    const settler = await loginAs(app, kernel, voxtra, 'billing');
    expect((await call(settler, 'DELETE', url, 'invoicing')).statusCode).toBe(204);
    expect((await call(settler, 'DELETE', url, 'invoicing')).statusCode).toBe(404);
    await runRetentionSweep(kernel, DATA_MAP, voxtra.tenantId);
    expect(await stateOf(voxtra, customer)).toEqual({ erased: true, person: false });
    expect(await invoice()).toEqual({ subject_id: null, buyer_name: null });
  });
});

describe('a privacy officer’s hold on a case covering several persons (issue 16, decision 0112)', () => {
  it('VK-14: a case opened over HTTP holds every person in it, shows on each person and in their access report; closed, they all go; other roles, another tenant and a second close are refused', async () => {
    on('2020-05-01');
    const [first, second, third] = [
      await person(voiceking, 'prospect', 'answering_questions'),
      await person(voiceking, 'prospect', 'answering_questions'),
      await person(voiceking, 'prospect', 'answering_questions'),
    ];
    on('2023-04-01');
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const body = {
      name: 'Rechtbank Kortrijk A/23/0412',
      reason: 'Claim by a competitor about a shared mailing list',
      endsOn: '2023-12-31',
      subjectIds: [first, second],
    };
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    expect((await call(sales, 'POST', '/api/v1/retention/cases', 'rights_requests', body)).statusCode).toBe(
      403,
    );
    const otherOfficer = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const crossed = await call(otherOfficer, 'POST', '/api/v1/retention/cases', 'rights_requests', body);
    expect(crossed.statusCode).toBeGreaterThanOrEqual(400);
    const none = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from legal_hold_cases where tenant_id = $1',
      [voxtra.tenantId],
    );
    expect(none.rows[0]?.n).toBe(0);

    const opened = await call(officer, 'POST', '/api/v1/retention/cases', 'rights_requests', body);
    expect(opened.statusCode, opened.body).toBe(201);
    const caseId = opened.json<{ caseId: number; people: number }>().caseId;
    expect(opened.json()).toMatchObject({ people: 2, active: true, name: body.name });
    const added = await call(officer, 'POST', `/api/v1/retention/cases/${caseId}/people`, 'rights_requests', {
      subjectIds: [third, first],
    });
    expect(added.statusCode, added.body).toBe(200);
    expect(added.json()).toMatchObject({ people: 3 });

    const holds = await call(
      officer,
      'GET',
      `/api/v1/retention/holds?subjectId=${second}`,
      'rights_requests',
    );
    expect(holds.json<{ items: unknown[] }>().items).toEqual([
      expect.objectContaining({
        caseId,
        active: true,
        reason: expect.stringContaining(body.name) as unknown,
      }),
    ]);
    expect(await reportOf(voiceking, third)).toContain('Rechtbank Kortrijk A/23/0412');

    // inactivity_3y: all three are due from 2023-05-02 on; the case keeps them.
    on('2023-05-02');
    for (const subject of [first, second, third]) {
      expect(await planned(voiceking, subject)).toMatchObject({
        held: true,
        holds: [{ kind: 'legal_hold', caseId, endsOn: '2023-12-31' }],
      });
    }
    await runRetentionSweep(kernel, DATA_MAP, voiceking.tenantId);
    for (const subject of [first, second, third]) {
      expect(await stateOf(voiceking, subject)).toEqual({ erased: false, person: true });
    }

    const closer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const release = `/api/v1/retention/cases/${caseId}/release`;
    expect((await call(sales, 'POST', release, 'rights_requests')).statusCode).toBeGreaterThanOrEqual(400);
    expect((await call(closer, 'POST', release, 'rights_requests')).statusCode).toBe(204);
    expect((await call(closer, 'POST', release, 'rights_requests')).statusCode).toBe(409);
    const listed = await call(closer, 'GET', '/api/v1/retention/cases', 'rights_requests');
    expect(listed.json<{ items: unknown[] }>().items).toEqual([
      expect.objectContaining({ caseId, active: false, people: 3 }),
    ]);
    await runRetentionSweep(kernel, DATA_MAP, voiceking.tenantId);
    for (const subject of [first, second, third]) {
      expect(await stateOf(voiceking, subject)).toEqual({ erased: true, person: false });
    }
  });

  it("VK-14: at Voxtra, whose customer administration covers correspondence, sales, support, billing and the admin can neither place, list nor lift a legal hold or open a case; the privacy officer's hold stays", async () => {
    on('2024-01-10');
    const customer = await person(voxtra, 'customer', 'customer_administration');
    const officer = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const placed = await call(officer, 'POST', '/api/v1/retention/holds', 'rights_requests', {
      subjectId: customer,
      reason: 'Litigation about a disputed installation',
      endsOn: '2026-12-31',
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const holdId = placed.json<{ holdId: number }>().holdId;
    const holdsOf = async () =>
      (
        await runAsOwner<{ n: number; open: number }>(
          database.ownerUrl,
          `select count(*)::int as n, count(*) filter (where released_at is null)::int as open
             from legal_holds where tenant_id = $1`,
          [voxtra.tenantId],
        )
      ).rows[0];
    const before = await holdsOf();
    for (const role of ['sales', 'support', 'billing', 'admin']) {
      const staff = await loginAs(app, kernel, voxtra, role);
      const purpose = 'customer_administration';
      const attempts = [
        await call(staff, 'POST', '/api/v1/retention/holds', purpose, {
          subjectId: customer,
          reason: `tried by ${role}`,
          endsOn: '2027-01-01',
        }),
        await call(staff, 'GET', `/api/v1/retention/holds?subjectId=${customer}`, purpose),
        await call(staff, 'POST', `/api/v1/retention/holds/${holdId}/release`, purpose),
        await call(staff, 'POST', '/api/v1/retention/cases', purpose, {
          name: `Case by ${role}`,
          reason: `tried by ${role}`,
          endsOn: '2027-01-01',
          subjectIds: [customer],
        }),
      ];
      for (const answer of attempts) {
        expect(answer.statusCode, `${role}: ${answer.body}`).toBe(403);
        expect(answer.json<{ code: string }>().code).toBe('purpose_not_allowed');
      }
    }
    expect(await holdsOf()).toEqual(before);
    const cases = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from legal_hold_cases where tenant_id = $1',
      [voxtra.tenantId],
    );
    expect(cases.rows[0]?.n).toBe(0);
  });

  it('VK-14: the same legal hold or case sent twice over HTTP is placed once (the second answer is the open one, 200); a different case under an open case’s name is a 409 case_open; nothing is duplicated', async () => {
    on('2024-02-01');
    const [first, second, third] = [
      await person(voiceking, 'prospect', 'answering_questions'),
      await person(voiceking, 'prospect', 'answering_questions'),
      await person(voiceking, 'prospect', 'answering_questions'),
    ];
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const count = async (table: 'legal_holds' | 'legal_hold_cases') =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          `select count(*)::int as n from ${table} where tenant_id = $1`,
          [voiceking.tenantId],
        )
      ).rows[0]?.n ?? 0;

    const hold = { subjectId: first, reason: 'Letter of the labour inspectorate', endsOn: '2024-12-31' };
    const placed = await call(officer, 'POST', '/api/v1/retention/holds', 'rights_requests', hold);
    expect(placed.statusCode, placed.body).toBe(201);
    const holds = await count('legal_holds');
    const [again, atOnce] = await Promise.all([
      call(officer, 'POST', '/api/v1/retention/holds', 'rights_requests', hold),
      call(officer, 'POST', '/api/v1/retention/holds', 'rights_requests', hold),
    ]);
    for (const response of [again, atOnce]) {
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual(placed.json());
    }
    expect(await count('legal_holds')).toBe(holds);
    // Another end is another hold.
    const longer = await call(officer, 'POST', '/api/v1/retention/holds', 'rights_requests', {
      ...hold,
      endsOn: '2025-06-30',
    });
    expect(longer.statusCode).toBe(201);
    expect(await count('legal_holds')).toBe(holds + 1);

    const body = {
      name: 'Arbeidsrechtbank Gent 24/0077',
      reason: 'Dismissal dispute',
      endsOn: '2024-12-31',
      subjectIds: [second, third],
    };
    const opened = await call(officer, 'POST', '/api/v1/retention/cases', 'rights_requests', body);
    expect(opened.statusCode, opened.body).toBe(201);
    const before = { holds: await count('legal_holds'), cases: await count('legal_hold_cases') };
    const [twice, thrice] = await Promise.all([
      call(officer, 'POST', '/api/v1/retention/cases', 'rights_requests', {
        ...body,
        subjectIds: [third, second],
      }),
      call(officer, 'POST', '/api/v1/retention/cases', 'rights_requests', body),
    ]);
    for (const response of [twice, thrice]) {
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual(opened.json());
    }
    for (const other of [
      { ...body, subjectIds: [second] },
      { ...body, reason: 'Another dispute' },
      { ...body, endsOn: '2025-01-31' },
    ]) {
      const conflict = await call(officer, 'POST', '/api/v1/retention/cases', 'rights_requests', other);
      expect(conflict.statusCode, conflict.body).toBe(409);
      expect(conflict.json()).toMatchObject({ code: 'conflict', details: { reason: 'case_open' } });
    }
    expect({ holds: await count('legal_holds'), cases: await count('legal_hold_cases') }).toEqual(before);
  });
});
