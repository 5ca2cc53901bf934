/**
 * Decision 1200: the person screen's "Restriction of processing" card, in a real Chromium. The
 * privacy officer (rights purpose) sees since when a customer is restricted and lifts it with a
 * ground; the person is mailed (checked at the SMTP sink) and the lifting day is stored. Sales sees
 * the "restricted" badge and no card. Screenshots go to test-results/screenshots/back-office-restriction/.
 */
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM } from '../src/modules/billing/billing.test-helpers.js';
import { createPerson } from '../src/modules/parties/index.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import { addDays, belgianDay, longDate } from '../src/platform/calendar.js';
import type { Page } from './browser.js';
import { runAsOwner } from './database.js';
import { loginAs, requestAs, type StaffSession } from './http.js';
import { createPolicyTenant } from './kernel.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';
import {
  backOfficeForSuite,
  choosePurpose,
  expectNoPageProblems,
  look,
  pageWithSession,
  requestsTo,
} from './staff-browser.js';

let smtp: SmtpSink;

// The sink first (the app mails through it); closed after the back office.
beforeAll(async () => {
  smtp = await startSmtpSink();
});
afterAll(async () => {
  await smtp?.close();
});
const env = backOfficeForSuite('back-office-restriction', {
  app: () => ({ mailer: smtp.mailer, publicUrl: 'https://privacy.voiceking.example' }),
});

/** A `YYYY-MM-DD` day as the Dutch screen writes it. */
const dutchDay = (iso: string): string => iso.split('-').reverse().join('-');

/** The restriction's lifting day stored for the person (`null` while none is set). */
async function liftDayOf(tenant: Tenant, subjectId: number): Promise<string | null | undefined> {
  const stored = await runAsOwner<{ lift_on: string | null }>(
    env.database.ownerUrl,
    'select restriction_lift_on::text as lift_on from data_subjects where tenant_id = $1 and subject_id = $2',
    [tenant.tenantId, subjectId],
  );
  return stored.rows[0]?.lift_on;
}

/** The reasons of the tenant's audited restriction lifts. */
async function liftReasonsOf(tenant: Tenant): Promise<Array<string | null>> {
  const audited = await runAsOwner<{ reason: string | null }>(
    env.database.ownerUrl,
    `select reason from audit_log where tenant_id = $1 and action = 'subject.restriction_lift'`,
    [tenant.tenantId],
  );
  return audited.rows.map((row) => row.reason);
}

/** The person screen in Dutch for the session, once its restriction card is shown. */
async function restrictionCardOf(
  session: StaffSession,
  subjectId: number,
): Promise<{ page: Page; card: Locator }> {
  const page = await pageWithSession(env, session, 'nl-BE');
  await page.goto(`${env.baseUrl}/people/${subjectId}`);
  // The privacy officer is asked why first; the card waits for the choice (decision 1280).
  await choosePurpose(page, 'rights_requests');
  const card = page.getByTestId('lift-restriction');
  await card.getByRole('heading', { name: 'Beperking van de verwerking' }).waitFor();
  return { page, card };
}

describe('the restriction card of the person screen (decision 1200)', () => {
  it('VX-14: voiceking: the privacy officer sees since when a customer is restricted, lifts it with a ground and is told the day it ends; the person is mailed that day and the ground, the lifting day is stored and audited; sales sees the "restricted" badge and no lift button', async () => {
    const tenant = await createPolicyTenant(env.kernel, 'voiceking');
    const email = 'roos.beperkt@mail.example';
    const person = await createPerson(
      env.kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Beperkt', givenName: 'Roos', email },
    );
    const subjectId = person.subjectId;
    const today = belgianDay(new Date());
    const tomorrow = addDays(today, 1);

    // The person asks for restriction (identity checked on a reply from the address on file).
    const officer = await loginAs(env.app, env.kernel, tenant, 'privacy_officer');
    const asOfficer = requestAs(env.app, officer);
    const registered = await asOfficer('POST', '/api/v1/requests', {
      kind: 'restriction',
      channel: 'email',
      language: 'nl',
      subjectId,
      verificationMethod: 'reply_from_address_on_file',
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const { requestId } = registered.json<{ requestId: string }>();
    const fulfilled = await asOfficer('POST', `/api/v1/requests/${requestId}/fulfil`, {});
    expect(fulfilled.statusCode, fulfilled.body).toBe(200);
    expect(fulfilled.json()).toEqual({ outcome: { restricted: true } });
    await smtp.waitFor(email, 1);
    const mailsBefore = smtp.to(email).length;

    const liftOf = () => liftDayOf(tenant, subjectId);
    expect(await liftOf()).toBeNull();

    const { page, card } = await restrictionCardOf(officer, subjectId);
    expect(await card.getByTestId('restricted-since').innerText()).toBe(`Beperkt sinds ${dutchDay(today)}.`);
    const liftButton = card.getByRole('button', { name: 'Beperking opheffen' });
    // No ground chosen yet: the button waits for one.
    expect(await liftButton.isDisabled()).toBe(true);
    await look(env.browser, page, 'officer-restriction-card');

    await card.getByRole('combobox', { name: 'Waarom ze wordt opgeheven' }).click();
    await page.getByRole('option', { name: 'De juistheid van de gegevens is nagekeken' }).click();
    expect(await liftButton.isEnabled()).toBe(true);
    await liftButton.click();
    const announced = `De persoon is verwittigd; de beperking eindigt op ${dutchDay(tomorrow)}.`;
    await card.getByText(announced).waitFor();
    expect(await card.getByRole('button', { name: 'Beperking opheffen' }).count()).toBe(0);
    // The person's audit trail on the same screen shows the lifting without a reload, in Dutch
    // words with the code as recorded beneath (decision 1260).
    const trail = page.getByRole('region', { name: 'Het auditspoor van deze persoon' });
    await trail
      .getByText('einde van de beperking van de verwerking aangekondigd', { exact: true })
      .waitFor({ timeout: 10_000 });
    expect(await trail.getByTestId('trail-recorded').allInnerTexts()).toContain(
      'subject.restriction_lift · ground accuracy_verified; ends the next day; letter mailed',
    );
    await look(env.browser, page, 'officer-restriction-lift-announced');

    const letter = await smtp.waitFor(email, mailsBefore + 1);
    expect(letter.text).toContain(`vanaf ${longDate(tomorrow, 'nl')}`);
    expect(letter.text).toContain('we hebben de juistheid van uw gegevens nagekeken');
    expect(await liftOf()).toBe(tomorrow);
    expect(await liftReasonsOf(tenant)).toEqual([
      'ground accuracy_verified; ends the next day; letter mailed',
    ]);

    // After a reload the card still says the lifting was announced, and offers no second one.
    await page.reload();
    await card.getByText(announced).waitFor();
    expect(await card.getByTestId('restricted-since').innerText()).toBe(`Beperkt sinds ${dutchDay(today)}.`);
    expect(await card.getByRole('button').count()).toBe(0);
    expectNoPageProblems(env, page);
    await page.context().close();

    // Sales, outside the rights purpose: the person is shown as restricted, with no card to lift it.
    const sales = await loginAs(env.app, env.kernel, tenant, 'sales');
    const salesPage = await pageWithSession(env, sales, 'nl-BE');
    const asked = requestsTo(salesPage, '/requests/restrictions/');
    await salesPage.goto(`${env.baseUrl}/people/${subjectId}`);
    await choosePurpose(salesPage, 'order_processing');
    await salesPage.getByTestId('state-badge').getByText('beperkt').waitFor();
    expect(await salesPage.getByTestId('lift-restriction').count()).toBe(0);
    expect(await salesPage.getByRole('button', { name: 'Beperking opheffen' }).count()).toBe(0);
    expect(asked).toEqual([]);
    await look(env.browser, salesPage, 'sales-person-restricted');
    expectNoPageProblems(env, salesPage);
    await salesPage.context().close();
    expect(smtp.to(email)).toHaveLength(mailsBefore + 1);
  });

  it('VX-14: voiceking: for a restricted customer without an e-mail address, the card says Kluis cannot tell them and lifts the restriction only once the officer confirms a letter by post; nothing is mailed', async () => {
    const tenant = await createPolicyTenant(env.kernel, 'voiceking');
    const person = await createPerson(
      env.kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Zonderpost', givenName: 'Jan' },
    );
    const subjectId = person.subjectId;
    const tomorrow = addDays(belgianDay(new Date()), 1);
    // Restricted as a fulfilled request leaves them (the request itself is the other test's subject).
    await runAsOwner(
      env.database.ownerUrl,
      'update data_subjects set restricted_at = now() where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, subjectId],
    );
    const mailsBefore = smtp.messages.length;
    const liftOf = () => liftDayOf(tenant, subjectId);

    const officer = await loginAs(env.app, env.kernel, tenant, 'privacy_officer');
    const { page, card } = await restrictionCardOf(officer, subjectId);
    await card.getByRole('combobox', { name: 'Waarom ze wordt opgeheven' }).click();
    await page.getByRole('option', { name: 'De persoon vroeg ze op te heffen' }).click();
    const liftButton = card.getByRole('button', { name: 'Beperking opheffen' });
    await liftButton.click();

    const noContact = card.getByTestId('no-contact');
    await noContact.getByText('Deze persoon heeft geen e-mailadres in het dossier').waitFor();
    expect(await liftButton.isDisabled()).toBe(true);
    expect(await liftOf()).toBeNull();
    await look(env.browser, page, 'officer-restriction-no-contact');

    await noContact
      .getByRole('checkbox', { name: 'Ik stuurde de persoon per post een brief dat de beperking eindigt' })
      .check();
    await liftButton.click();
    await card
      .getByText(`De persoon is verwittigd; de beperking eindigt op ${dutchDay(tomorrow)}.`)
      .waitFor();
    expect(await liftOf()).toBe(tomorrow);
    expect(await liftReasonsOf(tenant)).toEqual([
      'ground person_asked; ends the next day; letter sent by post (staff confirmed)',
    ]);
    await look(env.browser, page, 'officer-restriction-lifted-by-post');
    expectNoPageProblems(env, page);
    await page.context().close();
    expect(smtp.messages).toHaveLength(mailsBefore);
  });
});
