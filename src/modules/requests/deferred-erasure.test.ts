import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, testLogger } from '../../../test/database.js';
import { loginAs, requestAs } from '../../../test/http.js';
import { fixedClock } from '../../../test/kernel.js';
import { openLinkPage } from '../../../test/link-button.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { deferredErasuresJob } from '../../jobs/deferred-erasures.job.js';
import {
  billingContext,
  prepareTenant,
  SYSTEM,
  startContract,
  type Catalogue,
} from '../billing/billing.test-helpers.js';
import { runInvoices } from '../billing/index.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

/**
 * Promises review S24 N2 (decision 1210): an erasure asked for while a contract runs is answered
 * within the month with the date, and the daily job carries it out the day after the relation's
 * last day — what the law keeps (invoices) stays — once, whatever runs beside it.
 */
const PUBLIC = 'https://portal.voiceking.example';
const clock = fixedClock(new Date('2026-01-15T10:00:00Z'));
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC, clock });
}, 120_000);
afterAll(async () => {
  await testApp?.close();
});

/** The job as the server registers it (the app's mailer and data map). */
const runJob = () =>
  deferredErasuresJob(
    {
      kernel: testApp.kernel,
      mailer: testApp.smtp.mailer,
      dataMap: DATA_MAP,
      publicUrl: PUBLIC,
      logger: testLogger,
    },
    testLogger,
  ).run();

const contractPurposeOf = (tenant: Tenant): string =>
  tenant.slug.startsWith('voxtra') ? 'customer_administration' : 'order_processing';

const catalogues = new Map<number, Catalogue>();

/** A customer with a contract from 1 January and, unless told otherwise, January's invoice. */
async function customerWithInvoice(
  tenant: Tenant,
  email: string,
  contract: { endDate?: string },
  invoice = true,
) {
  const { kernel } = testApp;
  const catalogue = catalogues.get(tenant.tenantId) ?? (await prepareTenant(kernel, tenant));
  catalogues.set(tenant.tenantId, catalogue);
  const person = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose: contractPurposeOf(tenant) },
    {
      subjectType: 'customer',
      familyName: 'Wouters',
      givenName: 'Lien',
      email,
      ...(tenant.slug.startsWith('voxtra') ? {} : { preferredLanguage: 'nl' }),
      address: { street: 'Kerkstraat 9', postalCode: '9000', city: 'Gent', country: 'BE' },
    },
  );
  const contractId = await startContract(kernel, tenant, person.subjectId, {
    startDate: '2026-01-01',
    ...contract,
    lines: [{ productId: catalogue.subscription }],
  });
  if (!invoice) return { subjectId: person.subjectId, contractId, catalogue };
  clock.set(new Date('2026-02-03T10:00:00Z'));
  await runInvoices(kernel, billingContext(tenant), { callsPurpose: 'call_billing', period: '2026-01' });
  return { subjectId: person.subjectId, contractId, catalogue };
}

/**
 * A voiceking customer whose contract ends on 15 March (no invoice), seen on 4 February by a
 * privacy officer: `register` files a request of theirs (by letter, in Dutch, identity seen)
 * under the rights purpose and answers its id.
 */
async function customerBeforeLastDay(email: string) {
  const { app, kernel, voiceking } = testApp;
  clock.set(new Date('2026-01-15T10:00:00Z'));
  const { subjectId } = await customerWithInvoice(voiceking, email, { endDate: '2026-03-15' }, false);
  clock.set(new Date('2026-02-04T10:00:00Z'));
  const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
  const asOfficer = requestAs(app, officer, 'rights_requests');
  const register = async (kind: 'erasure' | 'access' = 'erasure') => {
    const registered = await asOfficer('POST', '/api/v1/requests', {
      kind,
      channel: 'letter',
      subjectId,
      language: 'nl',
      verificationMethod: 'id_card_seen',
    });
    expect(registered.statusCode, registered.body).toBe(201);
    return registered.json<{ requestId: string }>().requestId;
  };
  return { subjectId, asOfficer, register };
}

async function stateOf(tenant: Tenant, subjectId: number) {
  const result = await runAsOwner<{
    person: boolean;
    erased: boolean;
    invoices: number;
    deferred: Array<{ last_day: string | null }> | null;
  }>(
    testApp.database.ownerUrl,
    `select exists (select 1 from people where tenant_id = $1 and subject_id = $2) as person,
            (select erased_at is not null from data_subjects where tenant_id = $1 and subject_id = $2) as erased,
            (select count(*)::int from invoices where tenant_id = $1 and subject_id = $2) as invoices,
            (select json_agg(json_build_object('last_day', last_day::text)) from deferred_erasures
              where tenant_id = $1 and subject_id = $2) as deferred`,
    [tenant.tenantId, subjectId],
  );
  const row = result.rows[0];
  if (!row) throw new Error('no such person');
  return row;
}

async function erasureRequestOf(tenant: Tenant, subjectId: number) {
  const result = await runAsOwner<{ request_id: string; state: string; outcome: Record<string, unknown> }>(
    testApp.database.ownerUrl,
    `select request_id::text, state, outcome from rights_requests
      where tenant_id = $1 and subject_id = $2 and kind = 'erasure' order by received_at`,
    [tenant.tenantId, subjectId],
  );
  return result.rows;
}

/** The job's erasures of a person, as audited (a run that found them erased names no one). */
async function erasureAudits(tenant: Tenant) {
  const result = await runAsOwner<{ actor_id: string; reason: string | null }>(
    testApp.database.ownerUrl,
    `select actor_id, reason from audit_log where tenant_id = $1 and action = 'erase'
      and actor_id = 'deferred-erasures' and decision = 'allowed' and cardinality(subject_pseudonyms) > 0
      order by seq`,
    [tenant.tenantId],
  );
  return result.rows;
}

describe('an erasure asked for while a contract runs is carried out after its last day (decision 1210)', () => {
  it('VK-23: "erase my account" with a running contract without an end date is recorded and the person told in their language, on the page and by mail, that it runs the day after the last day; terminated, they are told the date; the job erases nothing before that day and, the day after, erases the person once (invoices kept, the contract ended of no one, the erasure letter, audited) however often it runs', async () => {
    const { app, kernel, smtp, voiceking } = testApp;
    clock.set(new Date('2026-01-15T10:00:00Z'));
    const email = 'lien.wouters.vk@mail.example';
    const { subjectId, contractId } = await customerWithInvoice(voiceking, email, {});
    expect((await stateOf(voiceking, subjectId)).invoices).toBe(1);

    clock.set(new Date('2026-02-10T10:00:00Z'));
    const session = await signInByMailedLink(testApp, voiceking, email);
    const erasePage = (lang: string) =>
      app.inject({
        method: 'GET',
        url: `/t/${voiceking.slug}/account/erase?lang=${lang}`,
        headers: { cookie: session.cookie },
      });
    const before = await erasePage('nl');
    expect(before.statusCode).toBe(200);
    expect(before.body).toContain('U hebt bij ons een contract dat nog loopt (zonder einddatum)');
    expect(before.body).toContain('de dag na de laatste dag van uw contract (zodra het beëindigd is');
    expect(before.body).toContain('name="confirm"');
    expect((await erasePage('en')).body).toContain(
      'we record it now and erase your data on the day after your contract',
    );
    expect((await erasePage('fr')).body).toContain('le lendemain du dernier jour de votre contrat');

    const posted = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/erase`,
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `csrf=${encodeURIComponent(session.csrf)}&confirm=yes&lang=nl`,
    });
    expect(posted.statusCode, posted.body).toBe(303);
    expect(posted.headers.location).toContain('/account/erase');
    const recorded = await erasePage('nl');
    expect(recorded.body).toContain('Uw vraag om uw account te wissen is genoteerd');
    expect(recorded.body).toContain('Uw contract heeft geen einddatum');
    expect(recorded.body).not.toContain('name="confirm"');
    expect(await stateOf(voiceking, subjectId)).toMatchObject({
      person: true,
      erased: false,
      deferred: [{ last_day: null }],
    });
    const [request] = await erasureRequestOf(voiceking, subjectId);
    expect(request).toMatchObject({ state: 'fulfilled', outcome: { erasureDeferred: { lastDay: null } } });
    const answer = await smtp.waitFor(email, 2);
    expect(answer.text).toContain('U vroeg ons uw gegevens te wissen.');
    expect(answer.text).toContain('Uw contract heeft geen einddatum.');
    // A second post files nothing more.
    await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/erase`,
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `csrf=${encodeURIComponent(session.csrf)}&confirm=yes`,
    });
    expect(await erasureRequestOf(voiceking, subjectId)).toHaveLength(1);

    await runJob();
    expect(await stateOf(voiceking, subjectId)).toMatchObject({ person: true, erased: false });

    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const terminated = await requestAs(app, sales, 'order_processing')(
      'POST',
      `/api/v1/contracts/${contractId}/terminate`,
      { terminatedOn: '2026-03-31', channel: 'portal', reasonCode: 'customer_leaves' },
    );
    expect(terminated.statusCode, terminated.body).toBe(200);
    await runJob();
    await runJob();
    const told = await smtp.waitFor(email, 3);
    expect(told.text).toContain('de laatste dag van uw contracten bij ons veranderd');
    expect(told.text).toContain('(31 maart 2026), dus op 1 april 2026');
    expect((await stateOf(voiceking, subjectId)).deferred).toEqual([{ last_day: '2026-03-31' }]);
    expect((await erasePage('nl')).body).toContain('Wij wissen uw gegevens op 1 april 2026');
    const myRequests = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-requests?lang=en`,
      headers: { cookie: session.cookie },
    });
    expect(myRequests.body).toContain('answered: we erase your data on');
    expect(myRequests.body).not.toContain('carried out');

    // The last day itself, late in the evening in Brussels: nothing erased yet.
    clock.set(new Date('2026-03-31T21:30:00Z'));
    await runJob();
    expect(await stateOf(voiceking, subjectId)).toMatchObject({ person: true, erased: false });
    expect(await erasureAudits(voiceking)).toEqual([]);

    // The day after: three runs, two at the same moment, erase once and send one letter.
    clock.set(new Date('2026-04-01T01:15:00Z'));
    await Promise.all([runJob(), runJob()]);
    await runJob();
    expect(await stateOf(voiceking, subjectId)).toEqual({
      person: false,
      erased: true,
      invoices: 1,
      deferred: null,
    });
    const contract = await runAsOwner<{ subject_id: number | null; end_date: string }>(
      testApp.database.ownerUrl,
      'select subject_id, end_date::text from contracts where tenant_id = $1 and contract_id = $2',
      [voiceking.tenantId, contractId],
    );
    expect(contract.rows).toEqual([{ subject_id: null, end_date: '2026-03-31' }]);
    const [done] = await erasureRequestOf(voiceking, subjectId);
    expect(done?.state).toBe('fulfilled');
    expect(done?.outcome).toMatchObject({ erasureDeferred: { lastDay: null }, erasedOn: '2026-04-01' });
    expect(JSON.stringify(done?.outcome.kept)).toContain('invoices');
    const letter = await smtp.waitFor(email, 4);
    expect(letter.text).toContain('We hebben uw verzoek uitgevoerd.');
    expect(letter.text).toContain('Wat we nog moeten bewaren, waarom en tot wanneer:');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.to(email)).toHaveLength(4);
    expect(await erasureAudits(voiceking)).toHaveLength(1);
  });

  it('VK-23: the erase page and the mailed answer of an erasure waiting for the contract’s end say its last day and the erasure day in words of the person’s language, in Dutch (15 maart 2026, 16 maart 2026) and French (15 mars 2026, 16 mars 2026), never as ISO days; the waiting erasure keeps the ISO day', async () => {
    const { app, smtp, voiceking } = testApp;
    const expected = {
      nl: {
        before: [
          'contract dat nog loopt (tot 15 maart 2026)',
          'laatste dag van uw contract (op 16 maart 2026)',
        ],
        after:
          'Wij wissen uw gegevens op 16 maart 2026, de dag na de laatste dag van uw contract (15 maart 2026).',
        mail: 'laatste dag van uw contract (15 maart 2026), dus op 16 maart 2026.',
      },
      fr: {
        before: [
          'contrat toujours en cours (jusqu’au 15 mars 2026)',
          'dernier jour de votre contrat (le 16 mars 2026)',
        ],
        after:
          'Nous effaçons vos données le 16 mars 2026, le lendemain du dernier jour de votre contrat (15 mars 2026).',
        mail: 'dernier jour de votre contrat (15 mars 2026), donc le 16 mars 2026.',
      },
    } as const;
    for (const lang of ['nl', 'fr'] as const) {
      clock.set(new Date('2026-01-15T10:00:00Z'));
      const email = `lien.dagen.${lang}@mail.example`;
      const { subjectId } = await customerWithInvoice(voiceking, email, { endDate: '2026-03-15' }, false);
      clock.set(new Date('2026-02-04T10:00:00Z'));
      const session = await signInByMailedLink(testApp, voiceking, email);
      const erasePage = () =>
        app.inject({
          method: 'GET',
          url: `/t/${voiceking.slug}/account/erase?lang=${lang}`,
          headers: { cookie: session.cookie },
        });
      const before = (await erasePage()).body;
      for (const words of expected[lang].before) expect(before).toContain(words);
      const posted = await app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/account/erase?lang=${lang}`,
        headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `csrf=${encodeURIComponent(session.csrf)}&confirm=yes`,
      });
      expect(posted.statusCode, posted.body).toBe(303);
      const after = (await erasePage()).body;
      expect(after).toContain(expected[lang].after);
      const answer = (await smtp.waitFor(email, 2)).text ?? '';
      expect(answer).toContain(expected[lang].mail);
      for (const text of [before, after, answer]) expect(text).not.toMatch(/2026-03-1[56]/);
      expect((await stateOf(voiceking, subjectId)).deferred).toEqual([{ last_day: '2026-03-15' }]);
    }
  });

  it('VX-13: a staff DELETE of a customer whose contract runs still answers 409 erasure_contract_running, but the fulfilment of their verified erasure request answers with the date (the day after the contract’s last day) and closes the request; a new contract before that day moves the date to its end and the person is told; the job erases nothing while it runs and erases the person the day after', async () => {
    const { app, kernel, smtp, voxtra } = testApp;
    clock.set(new Date('2026-01-15T10:00:00Z'));
    const email = 'lien.wouters.vx@mail.example';
    const { subjectId, catalogue } = await customerWithInvoice(voxtra, email, { endDate: '2026-03-15' });

    clock.set(new Date('2026-02-04T10:00:00Z'));
    const officer = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const asOfficer = requestAs(app, officer, 'rights_requests');
    const deleted = await asOfficer('DELETE', `/api/v1/people/${subjectId}`, {});
    expect(deleted.statusCode, deleted.body).toBe(409);
    expect(deleted.json()).toMatchObject({ code: 'erasure_contract_running' });

    const registered = await asOfficer('POST', '/api/v1/requests', {
      kind: 'erasure',
      channel: 'letter',
      subjectId,
      language: 'en',
      verificationMethod: 'id_card_seen',
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const { requestId, dueOn } = registered.json<{ requestId: string; dueOn: string }>();
    const fulfilled = await asOfficer('POST', `/api/v1/requests/${requestId}/fulfil`, {});
    expect(fulfilled.statusCode, fulfilled.body).toBe(200);
    expect(fulfilled.json()).toEqual({ outcome: { erasureDeferred: { lastDay: '2026-03-15' } } });
    expect(dueOn > '2026-02-04').toBe(true);
    const [request] = await erasureRequestOf(voxtra, subjectId);
    expect(request?.state).toBe('fulfilled');
    const answer = await smtp.waitFor(email, 1);
    expect(answer.text).toContain(
      "We erase your data on the day after your contract's last day (15 March 2026), that is on 16 March 2026.",
    );
    // Answered: a second fulfilment is refused and changes nothing.
    expect((await asOfficer('POST', `/api/v1/requests/${requestId}/fulfil`, {})).statusCode).toBe(409);

    // A new contract before that day: the erasure waits for its end too, and the person is told.
    const sales = await loginAs(app, kernel, voxtra, 'sales');
    const second = await requestAs(app, sales, 'customer_administration')('POST', '/api/v1/contracts', {
      subjectId,
      startDate: '2026-03-01',
      endDate: '2026-04-30',
      lines: [{ productId: catalogue.subscription }],
    });
    expect(second.statusCode, second.body).toBe(201);
    await runJob();
    const moved = await smtp.waitFor(email, 2);
    expect(moved.text).toContain('the last day of your contracts with us has changed');
    expect(moved.text).toContain('(30 April 2026), that is on 1 May 2026');

    clock.set(new Date('2026-03-16T08:00:00Z'));
    await runJob();
    expect(await stateOf(voxtra, subjectId)).toMatchObject({ person: true, erased: false });

    clock.set(new Date('2026-05-01T06:00:00Z'));
    await runJob();
    await runJob();
    expect(await stateOf(voxtra, subjectId)).toEqual({
      person: false,
      erased: true,
      invoices: 1,
      deferred: null,
    });
    const letter = await smtp.waitFor(email, 3);
    expect(letter.text).toContain('We have carried out your request.');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.to(email)).toHaveLength(3);
    expect(await erasureAudits(voxtra)).toHaveLength(1);
  });
  it('VK-23, VK-14: a deferred erasure still waits, after the contract’s last day, for a legal hold an officer placed and for the person’s own access request (until its download is taken); then the job erases the person', async () => {
    const { app, kernel, smtp, voiceking } = testApp;
    const email = 'lien.wacht.vk@mail.example';
    const { subjectId, asOfficer, register } = await customerBeforeLastDay(email);
    const erasure = await register('erasure');
    const answered = await asOfficer('POST', `/api/v1/requests/${erasure}/fulfil`, {});
    expect(answered.json()).toEqual({ outcome: { erasureDeferred: { lastDay: '2026-03-15' } } });
    expect((await smtp.waitFor(email, 1)).text).toContain('(15 maart 2026), dus op 16 maart 2026');
    const placed = await asOfficer('POST', '/api/v1/retention/holds', {
      subjectId,
      reason: 'Geschil: dagvaarding Rechtbank Gent',
      endsOn: '2027-06-30',
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const holdId = placed.json<{ holdId: number }>().holdId;

    clock.set(new Date('2026-03-16T08:00:00Z'));
    const officerLater = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const asOfficerLater = requestAs(app, officerLater, 'rights_requests');
    await runJob();
    expect(await stateOf(voiceking, subjectId)).toMatchObject({ person: true, erased: false });
    const released = await asOfficerLater('POST', `/api/v1/retention/holds/${holdId}/release`);
    expect(released.statusCode, released.body).toBe(204);

    // The person asks for their data first: the erasure waits until they have it.
    const registered = await asOfficerLater('POST', '/api/v1/requests', {
      kind: 'access',
      channel: 'letter',
      subjectId,
      language: 'nl',
      verificationMethod: 'id_card_seen',
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const access = registered.json<{ requestId: string }>().requestId;
    await runJob();
    expect(await stateOf(voiceking, subjectId)).toMatchObject({ person: true, erased: false });
    const given = await asOfficerLater('POST', `/api/v1/requests/${access}/fulfil`, {});
    expect(given.statusCode, given.body).toBe(200);
    await runJob();
    expect(await stateOf(voiceking, subjectId)).toMatchObject({ person: true, erased: false });
    const link = /(https?:\/\/\S+\/privacy\/downloads\/\S+)/.exec(
      (await smtp.waitFor(email, 2)).text ?? '',
    )?.[1];
    expect(link).toBeDefined();
    const { button } = await openLinkPage(app, new URL(link ?? '').pathname);
    if (!button) throw new Error('no button on the download page');
    const download = await app.inject({
      method: 'POST',
      url: button.action,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `kluis_form=${button.formCookie}`,
      },
      payload: new URLSearchParams(button.fields).toString(),
    });
    expect(download.statusCode, download.body.slice(0, 200)).toBe(200);
    // The server records a download as taken once its last byte is out, just after the answer ends.
    const taken = async () =>
      (
        await runAsOwner<{ taken: boolean }>(
          testApp.database.ownerUrl,
          `select bool_and(completed_at is not null) as taken from export_downloads
            where tenant_id = $1 and request_id = $2::uuid`,
          [voiceking.tenantId, access],
        )
      ).rows[0]?.taken;
    await expect.poll(taken).toBe(true);
    await runJob();
    expect(await stateOf(voiceking, subjectId)).toMatchObject({ person: false, erased: true });
  });
  it('VK-23: a second erasure request while one waits is answered with the waiting one’s day, without a second row or letter, even when both are fulfilled at once, and “my requests” shows both waiting; the job erases the person once and every request of theirs, a waiting row made before this fix too, says erased (attack S24-4)', async () => {
    const { app, smtp, voiceking } = testApp;
    const email = 'wout.tweemaal.vk@mail.example';
    const { subjectId, asOfficer, register } = await customerBeforeLastDay(email);
    const first = await register();
    const second = await register();
    const answers = await Promise.all(
      [first, second].map((id) => asOfficer('POST', `/api/v1/requests/${id}/fulfil`, {})),
    );
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
    const outcomes = answers.map(
      (answer) =>
        answer.json<{ outcome: { erasureDeferred: { lastDay: string | null; sameAs?: string } } }>().outcome
          .erasureDeferred,
    );
    const waitingOne = outcomes.findIndex((outcome) => outcome.sameAs === undefined);
    const waitingId = [first, second][waitingOne];
    expect(outcomes[waitingOne]).toEqual({ lastDay: '2026-03-15' });
    expect(outcomes[1 - waitingOne]).toEqual({ lastDay: '2026-03-15', sameAs: waitingId });
    expect((await stateOf(voiceking, subjectId)).deferred).toEqual([{ last_day: '2026-03-15' }]);
    expect((await smtp.waitFor(email, 1)).text).toContain('(15 maart 2026), dus op 16 maart 2026');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.to(email)).toHaveLength(1);
    // On "my requests" both say answered, with the day; neither says carried out.
    const session = await signInByMailedLink(testApp, voiceking, email, 2);
    const myRequests = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-requests?lang=en`,
      headers: { cookie: session.cookie },
    });
    expect(myRequests.body.split('answered: we erase your data on')).toHaveLength(3);
    expect(myRequests.body).not.toContain('carried out');

    // A waiting row made before this fix: a third request answered as the first was, with its own row.
    const third = await register();
    await runAsOwner(
      testApp.database.ownerUrl,
      `with answered as (
         update rights_requests set state = 'fulfilled', fulfilled_at = now(),
           outcome = '{"erasureDeferred":{"lastDay":"2026-03-15"}}'::jsonb
          where tenant_id = $1 and request_id = $3::uuid returning request_id)
       insert into deferred_erasures (tenant_id, request_id, subject_id, last_day, recorded_at)
       select $1, request_id, $2, '2026-03-15', now() from answered`,
      [voiceking.tenantId, subjectId, third],
    );

    clock.set(new Date('2026-03-16T08:00:00Z'));
    const auditedBefore = (await erasureAudits(voiceking)).length;
    await Promise.all([runJob(), runJob()]);
    await runJob();
    expect(await stateOf(voiceking, subjectId)).toMatchObject({
      person: false,
      erased: true,
      deferred: null,
    });
    const requests = await erasureRequestOf(voiceking, subjectId);
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      expect(request.state).toBe('fulfilled');
      expect(request.outcome).toMatchObject({
        erasedOn: '2026-03-16',
        erasureDeferred: { lastDay: '2026-03-15' },
      });
      expect(request.outcome['erased']).toEqual(
        expect.arrayContaining([expect.objectContaining({ table: 'people' })]),
      );
    }
    expect((await smtp.waitFor(email, 3)).text).toContain('We hebben uw verzoek uitgevoerd.');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.to(email)).toHaveLength(3);
    expect(await erasureAudits(voiceking)).toHaveLength(auditedBefore + 1);
  });

  it('VK-23: a staff erasure after the last day, before the job, completes the waiting request as the job would: both erasure requests of the person say erased on that day, the person gets the erasure letter once, the waiting row is gone, and neither the job nor a second erasure writes or sends anything more (decision 1251)', async () => {
    const { app, kernel, smtp, voiceking } = testApp;
    const email = 'jan.vooraf.vk@mail.example';
    const { subjectId, asOfficer, register } = await customerBeforeLastDay(email);
    const first = await register();
    expect((await asOfficer('POST', `/api/v1/requests/${first}/fulfil`, {})).json()).toEqual({
      outcome: { erasureDeferred: { lastDay: '2026-03-15' } },
    });
    const second = await register();
    expect((await asOfficer('POST', `/api/v1/requests/${second}/fulfil`, {})).json()).toEqual({
      outcome: { erasureDeferred: { lastDay: '2026-03-15', sameAs: first } },
    });
    expect((await smtp.waitFor(email, 1)).text).toContain('(15 maart 2026), dus op 16 maart 2026');

    // The day after the last day, before the job's run: staff erase the person themselves.
    clock.set(new Date('2026-03-16T00:30:00Z'));
    const later = requestAs(app, await loginAs(app, kernel, voiceking, 'privacy_officer'), 'rights_requests');
    const deleted = await later('DELETE', `/api/v1/people/${subjectId}`);
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(await stateOf(voiceking, subjectId)).toEqual({
      person: false,
      erased: true,
      invoices: 0,
      deferred: null,
    });
    const requests = await erasureRequestOf(voiceking, subjectId);
    expect(requests.map((request) => request.request_id)).toEqual([first, second]);
    for (const request of requests) {
      expect(request.state).toBe('fulfilled');
      expect(request.outcome).toMatchObject({ erasedOn: '2026-03-16' });
      expect(request.outcome['erased']).toEqual(
        expect.arrayContaining([expect.objectContaining({ table: 'people' })]),
      );
    }
    expect(requests[0]?.outcome).toMatchObject({ erasureDeferred: { lastDay: '2026-03-15' } });
    expect(requests[1]?.outcome).toMatchObject({ erasureDeferred: { sameAs: first } });
    const letter = await smtp.waitFor(email, 2);
    expect(letter.text).toContain('We hebben uw verzoek uitgevoerd.');
    expect(letter.text).toContain('Gewist:');
    const completed = await runAsOwner<{ actor_kind: string; n: number }>(
      testApp.database.ownerUrl,
      `select actor_kind, count(*)::int as n from audit_log
        where tenant_id = $1 and action = 'request.fulfil' and at = '2026-03-16T00:30:00Z'
        group by actor_kind`,
      [voiceking.tenantId],
    );
    expect(completed.rows).toEqual([{ actor_kind: 'staff', n: 1 }]);

    // The job, and a second erasure, find the person erased: nothing more is written or sent.
    const auditedBefore = (await erasureAudits(voiceking)).length;
    await runJob();
    const again = await later('DELETE', `/api/v1/people/${subjectId}`);
    expect(again.statusCode, again.body).toBe(200);
    expect(await erasureAudits(voiceking)).toHaveLength(auditedBefore);
    expect((await erasureRequestOf(voiceking, subjectId)).map((request) => request.outcome)).toEqual(
      requests.map((request) => request.outcome),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.to(email)).toHaveLength(2);
  });
});
