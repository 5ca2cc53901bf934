import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { dumpWholeDatabase } from '../../../test/dump.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { unzip } from '../../../test/zip.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { AccessReportSchema } from '../../kernel/access-report/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson, getPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { followLink, pastDownloadGrace } from '../../../test/link-button.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voiceking: Tenant;
let officer: StaffSession;
let sales: StaffSession;
const clock = fixedClock(new Date('2026-03-02T09:00:00Z'));

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  smtp = await startSmtpSink();
  app = await createTestApp(kernel, { mailer: smtp.mailer, publicUrl: 'https://privacy.voiceking.example' });
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
  sales = await loginAs(app, kernel, voiceking, 'sales');
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

let serial = 0;
async function customer(overrides: Record<string, unknown> = {}) {
  serial += 1;
  return createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: `Wouters${serial}x`,
      givenName: 'Hanne',
      gender: 'female',
      email: `hanne.wouters${serial}@mail.example`,
      phone: `+3247712${String(serial).padStart(4, '0')}`,
      address: { street: `Molenstraat ${serial}`, postalCode: '8500', city: 'Kortrijk', country: 'BE' },
      ...overrides,
    },
  );
}

const mailTo = (address: string, count = 1): Promise<ParsedMail> => smtp.waitFor(address, count);

const codeIn = (mail: ParsedMail): string => /\b(\d{6})\b/.exec(mail.text ?? '')?.[1] ?? '';
const linkIn = (mail: ParsedMail): string =>
  /(https:\/\/privacy\.voiceking\.example\S+)/.exec(mail.text ?? '')?.[1] ?? '';

function submit(body: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: `/t/${voiceking.slug}/privacy/requests`, payload: body });
}
function verify(requestId: string, code: string) {
  return app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/privacy/requests/${requestId}/verify`,
    payload: { code },
  });
}
function staffCall(
  session: StaffSession,
  method: 'GET' | 'POST',
  url: string,
  payload?: Record<string, unknown>,
) {
  return requestAs(app, session)(method, url, payload);
}

describe('identity verification (VK-26)', () => {
  it('VK-26: an impostor learns nothing: same answer for a known and an unknown address, the code goes only to the address on file', async () => {
    const victim = await customer();
    const known = await submit({ kind: 'access', email: victim.email });
    const unknown = await submit({ kind: 'access', email: 'nobody@nowhere.example' });
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    const shape = (body: Record<string, string>) => Object.keys(body).sort();
    expect(shape(known.json())).toEqual(shape(unknown.json()));
    expect(known.json<{ next: string }>().next).toBe(unknown.json<{ next: string }>().next);
    await mailTo(victim.email ?? '');
    expect(smtp.to('nobody@nowhere.example')).toEqual([]);
    // The unknown request cannot be verified, with the same answer as a wrong code.
    const wrongForUnknown = await verify(unknown.json<{ requestId: string }>().requestId, '123456');
    const wrongForKnown = await verify(known.json<{ requestId: string }>().requestId, '000000');
    expect(wrongForUnknown.statusCode).toBe(400);
    expect(wrongForUnknown.json<{ detail: string }>().detail).toBe(
      wrongForKnown.json<{ detail: string }>().detail,
    );
  });

  it('VK-26: guessing codes is stopped after five attempts, even the right code no longer works', async () => {
    const victim = await customer();
    const receipt = (await submit({ kind: 'access', email: victim.email })).json<{ requestId: string }>();
    const code = codeIn(await mailTo(victim.email ?? ''));
    for (let i = 0; i < 5; i += 1)
      expect((await verify(receipt.requestId, code === '111111' ? '222222' : '111111')).statusCode).toBe(400);
    const late = await verify(receipt.requestId, code);
    expect(late.statusCode).toBe(400);
    const state = await runAsOwner<{ state: string }>(
      database.ownerUrl,
      'select state from rights_requests where request_id = $1',
      [receipt.requestId],
    );
    expect(state.rows[0]?.state).toBe('awaiting_verification');
  });

  it('VK-26: a code expires after 15 minutes', async () => {
    const person = await customer();
    const receipt = (await submit({ kind: 'restriction', email: person.email })).json<{
      requestId: string;
    }>();
    const code = codeIn(await mailTo(person.email ?? ''));
    expect(code).toMatch(/^\d{6}$/);
    clock.advance(16 * 60 * 1000);
    const late = await verify(receipt.requestId, code);
    expect(late.statusCode).toBe(400);
    expect(late.json()).toMatchObject({
      code: 'validation_failed',
      detail: 'the code is wrong or no longer valid',
    });
    const state = await runAsOwner<{ state: string }>(
      database.ownerUrl,
      'select state from rights_requests where request_id = $1',
      [receipt.requestId],
    );
    expect(state.rows[0]?.state).toBe('awaiting_verification');
  });

  it('nothing is written about the typed address when it matches no one', async () => {
    const submitted = await submit({ kind: 'erasure', email: 'stranger.danger@nowhere.example' });
    expect(submitted.statusCode).toBe(202);
    const stored = await runAsOwner(
      database.ownerUrl,
      'select 1 from rights_requests where request_id = $1 and subject_id is null',
      [submitted.json<{ requestId: string }>().requestId],
    );
    expect(stored.rowCount).toBe(1);
    const dump = await dumpWholeDatabase(database.ownerUrl);
    expect(dump).not.toContain('stranger.danger');
  });
});

describe('access and portability (VK-21, VK-25)', () => {
  it('S20-5: the Dutch access report says legal bases in words, dates as Brussels dd-mm-jjjj, no module names, and a consent by its purpose, event and channel in words', async () => {
    const person = await customer();
    // A consent by phone: a ledger row with its moment (2026-03-02T09:00Z is 10:00 in Brussels).
    const consent = await requestAs(app, sales, 'interest_profiles')(
      'POST',
      `/api/v1/people/${person.subjectId}/consents`,
      {
        event: 'given',
        channel: 'staff_phone',
        wording: { language: 'nl', text: 'Mogen wij uw klikgedrag gebruiken voor een interesseprofiel?' },
        statement: 'Ja, dat mag.',
      },
    );
    expect(consent.statusCode, consent.body).toBe(201);
    const receipt = (await submit({ kind: 'access', email: person.email, language: 'nl' })).json<{
      requestId: string;
    }>();
    await verify(receipt.requestId, codeIn(await mailTo(person.email ?? '')));
    const link = linkIn(await mailTo(person.email ?? '', 2));
    const download = await followLink(app, link.replace('https://privacy.voiceking.example', ''));
    expect(download.statusCode).toBe(200);
    const files = await unzip(download.rawPayload);
    const html = files.get('access-report.html') ?? '';
    const report = AccessReportSchema.parse(JSON.parse(files.get('access-report.json') ?? '{}'));
    expect(html).toContain('<html lang="nl"');
    expect(html).toContain('de uitvoering van een overeenkomst');
    expect(html).not.toContain('<code>');
    for (const module of new Set(report.data.map((table) => table.module)))
      expect(html, module).not.toContain(`<td>${module}</td>`);
    expect(html).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    // Brussels day and time (the shared clock has moved on a few minutes by earlier tests).
    expect(html).toMatch(/02-03-2026 1\d:\d{2}/);
    // The consent: what it was for, what was decided and how, in Dutch words; no code as a value.
    expect(html).toContain(
      '<tr><td>Toestemming voor</td><td>interesseprofielen opbouwen voor advertentiedoeleinden</td></tr>',
    );
    expect(html).toContain('<tr><td>Wat u besliste</td><td>toestemming gegeven</td></tr>');
    expect(html).toContain('<tr><td>Hoe</td><td>telefonisch, aan een medewerker</td></tr>');
    expect(html).toContain('<tr><td>Wat u werd getoond of voorgelezen</td><td>Ja, dat mag.</td></tr>');
    for (const code of ['interest_profiles', 'given', 'staff_phone'])
      expect(html, code).not.toContain(`<td>${code}</td>`);
    // The JSON keeps the machine-readable forms (the portable format).
    expect(report.purposes.find((purpose) => purpose.key === 'order_processing')?.legalBasis).toBe(
      'contract',
    );
    expect(JSON.stringify(report.data)).toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });

  it('VK-21: after verification a single-use link to the complete access report goes to the address on file', async () => {
    const person = await customer();
    const receipt = (await submit({ kind: 'access', email: person.email, language: 'nl' })).json<{
      requestId: string;
      statusToken: string;
    }>();
    const verified = await verify(receipt.requestId, codeIn(await mailTo(person.email ?? '')));
    expect(verified.json()).toEqual({ state: 'fulfilled' });
    const link = linkIn(await mailTo(person.email ?? '', 2));
    const download = await followLink(app, link.replace('https://privacy.voiceking.example', ''));
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/zip');
    const files = await unzip(download.rawPayload);
    const report = AccessReportSchema.parse(JSON.parse(files.get('access-report.json') ?? '{}'));
    expect(report.controller.enterpriseNumber).toBe('BE0653.989.638');
    expect(report.supervisoryAuthority.name).toContain('Gegevensbeschermingsautoriteit');
    const values = report.data.flatMap((table) =>
      table.rows.flatMap((row) => Object.values(row).map((value) => JSON.stringify(value))),
    );
    expect(values).toContain(JSON.stringify(person.email));
    expect(values).toContain(JSON.stringify(person.phone));
    expect(report.categories.map((category) => category.key)).toEqual(
      expect.arrayContaining(['user.name', 'user.contact.email', 'user.contact.address']),
    );
    expect(
      report.categories.find((category) => category.key === 'user.contact.email')?.retention.length,
    ).toBeGreaterThan(0);
    expect(report.purposes.map((purpose) => purpose.key)).toContain('order_processing');
    expect(report.purposes.find((purpose) => purpose.key === 'order_processing')?.legalBasis).toBe(
      'contract',
    );
    expect(files.get('access-report.html')).toContain(person.familyName ?? '');
    // Spent an hour after it was written to its end (decision 0873).
    await pastDownloadGrace(database.ownerUrl, voiceking.tenantId);
    const again = await followLink(app, link.replace('https://privacy.voiceking.example', ''));
    expect(again.statusCode).toBe(404);
    const status = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/privacy/requests/${receipt.requestId}?token=${receipt.statusToken}`,
    });
    expect(status.json()).toMatchObject({ kind: 'access', state: 'fulfilled' });
    expect(status.body).not.toContain(person.email ?? '');
  });

  it('VK-25: portability gives a ZIP with a JSON and a CSV per table', async () => {
    const person = await customer({ familyName: 'Portabel, "Jr"' });
    const receipt = (await submit({ kind: 'portability', email: person.email })).json<{
      requestId: string;
    }>();
    await verify(receipt.requestId, codeIn(await mailTo(person.email ?? '')));
    const link = linkIn(await mailTo(person.email ?? '', 2));
    const download = await followLink(app, link.replace('https://privacy.voiceking.example', ''));
    const files = await unzip(download.rawPayload);
    expect(JSON.parse(files.get('manifest.json') ?? '{}')).toMatchObject({ format: 'kluis.portability.v2' });
    const people = JSON.parse(files.get('people.json') ?? '[]') as Array<Record<string, unknown>>;
    expect(people).toEqual([
      expect.objectContaining({ family_name: 'Portabel, "Jr"', email: person.email, phone: person.phone }),
    ]);
    const csv = files.get('people.csv') ?? '';
    expect(csv.split('\r\n')[0]).toContain('family_name');
    expect(csv).toContain('"Portabel, ""Jr"""');
  });
});

/** A rectification registered by the officer (a reply from the address on file) and fulfilled. */
async function rectifyByStaff(subjectId: number, corrections: Record<string, string>) {
  const registered = await staffCall(officer, 'POST', '/api/v1/requests', {
    kind: 'rectification',
    channel: 'email',
    subjectId,
    verificationMethod: 'reply_from_address_on_file',
  });
  expect(registered.statusCode).toBe(201);
  const { requestId } = registered.json<{ requestId: string }>();
  const fulfilled = await staffCall(officer, 'POST', `/api/v1/requests/${requestId}/fulfil`, { corrections });
  return { fulfilled };
}

/** A customer who asked for restriction through the public form and verified it with the mailed code. */
async function restrictedCustomer(): Promise<Awaited<ReturnType<typeof customer>>> {
  const person = await customer();
  const receipt = (await submit({ kind: 'restriction', email: person.email })).json<{ requestId: string }>();
  await verify(receipt.requestId, codeIn(await mailTo(person.email ?? '')));
  return person;
}

describe('restriction, objection, rectification, erasure (VX-14, VK-24, VK-22, VK-23)', () => {
  it('VX-14: a verified restriction takes effect at once: ordinary purposes are refused', async () => {
    const person = await restrictedCustomer();
    const read = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${person.subjectId}`,
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'order_processing' },
    });
    expect(read.statusCode).toBe(403);
    expect(read.json()).toMatchObject({ code: 'subject_restricted' });
  });

  it('VX-14: a restricted person is neither changed nor read under a legal obligation that serves no legal claim (the age check); the rectification the restriction waits for still goes through the rights request (attack S18-14, decisions 0875, 0885)', async () => {
    const person = await restrictedCustomer();
    const changed = await app.inject({
      method: 'PATCH',
      url: `/api/v1/people/${person.subjectId}`,
      headers: {
        cookie: sales.cookie,
        'x-csrf-token': sales.csrfToken,
        'x-kluis-purpose': 'age_verification',
      },
      payload: { givenName: 'ChangedWhileRestricted' },
    });
    expect(changed.statusCode, changed.body).toBe(403);
    expect(changed.json()).toMatchObject({ code: 'subject_restricted' });
    const read = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${person.subjectId}`,
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'age_verification' },
    });
    expect(read.statusCode, read.body).toBe(403);
    expect(read.json()).toMatchObject({ code: 'subject_restricted' });
    const kept = await runAsOwner<{ given_name: string }>(
      database.ownerUrl,
      'select given_name from people where subject_id = $1',
      [person.subjectId],
    );
    expect(kept.rows[0]?.given_name).not.toBe('ChangedWhileRestricted');

    const { fulfilled } = await rectifyByStaff(person.subjectId, { familyName: 'Rechtgezet' });
    expect(fulfilled.json()).toEqual({ outcome: { changedCategories: ['user.name'] } });
  });

  it('VK-24: objecting to direct marketing is free and stops every marketing purpose at once', async () => {
    const person = await customer();
    const receipt = (await submit({ kind: 'object_direct_marketing', email: person.email })).json<{
      requestId: string;
    }>();
    await verify(receipt.requestId, codeIn(await mailTo(person.email ?? '')));
    const read = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${person.subjectId}`,
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'newsletter_customers' },
    });
    expect(read.json()).toMatchObject({ code: 'subject_objected' });
    const letter = await mailTo(person.email ?? '', 2);
    expect(letter.text).toContain('Gegevensbeschermingsautoriteit');
  });

  it('VK-22: a rectification registered by staff is applied; the audit names categories, not values', async () => {
    const person = await customer();
    const { fulfilled } = await rectifyByStaff(person.subjectId, {
      familyName: 'Correctnaam',
      email: 'nieuw.adres@mail.example',
    });
    expect(fulfilled.json()).toEqual({ outcome: { changedCategories: ['user.name', 'user.contact.email'] } });
    const after = await getPerson(
      kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'billing' },
        purpose: 'order_processing',
      },
      person.subjectId,
    );
    expect(after).toMatchObject({ familyName: 'Correctnaam', email: 'nieuw.adres@mail.example' });
    const audit = await runAsOwner(database.ownerUrl, 'select * from audit_log where tenant_id = $1', [
      voiceking.tenantId,
    ]);
    expect(JSON.stringify(audit.rows)).not.toContain('Correctnaam');
  });

  it('VK-23: erasure walks the data map; afterwards a dump of the whole database holds none of the person’s values, and the letter says so', async () => {
    const person = await customer();
    const registered = await staffCall(officer, 'POST', '/api/v1/requests', {
      kind: 'erasure',
      channel: 'letter',
      subjectId: person.subjectId,
      scanReference: 'scan-2026-0042',
      verificationMethod: 'id_card_seen',
    });
    const { requestId } = registered.json<{ requestId: string }>();
    const fulfilled = await staffCall(officer, 'POST', `/api/v1/requests/${requestId}/fulfil`, {});
    expect(fulfilled.json()).toMatchObject({ outcome: { keyDestroyed: true, kept: [] } });
    const dump = await dumpWholeDatabase(database.ownerUrl);
    for (const value of [person.familyName, person.email, person.phone, 'scan-2026-0042'])
      expect(dump).not.toContain(value);
    const letter = await mailTo(person.email ?? '');
    expect(letter.text).toMatch(/Gewist:/);
    expect(letter.text).toContain('Drukpersstraat 35');
  });

  it('only roles under the rights purpose handle requests', async () => {
    const refused = await staffCall(sales, 'GET', '/api/v1/requests');
    expect(refused.statusCode).toBe(403);
  });
});

describe('free text typed by staff (VK-16)', () => {
  it('VK-16: a national register number typed into a rejection reason, an extension reason or a scan reference is refused like a note, naming the kind, never echoing it, and nothing is written', async () => {
    const person = await customer();
    const withNumber = 'identity checked: rijksregisternummer 85.07.30-033.28 does not match';
    const refusedRegistration = await staffCall(officer, 'POST', '/api/v1/requests', {
      kind: 'erasure',
      channel: 'letter',
      subjectId: person.subjectId,
      scanReference: 'scan of id 85.07.30-033.28',
    });
    expect(refusedRegistration.statusCode).toBe(422);
    expect(refusedRegistration.json()).toMatchObject({ code: 'sensitive_data_refused' });
    expect(refusedRegistration.body).toContain('national register number');
    expect(refusedRegistration.body).not.toContain('033.28');
    const before = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from rights_requests where subject_id = $1',
      [person.subjectId],
    );
    expect(before.rows[0]?.n).toBe(0);

    const registered = await staffCall(officer, 'POST', '/api/v1/requests', {
      kind: 'erasure',
      channel: 'letter',
      subjectId: person.subjectId,
    });
    const { requestId } = registered.json<{ requestId: string }>();
    for (const [action, payload] of [
      ['reject', { reason: withNumber }],
      ['extend', { until: '2026-04-01', reason: withNumber }],
      ['reject', { reason: 'the customer has diabetes and asked us to wait' }],
    ] as const) {
      const refused = await staffCall(officer, 'POST', `/api/v1/requests/${requestId}/${action}`, payload);
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ code: 'sensitive_data_refused' });
      expect(refused.body).not.toContain('033.28');
      expect(refused.body).not.toContain('diabetes');
    }
    const stored = await runAsOwner(
      database.ownerUrl,
      'select state, rejected_reason, extension_reason, extended_due_on from rights_requests where request_id = $1',
      [requestId],
    );
    expect(stored.rows).toEqual([
      {
        state: 'awaiting_verification',
        rejected_reason: null,
        extension_reason: null,
        extended_due_on: null,
      },
    ]);
    const dump = await dumpWholeDatabase(database.ownerUrl);
    expect(dump).not.toContain('85.07.30-033.28');

    const fine = await staffCall(officer, 'POST', `/api/v1/requests/${requestId}/reject`, {
      reason: 'the letter was not signed; we asked for a signed copy',
    });
    expect(fine.statusCode).toBe(200);
  });
});

describe('the requests module audits what it changes (issue 10)', () => {
  it('every state change of a request is audited with its actor, and the scan reference is written under a grant for correspondence', async () => {
    const person = await customer();
    const registered = await staffCall(officer, 'POST', '/api/v1/requests', {
      kind: 'restriction',
      channel: 'letter',
      subjectId: person.subjectId,
      scanReference: 'scan-2026-0107',
    });
    expect(registered.statusCode).toBe(201);
    const { requestId } = registered.json<{ requestId: string }>();
    expect(
      (await staffCall(officer, 'POST', `/api/v1/requests/${requestId}/verify`, { method: 'id_card_seen' }))
        .statusCode,
    ).toBe(200);
    const extended = await staffCall(officer, 'POST', `/api/v1/requests/${requestId}/extend`, {
      until: '2026-05-01',
      reason: 'waiting for the signed form to arrive',
    });
    expect(extended.statusCode).toBe(200);
    expect((await staffCall(officer, 'POST', `/api/v1/requests/${requestId}/fulfil`, {})).statusCode).toBe(
      200,
    );

    const other = await customer();
    const rejected = await staffCall(officer, 'POST', '/api/v1/requests', {
      kind: 'erasure',
      channel: 'phone',
      subjectId: other.subjectId,
    });
    const reject = await staffCall(
      officer,
      'POST',
      `/api/v1/requests/${rejected.json<{ requestId: string }>().requestId}/reject`,
      { reason: 'the caller could not be identified' },
    );
    expect(reject.statusCode).toBe(200);

    const audit = await runAsOwner<{
      actor_kind: string;
      actor_id: string;
      action: string;
      categories: string[] | null;
    }>(
      database.ownerUrl,
      `select actor_kind, actor_id, action, categories from audit_log
        where tenant_id = $1 and role = 'privacy_officer' and (action like 'request.%' or action = 'write')
        order by seq`,
      [voiceking.tenantId],
    );
    const staffId = String(officer.staffId);
    const actions = audit.rows.filter((row) => row.actor_kind === 'staff' && row.actor_id === staffId);
    expect(actions.map((row) => row.action)).toEqual(
      expect.arrayContaining(['request.verify', 'request.extend', 'request.fulfil', 'request.reject']),
    );
    // Writing the scan reference and the reasons: gate decisions for the correspondence category.
    const writes = actions.filter(
      (row) => row.action === 'write' && row.categories?.join() === 'kluis.communication.correspondence',
    );
    expect(writes.length).toBeGreaterThanOrEqual(3);
  });
});

/**
 * A privacy officer signed in now, and how they register a person's request: an access request by
 * letter unless `request` says otherwise.
 */
async function requestDesk() {
  const desk = await loginAs(app, kernel, voiceking, 'privacy_officer');
  const register = async (subjectId: number, request: Record<string, unknown> = {}): Promise<string> => {
    const registered = await staffCall(desk, 'POST', '/api/v1/requests', {
      kind: 'access',
      channel: 'letter',
      subjectId,
      ...request,
    });
    expect(registered.statusCode, registered.body).toBe(201);
    return registered.json<{ requestId: string }>().requestId;
  };
  return { desk, register };
}

describe('deadlines (VK-27)', () => {
  it('VK-27: due date, extension with a reason (at most two further months), overdue dashboard and daily reminder', async () => {
    clock.set(new Date('2026-01-31T10:00:00Z'));
    const person = await customer();
    const registered = await staffCall(officer, 'POST', '/api/v1/requests', {
      kind: 'erasure',
      channel: 'phone',
      subjectId: person.subjectId,
    });
    const request = registered.json<{ requestId: string; dueOn: string; state: string }>();
    expect(request).toMatchObject({ dueOn: '2026-02-28', state: 'awaiting_verification' });

    const tooLong = await staffCall(officer, 'POST', `/api/v1/requests/${request.requestId}/extend`, {
      until: '2026-05-01',
      reason: 'many systems to search through',
    });
    expect(tooLong.statusCode).toBe(400);
    const extended = await staffCall(officer, 'POST', `/api/v1/requests/${request.requestId}/extend`, {
      until: '2026-04-28',
      reason: 'many systems to search through',
    });
    expect(extended.json()).toMatchObject({ dueOn: '2026-04-28' });
    expect((await mailTo(person.email ?? '')).text).toMatch(/meer tijd[\s\S]*28 april 2026/);

    clock.set(new Date('2026-04-29T08:00:00Z'));
    const later = await loginAs(app, kernel, voiceking, 'privacy_officer'); // sessions last 12 hours
    const overdue = await staffCall(later, 'GET', '/api/v1/requests?overdue=true');
    expect(overdue.json<{ items: Array<{ requestId: string; overdue: boolean }> }>().items).toEqual(
      expect.arrayContaining([expect.objectContaining({ requestId: request.requestId, overdue: true })]),
    );
    const { sendDeadlineReminders } = await import('./requests.service.js');
    const deps = {
      kernel,
      mailer: smtp.mailer,
      dataMap: [],
      publicUrl: '',
      logger: (await import('../../../test/database.js')).testLogger,
    };
    const first = await sendDeadlineReminders(deps, voiceking.tenantId);
    expect(first.overdue).toBeGreaterThan(0);
    const reminder = await mailTo('info@voiceking.be');
    expect(reminder.text).toContain(request.requestId);
    expect(await sendDeadlineReminders(deps, voiceking.tenantId)).toEqual({ dueSoon: 0, overdue: 0 });

    const cli = await runCli(['requests', 'list', '--tenant', voiceking.slug, '--overdue'], {
      DATABASE_URL: database.ownerUrl,
    });
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(
      new RegExp(`OVERDUE 2026-04-28 +awaiting_verification +erasure +phone +${request.requestId}`),
    );
  });

  it('VK-27: a request is extended only within its first term, so the person hears of it, and why, within the 30 days the statement promises; a late extension is refused with 409 and mails nothing (decision 0918)', async () => {
    clock.set(new Date('2026-06-01T10:00:00Z'));
    const person = await customer();
    const desk = await loginAs(app, kernel, voiceking, 'privacy_officer'); // sessions last 12 hours
    const registered = await staffCall(desk, 'POST', '/api/v1/requests', {
      kind: 'access',
      channel: 'phone',
      subjectId: person.subjectId,
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const request = registered.json<{ requestId: string; dueOn: string }>();
    expect(request.dueOn).toBe('2026-07-01');
    clock.set(new Date('2026-07-02T08:00:00Z'));
    const late = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const refused = await staffCall(late, 'POST', `/api/v1/requests/${request.requestId}/extend`, {
      until: '2026-08-15',
      reason: 'many systems to search through',
    });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'conflict',
      details: { reason: 'past_due', dueOn: '2026-07-01' },
    });
    const listed = await staffCall(late, 'GET', '/api/v1/requests');
    expect(
      listed
        .json<{ items: Array<{ requestId: string; canExtend: boolean }> }>()
        .items.find((item) => item.requestId === request.requestId),
    ).toMatchObject({ canExtend: false });
    const stored = await runAsOwner<{ extended_due_on: string | null }>(
      database.ownerUrl,
      'select extended_due_on from rights_requests where request_id = $1',
      [request.requestId],
    );
    expect(stored.rows).toEqual([{ extended_due_on: null }]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(smtp.to(person.email ?? '').filter((mail) => mail.text?.includes('15 augustus 2026'))).toEqual([]);
    // On its last day it still can be.
    clock.set(new Date('2026-07-01T20:00:00Z'));
    const inTime = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const extended = await staffCall(inTime, 'POST', `/api/v1/requests/${request.requestId}/extend`, {
      until: '2026-08-15',
      reason: 'many systems to search through',
    });
    expect(extended.statusCode, extended.body).toBe(200);
    expect((await mailTo(person.email ?? '')).text).toMatch(/meer tijd[\s\S]*15 augustus 2026/);
  });

  it('VK-27: the mailed extension of the answer promised within a month names its new last day in words of the person’s language (1 augustus 2026, 1 août 2026), never as an ISO day; the request keeps the day as ISO', async () => {
    clock.set(new Date('2026-06-01T10:00:00Z'));
    const { desk, register } = await requestDesk();
    const dutch = await customer({ preferredLanguage: 'nl' });
    const french = await customer({ preferredLanguage: 'fr' });
    for (const person of [dutch, french]) {
      const requestId = await register(person.subjectId);
      const extended = await staffCall(desk, 'POST', `/api/v1/requests/${requestId}/extend`, {
        until: '2026-08-01',
        reason: 'the archive is searched by hand',
      });
      expect(extended.statusCode, extended.body).toBe(200);
      expect(extended.json()).toMatchObject({ dueOn: '2026-08-01' });
    }
    const toDutch = (await mailTo(dutch.email ?? '')).text ?? '';
    expect(toDutch).toContain('U krijgt ons antwoord uiterlijk op 1 augustus 2026.');
    const toFrench = (await mailTo(french.email ?? '')).text ?? '';
    expect(toFrench).toContain('Vous recevrez notre réponse au plus tard le 1 août 2026.');
    for (const text of [toDutch, toFrench]) expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  it('VK-27: a person with no e-mail address on file hears of an extension or a rejection by post: the preview says so, the change is refused (409 letter_by_post) and writes nothing until staff confirm the letter was posted, then it is made and audited as posted (decision 1192)', async () => {
    clock.set(new Date('2026-06-01T10:00:00Z'));
    const { desk, register } = await requestDesk();
    const withMail = await customer();
    const preview = async (requestId: string, body: Record<string, unknown>) =>
      staffCall(desk, 'POST', `/api/v1/requests/${requestId}/letter-preview`, body);
    const extension = { until: '2026-08-01', reason: 'the archive is searched by hand' };
    expect(
      (await preview(await register(withMail.subjectId), { outcome: 'extended', ...extension })).json(),
    ).toMatchObject({ delivery: 'email' });

    const byPost = await customer({ email: null });
    const requestId = await register(byPost.subjectId);
    const shown = await preview(requestId, { outcome: 'extended', ...extension });
    expect(shown.statusCode, shown.body).toBe(200);
    expect(shown.json()).toMatchObject({ delivery: 'post' });
    const stored = async () =>
      (
        await runAsOwner<{ state: string; extended_due_on: string | null }>(
          database.ownerUrl,
          'select state, extended_due_on::text from rights_requests where request_id = $1',
          [requestId],
        )
      ).rows[0];
    for (const body of [extension, { ...extension, letterPosted: false }]) {
      const refused = await staffCall(desk, 'POST', `/api/v1/requests/${requestId}/extend`, body);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'conflict', details: { reason: 'letter_by_post' } });
    }
    expect(await stored()).toEqual({ state: 'awaiting_verification', extended_due_on: null });
    const extended = await staffCall(desk, 'POST', `/api/v1/requests/${requestId}/extend`, {
      ...extension,
      letterPosted: true,
    });
    expect(extended.statusCode, extended.body).toBe(200);
    expect(await stored()).toEqual({ state: 'awaiting_verification', extended_due_on: '2026-08-01' });

    const refusedReject = await staffCall(desk, 'POST', `/api/v1/requests/${requestId}/reject`, {
      reason: 'we hold no data under that name',
    });
    expect(refusedReject.statusCode, refusedReject.body).toBe(409);
    expect(refusedReject.json()).toMatchObject({ details: { reason: 'letter_by_post' } });
    expect((await stored())?.state).toBe('awaiting_verification');
    const rejected = await staffCall(desk, 'POST', `/api/v1/requests/${requestId}/reject`, {
      reason: 'we hold no data under that name',
      letterPosted: true,
    });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect((await stored())?.state).toBe('rejected');

    const audited = await runAsOwner<{ action: string; reason: string | null }>(
      database.ownerUrl,
      `select action, reason from audit_log
        where tenant_id = $1 and action in ('request.extend', 'request.reject') and reason is not null
        order by seq`,
      [voiceking.tenantId],
    );
    expect(audited.rows).toEqual([
      { action: 'request.extend', reason: 'letter posted by staff' },
      { action: 'request.reject', reason: 'letter posted by staff' },
    ]);

    // The public form's request for an address that matches no one names nobody: no one on record
    // to write to; its requester follows it on the status page, which shows the new due date.
    const filed = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests`,
      payload: { kind: 'access', email: 'nobody.on.record@mail.example', language: 'en' },
    });
    expect(filed.statusCode, filed.body).toBe(202);
    const unmatched = filed.json<{ requestId: string; statusToken: string }>();
    expect((await preview(unmatched.requestId, { outcome: 'extended', ...extension })).json()).toMatchObject({
      delivery: 'status_page',
    });
    const onStatusPage = await staffCall(
      desk,
      'POST',
      `/api/v1/requests/${unmatched.requestId}/extend`,
      extension,
    );
    expect(onStatusPage.statusCode, onStatusPage.body).toBe(200);
  });

  it('VK-27: a letter to post starts with the name and postal address on file, the date and the request reference; a person with neither an e-mail nor a postal address on file is not written to: the preview says none, and an extension or a rejection is refused (409 no_contact_on_file) even when said to be posted, and writes nothing (attack S24-2, decision 1192)', async () => {
    clock.set(new Date('2026-06-01T10:00:00Z'));
    const { desk, register: file } = await requestDesk();
    const register = (subjectId: number) => file(subjectId, { channel: 'phone' });
    const extension = { until: '2026-08-01', reason: 'the archive is searched by hand' };

    const byPost = await customer({ email: null });
    const postId = await register(byPost.subjectId);
    const shown = await staffCall(desk, 'POST', `/api/v1/requests/${postId}/letter-preview`, {
      outcome: 'extended',
      ...extension,
    });
    expect(shown.statusCode, shown.body).toBe(200);
    const letter = shown.json<{ delivery: string; text: string }>();
    expect(letter.delivery).toBe('post');
    expect(
      letter.text.startsWith(
        [
          `Hanne ${byPost.familyName ?? ''}`,
          byPost.address?.street ?? '',
          '8500 Kortrijk',
          'België',
          '',
          'Datum: 1 juni 2026',
          `Ons kenmerk: ${postId}`,
          'Betreft: Uw verzoek: inzage in uw gegevens',
        ].join('\n'),
      ),
      letter.text,
    ).toBe(true);
    expect(letter.text).toMatch(/Beste,\n\nWe hebben meer tijd nodig[\s\S]*1 augustus 2026/);

    const nowhere = await customer({ email: null, address: null });
    const requestId = await register(nowhere.subjectId);
    for (const outcome of ['extended', 'rejected']) {
      const preview = await staffCall(desk, 'POST', `/api/v1/requests/${requestId}/letter-preview`, {
        outcome,
        ...extension,
      });
      expect(preview.statusCode, preview.body).toBe(200);
      expect(preview.json()).toMatchObject({ delivery: 'none' });
    }
    const changesAudited = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          `select count(*)::int as n from audit_log
            where tenant_id = $1 and action in ('request.extend', 'request.reject')`,
          [voiceking.tenantId],
        )
      ).rows[0]?.n;
    const before = await changesAudited();
    for (const [action, body] of [
      ['extend', extension],
      ['extend', { ...extension, letterPosted: true }],
      ['reject', { reason: 'we hold no data under that name' }],
      ['reject', { reason: 'we hold no data under that name', letterPosted: true }],
    ] as const) {
      const refused = await staffCall(desk, 'POST', `/api/v1/requests/${requestId}/${action}`, body);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'conflict', details: { reason: 'no_contact_on_file' } });
    }
    const stored = await runAsOwner<{ state: string; extended_due_on: string | null }>(
      database.ownerUrl,
      'select state, extended_due_on::text from rights_requests where request_id = $1',
      [requestId],
    );
    expect(stored.rows).toEqual([{ state: 'awaiting_verification', extended_due_on: null }]);
    expect(await changesAudited()).toBe(before);
  });

  it('VK-27: the fulfilment of a request of a person with no e-mail address on file goes by post: the preview says so, fulfil is refused (409 letter_by_post) and writes nothing until staff say they post the letter, then it is carried out without a mail, audited as posted, and the answer carries the letter to print — an access request’s data taken by staff to post with it, no link made; with neither an e-mail nor a postal address 409 no_contact_on_file, except an erasure, carried out and recorded as told to no one (decision 1250)', async () => {
    clock.set(new Date('2026-06-01T10:00:00Z'));
    const { desk, register: file } = await requestDesk();
    const register = (subjectId: number, kind: string) =>
      file(subjectId, { kind, verificationMethod: 'signed_letter_matches' });
    const fulfil = (requestId: string, body: Record<string, unknown> = {}) =>
      staffCall(desk, 'POST', `/api/v1/requests/${requestId}/fulfil`, body);
    const stateOf = async (requestId: string) =>
      (
        await runAsOwner<{ state: string; links: number }>(
          database.ownerUrl,
          `select state, (select count(*)::int from export_downloads d
                           where d.tenant_id = r.tenant_id and d.request_id = r.request_id) as links
             from rights_requests r where request_id = $1`,
          [requestId],
        )
      ).rows[0];
    const fulfilAudits = async () =>
      (
        await runAsOwner<{ reason: string | null }>(
          database.ownerUrl,
          `select reason from audit_log where tenant_id = $1 and action = 'request.fulfil' order by seq`,
          [voiceking.tenantId],
        )
      ).rows;
    const letters = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from sealed_letters where tenant_id = $1',
          [voiceking.tenantId],
        )
      ).rows[0]?.n;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const mailedBefore = smtp.messages.length;
    const lettersBefore = await letters();

    const byPost = await customer({ email: null });
    const heading = [
      `Hanne ${byPost.familyName ?? ''}`,
      byPost.address?.street ?? '',
      '8500 Kortrijk',
      'België',
      '',
      'Datum: 1 juni 2026',
    ].join('\n');

    // Access: the preview says post and that the data go with the letter, not a link.
    const access = await register(byPost.subjectId, 'access');
    const preview = await staffCall(desk, 'POST', `/api/v1/requests/${access}/letter-preview`, {
      outcome: 'fulfilled',
    });
    expect(preview.statusCode, preview.body).toBe(200);
    const previewed = preview.json<{ delivery: string; text: string }>();
    expect(previewed.delivery).toBe('post');
    expect(previewed.text.startsWith(heading), previewed.text).toBe(true);
    expect(previewed.text).toContain('Uw gegevens zitten bij deze brief');
    expect(previewed.text).not.toContain('download');
    const auditsBefore = (await fulfilAudits()).length;
    for (const body of [{}, { letterPosted: false }]) {
      const refused = await fulfil(access, body);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toMatchObject({ code: 'conflict', details: { reason: 'letter_by_post' } });
    }
    expect(await stateOf(access)).toEqual({ state: 'verified', links: 0 });
    expect(await fulfilAudits()).toHaveLength(auditsBefore);

    // Staff take the package (the same ZIP as the link gives) to post with the letter.
    const taken = await staffCall(desk, 'GET', `/api/v1/requests/${access}/package`);
    expect(taken.statusCode, taken.body.slice(0, 200)).toBe(200);
    expect(taken.headers['content-type']).toBe('application/zip');
    const files = await unzip(taken.rawPayload);
    const report = AccessReportSchema.parse(JSON.parse(files.get('access-report.json') ?? '{}'));
    expect(JSON.stringify(report.data)).toContain(byPost.familyName ?? '?');
    expect(files.get('access-report.html')).toContain('<html lang="nl"');
    const exported = await runAsOwner<{ actor_kind: string; request_id: string | null }>(
      database.ownerUrl,
      `select actor_kind, request_id::text from audit_log
        where tenant_id = $1 and action = 'export' and decision = 'allowed' order by seq desc limit 1`,
      [voiceking.tenantId],
    );
    expect(exported.rows).toEqual([{ actor_kind: 'staff', request_id: access }]);

    const answered = await fulfil(access, { letterPosted: true });
    expect(answered.statusCode, answered.body).toBe(200);
    const done = answered.json<{ outcome: Record<string, unknown>; letter: { text: string } }>();
    expect(done.outcome).toMatchObject({ enclosedByPost: true });
    expect(done.letter.text.startsWith(`${heading}\nOns kenmerk: ${access}`), done.letter.text).toBe(true);
    expect(done.letter.text).toContain('Uw gegevens zitten bij deze brief');
    expect(await stateOf(access)).toEqual({ state: 'fulfilled', links: 0 });
    expect((await fulfilAudits()).at(-1)).toEqual({ reason: 'letter posted by staff' });
    // Answered: the package is no longer handed out.
    expect((await staffCall(desk, 'GET', `/api/v1/requests/${access}/package`)).statusCode).toBe(409);

    // A restriction: carried out at once, the letter to print says so.
    const restriction = await register(byPost.subjectId, 'restriction');
    expect((await fulfil(restriction)).json()).toMatchObject({ details: { reason: 'letter_by_post' } });
    expect((await stateOf(restriction))?.state).toBe('verified');
    const restricted = await fulfil(restriction, { letterPosted: true });
    expect(restricted.statusCode, restricted.body).toBe(200);
    expect(restricted.json()).toMatchObject({ outcome: { restricted: true } });
    expect(restricted.json<{ letter: { text: string } }>().letter.text).toContain(
      'We hebben uw verzoek uitgevoerd.',
    );
    expect((await fulfilAudits()).at(-1)).toEqual({ reason: 'letter posted by staff' });

    // Anyone with an e-mail address gets the mailed link, not a package from staff.
    const withMail = await customer();
    const mailed = await staffCall(
      desk,
      'GET',
      `/api/v1/requests/${await register(withMail.subjectId, 'access')}/package`,
    );
    expect(mailed.statusCode, mailed.body).toBe(409);
    expect(mailed.json()).toMatchObject({ details: { reason: 'letter_by_email' } });

    // Neither an e-mail nor a postal address: refused even when said to be posted, nothing written …
    const nowhere = await customer({ email: null, address: null });
    const unreachable = await register(nowhere.subjectId, 'access');
    for (const body of [{}, { letterPosted: true }]) {
      const refused = await fulfil(unreachable, body);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json()).toMatchObject({ details: { reason: 'no_contact_on_file' } });
    }
    expect(await stateOf(unreachable)).toEqual({ state: 'verified', links: 0 });
    // … but an erasure is carried out: after it there is no one left to write to.
    const erasure = await register(nowhere.subjectId, 'erasure');
    const erased = await fulfil(erasure);
    expect(erased.statusCode, erased.body).toBe(200);
    expect(erased.json()).not.toHaveProperty('letter');
    expect(await stateOf(erasure)).toEqual({ state: 'fulfilled', links: 0 });
    expect((await fulfilAudits()).at(-1)).toEqual({ reason: 'no contact on file: not told' });

    // An erasure by post: the letter to print names the address read before the erasure, and what went.
    const erasureByPost = await register(byPost.subjectId, 'erasure');
    expect((await fulfil(erasureByPost)).json()).toMatchObject({ details: { reason: 'letter_by_post' } });
    const gone = await fulfil(erasureByPost, { letterPosted: true });
    expect(gone.statusCode, gone.body).toBe(200);
    const goneLetter = gone.json<{ letter: { text: string } }>().letter.text;
    expect(goneLetter.startsWith(heading), goneLetter).toBe(true);
    expect(goneLetter).toMatch(/We hebben uw verzoek uitgevoerd\.\n\nGewist:\n- /);
    const person = await runAsOwner<{ erased: boolean }>(
      database.ownerUrl,
      'select erased_at is not null as erased from data_subjects where tenant_id = $1 and subject_id = $2',
      [voiceking.tenantId, byPost.subjectId],
    );
    expect(person.rows).toEqual([{ erased: true }]);

    // Nothing was mailed or queued for any of them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.messages.length).toBe(mailedBefore);
    expect(await letters()).toBe(lettersBefore);
  });

  it('VK-27: a request staff register without a language is answered in the person’s preferred language on record when the policy writes in it: the extension letter reaches the French speaker in French; a German speaker gets the tenant’s first language, and a language staff give wins (attack S24-5)', async () => {
    clock.set(new Date('2026-06-01T10:00:00Z'));
    const { desk, register: file } = await requestDesk();
    const register = (subjectId: number, language?: string) => file(subjectId, language ? { language } : {});
    const languageOf = async (requestId: string) =>
      (
        await runAsOwner<{ language: string }>(
          database.ownerUrl,
          'select language from rights_requests where request_id = $1',
          [requestId],
        )
      ).rows[0]?.language;

    const french = await customer({ preferredLanguage: 'fr' });
    const requestId = await register(french.subjectId);
    expect(await languageOf(requestId)).toBe('fr');
    const extended = await staffCall(desk, 'POST', `/api/v1/requests/${requestId}/extend`, {
      until: '2026-08-01',
      reason: 'the archive is searched by hand',
    });
    expect(extended.statusCode, extended.body).toBe(200);
    const mail = await mailTo(french.email ?? '');
    expect(mail.subject).toContain('accès à vos données');
    expect(mail.text).toMatch(/Bonjour,[\s\S]*Nous avons besoin de plus de temps[\s\S]*1 août 2026/);

    expect(await languageOf(await register((await customer({ preferredLanguage: 'de' })).subjectId))).toBe(
      'nl',
    );
    expect(
      await languageOf(await register((await customer({ preferredLanguage: 'fr' })).subjectId, 'en')),
    ).toBe('en');
  });
});
