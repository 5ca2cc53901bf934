import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserSuite, Page } from '../../../test/browser.js';
import { loginAs } from '../../../test/http.js';
import type { SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import {
  billingContext,
  insertCalls,
  prepareTenant,
  startContract,
} from '../billing/billing.test-helpers.js';
import { runInvoices } from '../billing/index.js';
import { createPerson, getPerson } from '../parties/index.js';
import { listConsentStates } from '../consent/index.js';
import type { Tenant } from '../tenants/index.js';
import { startPortalSuite, type PortalSuite } from './portal.test-helpers.js';

let suite: PortalSuite;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let browser: BrowserSuite;
let baseUrl: string;
let voiceking: Tenant;
let voxtra: Tenant;

beforeAll(async () => {
  suite = await startPortalSuite('portal-account', { tenants: ['voiceking', 'voxtra'] });
  ({ kernel, app, smtp, browser, baseUrl } = suite);
  ({ voiceking, voxtra } = suite.tenants);
});
afterAll(async () => {
  await suite?.close();
});

const STAFF = { kind: 'staff' as const, staffId: 1, role: 'sales' };

/** A customer with a contract, 90 call records over two months and an invoice (kept for the accountant). */
async function customerWithHistory(email: string): Promise<number> {
  const catalogue = await prepareTenant(kernel, voiceking);
  const person = await createPerson(
    kernel,
    { tenantId: voiceking.tenantId, actor: STAFF, purpose: 'order_processing' },
    {
      subjectType: 'customer',
      familyName: 'Vermeersch',
      givenName: 'Lotte',
      email,
      preferredLanguage: 'nl',
      address: { street: 'Oude Vestingstraat 3', postalCode: '8500', city: 'Kortrijk' },
    },
  );
  // Ended: a contract that still runs keeps its holder from erasure (decision 0940).
  await startContract(kernel, voiceking, person.subjectId, {
    startDate: '2026-09-01',
    endDate: '2026-10-31',
    lines: [{ productId: catalogue.subscription }],
  });
  const calls = Array.from({ length: 90 }, (_, index) => ({
    subjectId: person.subjectId,
    startedAt: `2026-${index < 30 ? '09' : '10'}-${String((index % 28) + 1).padStart(2, '0')}T09:${String(index % 60).padStart(2, '0')}:00Z`,
    destination: '+32470555666',
    seconds: 60 + index,
    costMicros: 150_000,
  }));
  await insertCalls(kernel, voiceking, calls);
  await runInvoices(kernel, billingContext(voiceking), { period: '2026-10', callsPurpose: 'call_billing' });
  return person.subjectId;
}

const check = (page: Page, name: string): Promise<void> => suite.check(page, name);
const mailMatching = (email: string, pattern: RegExp): Promise<string> => suite.mailMatching(email, pattern);

async function logInByMail(page: Page, email: string): Promise<void> {
  await suite.logInByMail(page, voiceking, email, {
    onSent: async (sent) => {
      expect(await sent.locator('[role=status]').textContent()).toContain(
        'a login link is now in your mailbox',
      );
      await check(sent, 'login-link-sent-en');
    },
  });
}

describe('the privacy portal account (issue 19)', () => {
  it('VK-23: a customer logs in by mailed link, reads their data by category and call records by month, downloads it, corrects the address, erases the account and reads the letter', async () => {
    const email = 'lotte.vermeersch@example.be';
    const subjectId = await customerWithHistory(email);
    const page = await browser.newPage({ locale: 'en-GB', acceptDownloads: true });
    await page.goto(`${baseUrl}/t/${voiceking.slug}/account`);
    await check(page, 'login-en');
    await logInByMail(page, email);
    // Logged in, the person's own language (nl) comes before the browser's (en).
    expect(await page.getAttribute('html', 'lang')).toBe('nl');
    expect(await page.locator('h1').textContent()).toBe('Mijn account');
    await check(page, 'home-nl');

    for (const lang of ['fr', 'en', 'nl'] as const) {
      await page.goto(`${baseUrl}/t/${voiceking.slug}/account/my-data?lang=${lang}`);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      const text = (await page.locator('main').textContent()) ?? '';
      // Plain words, not the policy's codes.
      expect(text).not.toMatch(
        /legal_obligation|after_contract_end|legitimate_interests|user\.contact|kluis\./,
      );
      await check(page, `my-data-${lang}`);
    }
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('de uitvoering van een overeenkomst met u');
    // Each retention period once per category, however many purposes share its rule.
    for (const retention of await page.locator('dt:text-is("Hoelang") + dd').allTextContents()) {
      const periods = retention.split('; ');
      expect(new Set(periods).size).toBe(periods.length);
    }
    expect(await page.locator('dt:text-is("Hoelang") + dd').first().textContent()).toBe(
      'zolang de overeenkomst loopt en daarna nog 3 jaar; 10 jaar, te rekenen vanaf 1 januari na de datum van het document',
    );

    // Call records by month: 90 rows over two months (30 and 60), a month at a time, 50 rows a page.
    await page.goto(`${baseUrl}/t/${voiceking.slug}/account/my-data/call_records`);
    expect(await page.locator('nav[aria-label="Maand"] a').count()).toBe(2);
    expect(await page.locator('tbody tr').count()).toBe(50);
    expect(await page.locator('nav.pager').textContent()).toContain('Pagina 1 van 2');
    await check(page, 'my-data-call-records-nl');
    await page.getByRole('link', { name: '2026-09 (30)' }).click();
    await page.waitForLoadState();
    expect(await page.locator('tbody tr').count()).toBe(30);

    // Downloads.
    await page.goto(`${baseUrl}/t/${voiceking.slug}/account/my-data`);
    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Alles downloaden (JSON)' }).click(),
    ]);
    const report = JSON.parse(await readFile(await json.path(), 'utf8')) as {
      data: Array<{ table: string }>;
    };
    expect(report.data.map((table) => table.table)).toContain('call_records');

    // Correct the address.
    await page.goto(`${baseUrl}/t/${voiceking.slug}/account/correct`);
    await check(page, 'correct-nl');
    await page.getByLabel('Straat en nummer').fill('Grote Markt 12');
    await page.getByLabel('Postcode').fill('8500');
    await page.getByRole('button', { name: 'Opslaan' }).click();
    await page.waitForURL(/correct\?done=/);
    // Named back: the street only; the postcode typed over with the same value and the town left
    // as it was are not changes.
    expect(await page.locator('[role=status]').textContent()).toContain(
      'Uw gegevens zijn verbeterd. Gewijzigd: Straat en nummer.',
    );
    const corrected = await getPerson(
      kernel,
      { tenantId: voiceking.tenantId, actor: STAFF, purpose: 'order_processing' },
      subjectId,
    );
    expect(corrected.address).toMatchObject({
      street: 'Grote Markt 12',
      postalCode: '8500',
      city: 'Kortrijk',
    });

    for (const lang of ['fr', 'en', 'nl'] as const) {
      for (const sub of ['my-requests', 'settings', 'erase']) {
        await page.goto(`${baseUrl}/t/${voiceking.slug}/account/${sub}?lang=${lang}`);
        await check(page, `${sub}-${lang}`);
      }
    }

    // Erase: the page says first what is kept, why and until when.
    await page.goto(`${baseUrl}/t/${voiceking.slug}/account/erase`);
    const kept = (await page.locator('main ul').first().textContent()) ?? '';
    expect(kept).toMatch(/Tot: /);
    await page.getByLabel('Ja, wis mijn account').check();
    await page.getByRole('button', { name: 'Account wissen' }).click();
    await page.waitForURL(/account\/erased/);
    expect(await page.locator('[role=status]').textContent()).toContain('Uw account is gewist.');
    await check(page, 'erased-nl');
    const letter = await mailMatching(email, /Gewist:/);
    expect(letter).toContain('Wat we nog moeten bewaren, waarom en tot wanneer:');
    expect(letter).toContain('Gegevensbeschermingsautoriteit');
    // The session is gone with the account.
    await page.goto(`${baseUrl}/t/${voiceking.slug}/account/my-data`);
    expect(await page.locator('h1').textContent()).toBe('Aanmelden');
  });

  it('refuses what is not the person’s own: another tenant’s slug, a staff session, a form without its token, an erased account twice', async () => {
    const email = 'jonas.aanval@example.be';
    const person = await createPerson(
      kernel,
      { tenantId: voiceking.tenantId, actor: STAFF, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Aanval', givenName: 'Jonas', email, preferredLanguage: 'en' },
    );
    const page = await browser.newPage({ locale: 'en-GB' });
    await logInByMail(page, email);
    const cookies = await page.context().cookies();
    const header = cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
    const csrf = cookies.find((cookie) => cookie.name === 'kluis_subject_csrf')?.value ?? '';

    // The same cookies against another tenant's pages: the login page, nothing of the person.
    const other = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/my-data`,
      headers: { cookie: header },
    });
    expect(other.statusCode).toBe(401);
    expect(other.body).not.toContain('Aanval');

    // A staff session opens nothing in the portal.
    const staff = await loginAs(app, kernel, voiceking, 'admin');
    const asStaff = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-data`,
      headers: { cookie: staff.cookie, 'x-csrf-token': staff.csrfToken },
    });
    expect(asStaff.statusCode).toBe(401);

    // A correction posted without the session's CSRF token (a form from elsewhere) changes nothing.
    const forged = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/correct`,
      headers: { cookie: header, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'givenName=Mallory',
    });
    expect(forged.statusCode).toBe(403);
    const unchanged = await getPerson(
      kernel,
      { tenantId: voiceking.tenantId, actor: STAFF, purpose: 'order_processing' },
      person.subjectId,
    );
    expect(unchanged.givenName).toBe('Jonas');

    // A public request form posted without its form cookie, or from another site, is refused.
    const noToken = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/rights/access`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=${encodeURIComponent(email)}&csrf=x`,
    });
    expect(noToken.statusCode).toBe(403);
    const crossSite = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/rights/access`,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: 'kluis_form=abcdefghijabcdefghijabcdefghijabcdefghij123',
        'sec-fetch-site': 'cross-site',
      },
      payload: `email=${encodeURIComponent(email)}&csrf=abcdefghijabcdefghijabcdefghijabcdefghij123`,
    });
    expect(crossSite.statusCode).toBe(403);
    expect(
      smtp
        .to(email)
        .filter((mail) => /code/.test(mail.subject ?? '') || /Enter the code/.test(mail.text ?? '')),
    ).toEqual([]);

    // Erase, then the same form again with the old session: nothing more happens.
    const erase = async () =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/account/erase`,
        headers: { cookie: header, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `csrf=${encodeURIComponent(csrf)}&confirm=yes`,
      });
    const first = await erase();
    expect(first.statusCode).toBe(303);
    const second = await erase();
    expect(second.statusCode).toBe(401);
  });

  it('VK-24: a customer gives and withdraws a consent on "my consents" and objects to direct marketing, each in effect at once', async () => {
    const email = 'mira.keuze@example.be';
    const person = await createPerson(
      kernel,
      { tenantId: voiceking.tenantId, actor: STAFF, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Keuze', givenName: 'Mira', email, preferredLanguage: 'en' },
    );
    const page = await browser.newPage({ locale: 'en-GB', phone: true });
    await logInByMail(page, email);
    for (const lang of ['nl', 'fr', 'en'] as const) {
      await page.goto(`${baseUrl}/t/${voiceking.slug}/account/my-consents?lang=${lang}`);
      await check(page, `my-consents-${lang}`);
    }
    const card = page
      .locator('ul.cards > li', { has: page.getByRole('button', { name: 'Give consent' }) })
      .first();
    const purpose = (await card.locator('h2').textContent()) ?? '';
    await card.getByRole('button', { name: 'Give consent' }).click();
    await page.waitForURL(/saved=1/);
    const given = page.locator('ul.cards > li', { has: page.locator('h2', { hasText: purpose }) });
    expect(await given.textContent()).toContain('you gave your consent');
    await given.getByRole('button', { name: 'Withdraw consent' }).click();
    await page.waitForURL(/saved=1/);
    expect(
      await page.locator('ul.cards > li', { has: page.locator('h2', { hasText: purpose }) }).textContent(),
    ).toContain('you withdrew your consent');
    await page.getByRole('button', { name: 'No more direct marketing' }).click();
    await page.waitForURL(/saved=1/);
    expect(await page.locator('main').textContent()).toContain('You objected to direct marketing.');
    await check(page, 'my-consents-after-en');
    const states = await listConsentStates(
      kernel,
      { tenantId: voiceking.tenantId, actor: { kind: 'subject', subjectId: person.subjectId } },
      'en',
    );
    expect(states.marketingObjectedAt).not.toBeNull();
    expect(states.purposes.find((item) => item.label === purpose)?.state).toBe('withdrawn');
  });
});
