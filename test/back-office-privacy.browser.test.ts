/**
 * Issue #20, the privacy officer's and marketing's newer screens in a real Chromium: a mailing
 * composed in two languages, its audience seen and sent (the mail checked at the SMTP sink); an
 * authority's request registered, approved by a second officer (four eyes) and disclosed once
 * (the file downloaded); and the persons affected by a breach informed by letter (GDPR Art. 34).
 * The database is checked afterwards; each screen passes axe-core and is saved under
 * test-results/screenshots/back-office-privacy/.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '../src/kernel/kernel.js';
import { insertCalls, SYSTEM } from '../src/modules/billing/billing.test-helpers.js';
import { sendQueuedMailings, writeMailSettings } from '../src/modules/consent/index.js';
import { DATA_MAP } from '../src/modules/data-map.js';
import { createPerson } from '../src/modules/parties/index.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import type { Locator } from 'playwright-core';
import type { BrowserSuite, Page } from './browser.js';
import { runAsOwner, testLogger, type TestDatabase } from './database.js';
import { createPolicyTenant } from './kernel.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';
import {
  choosePurpose,
  closeBackOffice,
  expectNoPageProblems,
  goTo,
  look,
  staffSignedIn,
  startBackOffice,
  type BackOffice,
} from './staff-browser.js';

const PUBLIC_URL = 'https://privacy.voiceking.example';
let env: BackOffice;
let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
let browser: BrowserSuite;

beforeAll(async () => {
  smtp = await startSmtpSink();
  env = await startBackOffice('back-office-privacy', {
    app: (kernel) => {
      const consentDeps = {
        kernel,
        mailer: smtp.mailer,
        publicUrl: PUBLIC_URL,
        dataMap: DATA_MAP,
        logger: testLogger,
      };
      return {
        mailer: smtp.mailer,
        publicUrl: PUBLIC_URL,
        // The server's job queue sends a mailing when woken; here the sender runs in the request.
        wakeMailingSender: async () => {
          for (const tenant of await kernel.tenants.list())
            await sendQueuedMailings(consentDeps, { tenantId: tenant.tenantId });
        },
      };
    },
  });
  ({ database, kernel, browser } = env);
});
afterAll(async () => {
  await closeBackOffice(env);
  await smtp?.close();
});

let serial = 0;

/** A customer of VoiceKing with an e-mail address (or none) and a language. */
async function customer(
  tenant: Tenant,
  familyName: string,
  givenName: string,
  options: { email?: string; language?: 'nl' | 'fr' | 'en' } = {},
): Promise<number> {
  serial += 1;
  const person = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'order_processing' },
    {
      subjectType: 'customer',
      familyName,
      givenName,
      ...(options.email ? { email: options.email } : {}),
      ...(options.language ? { preferredLanguage: options.language } : {}),
      address: { street: `Kerkstraat ${serial}`, postalCode: '8500', city: 'Kortrijk', country: 'BE' },
    },
  );
  return person.subjectId;
}

describe('the privacy screens (issue #20)', () => {
  it('sales composes a mailing in Dutch and French, sees who it reaches and who is left out, and sends it', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    await writeMailSettings(kernel, tenant.tenantId, { fromAddress: 'nieuws@voiceking.be', dkim: null });
    await customer(tenant, 'Maes', 'Lotte', { email: 'lotte.maes@mail.example', language: 'nl' });
    await customer(tenant, 'Dubois', 'Camille', { email: 'camille.dubois@mail.example', language: 'fr' });
    await customer(tenant, 'Zonder', 'Adres');

    const { page } = await staffSignedIn(env, tenant, 'sales');
    await goTo(page, 'Mailings');
    await page.getByRole('heading', { name: 'Mailings', level: 1 }).waitFor();
    // Two newsletter purposes for sales: none is taken until one is picked, by label (decision 1280).
    await expect(page.getByTestId('purpose-picker').getAttribute('data-must-choose')).resolves.toBe('true');
    await choosePurpose(page, 'newsletter_customers');
    await expect(page.getByTestId('purpose-picker').getAttribute('data-purpose')).resolves.toBe(
      'newsletter_customers',
    );
    // Nothing written: refused in the browser, in words.
    await page.getByRole('button', { name: 'Save as draft' }).click();
    await page.getByText('Write a subject and a text in at least one language').first().waitFor();
    await page.getByRole('tab', { name: 'Nederlands' }).click();
    // The three languages are tabs: only the shown one is a tab panel to a screen reader.
    const panel = page.getByRole('tabpanel');
    await panel.getByLabel(/^Subject/).fill('Glasvezel in uw straat');
    await panel
      .getByLabel(/^Text/)
      .fill('Beste klant,\n\nVanaf januari: glasvezel. Lees meer: https://www.voiceking.example/glasvezel');
    await page.getByRole('tab', { name: 'Français' }).click();
    await panel.getByLabel(/^Subject/).fill('La fibre dans votre rue');
    await panel
      .getByLabel(/^Text/)
      .fill('Cher client,\n\nDès janvier : la fibre. En savoir plus : https://www.voiceking.example/fibre');
    await look(browser, page, 'mailings-1-compose');
    await page.getByRole('button', { name: 'Save as draft' }).click();

    await page.getByTestId('audience').waitFor();
    const mailingId = Number(/\/mailings\/(\d+)$/.exec(page.url())?.[1]);
    expect(mailingId).toBeGreaterThan(0);
    await expect(page.getByTestId('audience').innerText()).resolves.toMatch(
      /2 people[\s\S]*NL 1 · FR 1[\s\S]*no e-mail address: 1/,
    );
    await look(browser, page, 'mailings-2-audience');
    await page.getByRole('button', { name: 'Send to 2 people' }).click();
    await page.getByRole('button', { name: 'Yes, send it' }).click();
    await expect.poll(() => page.getByTestId('recipients-sent').innerText(), { timeout: 20_000 }).toBe('2');
    await look(browser, page, 'mailings-3-sent');

    const recipients = await runAsOwner<{ state: string; count: string }>(
      database.ownerUrl,
      `SELECT state, count(*)::text AS count FROM mailing_recipients
        WHERE tenant_id = $1 AND mailing_id = $2 GROUP BY state`,
      [tenant.tenantId, mailingId],
    );
    expect(recipients.rows).toEqual([{ state: 'sent', count: '2' }]);
    expect((await smtp.waitFor('lotte.maes@mail.example')).subject).toBe('Glasvezel in uw straat');
    expect((await smtp.waitFor('camille.dubois@mail.example')).subject).toBe('La fibre dans votre rue');
    expectNoPageProblems(env, page);
  }, 180_000);

  it("the recipients register names each recipient in the screen's language, not the statement's first one", async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const { page } = await staffSignedIn(env, tenant, 'privacy_officer');
    await goTo(page, 'Privacy registers');
    await page.getByRole('tab', { name: 'Recipients' }).click();
    const main = page.getByRole('main');
    await main.getByRole('cell', { name: 'e-mail marketing service provider', exact: true }).waitFor();
    // VoiceKing's statement is Dutch first: no Dutch name on the English screen.
    expect(await main.innerText()).not.toContain('dienstverlener');
    await look(browser, page, 'recipients-en');
    await page.getByRole('banner').getByText('FR', { exact: true }).click();
    await main.getByRole('cell', { name: "prestataire d'e-mail marketing", exact: true }).waitFor();
    expect(await main.innerText()).not.toContain('dienstverlener');
    await page.getByRole('banner').getByText('EN', { exact: true }).click();
    await main.getByRole('cell', { name: 'e-mail marketing service provider', exact: true }).waitFor();
    expectNoPageProblems(env, page);
  });

  it("a privacy officer registers an authority's request, a second one approves it, and it is disclosed once", async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const suspect = await customer(tenant, 'Verhaeghe', 'Tom', { email: 'tom.verhaeghe@mail.example' });
    await insertCalls(kernel, tenant, [
      {
        subjectId: suspect,
        startedAt: '2026-10-03T09:00:00Z',
        destination: '+32470111222',
        seconds: 60,
        costMicros: 1,
      },
      {
        subjectId: suspect,
        startedAt: '2026-10-20T18:30:00Z',
        destination: '+32470333444',
        seconds: 95,
        costMicros: 1,
      },
      {
        subjectId: suspect,
        startedAt: '2026-11-02T10:00:00Z',
        destination: '+32470555666',
        seconds: 30,
        costMicros: 1,
      },
    ]);

    const first = await staffSignedIn(env, tenant, 'privacy_officer');
    const { page } = first;
    await goTo(page, 'Privacy registers');
    await page.getByRole('tab', { name: "Authorities' requests" }).click();
    await page.getByRole('button', { name: 'Register a request' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^Requesting authority/).fill('Parket West-Vlaanderen, afdeling Kortrijk');
    await dialog.getByLabel(/^Legal basis cited/).fill('art. 46bis en 88bis Wetboek van Strafvordering');
    await dialog.getByLabel(/^Order reference/).fill('KO.12.L1.0421/26');
    await expect(dialog.getByTestId('purpose').getAttribute('data-purpose')).resolves.toBe(
      'legal_disclosure',
    );
    await dialog.getByRole('combobox', { name: /^Persons concerned/ }).fill('Verhaeghe');
    await page.getByRole('option', { name: /Tom Verhaeghe/ }).click();
    await dialog
      .getByTestId('persons-picked')
      .getByText(/Tom Verhaeghe/)
      .waitFor();
    await dialog.getByLabel('name', { exact: true }).check();
    await dialog.getByLabel('call records', { exact: true }).check();
    await dialog.getByLabel(/^Call records from/).fill('2026-10-01');
    await dialog.getByLabel(/^Call records until/).fill('2026-10-31');
    await look(browser, page, 'authority-1-register');
    await dialog.getByRole('button', { name: 'Register', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = page.locator('[data-testid^="authority-request-"]').first();
    await row.getByText('Another member of staff approves').waitFor();
    const requestId = Number((await row.getAttribute('data-testid'))?.slice('authority-request-'.length));
    await look(browser, page, 'authority-2-awaiting');

    // The second officer, in a browser of her own, approves.
    const second = await staffSignedIn(env, tenant, 'privacy_officer');
    await goTo(second.page, 'Privacy registers');
    await second.page.getByRole('tab', { name: "Authorities' requests" }).click();
    await second.page
      .getByTestId(`authority-request-${requestId}`)
      .getByRole('button', { name: 'Approve' })
      .click();
    await second.page.getByTestId(`authority-request-${requestId}`).getByText('approved').waitFor();

    // The first discloses it, once, and downloads the file for the authority.
    await page.reload();
    await page.getByRole('tab', { name: "Authorities' requests" }).click();
    await page
      .getByTestId(`authority-request-${requestId}`)
      .getByRole('button', { name: 'Disclose' })
      .click();
    const disclose = page.getByRole('dialog');
    await disclose.getByRole('button', { name: 'Yes, disclose' }).click();
    await expect(disclose.getByTestId('disclosure').innerText()).resolves.toContain(
      'Disclosed. Persons: 1; call records: 2',
    );
    await look(browser, page, 'authority-3-disclosed');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      disclose.getByRole('button', { name: /^Download the file/ }).click(),
    ]);
    const file = JSON.parse(await readFile((await download.path()) ?? '', 'utf8')) as {
      callRecords: Array<{ destination: string }>;
    };
    expect(file.callRecords.map((call) => call.destination).sort()).toEqual(['+32470111222', '+32470333444']);

    const stored = await runAsOwner<{
      state: string;
      registered_by_staff_id: number;
      approved_by_staff_id: number;
      disclosed: boolean;
      subjects: string;
    }>(
      database.ownerUrl,
      `SELECT r.state, r.registered_by_staff_id, r.approved_by_staff_id, r.disclosure_id IS NOT NULL AS disclosed,
              (SELECT count(*)::text FROM authority_request_subjects s
                WHERE s.tenant_id = r.tenant_id AND s.authority_request_id = r.authority_request_id) AS subjects
         FROM authority_requests r WHERE r.tenant_id = $1 AND r.authority_request_id = $2`,
      [tenant.tenantId, requestId],
    );
    expect(stored.rows).toEqual([
      {
        state: 'disclosed',
        registered_by_staff_id: first.staffId,
        approved_by_staff_id: second.staffId,
        disclosed: true,
        subjects: '1',
      },
    ]);
    expectNoPageProblems(env, page);
  }, 240_000);

  it('the privacy officer assesses a breach of e-mail addresses and informs the persons affected by letter (Art. 34)', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    await customer(tenant, 'Jacobs', 'Sara', { email: 'sara.jacobs@mail.example', language: 'nl' });
    await customer(tenant, 'Lambert', 'Hugo', { email: 'hugo.lambert@mail.example', language: 'fr' });

    const { page } = await staffSignedIn(env, tenant, 'privacy_officer');
    const { incidentId, incident } = await reportAndOpenIncident(
      page,
      'De nieuwsbriefcampagne toonde alle e-mailadressen in het aan-veld in plaats van bcc.',
    );
    await incident.getByLabel('e-mail address', { exact: true }).check();
    // Every category of the policy is named in words, none by its code (kluis.online.cookie_choices).
    const categoryNames = (await incident.locator('.mantine-Checkbox-label').allInnerTexts()).map((name) =>
      name.trim(),
    );
    expect(categoryNames).toContain('cookie choices');
    expect(categoryNames.filter((name) => /^[a-z]+\.[a-z_.]+$/.test(name))).toEqual([]);
    await incident.getByRole('combobox', { name: /^Risk for the persons/ }).click();
    await page.getByRole('option', { name: 'high risk' }).click();
    await incident
      .getByLabel(/^Why this risk/)
      .fill('Adressen zichtbaar voor alle ontvangers: phishing wordt makkelijker.');
    await incident
      .getByLabel(/^Measures taken/)
      .fill('Verzendlijst afgesloten; sjabloon aangepast naar bcc.');
    // The letters say what the officer writes here, not the report (attack S19-4, decision 0895).
    await incident
      .getByLabel(/^What happened, in the letters/)
      .fill('Onze nieuwsbrief van 20 november toonde de e-mailadressen van alle ontvangers.');
    await look(browser, page, 'breach-1-assessment');
    await incident.getByRole('button', { name: 'Record the assessment' }).click();
    const persons = incident.getByTestId('persons-notification');
    await persons.waitFor();
    await expect(persons.innerText()).resolves.toMatch(/Persons found through the data map: \d+/);
    await persons.scrollIntoViewIfNeeded();
    await look(browser, page, 'breach-2-art34');
    await persons.getByRole('button', { name: 'Record and send' }).click();
    // The two customers and the signed-in officer, whose staff account keeps an address too
    // (staff are persons the breach may reach, attack S18-1).
    await expect(persons.getByTestId('letters-sent').innerText()).resolves.toMatch(
      /^Letters sent: 3; waiting for the mail server: 0; without an e-mail address: 0/,
    );
    await look(browser, page, 'breach-3-letters-sent');
    // In French: the screen's own texts came with its chunk.
    await page.keyboard.press('Escape');
    await incident.waitFor({ state: 'hidden' });
    await page.getByText('FR', { exact: true }).click();
    await page.getByTestId(`incident-${incidentId}`).getByRole('button').first().click();
    await persons.getByText('Informer les personnes concernées (RGPD art. 34)').waitFor();
    await look(browser, page, 'breach-4-fr');

    const nl = await smtp.waitFor('sara.jacobs@mail.example');
    const fr = await smtp.waitFor('hugo.lambert@mail.example');
    expect(nl.text).toMatch(/Sara Jacobs/);
    expect(nl.text).toContain(
      'Onze nieuwsbrief van 20 november toonde de e-mailadressen van alle ontvangers.',
    );
    expect(nl.text).not.toContain('aan-veld');
    expect(fr.text).toMatch(/Hugo Lambert/);
    expect(fr.subject).not.toBe(nl.subject);
    const stored = await runAsOwner<{ persons_decision: string; risk: string; letters: string }>(
      database.ownerUrl,
      `SELECT i.persons_decision, i.risk,
              (SELECT count(*)::text FROM incident_subjects s
                WHERE s.tenant_id = i.tenant_id AND s.incident_id = i.incident_id AND s.letter_sent_at IS NOT NULL) AS letters
         FROM incidents i WHERE i.tenant_id = $1 AND i.incident_id = $2`,
      [tenant.tenantId, incidentId],
    );
    expect(stored.rows).toEqual([{ persons_decision: 'inform', risk: 'high', letters: '3' }]);
    expectNoPageProblems(env, page);
  }, 180_000);
  it('VK-9: the privacy officer revises a breach assessment; lowering it asks why, and the incident shows every assessment as it was made (attack S16-6, decision 0840)', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const { page } = await staffSignedIn(env, tenant, 'privacy_officer');
    const { incidentId, incident } = await reportAndOpenIncident(
      page,
      'Een usb-stick met een export van de klantenlijst is zoek na een beurs.',
    );
    await incident.getByRole('combobox', { name: /^Risk for the persons/ }).click();
    await page.getByRole('option', { name: 'high risk' }).click();
    await incident.getByLabel(/^Why this risk/).fill('De stick was niet versleuteld.');
    await incident.getByLabel(/^Measures taken/).fill('Melding bij de beursorganisatie.');
    await incident
      .getByLabel(/^What happened, in the letters/)
      .fill('Een usb-stick met klantgegevens ging verloren op een beurs.');
    await incident.getByRole('button', { name: 'Record the assessment' }).click();
    await incident.getByRole('button', { name: 'Revise the assessment' }).click();
    await incident.getByText('Not a breach', { exact: true }).click();
    // No breach, no risk for the persons: the screen sets it and holds it (decision 0842).
    await expect(
      incident.getByRole('combobox', { name: /^Risk for the persons/ }).inputValue(),
    ).resolves.toBe('no risk');
    await incident.getByLabel(/^Why this risk/).fill('De stick is teruggevonden in de eigen stand.');
    await incident.getByRole('button', { name: 'Record the assessment' }).click();
    await incident.getByText(/changeReason: say why assessment 1/).waitFor();
    await look(browser, page, 'breach-5-lowered-without-reason');
    await incident
      .getByLabel(/^Why the assessment changes/)
      .fill('Teruggevonden, ongeopend, in de eigen stand.');
    await incident.getByRole('button', { name: 'Record the assessment' }).click();
    const history = incident.getByRole('table', { name: /Assessments of this incident/ });
    await history.getByRole('cell', { name: 'Teruggevonden, ongeopend, in de eigen stand.' }).waitFor();
    await history.scrollIntoViewIfNeeded();
    await look(browser, page, 'breach-6-history');
    await expect(history.getByRole('row').count()).resolves.toBe(3);
    const stored = await runAsOwner<{
      assessment_no: number;
      is_breach: boolean;
      risk: string;
      change_reason: string | null;
    }>(
      database.ownerUrl,
      `SELECT assessment_no, is_breach, risk, change_reason FROM incident_assessments
        WHERE tenant_id = $1 AND incident_id = $2 ORDER BY assessment_no`,
      [tenant.tenantId, incidentId],
    );
    expect(stored.rows).toEqual([
      { assessment_no: 1, is_breach: true, risk: 'high', change_reason: null },
      {
        assessment_no: 2,
        is_breach: false,
        risk: 'none',
        change_reason: 'Teruggevonden, ongeopend, in de eigen stand.',
      },
    ]);
    expectNoPageProblems(env, page);
  }, 180_000);
  it('VK-9: after not informing the persons the privacy officer informs them after all with a reason, records the authority notification and is offered its supplement; every decision is listed on the incident (attack S22-1, decision 1070)', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    await customer(tenant, 'Peeters', 'Ine', { email: 'ine.peeters@mail.example', language: 'nl' });
    const { page } = await staffSignedIn(env, tenant, 'privacy_officer');
    const { incidentId, incident } = await reportAndOpenIncident(
      page,
      'Een export met e-mailadressen van klanten stond een uur publiek op de website.',
    );
    await incident.getByLabel('e-mail address', { exact: true }).check();
    await incident.getByRole('combobox', { name: /^Risk for the persons/ }).click();
    await page.getByRole('option', { name: 'low risk' }).click();
    await incident
      .getByLabel(/^Why this risk/)
      .fill('Een uur zichtbaar; niemand heeft het bestand gedownload.');
    await incident.getByLabel(/^Measures taken/).fill('Bestand verwijderd, toegangslogs nagekeken.');
    await incident
      .getByLabel(/^What happened, in the letters/)
      .fill('Een bestand met uw e-mailadres stond op 1 december een uur lang op onze website.');
    await incident.getByRole('button', { name: 'Record the assessment' }).click();
    const persons = incident.getByTestId('persons-notification');
    await persons.waitFor();
    await persons
      .getByLabel(/^Why they are not informed/)
      .fill('Laag risico: niemand heeft het bestand gedownload.');
    await persons.getByRole('button', { name: 'Record that they are not informed' }).click();
    // The authority requires it (GDPR Art. 34(4)): informed after all, with the reason.
    const afterAll = incident.getByTestId('inform-after-all');
    await afterAll.waitFor();
    await afterAll.getByRole('button', { name: 'Inform the persons after all' }).click();
    await afterAll.getByText('Required').first().waitFor();
    await afterAll
      .getByLabel(/^Why they are informed now/)
      .fill('De GBA eist dat de betrokkenen worden ingelicht.');
    await afterAll.getByRole('button', { name: 'Inform the persons after all' }).click();
    await afterAll.waitFor({ state: 'detached' });
    await expect(smtp.waitFor('ine.peeters@mail.example')).resolves.toBeTruthy();
    await incident.getByRole('button', { name: 'Record the decision' }).click();
    const supplement = incident.getByTestId('supplement-notification');
    await supplement.waitFor();
    // Notified: the draft stays readable, folded away, so the officer sees what was sent.
    const sent = incident.getByTestId('sent-notification');
    await sent.waitFor();
    expect(await incident.getByTestId('incident-draft').count()).toBe(0);
    await sent.getByRole('button', { name: 'The notification sent to the authority' }).click();
    await sent.getByTestId('incident-draft').waitFor();
    expect(await sent.getByTestId('incident-draft').innerText()).toContain(
      'Bestand verwijderd, toegangslogs nagekeken.',
    );
    await sent.scrollIntoViewIfNeeded();
    await look(browser, page, 'breach-10-sent-notification');
    const decisions = incident.getByRole('table', { name: /Every decision, as it was taken/ });
    await decisions.getByRole('cell', { name: 'De GBA eist dat de betrokkenen worden ingelicht.' }).waitFor();
    await expect(decisions.getByRole('row').count()).resolves.toBe(4);
    // Nothing new to supplement yet: the server says how (revise the assessment first).
    await supplement.getByRole('button', { name: 'Record a supplementary notification' }).click();
    // The server's answer (the card's own help says the same words, so the answer is matched by its start).
    await supplement.getByText(/^Kluis said:.*revise the assessment with what was learnt/).waitFor();
    await incident.getByRole('button', { name: 'Revise the assessment' }).click();
    await incident.getByTestId('later-phase').waitFor();
    await decisions.scrollIntoViewIfNeeded();
    await look(browser, page, 'breach-7-phases');
    await incident.getByTestId('later-phase').scrollIntoViewIfNeeded();
    await look(browser, page, 'breach-8-later-phase');
    await supplement.scrollIntoViewIfNeeded();
    await look(browser, page, 'breach-9-supplement');
    const stored = await runAsOwner<{ addressee: string; decision: string; reason: string | null }>(
      database.ownerUrl,
      `SELECT addressee, decision, reason FROM incident_decisions
        WHERE tenant_id = $1 AND incident_id = $2 ORDER BY decision_no`,
      [tenant.tenantId, incidentId],
    );
    expect(stored.rows).toEqual([
      {
        addressee: 'persons',
        decision: 'not_inform',
        reason: 'Laag risico: niemand heeft het bestand gedownload.',
      },
      {
        addressee: 'persons',
        decision: 'inform',
        reason: 'De GBA eist dat de betrokkenen worden ingelicht.',
      },
      { addressee: 'authority', decision: 'notified', reason: null },
    ]);
    expect(smtp.to('ine.peeters@mail.example')).toHaveLength(1);
    expectNoPageProblems(env, page);
  }, 180_000);
});

/** Reports an incident from the Privacy registers screen and opens it (the newest, first row). */
async function reportAndOpenIncident(
  page: Page,
  whatHappened: string,
): Promise<{ incidentId: number; incident: Locator }> {
  await goTo(page, 'Privacy registers');
  await page.getByRole('button', { name: 'Report an incident' }).click();
  const report = page.getByRole('dialog');
  await report.getByLabel(/^What happened/).fill(whatHappened);
  await report.getByRole('button', { name: 'Put in the register' }).click();
  await report.waitFor({ state: 'hidden' });
  const incidentRow = page.locator('[data-testid^="incident-"]').first();
  const incidentId = Number((await incidentRow.getAttribute('data-testid'))?.slice('incident-'.length));
  await incidentRow.getByRole('button', { name: `Incident #${incidentId}` }).click();
  return { incidentId, incident: page.getByRole('dialog') };
}
