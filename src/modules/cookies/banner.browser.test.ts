import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listenForBrowser,
  startBrowser,
  type BrowserContext,
  type BrowserSuite,
  type Page,
} from '../../../test/browser.js';
import { ROOT } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { BANNER_VERSION } from './banner.texts.js';
import { cookieSectionVersion } from './cookie-policy.js';

/**
 * The banner in a real Chromium on a sample provider page. The provider's site is a second server
 * on `localhost`, Kluis is on `127.0.0.1`: another site, so the script, its stylesheet and the
 * receipts cross origins as they do in production.
 */
/** What the page's window and document show the test (the browser's DOM, typed just enough). */
interface PageGlobals {
  document: { activeElement: { id: string } | null; cookie: string };
  statsRuns?: number;
  trackingRuns?: number;
  KluisConsent?: unknown;
  Navigator: { prototype: object };
}

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let kluisUrl: string;
let site: Server;
let siteUrl: string;
let browser: BrowserSuite;

/** The provider's page: the one tag, two gated scripts, a functional cookie and a settings link. */
function providerPage(slug: string, lang: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><title>VoiceKing – internet</title>
<script src="${kluisUrl}/t/${slug}/consent.js" async></script>
<script>document.cookie = 'kluis_lang=${lang}; path=/';</script>
</head>
<body>
<main><h1>VoiceKing internet</h1><p>Snel internet voor uw zaak.</p>
<p><a href="#cookie-settings">Cookie settings</a></p></main>
<script type="text/plain" data-category="analytics">window.statsRuns = (window.statsRuns || 0) + 1; document.cookie = 'kluis_stats=s1; path=/; max-age=3600';</script>
<script type="text/plain" data-category="tracking">window.trackingRuns = (window.trackingRuns || 0) + 1; document.cookie = 'kluis_profile=p1; path=/; max-age=3600';</script>
</body>
</html>`;
}

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  kluisUrl = await listenForBrowser(app);
  site = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const slug = url.searchParams.get('t') ?? '';
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(providerPage(slug, url.searchParams.get('lang') ?? 'nl'));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://localhost:${(site.address() as AddressInfo).port}`;
  browser = await startBrowser('cookies');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await app?.close();
  await database?.close();
});

async function cookieNames(page: Page): Promise<string[]> {
  return (await page.context().cookies()).map((cookie) => cookie.name).sort();
}

async function receiptsOf(tenant: Tenant): Promise<Array<Record<string, unknown>>> {
  return (
    await runAsOwner(
      database.ownerUrl,
      `select consent_id, categories, policy_version, banner_version, language, source, gpc
         from cookie_receipts where tenant_id = $1 order by receipt_id`,
      [tenant.tenantId],
    )
  ).rows;
}

/** A page of a browser that sends Global Privacy Control (the header and navigator.globalPrivacyControl). */
async function gpcPage(options: Parameters<BrowserSuite['newPage']>[0]): Promise<Page> {
  const page = await browser.newPage({ ...options, extraHTTPHeaders: { 'Sec-GPC': '1' } });
  await page.addInitScript(() => {
    Object.defineProperty(
      (globalThis as unknown as PageGlobals).Navigator.prototype,
      'globalPrivacyControl',
      {
        get: () => true,
      },
    );
  });
  return page;
}

/** The cookies of a browser that accepted every category in the banner (English), its page closed. */
async function acceptedAll(tenant: Tenant): Promise<Awaited<ReturnType<BrowserContext['storageState']>>> {
  const page = await browser.newPage({ locale: 'en-GB' });
  await open(page, tenant, 'en');
  await page.getByRole('button', { name: 'Accept all' }).click();
  await page.locator('#kluis-cc').waitFor({ state: 'detached' });
  expect(await ran(page, 'statsRuns')).toBe(1);
  const state = await page.context().storageState();
  await page.context().close();
  return state;
}

async function open(page: Page, tenant: Tenant, lang = 'nl'): Promise<void> {
  await page.goto(`${siteUrl}/?t=${tenant.slug}&lang=${lang}`);
  await page.waitForFunction(() => 'KluisConsent' in globalThis);
}

const ran = (page: Page, name: 'statsRuns' | 'trackingRuns') =>
  page.evaluate((key) => (globalThis as unknown as Record<string, number | undefined>)[key] ?? 0, name);

describe('the cookie banner on a provider’s page (Chromium)', () => {
  it('VK-20: the banner shows at the first visit with accept, refuse and per-category choices (nl, fr, en); a gated script runs only after consent; the receipt names the versions', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const version = cookieSectionVersion((await kernel.policies.current(tenant.tenantId)).policy);
    const expected = {
      nl: { title: 'Cookies op deze website', accept: 'Alles aanvaarden', refuse: 'Alles weigeren' },
      fr: { title: 'Cookies sur ce site', accept: 'Tout accepter', refuse: 'Tout refuser' },
      en: { title: 'Cookies on this website', accept: 'Accept all', refuse: 'Refuse all' },
    } as const;
    for (const lang of ['nl', 'fr', 'en'] as const) {
      const page = await browser.newPage();
      await open(page, tenant, lang);
      const banner = page.getByRole('dialog', { name: expected[lang].title });
      await banner.waitFor({ state: 'visible' });
      await expect(banner.getByRole('button', { name: expected[lang].accept }).isVisible()).resolves.toBe(
        true,
      );
      await expect(banner.getByRole('button', { name: expected[lang].refuse }).isVisible()).resolves.toBe(
        true,
      );
      // Refusing is as easy and as visible as accepting: the same size.
      const acceptBox = await banner.getByRole('button', { name: expected[lang].accept }).boundingBox();
      const refuseBox = await banner.getByRole('button', { name: expected[lang].refuse }).boundingBox();
      expect(refuseBox?.width).toBeCloseTo(acceptBox?.width ?? 0, 0);
      expect(refuseBox?.height).toBeCloseTo(acceptBox?.height ?? 0, 0);
      // No pre-ticked boxes: functional is shown on and disabled, the others unticked.
      const boxes = [];
      for (const box of await page.locator('#kluis-cc input[type=checkbox]').all())
        boxes.push({
          id: await box.getAttribute('id'),
          checked: await box.isChecked(),
          disabled: await box.isDisabled(),
        });
      expect(boxes).toEqual([
        { id: 'kluis-cc-functional', checked: true, disabled: true },
        { id: 'kluis-cc-analytical', checked: false, disabled: false },
        { id: 'kluis-cc-tracking', checked: false, disabled: false },
      ]);
      // No cookie wall: the page behind stays usable.
      await expect(page.getByRole('heading', { name: 'VoiceKing internet' }).isVisible()).resolves.toBe(true);
      expect(await ran(page, 'statsRuns')).toBe(0);
      expect(await cookieNames(page)).toEqual(['kluis_lang']);
      await browser.checkAccessibility(page, { include: '#kluis-cc' });
      await browser.screenshot(page, `banner-${lang}`);
      if (lang === 'en') {
        await banner.getByRole('button', { name: 'Details per cookie' }).click();
        await expect(page.getByRole('table', { name: 'Analytical' }).isVisible()).resolves.toBe(true);
        await expect(page.getByRole('rowheader', { name: 'kluis_stats' }).isVisible()).resolves.toBe(true);
        await browser.checkAccessibility(page, { include: '#kluis-cc' });
        await browser.screenshot(page, 'banner-en-details');
      }
      if (lang === 'nl') {
        // Keyboard only: the first Tab reaches the banner, space ticks, Enter on "save" saves.
        await page.keyboard.press('Tab');
        expect(
          await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.id),
        ).toBe('kluis-cc-analytical');
        await page.keyboard.press('Space');
        await banner.getByRole('button', { name: 'Mijn keuze bewaren' }).focus();
        await page.keyboard.press('Enter');
        await banner.waitFor({ state: 'detached' });
        expect(await ran(page, 'statsRuns')).toBe(1);
        expect(await ran(page, 'trackingRuns')).toBe(0);
        expect(await cookieNames(page)).toEqual(['kluis_consent', 'kluis_lang', 'kluis_stats']);
        // The next page keeps the choice: no banner, the script runs at once.
        await open(page, tenant, lang);
        await page.waitForFunction(() => (globalThis as unknown as PageGlobals).statsRuns === 1);
        expect(await page.locator('#kluis-cc').count()).toBe(0);
      }
      expect(browser.problemsOf(page)).toEqual([]);
      await page.context().close();
    }
    expect(await receiptsOf(tenant)).toEqual([
      expect.objectContaining({
        categories: ['analytical'],
        policy_version: version,
        banner_version: BANNER_VERSION,
        language: 'nl',
        source: 'banner',
        gpc: false,
      }),
    ]);
  });

  it('VK-20: refusing removes the gated cookies; a choice given later is withdrawn from the "cookie settings" link, its cookies removed and its scripts no longer loaded', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const page = await browser.newPage({ locale: 'en-GB' });
    // Left over from an earlier visit (say, before a policy change): removed when refused.
    await page.context().addCookies([
      { name: 'kluis_stats', value: 'old', url: siteUrl },
      { name: 'kluis_profile', value: 'old', url: siteUrl },
    ]);
    await open(page, tenant, 'en');
    await page.getByRole('button', { name: 'Refuse all' }).click();
    await page.locator('#kluis-cc').waitFor({ state: 'detached' });
    expect(await cookieNames(page)).toEqual(['kluis_consent', 'kluis_lang']);
    expect(await ran(page, 'statsRuns')).toBe(0);

    // Give consent from the settings link, then withdraw it the same way.
    await page.getByRole('link', { name: 'Cookie settings' }).click();
    const settings = page.getByRole('dialog', { name: 'Your cookie settings' });
    await settings.waitFor({ state: 'visible' });
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.id)).toBe(
      'kluis-cc-title',
    );
    await settings.getByRole('button', { name: 'Accept all' }).click();
    await settings.waitFor({ state: 'detached' });
    expect(await ran(page, 'statsRuns')).toBe(1);
    expect(await ran(page, 'trackingRuns')).toBe(1);
    expect(await cookieNames(page)).toEqual(['kluis_consent', 'kluis_lang', 'kluis_profile', 'kluis_stats']);

    await page.getByRole('link', { name: 'Cookie settings' }).click();
    await expect(page.getByLabel('Analytical').isChecked()).resolves.toBe(true);
    await page.getByLabel('Tracking').uncheck();
    await browser.screenshot(page, 'settings-layer-en');
    // Withdrawing a category whose script ran reloads the page: the script is not loaded again.
    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Save my choice' }).click(),
    ]);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).statsRuns === 1);
    expect(await ran(page, 'trackingRuns')).toBe(0);
    expect(await cookieNames(page)).toEqual(['kluis_consent', 'kluis_lang', 'kluis_stats']);
    expect(browser.problemsOf(page)).toEqual([]);

    const receipts = await receiptsOf(tenant);
    expect(receipts.map((receipt) => receipt.categories)).toEqual([
      [],
      ['analytical', 'tracking'],
      ['analytical'],
    ]);
    // One visitor, one consent id across the three choices.
    // One id throughout: the banner sent the id's secret with each change (decision 0410), else an
    // acceptance after the refusal would have been recorded under a new id.
    expect(new Set(receipts.map((receipt) => receipt.consent_id)).size).toBe(1);
  });

  it('VK-20: a browser with Global Privacy Control gets no non-essential category and no banner, unless it gives consent explicitly', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const page = await gpcPage({ locale: 'fr-BE' });
    await open(page, tenant, 'fr');
    await expect.poll(() => receiptsOf(tenant)).toHaveLength(1);
    expect(await page.locator('#kluis-cc').count()).toBe(0);
    expect(await ran(page, 'statsRuns')).toBe(0);
    expect(await receiptsOf(tenant)).toEqual([
      expect.objectContaining({ categories: [], source: 'gpc', gpc: true, language: 'fr' }),
    ]);
    await browser.screenshot(page, 'gpc-fr-no-banner');
    // The next page does not ask either.
    await open(page, tenant, 'fr');
    expect(await page.locator('#kluis-cc').count()).toBe(0);

    await page.getByRole('link', { name: 'Cookie settings' }).click();
    const settings = page.getByRole('dialog', { name: 'Vos paramètres de cookies' });
    await expect(settings.getByText('Global Privacy Control').isVisible()).resolves.toBe(true);
    await settings.getByLabel('Analytiques').check();
    await settings.getByRole('button', { name: 'Enregistrer mon choix' }).click();
    await settings.waitFor({ state: 'detached' });
    expect(await ran(page, 'statsRuns')).toBe(1);
    expect((await receiptsOf(tenant)).at(-1)).toMatchObject({
      categories: ['analytical'],
      source: 'banner',
      gpc: true,
    });
  });

  it('VK-20: Global Privacy Control switched on after an acceptance given without it withdraws that acceptance (a refusal on record, the cookies removed, the scripts not run); an explicit choice made with GPC on holds (decision 0860)', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const state = await acceptedAll(tenant);
    // The same browser, now sending GPC.
    const page = await gpcPage({ locale: 'en-GB', storageState: state });
    await open(page, tenant, 'en');
    await expect.poll(() => receiptsOf(tenant)).toHaveLength(2);
    const [accepted, withdrawn] = await receiptsOf(tenant);
    expect(accepted).toMatchObject({ categories: ['analytical', 'tracking'], gpc: false });
    expect(withdrawn).toMatchObject({ categories: [], source: 'gpc', gpc: true });
    expect(withdrawn?.consent_id).toBe(accepted?.consent_id);
    expect(await page.locator('#kluis-cc').count()).toBe(0);
    expect(await ran(page, 'statsRuns')).toBe(0);
    expect(await ran(page, 'trackingRuns')).toBe(0);
    await expect.poll(() => cookieNames(page)).toEqual(['kluis_consent', 'kluis_lang']);

    // Consent given in the settings layer while GPC is on is the visitor's own: the next page keeps it.
    await page.getByRole('link', { name: 'Cookie settings' }).click();
    const settings = page.getByRole('dialog', { name: 'Your cookie settings' });
    await settings.getByLabel('Analytical').check();
    await settings.getByRole('button', { name: 'Save my choice' }).click();
    await settings.waitFor({ state: 'detached' });
    expect(await ran(page, 'statsRuns')).toBe(1);
    await open(page, tenant, 'en');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).statsRuns === 1);
    expect(await receiptsOf(tenant)).toHaveLength(3);
    expect((await receiptsOf(tenant)).at(-1)).toMatchObject({ categories: ['analytical'], gpc: true });
    expect(browser.problemsOf(page)).toEqual([]);
    await browser.screenshot(page, 'gpc-after-acceptance-en');
    await page.context().close();
  });

  it('VK-20: a new version of the cookie section asks everyone again', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const oldVersion = cookieSectionVersion((await kernel.policies.current(tenant.tenantId)).policy);
    const state = await acceptedAll(tenant);

    const file = path.join(ROOT, 'policies', 'voiceking.yaml');
    // A changed statement gets its own statement version (decision 0923).
    const changed = (await readFile(file, 'utf8'))
      .replace(
        'lifetime: P13M\n      purpose: { nl: meet het gebruik',
        'lifetime: P12M\n      purpose: { nl: meet het gebruik',
      )
      .replace("version: '2026.2'", "version: '2026.3'");
    await kernel.policies.install(tenant.tenantId, changed, 'policies/voiceking.yaml');
    const newVersion = cookieSectionVersion((await kernel.policies.current(tenant.tenantId)).policy);
    expect(newVersion).not.toBe(oldVersion);

    // Same cookies, a fresh cache (the script is cached for five minutes).
    const again = await browser.newPage({ locale: 'en-GB', storageState: state });
    await open(again, tenant, 'en');
    await again.getByRole('dialog', { name: 'Cookies on this website' }).waitFor({ state: 'visible' });
    expect(await ran(again, 'statsRuns')).toBe(0);
    // Until the new choice, the cookies of the earlier consent are removed.
    expect(await cookieNames(again)).toEqual(['kluis_consent', 'kluis_lang']);
    await again.getByRole('button', { name: 'Refuse all' }).click();
    await again.locator('#kluis-cc').waitFor({ state: 'detached' });
    const receipts = await receiptsOf(tenant);
    expect(receipts.map((receipt) => [receipt.categories, receipt.policy_version])).toEqual([
      [['analytical', 'tracking'], oldVersion],
      [[], newVersion],
    ]);
    expect(receipts[0]?.consent_id).toBe(receipts[1]?.consent_id);
  });

  it('the cookie-settings page works without JavaScript, in nl, fr and en', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    for (const lang of ['nl', 'fr', 'en'] as const) {
      const page = await browser.newPage({ javaScriptEnabled: false });
      await page.goto(`${kluisUrl}/t/${tenant.slug}/cookies?lang=${lang}`);
      await browser.checkAccessibility(page);
      const accept = { nl: 'Alles aanvaarden', fr: 'Tout accepter', en: 'Accept all' }[lang];
      await page.getByRole('button', { name: accept }).click();
      await page.waitForURL(/saved=1/);
      await expect(page.getByRole('status').isVisible()).resolves.toBe(true);
      await browser.screenshot(page, `settings-page-${lang}`);
      // Under Kluis's own CSP (helmet): nothing refused, no error.
      expect(browser.problemsOf(page)).toEqual([]);
      await page.context().close();
    }
    expect((await receiptsOf(tenant)).map((receipt) => [receipt.source, receipt.categories])).toEqual([
      ['settings', ['analytical', 'tracking']],
      ['settings', ['analytical', 'tracking']],
      ['settings', ['analytical', 'tracking']],
    ]);
  });
});
