import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { loginAs, type StaffSession } from '../../../test/http.js';
import { followLink } from '../../../test/link-button.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { type SmtpSink } from '../../../test/smtp.js';
import { unzip } from '../../../test/zip.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

let testApp: MailingTestApp;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voiceking: Tenant;
let voxtra: Tenant;
let sales: StaffSession;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: 'https://portal.example' });
  ({ database, kernel, smtp, app, voiceking, voxtra } = testApp);
  sales = await loginAs(app, kernel, voiceking, 'sales');
}, 120_000);
afterAll(async () => {
  await testApp.close();
});

let serial = 0;
async function person(
  tenant: Tenant,
  subjectType: string,
  purpose: string,
): Promise<{ id: number; email: string }> {
  serial += 1;
  const email = `ledger${serial}@mail.example`;
  const created = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose },
    { subjectType, familyName: `Ledger${serial}`, givenName: 'Lien', email },
  );
  return { id: created.subjectId, email };
}

const staffHeaders = (session: StaffSession, purpose: string) => ({
  cookie: session.cookie,
  'x-csrf-token': session.csrfToken,
  'x-kluis-purpose': purpose,
});

async function loginToPortal(tenant: Tenant, email: string): Promise<{ cookie: string; csrf: string }> {
  const before = smtp.to(email).length;
  await app.inject({ method: 'POST', url: `/t/${tenant.slug}/account/link`, payload: { email } });
  const mail = await smtp.waitFor(email, before + 1);
  const link = /(https:\/\/portal\.example\S+)/.exec(mail.text ?? '')?.[1] ?? '';
  const login = await followLink(app, link.replace('https://portal.example', ''));
  // The link logs in and goes on to the account page.
  expect(login.statusCode).toBe(303);
  const cookies = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .map((line) => line.split(';')[0] ?? '');
  const cookie = cookies.find((line) => line.startsWith('kluis_subject=')) ?? '';
  const csrf = (cookies.find((line) => line.startsWith('kluis_subject_csrf=')) ?? '').split('=')[1] ?? '';
  return { cookie, csrf };
}

/** Confirms the double opt-in mailed to an address with a POST from the link's page (VK-17). */
async function confirmByMail(email: string): Promise<void> {
  const mail = await vi.waitFor(
    () => {
      const found = smtp
        .to(email)
        .find((candidate) => (candidate.text ?? '').includes('/newsletter/confirm/'));
      if (!found) throw new Error('no confirmation mail yet');
      return found;
    },
    { timeout: 10_000, interval: 50 },
  );
  const link = /https:\/\/portal\.example(\/\S+\/newsletter\/confirm\/\S+)/.exec(mail.text ?? '')?.[1] ?? '';
  const confirmed = await app.inject({
    method: 'POST',
    url: link,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'confirm=1',
  });
  expect(confirmed.statusCode).toBe(200);
}

describe('the consent ledger', () => {
  it('VK-24, VK-17: consent given by phone is recorded with its wording and what the person said, pending until the person confirms the mail sent to the address they gave; withdrawing it stops the purpose at once; the history stays', async () => {
    // A prospect's contact data is kept under a purpose that does not need their consent.
    const prospect = await person(voiceking, 'prospect', 'answering_questions');
    const read = () =>
      app.inject({
        method: 'GET',
        url: `/api/v1/people/${prospect.id}`,
        headers: staffHeaders(sales, 'newsletter_opt_in'),
      });
    expect((await read()).json<{ code: string }>().code).toBe('consent_missing');

    const withoutProof = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${prospect.id}/consents`,
      headers: staffHeaders(sales, 'newsletter_opt_in'),
      payload: { event: 'given' },
    });
    expect(withoutProof.statusCode).toBe(400);

    const given = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${prospect.id}/consents`,
      headers: staffHeaders(sales, 'newsletter_opt_in'),
      payload: {
        event: 'given',
        wording: {
          language: 'nl',
          text: 'Mogen wij u onze nieuwsbrief sturen? U kunt zich altijd uitschrijven.',
        },
        statement: 'Ja, stuur mij de nieuwsbrief maar.',
        email: prospect.email,
      },
    });
    // A double opt-in purpose (VK-17): recorded as a sign-up, consent only once confirmed by mail.
    expect(given.statusCode).toBe(202);
    const record = given.json<{
      event: string;
      channel: string;
      policyVersion: string;
      staffId: number;
      wording: { hash: string };
      state: string;
    }>();
    expect(record).toMatchObject({
      event: 'signed_up',
      channel: 'staff_phone',
      policyVersion: '2026.2',
      staffId: sales.staffId,
      state: 'pending',
    });
    expect(record.wording.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await read()).json<{ code: string }>().code).toBe('consent_missing');
    await confirmByMail(prospect.email);
    expect((await read()).statusCode).toBe(200);

    const withdrawn = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${prospect.id}/consents`,
      headers: staffHeaders(sales, 'newsletter_opt_in'),
      payload: { event: 'withdrawn', statement: 'Liever toch niet.' },
    });
    expect(withdrawn.statusCode).toBe(201);
    const refused = await read();
    expect(refused.statusCode).toBeGreaterThanOrEqual(400);
    expect(refused.json<{ code: string }>().code).toBe('consent_missing');

    const history = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${prospect.id}/consents`,
      headers: staffHeaders(sales, 'newsletter_opt_in'),
    });
    expect(history.statusCode).toBe(200);
    expect(history.json<{ items: Array<{ event: string }> }>().items.map((item) => item.event)).toEqual([
      'signed_up',
      'given',
      'withdrawn',
    ]);
    // Append-only: the database itself refuses to change a record.
    await expect(
      runAsOwner(database.ownerUrl, `update consent_records set event = 'given' where subject_id = $1`, [
        prospect.id,
      ]),
    ).rejects.toThrow(/append-only/);
    // Nor emptied in one statement (decision 0862).
    await expect(runAsOwner(database.ownerUrl, 'truncate consent_records')).rejects.toThrow(/append-only/);
  });

  it('a withdrawal is refused for a purpose that rests on a contract, and under a purpose the role does not hold', async () => {
    const customer = await person(voiceking, 'customer', 'order_processing');
    const contract = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${customer.id}/consents`,
      headers: staffHeaders(await loginAs(app, kernel, voiceking, 'billing'), 'billing'),
      payload: { event: 'withdrawn', statement: 'stop' },
    });
    expect(contract.statusCode).toBe(400);
    expect(contract.json<{ code: string }>().code).toBe('validation_failed');
    const notHeld = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${customer.id}/consents`,
      headers: staffHeaders(sales, 'website_statistics'),
      payload: { event: 'withdrawn', statement: 'stop' },
    });
    expect(notHeld.statusCode).toBe(403);
    expect(notHeld.json<{ code: string }>().code).toBe('role_not_allowed');
  });

  it('staff of one tenant cannot record or read consents of another tenant’s person', async () => {
    const other = await person(voxtra, 'prospect', 'quotes');
    for (const method of ['GET', 'POST'] as const) {
      const response = await app.inject({
        method,
        url: `/api/v1/people/${other.id}/consents`,
        headers: staffHeaders(sales, 'newsletter_opt_in'),
        ...(method === 'POST' ? { payload: { event: 'withdrawn', statement: 'x' } } : {}),
      });
      expect(response.statusCode).toBe(404);
    }
  });

  it('VX-10: an objection to direct marketing from the privacy portal stops every marketing purpose at once, shows in the access report and the portability export', async () => {
    const customer = await person(voxtra, 'customer', 'customer_administration');
    const voxtraSales = await loginAs(app, kernel, voxtra, 'sales');
    const readUnder = (purpose: string) =>
      app.inject({
        method: 'GET',
        url: `/api/v1/people/${customer.id}`,
        headers: staffHeaders(voxtraSales, purpose),
      });
    expect((await readUnder('personalised_info')).statusCode).toBe(200);

    const session = await loginToPortal(voxtra, customer.email);
    const before = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/consents?lang=en`,
      headers: { cookie: session.cookie },
    });
    expect(before.statusCode).toBe(200);
    expect(before.json<{ purposes: Array<{ purpose: string }> }>().purposes.map((p) => p.purpose)).toContain(
      'personalised_info',
    );
    const objected = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/consents`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { event: 'objected_marketing' },
    });
    expect(objected.statusCode).toBe(201);
    const refused = await readUnder('personalised_info');
    expect(refused.json<{ code: string }>().code).toBe('subject_objected');
    // A purpose that is no marketing goes on.
    expect((await readUnder('quotes')).statusCode).toBe(200);

    const report = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/data`,
      headers: { cookie: session.cookie },
    });
    const body = report.json<{
      subject: { objectedToDirectMarketing: boolean };
      data: Array<{ table: string; columns: Record<string, string>; rows: Array<Record<string, unknown>> }>;
    }>();
    expect(body.subject.objectedToDirectMarketing).toBe(true);
    const ledger = body.data.find((table) => table.table === 'consent_records');
    expect(ledger?.rows.map((row) => row.event)).toEqual(['objected_marketing']);
    expect(ledger?.rows[0]?.channel).toBe('privacy_portal');

    // The portability export carries the ledger too.
    const filed = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/requests`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { kind: 'portability' },
    });
    expect(filed.statusCode).toBe(200);
    const mail = await smtp.waitFor(customer.email, 2);
    const download = /(https:\/\/portal\.example\S+downloads\S+)/.exec(mail.text ?? '')?.[1] ?? '';
    const zip = await followLink(app, download.replace('https://portal.example', ''));
    expect(zip.statusCode).toBe(200);
    const files = await unzip(zip.rawPayload);
    expect(JSON.parse(files.get('consent_records.json') ?? '[]')).toEqual([
      expect.objectContaining({
        event: 'objected_marketing',
        channel: 'privacy_portal',
        policy_version: '2026.1',
      }),
    ]);
  });

  it('VK-24, VK-17: consent given in the privacy portal (after the confirmation mailed to the address on file, for a double opt-in) and withdrawn, with the wording shown stored by hash', async () => {
    const prospect = await person(voiceking, 'prospect', 'answering_questions');
    const session = await loginToPortal(voiceking, prospect.email);
    const states = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/consents?lang=fr`,
      headers: { cookie: session.cookie },
    });
    const optIn = states
      .json<{ purposes: Array<{ purpose: string; state: string; wording: string }> }>()
      .purposes.find((p) => p.purpose === 'newsletter_opt_in');
    expect(optIn?.state).toBe('none');
    const post = (payload: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/account/consents`,
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
        payload,
      });
    const given = await post({ purpose: 'newsletter_opt_in', event: 'given', language: 'fr' });
    expect(given.statusCode).toBe(202);
    expect(given.json<{ wording: { text: string } }>().wording.text).toBe(optIn?.wording);
    const read = () =>
      app.inject({
        method: 'GET',
        url: `/api/v1/people/${prospect.id}`,
        headers: staffHeaders(sales, 'newsletter_opt_in'),
      });
    expect((await read()).json<{ code: string }>().code).toBe('consent_missing');
    await confirmByMail(prospect.email);
    expect((await read()).statusCode).toBe(200);
    expect((await post({ purpose: 'newsletter_opt_in', event: 'withdrawn' })).statusCode).toBe(201);
    expect((await read()).json<{ code: string }>().code).toBe('consent_missing');
    // Without the CSRF token nothing changes.
    const forged = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/consents`,
      headers: { cookie: session.cookie },
      payload: { purpose: 'newsletter_opt_in', event: 'given' },
    });
    expect(forged.statusCode).toBe(403);
  });
});
