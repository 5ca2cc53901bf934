import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessReportSchema } from '../src/kernel/access-report/index.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { createPerson } from '../src/modules/parties/index.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import { ROOT, runCli } from './cli.js';
import { runAsOwner, type TestDatabase } from './database.js';
import { loginAs, requestAs, type StaffSession } from './http.js';
import { chainPendingAudit } from './kernel.js';
import { followLink } from './link-button.js';
import { startMailingTestApp, type MailingTestApp } from './mailing-app.js';
import type { SmtpSink } from './smtp.js';
import { unzip } from './zip.js';

/**
 * The rows of the requirements the two statements share ("VK-n / VX-m"), shown on Voxtra's own
 * tenant with its own policy, roles and purposes (most VoiceKing tests name only the VK half), and
 * VK-4 / VX-2 on both tenants side by side.
 */
const PUBLIC_URL = 'https://privacy.voxtra.example';

let testApp: MailingTestApp;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voxtra: Tenant;
let voiceking: Tenant;
let sales: StaffSession;
let billing: StaffSession;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC_URL });
  ({ database, kernel, smtp, app, voxtra, voiceking } = testApp);
  sales = await loginAs(app, kernel, voxtra, 'sales');
  billing = await loginAs(app, kernel, voxtra, 'billing');
}, 120_000);
afterAll(async () => {
  await testApp.close();
});

let serial = 0;
/** A Voxtra customer, created by sales under customer administration. */
async function voxtraCustomer() {
  serial += 1;
  return createPerson(
    kernel,
    {
      tenantId: voxtra.tenantId,
      actor: { kind: 'staff', staffId: sales.staffId, role: 'sales' },
      purpose: 'customer_administration',
    },
    {
      subjectType: 'customer',
      familyName: `Verstraete${serial}`,
      givenName: 'Jonas',
      email: `jonas.verstraete${serial}@klant.example`,
      phone: `+3247755${String(serial).padStart(4, '0')}`,
      address: { street: `Stationsstraat ${serial}`, postalCode: '9900', city: 'Eeklo', country: 'BE' },
    },
  );
}

const mailTo = (address: string, count = 1): Promise<ParsedMail> => smtp.waitFor(address, count);
const codeIn = (mail: ParsedMail): string => /\b(\d{6})\b/.exec(mail.text ?? '')?.[1] ?? '';
const linkIn = (mail: ParsedMail): string =>
  /(https:\/\/privacy\.voxtra\.example\S+)/.exec(mail.text ?? '')?.[1] ?? '';

/** A public rights request for `email`, verified with the code mailed to it (after `mailsBefore` others); answers the request id. */
async function fileAndVerify(body: Record<string, unknown>, email: string, mailsBefore = 0): Promise<string> {
  const submitted = await app.inject({
    method: 'POST',
    url: `/t/${voxtra.slug}/privacy/requests`,
    payload: { ...body, email },
  });
  expect(submitted.statusCode, submitted.body).toBe(202);
  const { requestId } = submitted.json<{ requestId: string }>();
  const verified = await app.inject({
    method: 'POST',
    url: `/t/${voxtra.slug}/privacy/requests/${requestId}/verify`,
    payload: { code: codeIn(await mailTo(email, mailsBefore + 1)) },
  });
  expect(verified.statusCode, verified.body).toBe(200);
  return requestId;
}

/** Downloads what the link in the second mail to `email` points to and unpacks it. */
async function downloadFromMail(email: string): Promise<Map<string, string>> {
  const link = linkIn(await mailTo(email, 2));
  const download = await followLink(app, link.replace(PUBLIC_URL, ''));
  expect(download.statusCode).toBe(200);
  expect(download.headers['content-type']).toBe('application/zip');
  return unzip(download.rawPayload);
}

describe("Voxtra's promises on its own tenant", () => {
  it("VX-1: Voxtra's published statement and the access report it sends a person name the controller: name, address, enterprise number, e-mail, website", async () => {
    const statement = await app.inject({ method: 'GET', url: `/t/${voxtra.slug}/privacy` });
    expect(statement.statusCode).toBe(200);
    for (const fact of [
      'Voxtra',
      'BE0649.503.981',
      'Antwerpse Heirweg 40A',
      '9900 Eeklo',
      'administratie@voxtra.be',
      'www.voxtra.be',
    ]) {
      expect(statement.body).toContain(fact);
    }
    // Nothing of the other tenant leaks into it.
    expect(statement.body).not.toContain('VoiceKing');

    const person = await voxtraCustomer();
    await fileAndVerify({ kind: 'access', language: 'nl' }, person.email ?? '');
    const files = await downloadFromMail(person.email ?? '');
    const report = AccessReportSchema.parse(JSON.parse(files.get('access-report.json') ?? '{}'));
    expect(report.controller).toMatchObject({
      enterpriseNumber: 'BE0649.503.981',
      email: 'administratie@voxtra.be',
    });
    expect(report.controller.name).toContain('Voxtra');
    expect(report.controller.address).toContain('Antwerpse Heirweg 40A');
    expect(files.get('access-report.html')).toContain('BE0649.503.981');
  });

  it('VX-1: a Voxtra policy whose enterprise number fails the mod-97 check is refused by `kluis policy check` and by `kluis tenant policy set`; the installed version stays', async () => {
    const source = readFileSync(path.join(ROOT, 'policies/voxtra.yaml'), 'utf8');
    const broken = source.replace('enterpriseNumber: BE0649.503.981', 'enterpriseNumber: BE0649.503.982');
    expect(broken).not.toBe(source);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'kluis-vx1-')), 'voxtra.yaml');
    writeFileSync(file, broken);

    const checked = await runCli(['policy', 'check', file]);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain('invalid enterprise number "BE0649.503.982"');

    const before = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from tenant_policies where tenant_id = $1',
      [voxtra.tenantId],
    );
    const installed = await runCli(['tenant', 'policy', 'set', '--tenant', voxtra.slug, file], {
      DATABASE_URL: database.ownerUrl,
    });
    expect(installed.code).not.toBe(0);
    expect(installed.stderr).toContain('invalid enterprise number');
    const after = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from tenant_policies where tenant_id = $1',
      [voxtra.tenantId],
    );
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  it('VX-14: a policy that lets a newsletter read a restricted person is refused by `kluis policy check` and by `kluis tenant policy set`, naming the purpose; the installed version stays (attack S20-15, decision 0928)', async () => {
    const source = readFileSync(path.join(ROOT, 'policies/voiceking.yaml'), 'utf8');
    const marketing = source.replace(
      '\n  newsletter_customers:\n',
      '\n  newsletter_customers:\n    readWhileRestricted: true\n',
    );
    expect(marketing).not.toBe(source);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'kluis-s20-15-')), 'voiceking.yaml');
    writeFileSync(file, marketing);
    const checked = await runCli(['policy', 'check', file]);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain('purposes.newsletter_customers.readWhileRestricted');
    expect(checked.stderr).toContain('Art. 18(2)');
    const tenant = voiceking;
    const versions = () =>
      runAsOwner<{ n: number }>(
        database.ownerUrl,
        'select count(*)::int as n from tenant_policies where tenant_id = $1',
        [tenant.tenantId],
      );
    const before = (await versions()).rows[0]?.n;
    const installed = await runCli(['tenant', 'policy', 'set', '--tenant', tenant.slug, file], {
      DATABASE_URL: database.ownerUrl,
    });
    expect(installed.code).not.toBe(0);
    expect(installed.stderr).toContain('cannot read a person who restricted processing');
    expect((await versions()).rows[0]?.n).toBe(before);
  });

  it("VK-4: every staff read of a person names a purpose the policy gives the role; a missing purpose, a purpose of another role and a purpose only the other tenant has are refused, and the reads and refusals are on the tenant's audit trail", () =>
    readsNamePurposes({
      seed: 'voiceking',
      own: 'order_processing',
      billingOnly: 'billing',
      foreign: 'customer_administration',
    }));

  it("VX-2: every staff read of a person names a purpose the policy gives the role; a missing purpose, a purpose of another role and a purpose only the other tenant has are refused, and the reads and refusals are on the tenant's audit trail", () =>
    readsNamePurposes({
      seed: 'voxtra',
      own: 'customer_administration',
      billingOnly: 'invoicing',
      foreign: 'order_processing',
    }));

  it("VX-15: an objection to Voxtra's personalised information stops it at once, and a prospect's withdrawal of consent for Voxtra's news stops that at once; the purposes of the contract and the quote go on", async () => {
    const person = await voxtraCustomer();
    const asSales = (subjectId: number, purpose: string) =>
      requestAs(app, sales, purpose)('GET', `/api/v1/people/${subjectId}`);
    expect((await asSales(person.subjectId, 'personalised_info')).statusCode).toBe(200);
    await fileAndVerify(
      { kind: 'objection', purposes: ['personalised_info'], language: 'nl' },
      person.email ?? '',
    );
    const objected = await asSales(person.subjectId, 'personalised_info');
    expect(objected.statusCode).toBe(403);
    expect(objected.json<{ code: string }>().code).toBe('subject_objected');
    expect((await asSales(person.subjectId, 'customer_administration')).statusCode).toBe(200);

    // A prospect who asked for a quote, and gave consent for the news to sales on the phone.
    serial += 1;
    const prospect = await createPerson(
      kernel,
      {
        tenantId: voxtra.tenantId,
        actor: { kind: 'staff', staffId: sales.staffId, role: 'sales' },
        purpose: 'quotes',
      },
      {
        subjectType: 'prospect',
        familyName: `Prospect${serial}`,
        givenName: 'Lore',
        email: `lore${serial}@prospect.example`,
      },
    );
    const given = await requestAs(app, sales, 'news_opt_in')(
      'POST',
      `/api/v1/people/${prospect.subjectId}/consents`,
      {
        event: 'given',
        wording: { language: 'nl', text: 'Mogen wij u aanbiedingen en nieuwtjes van Voxtra mailen?' },
        statement: 'Ja, graag.',
        email: prospect.email,
      },
    );
    // Voxtra's news needs a double opt-in: pending until the mail sent to that address is confirmed.
    expect(given.statusCode, given.body).toBe(202);
    expect((await asSales(prospect.subjectId, 'news_opt_in')).statusCode).toBe(403);
    const confirmLink = /https:\/\/\S+(\/t\/\S+\/newsletter\/confirm\/\S+)/.exec(
      (await mailTo(prospect.email ?? '')).text ?? '',
    )?.[1];
    const confirmed = await app.inject({
      method: 'POST',
      url: confirmLink ?? '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'confirm=1',
    });
    expect(confirmed.statusCode).toBe(200);
    expect((await asSales(prospect.subjectId, 'news_opt_in')).statusCode).toBe(200);
    await fileAndVerify(
      { kind: 'withdraw_consent', purposes: ['news_opt_in'], language: 'nl' },
      prospect.email ?? '',
      1,
    );
    const withdrawn = await asSales(prospect.subjectId, 'news_opt_in');
    expect(withdrawn.statusCode).toBe(403);
    expect(withdrawn.json<{ code: string }>().code).toBe('consent_missing');
    expect((await asSales(prospect.subjectId, 'quotes')).statusCode).toBe(200);

    const ledger = await runAsOwner<{ subject_id: string; purpose: string; event: string }>(
      database.ownerUrl,
      `select subject_id::text, purpose, event from consent_records
        where tenant_id = $1 and subject_id = any($2::bigint[]) order by record_id`,
      [voxtra.tenantId, [person.subjectId, prospect.subjectId]],
    );
    expect(ledger.rows).toEqual([
      { subject_id: String(person.subjectId), purpose: 'personalised_info', event: 'objected' },
      { subject_id: String(prospect.subjectId), purpose: 'news_opt_in', event: 'signed_up' },
      { subject_id: String(prospect.subjectId), purpose: 'news_opt_in', event: 'given' },
      { subject_id: String(prospect.subjectId), purpose: 'news_opt_in', event: 'withdrawn' },
    ]);
  });

  it('VX-16: portability for a Voxtra customer is a ZIP with a JSON and a CSV per table of what Voxtra holds, sent to the address on file', async () => {
    const person = await voxtraCustomer();
    await fileAndVerify({ kind: 'portability', language: 'nl' }, person.email ?? '');
    const files = await downloadFromMail(person.email ?? '');
    expect(JSON.parse(files.get('manifest.json') ?? '{}')).toMatchObject({ format: 'kluis.portability.v2' });
    const people = JSON.parse(files.get('people.json') ?? '[]') as Array<Record<string, unknown>>;
    expect(people).toEqual([
      expect.objectContaining({
        family_name: person.familyName,
        email: person.email,
        phone: person.phone,
      }),
    ]);
    const csv = files.get('people.csv') ?? '';
    expect(csv.split('\r\n')[0]).toContain('family_name');
    expect(csv).toContain(person.familyName ?? '');
    // Only this person's rows.
    expect(csv.split('\r\n').filter((line) => line !== '')).toHaveLength(2);
  });
});

async function lastAuditSeq(tenantId: number): Promise<number> {
  await chainPendingAudit(kernel, tenantId);
  const { rows } = await runAsOwner<{ seq: string }>(
    database.ownerUrl,
    'select coalesce(max(seq), 0)::text as seq from audit_log where tenant_id = $1',
    [tenantId],
  );
  return Number(rows[0]?.seq ?? 0);
}

/**
 * VK-4 / VX-2 on one tenant: `own` is a purpose of sales, `billingOnly` one of billing only, and
 * `foreign` a purpose only the other tenant's policy has.
 */
async function readsNamePurposes({
  seed,
  own,
  billingOnly,
  foreign,
}: {
  seed: 'voiceking' | 'voxtra';
  own: string;
  billingOnly: string;
  foreign: string;
}): Promise<void> {
  const tenant = seed === 'voxtra' ? voxtra : voiceking;
  const other = seed === 'voxtra' ? voiceking : voxtra;
  const seller = seed === 'voxtra' ? sales : await loginAs(app, kernel, tenant, 'sales');
  const biller = seed === 'voxtra' ? billing : await loginAs(app, kernel, tenant, 'billing');
  serial += 1;
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: seller.staffId, role: 'sales' },
      purpose: own,
    },
    {
      subjectType: 'customer',
      familyName: `Doelbinding${serial}`,
      givenName: 'Ines',
      email: `ines${serial}@klant.example`,
    },
  );
  const url = `/api/v1/people/${person.subjectId}`;
  const auditBefore = await lastAuditSeq(tenant.tenantId);
  const otherBefore = await lastAuditSeq(other.tenantId);

  const noPurpose = await requestAs(app, seller)('GET', url);
  expect(noPurpose.statusCode).toBe(400);
  expect(noPurpose.json<{ code: string }>().code).toBe('validation_failed');
  expect(noPurpose.body.toLowerCase()).toContain('x-kluis-purpose');
  const otherRole = await requestAs(app, seller, billingOnly)('GET', url);
  expect(otherRole.statusCode).toBe(403);
  const otherTenants = await requestAs(app, seller, foreign)('GET', url);
  expect(otherTenants.statusCode).toBe(400);
  for (const refused of [noPurpose, otherRole, otherTenants]) {
    expect(refused.body).not.toContain(person.familyName ?? '');
  }

  const allowed = await requestAs(app, seller, own)('GET', url);
  expect(allowed.statusCode, allowed.body).toBe(200);
  expect(allowed.json<{ familyName: string }>().familyName).toBe(person.familyName);
  const byBilling = await requestAs(app, biller, billingOnly)('GET', url);
  expect(byBilling.statusCode, byBilling.body).toBe(200);

  await chainPendingAudit(kernel, tenant.tenantId);
  const trail = await runAsOwner<{ purpose: string; decision: string; role: string }>(
    database.ownerUrl,
    `select purpose, decision, role from audit_log
        where tenant_id = $1 and seq > $2 and action = 'read' order by seq`,
    [tenant.tenantId, auditBefore],
  );
  // The door refuses a purpose the tenant does not have before any read: no entry for it.
  expect(trail.rows).toEqual([
    { purpose: billingOnly, decision: 'denied', role: 'sales' },
    { purpose: own, decision: 'allowed', role: 'sales' },
    { purpose: billingOnly, decision: 'allowed', role: 'billing' },
  ]);
  // Nothing of it is written into the other tenant's trail.
  expect(await lastAuditSeq(other.tenantId)).toBe(otherBefore);
}
