/**
 * Issue #20, "Done when": the staff back office in a real Chromium (test/browser.ts), one real task
 * per role from sign-in to the database. Each staff member signs in for the first time through the
 * browser (one-time password → QR-code enrolment where the role needs it → own password), then does
 * the work by clicking; the database (and the SMTP sink) are checked afterwards. Every screen is
 * checked with axe-core (no serious or critical violation) and saved as a screenshot under
 * test-results/screenshots/back-office/.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '../src/kernel/kernel.js';
import {
  createBusiness,
  createCustomer,
  prepareTenant,
  startContract,
} from '../src/modules/billing/billing.test-helpers.js';
import { createProduct } from '../src/modules/contracts/index.js';
import { createItem } from '../src/modules/dossier/index.js';
import { createOrganisation, createPerson } from '../src/modules/parties/index.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import type { BrowserSuite, Page } from './browser.js';
import { runAsOwner, type TestDatabase } from './database.js';
import { createPolicyTenant } from './kernel.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';
import {
  choosePurpose,
  closeBackOffice,
  firstSignIn as signInFirstTime,
  freshCode,
  goTo,
  look as lookAt,
  STAFF_PASSWORD,
  staffSignedIn as signInAs,
  startBackOffice,
  type BackOffice,
  type SignedInStaff,
} from './staff-browser.js';

let office: BackOffice;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let browser: BrowserSuite;
let voiceking: Tenant;

beforeAll(async () => {
  smtp = await startSmtpSink();
  office = await startBackOffice('back-office', {
    app: () => ({ mailer: smtp.mailer, publicUrl: 'https://privacy.voiceking.example' }),
  });
  ({ database, kernel, app, browser } = office);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await closeBackOffice(office);
  await smtp?.close();
});

const NEW_PASSWORD = STAFF_PASSWORD;

/** Looks at the screen the way a person would (axe-core) and keeps a picture of it. */
const look = (page: Page, name: string): Promise<void> => lookAt(browser, page, name);

/** The first sign-in with a one-time password, all in the browser (test/staff-browser.ts). */
const firstSignIn = (
  page: Page,
  tenant: Tenant,
  email: string,
  oneTimePassword: string,
  shots?: string,
): Promise<string | undefined> => signInFirstTime(office, page, tenant, email, oneTimePassword, shots);

/** A staff member of a role made as an admin would, signed in for the first time in a new browser. */
const staffSignedIn = (tenant: Tenant, role: string): Promise<SignedInStaff> =>
  signInAs(office, tenant, role);

/**
 * An access request registered by the signed-in officer through the API the screens use, from the
 * page itself: its session storage holds the CSRF token the screens send.
 */
async function registerAccessRequest(
  page: Page,
  subjectId: number,
  channel: string,
  verificationMethod?: string,
): Promise<string> {
  return page.evaluate(
    async ({ subjectId, channel, verificationMethod }) => {
      const { sessionStorage } = globalThis as unknown as {
        sessionStorage: { getItem(key: string): string | null };
      };
      const response = await fetch('/api/v1/requests', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-csrf-token': sessionStorage.getItem('kluis.csrf') ?? '',
        },
        body: JSON.stringify({
          kind: 'access',
          channel,
          subjectId,
          ...(verificationMethod ? { verificationMethod } : {}),
        }),
      });
      return ((await response.json()) as { requestId: string }).requestId;
    },
    { subjectId, channel, verificationMethod },
  );
}

/** A person registered by sales under order processing (the voiceking customer of a test). */
const customerOfSales = (person: Parameters<typeof createPerson>[2]) =>
  createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    person,
  );

/** Opens an access request from the officer's list of privacy requests. */
async function openAccessRequest(page: Page, requestId: string): Promise<void> {
  await goTo(page, 'Privacy requests');
  await page.getByTestId(`request-${requestId}`).getByRole('link').click();
  await page.getByRole('heading', { name: 'Access', level: 1 }).waitFor();
}

describe('the staff back office in the browser (issue #20)', () => {
  it('an admin invites a staff member, who then signs in with the one-time password, enrols TOTP by QR code and chooses a password', async () => {
    const admin = await staffSignedIn(voiceking, 'admin');
    const { page } = admin;
    await goTo(page, 'Staff');
    await page.getByRole('heading', { name: 'Staff', level: 1 }).waitFor();
    await look(page, 'admin-1-staff');
    await page.getByRole('button', { name: 'Invite a staff member' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^Name/).fill('Nadia Peeters');
    await dialog.getByLabel(/^E-mail address/).fill('nadia.peeters@voiceking.example');
    await dialog.getByRole('combobox', { name: /^Role/ }).click();
    await page.getByRole('option', { name: 'privacy officer' }).click();
    await dialog.getByRole('button', { name: 'Invite' }).click();
    const oneTime = dialog.getByTestId('one-time-password');
    await oneTime.waitFor();
    await look(page, 'admin-2-invited');
    const oneTimePassword = (await oneTime.textContent())?.trim() ?? '';
    expect(oneTimePassword.length).toBeGreaterThanOrEqual(16);

    const invited = await runAsOwner<{ role: string; must_change_password: boolean; totp: boolean }>(
      database.ownerUrl,
      `SELECT role, must_change_password, totp_enabled_at IS NOT NULL AS totp
         FROM staff_users WHERE tenant_id = $1 AND email = $2`,
      [voiceking.tenantId, 'nadia.peeters@voiceking.example'],
    );
    expect(invited.rows).toEqual([{ role: 'privacy_officer', must_change_password: true, totp: false }]);

    // The invited privacy officer, in a browser of her own, in Dutch.
    const nadia = await browser.newPage({ locale: 'en-GB' });
    const secret = await firstSignIn(
      nadia,
      voiceking,
      'nadia.peeters@voiceking.example',
      oneTimePassword,
      'invited',
    );
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    await look(nadia, 'invited-5-start');
    const after = await runAsOwner<{ must_change_password: boolean; totp: boolean; codes: number }>(
      database.ownerUrl,
      `SELECT must_change_password, totp_enabled_at IS NOT NULL AS totp,
              cardinality(recovery_code_hashes) AS codes
         FROM staff_users WHERE tenant_id = $1 AND email = $2`,
      [voiceking.tenantId, 'nadia.peeters@voiceking.example'],
    );
    expect(after.rows).toEqual([{ must_change_password: false, totp: true, codes: 10 }]);

    // Signing in again: password, then a code of the app.
    await nadia.getByRole('button', { name: 'Sign out' }).click();
    await nadia.getByLabel(/^E-mail address/).fill('nadia.peeters@voiceking.example');
    await nadia.getByLabel(/^Password/).fill(NEW_PASSWORD);
    await nadia.getByRole('button', { name: 'Sign in' }).click();
    await nadia.getByLabel(/^Code/).fill(await freshCode(secret ?? ''));
    await look(nadia, 'invited-6-second-factor');
    await nadia.getByRole('button', { name: 'Continue' }).click();
    await nadia.getByRole('heading', { name: 'Start', level: 1 }).waitFor();

    // The admin's start page counts the staff who have not chosen their own password yet.
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    await page.getByRole('navigation').getByRole('link', { name: 'Start', exact: true }).click();
    await expect(page.getByTestId('staff-due').innerText()).resolves.toMatch(/not signed in yet: \d/);
    await look(page, 'admin-3-start');

    // Organisations: search, open, change the invoice facts (no purpose: company facts only).
    const organisation = await createOrganisation(kernel, voiceking.tenantId, {
      name: 'Drukkerij Peeters NV',
    });
    await goTo(page, 'Organisations');
    await page.getByLabel(/^Name contains/).fill('Peeters');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId(`organisation-${organisation.organisationId}`).getByRole('link').click();
    await page.getByRole('heading', { name: 'Drukkerij Peeters NV', level: 1 }).waitFor();
    const office = page.getByRole('group', { name: 'Registered office' });
    await office.getByLabel(/^Street and number/).fill('Industrieweg 7');
    await office.getByLabel(/^Postal code/).fill('2800');
    await office.getByLabel(/^City/).fill('Mechelen');
    await page.getByLabel('Invoices go to another address').check();
    const invoiceAddress = page.getByRole('group', { name: 'Invoice address' });
    await invoiceAddress.getByLabel(/^Street and number/).fill('Postbus 12');
    await invoiceAddress.getByLabel(/^Postal code/).fill('2800');
    await invoiceAddress.getByLabel(/^City/).fill('Mechelen');
    await page.getByLabel(/^VAT-registered/).uncheck();
    await page.getByLabel(/^Invoice reference of the customer/).fill('KP-4711');
    await look(page, 'admin-4-organisation');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('organisation-facts').innerText()).toContain('KP-4711');
    const saved = await runAsOwner<{
      vat_registered: boolean;
      buyer_reference: string;
      billing_street: string;
    }>(
      database.ownerUrl,
      `SELECT vat_registered, buyer_reference, billing_street FROM organisations
        WHERE tenant_id = $1 AND organisation_id = $2`,
      [voiceking.tenantId, organisation.organisationId],
    );
    expect(saved.rows).toEqual([
      { vat_registered: false, buyer_reference: 'KP-4711', billing_street: 'Postbus 12' },
    ]);

    // Settings: the billing settings; a wrong IBAN is refused in words, a right one is kept.
    await goTo(page, 'Settings');
    await page.getByLabel(/^IBAN of the payee account/).fill('BE00 1234');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('[data-problem-code]').first().getAttribute('data-problem-code')).resolves.toBe(
      'validation_failed',
    );
    // The field by its label, not the request's name for it.
    const ibanRefusal = await page.locator('[data-problem-code]').first().innerText();
    expect(ibanRefusal).toContain('IBAN of the payee account: not a valid IBAN');
    expect(ibanRefusal).not.toContain('payeeIban');
    await look(page, 'admin-5-settings-refused');
    await page.getByLabel(/^IBAN of the payee account/).fill('BE68 5390 0754 7034');
    await page.getByLabel(/^Payment term/).fill('21');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(async () => {
        const rows = await runAsOwner<{ payee_iban: string; payment_term_days: number }>(
          database.ownerUrl,
          'SELECT payee_iban, payment_term_days FROM billing_settings WHERE tenant_id = $1',
          [voiceking.tenantId],
        );
        return rows.rows;
      })
      .toEqual([{ payee_iban: 'BE68539007547034', payment_term_days: 21 }]);

    // The website: cookie consent rates and the visits of those who allowed statistics.
    await goTo(page, 'Website');
    await page.getByTestId('consent-rates').waitFor();
    await look(page, 'admin-6-website');
  }, 180_000);

  it('the privacy officer handles an access request from the inbox to the letter', async () => {
    const person = await customerOfSales({
      subjectType: 'customer',
      familyName: 'Wouters',
      givenName: 'Hanne',
      email: 'hanne.wouters@mail.example',
      preferredLanguage: 'nl',
      address: { street: 'Molenstraat 12', postalCode: '8500', city: 'Kortrijk', country: 'BE' },
    });
    // The request comes in through the public form; the code mail is never answered.
    const filed = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests`,
      payload: { kind: 'access', email: 'hanne.wouters@mail.example', language: 'nl' },
    });
    expect(filed.statusCode).toBe(202);
    await smtp.waitFor('hanne.wouters@mail.example', 1);
    const { requestId } = filed.json<{ requestId: string }>();

    const { page } = await staffSignedIn(voiceking, 'privacy_officer');
    // The start page shows what is due.
    await expect(page.getByTestId('requests-due').innerText()).resolves.toMatch(/open: 1/);
    await look(page, 'privacy-officer-0-start');
    await goTo(page, 'Privacy requests');
    await page.getByTestId(`request-${requestId}`).waitFor();
    await expect(page.getByTestId('purpose').getAttribute('data-purpose')).resolves.toBe('rights_requests');
    await look(page, 'privacy-officer-1-inbox');
    await page.getByTestId(`request-${requestId}`).getByRole('link').click();
    await page.getByRole('heading', { name: 'Access', level: 1 }).waitFor();
    await look(page, 'privacy-officer-2-request');

    // Verify by another method than the code.
    await page.getByRole('combobox', { name: /^How you verified/ }).click();
    await page.getByRole('option', { name: 'Identity card seen (no copy kept)' }).click();
    await page.getByRole('button', { name: 'Record the verification' }).click();
    await expect
      .poll(() => page.getByTestId('request-state').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('verified');

    // Fulfil: the letter first, as the person will get it (in Dutch, her language).
    await page.getByRole('button', { name: 'Preview the letter' }).click();
    const letter = page.getByTestId('letter');
    await letter.waitFor();
    const previewText = (await page.getByTestId('letter-text').innerText()).trim();
    expect(previewText).toMatch(/Geachte|Beste/);
    await look(page, 'privacy-officer-3-letter');
    await page.getByRole('button', { name: 'Fulfil and send this letter' }).click();
    await expect
      .poll(() => page.getByTestId('request-state').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('fulfilled');
    await look(page, 'privacy-officer-4-fulfilled');

    const stored = await runAsOwner<{ state: string; verification_method: string; outcome: unknown }>(
      database.ownerUrl,
      'SELECT state, verification_method, outcome FROM rights_requests WHERE tenant_id = $1 AND request_id = $2',
      [voiceking.tenantId, requestId],
    );
    expect(stored.rows[0]).toMatchObject({ state: 'fulfilled', verification_method: 'staff_id_card_seen' });
    // The letter that arrived is the one the preview showed, with the real single-use link.
    const mail = await smtp.waitFor('hanne.wouters@mail.example', 2);
    const link = /(https:\/\/privacy\.voiceking\.example\S+)/.exec(mail.text ?? '')?.[1];
    expect(link).toBeDefined();
    const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();
    expect(normalise((mail.text ?? '').replace(link ?? '', '[link]'))).toBe(
      normalise(previewText.replace(/\[single-use download link[^\]]*\]/, '[link]')),
    );
    expect(person.subjectId).toBeGreaterThan(0);

    // The registers: an incident reported, assessed as a breach (the 72-hour clock starts, on the
    // start page too), the authority's notification drafted and the decision not to notify kept.
    await goTo(page, 'Privacy registers');
    await page.getByRole('tab', { name: 'Incidents' }).waitFor();
    await page.getByRole('button', { name: 'Report an incident' }).click();
    const report = page.getByRole('dialog');
    await report.getByRole('combobox', { name: /^Kind/ }).click();
    await page.getByRole('option', { name: 'data breach' }).click();
    await report
      .getByLabel(/^What happened/)
      .fill('Een export van de klantenlijst werd per vergissing naar een verkeerde leverancier gemaild.');
    await look(page, 'privacy-officer-5-incident-report');
    await report.getByRole('button', { name: 'Put in the register' }).click();
    await report.waitFor({ state: 'hidden' });
    const incidentRow = page.locator('[data-testid^="incident-"]').first();
    await incidentRow.waitFor();
    const incidentId = Number((await incidentRow.getAttribute('data-testid'))?.slice('incident-'.length));
    await incidentRow.getByRole('button', { name: `Incident #${incidentId}` }).click();
    const incident = page.getByRole('dialog');
    // No risk for the persons: the only assessment under which not notifying is allowed (Art. 33(1)).
    await incident.getByRole('combobox', { name: /^Risk for the persons/ }).click();
    await page.getByRole('option', { name: 'no risk' }).click();
    await incident
      .getByLabel(/^Why this risk/)
      .fill('Alleen namen en e-mailadressen; de leverancier wiste de mail.');
    await incident
      .getByLabel(/^Measures taken/)
      .fill('Schriftelijke bevestiging van de verwijdering gevraagd.');
    // What the draft and any letter say: the officer's words (decision 0895).
    await incident
      .getByLabel(/^What happened, in the letters/)
      .fill('Een export van de klantenlijst werd naar een verkeerde leverancier gemaild.');
    await incident.getByRole('button', { name: 'Record the assessment' }).click();
    await incident.getByTestId('incident-draft').waitFor();
    await expect(incident.getByTestId('incident-draft').innerText()).resolves.toMatch(
      /Gegevensbeschermingsautoriteit|inbreuk/i,
    );
    await look(page, 'privacy-officer-6-incident-draft');
    await incident.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Start', exact: true }).click();
    await expect.poll(() => page.getByTestId('privacy-due').innerText()).toMatch(/72-hour clock: 1/);
    await look(page, 'privacy-officer-7-start-clock');
    await goTo(page, 'Privacy registers');
    await page.getByRole('button', { name: `Incident #${incidentId}` }).click();
    await incident.getByRole('combobox', { name: /^The authority/ }).click();
    await page.getByRole('option', { name: 'authority not notified' }).click();
    await incident
      .getByLabel(/^Why the authority is not notified/)
      .fill('Geen risico: de ontvanger is een verwerker onder overeenkomst en bevestigde de verwijdering.');
    await incident.getByRole('button', { name: 'Record the decision' }).click();
    await incident.getByText('authority not notified', { exact: true }).first().waitFor();
    const decided = await runAsOwner<{ is_breach: boolean; authority_decision: string; risk: string }>(
      database.ownerUrl,
      'SELECT is_breach, authority_decision, risk FROM incidents WHERE tenant_id = $1 AND incident_id = $2',
      [voiceking.tenantId, incidentId],
    );
    expect(decided.rows).toEqual([{ is_breach: true, authority_decision: 'not_notified', risk: 'none' }]);
    await incident.getByRole('button', { name: 'Close' }).click();

    // The other registers, each looked at once.
    for (const [tab, ready, shot] of [
      [
        'Recipients',
        page.getByRole('table', { name: 'Recipients of the policy' }),
        'privacy-officer-8-recipients',
      ],
      ['Retention', page.getByTestId('retention-plan'), 'privacy-officer-9-retention'],
      ['Register', page.getByTestId('register'), 'privacy-officer-10-register'],
      [
        "Authorities' requests",
        page.getByRole('table', { name: /Authorities' requests/ }),
        'privacy-officer-11-authorities',
      ],
    ] as const) {
      await page.getByRole('tab', { name: tab }).click();
      await ready.waitFor();
      await look(page, shot);
    }

    // A legal hold on the person, from her page: retention keeps her until the hold ends.
    await goTo(page, 'People');
    // Several purposes of the officer fit: the screen asks which before it reads (decision 1280).
    await choosePurpose(page, 'rights_requests');
    await page.getByLabel(/^Family name begins with/).fill('Wouters');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Hanne Wouters' }).click();
    const holds = page.getByTestId('holds');
    await holds.getByLabel(/^Reason/).fill('Geschil met de klant, dossier 2026/118');
    await holds.getByLabel(/^Keeps until/).fill('2027-06-30');
    await holds.getByRole('button', { name: 'Place the hold' }).click();
    await holds.locator('[data-testid^="hold-"]').first().waitFor();
    await look(page, 'privacy-officer-12-hold');
    const held = await runAsOwner<{ ends_on: string; active: boolean }>(
      database.ownerUrl,
      `SELECT ends_on::text, released_at IS NULL AS active FROM legal_holds
        WHERE tenant_id = $1 AND subject_id = $2`,
      [voiceking.tenantId, person.subjectId],
    );
    expect(held.rows).toEqual([{ ends_on: '2027-06-30', active: true }]);
  }, 180_000);
  it('VK-27: the privacy officer extends a request once; the screen then offers no second extension and says until when (decision 0893)', async () => {
    const filed = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests`,
      payload: { kind: 'access', email: 'extend.once@mail.example', language: 'en' },
    });
    expect(filed.statusCode).toBe(202);
    const { requestId } = filed.json<{ requestId: string }>();
    const due = await runAsOwner<{ until: string }>(
      database.ownerUrl,
      'SELECT (due_on + 20)::text AS until FROM rights_requests WHERE tenant_id = $1 AND request_id = $2',
      [voiceking.tenantId, requestId],
    );
    const until = due.rows[0]?.until ?? '';
    expect(until).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    const { page } = await staffSignedIn(voiceking, 'privacy_officer');
    await openAccessRequest(page, requestId);
    const extend = page.getByRole('radio', { name: 'Extend' });
    await expect(extend.isChecked()).resolves.toBe(true);
    await page.getByLabel(/^New due date/).fill(until);
    await page.getByLabel(/^Reason \(the person reads it\)/).fill('Many requests reached us this month.');
    await page.getByRole('button', { name: 'Preview the letter' }).click();
    await page.getByTestId('letter').waitFor();
    await page.getByRole('button', { name: 'Extend and send this letter' }).click();

    // Extended once: the screen says until when and no longer offers a second extension.
    const [year, month, day] = until.split('-');
    await expect.poll(() => page.getByTestId('extended-once').count(), { timeout: 30_000 }).toBe(1);
    await expect(page.getByTestId('extended-once').innerText()).resolves.toBe(
      `Extended once already, until ${day}/${month}/${year}: the GDPR allows one extension.`,
    );
    await expect(page.getByRole('radio', { name: 'Extend' }).count()).resolves.toBe(0);
    await expect(page.getByRole('radio', { name: 'Reject' }).isChecked()).resolves.toBe(true);
    await look(page, 'privacy-officer-extended-once');
    const stored = await runAsOwner<{ extended_due_on: string }>(
      database.ownerUrl,
      'SELECT extended_due_on::text FROM rights_requests WHERE tenant_id = $1 AND request_id = $2',
      [voiceking.tenantId, requestId],
    );
    expect(stored.rows).toEqual([{ extended_due_on: until }]);
  });

  it('VK-27: for a person with no e-mail address on file the preview says to post the letter, and the officer extends only after ticking that it was posted (decision 1192)', async () => {
    const person = await customerOfSales({
      subjectType: 'customer',
      familyName: 'Zonder-Mail',
      givenName: 'Jef',
      preferredLanguage: 'nl',
      // By post needs an address to post to (attack S24-2).
      address: { street: 'Kerkstraat 4', postalCode: '9000', city: 'Gent' },
    });
    const { page } = await staffSignedIn(voiceking, 'privacy_officer');
    // The officer registers the letter's request through the API the screen uses (same session).
    const requestId = await registerAccessRequest(page, person.subjectId, 'letter');
    const due = await runAsOwner<{ until: string }>(
      database.ownerUrl,
      'SELECT (due_on + 20)::text AS until FROM rights_requests WHERE tenant_id = $1 AND request_id = $2',
      [voiceking.tenantId, requestId],
    );
    await openAccessRequest(page, requestId);
    await page.getByLabel(/^New due date/).fill(due.rows[0]?.until ?? '');
    await page.getByLabel(/^Reason \(the person reads it\)/).fill('Our paper archive is searched by hand.');
    await page.getByRole('button', { name: 'Preview the letter' }).click();
    const byPost = page.getByTestId('letter-by-post');
    await byPost.waitFor();
    await expect(byPost.innerText()).resolves.toMatch(
      /no e-mail address on file: print this letter and post it/,
    );
    const confirm = page.getByRole('button', { name: 'Extend and send this letter' });
    await expect(confirm.isDisabled()).resolves.toBe(true);
    await look(page, 'privacy-officer-letter-by-post');
    await byPost.getByLabel('I have printed and posted this letter').check();
    await confirm.click();
    await expect.poll(() => page.getByTestId('extended-once').count(), { timeout: 30_000 }).toBe(1);
    const stored = await runAsOwner<{ extended_due_on: string }>(
      database.ownerUrl,
      'SELECT extended_due_on::text FROM rights_requests WHERE tenant_id = $1 AND request_id = $2',
      [voiceking.tenantId, requestId],
    );
    expect(stored.rows).toEqual([{ extended_due_on: due.rows[0]?.until }]);
  });

  it('VK-27: for a person with no e-mail address on file the officer fulfils an access request by post: downloads the data to post, ticks that the letter goes by post, and then gets the letter to print; nothing is mailed and no link is made (decision 1250)', async () => {
    const person = await customerOfSales({
      subjectType: 'customer',
      familyName: 'Per-Post',
      givenName: 'Mieke',
      preferredLanguage: 'nl',
      address: { street: 'Veldstraat 7', postalCode: '9000', city: 'Gent' },
    });
    const { page } = await staffSignedIn(voiceking, 'privacy_officer');
    const requestId = await registerAccessRequest(page, person.subjectId, 'letter', 'signed_letter_matches');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const mailedBefore = smtp.messages.length;
    await openAccessRequest(page, requestId);
    await expect(page.getByRole('radio', { name: 'Fulfil' }).isChecked()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Preview the letter' }).click();
    const byPost = page.getByTestId('letter-by-post');
    await byPost.waitFor();
    await expect(byPost.innerText()).resolves.toMatch(/the request is answered by post/);
    await expect(page.getByTestId('letter-text').innerText()).resolves.toContain(
      'Uw gegevens zitten bij deze brief',
    );
    const confirm = page.getByRole('button', { name: 'Fulfil and send this letter' });
    await expect(confirm.isDisabled()).resolves.toBe(true);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      byPost.getByRole('button', { name: 'Download the data to post with the letter' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`access-${requestId}.zip`);
    const zip = await readFile((await download.path()) ?? '');
    expect(zip.subarray(0, 2).toString('latin1')).toBe('PK');
    await look(page, 'privacy-officer-fulfil-by-post');
    await byPost.getByLabel(/^I will print the letter shown after fulfilling and post it/).check();
    await confirm.click();
    const toPrint = page.getByTestId('letter-to-print');
    await toPrint.waitFor({ timeout: 30_000 });
    const printed = await toPrint.getByTestId('letter-text').innerText();
    expect(printed).toContain('Mieke Per-Post\nVeldstraat 7\n9000 Gent');
    expect(printed).toContain(`Ons kenmerk: ${requestId}`);
    expect(printed).toContain('Uw gegevens zitten bij deze brief');
    await page.getByTestId('request-state').and(page.locator('[data-state="fulfilled"]')).waitFor();
    await look(page, 'privacy-officer-fulfilled-by-post');
    const stored = await runAsOwner<{ state: string; links: number; reason: string | null }>(
      database.ownerUrl,
      `SELECT r.state,
              (SELECT count(*)::int FROM export_downloads d
                WHERE d.tenant_id = r.tenant_id AND d.request_id = r.request_id) AS links,
              (SELECT reason FROM audit_log WHERE tenant_id = r.tenant_id AND action = 'request.fulfil'
                ORDER BY seq DESC LIMIT 1) AS reason
         FROM rights_requests r WHERE r.tenant_id = $1 AND r.request_id = $2`,
      [voiceking.tenantId, requestId],
    );
    expect(stored.rows).toEqual([{ state: 'fulfilled', links: 0, reason: 'letter posted by staff' }]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.messages.length).toBe(mailedBefore);
  });

  it('VK-27: for a person with neither an e-mail nor a postal address on file the preview says no letter can reach them, and the officer cannot extend until one is recorded (attack S24-2, decision 1192)', async () => {
    const person = await customerOfSales({
      subjectType: 'customer',
      familyName: 'Nergens',
      givenName: 'Nele',
      phone: '+32470111299',
    });
    const { page } = await staffSignedIn(voiceking, 'privacy_officer');
    const requestId = await registerAccessRequest(page, person.subjectId, 'phone');
    await openAccessRequest(page, requestId);
    const due = await runAsOwner<{ until: string }>(
      database.ownerUrl,
      'SELECT (due_on + 20)::text AS until FROM rights_requests WHERE tenant_id = $1 AND request_id = $2',
      [voiceking.tenantId, requestId],
    );
    await page.getByLabel(/^New due date/).fill(due.rows[0]?.until ?? '');
    await page.getByLabel(/^Reason \(the person reads it\)/).fill('Our paper archive is searched by hand.');
    await page.getByRole('button', { name: 'Preview the letter' }).click();
    const noContact = page.getByTestId('letter-no-contact');
    await noContact.waitFor();
    await expect(noContact.innerText()).resolves.toMatch(/neither an e-mail address nor a postal address/);
    await expect(page.getByTestId('letter-by-post').count()).resolves.toBe(0);
    await expect(
      page.getByRole('button', { name: 'Extend and send this letter' }).isDisabled(),
    ).resolves.toBe(true);
  });

  it("the sales screen counts in Brussels days: at 00:30 there (23:30 UTC) a new quote is valid until 30 days after Brussels' today", async () => {
    const { page } = await staffSignedIn(voiceking, 'sales');
    await goTo(page, 'Quotes, orders, contracts');
    // 2 December 00:30 in Brussels, still 1 December in UTC.
    await page.clock.setFixedTime(new Date('2026-12-01T23:30:00Z'));
    await page.getByRole('button', { name: 'New quote' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByLabel(/^Valid until/).inputValue()).resolves.toBe('2027-01-01');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  it('sales turns a quote into an order and a contract', async () => {
    await createProduct(
      kernel,
      { tenantId: voiceking.tenantId, actor: { kind: 'staff', staffId: 1, role: 'admin' } },
      {
        code: 'FIBER-500',
        name: 'Glasvezel 500 Mbps',
        kind: 'subscription',
        priceCents: 4995,
        vatRatePercent: 21,
      },
    );
    const customer = await customerOfSales({
      subjectType: 'customer',
      familyName: 'Maertens',
      givenName: 'Jonas',
      email: 'jonas.maertens@mail.example',
      address: { street: 'Kerkstraat 4', postalCode: '9000', city: 'Gent', country: 'BE' },
    });
    const { page } = await staffSignedIn(voiceking, 'sales');
    await goTo(page, 'Quotes, orders, contracts');
    await page.getByRole('button', { name: 'New quote' }).waitFor();
    await expect(page.locator('[data-purpose]').first().getAttribute('data-purpose')).resolves.toBe(
      'order_processing',
    );
    await page.getByRole('button', { name: 'New quote' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('combobox', { name: /^Customer/ }).fill('Maer');
    await page.getByRole('option', { name: /Jonas Maertens/ }).click();
    await dialog.getByRole('combobox', { name: /^Product/ }).click();
    await page.getByRole('option', { name: /Glasvezel 500 Mbps/ }).click();
    await look(page, 'sales-1-new-quote');
    await dialog.getByRole('button', { name: 'Make the quote' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const quoteRow = page.locator('[data-testid^="quote-"]').first();
    await quoteRow.waitFor();
    const quoteId = Number((await quoteRow.getAttribute('data-testid'))?.slice('quote-'.length));
    await page.getByRole('button', { name: `Send #${quoteId}` }).click();
    await page.getByRole('button', { name: `Accept #${quoteId}` }).click();
    await look(page, 'sales-2-quote-accepted');
    await page.getByRole('button', { name: `Place the order #${quoteId}` }).click();

    const orderRow = page.locator('[data-testid^="order-"]').first();
    await orderRow.waitFor();
    const orderId = Number((await orderRow.getAttribute('data-testid'))?.slice('order-'.length));
    await page.getByRole('button', { name: `Delivered #${orderId}` }).click();
    await page.getByRole('button', { name: `Start the contract #${orderId}` }).click();
    const contractRow = page.locator('[data-testid^="contract-"]').first();
    await contractRow.waitFor();
    await look(page, 'sales-3-contract');

    const rows = await runAsOwner<{ quote: string; order: string; subject: number; ended: boolean }>(
      database.ownerUrl,
      `SELECT q.status AS quote, o.status AS order, c.subject_id::int AS subject,
              c.terminated_on IS NOT NULL AS ended
         FROM quotes q
         JOIN orders o ON o.tenant_id = q.tenant_id AND o.quote_id = q.quote_id
         JOIN contracts c ON c.tenant_id = o.tenant_id AND c.order_id = o.order_id
        WHERE q.tenant_id = $1 AND q.quote_id = $2`,
      [voiceking.tenantId, quoteId],
    );
    expect(rows.rows).toEqual([
      { quote: 'accepted', order: 'delivered', subject: customer.subjectId, ended: false },
    ]);

    // By phone, the customer agrees to e-mail tracking: the purpose picked from the labelled list,
    // the wording read out and the answer kept in the ledger.
    await goTo(page, 'People');
    await choosePurpose(page, 'order_processing');
    await page.getByLabel(/^Family name begins with/).fill('Maertens');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Jonas Maertens' }).click();
    // The person's contracts are on the page, read under the purpose for contracts.
    await page.getByTestId('person-contracts').getByRole('table').waitFor();
    const consents = page.getByTestId('consents');
    await consents.getByRole('combobox', { name: /^For what/ }).click();
    await page.getByRole('option', { name: /measuring whether you open our e-mails/ }).click();
    await consents.getByText('Nothing recorded for this purpose').waitFor();
    await consents
      .getByLabel(/^What you read out/)
      .fill(
        'Mogen wij meten of u onze e-mails opent en op welke links u klikt? U kunt dit altijd intrekken.',
      );
    await consents.getByLabel(/^What the person said/).fill('Ja, dat mag.');
    await consents.getByRole('button', { name: 'Record' }).click();
    await consents.locator('[data-testid^="consent-"]').first().waitFor();
    await look(page, 'sales-4-consent');
    const ledger = await runAsOwner<{ purpose: string; event: string; channel: string }>(
      database.ownerUrl,
      'SELECT purpose, event, channel FROM consent_records WHERE tenant_id = $1 AND subject_id = $2',
      [voiceking.tenantId, customer.subjectId],
    );
    expect(ledger.rows).toEqual([{ purpose: 'email_tracking', event: 'given', channel: 'staff_phone' }]);
  }, 180_000);
  it('billing runs a month and opens an invoice as the customer gets it and as Peppol UBL', async () => {
    const catalogue = await prepareTenant(kernel, voiceking);
    const business = await createBusiness(kernel, voiceking);
    const contact = await createCustomer(kernel, voiceking, {
      familyName: 'Janssens',
      givenName: 'Els',
      organisationId: business,
    });
    await startContract(kernel, voiceking, contact, {
      startDate: '2026-09-01',
      organisationId: business,
      lines: [{ productId: catalogue.subscription }],
    });
    // A customer whose postal address was never recorded is held back, and the screen says why.
    const addressless = await createCustomer(kernel, voiceking, { familyName: 'Wouters', noAddress: true });
    await startContract(kernel, voiceking, addressless, {
      startDate: '2026-09-01',
      lines: [{ productId: catalogue.subscription }],
    });
    const { page } = await staffSignedIn(voiceking, 'billing');
    await goTo(page, 'Billing');
    await expect(page.locator('[data-purpose]').first().getAttribute('data-purpose')).resolves.toBe(
      'billing',
    );
    await page.getByRole('tab', { name: 'Invoice run' }).click();
    await page.getByLabel(/^Month/).fill('2026-10');
    await page.getByLabel(/^Issue date/).fill('2026-11-02');
    await page.getByRole('button', { name: 'Preview the run' }).click();
    await page.getByTestId('run-preview').waitFor();
    await look(page, 'billing-1-run-preview');
    // The month in words, the issue date as a Belgian writes it.
    await expect(page.getByTestId('run-preview').innerText()).resolves.toContain('dated 02/11/2026');
    await page.getByRole('button', { name: 'Run the invoices for October 2026' }).click();
    await page
      .getByTestId('run-result')
      .or(page.locator('[data-problem-code]'))
      .first()
      .waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-problem-code]').allInnerTexts()).toEqual([]);
    const refused = page.getByTestId('run-refused');
    await expect(refused.innerText()).resolves.toContain(
      `Customer ${addressless}: no postal address to bill to: record one, then run the month again billing_address_missing`,
    );
    await expect(refused.getByRole('link').getAttribute('href')).resolves.toBe(`/people/${addressless}`);
    await look(page, 'billing-2-run-done');

    const invoices = await runAsOwner<{ invoice_number: string }>(
      database.ownerUrl,
      `SELECT invoice_number FROM invoices
        WHERE tenant_id = $1 AND kind = 'invoice' AND period_start = '2026-10-01' ORDER BY invoice_number`,
      [voiceking.tenantId],
    );
    expect(invoices.rows.length).toBe(1);
    const number = invoices.rows[0]?.invoice_number ?? '';

    await page.getByRole('button', { name: 'Show the invoices' }).click();
    await page.getByTestId(`invoice-${number}`).getByRole('button', { name: number }).click();
    const html = page.frameLocator('[data-testid="invoice-html"]');
    await expect(html.locator('body').innerText()).resolves.toContain(number);
    await look(page, 'billing-3-invoice-html');
    await page.getByRole('button', { name: 'Peppol UBL (XML)' }).click();
    const ubl = page.getByTestId('invoice-ubl');
    await ubl.waitFor();
    const xml = (await ubl.textContent()) ?? '';
    expect(xml).toContain('urn:oasis:names:specification:ubl:schema:xsd:Invoice-2');
    expect(xml).toContain(`<cbc:ID>${number}</cbc:ID>`);
    await look(page, 'billing-4-invoice-ubl');

    // A partial credit note, its reason chosen from a list; then the invoice marked disputed.
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('combobox', { name: /^Reason/ }).click();
    await page.getByRole('option', { name: 'service outage' }).click();
    await dialog.getByRole('combobox', { name: /^How much/ }).click();
    await page.getByRole('option', { name: 'Part of it' }).click();
    await dialog.getByLabel(/^Amount excluding VAT/).fill('5');
    await dialog.getByRole('button', { name: 'Make the credit note' }).click();
    await dialog.getByTestId('credit-note').waitFor();
    await dialog
      .getByLabel(/^What the customer disputes/)
      .fill('De klant betwist de tweede lijn van oktober.');
    await dialog.getByRole('button', { name: 'Mark disputed' }).click();
    await page.getByText(`Invoice ${number} is marked disputed`).waitFor();
    await look(page, 'billing-5-credit-and-dispute');
    const notes = await runAsOwner<{ credit_reason: string; total_excl_vat_cents: string; disputes: string }>(
      database.ownerUrl,
      `SELECT n.credit_reason, n.total_excl_vat_cents::text,
              (SELECT count(*) FROM invoice_disputes d
                WHERE d.tenant_id = i.tenant_id AND d.invoice_id = i.invoice_id AND d.closed_at IS NULL)::text AS disputes
         FROM invoices i JOIN invoices n ON n.tenant_id = i.tenant_id AND n.credited_invoice_id = i.invoice_id
        WHERE i.tenant_id = $1 AND i.invoice_number = $2`,
      [voiceking.tenantId, number],
    );
    expect(notes.rows).toEqual([
      { credit_reason: 'service_outage', total_excl_vat_cents: '500', disputes: '1' },
    ]);
    await dialog.getByRole('button', { name: 'Close' }).click();

    // A bank statement pasted as CSV: the payment is matched by the structured communication.
    const { rows: due } = await runAsOwner<{ structured_communication: string }>(
      database.ownerUrl,
      'SELECT structured_communication FROM invoices WHERE tenant_id = $1 AND invoice_number = $2',
      [voiceking.tenantId, number],
    );
    await page.getByRole('tab', { name: 'Payments' }).click();
    await page
      .getByRole('textbox', { name: 'Statement', exact: true })
      .fill(
        `date,amount,communication,reference\n2026-11-10,10.00,${due[0]?.structured_communication ?? ''},BANK-2026-0001\n`,
      );
    await page.getByRole('button', { name: 'Import the payments' }).click();
    const payments = page.getByTestId('payments-result');
    await payments.waitFor();
    await expect(payments.innerText()).resolves.toMatch(/Matched to an invoice\s+1/);
    await look(page, 'billing-6-payments');
    await page.getByRole('navigation').getByRole('link', { name: 'Start', exact: true }).click();
    await expect.poll(() => page.getByTestId('invoices-due').innerText()).toMatch(/unpaid: 1/);
    await look(page, 'billing-7-start');
  }, 180_000);
  it('a technician reveals a secret of the dossier with a typed reason and a fresh code', async () => {
    const voxtra = await createPolicyTenant(kernel, 'voxtra');
    const catalogue = await prepareTenant(kernel, voxtra);
    const customer = await createCustomer(kernel, voxtra, { familyName: 'Claes', givenName: 'Wim' });
    await startContract(kernel, voxtra, customer, {
      startDate: '2026-01-01',
      lines: [{ productId: catalogue.subscription }],
    });
    const technician = await staffSignedIn(voxtra, 'technician');
    await createItem(
      kernel,
      {
        tenantId: voxtra.tenantId,
        actor: { kind: 'staff', staffId: technician.staffId, role: 'technician' },
        purpose: 'technical_dossier',
      },
      'credential',
      customer,
      { system: 'Router Fritz!Box 7590', username: 'admin', password: 'Zomer-Router-2026!' },
    );
    const { page } = technician;
    await goTo(page, 'Technical dossier');
    await page.getByLabel(/^Customer number/).fill(String(customer));
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('button', { name: 'Reveal: Router Fritz!Box 7590' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^Reason/).fill('Klant belt: internet valt weg, router herstarten');
    await dialog.getByLabel(/^A fresh code/).fill(await freshCode(technician.totpSecret ?? ''));
    await look(page, 'technician-1-reveal');
    await dialog.getByRole('button', { name: 'Reveal' }).click();
    await expect(dialog.getByTestId('revealed-secret').innerText()).resolves.toBe('Zomer-Router-2026!');
    await look(page, 'technician-2-revealed');

    const audit = await runAsOwner<{ role: string; purpose: string; reason: string }>(
      database.ownerUrl,
      `SELECT role, purpose, reason FROM audit_log
        WHERE tenant_id = $1 AND action = 'dossier.reveal' AND decision = 'allowed'`,
      [voxtra.tenantId],
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({ role: 'technician', purpose: 'technical_dossier' });
    expect(audit.rows[0]?.reason).toContain('router herstarten');
  });
});
