import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { loginAs, type StaffSession } from '../../../test/http.js';
import { fixedClock } from '../../../test/kernel.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { type SmtpSink } from '../../../test/smtp.js';
import type { AccessReport } from '../../kernel/access-report/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { insertCalls } from '../billing/billing.test-helpers.js';
import type { Tenant } from '../tenants/index.js';
import { accessReportOf, createCustomer, staffCall } from './recipients.test-helpers.js';

const PUBLIC_URL = 'https://privacy.voiceking.example';
let testApp: MailingTestApp;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voiceking: Tenant;
let voxtra: Tenant;
let officer: StaffSession;
let secondOfficer: StaffSession;
let billing: StaffSession;
let voxtraOfficer: StaffSession;
const clock = fixedClock(new Date('2026-11-24T09:00:00Z'));

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC_URL, clock });
  ({ database, kernel, smtp, app, voiceking, voxtra } = testApp);
  officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
  secondOfficer = await loginAs(app, kernel, voiceking, 'privacy_officer');
  billing = await loginAs(app, kernel, voiceking, 'billing');
  voxtraOfficer = await loginAs(app, kernel, voxtra, 'privacy_officer');
});
afterAll(async () => {
  await testApp.close();
});

function order(subjectIds: number[], overrides: Record<string, unknown> = {}) {
  return {
    recipient: 'judicial_authorities',
    authority: 'Parket West-Vlaanderen, afdeling Kortrijk',
    country: 'BE',
    legalBasis: 'art. 46bis en 88bis Wetboek van Strafvordering',
    orderReference: 'KO.12.L1.0421/26',
    subjectIds,
    categories: ['user.name', 'kluis.telephony.call_record'],
    period: { from: '2026-10-01', to: '2026-10-31' },
    decision: 'disclose',
    ...overrides,
  };
}

const post = (session: StaffSession, url: string, payload?: unknown) =>
  staffCall(app, session, 'POST', url, payload === undefined ? {} : { payload });

const requestRows = (tenant: Tenant) =>
  runAsOwner<{ state: string }>(
    database.ownerUrl,
    'select state from authority_requests where tenant_id = $1',
    [tenant.tenantId],
  );

describe('requests of judicial authorities and police (VK-10)', () => {
  it('VK-10: an authority request needs a second approver, is disclosed once through the door, and stays out of the person’s access report until its silence ends', async () => {
    const suspect = await createCustomer(kernel, voiceking, 'order_processing');
    await insertCalls(kernel, voiceking, [
      {
        subjectId: suspect.subjectId,
        startedAt: '2026-10-03T09:00:00Z',
        destination: '+32470111222',
        seconds: 60,
        costMicros: 1,
      },
      {
        subjectId: suspect.subjectId,
        startedAt: '2026-10-20T18:30:00Z',
        destination: '+32470333444',
        seconds: 95,
        costMicros: 1,
      },
      {
        subjectId: suspect.subjectId,
        startedAt: '2026-11-02T10:00:00Z',
        destination: '+32470555666',
        seconds: 30,
        costMicros: 1,
      },
    ]);
    const registered = await post(
      officer,
      '/api/v1/authority-requests',
      order([suspect.subjectId], { confidentialUntil: '2026-12-31' }),
    );
    expect(registered.statusCode).toBe(201);
    const request = registered.json<{ authorityRequestId: number; state: string }>();
    expect(request.state).toBe('awaiting_approval');
    const url = `/api/v1/authority-requests/${request.authorityRequestId}`;
    // Registered, not yet disclosed: the officer's read behind it does not show in who consulted
    // the person's data (attack S9-1, decision 0590).
    const underDisclosure = (report: AccessReport) =>
      report.consultations.filter((line) => line.purpose === 'legal_disclosure');
    const registeredOnly = await accessReportOf(app, smtp, voiceking, suspect.email ?? '', PUBLIC_URL);
    expect(underDisclosure(registeredOnly)).toEqual([]);
    expect(registeredOnly.consultations.length).toBeGreaterThan(0);

    // Nothing leaves before a second person approves; the one who registered it cannot.
    const early = await post(officer, `${url}/disclose`);
    expect(early.statusCode).toBe(409);
    const self = await post(officer, `${url}/approve`);
    expect(self.statusCode).toBe(403);
    expect(self.json()).toMatchObject({ code: 'forbidden' });
    expect(self.json<{ detail: string }>().detail).toContain('four eyes');
    // Billing reads call records for billing only: it handles no authority requests.
    const clerk = await post(billing, `${url}/approve`);
    expect(clerk.statusCode).toBe(403);
    expect(clerk.json()).toMatchObject({ code: 'role_not_allowed' });
    // The other tenant's officer sees no such request.
    expect((await post(voxtraOfficer, `${url}/approve`)).statusCode).toBe(404);
    expect(
      (
        await runAsOwner(database.ownerUrl, 'select 1 from disclosures where tenant_id = $1', [
          voiceking.tenantId,
        ])
      ).rowCount,
    ).toBe(0);

    const approved = await post(secondOfficer, `${url}/approve`);
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ state: 'approved', approvedBy: secondOfficer.staffId });

    const disclosed = await post(officer, `${url}/disclose`);
    expect(disclosed.statusCode).toBe(200);
    const body = disclosed.json<{
      persons: Array<Record<string, unknown>>;
      callRecords: Array<{ destination: string; startedAt: string }>;
    }>();
    expect(body.persons).toEqual([
      { subjectId: suspect.subjectId, familyName: suspect.familyName, givenName: suspect.givenName },
    ]);
    // The October calls of the order's period, not November's; no e-mail, no address.
    expect(body.callRecords.map((call) => call.destination)).toEqual(['+32470111222', '+32470333444']);
    expect(disclosed.body).not.toContain(suspect.email ?? 'x');
    // Twice: the request is disclosed once.
    expect((await post(officer, `${url}/disclose`)).statusCode).toBe(409);
    const log = await runAsOwner<{
      recipient: string;
      purpose: string;
      legal_basis: string;
      categories: string[];
      authority_request_id: string;
      confidential_until: string;
      reference: string;
      actor_id: string;
    }>(database.ownerUrl, 'select * from disclosures where tenant_id = $1', [voiceking.tenantId]);
    expect(log.rows).toHaveLength(1);
    expect(log.rows[0]).toMatchObject({
      recipient: 'judicial_authorities',
      purpose: 'legal_disclosure',
      legal_basis: 'legal_obligation',
      categories: ['user.name', 'kluis.telephony.call_record'],
      authority_request_id: request.authorityRequestId,
      reference: `authority-request:${request.authorityRequestId}`,
      actor_id: String(officer.staffId),
    });
    expect(new Date(log.rows[0]?.confidential_until ?? '').toISOString().slice(0, 10)).toBe('2026-12-31');

    // While the authority forbids telling, the person's access report does not show it …
    const during = await accessReportOf(app, smtp, voiceking, suspect.email ?? '', PUBLIC_URL);
    expect(during.disclosures).toEqual([]);
    // … nor the reads behind it in who consulted the data (decision 0590).
    expect(underDisclosure(during)).toEqual([]);
    // … on its end date still not; the day after, it does.
    clock.set(new Date('2026-12-31T20:00:00Z'));
    expect((await accessReportOf(app, smtp, voiceking, suspect.email ?? '', PUBLIC_URL)).disclosures).toEqual(
      [],
    );
    clock.set(new Date('2027-01-01T08:00:00Z'));
    const after = await accessReportOf(app, smtp, voiceking, suspect.email ?? '', PUBLIC_URL);
    // The disclosure is told in `disclosures`; the reads behind it stay out (attack S9-1).
    expect(underDisclosure(after)).toEqual([]);
    expect(after.disclosures).toEqual([
      {
        at: '2026-11-24T09:00:00.000Z',
        recipient: 'judicial authorities and police services',
        legalGround: 'legal_obligation',
        categories: ['user.name', 'kluis.telephony.call_record'],
      },
    ]);
    clock.set(new Date('2026-11-24T09:00:00Z'));
  });

  it('VK-12: a request of an authority outside the EU is refused under VoiceKing’s policy; nothing is registered', async () => {
    const person = await createCustomer(kernel, voiceking, 'order_processing');
    const before = (await requestRows(voiceking)).rowCount ?? 0;
    const foreign = await post(
      officer,
      '/api/v1/authority-requests',
      order([person.subjectId], { authority: 'Federal Bureau of Investigation', country: 'US' }),
    );
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({ code: 'transfer_not_allowed' });
    expect(foreign.json<{ detail: string }>().detail).toContain('outside the EU');
    expect((await requestRows(voiceking)).rowCount).toBe(before);
    const audited = await runAsOwner(
      database.ownerUrl,
      `select 1 from audit_log where tenant_id = $1 and action = 'authority_request.register' and decision = 'denied' and reason = 'transfer_not_allowed'`,
      [voiceking.tenantId],
    );
    expect(audited.rowCount).toBe(1);
    // Norway is in the EEA but not in the EU: VoiceKing promises the EU.
    const norway = await post(
      officer,
      '/api/v1/authority-requests',
      order([person.subjectId], { country: 'NO' }),
    );
    expect(norway.json()).toMatchObject({ code: 'transfer_not_allowed' });
  });

  it('call records go to an authority only under the policy’s legal-disclosure purpose and its role; scope and input are checked', async () => {
    const person = await createCustomer(kernel, voiceking, 'order_processing');
    const before = (await requestRows(voiceking)).rowCount ?? 0;
    // Billing may read call records for billing, not hand them to the police, whatever purpose it
    // declares: another purpose is refused at the door (decision 0061), legal disclosure by its role.
    const clerk = await staffCall(app, billing, 'POST', '/api/v1/authority-requests', {
      purpose: 'call_billing',
      payload: order([person.subjectId]),
    });
    expect(clerk.statusCode).toBe(403);
    expect(clerk.json()).toMatchObject({
      code: 'purpose_not_allowed',
      details: { validPurposes: ['legal_disclosure'] },
    });
    const declared = await staffCall(app, billing, 'POST', '/api/v1/authority-requests', {
      purpose: 'legal_disclosure',
      payload: order([person.subjectId]),
    });
    expect(declared.statusCode).toBe(403);
    expect(declared.json()).toMatchObject({ code: 'role_not_allowed' });
    // A category the authority recipient does not receive (VoiceKing: bank accounts).
    const bank = await post(
      officer,
      '/api/v1/authority-requests',
      order([person.subjectId], { categories: ['user.financial.bank_account'] }),
    );
    expect(bank.statusCode).toBe(403);
    expect(bank.json<{ detail: string }>().detail).toContain('user.financial.bank_account');
    // A processor is not an authority.
    const processor = await post(
      officer,
      '/api/v1/authority-requests',
      order([person.subjectId], { recipient: 'invoicing', categories: ['user.name'] }),
    );
    expect(processor.json()).toMatchObject({ code: 'recipient_not_allowed' });
    // Call records need the order's period.
    const noPeriod = await post(
      officer,
      '/api/v1/authority-requests',
      order([person.subjectId], { period: undefined }),
    );
    expect(noPeriod.statusCode).toBe(400);
    // A national register number typed in the reasons is refused (VK-16).
    const sensitive = await post(
      officer,
      '/api/v1/authority-requests',
      order([person.subjectId], { decisionNote: 'verdachte 85.07.30-033.28' }),
    );
    expect(sensitive.statusCode).toBe(422);
    // Another tenant's person is no one here.
    const stranger = await createCustomer(kernel, voxtra, 'customer_administration');
    const foreign = await post(officer, '/api/v1/authority-requests', order([stranger.subjectId]));
    expect(foreign.statusCode).toBe(404);
    expect((await requestRows(voiceking)).rowCount).toBe(before);
  });

  it('a request the officer decides to refuse is kept as refused and discloses nothing, not even in who consulted the person’s data (attack S9-1)', async () => {
    const person = await createCustomer(kernel, voiceking, 'order_processing');
    const refused = await post(
      officer,
      '/api/v1/authority-requests',
      order([person.subjectId], {
        decision: 'refuse',
        decisionNote: 'het bevel vermeldt geen wettelijke grondslag',
      }),
    );
    expect(refused.json()).toMatchObject({ state: 'refused' });
    const id = refused.json<{ authorityRequestId: number }>().authorityRequestId;
    expect((await post(secondOfficer, `/api/v1/authority-requests/${id}/approve`)).statusCode).toBe(409);
    expect((await post(officer, `/api/v1/authority-requests/${id}/disclose`)).statusCode).toBe(409);
    const listed = await staffCall(app, secondOfficer, 'GET', '/api/v1/authority-requests');
    expect(
      listed.json<{ items: Array<{ authorityRequestId: number; state: string }> }>().items[0],
    ).toMatchObject({
      authorityRequestId: id,
      state: 'refused',
    });
    const report = await accessReportOf(app, smtp, voiceking, person.email ?? '', PUBLIC_URL);
    expect(report.consultations.filter((line) => line.purpose === 'legal_disclosure')).toEqual([]);
    expect(report.disclosures).toEqual([]);
  });

  it('VK-10, VX-5: the legal-disclosure purpose works only through an authority request: call records, invoices, a recipient export under it are refused at the door and record nothing; the people reads that name a request’s persons give names only (attack S16-3)', async () => {
    for (const [tenant, session, recipient] of [
      [voiceking, officer, 'judicial_authorities'],
      [voxtra, voxtraOfficer, 'authorities'],
    ] as const) {
      const person = await createCustomer(
        kernel,
        tenant,
        tenant === voiceking ? 'order_processing' : 'customer_administration',
      );
      await insertCalls(kernel, tenant, [
        {
          subjectId: person.subjectId,
          startedAt: '2026-10-07T14:21:09Z',
          destination: '+32470987654',
          seconds: 60,
          costMicros: 1,
        },
      ]);
      const counts = async () =>
        (
          await runAsOwner<{ entries: number; disclosures: number }>(
            database.ownerUrl,
            `select (select count(*)::int from audit_log where tenant_id = $1) as entries,
                    (select count(*)::int from disclosures where tenant_id = $1) as disclosures`,
            [tenant.tenantId],
          )
        ).rows[0];
      const before = await counts();
      const refused = [
        ['GET', `/api/v1/customers/${person.subjectId}/call-records?from=2026-10-01&to=2026-10-31`],
        ['GET', '/api/v1/call-records/unrated'],
        ['GET', `/api/v1/invoices?period=2026-10`],
        ['POST', `/api/v1/recipients/${recipient}/exports`],
      ] as const;
      for (const [method, url] of refused) {
        const answer = await staffCall(app, session, method, url, {
          purpose: 'legal_disclosure',
          ...(method === 'POST'
            ? { payload: { subjectIds: [person.subjectId], categories: ['user.name'] } }
            : {}),
        });
        expect({ url, status: answer.statusCode }).toEqual({ url, status: 403 });
        expect(answer.json()).toMatchObject({ code: 'purpose_not_allowed' });
        expect(answer.body).not.toContain('+32470987654');
      }
      expect(await counts()).toEqual(before);

      const named = await staffCall(app, session, 'GET', `/api/v1/people/${person.subjectId}`, {
        purpose: 'legal_disclosure',
      });
      expect(named.statusCode, named.body).toBe(200);
      expect(Object.keys(named.json<Record<string, unknown>>()).sort()).toEqual(
        ['familyName', 'givenName', 'organisationId', 'source', 'subjectId', 'subjectType'].sort(),
      );
      const search = await staffCall(app, session, 'GET', `/api/v1/people?name=${person.familyName}`, {
        purpose: 'legal_disclosure',
      });
      expect(search.statusCode, search.body).toBe(200);
      for (const item of search.json<{ items: Array<Record<string, unknown>> }>().items)
        expect(item).not.toHaveProperty('email');
    }
  });

  it('Voxtra’s privacy officer discloses to its authorities under the same rules', async () => {
    const voxtraSecond = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const person = await createCustomer(kernel, voxtra, 'customer_administration');
    const registered = await post(
      voxtraOfficer,
      '/api/v1/authority-requests',
      order([person.subjectId], {
        recipient: 'authorities',
        categories: ['user.name', 'user.contact.address', 'kluis.party.company'],
        period: undefined,
      }),
    );
    expect(registered.statusCode).toBe(201);
    const url = `/api/v1/authority-requests/${registered.json<{ authorityRequestId: number }>().authorityRequestId}`;
    expect((await post(voxtraSecond, `${url}/approve`)).statusCode).toBe(200);
    const disclosed = await post(voxtraOfficer, `${url}/disclose`);
    expect(disclosed.statusCode).toBe(200);
    expect(disclosed.json<{ persons: Array<Record<string, unknown>> }>().persons[0]).toMatchObject({
      familyName: person.familyName,
      address: { street: person.address?.street },
    });
  });
});
