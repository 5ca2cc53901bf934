import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserSuite } from '../../../test/browser.js';
import { runAsOwner, testLogger } from '../../../test/database.js';
import { loginAs } from '../../../test/http.js';
import { createMailing, queueMailing, sendQueuedMailings } from '../consent/index.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { startPortalSuite, type PortalSuite } from './portal.test-helpers.js';
import { savePortalTheme } from './theme.js';

let suite: PortalSuite;
let browser: BrowserSuite;
let voiceking: Tenant;

beforeAll(async () => {
  suite = await startPortalSuite('portal-public');
  browser = suite.browser;
  voiceking = suite.tenants.voiceking;
  await savePortalTheme(suite.kernel, voiceking.tenantId, { primary: '#e30613', accent: '#1d1d1b' });
});
afterAll(async () => {
  await suite?.close();
});

const LANGS = ['nl', 'fr', 'en'] as const;
const headerColour = "getComputedStyle(document.querySelector('header.site')).borderTopColor";

describe('the unsubscribe and cookie-settings pages in the portal layout (issues 14, 15 and 19)', () => {
  it('VK-18: the unsubscribe page of a mailing is a portal page in the recipient’s language, works with JavaScript off on a phone, sets no cookie and unsubscribes with its one button', async () => {
    const email = 'roos.uitschrijf@example.be';
    const person = await createPerson(
      suite.kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      {
        subjectType: 'customer',
        familyName: 'Uitschrijf',
        givenName: 'Roos',
        email,
        preferredLanguage: 'fr',
      },
    );
    const sales = await loginAs(suite.app, suite.kernel, voiceking, 'sales');
    const context = {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff' as const, staffId: sales.staffId, role: 'sales' },
      purpose: 'newsletter_customers',
    };
    const mailing = await createMailing(suite.kernel, context, {
      texts: { fr: { subject: 'Nouvelles', body: 'Bonjour.' }, nl: { subject: 'Nieuws', body: 'Dag.' } },
    });
    await queueMailing(suite.kernel, context, mailing.mailingId);
    await sendQueuedMailings(
      {
        kernel: suite.kernel,
        mailer: suite.smtp.mailer,
        publicUrl: suite.baseUrl,
        dataMap: DATA_MAP,
        logger: testLogger,
      },
      { tenantId: voiceking.tenantId, mailingId: mailing.mailingId },
    );
    const text = await suite.mailMatching(email, /mail\/unsubscribe\//);
    const link =
      /(http:\/\/127\.0\.0\.1:\d+\/t\/\S+\/mail\/unsubscribe\/[A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '';
    expect(link).not.toBe('');

    const page = await browser.newPage({ javaScriptEnabled: false, phone: true, locale: 'en-GB' });
    await page.goto(link);
    // The recipient's language (French), not the browser's; the tenant's header and colours.
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    expect(await page.locator('h1').textContent()).toBe('Se désinscrire');
    expect(await page.locator('header.site .name').textContent()).toBe('VoiceKing CVBA');
    expect(await page.evaluate<string>(headerColour)).toBe('rgb(227, 6, 19)');
    expect(await page.locator('footer').textContent()).toContain('info@voiceking.be');
    await suite.check(page, 'unsubscribe-fr-nojs');
    for (const lang of ['nl', 'en'] as const) {
      await page.locator(`.langs a[lang="${lang}"]`).click();
      await page.waitForURL(new RegExp(`lang=${lang}$`));
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      await suite.check(page, `unsubscribe-${lang}-nojs`);
    }
    // A GET changed nothing; the language choice travels in the link, never in a cookie.
    const states = async () =>
      (
        await runAsOwner<{ state: string }>(
          suite.database.ownerUrl,
          `select state from subject_purpose_states where subject_id = $1 and purpose = 'newsletter_customers'`,
          [person.subjectId],
        )
      ).rows;
    expect(await states()).toEqual([]);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.waitForLoadState();
    expect(await page.locator('h1').textContent()).toBe('You are unsubscribed');
    await suite.check(page, 'unsubscribed-en-nojs');
    expect(await page.context().cookies()).toEqual([]);
    expect(await states()).toEqual([{ state: 'objected' }]);

    // An unknown link: the same frame, a 404 page.
    const unknown = await browser.newPage({ javaScriptEnabled: false, locale: 'nl-BE' });
    const response = await unknown.goto(
      `${suite.baseUrl}/t/${voiceking.slug}/mail/unsubscribe/${'x'.repeat(43)}`,
    );
    expect(response?.status()).toBe(404);
    expect(await unknown.locator('h1').textContent()).toBe('Onbekende link');
    await suite.check(unknown, 'unsubscribe-unknown-nl-nojs');
  });

  it('VK-20: the cookie-settings page is a portal page in nl, fr and en, with and without JavaScript, and records the choice made there', async () => {
    for (const lang of LANGS) {
      const page = await browser.newPage({ javaScriptEnabled: lang !== 'en', phone: lang === 'fr' });
      await page.goto(`${suite.baseUrl}/t/${voiceking.slug}/cookies?lang=${lang}`);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      expect(await page.evaluate<string>(headerColour)).toBe('rgb(227, 6, 19)');
      expect(await page.locator('nav.main a').count()).toBeGreaterThanOrEqual(3);
      await suite.check(page, `cookie-settings-${lang}`);
      const save = { nl: 'Mijn keuze bewaren', fr: 'Enregistrer mon choix', en: 'Save my choice' }[lang];
      const analytical = { nl: 'Analytisch', fr: 'Analytiques', en: 'Analytical' }[lang];
      await page.getByRole('checkbox', { name: analytical }).check();
      await page.getByRole('button', { name: save }).click();
      await page.waitForURL(/saved=1/);
      expect(await page.getByRole('status').isVisible()).toBe(true);
      // The consent id is shown, with this choice in its history.
      expect(await page.locator('main code').textContent()).toMatch(/^[A-Za-z0-9_-]{22}$/);
      await suite.check(page, `cookie-settings-saved-${lang}`);
      await page.context().close();
    }
    const receipts = await runAsOwner<{ source: string; categories: string[] }>(
      suite.database.ownerUrl,
      'select source, categories from cookie_receipts where tenant_id = $1 order by receipt_id',
      [voiceking.tenantId],
    );
    expect(receipts.rows).toEqual(LANGS.map(() => ({ source: 'settings', categories: ['analytical'] })));
  });
});
