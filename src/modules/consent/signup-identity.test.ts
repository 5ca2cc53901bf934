/**
 * Attack findings S21-B-2, S21-B-4, S21-B-5, S21-B-8 (decisions 1020, 1021, 0990 amended): a person
 * who withdrew asks again in the portal and gets a new confirmation at the address on file; one
 * address is one subscriber however often the form is sent; staff recording a subscriber's address
 * record the subscriber; the confirmation page the link opens spends nothing and says what pressing
 * would do; the portal says a dossier went with its objection. HTTP in; the SMTP sink and the
 * database out.
 */
import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { loginAs, type StaffSession } from '../../../test/http.js';
import { fixedClock } from '../../../test/kernel.js';
import {
  signInByMailedLink,
  startMailingTestApp,
  type MailingTestApp,
  type PortalSession,
} from '../../../test/mailing-app.js';
import type { Kernel } from '../../kernel/kernel.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { expireSignups } from './index.js';

const PUBLIC = 'https://news.example';
const clock = fixedClock(new Date('2026-12-02T09:00:00Z'));

let testApp: MailingTestApp;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC, clock });
  ({ database, kernel, app, voiceking, voxtra } = testApp);
}, 120_000);
afterAll(async () => {
  await testApp.close();
});

const confirmPathOf = (mail: ParsedMail): string =>
  /https:\/\/news\.example(\/\S+\/newsletter\/confirm\/\S+)/.exec(mail.text ?? '')?.[1] ?? '';
const confirm = (path: string) =>
  app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'confirm=1',
  });
const publicSignup = (tenant: Tenant, email: string) =>
  app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/newsletter/signup`,
    payload: { email, language: 'nl' },
  });

/** The sign-up expiry job of the tenant, run now. */
const runSignupExpiry = (tenant: Tenant) =>
  expireSignups(
    { kernel, mailer: testApp.smtp.mailer, publicUrl: PUBLIC, dataMap: DATA_MAP, logger: testLogger },
    tenant.tenantId,
  );

/** The subject's sign-ups made past their expiry, then the expiry job run. */
async function expireSignupsOf(tenant: Tenant, subjectId: number): Promise<void> {
  await runAsOwner(
    database.ownerUrl,
    `update newsletter_signups set expires_at = $3 where tenant_id = $1 and subject_id = $2`,
    [tenant.tenantId, subjectId, new Date(clock.now().getTime() - 1000)],
  );
  await runSignupExpiry(tenant);
}

/** The public form, then the link in its mail confirmed: the subscriber's subject id. */
async function subscribe(tenant: Tenant, email: string, nth = 1): Promise<number> {
  expect((await publicSignup(tenant, email)).statusCode).toBe(202);
  const confirmed = await confirm(confirmPathOf(await testApp.smtp.waitFor(email, nth)));
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  return subscriberOf(tenant, email);
}

async function subscriberOf(tenant: Tenant, email: string): Promise<number> {
  const ids = await subscribersOf(tenant, email);
  expect(ids).toHaveLength(1);
  return ids[0] ?? -1;
}

/** The subjects whose confirmed sign-up holds this address (the blind index is read through the app). */
async function subscribersOf(tenant: Tenant, email: string): Promise<number[]> {
  const index = await kernel.transact(tenant.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(
      atx,
      { kind: 'system', job: 'test' },
      {
        purpose: tenant === voiceking ? 'newsletter_opt_in' : 'news_opt_in',
        action: 'read',
        categories: ['user.contact.email'],
        subjectIds: [],
      },
    );
    return grant.blindIndex('user.contact.email', 'email', email);
  });
  return (
    await runAsOwner<{ subject_id: number }>(
      database.ownerUrl,
      `select distinct subject_id from newsletter_signups
        where tenant_id = $1 and email_bidx = $2 and confirmed_at is not null order by subject_id`,
      [tenant.tenantId, index],
    )
  ).rows.map((row) => row.subject_id);
}

const stateOf = async (tenant: Tenant, subjectId: number, purpose: string): Promise<string | undefined> =>
  (
    await runAsOwner<{ state: string }>(
      database.ownerUrl,
      'select state from subject_purpose_states where tenant_id = $1 and subject_id = $2 and purpose = $3',
      [tenant.tenantId, subjectId, purpose],
    )
  ).rows[0]?.state;

const portalChoice = (tenant: Tenant, session: PortalSession, purpose: string, event: string) =>
  app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/account/my-consents?lang=nl`,
    headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ csrf: session.csrf, purpose, event }).toString(),
  });

describe('a person who withdrew asks again in the portal (attack S21-B-2)', () => {
  it('VK-17, VK-24, VK-26: a public subscriber who withdrew in the portal presses "Toestemming geven": a new confirmation mail goes to the sign-up address, its link makes them consent again', async () => {
    const email = 'weer.lid@example.be';
    const subjectId = await subscribe(voiceking, email);
    const session = await signInByMailedLink(testApp, voiceking, email, 2);
    expect((await portalChoice(voiceking, session, 'newsletter_opt_in', 'withdrawn')).statusCode).toBe(303);
    expect(await stateOf(voiceking, subjectId, 'newsletter_opt_in')).toBe('withdrawn');

    const again = await portalChoice(voiceking, session, 'newsletter_opt_in', 'given');
    expect(again.statusCode, again.body).toBe(303);
    expect(await stateOf(voiceking, subjectId, 'newsletter_opt_in')).toBe('pending');
    const mail = await testApp.smtp.waitFor(email, 3);
    expect(mail.subject).toBe('Bevestig uw inschrijving op onze nieuwsbrief');
    const page = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-consents?lang=nl`,
      headers: { cookie: session.cookie },
    });
    expect(page.body).not.toContain('bestaat niet');
    expect((await confirm(confirmPathOf(mail))).statusCode).toBe(200);
    expect(await stateOf(voiceking, subjectId, 'newsletter_opt_in')).toBe('consented');
  });

  it('VK-17, VK-24: a prospect on record who withdrew asks again in the portal: the confirmation goes to the address on their record', async () => {
    const email = 'prospect.weer@example.be';
    const created = await createPerson(
      kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'system', job: 'test' },
        purpose: 'answering_questions',
      },
      { subjectType: 'prospect', familyName: 'Weer', givenName: 'Pia', email },
    );
    const session = await signInByMailedLink(testApp, voiceking, email);
    expect((await portalChoice(voiceking, session, 'newsletter_opt_in', 'given')).statusCode).toBe(303);
    expect((await confirm(confirmPathOf(await testApp.smtp.waitFor(email, 2)))).statusCode).toBe(200);
    expect((await portalChoice(voiceking, session, 'newsletter_opt_in', 'withdrawn')).statusCode).toBe(303);
    const again = await portalChoice(voiceking, session, 'newsletter_opt_in', 'given');
    expect(again.statusCode, again.body).toBe(303);
    expect((await confirm(confirmPathOf(await testApp.smtp.waitFor(email, 3)))).statusCode).toBe(200);
    expect(await stateOf(voiceking, created.subjectId, 'newsletter_opt_in')).toBe('consented');
  });

  it('VX-9: a Voxtra subscriber who withdrew asks again in the portal and gets a new confirmation mail', async () => {
    const email = 'voxtra.weer@example.be';
    const subjectId = await subscribe(voxtra, email);
    const session = await signInByMailedLink(testApp, voxtra, email, 2);
    expect((await portalChoice(voxtra, session, 'news_opt_in', 'withdrawn')).statusCode).toBe(303);
    const again = await portalChoice(voxtra, session, 'news_opt_in', 'given');
    expect(again.statusCode, again.body).toBe(303);
    expect((await confirm(confirmPathOf(await testApp.smtp.waitFor(email, 3)))).statusCode).toBe(200);
    expect(await stateOf(voxtra, subjectId, 'news_opt_in')).toBe('consented');
  });
});

const ledgerOf = async (tenant: Tenant, subjectId: number, purpose: string): Promise<string[]> =>
  (
    await runAsOwner<{ event: string; channel: string }>(
      database.ownerUrl,
      `select event, channel from consent_records
        where tenant_id = $1 and subject_id = $2 and purpose = $3 order by record_id`,
      [tenant.tenantId, subjectId, purpose],
    )
  ).rows.map((row) => `${row.event}/${row.channel}`);

const isErased = async (tenant: Tenant, subjectId: number): Promise<boolean> =>
  (
    await runAsOwner<{ erased: boolean }>(
      database.ownerUrl,
      'select erased_at is not null as erased from data_subjects where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, subjectId],
    )
  ).rows[0]?.erased ?? true;

describe('one address is one subscriber however often the form is sent (attack S21-B-8)', () => {
  it('VK-17, VK-26: the form sent again after the confirmation, and its new link confirmed, keeps one subscriber, whom the portal link reaches', async () => {
    const email = 'twee.keer@example.be';
    const subjectId = await subscribe(voiceking, email);
    // Subscribed: sending the form again mails nothing and records nothing.
    expect((await publicSignup(voiceking, email)).statusCode).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(testApp.smtp.to(email)).toHaveLength(1);
    // Unsubscribed since (in the portal), then the form again: the same subscriber is asked.
    const session = await signInByMailedLink(testApp, voiceking, email, 2);
    expect((await portalChoice(voiceking, session, 'newsletter_opt_in', 'withdrawn')).statusCode).toBe(303);
    expect((await publicSignup(voiceking, email)).statusCode).toBe(202);
    expect((await confirm(confirmPathOf(await testApp.smtp.waitFor(email, 3)))).statusCode).toBe(200);
    expect(await subscribersOf(voiceking, email)).toEqual([subjectId]);
    expect(await stateOf(voiceking, subjectId, 'newsletter_opt_in')).toBe('consented');
    expect(await ledgerOf(voiceking, subjectId, 'newsletter_opt_in')).toEqual([
      'signed_up/web_form',
      'given/double_opt_in',
      'withdrawn/privacy_portal',
      'signed_up/web_form',
      'given/double_opt_in',
    ]);
    // The portal link still finds exactly one match and reaches the subscriber.
    const again = await signInByMailedLink(testApp, voiceking, email, 4);
    const page = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-consents?lang=nl`,
      headers: { cookie: again.cookie },
    });
    expect(page.body).toContain('u gaf toestemming');
  });

  it('VK-17: the form sent twice before any confirmation: one subject; the newer link confirms, the older confirms nothing, and the expiry of the older erases nobody', async () => {
    const email = 'nog.niet@example.be';
    expect((await publicSignup(voiceking, email)).statusCode).toBe(202);
    const first = await testApp.smtp.waitFor(email, 1);
    expect((await publicSignup(voiceking, email)).statusCode).toBe(202);
    const second = await testApp.smtp.waitFor(email, 2);
    // The superseded row is expired now; the expiry job drops it and keeps the subject.
    await runSignupExpiry(voiceking);
    expect((await confirm(confirmPathOf(first))).statusCode).toBe(404);
    expect((await confirm(confirmPathOf(second))).statusCode).toBe(200);
    const subjectId = await subscriberOf(voiceking, email);
    expect(await isErased(voiceking, subjectId)).toBe(false);
    expect(await ledgerOf(voiceking, subjectId, 'newsletter_opt_in')).toEqual([
      'signed_up/web_form',
      'signed_up/web_form',
      'given/double_opt_in',
    ]);
    await signInByMailedLink(testApp, voiceking, email, 3);
  });
});

describe("staff recording a subscriber's address record the subscriber (attack S21-B-4)", () => {
  const staff = (session: StaffSession, purpose: string) => ({
    cookie: session.cookie,
    'x-csrf-token': session.csrfToken,
    'x-kluis-purpose': purpose,
  });
  let sales: StaffSession;
  let officer: StaffSession;
  beforeAll(async () => {
    sales = await loginAs(app, kernel, voiceking, 'sales');
    officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
  });
  const newProspect = (email: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/people',
      headers: staff(sales, 'answering_questions'),
      payload: {
        subjectType: 'prospect',
        familyName: 'Lid',
        givenName: 'Nieuw',
        email,
        source: 'data_subject',
      },
    });
  const officerSearch = async (email: string): Promise<number[]> => {
    const found = await app.inject({
      method: 'GET',
      url: `/api/v1/people?email=${encodeURIComponent(email)}`,
      headers: staff(officer, 'rights_requests'),
    });
    expect(found.statusCode, found.body).toBe(200);
    return found.json<{ items: Array<{ subjectId: number }> }>().items.map((item) => item.subjectId);
  };

  it("VK-7, VK-21, VK-26: sales record a prospect with a confirmed subscriber's address: the record is the subscriber's (one subject), a second POST is 409 naming it, and the portal link and the officer's search reach that one subject with its consents", async () => {
    const email = 'abonnee.twee@example.be';
    const subjectId = await subscribe(voiceking, email);
    const created = await newProspect('  Abonnee.Twee@EXAMPLE.be ');
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json<{ subjectId: number }>().subjectId).toBe(subjectId);
    const again = await newProspect(email);
    expect(again.statusCode).toBe(409);
    expect(again.json<{ details: { existingSubjectId: number } }>().details.existingSubjectId).toBe(
      subjectId,
    );
    const people = (
      await runAsOwner<{ n: number }>(
        database.ownerUrl,
        'select count(*)::int as n from people where tenant_id = $1 and subject_id = $2',
        [voiceking.tenantId, subjectId],
      )
    ).rows[0]?.n;
    expect(people).toBe(1);
    expect(await officerSearch(email)).toEqual([subjectId]);
    const session = await signInByMailedLink(testApp, voiceking, email, 2);
    const page = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-consents?lang=nl`,
      headers: { cookie: session.cookie },
    });
    expect(page.body).toContain('u gaf toestemming');
    expect(await stateOf(voiceking, subjectId, 'newsletter_opt_in')).toBe('consented');
  });

  it('VK-7, VK-24: a subscriber who withdrew and gave another consent in the portal is still the one subject after sales record the address; a person of another type is made apart (0953 amended)', async () => {
    const email = 'nieuw.lid@example.be';
    const subjectId = await subscribe(voiceking, email);
    const session = await signInByMailedLink(testApp, voiceking, email, 2);
    expect((await portalChoice(voiceking, session, 'newsletter_opt_in', 'withdrawn')).statusCode).toBe(303);
    expect((await portalChoice(voiceking, session, 'interest_profiles', 'given')).statusCode).toBe(303);
    const created = await newProspect(email);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json<{ subjectId: number }>().subjectId).toBe(subjectId);
    expect(await officerSearch(email)).toEqual([subjectId]);
    const later = await signInByMailedLink(testApp, voiceking, email, 3);
    const page = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-consents?lang=nl`,
      headers: { cookie: later.cookie },
    });
    expect(page.body).toContain('u trok uw toestemming in');
    expect(page.body).toContain('u gaf toestemming');
    expect(await stateOf(voiceking, subjectId, 'interest_profiles')).toBe('consented');

    // HR records an applicant with the same address: another role of the person, another subject.
    const hr = await loginAs(app, kernel, voiceking, 'hr');
    const applicant = await app.inject({
      method: 'POST',
      url: '/api/v1/people',
      headers: staff(hr, 'recruitment'),
      payload: {
        subjectType: 'job_applicant',
        familyName: 'Lid',
        givenName: 'Nieuw',
        email,
        source: 'data_subject',
      },
    });
    expect(applicant.statusCode, applicant.body).toBe(201);
    expect(applicant.json<{ subjectId: number }>().subjectId).not.toBe(subjectId);
  });
});

describe('the confirmation link opens a page that says what pressing it would do (attack S21-B-5)', () => {
  const open = (path: string) => app.inject({ method: 'GET', url: path });

  it('VK-17, VK-18: the GET of a waiting link offers the button and confirms nothing; of a confirmed link says confirmed; after a withdrawal says used (410); of a superseded or unknown link says unknown (404); none offers the button', async () => {
    const email = 'bel.drie.nieuw@example.be';
    expect((await publicSignup(voiceking, email)).statusCode).toBe(202);
    const superseded = confirmPathOf(await testApp.smtp.waitFor(email, 1));
    expect((await publicSignup(voiceking, email)).statusCode).toBe(202);
    const link = confirmPathOf(await testApp.smtp.waitFor(email, 2));

    const waiting = await open(link);
    expect(waiting.statusCode).toBe(200);
    expect(waiting.body).toContain('Ja, ik schrijf me in');
    expect((await open(link)).statusCode).toBe(200);
    const [subjectId] = (
      await runAsOwner<{ subject_id: number }>(
        database.ownerUrl,
        `select subject_id from consent_records where tenant_id = $1 and purpose = 'newsletter_opt_in'
          order by record_id desc limit 1`,
        [voiceking.tenantId],
      )
    ).rows.map((row) => row.subject_id);
    expect(await stateOf(voiceking, subjectId ?? -1, 'newsletter_opt_in')).toBe('pending');

    const old = await open(superseded);
    expect(old.statusCode).toBe(404);
    expect(old.body).toContain('Onbekende of verlopen link');
    expect(old.body).not.toContain('Ja, ik schrijf me in');
    const unknown = await open(`/t/${voiceking.slug}/newsletter/confirm/${'x'.repeat(43)}`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).not.toContain('Ja, ik schrijf me in');

    expect((await confirm(link)).statusCode).toBe(200);
    const done = await open(link);
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('Inschrijving bevestigd');
    expect(done.body).not.toContain('Ja, ik schrijf me in');

    const session = await signInByMailedLink(testApp, voiceking, email, 3);
    expect((await portalChoice(voiceking, session, 'newsletter_opt_in', 'withdrawn')).statusCode).toBe(303);
    const used = await open(link);
    expect(used.statusCode).toBe(410);
    expect(used.body).toContain('Link al gebruikt');
    expect(used.body).not.toContain('Ja, ik schrijf me in');
    expect((await confirm(link)).statusCode).toBe(410);
    expect(await stateOf(voiceking, subjectId ?? -1, 'newsletter_opt_in')).toBe('withdrawn');
  });
});

describe('the portal says the dossier went with the objection (VX-4, VX-15)', () => {
  it('VX-4, VX-15: after a Voxtra customer objects to the technical dossier in the portal, "Mijn toestemmingen" says it was erased, in nl, fr and en', async () => {
    const email = 'dossier.bezwaar@voxtra-klant.example';
    await createPerson(
      kernel,
      {
        tenantId: voxtra.tenantId,
        actor: { kind: 'system', job: 'test' },
        purpose: 'customer_administration',
      },
      { subjectType: 'customer', familyName: 'Bezwaar', givenName: 'Dirk', email },
    );
    const session = await signInByMailedLink(testApp, voxtra, email);
    const before = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/my-consents?lang=nl`,
      headers: { cookie: session.cookie },
    });
    expect(before.body).not.toContain('technisch dossier gewist');
    expect((await portalChoice(voxtra, session, 'technical_dossier', 'objected')).statusCode).toBe(303);
    const words = {
      nl: 'Met uw bezwaar hebben wij uw technisch dossier gewist',
      fr: 'nous avons effacé votre dossier technique',
      en: 'With your objection we erased your technical dossier',
    };
    for (const [lang, text] of Object.entries(words)) {
      const page = await app.inject({
        method: 'GET',
        url: `/t/${voxtra.slug}/account/my-consents?lang=${lang}`,
        headers: { cookie: session.cookie },
      });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(text);
    }
  });
});

describe('staff record the address of a sign-up still waiting for its click (attack S23-4)', () => {
  const staff = (session: StaffSession, purpose: string) => ({
    cookie: session.cookie,
    'x-csrf-token': session.csrfToken,
    'x-kluis-purpose': purpose,
  });
  const sessions = new Map<Tenant, StaffSession>();
  beforeAll(async () => {
    sessions.set(voiceking, await loginAs(app, kernel, voiceking, 'sales'));
    sessions.set(voxtra, await loginAs(app, kernel, voxtra, 'sales'));
  });
  /** Sales record a prospect: VoiceKing under answering_questions, Voxtra under quotes (as in S23-4). */
  const newProspect = (tenant: Tenant, email: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/people',
      headers: staff(
        sessions.get(tenant) as StaffSession,
        tenant === voiceking ? 'answering_questions' : 'quotes',
      ),
      payload: {
        subjectType: 'prospect',
        familyName: 'Wacht',
        givenName: 'Nog',
        email,
        source: 'data_subject',
      },
    });
  const waitingSubjectOf = async (tenant: Tenant): Promise<number> =>
    (
      await runAsOwner<{ subject_id: number }>(
        database.ownerUrl,
        `select subject_id from newsletter_signups
          where tenant_id = $1 and confirmed_at is null order by signup_id desc limit 1`,
        [tenant.tenantId],
      )
    ).rows[0]?.subject_id ?? -1;
  const peopleWith = async (tenant: Tenant, subjectId: number): Promise<number> =>
    (
      await runAsOwner<{ n: number }>(
        database.ownerUrl,
        'select count(*)::int as n from people where tenant_id = $1 and subject_id = $2',
        [tenant.tenantId, subjectId],
      )
    ).rows[0]?.n ?? 0;
  const myConsents = async (tenant: Tenant, email: string, nth: number): Promise<string> => {
    // Every link of this file is asked from one test client: its per-network count is not the subject here.
    await runAsOwner(
      database.ownerUrl,
      "delete from throttle_counters where tenant_id = $1 and bucket = 'portal-link.address'",
      [tenant.tenantId],
    );
    const session = await signInByMailedLink(testApp, tenant, email, nth);
    const page = await app.inject({
      method: 'GET',
      url: `/t/${tenant.slug}/account/my-consents?lang=nl`,
      headers: { cookie: session.cookie },
    });
    expect(page.statusCode).toBe(200);
    return page.body;
  };

  for (const [name, purpose, address] of [
    ['voiceking', 'newsletter_opt_in', 's23.sub2@mail.example'],
    ['voxtra', 'news_opt_in', 's23.vx1@mail.example'],
  ] as const) {
    it(`VK-7, VK-17, VK-26, VX-9 (${name}): form, then sales record the prospect before the click, then the click: one subject holds the record and the consent, and the portal shows the consent`, async () => {
      const tenant = name === 'voiceking' ? voiceking : voxtra;
      expect((await publicSignup(tenant, address)).statusCode).toBe(202);
      const waiting = await waitingSubjectOf(tenant);
      const created = await newProspect(tenant, address.toUpperCase());
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json<{ subjectId: number }>().subjectId).toBe(waiting);
      expect(await stateOf(tenant, waiting, purpose)).toBe('pending');

      const clicked = await confirm(confirmPathOf(await testApp.smtp.waitFor(address, 1)));
      expect(clicked.statusCode, clicked.body).toBe(200);
      expect(await subscribersOf(tenant, address)).toEqual([waiting]);
      expect(await stateOf(tenant, waiting, purpose)).toBe('consented');
      expect(await peopleWith(tenant, waiting)).toBe(1);
      // 1020 still holds: the subscriber on record now is refused like any person.
      const again = await newProspect(tenant, address);
      expect(again.statusCode).toBe(409);
      expect(again.json<{ details: { existingSubjectId: number } }>().details.existingSubjectId).toBe(
        waiting,
      );

      const page = await myConsents(tenant, address, 2);
      expect(page).toContain('u gaf toestemming');
    });
  }

  it('VK-7, VK-17: five sales POSTs at once for a waiting subscriber (two in capitals): one 201 on the subscriber, four 409 naming it; the click then confirms that one subject', async () => {
    const email = 'vijf.wachten@mail.example';
    expect((await publicSignup(voiceking, email)).statusCode).toBe(202);
    const waiting = await waitingSubjectOf(voiceking);
    const answers = await Promise.all(
      [email, email.toUpperCase(), email, ` ${email.toUpperCase()}`, email].map((typed) =>
        newProspect(voiceking, typed),
      ),
    );
    const codes = answers.map((answer) => answer.statusCode).sort();
    expect(codes).toEqual([201, 409, 409, 409, 409]);
    for (const answer of answers) {
      if (answer.statusCode === 201) expect(answer.json<{ subjectId: number }>().subjectId).toBe(waiting);
      else {
        expect(answer.json<{ code: string }>().code).toBe('duplicate_person');
        expect(answer.json<{ details: { existingSubjectId: number } }>().details.existingSubjectId).toBe(
          waiting,
        );
      }
    }
    expect(await peopleWith(voiceking, waiting)).toBe(1);
    expect((await confirm(confirmPathOf(await testApp.smtp.waitFor(email, 1)))).statusCode).toBe(200);
    expect(await subscribersOf(voiceking, email)).toEqual([waiting]);
  });

  it('VK-17: the form and the sales POST at the same moment make one subject (the form waits for the record or the record for the form)', async () => {
    const email = 'tegelijk@mail.example';
    const [form, created] = await Promise.all([
      publicSignup(voiceking, email),
      newProspect(voiceking, email),
    ]);
    expect(form.statusCode).toBe(202);
    expect(created.statusCode, created.body).toBe(201);
    const subjectId = created.json<{ subjectId: number }>().subjectId;
    const mail = await testApp.smtp.waitFor(email, 1);
    expect((await confirm(confirmPathOf(mail))).statusCode).toBe(200);
    expect(await subscribersOf(voiceking, email)).toEqual([subjectId]);
    expect(await stateOf(voiceking, subjectId, 'newsletter_opt_in')).toBe('consented');
  });

  for (const [name, purpose, address] of [
    ['voiceking', 'newsletter_opt_in', 'eerst.verkoop@mail.example'],
    ['voxtra', 'news_opt_in', 'vente.dabord@mail.example'],
  ] as const) {
    it(`VK-7, VK-17, VK-26, VX-9 (${name}): sales record the prospect first, then the public form: the prospect on record is asked, the click records the consent on that one subject, and the portal shows it`, async () => {
      const tenant = name === 'voiceking' ? voiceking : voxtra;
      const subjects = async (): Promise<number> =>
        (
          await runAsOwner<{ n: number }>(
            database.ownerUrl,
            'select count(*)::int as n from data_subjects where tenant_id = $1',
            [tenant.tenantId],
          )
        ).rows[0]?.n ?? 0;
      const created = await newProspect(tenant, address);
      expect(created.statusCode, created.body).toBe(201);
      const personId = created.json<{ subjectId: number }>().subjectId;
      const before = await subjects();
      expect((await publicSignup(tenant, address.toUpperCase())).statusCode).toBe(202);
      expect(await subjects()).toBe(before);
      expect(await stateOf(tenant, personId, purpose)).toBe('pending');
      const clicked = await confirm(confirmPathOf(await testApp.smtp.waitFor(address, 1)));
      expect(clicked.statusCode, clicked.body).toBe(200);
      expect(await subscribersOf(tenant, address)).toEqual([personId]);
      expect(await stateOf(tenant, personId, purpose)).toBe('consented');
      expect(await ledgerOf(tenant, personId, purpose)).toEqual([
        'signed_up/web_form',
        'given/double_opt_in',
      ]);
      // Subscribed now: the form again records and mails nothing.
      expect((await publicSignup(tenant, address)).statusCode).toBe(202);
      expect(await myConsents(tenant, address, 2)).toContain('u gaf toestemming');
      expect(testApp.smtp.to(address)).toHaveLength(2);
    });
  }

  it('VK-17, VK-20: the public form for a prospect on record who objected to direct marketing answers as for anyone (202), records and mails nothing, and makes no second subject', async () => {
    const email = 'bezwaar.verkoop@mail.example';
    const created = await newProspect(voiceking, email);
    expect(created.statusCode, created.body).toBe(201);
    const personId = created.json<{ subjectId: number }>().subjectId;
    await runAsOwner(
      database.ownerUrl,
      'update data_subjects set marketing_objected_at = now() where tenant_id = $1 and subject_id = $2',
      [voiceking.tenantId, personId],
    );
    const count = async (): Promise<number> =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from data_subjects where tenant_id = $1',
          [voiceking.tenantId],
        )
      ).rows[0]?.n ?? 0;
    const before = await count();
    const answer = await publicSignup(voiceking, email);
    expect(answer.statusCode, answer.body).toBe(202);
    expect(await count()).toBe(before);
    expect(await ledgerOf(voiceking, personId, 'newsletter_opt_in')).toEqual([]);
    expect(testApp.smtp.to(email)).toHaveLength(0);
  });

  it('VK-17, VK-7: the form for a prospect on record, never clicked: the expiry drops the sign-up and keeps the person', async () => {
    const email = 'eerst.verkoop.nooit@mail.example';
    const created = await newProspect(voiceking, email);
    const personId = created.json<{ subjectId: number }>().subjectId;
    expect((await publicSignup(voiceking, email)).statusCode).toBe(202);
    await testApp.smtp.waitFor(email, 1);
    await expireSignupsOf(voiceking, personId);
    expect(await isErased(voiceking, personId)).toBe(false);
    expect(await peopleWith(voiceking, personId)).toBe(1);
  });

  it('VK-17, VK-7: a waiting sign-up that is never clicked, after sales recorded the address: its expiry drops only the sign-up; the person and their record stay', async () => {
    const email = 'nooit.geklikt@mail.example';
    expect((await publicSignup(voiceking, email)).statusCode).toBe(202);
    const waiting = await waitingSubjectOf(voiceking);
    expect((await newProspect(voiceking, email)).statusCode).toBe(201);
    await expireSignupsOf(voiceking, waiting);
    expect(await isErased(voiceking, waiting)).toBe(false);
    expect(await peopleWith(voiceking, waiting)).toBe(1);
    const left = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from newsletter_signups where tenant_id = $1 and subject_id = $2',
      [voiceking.tenantId, waiting],
    );
    expect(left.rows[0]?.n).toBe(0);
    expect((await confirm(confirmPathOf(await testApp.smtp.waitFor(email, 1)))).statusCode).toBe(404);
  });
});
