import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import { createCustomer } from '../modules/billing/billing.test-helpers.js';
import { TARIFF_CSV } from '../modules/telephony/telephony.test-helpers.js';
import type { Tenant } from '../modules/tenants/index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let admin: StaffSession;
let billing: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  admin = await loginAs(app, kernel, voiceking, 'admin');
  billing = await loginAs(app, kernel, voiceking, 'billing');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

/** Five identical POSTs at the same moment. */
function fiveAtOnce(
  session: StaffSession,
  url: string,
  purpose: string | undefined,
  payload: string | object,
  contentType = 'application/json',
) {
  return Promise.all(
    Array.from({ length: 5 }, () =>
      app.inject({
        method: 'POST',
        url,
        headers: {
          cookie: session.cookie,
          'x-csrf-token': session.csrfToken,
          'content-type': contentType,
          ...(purpose ? { 'x-kluis-purpose': purpose } : {}),
        },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      }),
    ),
  );
}

async function countRows(table: string, where: string, values: unknown[] = []): Promise<number> {
  const result = await runAsOwner<{ n: string }>(
    database.ownerUrl,
    `select count(*) as n from ${table} where tenant_id = $1 and ${where}`,
    [voiceking.tenantId, ...values],
  );
  return Number(result.rows[0]?.n);
}

function statusesOf(responses: { statusCode: number }[]): number[] {
  return responses.map((response) => response.statusCode).sort();
}

describe('five identical creates at once (attack S20-3, decision 0920)', () => {
  it('staff accounts: one 201, every other a 409 conflict, one account stored', async () => {
    const responses = await fiveAtOnce(admin, '/api/v1/staff', 'staff_accounts', {
      email: 'dup-s20@voiceking.example',
      displayName: 'Dup',
      role: 'support',
    });
    expect(statusesOf(responses), responses.map((r) => r.body).join('\n')).toEqual([201, 409, 409, 409, 409]);
    for (const response of responses.filter((r) => r.statusCode === 409)) {
      expect(response.json()).toMatchObject({ code: 'conflict' });
      expect(response.body).not.toContain('dup-s20');
    }
    expect(await countRows('staff_users', 'email = $2', ['dup-s20@voiceking.example'])).toBe(1);
  });

  it('organisations: one 201, every other a 409 conflict, one organisation stored', async () => {
    const responses = await fiveAtOnce(billing, '/api/v1/organisations', 'billing', {
      name: 'S20 BV',
      enterpriseNumber: 'BE0417.497.106',
      country: 'BE',
      address: { street: 'Grote Markt 3', postalCode: '8500', city: 'Kortrijk' },
      vatRegistered: true,
    });
    expect(statusesOf(responses), responses.map((r) => r.body).join('\n')).toEqual([201, 409, 409, 409, 409]);
    for (const response of responses.filter((r) => r.statusCode === 409))
      expect(response.json()).toMatchObject({ code: 'conflict' });
    expect(await countRows('organisations', `enterprise_number = '0417497106'`)).toBe(1);
  });

  it('bank accounts: one 201, every other a 409 conflict, one account stored', async () => {
    const customer = await createCustomer(kernel, voiceking);
    const responses = await fiveAtOnce(billing, `/api/v1/customers/${customer}/bank-accounts`, 'billing', {
      iban: 'BE71 0961 2345 6769',
      directDebitMandate: 'VK-M-S20',
      mandateSignedOn: '2026-10-15',
    });
    expect(statusesOf(responses), responses.map((r) => r.body).join('\n')).toEqual([201, 409, 409, 409, 409]);
    for (const response of responses.filter((r) => r.statusCode === 409)) {
      expect(response.json()).toMatchObject({ code: 'conflict' });
      expect(response.body).not.toContain('6769');
    }
    expect(await countRows('bank_accounts', 'subject_id = $2', [customer])).toBe(1);
  });

  it('the tariff import: five imports of one file take turns, each answers 201, the tariff holds its rates once', async () => {
    const responses = await fiveAtOnce(billing, '/api/v1/tariffs', undefined, TARIFF_CSV, 'text/csv');
    expect(statusesOf(responses), responses.map((r) => r.body).join('\n')).toEqual([201, 201, 201, 201, 201]);
    expect(await countRows('tariff_rates', 'true')).toBe(3);
  });

  it('the same person POSTed five times at once is made once: the others answer 409 duplicate_person naming the existing person; a sixth, later, too (attack S20-4, decision 0953)', async () => {
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const person = {
      subjectType: 'prospect',
      familyName: 'Dubbel',
      givenName: 'S21',
      preferredLanguage: 'nl',
      email: 'dubbel.s21@example.be',
      source: 'data_subject',
    };
    const answers = await fiveAtOnce(sales, '/api/v1/people', 'answering_questions', person);
    const codes = answers.map((answer) => answer.statusCode).sort();
    expect(codes, answers.map((answer) => answer.body).join('\n')).toEqual([201, 409, 409, 409, 409]);
    const created = answers.find((answer) => answer.statusCode === 201)?.json<{ subjectId: number }>();
    for (const answer of answers.filter((one) => one.statusCode === 409))
      expect(answer.json()).toMatchObject({
        code: 'duplicate_person',
        details: { existingSubjectId: created?.subjectId },
      });
    const later = await fiveAtOnce(sales, '/api/v1/people', 'answering_questions', {
      ...person,
      givenName: 'Ander',
    });
    expect(later.map((answer) => answer.statusCode)).toEqual([409, 409, 409, 409, 409]);
    const people = await runAsOwner<{ n: string }>(
      database.ownerUrl,
      `select count(*) as n from people where tenant_id = $1 and subject_id >= $2`,
      [voiceking.tenantId, created?.subjectId],
    );
    expect(Number(people.rows[0]?.n)).toBe(1);
  });

  it('VK-7: the duplicate check looks only at people of the type being made: a job applicant kept by HR is not revealed to sales, who makes a prospect with that address (201); an applicant with the same address again is still refused (attack S21-B-1, S21-B-6, decision 0953)', async () => {
    const hr = await loginAs(app, kernel, voiceking, 'hr');
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const post = (session: StaffSession, purpose: string, body: object) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/people',
        headers: {
          cookie: session.cookie,
          'x-csrf-token': session.csrfToken,
          'content-type': 'application/json',
          'x-kluis-purpose': purpose,
        },
        payload: JSON.stringify(body),
      });
    const email = 'sollicitant.s21b@example.be';
    const applicant = await post(hr, 'recruitment', {
      subjectType: 'job_applicant',
      familyName: 'Sollicitant',
      givenName: 'Sara',
      email,
      source: 'data_subject',
    });
    expect(applicant.statusCode, applicant.body).toBe(201);
    const prospect = await post(sales, 'answering_questions', {
      subjectType: 'prospect',
      familyName: 'Sollicitant',
      givenName: 'Sara',
      email: ' Sollicitant.S21B@example.be ',
      source: 'data_subject',
    });
    expect(prospect.statusCode, prospect.body).toBe(201);
    // A new person, and nothing in the answer names the applicant (ids compared as values: the
    // address itself holds digits).
    const applicantId = applicant.json<{ subjectId: number }>().subjectId;
    const answer = prospect.json<Record<string, unknown>>();
    expect(answer.subjectId).not.toBe(applicantId);
    expect(Object.values(answer)).not.toContain(applicantId);
    // The same type again is still refused, naming the person the purpose reaches.
    const again = await post(hr, 'recruitment', {
      subjectType: 'job_applicant',
      familyName: 'Sollicitant',
      givenName: 'Sara',
      email,
      source: 'data_subject',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'duplicate_person',
      details: { existingSubjectId: applicant.json<{ subjectId: number }>().subjectId },
    });
  });
});
