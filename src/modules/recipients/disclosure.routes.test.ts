import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { loginAs, type StaffSession } from '../../../test/http.js';
import { fixedClock } from '../../../test/kernel.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
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
let sales: StaffSession;
let billing: StaffSession;
let voxtraSales: StaffSession;
const clock = fixedClock(new Date('2026-11-24T09:00:00Z'));

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC_URL, clock });
  ({ database, kernel, smtp, app, voiceking, voxtra } = testApp);
  sales = await loginAs(app, kernel, voiceking, 'sales');
  billing = await loginAs(app, kernel, voiceking, 'billing');
  voxtraSales = await loginAs(app, kernel, voxtra, 'sales');
});
afterAll(async () => {
  await testApp.close();
});

const logRows = (tenant: Tenant) =>
  runAsOwner<{
    disclosure_id: string;
    recipient: string;
    purpose: string;
    legal_basis: string;
    categories: string[];
    subject_count: number;
    actor_kind: string;
    actor_id: string;
    role: string;
    reference: string;
    at: Date;
  }>(database.ownerUrl, 'select * from disclosures where tenant_id = $1 order by disclosure_id', [
    tenant.tenantId,
  ]);

function exportFor(session: StaffSession, recipient: string, purpose: string, payload: unknown) {
  return staffCall(app, session, 'POST', `/api/v1/recipients/${recipient}/exports`, { purpose, payload });
}

describe('files for processors (VK-11)', () => {
  it('VK-11: the e-mail processor gets exactly name, first name, language, gender and e-mail; a file carrying a phone number is refused, naming it, and nothing is logged', async () => {
    const people = [
      await createCustomer(kernel, voiceking, 'order_processing', {
        gender: 'female',
        preferredLanguage: 'nl',
      }),
      await createCustomer(kernel, voiceking, 'order_processing', {
        gender: 'male',
        preferredLanguage: 'fr',
      }),
    ];
    const ids = people.map((person) => person.subjectId);
    const before = (await logRows(voiceking)).rowCount ?? 0;

    const refused = await exportFor(sales, 'email_marketing', 'newsletter_customers', {
      subjectIds: ids,
      categories: ['user.name', 'user.contact.email', 'user.contact.phone_number'],
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'category_not_allowed' });
    expect(refused.json<{ detail: string }>().detail).toContain('user.contact.phone_number');
    expect(refused.body).not.toContain(people[0]?.phone ?? 'x');
    expect((await logRows(voiceking)).rowCount).toBe(before);
    // The refusal is on record in the audit log.
    const denied = await runAsOwner(
      database.ownerUrl,
      `select 1 from audit_log where tenant_id = $1 and action = 'disclosure' and decision = 'denied' and reason = 'category_not_allowed'`,
      [voiceking.tenantId],
    );
    expect(denied.rowCount).toBe(1);

    const file = await exportFor(sales, 'email_marketing', 'newsletter_customers', { subjectIds: ids });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = file.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('family_name,given_name,language,gender,email');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe(`${people[0]?.familyName},Lotte,nl,female,${people[0]?.email}`);
    for (const line of lines) expect(line.split(',')).toHaveLength(5);
    expect(file.body).not.toContain(people[0]?.phone ?? 'x');
    expect(file.body).not.toContain('Kerkstraat');
    const log = await logRows(voiceking);
    expect(log.rowCount).toBe(before + 1);
    expect(log.rows.at(-1)).toMatchObject({
      recipient: 'email_marketing',
      purpose: 'newsletter_customers',
      legal_basis: 'legitimate_interests',
      categories: ['user.name', 'user.demographic.language', 'user.demographic.gender', 'user.contact.email'],
      subject_count: 2,
      actor_kind: 'staff',
      actor_id: String(sales.staffId),
      role: 'sales',
      reference: file.headers['x-kluis-disclosure'],
    });
  });

  it('a purpose the recipient receives nothing for, a role the purpose does not name, an unknown recipient: refused, nothing logged', async () => {
    const person = await createCustomer(kernel, voiceking, 'order_processing');
    const before = (await logRows(voiceking)).rowCount ?? 0;
    const wrongPurpose = await exportFor(sales, 'email_marketing', 'order_processing', {
      subjectIds: [person.subjectId],
    });
    expect(wrongPurpose.statusCode).toBe(403);
    expect(wrongPurpose.json()).toMatchObject({ code: 'purpose_not_allowed' });
    // Billing may not act under the newsletter purpose (the gate's role check).
    const wrongRole = await exportFor(billing, 'email_marketing', 'newsletter_customers', {
      subjectIds: [person.subjectId],
    });
    expect(wrongRole.statusCode).toBe(403);
    expect(wrongRole.json()).toMatchObject({ code: 'role_not_allowed' });
    const unknown = await exportFor(sales, 'constructor', 'newsletter_customers', {
      subjectIds: [person.subjectId],
    });
    expect(unknown.statusCode).toBe(403);
    expect(unknown.json()).toMatchObject({ code: 'recipient_not_allowed' });
    // Another tenant's person is no one here.
    const stranger = await createCustomer(kernel, voxtra, 'customer_administration');
    const foreign = await exportFor(sales, 'email_marketing', 'newsletter_customers', {
      subjectIds: [stranger.subjectId],
    });
    expect(foreign.statusCode).toBe(200);
    expect(foreign.body.trimEnd().split('\r\n')).toHaveLength(1);
    expect(foreign.headers['x-kluis-left-out']).toBe('1');
    expect((await logRows(voiceking)).rowCount).toBe(before);
  });

  it('a person who objected to direct marketing is left out of the mailing file and of its log', async () => {
    const stays = await createCustomer(kernel, voiceking, 'order_processing');
    const objects = await createCustomer(kernel, voiceking, 'order_processing');
    await runAsOwner(
      database.ownerUrl,
      'update data_subjects set marketing_objected_at = now() where tenant_id = $1 and subject_id = $2',
      [voiceking.tenantId, objects.subjectId],
    );
    const file = await exportFor(sales, 'direct_mailing', 'newsletter_customers', {
      subjectIds: [stays.subjectId, objects.subjectId],
    });
    expect(file.statusCode).toBe(200);
    expect(file.body).toContain(stays.email ?? 'x');
    expect(file.body).not.toContain(objects.email ?? 'x');
    expect(file.headers['x-kluis-left-out']).toBe('1');
    expect((await logRows(voiceking)).rows.at(-1)).toMatchObject({
      recipient: 'direct_mailing',
      subject_count: 1,
    });
  });
});

describe('third parties of Voxtra (VX-6)', () => {
  it('VX-6: a transport firm gets name and address for a delivery and nothing more; the disclosure is logged with its purpose', async () => {
    const person = await createCustomer(kernel, voxtra, 'customer_administration');
    const refused = await exportFor(voxtraSales, 'transport_firms', 'intermediary', {
      subjectIds: [person.subjectId],
      categories: ['user.name', 'user.contact.address', 'user.contact.email'],
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ detail: string }>().detail).toContain('user.contact.email');
    const file = await exportFor(voxtraSales, 'transport_firms', 'intermediary', {
      subjectIds: [person.subjectId],
    });
    expect(file.statusCode).toBe(200);
    expect(file.body.split('\r\n')[0]).toBe('family_name,given_name,street,postal_code,city,country');
    expect(file.body).not.toContain(person.email ?? 'x');
    expect((await logRows(voxtra)).rows.at(-1)).toMatchObject({
      recipient: 'transport_firms',
      purpose: 'intermediary',
      legal_basis: 'contract',
      categories: ['user.name', 'user.contact.address'],
      subject_count: 1,
    });
  });
});

describe('a purpose kept for disclosures only (decision 0872)', () => {
  it('VX-6: Voxtra’s business transfer serves the export to the buyer, logged as a disclosure, and nothing else: everyday routes refuse it (403 purpose_not_allowed, nothing written) and the me answer marks it (attack S18-12)', async () => {
    const admin = await loginAs(app, kernel, voxtra, 'admin');
    const person = await createCustomer(kernel, voxtra, 'customer_administration');
    const number = await staffCall(app, admin, 'POST', '/api/v1/phone-numbers/assignments', {
      purpose: 'business_transfer',
      payload: { number: '056 22 33 47', subjectId: person.subjectId, from: '2026-11-01' },
    });
    expect(number.statusCode, number.body).toBe(403);
    expect(number.json()).toMatchObject({ code: 'purpose_not_allowed' });
    expect(number.json<{ detail: string }>().detail).toContain('/api/v1/recipients/{recipient}/exports');
    const people = await staffCall(app, admin, 'GET', '/api/v1/people?name=a', {
      purpose: 'business_transfer',
    });
    expect(people.statusCode).toBe(403);
    const assigned = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from number_assignments where tenant_id = $1',
      [voxtra.tenantId],
    );
    expect(assigned.rows[0]?.n).toBe(0);

    const file = await exportFor(admin, 'business_buyer', 'business_transfer', {
      subjectIds: [person.subjectId],
    });
    expect(file.statusCode, file.body).toBe(200);
    expect((await logRows(voxtra)).rows.at(-1)).toMatchObject({
      recipient: 'business_buyer',
      purpose: 'business_transfer',
      subject_count: 1,
    });
    const me = await staffCall(app, admin, 'GET', '/api/v1/me/purposes');
    const purposes = me.json<{ purposes: Array<{ key: string; disclosureOnly: boolean }> }>().purposes;
    expect(purposes.find((purpose) => purpose.key === 'business_transfer')).toMatchObject({
      disclosureOnly: true,
    });
    expect(purposes.filter((purpose) => purpose.disclosureOnly).map((purpose) => purpose.key)).toEqual([
      'business_transfer',
    ]);
  });
});

describe('the disclosure log and the access report (VK-10)', () => {
  it('VK-10: every disclosure is logged with recipient, purpose, legal ground, categories, the persons by pseudonym, by whom, when and the file, and shows in the person’s access report', async () => {
    const person = await createCustomer(kernel, voiceking, 'order_processing', {
      gender: 'x',
      preferredLanguage: 'en',
    });
    const other = await createCustomer(kernel, voiceking, 'order_processing');
    const first = await exportFor(sales, 'email_marketing', 'newsletter_customers', {
      subjectIds: [person.subjectId, other.subjectId],
    });
    clock.advance(60_000);
    const second = await exportFor(sales, 'direct_mailing', 'newsletter_customers', {
      subjectIds: [person.subjectId],
      categories: ['user.name', 'user.contact.email'],
    });
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    const pseudonym = await kernel.keys.pseudonym(voiceking.tenantId, person.subjectId);
    const logged = await runAsOwner<{ reference: string; at: Date; recipient: string }>(
      database.ownerUrl,
      `select d.reference, d.at, d.recipient from disclosures d
         join disclosure_subjects s using (tenant_id, disclosure_id)
        where d.tenant_id = $1 and s.pseudonym = $2 order by d.disclosure_id`,
      [voiceking.tenantId, pseudonym],
    );
    expect(logged.rows.map((row) => row.reference)).toEqual([
      first.headers['x-kluis-disclosure'],
      second.headers['x-kluis-disclosure'],
    ]);
    expect(logged.rows.map((row) => row.recipient)).toEqual(['email_marketing', 'direct_mailing']);
    // No raw subject id and no e-mail address in the log.
    const raw = await runAsOwner(
      database.ownerUrl,
      'select * from disclosure_subjects where tenant_id = $1',
      [voiceking.tenantId],
    );
    expect(JSON.stringify(raw.rows)).not.toContain(person.email ?? 'x');

    const report = await accessReportOf(app, smtp, voiceking, person.email ?? '', PUBLIC_URL);
    expect(report.disclosures).toEqual([
      {
        at: logged.rows[0]?.at.toISOString(),
        recipient: 'e-mail marketing service provider',
        legalGround: 'legitimate_interests',
        categories: [
          'user.name',
          'user.demographic.language',
          'user.demographic.gender',
          'user.contact.email',
        ],
      },
      {
        at: logged.rows[1]?.at.toISOString(),
        recipient: 'direct mailing service provider',
        legalGround: 'legitimate_interests',
        categories: ['user.name', 'user.contact.email'],
      },
    ]);
  });

  it('the log is append-only for the application', async () => {
    await expect(
      runAsOwner(
        database.ownerUrl,
        `set role kluis_app; select set_config('app.tenant', '${voiceking.tenantId}', false); update disclosures set recipient = recipient`,
      ),
    ).rejects.toThrow(/permission denied/);
  });
});
