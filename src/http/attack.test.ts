/**
 * Issue 10, "Found by the attack": each finding of the attack on a running instance, replayed
 * over HTTP against both seed policies. Every test here failed on the code before the fix.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import { chainPendingAudit, createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import { kernelCore, type Kernel } from '../kernel/kernel.js';
import { setContractBillingOptions } from '../modules/billing/contract-options.service.js';
import {
  billingContext,
  createCustomer,
  insertCalls,
  prepareTenant,
  startContract,
} from '../modules/billing/billing.test-helpers.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../../test/cli.js';
import { validatePolicySource } from '../kernel/policy/policy.loader.js';
import { createStaffUser } from '../modules/staff/index.js';
import { createTenant, type Tenant } from '../modules/tenants/index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;
let sales: StaffSession;
let admin: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  sales = await loginAs(app, kernel, voiceking, 'sales');
  admin = await loginAs(app, kernel, voiceking, 'admin');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(
  session: StaffSession,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  headers: Record<string, string> = {},
  payload?: Record<string, unknown>,
) {
  return app.inject({
    method,
    url,
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
}

const codeOf = (response: { json: () => unknown }): unknown => {
  const body = response.json() as { code?: unknown; error?: { code?: unknown } };
  return body.code ?? body.error?.code;
};

describe('hostile keys and values are bad input (400), never a crash', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'x', ''])(
    'x-kluis-purpose: %j is refused with 400',
    async (purpose) => {
      for (const [method, url] of [
        ['GET', '/api/v1/people?name=Jan'],
        ['GET', '/api/v1/people/1'],
        ['POST', '/api/v1/people/1/report-minor'],
        ['GET', '/api/v1/invoices'],
        ['GET', '/api/v1/contracts'],
      ] as const) {
        const response = await call(sales, method, url, { 'x-kluis-purpose': purpose });
        expect({ url, status: response.statusCode, code: codeOf(response) }).toEqual({
          url,
          status: 400,
          code: 'validation_failed',
        });
      }
    },
  );

  it('a role named like an Object.prototype member is not a role of the policy', async () => {
    const response = await call(admin, 'POST', '/api/v1/tokens', {}, { label: 'proto', role: 'constructor' });
    expect(response.statusCode).toBe(400);
    expect(codeOf(response)).toBe('validation_failed');
  });

  it.each([
    '/api/v1/people?cursor=99999999999999999999',
    '/api/v1/people?cursor=9999999999',
    '/api/v1/contracts?cursor=99999999999999999999',
    '/api/v1/invoices?cursor=99999999999999999999',
    '/api/v1/people/1%00',
    '/api/v1/requests/1%00/verify',
    '/t/voiceking%00/privacy',
    '/api/v1/people?name=Jan%00',
  ])('%s answers 400', async (url) => {
    const method = url.includes('/verify') ? 'POST' : 'GET';
    // The requests routes act under rights_requests only: another declared purpose is refused (403) first.
    const purpose = url.includes('invoices')
      ? 'billing'
      : url.includes('/requests/')
        ? 'rights_requests'
        : 'order_processing';
    const session = url.includes('invoices') ? await loginAs(app, kernel, voiceking, 'billing') : sales;
    const response = await call(session, method, url, { 'x-kluis-purpose': purpose });
    expect(response.statusCode).toBe(400);
    expect(codeOf(response)).toBe('validation_failed');
  });

  it('an overlong or malformed path segment answers a 400 problem that does not echo the path', async () => {
    const token = 'A'.repeat(500);
    for (const url of [`/t/voiceking/mail/unsubscribe/${token}`, `/t/voxtra/dossier/shares/${token}/open`]) {
      const response = await app.inject({ method: url.endsWith('/open') ? 'POST' : 'GET', url });
      expect(response.statusCode, url).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(codeOf(response)).toBe('validation_failed');
      expect(response.body).not.toContain(token);
    }
  });

  it.each([
    ['GET', '/t/nosuch/mail/unsubscribe/AAAA'],
    ['POST', '/t/nosuch/mail/unsubscribe/AAAA'],
    ['GET', '/t/nosuch/newsletter/confirm/AAAA'],
    ['POST', '/t/nosuch/newsletter/confirm/AAAA'],
    ['GET', '/t/nosuch/mail/c/AAAA/1'],
  ] as const)(
    '%s %s (a mailed link of a provider that does not exist) answers a 404 problem, never a 500',
    async (method, url) => {
      const response = await app.inject({ method, url });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(codeOf(response)).toBe('tenant_not_found');
    },
  );

  it.each([
    '/api/v1/organisations?cursor=9999999999',
    '/api/v1/people/99999999999',
    '/api/v1/invoices/99999999999',
    '/api/v1/contracts/99999999999',
    '/api/v1/staff/99999999999',
  ])('%s (beyond the database integer range) answers without a 5xx', async (url) => {
    // The requests routes act under rights_requests only: another declared purpose is refused (403) first.
    const purpose = url.includes('invoices')
      ? 'billing'
      : url.includes('/requests/')
        ? 'rights_requests'
        : 'order_processing';
    const session = url.includes('invoices') ? await loginAs(app, kernel, voiceking, 'billing') : sales;
    const response = await call(url.includes('staff') ? admin : session, 'GET', url, {
      'x-kluis-purpose': purpose,
    });
    expect(response.statusCode).toBeLessThan(500);
  });

  it('the Voxtra tenant refuses the same keys', async () => {
    const voxtraSales = await loginAs(app, kernel, voxtra, 'sales');
    const response = await call(voxtraSales, 'GET', '/api/v1/people', { 'x-kluis-purpose': 'constructor' });
    expect(response.statusCode).toBe(400);
  });
});

async function subjectOfStaff(staffId: number): Promise<number> {
  const result = await runAsOwner<{ subject_id: number }>(
    database.ownerUrl,
    'select subject_id from staff_users where staff_id = $1',
    [staffId],
  );
  const subjectId = result.rows[0]?.subject_id;
  if (subjectId === undefined) throw new Error('no such staff member');
  return subjectId;
}

async function staffRow(staffId: number) {
  const result = await runAsOwner<{ status: string; erased_at: Date | null }>(
    database.ownerUrl,
    `select u.status, s.erased_at from staff_users u
       join data_subjects s on s.tenant_id = u.tenant_id and s.subject_id = u.subject_id
      where u.staff_id = $1`,
    [staffId],
  );
  return result.rows[0];
}

async function createPerson(
  session: StaffSession,
  purpose: string,
  person: Record<string, unknown>,
): Promise<number> {
  const response = await call(session, 'POST', '/api/v1/people', { 'x-kluis-purpose': purpose }, person);
  if (response.statusCode !== 201) throw new Error(`create failed: ${response.body}`);
  return response.json<{ subjectId: number }>().subjectId;
}

describe('erasure needs a purpose, role and subject type the policy grants for it (VK-15, VK-23)', () => {
  it('sales under age_verification cannot erase the admin through report-minor; the admin still exists', async () => {
    const adminSubject = await subjectOfStaff(admin.staffId);
    const url = `/api/v1/people/${adminSubject}/report-minor`;
    const plain = await call(sales, 'POST', url, { 'x-kluis-purpose': 'age_verification' });
    expect([403, 404]).toContain(plain.statusCode);
    const claimed = await call(
      sales,
      'POST',
      url,
      { 'x-kluis-purpose': 'age_verification' },
      { birthDate: '2015-01-01' },
    );
    expect([403, 404]).toContain(claimed.statusCode);
    expect(await staffRow(admin.staffId)).toEqual({ status: 'active', erased_at: null });
    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: admin.cookie } });
    expect(me.statusCode).toBe(200);
  });

  it.each(['voiceking', 'voxtra'] as const)(
    'support cannot erase the privacy officer (%s)',
    async (policy) => {
      const tenant = policy === 'voiceking' ? voiceking : voxtra;
      const support = await loginAs(app, kernel, tenant, 'support');
      const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
      const subject = await subjectOfStaff(officer.staffId);
      for (const purpose of ['age_verification', 'rights_requests', 'staff_accounts']) {
        const response = await call(support, 'POST', `/api/v1/people/${subject}/report-minor`, {
          'x-kluis-purpose': purpose,
        });
        expect([403, 404]).toContain(response.statusCode);
      }
      expect(await staffRow(officer.staffId)).toEqual({ status: 'active', erased_at: null });
    },
  );

  it('the privacy officer cannot erase staff either, not even under the rights purpose', async () => {
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const subject = await subjectOfStaff(admin.staffId);
    const response = await call(officer, 'POST', `/api/v1/people/${subject}/report-minor`, {
      'x-kluis-purpose': 'rights_requests',
    });
    expect([403, 404]).toContain(response.statusCode);
    expect(await staffRow(admin.staffId)).toEqual({ status: 'active', erased_at: null });
  });

  it('VK-15: report-minor erases only a minor: an adult customer is refused and kept', async () => {
    const adult = await createPerson(sales, 'order_processing', {
      subjectType: 'customer',
      familyName: 'Meerderjarig',
      givenName: 'Els',
    });
    const url = `/api/v1/people/${adult}/report-minor`;
    const unrecorded = await call(sales, 'POST', url, { 'x-kluis-purpose': 'age_verification' });
    expect(unrecorded.statusCode).toBe(403);
    const adultDate = await call(
      sales,
      'POST',
      url,
      { 'x-kluis-purpose': 'age_verification' },
      { birthDate: '1990-04-04' },
    );
    expect(adultDate.statusCode).toBe(409);
    const still = await call(sales, 'GET', `/api/v1/people/${adult}`, {
      'x-kluis-purpose': 'order_processing',
    });
    expect(still.statusCode).toBe(200);
  });

  it('VK-15: a birth date given with the report that makes the person a minor erases them', async () => {
    const person = await createPerson(sales, 'order_processing', {
      subjectType: 'customer',
      familyName: 'Jongmans',
      givenName: 'Lotte',
    });
    const response = await call(
      sales,
      'POST',
      `/api/v1/people/${person}/report-minor`,
      { 'x-kluis-purpose': 'age_verification' },
      { birthDate: '2014-06-01' },
    );
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ erased: [{ table: 'people', rows: 1 }] });
  });

  it('VK-15: a minor whose parent consented is not erased on a report', async () => {
    const minor = await createPerson(sales, 'age_verification', {
      subjectType: 'prospect',
      familyName: 'Toestemming',
      givenName: 'Noor',
      birthDate: '2013-03-03',
    });
    const consent = await call(
      sales,
      'POST',
      `/api/v1/people/${minor}/parental-consent`,
      { 'x-kluis-purpose': 'age_verification' },
      { relation: 'parent', verificationMethod: 'id_card_seen_in_shop' },
    );
    expect(consent.statusCode).toBe(204);
    const report = await call(sales, 'POST', `/api/v1/people/${minor}/report-minor`, {
      'x-kluis-purpose': 'age_verification',
    });
    expect(report.statusCode).toBe(403);
  });

  it('a role without the erasing purpose (billing) cannot report a minor', async () => {
    const minor = await createPerson(sales, 'age_verification', {
      subjectType: 'prospect',
      familyName: 'Facturatie',
      givenName: 'Jens',
      birthDate: '2013-03-03',
    });
    const billing = await loginAs(app, kernel, voiceking, 'billing');
    for (const purpose of ['age_verification', 'billing', 'order_processing']) {
      const response = await call(billing, 'POST', `/api/v1/people/${minor}/report-minor`, {
        'x-kluis-purpose': purpose,
      });
      expect(response.statusCode).toBe(403);
    }
  });
});

describe('API tokens carry at most their maker’s role (separation of duties, VK-7)', () => {
  const mint = (session: StaffSession, role: string) =>
    call(session, 'POST', '/api/v1/tokens', {}, { label: `t ${role}`, role });

  it('an admin cannot mint a privacy officer token (voiceking and voxtra)', async () => {
    const voxtraAdmin = await loginAs(app, kernel, voxtra, 'admin');
    for (const session of [admin, voxtraAdmin]) {
      const response = await mint(session, 'privacy_officer');
      expect(response.statusCode).toBe(403);
      expect(codeOf(response)).toBe('role_not_allowed');
    }
    const rows = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from staff_api_tokens where role = 'privacy_officer'",
    );
    expect(rows.rows[0]?.n).toBe(0);
  });

  it('an admin cannot mint any role with a purpose beyond their own (sales, billing, support)', async () => {
    for (const role of ['sales', 'billing', 'support', 'hr']) {
      expect((await mint(admin, role)).statusCode).toBe(403);
    }
  });

  it('the privacy officer mints their own token only after signing in with a second factor', async () => {
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    expect(officer.totpSecret).toBeDefined();
    const response = await mint(officer, 'privacy_officer');
    expect(response.statusCode).toBe(201);
    expect((await mint(officer, 'admin')).statusCode).toBe(403);
  });

  it('a token made under the old rule, beyond its maker’s role, is refused at use', async () => {
    const secret = 'A'.repeat(43);
    const { createHash } = await import('node:crypto');
    await runAsOwner(
      database.ownerUrl,
      `insert into staff_api_tokens (tenant_id, token_hash, label, role, created_by, created_at, expires_at)
       values ($1, $2, 'legacy', 'privacy_officer', $3, now(), now() + interval '1 year')`,
      [voiceking.tenantId, createHash('sha256').update(secret).digest(), admin.staffId],
    );
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer kluis_${voiceking.tenantId}_${secret}` },
    });
    expect(response.statusCode).toBe(401);
  });
});

describe('the declared purpose is the one used and audited, never a substituted one', () => {
  it('VX-5: a billing clerk reading an itemised invoice under solvency gets no calls; the audit names solvency', async () => {
    const catalogue = await prepareTenant(kernel, voxtra);
    const customer = await createCustomer(kernel, voxtra, { familyName: 'Belgegevens' });
    const contract = await startContract(kernel, voxtra, customer, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await setContractBillingOptions(kernel, billingContext(voxtra), contract, { itemisedCalls: true });
    await insertCalls(kernel, voxtra, [
      {
        subjectId: customer,
        startedAt: '2026-10-03T09:00:00Z',
        destination: '+32470333444',
        seconds: 60,
        costMicros: 150_000,
      },
    ]);
    const billing = await loginAs(app, kernel, voxtra, 'billing');
    const run = await call(
      billing,
      'POST',
      '/api/v1/invoice-runs',
      { 'x-kluis-purpose': 'invoicing' },
      { period: '2026-10', callsPurpose: 'call_billing' },
    );
    expect(run.statusCode).toBe(200);
    const list = await call(billing, 'GET', `/api/v1/invoices?subjectId=${customer}`, {
      'x-kluis-purpose': 'invoicing',
    });
    const invoiceId = list.json<{ items: Array<{ invoiceId: number }> }>().items[0]?.invoiceId;
    expect(invoiceId).toBeDefined();

    const before = await auditCount(voxtra);
    const html = await call(billing, 'GET', `/api/v1/invoices/${invoiceId}/html`, {
      'x-kluis-purpose': 'solvency',
    });
    expect(html.statusCode).toBe(200);
    expect(html.body).not.toContain('+32470333444');
    // Voxtra's invoices are in Dutch (decision 0310).
    expect(html.body).toContain('niet beschikbaar voor dit doel');
    const entries = await auditSince(voxtra, before);
    expect(entries.length).toBeGreaterThan(0);
    expect(new Set(entries.map((entry) => entry.purpose))).toEqual(new Set(['solvency']));
    expect(entries).toContainEqual(
      expect.objectContaining({ decision: 'denied', categories: ['kluis.telephony.call_record'] }),
    );

    // Declared for the calls, they are read under that purpose, and the audit says so.
    const declared = await call(
      billing,
      'GET',
      `/api/v1/invoices/${invoiceId}/html?callsPurpose=call_billing`,
      { 'x-kluis-purpose': 'invoicing' },
    );
    expect(declared.body).toContain('+32470333444');

    // No purpose declared: refused, not filled in by the route.
    const undeclared = await call(billing, 'GET', `/api/v1/invoices/${invoiceId}/html`);
    expect(undeclared.statusCode).toBe(400);
  });

  it('an invoice run whose purpose for calls does not cover call records is refused, nothing billed', async () => {
    const billing = await loginAs(app, kernel, voxtra, 'billing');
    const run = await call(
      billing,
      'POST',
      '/api/v1/invoice-runs',
      { 'x-kluis-purpose': 'invoicing' },
      { period: '2026-09' },
    );
    expect(run.statusCode).toBe(403);
    expect(codeOf(run)).toBe('category_not_allowed');
  });
});

// A gated read's entry is chained after the call returns (decision 0480): these chain first.
async function auditCount(tenant: Tenant): Promise<number> {
  await chainPendingAudit(kernel, tenant.tenantId);
  const result = await runAsOwner<{ n: string }>(
    database.ownerUrl,
    'select coalesce(max(seq), 0)::text as n from audit_log where tenant_id = $1',
    [tenant.tenantId],
  );
  return Number(result.rows[0]?.n ?? 0);
}

async function auditSince(tenant: Tenant, seq: number) {
  await chainPendingAudit(kernel, tenant.tenantId);
  const result = await runAsOwner<{ purpose: string; decision: string; categories: string[] }>(
    database.ownerUrl,
    'select purpose, decision, categories from audit_log where tenant_id = $1 and seq > $2 order by seq',
    [tenant.tenantId, seq],
  );
  return result.rows;
}

describe('refusals tell nothing the purpose does not cover', () => {
  const detailOf = (response: { statusCode: number; json: () => unknown }) => {
    const body = response.json() as {
      code?: string;
      detail?: string;
      title?: string;
      error?: { code?: string; message?: string };
    };
    return {
      status: response.statusCode,
      code: body.code ?? body.error?.code,
      message: body.detail ?? body.error?.message,
    };
  };

  it('VK-5, VK-7: sales finds the customers by name, not the job applicant of the same name, and the list is a 200', async () => {
    const hr = await loginAs(app, kernel, voiceking, 'hr');
    const applicant = await createPerson(hr, 'recruitment', {
      subjectType: 'job_applicant',
      familyName: 'Sollicitantia',
      givenName: 'Bram',
      email: 'bram.sollicitantia@example.be',
    });
    const customer = await createPerson(sales, 'order_processing', {
      subjectType: 'customer',
      familyName: 'Sollicitantia',
      givenName: 'Klant',
    });
    const search = await call(sales, 'GET', '/api/v1/people?name=sollicitantia', {
      'x-kluis-purpose': 'order_processing',
    });
    expect(search.statusCode).toBe(200);
    const ids = search.json<{ items: Array<{ subjectId: number }> }>().items.map((item) => item.subjectId);
    expect(ids).toEqual([customer]);
    expect(search.body).not.toContain('job_applicant');
    expect(search.body).not.toContain('Bram');

    const byEmail = await call(sales, 'GET', '/api/v1/people?email=bram.sollicitantia@example.be', {
      'x-kluis-purpose': 'order_processing',
    });
    expect(byEmail.statusCode).toBe(200);
    expect(byEmail.json()).toMatchObject({ items: [] });

    const list = await call(sales, 'GET', '/api/v1/people?limit=200', {
      'x-kluis-purpose': 'order_processing',
    });
    expect(list.statusCode).toBe(200);
    const listed = list.json<{ items: Array<{ subjectId: number }> }>().items.map((item) => item.subjectId);
    expect(listed).toContain(customer);
    expect(listed).not.toContain(applicant);
  });

  it('VK-5: reading the applicant by id answers exactly like an id that does not exist', async () => {
    const hr = await loginAs(app, kernel, voiceking, 'hr');
    const applicant = await createPerson(hr, 'recruitment', {
      subjectType: 'job_applicant',
      familyName: 'Verborgen',
      givenName: 'Ilse',
    });
    const refused = await call(sales, 'GET', `/api/v1/people/${applicant}`, {
      'x-kluis-purpose': 'order_processing',
    });
    const missing = await call(sales, 'GET', '/api/v1/people/2000000000', {
      'x-kluis-purpose': 'order_processing',
    });
    expect(detailOf(refused)).toEqual(detailOf(missing));
    expect(detailOf(refused)).toEqual({
      status: 404,
      code: 'not_found',
      message: 'not available under this purpose',
    });
    expect(refused.body).not.toContain('job_applicant');
    // The audit log still knows why.
    await chainPendingAudit(kernel, voiceking.tenantId);
    const reasons = await runAsOwner<{ reason: string }>(
      database.ownerUrl,
      "select reason from audit_log where tenant_id = $1 and decision = 'denied' order by seq desc limit 5",
      [voiceking.tenantId],
    );
    expect(reasons.rows.map((row) => row.reason)).toEqual(
      expect.arrayContaining(['subject_type_outside_purpose', 'no_such_subject']),
    );
  });
});

describe('a second factor for every role the policy says (VX: "two-factor authentication for staff")', () => {
  async function firstLogin(tenant: Tenant, role: string) {
    const email = `${role}-${Math.random().toString(36).slice(2, 8)}@staff.example`;
    const created = await createStaffUser(
      kernel,
      tenant.tenantId,
      { kind: 'system', job: 'test' },
      { email, displayName: role, role },
    );
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { tenant: tenant.slug, email, password: created.oneTimePassword },
    });
    expect(response.statusCode).toBe(200);
    return {
      session: response.json<{ session: string }>().session,
      cookie: String(response.headers['set-cookie']).split(';')[0] ?? '',
    };
  }

  it.each(['sales', 'billing', 'support', 'technician', 'admin', 'privacy_officer'])(
    'at Voxtra a %s must enrol a second factor before reaching any data',
    async (role) => {
      const login = await firstLogin(voxtra, role);
      expect(login.session).toBe('mfa_enrolment');
      const people = await app.inject({
        method: 'GET',
        url: '/api/v1/people?name=a',
        headers: { cookie: login.cookie, 'x-kluis-purpose': 'customer_administration' },
      });
      expect(people.statusCode).toBe(403);
      // Enrolling at first login works, as for admins before (loginAs enrols and confirms).
      const enrolled = await loginAs(app, kernel, voxtra, role);
      expect(enrolled.totpSecret).toBeDefined();
    },
  );

  it('at VoiceKing, whose statement promises no second factor for all staff, sales signs in with a password', async () => {
    const login = await firstLogin(voiceking, 'sales');
    expect(login.session).toBe('password_change');
  });

  it('security.mfa names roles of the policy only', async () => {
    const source = await readFile(path.join(ROOT, 'policies', 'voiceking.yaml'), 'utf8');
    const bad = source.replace(
      '  misuseReport: [{ kind: customer_service }',
      '  mfa: [sales, wizard]\n  misuseReport: [{ kind: customer_service }',
    );
    const result = validatePolicySource(bad, 'bad.yaml');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((issue) => issue.message)).toContain('unknown role "wizard"');
  });

  it('a token for a role that requires a second factor is refused to a maker without one', async () => {
    const source = await readFile(path.join(ROOT, 'policies', 'voiceking.yaml'), 'utf8');
    const tenant = await createTenant(kernelCore(kernel).db, {
      slug: `vk-mfa-${Date.now()}`,
      name: 'vk mfa',
    });
    await kernel.policies.install(
      tenant.tenantId,
      source.replace(
        '  misuseReport: [{ kind: customer_service }',
        '  mfa: [technician]\n  misuseReport: [{ kind: customer_service }',
      ),
      'voiceking-mfa.yaml',
    );
    // VoiceKing support acts under every purpose of the technician, but has no second factor.
    const support = await loginAs(app, kernel, tenant, 'support');
    expect(support.totpSecret).toBeUndefined();
    const response = await call(
      support,
      'POST',
      '/api/v1/tokens',
      {},
      { label: 'field', role: 'technician' },
    );
    expect(response.statusCode).toBe(403);
    expect(codeOf(response)).toBe('forbidden');
    expect(
      (await call(support, 'POST', '/api/v1/tokens', {}, { label: 'own', role: 'support' })).statusCode,
    ).toBe(201);
  });
});
