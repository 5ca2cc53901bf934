import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../../../test/http.js';
import type { Tenant } from '../tenants/index.js';
import { makeTestPng, startPortalSuite, type PortalSuite } from './portal.test-helpers.js';

let suite: PortalSuite;
let voiceking: Tenant;

beforeAll(async () => {
  suite = await startPortalSuite('portal-logo');
  voiceking = suite.tenants.voiceking;
});
afterAll(async () => {
  await suite?.close();
});

describe('the portal’s logo in a browser (issue 19, decision 0291)', () => {
  it('a logo an admin uploaded shows in the header of the portal pages, on a desktop and a phone, with no accessibility problem and no CSP refusal', async () => {
    const admin = await loginAs(suite.app, suite.kernel, voiceking, 'admin');
    const headers = { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken };
    const colours = await suite.app.inject({
      method: 'PUT',
      url: '/api/v1/portal/theme',
      headers,
      payload: { primary: '#e30613', accent: '#1d1d1b' },
    });
    expect(colours.statusCode).toBe(200);
    const logo = await suite.app.inject({
      method: 'PUT',
      url: '/api/v1/portal/logo',
      headers,
      payload: { contentBase64: makeTestPng(180, 60, '#e30613', '#ffffff').toString('base64') },
    });
    expect(logo.statusCode, logo.body).toBe(200);

    for (const [path, phone] of [
      ['/rights?lang=nl', false],
      ['/account?lang=fr', true],
      ['/privacy?lang=en', false],
    ] as const) {
      const page = await suite.browser.newPage({ phone });
      await page.goto(`${suite.baseUrl}/t/${voiceking.slug}${path}`);
      const image = page.locator('header.site img.logo');
      await expect
        .poll(() =>
          image.evaluate((img) => {
            const loaded = img as unknown as { complete: boolean; naturalWidth: number };
            return loaded.complete && loaded.naturalWidth;
          }),
        )
        .toBe(180);
      const box = await image.boundingBox();
      // Drawn 2.5rem high (with its white padding), in proportion: about three times as wide.
      expect(box?.height).toBe(40);
      expect(box?.width).toBeGreaterThan(100);
      expect(box?.width).toBeLessThan(125);
      await suite.check(page, `logo-${path.slice(1, path.indexOf('?'))}-${phone ? 'phone' : 'desktop'}`);
      await page.close();
    }
  });
});
