import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserSuite, Page } from '../../../test/browser.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import type { Tenant } from '../tenants/index.js';
import { startPortalSuite, type PortalSuite } from './portal.test-helpers.js';

let suite: PortalSuite;
let database: TestDatabase;
let browser: BrowserSuite;
let baseUrl: string;
let voiceking: Tenant;

beforeAll(async () => {
  suite = await startPortalSuite('portal-report');
  ({ database, browser, baseUrl } = suite);
  voiceking = suite.tenants.voiceking;
});
afterAll(async () => {
  await suite?.close();
});

const check = (page: Page, name: string): Promise<void> => suite.check(page, name);

const incidents = async (): Promise<Array<{ kind: string; source: string }>> =>
  (
    await runAsOwner<{ kind: string; source: string }>(
      database.ownerUrl,
      'select kind, source from incidents where tenant_id = $1 order by 1',
      [voiceking.tenantId],
    )
  ).rows;

describe('the misuse and security report form of the privacy portal (issues 18 and 19)', () => {
  it('VK-9: a person reports insecurity on the portal’s form without JavaScript; a bad or sensitive report is said on the page and stores nothing; the report lands in the incident register', async () => {
    const page = await browser.newPage({ locale: 'nl-BE', javaScriptEnabled: false });
    await page.goto(`${baseUrl}/t/${voiceking.slug}/rights`);
    await page.getByRole('link', { name: 'Misbruik of onveiligheid melden' }).click();
    await page.waitForURL(/\/report$/);
    await check(page, 'report-nl');

    await page.getByRole('button', { name: 'Melding versturen' }).click();
    expect(await page.locator('[role=alert]').textContent()).toContain('minstens 10 tekens');
    await page.getByLabel('Een onveilige situatie (bijvoorbeeld een lek)').check();
    await page
      .getByLabel('Wat gebeurde er?')
      .fill('Mijn rekeningnummer BE71 0961 2345 6769 stond op een andere factuur.');
    await page.getByRole('button', { name: 'Melding versturen' }).click();
    expect(await page.locator('[role=alert]').textContent()).toContain('gevoelige gegevens');
    await check(page, 'report-refused-nl');
    // Never echoed back: the refused text is not on the page.
    expect(await page.content()).not.toContain('6769');
    expect(await incidents()).toEqual([]);

    await page.getByLabel('Wat gebeurde er?').fill('Een factuur van een andere klant stond in mijn account.');
    await page.getByRole('button', { name: 'Melding versturen' }).click();
    await page.waitForURL(/report\?sent=1/);
    expect(await page.locator('[role=status]').textContent()).toContain('Uw melding is ontvangen');
    await check(page, 'report-received-nl');
    expect(await incidents()).toEqual([{ kind: 'insecurity', source: 'public_form' }]);
  });

  it('the form speaks French and English too', async () => {
    for (const [locale, title] of [
      ['fr-BE', 'Signaler un abus ou une faille'],
      ['en-GB', 'Report misuse or a security problem'],
    ] as const) {
      const page = await browser.newPage({ locale });
      await page.goto(`${baseUrl}/t/${voiceking.slug}/report`);
      expect(await page.locator('h1').textContent()).toBe(title);
      await check(page, `report-${locale.slice(0, 2)}`);
    }
  });
});
