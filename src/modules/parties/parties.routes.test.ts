import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { chainPendingAudit, createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { countPendingEntries, holdChainHead, untilPending } from '../../kernel/audit/audit.test-helpers.js';
import type { Kernel } from '../../kernel/kernel.js';
import { setPurposeState, setRestriction } from '../../kernel/subjects/index.js';
import type { Tenant } from '../tenants/index.js';
import { rectificationSchema } from './people.service.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;
let sales: StaffSession;
let hr: StaffSession;
let voxtraSales: StaffSession;
let support: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  sales = await loginAs(app, kernel, voiceking, 'sales');
  hr = await loginAs(app, kernel, voiceking, 'hr');
  voxtraSales = await loginAs(app, kernel, voxtra, 'sales');
  support = await loginAs(app, kernel, voiceking, 'support');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(
  session: StaffSession,
  method: 'GET' | 'POST',
  url: string,
  purpose?: string,
  payload?: unknown,
) {
  return requestAs(app, session, purpose)(method, url, payload);
}

const customer = {
  subjectType: 'customer',
  familyName: 'Vermeulen',
  givenName: 'Sofie',
  gender: 'female',
  preferredLanguage: 'nl',
  email: 'Sofie.Vermeulen@example.be',
  phone: '056 20 30 40',
  address: { street: 'Grote Markt 1', postalCode: '8500', city: 'Kortrijk', country: 'BE' },
  jobTitle: 'Zaakvoerder',
  decisionAuthority: true,
};

async function countPeople(tenant: Tenant, familyName: string): Promise<number> {
  const rows = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    'select count(*)::int as n from people where tenant_id = $1 and family_name = $2',
    [tenant.tenantId, familyName],
  );
  return rows.rows[0]?.n ?? -1;
}

describe('people over HTTP (VK-2, VX-3)', () => {
  it('VK-2: a customer is registered under a purpose with identifying, contact and professional data; contact data is encrypted at rest', async () => {
    const created = await call(sales, 'POST', '/api/v1/people', 'order_processing', customer);
    expect(created.statusCode).toBe(201);
    const person = created.json<{
      subjectId: number;
      email: string;
      phone: string;
      address: { city: string };
      jobTitle: string;
    }>();
    expect(person).toMatchObject({
      email: 'sofie.vermeulen@example.be',
      phone: '+3256203040',
      jobTitle: 'Zaakvoerder',
      address: { city: 'Kortrijk' },
    });
    const raw = await runAsOwner<{ email_enc: Buffer; address_enc: Buffer }>(
      database.ownerUrl,
      'select email_enc, address_enc from people where subject_id = $1',
      [person.subjectId],
    );
    expect(raw.rows[0]?.email_enc.toString('latin1')).not.toContain('vermeulen');
    expect(raw.rows[0]?.address_enc.toString('latin1')).not.toContain('Kortrijk');
    const read = await call(sales, 'GET', `/api/v1/people/${person.subjectId}`, 'order_processing');
    expect(read.json()).toMatchObject({ familyName: 'Vermeulen', email: 'sofie.vermeulen@example.be' });
  });

  it('every access must name its purpose', async () => {
    const response = await call(sales, 'POST', '/api/v1/people', undefined, {
      ...customer,
      familyName: 'Zonderdoel',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'validation_failed' });
    expect(await countPeople(voiceking, 'Zonderdoel')).toBe(0);
  });

  it('VK-7: a new person’s body is strict and its source one of a fixed list: a made-up source, an unknown key (`subjectId`) or an unknown address part is a 400 naming it and nothing is written; without a source the person is the source (data_subject); a correction is strict too (attack S23B-4)', async () => {
    const person = { subjectType: 'contact_person', familyName: 'Bronvast', givenName: 'Fien' };
    const refusals: [Record<string, unknown>, string, string][] = [
      [{ ...person, source: 'zz_made_up' }, 'body/source', ''],
      [{ ...person, source: 'staff' }, 'body/source', ''],
      [{ ...person, source: 'Data_Subject' }, 'body/source', ''],
      [{ ...person, subjectId: 5 }, 'body/subjectId', 'subjectId'],
      [{ ...person, id: 5, createdAt: '2020-01-01' }, 'body/createdAt', 'createdAt'],
      [
        {
          ...person,
          subjectType: 'customer',
          address: { street: 'Markt 1', postalCode: '8500', city: 'Kortrijk', region: 'West' },
        },
        'body/address/region',
        'region',
      ],
    ];
    for (const [payload, path, named] of refusals) {
      const refused = await call(sales, 'POST', '/api/v1/people', 'order_processing', payload);
      expect(refused.statusCode, refused.body).toBe(400);
      const problem = refused.json<{
        code: string;
        details: { issues: { path: string; message: string }[] };
      }>();
      expect(problem.code).toBe('validation_failed');
      const issue = problem.details.issues.find((one) => one.path === path);
      expect(issue, refused.body).toBeDefined();
      expect(issue?.message).toContain(named);
    }
    expect(await countPeople(voiceking, 'Bronvast')).toBe(0);

    // Staff typing what the person told them: the person is the source (Art. 13).
    const typed = await call(sales, 'POST', '/api/v1/people', 'order_processing', person);
    expect(typed.statusCode, typed.body).toBe(201);
    const created = typed.json<{ subjectId: number; source: string }>();
    expect(created.source).toBe('data_subject');
    const agency = await call(sales, 'POST', '/api/v1/people', 'order_processing', {
      ...person,
      givenName: 'Gust',
      source: 'credit_bureau',
    });
    expect(agency.statusCode, agency.body).toBe(201);
    expect(agency.json()).toMatchObject({ source: 'credit_bureau' });
    const stored = await runAsOwner<{ source: string }>(
      database.ownerUrl,
      'select source from people where tenant_id = $1 and family_name = $2 order by subject_id',
      [voiceking.tenantId, 'Bronvast'],
    );
    expect(stored.rows.map((row) => row.source)).toEqual(['data_subject', 'credit_bureau']);

    // PATCH: the fields it corrects are taken; one it does not correct is named, not dropped.
    const patch = requestAs(app, sales, 'order_processing');
    const url = `/api/v1/people/${created.subjectId}`;
    const corrected = await patch('PATCH', url, { givenName: 'Fientje' });
    expect(corrected.statusCode, corrected.body).toBe(200);
    expect(corrected.json()).toMatchObject({ givenName: 'Fientje', source: 'data_subject' });
    for (const payload of [
      { givenName: 'Fanny', source: 'credit_bureau' },
      { givenName: 'Fanny', subjectId: 5 },
    ]) {
      const refused = await patch('PATCH', url, payload);
      expect(refused.statusCode, refused.body).toBe(400);
      const unknown = Object.keys(payload).find((key) => key !== 'givenName') ?? '';
      const problem = refused.json<{ code: string; details: { issues: { path: string }[] } }>();
      expect(problem.code).toBe('validation_failed');
      expect(problem.details.issues.map((issue) => issue.path)).toContain(`body/${unknown}`);
    }
    const after = await patch('GET', url);
    expect(after.json()).toMatchObject({ givenName: 'Fientje', source: 'data_subject' });
  });

  it('search by name prefix, exact e-mail and exact phone; pages with a cursor', async () => {
    for (const given of ['Arne', 'Bram', 'Cas']) {
      await call(sales, 'POST', '/api/v1/people', 'order_processing', {
        subjectType: 'customer',
        familyName: 'Zoekmans',
        givenName: given,
        email: `${given.toLowerCase()}@zoek.example`,
      });
    }
    const first = await call(sales, 'GET', '/api/v1/people?name=zoek&limit=2', 'order_processing');
    const page = first.json<{ items: Array<{ givenName: string }>; nextCursor: string }>();
    expect(page.items.map((item) => item.givenName)).toEqual(['Arne', 'Bram']);
    const second = await call(
      sales,
      'GET',
      `/api/v1/people?name=zoek&limit=2&cursor=${page.nextCursor}`,
      'order_processing',
    );
    expect(
      second.json<{ items: Array<{ givenName: string }> }>().items.map((item) => item.givenName),
    ).toEqual(['Cas']);
    const byEmail = await call(sales, 'GET', '/api/v1/people?email=BRAM@zoek.example', 'order_processing');
    expect(
      byEmail.json<{ items: Array<{ givenName: string }> }>().items.map((item) => item.givenName),
    ).toEqual(['Bram']);
    const byPhone = await call(sales, 'GET', '/api/v1/people?phone=%2B3256203040', 'order_processing');
    expect(
      byPhone.json<{ items: Array<{ familyName: string }> }>().items.map((item) => item.familyName),
    ).toContain('Vermeulen');
  });

  it('VK-5: a job applicant is kept under recruitment by HR; sales cannot read them under order processing', async () => {
    const applicant = await call(hr, 'POST', '/api/v1/people', 'recruitment', {
      subjectType: 'job_applicant',
      familyName: 'Kandidaat',
      givenName: 'Tom',
      email: 'tom@cv.example',
    });
    expect(applicant.statusCode).toBe(201);
    const id = applicant.json<{ subjectId: number }>().subjectId;
    const refused = await call(sales, 'GET', `/api/v1/people/${id}`, 'order_processing');
    // Answered like an id that does not exist (decision 0063): the refusal names no subject type.
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toMatchObject({ code: 'not_found' });
    const notHrWork = await call(hr, 'GET', `/api/v1/people/${id}`, 'order_processing');
    expect(notHrWork.json()).toMatchObject({ code: 'role_not_allowed' });
    const ownWork = await call(hr, 'GET', `/api/v1/people/${id}`, 'recruitment');
    expect(ownWork.json()).toMatchObject({ familyName: 'Kandidaat', email: 'tom@cv.example' });
  });

  it('a page of people says nothing about a person the purpose does not reach: every cursor is a shown person, paging returns exactly the visible matches (name and organisation lists)', async () => {
    type Page = { items: Array<{ subjectId: number }>; nextCursor: string | null };
    async function person(session: StaffSession, purpose: string, body: Record<string, unknown>) {
      const created = await call(session, 'POST', '/api/v1/people', purpose, body);
      expect(created.statusCode).toBe(201);
      return created.json<{ subjectId: number }>().subjectId;
    }
    async function restrict(tenant: Tenant, subjectId: number) {
      await kernel.transact(tenant.tenantId, (atx) => setRestriction(atx, subjectId, true, new Date()));
    }
    // Reads every page of `query` from `start`, checking each answer; the subject ids listed.
    async function pageThrough(
      session: StaffSession,
      purpose: string,
      query: string,
      limit: number,
      start: number | undefined,
      visible: number[],
      hidden: number[],
    ): Promise<number[]> {
      const seen: number[] = [];
      let cursor: string | null = start === undefined ? null : String(start);
      let first = true;
      while (first || cursor !== null) {
        first = false;
        const url: string = `/api/v1/people?${query}&limit=${limit}${cursor !== null ? `&cursor=${cursor}` : ''}`;
        const response = await call(session, 'GET', url, purpose);
        expect(response.statusCode).toBe(200);
        // No subject id anywhere in the answer (items, cursor) is one of a hidden person.
        const named = [...response.body.matchAll(/"(?:subjectId|nextCursor)":"?(\d+)/g)].map((m) =>
          Number(m[1]),
        );
        for (const id of hidden) expect(named).not.toContain(id);
        const page = response.json<Page>();
        expect(page.items.length).toBeLessThanOrEqual(limit);
        const ids = page.items.map((item) => item.subjectId);
        for (const id of ids) expect(visible).toContain(id);
        // The cursor is the page's last item, or there is none: never an id the page does not show.
        expect(page.nextCursor === null || page.nextCursor === String(ids.at(-1))).toBe(true);
        if (page.nextCursor !== null) expect(ids).toHaveLength(limit);
        seen.push(...ids);
        cursor = page.nextCursor;
      }
      return seen;
    }

    // Name search at VoiceKing: a job applicant (recruitment is HR's) and a restricted customer
    // between customers sales may read.
    const visible: number[] = [];
    const hidden: number[] = [];
    const customerNamed = (givenName: string) => ({
      subjectType: 'customer',
      familyName: 'Cursorman',
      givenName,
    });
    visible.push(await person(sales, 'order_processing', customerNamed('Anna')));
    hidden.push(
      await person(hr, 'recruitment', {
        subjectType: 'job_applicant',
        familyName: 'Cursorman',
        givenName: 'Bea',
      }),
    );
    visible.push(await person(sales, 'order_processing', customerNamed('Cor')));
    const restricted = await person(sales, 'order_processing', customerNamed('Dirk'));
    await restrict(voiceking, restricted);
    hidden.push(restricted);
    hidden.push(
      await person(hr, 'recruitment', {
        subjectType: 'job_applicant',
        familyName: 'Cursorman',
        givenName: 'Els',
      }),
    );
    visible.push(await person(sales, 'order_processing', customerNamed('Fien')));
    hidden.push(
      await person(hr, 'recruitment', {
        subjectType: 'job_applicant',
        familyName: 'Cursorman',
        givenName: 'Gert',
      }),
    );
    const hiddenOnes = await call(sales, 'GET', `/api/v1/people/${hidden[0]}`, 'order_processing');
    expect(hiddenOnes.statusCode).toBe(404);

    for (const limit of [1, 2, 3, 50]) {
      expect(
        await pageThrough(sales, 'order_processing', 'name=cursorm', limit, undefined, visible, hidden),
      ).toEqual(visible);
    }
    // The attack: a cursor just before a hidden person, one item a page, prefixes of their names.
    for (const prefix of ['cursorman', 'bea', 'b', 'dirk', 'els', 'gert', 'g']) {
      for (const start of [visible[0] ?? 0, (hidden[0] ?? 0) - 1, visible[1] ?? 0, (hidden[3] ?? 0) - 1]) {
        const shown = await pageThrough(
          sales,
          'order_processing',
          `name=${prefix}`,
          1,
          start,
          visible,
          hidden,
        );
        expect(shown).toEqual(prefix === 'cursorman' ? visible.filter((id) => id > start) : []);
      }
    }
    // HR under recruitment sees the applicants and not the customers; the same holds the other way.
    const applicants = hidden.filter((id) => id !== restricted);
    expect(
      await pageThrough(hr, 'recruitment', 'name=cursorman', 1, undefined, applicants, [
        ...visible,
        restricted,
      ]),
    ).toEqual(applicants);

    // An organisation's contact persons at Voxtra, a restricted one between the others.
    const organisation = await call(voxtraSales, 'POST', '/api/v1/organisations', undefined, {
      name: 'Cursor Telecom',
    });
    expect(organisation.statusCode).toBe(201);
    const { organisationId } = organisation.json<{ organisationId: number }>();
    const contactNamed = (familyName: string) => ({
      subjectType: 'contact_person',
      familyName,
      givenName: 'Jo',
      organisationId,
    });
    const contacts: number[] = [];
    const hiddenContacts: number[] = [];
    contacts.push(await person(voxtraSales, 'customer_administration', contactNamed('Kursorius')));
    const hiddenContact = await person(voxtraSales, 'customer_administration', contactNamed('Kursorius'));
    await restrict(voxtra, hiddenContact);
    hiddenContacts.push(hiddenContact);
    contacts.push(await person(voxtraSales, 'customer_administration', contactNamed('Lateral')));
    // Someone of another organisation with the same name is not a contact of this one.
    const elsewhere = await person(voxtraSales, 'customer_administration', {
      ...customerNamed('Jo'),
      familyName: 'Kursorius',
    });
    for (const limit of [1, 2, 10]) {
      expect(
        await pageThrough(
          voxtraSales,
          'customer_administration',
          `organisationId=${organisationId}`,
          limit,
          undefined,
          contacts,
          hiddenContacts,
        ),
      ).toEqual(contacts);
      expect(
        await pageThrough(
          voxtraSales,
          'customer_administration',
          `organisationId=${organisationId}&name=kursor`,
          limit,
          undefined,
          contacts,
          [...hiddenContacts, elsewhere],
        ),
      ).toEqual(contacts.slice(0, 1));
    }
  });

  it('a staff member of another tenant cannot read the person by id, by search or by guessing ids', async () => {
    const created = await call(sales, 'POST', '/api/v1/people', 'order_processing', {
      ...customer,
      familyName: 'Geheim',
      email: 'geheim@example.be',
    });
    const id = created.json<{ subjectId: number }>().subjectId;
    const byId = await call(voxtraSales, 'GET', `/api/v1/people/${id}`, 'customer_administration');
    expect(byId.statusCode).toBe(404);
    const bySearch = await call(voxtraSales, 'GET', '/api/v1/people?name=Geheim', 'customer_administration');
    expect(bySearch.json()).toEqual({ items: [], nextCursor: null, unreadable: 0 });
    const byEmail = await call(
      voxtraSales,
      'GET',
      '/api/v1/people?email=geheim@example.be',
      'customer_administration',
    );
    expect(byEmail.json()).toEqual({ items: [], nextCursor: null, unreadable: 0 });
  });
});

describe('sensitive data in free text (VK-16)', () => {
  const cases: Array<[string, string, string, string]> = [
    [
      'a Belgian national register number',
      'Rijksregisternummer 85.07.30-033.28 gekregen',
      'national register number',
      '85.07.30-033.28',
    ],
    ['an IBAN', 'betaalt via BE68 5390 0754 7034', 'iban', 'BE68 5390'],
    ['a payment card number', 'kaart 4111 1111 1111 1111 exp 12/29', 'payment card', '4111 1111'],
    ['special-category data', 'klant heeft diabetes en vraagt uitstel', 'special category', 'diabetes'],
    // Spellings that slipped through the scan (attack finding A11): slashes, dashes, a zero-width
    // space from a paste, full-width digits.
    ['a national register number with slashes', 'nr 85/07/30-033/28 x', 'national register number', '85/07'],
    ['an IBAN with dashes', 'iban BE71-0961-2345-6769 x', 'iban', 'BE71-0961'],
    [
      'a national register number with a zero-width space',
      'nr 8507300\u200b3328 x',
      'national register number',
      '8507300',
    ],
    [
      'a national register number in full-width digits',
      'nr ８５０７３００３３２８ x',
      'national register number',
      '８５０７',
    ],
  ];
  it.each(cases)(
    'VK-16: a note with %s is refused, naming the kind, never echoing it, and nothing is written',
    async (_label, note, kind, secret) => {
      const response = await call(support, 'POST', '/api/v1/people', 'installation_support', {
        subjectType: 'customer',
        familyName: 'Notitie',
        givenName: 'Nele',
        notes: note,
      });
      expect(response.statusCode).toBe(422);
      const body = response.json<{ code: string; detail: string }>();
      expect(body.code).toBe('sensitive_data_refused');
      expect(body.detail).toContain(kind);
      expect(response.body).not.toContain(secret);
      expect(await countPeople(voiceking, 'Notitie')).toBe(0);
    },
  );

  it('VK-16: an ordinary note is stored encrypted and read back under a purpose that covers correspondence', async () => {
    const response = await call(support, 'POST', '/api/v1/people', 'installation_support', {
      subjectType: 'customer',
      familyName: 'Notitie',
      givenName: 'Nele',
      notes: 'Belt liefst na 17 uur over de modem.',
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ notes: 'Belt liefst na 17 uur over de modem.' });
  });
});

describe('notes written from the person screen (decision 1220)', () => {
  async function notesRow(subjectId: number): Promise<Buffer | null | undefined> {
    const rows = await runAsOwner<{ notes_enc: Buffer | null }>(
      database.ownerUrl,
      'select notes_enc from people where tenant_id = $1 and subject_id = $2',
      [voiceking.tenantId, subjectId],
    );
    return rows.rows[0]?.notes_enc;
  }

  it('VK-16: support saves a note with PATCH under a purpose that covers correspondence (stored encrypted, audited as a write of that category, never the text) and clears it with null; sales under a purpose without notes or a role the purpose lacks gets 403, a national register number or health data 422 naming the kind, another tenant 404, each with the note unchanged', async () => {
    const created = await call(support, 'POST', '/api/v1/people', 'installation_support', {
      subjectType: 'customer',
      familyName: 'Notitieboek',
      givenName: 'Nora',
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ subjectId: number }>().subjectId;
    const url = `/api/v1/people/${id}`;
    const note = 'Belt liefst na 17 uur; modem staat in de garage.';

    const saved = await requestAs(app, support, 'installation_support')('PATCH', url, { notes: note });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json()).toMatchObject({ subjectId: id, familyName: 'Notitieboek', notes: note });
    const stored = await notesRow(id);
    expect(stored).toBeInstanceOf(Buffer);
    expect(stored?.toString('latin1')).not.toContain('garage');
    await chainPendingAudit(kernel, voiceking.tenantId);
    const entries = await runAsOwner<{ action: string; decision: string; categories: string[] }>(
      database.ownerUrl,
      'select action, decision, categories from audit_log where tenant_id = $1 and request_id = $2 order by seq',
      [voiceking.tenantId, String(saved.headers['x-request-id'])],
    );
    expect(entries.rows).toContainEqual({
      action: 'write',
      decision: 'allowed',
      categories: ['kluis.communication.correspondence'],
    });
    expect(JSON.stringify(entries.rows)).not.toContain('garage');
    const read = await requestAs(app, support, 'answering_questions')('GET', url);
    expect(read.json()).toMatchObject({ notes: note });

    // A role or purpose that may not write notes: 403, and the note stays as it was.
    const refusals: Array<[StaffSession, string, string]> = [
      [sales, 'order_processing', 'category_not_allowed'],
      [sales, 'installation_support', 'role_not_allowed'],
      [hr, 'recruitment', ''],
    ];
    for (const [session, purpose, code] of refusals) {
      const refused = await requestAs(app, session, purpose)('PATCH', url, { notes: 'overschreven' });
      expect(refused.statusCode, `${purpose}: ${refused.body}`).toBe(403);
      if (code) expect(refused.json()).toMatchObject({ code });
    }
    // VK-16: the note is scanned like every free text; the refusal names the kind, never the text.
    for (const [text, kind, secret] of [
      ['Rijksregisternummer 85.07.30-033.28 gekregen', 'national register number', '033.28'],
      ['klant heeft diabetes en vraagt uitstel', 'special category', 'diabetes'],
    ] as const) {
      const refused = await requestAs(app, support, 'installation_support')('PATCH', url, { notes: text });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json()).toMatchObject({
        code: 'sensitive_data_refused',
        details: { issues: [{ path: 'body/notes' }] },
      });
      expect(refused.body).toContain(kind);
      expect(refused.body).not.toContain(secret);
    }
    // Another tenant's staff cannot reach the person by id, under their own purpose with notes.
    const foreign = await requestAs(app, voxtraSales, 'customer_administration')('PATCH', url, {
      notes: 'overschreven',
    });
    expect(foreign.statusCode, foreign.body).toBe(404);
    expect(await notesRow(id)).toEqual(stored);
    expect((await requestAs(app, support, 'installation_support')('GET', url)).json()).toMatchObject({
      notes: note,
    });

    // An empty note is not a note: null clears it; "" is refused like at registration.
    const empty = await requestAs(app, support, 'installation_support')('PATCH', url, { notes: '  ' });
    expect(empty.statusCode, empty.body).toBe(400);
    const cleared = await requestAs(app, support, 'installation_support')('PATCH', url, { notes: null });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json()).toMatchObject({ notes: null });
    expect(await notesRow(id)).toBeNull();
  });

  it('a rights request’s correction still cannot change notes: the schema a rectification uses refuses them (decision 1170)', () => {
    const parsed = rectificationSchema.safeParse({ notes: 'x' });
    expect(parsed.success).toBe(false);
  });
});

describe('other free text typed by staff (VK-16, issue 10)', () => {
  it('VK-16: a national register number typed into a name, a job title or an address is refused like a note; a job title such as "psychiater" is not special-category data', async () => {
    for (const fields of [
      { familyName: 'Vrij 85.07.30-033.28' },
      { jobTitle: 'rrn 85073003328' },
      { address: { street: 'Kerkstraat 1, 85.07.30-033.28', postalCode: '8500', city: 'Kortrijk' } },
    ]) {
      const response = await call(sales, 'POST', '/api/v1/people', 'order_processing', {
        subjectType: 'customer',
        familyName: 'Vrijetekst',
        givenName: 'Vera',
        ...fields,
      });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toMatchObject({ code: 'sensitive_data_refused' });
      expect(response.body).toContain('national register number');
      expect(response.body).not.toContain('033');
    }
    expect(await countPeople(voiceking, 'Vrijetekst')).toBe(0);
    const psychiatrist = await call(sales, 'POST', '/api/v1/people', 'order_processing', {
      subjectType: 'customer',
      familyName: 'Vrijetekst',
      givenName: 'Vera',
      jobTitle: 'Psychiater',
    });
    expect(psychiatrist.statusCode).toBe(201);
  });
});

describe('minors (VK-15)', () => {
  it('VK-15: an under-16 cannot be used for consent-based purposes until a parent consents; reporting a minor erases them', async () => {
    const created = await call(sales, 'POST', '/api/v1/people', 'age_verification', {
      subjectType: 'prospect',
      familyName: 'Jong',
      givenName: 'Lotte',
      birthDate: '2013-05-01',
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ subjectId: number }>().subjectId;
    const minor = await runAsOwner<{ minor_until: string }>(
      database.ownerUrl,
      "select to_char(minor_until, 'YYYY-MM-DD') as minor_until from data_subjects where subject_id = $1",
      [id],
    );
    expect(minor.rows[0]?.minor_until).toBe('2029-05-01');
    await kernel.transact(voiceking.tenantId, (atx) =>
      setPurposeState(atx, {
        subjectId: id,
        purpose: 'newsletter_opt_in',
        state: 'consented',
        policyVersion: '2026.1',
        channel: 'web_form',
        at: new Date(),
      }),
    );
    const refused = await call(sales, 'GET', `/api/v1/people/${id}`, 'newsletter_opt_in');
    expect(refused.statusCode).toBe(403);
    const refusal = refused.json<{ code: string; detail: string }>();
    expect(refusal.code).toBe('consent_missing');
    expect(refusal.detail).toMatch(/minor/);

    const consent = await call(sales, 'POST', `/api/v1/people/${id}/parental-consent`, 'age_verification', {
      relation: 'parent',
      verificationMethod: 'id_card_seen_in_shop',
      evidenceReference: 'form 2026-118',
    });
    expect(consent.statusCode).toBe(204);
    const allowed = await call(sales, 'GET', `/api/v1/people/${id}`, 'newsletter_opt_in');
    expect(allowed.statusCode).toBe(200);

    const other = await call(sales, 'POST', '/api/v1/people', 'age_verification', {
      subjectType: 'prospect',
      familyName: 'Jonger',
      givenName: 'Mats',
      birthDate: '2014-02-03',
    });
    const otherId = other.json<{ subjectId: number }>().subjectId;
    const report = await call(sales, 'POST', `/api/v1/people/${otherId}/report-minor`, 'age_verification');
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({ erased: [{ table: 'people', rows: 1 }], keyDestroyed: true });
    expect(await countPeople(voiceking, 'Jonger')).toBe(0);
    const gone = await call(sales, 'GET', `/api/v1/people/${otherId}`, 'age_verification');
    expect(gone.statusCode).toBe(410);
  });

  it('VK-15: a minor without parental consent is refused under a contract purpose too: contact data is neither stored nor read (403 consent_missing, nothing written) until a parent consents; the books are still read (attack S18-15, decision 0884)', async () => {
    const created = await call(sales, 'POST', '/api/v1/people', 'age_verification', {
      subjectType: 'customer',
      familyName: 'Klein',
      givenName: 'Nora',
      birthDate: '2014-09-12',
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ subjectId: number }>().subjectId;
    const contact = { email: 'nora.klein@example.be', phone: '0470 99 88 77' };
    const stored = async () =>
      (
        await runAsOwner<{ email: boolean; phone: boolean }>(
          database.ownerUrl,
          'select email_enc is not null as email, phone_enc is not null as phone from people where subject_id = $1',
          [id],
        )
      ).rows[0];
    const patch = (purpose: string) =>
      requestAs(app, sales, purpose)('PATCH', `/api/v1/people/${id}`, contact);

    const refusedWrite = await patch('order_processing');
    expect(refusedWrite.statusCode).toBe(403);
    expect(refusedWrite.json<{ code: string; detail: string }>()).toMatchObject({
      code: 'consent_missing',
      detail: expect.stringMatching(/minor/) as unknown,
    });
    expect(await stored()).toEqual({ email: false, phone: false });
    for (const purpose of ['order_processing', 'answering_questions']) {
      const refusedRead = await call(sales, 'GET', `/api/v1/people/${id}`, purpose);
      expect(refusedRead.statusCode, purpose).toBe(403);
      expect(refusedRead.json<{ code: string }>().code, purpose).toBe('consent_missing');
    }
    // What a legal obligation keeps is still read: the books.
    const billing = await loginAs(app, kernel, voiceking, 'billing');
    expect((await call(billing, 'GET', `/api/v1/people/${id}`, 'accounting')).statusCode).toBe(200);

    const consent = await call(sales, 'POST', `/api/v1/people/${id}/parental-consent`, 'age_verification', {
      relation: 'guardian',
      verificationMethod: 'id_card_seen_in_shop',
    });
    expect(consent.statusCode).toBe(204);
    const allowedWrite = await patch('order_processing');
    expect(allowedWrite.statusCode).toBe(200);
    expect(await stored()).toEqual({ email: true, phone: true });
    const allowedRead = await call(sales, 'GET', `/api/v1/people/${id}`, 'order_processing');
    expect(allowedRead.statusCode).toBe(200);
    expect(allowedRead.json<{ email: string }>().email).toBe('nora.klein@example.be');
  });

  it('an adult is not marked as a minor; a birth date in the future is refused', async () => {
    const adult = await call(sales, 'POST', '/api/v1/people', 'age_verification', {
      subjectType: 'prospect',
      familyName: 'Volwassen',
      givenName: 'Ruth',
      birthDate: '1990-01-01',
    });
    const id = adult.json<{ subjectId: number }>().subjectId;
    const row = await runAsOwner<{ minor_until: string | null }>(
      database.ownerUrl,
      'select minor_until from data_subjects where subject_id = $1',
      [id],
    );
    expect(row.rows[0]?.minor_until).toBeNull();
    const future = await call(sales, 'POST', '/api/v1/people', 'age_verification', {
      subjectType: 'prospect',
      familyName: 'Toekomst',
      givenName: 'X',
      birthDate: '2999-01-01',
    });
    expect(future.statusCode).toBe(400);
  });
});

describe('organisations (VX-3)', () => {
  it('VX-3: a business customer with a valid enterprise number, and a contact person linked to it', async () => {
    const organisation = await call(voxtraSales, 'POST', '/api/v1/organisations', undefined, {
      name: 'Drukkerij Meetjesland',
      enterpriseNumber: 'BE0649.503.981',
    });
    expect(organisation.statusCode).toBe(201);
    const { organisationId, enterpriseNumber } = organisation.json<{
      organisationId: number;
      enterpriseNumber: string;
    }>();
    expect(enterpriseNumber).toBe('0649503981');
    const contact = await call(voxtraSales, 'POST', '/api/v1/people', 'customer_administration', {
      subjectType: 'contact_person',
      familyName: 'De Smet',
      givenName: 'Pieter',
      organisationId,
    });
    expect(contact.statusCode).toBe(201);
    const detail = await call(voxtraSales, 'GET', `/api/v1/organisations/${organisationId}`);
    expect(detail.json()).toEqual({
      organisationId,
      name: 'Drukkerij Meetjesland',
      enterpriseNumber: '0649503981',
      country: 'BE',
      address: null,
      billingAddress: null,
      vatRegistered: true,
      buyerReference: null,
      vatNumber: null,
      peppolEndpoint: null,
    });
    // Who works there is personal data: listed through the gate, under a purpose.
    const contacts = await call(
      voxtraSales,
      'GET',
      `/api/v1/people?organisationId=${organisationId}`,
      'customer_administration',
    );
    expect(contacts.json<{ items: Array<{ subjectId: number; familyName: string }> }>().items).toEqual([
      expect.objectContaining({
        subjectId: contact.json<{ subjectId: number }>().subjectId,
        familyName: 'De Smet',
      }),
    ]);
    const noPurpose = await call(voxtraSales, 'GET', `/api/v1/people?organisationId=${organisationId}`);
    expect(noPurpose.statusCode).toBe(400);
    const elsewhere = await call(sales, 'GET', `/api/v1/organisations/${organisationId}`);
    expect(elsewhere.statusCode).toBe(404);
  });

  it('support and technicians may read business customers but not register or change them', async () => {
    const technician = await loginAs(app, kernel, voxtra, 'technician');
    const registered = await call(voxtraSales, 'POST', '/api/v1/organisations', undefined, {
      name: 'Bakkerij Van Acker',
      enterpriseNumber: '0403.170.701',
    });
    const { organisationId } = registered.json<{ organisationId: number }>();
    for (const session of [support, technician]) {
      const created = await call(session, 'POST', '/api/v1/organisations', undefined, { name: 'Schaduw BV' });
      expect(created.statusCode).toBe(403);
      expect(created.json<{ code: string }>().code).toBe('role_not_allowed');
      const changed = await requestAs(app, session)('PATCH', `/api/v1/organisations/${organisationId}`, {
        buyerReference: 'KOSTENPLAATS-9',
      });
      expect(changed.statusCode).toBe(403);
    }
    const rows = await runAsOwner<{ name: string; buyer_reference: string | null }>(
      database.ownerUrl,
      "select name, buyer_reference from organisations where name in ('Schaduw BV', 'Bakkerij Van Acker')",
    );
    expect(rows.rows).toEqual([{ name: 'Bakkerij Van Acker', buyer_reference: null }]);
    const read = await call(technician, 'GET', `/api/v1/organisations/${organisationId}`);
    expect(read.statusCode).toBe(200);
  });

  it('a name with a line break or a text-direction override is refused, and nothing is written (organisations and people)', async () => {
    for (const name of ['N\r\nX-Evil: 1', 'Bakkerij \u202eLN', 'Tab\tBV']) {
      const organisation = await call(voxtraSales, 'POST', '/api/v1/organisations', undefined, { name });
      expect(organisation.statusCode, JSON.stringify(name)).toBe(400);
      expect(organisation.json<{ code: string }>().code).toBe('validation_failed');
    }
    const person = await call(sales, 'POST', '/api/v1/people', 'order_processing', {
      ...customer,
      familyName: 'Multi\nLine',
    });
    expect(person.statusCode).toBe(400);
    const rows = await runAsOwner(database.ownerUrl, 'select 1 from organisations where name = any($1)', [
      ['N\r\nX-Evil: 1', 'Bakkerij \u202eLN', 'Tab\tBV'],
    ]);
    expect(rows.rowCount).toBe(0);
    expect(await countPeople(voiceking, 'Multi\nLine')).toBe(0);
  });

  it('wrong check digits are refused with the reason and nothing is written', async () => {
    const response = await call(voxtraSales, 'POST', '/api/v1/organisations', undefined, {
      name: 'Fout BV',
      enterpriseNumber: '0649.503.982',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ detail: string }>().detail).toMatch(/enterpriseNumber: .*check/);
    const rows = await runAsOwner(database.ownerUrl, "select 1 from organisations where name = 'Fout BV'");
    expect(rows.rowCount).toBe(0);
  });
});

describe('a purpose that covers no data of people (attack S7-4)', () => {
  // A refused request leaves exactly one denied entry, found by the id the server gave the
  // request (decision 0521); a gated read's entry is chained after the call returns (0480).
  async function expectOneDeniedEntry(
    answer: { statusCode: number; body: string; headers: Record<string, unknown>; json: () => unknown },
    purpose: string,
    code: string,
  ): Promise<void> {
    expect(answer.statusCode, answer.body).toBe(403);
    expect(answer.json()).toMatchObject({ code });
    await chainPendingAudit(kernel, voiceking.tenantId);
    const entries = await runAsOwner<{ decision: string; purpose: string; reason: string }>(
      database.ownerUrl,
      'select decision, purpose, reason from audit_log where tenant_id = $1 and request_id = $2',
      [voiceking.tenantId, String(answer.headers['x-request-id'])],
    );
    expect(
      entries.rows.map((row) => [row.decision, row.purpose]),
      code,
    ).toEqual([['denied', purpose]]);
    expect(entries.rows[0]?.reason ?? '').toContain(code);
  }

  it('a read under it is the gate’s refusal, recorded like every other: billing gets category_not_allowed, hr (no role of the purpose) role_not_allowed, each with one denied audit entry and no data', async () => {
    const created = await call(sales, 'POST', '/api/v1/people', 'order_processing', {
      ...customer,
      familyName: 'Oproepgegevens',
      email: 'oproep.s74@example.be',
    });
    expect(created.statusCode, created.body).toBe(201);
    const { subjectId } = created.json<{ subjectId: number }>();
    const billing = await loginAs(app, kernel, voiceking, 'billing');
    for (const [session, code] of [
      [billing, 'category_not_allowed'],
      [hr, 'role_not_allowed'],
    ] as const) {
      const answer = await call(session, 'GET', `/api/v1/people/${subjectId}`, 'call_billing');
      expect(answer.body).not.toContain('Oproepgegevens');
      await expectOneDeniedEntry(answer, 'call_billing', code);
    }
  });

  it('a list under it, or by a role the purpose does not have, is refused with one denied entry carrying the request’s id (attack S8-3)', async () => {
    const billing = await loginAs(app, kernel, voiceking, 'billing');
    for (const [session, purpose, code] of [
      [billing, 'call_billing', 'category_not_allowed'],
      [hr, 'answering_questions', 'role_not_allowed'],
    ] as const) {
      const answer = await call(session, 'GET', '/api/v1/people?limit=5', purpose);
      await expectOneDeniedEntry(answer, purpose, code);
    }
  });
});

describe('the audit entries of a list read (attack S7-3)', () => {
  type Entry = { seq: number; decision: string; reason: string | null; subject_pseudonyms: string[] };
  // The entries of one request that name the person, after the trail (read over HTTP) chained them.
  async function entriesFor(
    requestId: string,
    subjectId: number,
    officer: StaffSession,
  ): Promise<{ entries: Entry[]; trail: Array<{ seq: number; decision: string; reason: string | null }> }> {
    const trail = await call(officer, 'GET', `/api/v1/people/${subjectId}/audit?limit=50`, 'rights_requests');
    expect(trail.statusCode, trail.body).toBe(200);
    const pseudonym = await kernel.keys.pseudonym(voiceking.tenantId, subjectId);
    const rows = await runAsOwner<Entry>(
      database.ownerUrl,
      `select seq::int as seq, decision, reason, subject_pseudonyms from audit_log
        where tenant_id = $1 and request_id = $2 and $3 = any(subject_pseudonyms) order by seq`,
      [voiceking.tenantId, requestId, pseudonym],
    );
    return {
      entries: rows.rows,
      trail: trail.json<{ items: Array<{ seq: number; decision: string; reason: string | null }> }>().items,
    };
  }

  it("each listed person's trail holds exactly one entry for the list read: allowed for the people shown, the person's own refusal for one left out, never another person's reason", async () => {
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const named = async (session: StaffSession, purpose: string, body: Record<string, unknown>) => {
      const created = await call(session, 'POST', '/api/v1/people', purpose, body);
      expect(created.statusCode, created.body).toBe(201);
      return created.json<{ subjectId: number }>().subjectId;
    };
    const spoor = (givenName: string) => ({ subjectType: 'customer', familyName: 'Spoorlijst', givenName });
    const first = await named(sales, 'order_processing', spoor('Ann'));
    const restricted = await named(sales, 'order_processing', spoor('Bart'));
    const applicant = await named(hr, 'recruitment', {
      subjectType: 'job_applicant',
      familyName: 'Spoorlijst',
      givenName: 'Chris',
    });
    const last = await named(sales, 'order_processing', spoor('Dora'));
    await kernel.transact(voiceking.tenantId, (atx) => setRestriction(atx, restricted, true, new Date()));

    // One page holding them all (one batch), and pages of one (a batch per person, the last one
    // refused alone): the same one entry per person and request either way.
    for (const limit of [10, 1]) {
      const requestIds: string[] = [];
      let cursor: string | null = null;
      const shown: number[] = [];
      do {
        const list = await call(
          sales,
          'GET',
          `/api/v1/people?name=spoorlijst&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`,
          'order_processing',
        );
        expect(list.statusCode, list.body).toBe(200);
        const page = list.json<{ items: Array<{ subjectId: number }>; nextCursor: string | null }>();
        shown.push(...page.items.map((item) => item.subjectId));
        requestIds.push(String(list.headers['x-request-id']));
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(shown).toEqual([first, last]);
      if (limit === 10) {
        // The whole request (after the trail below has chained it): the search's own check, which
        // names nobody, one allowed entry for the two shown, and the two refusals.
        await entriesFor(requestIds[0] ?? '', first, officer);
        const all = await runAsOwner<{ decision: string; n: number }>(
          database.ownerUrl,
          `select decision, cardinality(subject_pseudonyms)::int as n from audit_log
            where tenant_id = $1 and request_id = $2 order by seq`,
          [voiceking.tenantId, requestIds[0]],
        );
        expect(all.rows.map((row) => `${row.decision} ${row.n}`).sort()).toEqual([
          'allowed 0',
          'allowed 2',
          'denied 1',
          'denied 1',
        ]);
      }

      for (const subjectId of [first, last, restricted, applicant]) {
        const found = await Promise.all(requestIds.map((id) => entriesFor(id, subjectId, officer)));
        const entries = found.flatMap((each) => each.entries);
        const expected =
          subjectId === restricted
            ? { decision: 'denied', reason: 'subject_restricted' }
            : subjectId === applicant
              ? { decision: 'denied', reason: 'subject_type_outside_purpose' }
              : { decision: 'allowed', reason: null };
        expect(
          entries.map((entry) => ({ decision: entry.decision, reason: entry.reason })),
          `person ${subjectId}, limit ${limit}`,
        ).toEqual([expected]);
        // A refusal names only its own person; the trail over HTTP shows that same one entry.
        if (expected.decision === 'denied') expect(entries[0]?.subject_pseudonyms).toHaveLength(1);
        const trail = found.at(-1)?.trail ?? [];
        expect(trail.filter((item) => item.seq === entries[0]?.seq)).toEqual([
          expect.objectContaining(expected),
        ]);
      }
    }
  });
});

describe('a search and the read of what it found (decision 0765)', () => {
  it('commit as one transaction: with the chain head held, the search entry and the read entry of one request wait in audit_pending with the same transaction id', async () => {
    const created = await call(sales, 'POST', '/api/v1/people', 'order_processing', {
      subjectType: 'customer',
      familyName: 'Eenmaal',
      givenName: 'Ode',
      email: 'ode@eenmaal.example',
    });
    expect(created.statusCode, created.body).toBe(201);
    await chainPendingAudit(kernel, voiceking.tenantId);
    for (const url of ['/api/v1/people?email=ode@eenmaal.example', '/api/v1/people?name=eenmaal&limit=5']) {
      const release = await holdChainHead(database.ownerUrl, voiceking.tenantId);
      let requestId = '';
      try {
        const found = await call(sales, 'GET', url, 'order_processing');
        expect(found.statusCode, found.body).toBe(200);
        expect(
          found.json<{ items: Array<{ givenName: string }> }>().items.map((item) => item.givenName),
        ).toEqual(['Ode']);
        requestId = String(found.headers['x-request-id']);
        await untilPending(database.ownerUrl, voiceking.tenantId, { count: 2, requestId });
        const parked = await runAsOwner<{ xid: string; n: number }>(
          database.ownerUrl,
          `select xmin::text as xid, cardinality(subject_pseudonyms)::int as n from audit_pending
            where tenant_id = $1 and request_id = $2 order by n`,
          [voiceking.tenantId, requestId],
        );
        // The search names nobody; the read names the one person shown.
        expect(
          parked.rows.map((row) => row.n),
          url,
        ).toEqual([0, 1]);
        expect(new Set(parked.rows.map((row) => row.xid)).size, url).toBe(1);
      } finally {
        await release();
      }
      await chainPendingAudit(kernel, voiceking.tenantId);
      expect(await countPendingEntries(database.ownerUrl, voiceking.tenantId)).toBe(0);
    }
  });
});

describe('request ids in the audit log (attack S7-8)', () => {
  it('two reads sent with the same x-request-id get distinct audit request ids, made by the server; the caller’s id names no entry', async () => {
    const created = await call(sales, 'POST', '/api/v1/people', 'order_processing', {
      subjectType: 'customer',
      familyName: 'Kenmerk',
      givenName: 'Ida',
    });
    expect(created.statusCode, created.body).toBe(201);
    const { subjectId } = created.json<{ subjectId: number }>();
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const chosen = '11111111-1111-4111-8111-111111111111';
    const answered: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const read = await app.inject({
        method: 'GET',
        url: `/api/v1/people/${subjectId}`,
        headers: { cookie: sales.cookie, 'x-kluis-purpose': 'order_processing', 'x-request-id': chosen },
      });
      expect(read.statusCode, read.body).toBe(200);
      answered.push(String(read.headers['x-request-id']));
    }
    expect(new Set(answered).size).toBe(2);
    expect(answered).not.toContain(chosen);
    // The trail chains the reads' entries; then each read's entry carries its own server id.
    const trail = await call(officer, 'GET', `/api/v1/people/${subjectId}/audit`, 'rights_requests');
    expect(trail.statusCode, trail.body).toBe(200);
    const pseudonym = await kernel.keys.pseudonym(voiceking.tenantId, subjectId);
    const rows = await runAsOwner<{ request_id: string }>(
      database.ownerUrl,
      `select request_id from audit_log where tenant_id = $1 and $2 = any(subject_pseudonyms)
         and action = 'read' and purpose = 'order_processing' order by seq`,
      [voiceking.tenantId, pseudonym],
    );
    expect(rows.rows.map((row) => row.request_id)).toEqual(answered);
    const withChosen = await runAsOwner(database.ownerUrl, 'select 1 from audit_log where request_id = $1', [
      chosen,
    ]);
    expect(withChosen.rowCount).toBe(0);
  });
});
