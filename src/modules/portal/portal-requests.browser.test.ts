import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserSuite, Page } from '../../../test/browser.js';
import type { SmtpSink } from '../../../test/smtp.js';
import { unzip } from '../../../test/zip.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson, getPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { startPortalSuite, type PortalSuite } from './portal.test-helpers.js';
import { savePortalTheme } from './theme.js';

let suite: PortalSuite;
let kernel: Kernel;
let smtp: SmtpSink;
let browser: BrowserSuite;
let baseUrl: string;
let voiceking: Tenant;

beforeAll(async () => {
  suite = await startPortalSuite('portal-requests');
  ({ kernel, smtp, browser, baseUrl } = suite);
  voiceking = suite.tenants.voiceking;
  await savePortalTheme(kernel, voiceking.tenantId, { primary: '#e30613', accent: '#1d1d1b' });
});
afterAll(async () => {
  await suite?.close();
});

async function customer(
  givenName: string,
  email: string,
  preferredLanguage: 'nl' | 'fr' | 'en',
): Promise<number> {
  const person = await createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: 'Portaal',
      givenName,
      email,
      preferredLanguage,
      address: { street: 'Kerkstraat 1', postalCode: '8500', city: 'Kortrijk' },
    },
  );
  return person.subjectId;
}

const LANGS = ['nl', 'fr', 'en'] as const;

const check = (page: Page, name: string): Promise<void> => suite.check(page, name);

describe('the privacy portal: statement and request pages (issue 19)', () => {
  it('shows the statement with a table of contents, the tenant colours and a link to each right, in nl, fr and en', async () => {
    for (const lang of LANGS) {
      const page = await browser.newPage();
      const response = await page.goto(`${baseUrl}/t/${voiceking.slug}/privacy?lang=${lang}`);
      expect(response?.status()).toBe(200);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      const toc = page.locator('nav.toc li a');
      expect(await toc.count()).toBeGreaterThan(8);
      // Each table-of-contents entry leads to its heading.
      const target = await toc.nth(2).getAttribute('href');
      expect(await page.locator(`h2${target ?? ''}`).count()).toBe(1);
      const header = await page.evaluate<string>(
        "getComputedStyle(document.querySelector('header.site')).borderTopColor",
      );
      expect(header).toBe('rgb(227, 6, 19)');
      expect(await page.locator('a[href$="/rights/erasure"]').count()).toBeGreaterThan(0);
      await check(page, `statement-${lang}`);
      await page.context().close();
    }
  });

  it('VK-21 / VK-26: files an access request in the browser, reads the code from the mail, enters it and downloads the package', async () => {
    const email = 'an.portaal@example.be';
    await customer('An', email, 'fr');
    const page = await browser.newPage({ locale: 'fr-BE', acceptDownloads: true });
    await page.goto(`${baseUrl}/t/${voiceking.slug}/rights`);
    expect(await page.getAttribute('html', 'lang')).toBe('fr'); // Accept-Language
    await check(page, 'rights-fr');
    await page.getByRole('link', { name: 'Accéder à vos données' }).click();
    await check(page, 'form-access-fr');
    await page.getByLabel('Votre adresse e-mail').fill(email);
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.waitForURL(/\/rights\/requests\/[0-9a-f-]{36}\?token=/);
    expect(await page.locator('h1').textContent()).toBe('Saisissez le code');
    await check(page, 'code-fr');
    const mail = await smtp.waitFor(email);
    const text = mail.text ?? '';
    // The mail names the page as it is titled, and links to exactly this page.
    expect(text).toContain('saisissez ce code sur la page « Saisissez le code »');
    const code = /: (\d{6})\n/.exec(text)?.[1] ?? '';
    const link = /(http:\/\/127\.0\.0\.1:\d+\/t\/\S+)/.exec(text)?.[1] ?? '';
    expect(link).toBe(page.url());
    await page.getByLabel('Code reçu par e-mail').fill(code);
    await page.getByRole('button', { name: 'Confirmer' }).click();
    await page.waitForLoadState();
    expect(await page.locator('h1').textContent()).toBe('Suivi de votre demande');
    expect(await page.locator('dl.facts').textContent()).toContain('exécutée');
    await check(page, 'status-fr');
    const answer = await smtp.waitFor(email, 2);
    const download =
      /(http:\/\/127\.0\.0\.1:\d+\/t\/\S+\/privacy\/downloads\/\S+)/.exec(answer.text ?? '')?.[1] ?? '';
    expect(download).not.toBe('');
    // The link opens a page in the person's language; its button starts the download (decision 0400).
    await page.goto(download);
    expect(await page.locator('h1').textContent()).toBe('Télécharger vos données');
    await check(page, 'download-page-fr');
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Télécharger' }).click(),
    ]);
    const zip = await unzip(await readFile(await file.path()));
    const report = JSON.parse(zip.get('access-report.json') ?? '{}') as { language: string; data: unknown[] };
    expect(report.language).toBe('fr');
    expect(report.data.length).toBeGreaterThan(0);
  });

  it('the request form works with JavaScript switched off, on a phone, and a wrong code is said on the page', async () => {
    const email = 'bert.portaal@example.be';
    const bert = await customer('Bert', email, 'nl');
    for (const lang of LANGS) {
      const page = await browser.newPage({ javaScriptEnabled: false, phone: true });
      await page.goto(`${baseUrl}/t/${voiceking.slug}/rights/objection?lang=${lang}`);
      await check(page, `form-objection-${lang}-nojs`);
    }
    const page = await browser.newPage({ javaScriptEnabled: false, phone: true });
    await page.goto(`${baseUrl}/t/${voiceking.slug}/rights/rectification?lang=nl`);
    await check(page, 'form-rectification-nl-nojs');
    await page.getByLabel('Uw e-mailadres').fill(email);
    await page.getByLabel('Straat en nummer').fill('Marktplein 7');
    await page.getByRole('button', { name: 'Verzoek versturen' }).click();
    // Half an address is refused on the form itself, in the page's language, with what was typed kept.
    await page.waitForLoadState();
    expect(await page.locator('[role=alert]').textContent()).toContain('straat, postcode en gemeente samen');
    expect(await page.getByLabel('Straat en nummer').inputValue()).toBe('Marktplein 7');
    await check(page, 'form-rectification-error-nl-nojs');
    await page.getByLabel('Postcode').fill('8500');
    await page.getByLabel('Gemeente').fill('Kortrijk');
    await page.getByRole('button', { name: 'Verzoek versturen' }).click();
    await page.waitForURL(/\/rights\/requests\//);
    expect(await page.locator('h1').textContent()).toBe('Geef de code in');
    await page.getByLabel('Code uit de e-mail').fill('000000');
    await page.getByRole('button', { name: 'Bevestigen' }).click();
    await page.waitForLoadState();
    expect(await page.locator('[role=alert]').textContent()).toContain(
      'De code is fout of niet meer geldig.',
    );
    await check(page, 'code-wrong-nl-nojs');
    // The right code from the mail: the correction typed on the form is applied at once.
    const code = /: (\d{6})\n/.exec((await smtp.waitFor(email)).text ?? '')?.[1] ?? '';
    await page.getByLabel('Code uit de e-mail').fill(code);
    await page.getByRole('button', { name: 'Bevestigen' }).click();
    await page.waitForLoadState();
    expect(await page.locator('dl.facts').textContent()).toContain('uitgevoerd');
    await check(page, 'status-rectification-nl-nojs');
    const person = await getPerson(
      kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      bert,
    );
    expect(person.address).toMatchObject({ street: 'Marktplein 7', postalCode: '8500', city: 'Kortrijk' });
  });
});
