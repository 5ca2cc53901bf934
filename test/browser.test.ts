import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.js';
import { createTestApp } from './http.js';
import { createPolicyTenant, createTestKernel } from './kernel.js';
import { listenForBrowser, startBrowser, type BrowserSuite } from './browser.js';
import type { Tenant } from '../src/modules/tenants/index.js';

let database: TestDatabase;
let app: FastifyInstance;
let baseUrl: string;
let tenant: Tenant;
let browser: BrowserSuite;

beforeAll(async () => {
  database = await createTestDatabase();
  const kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  baseUrl = await listenForBrowser(app);
  browser = await startBrowser('browser-helper');
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await database?.close();
});

describe('test/browser.ts — a real Chromium from npm, axe-core, screenshots', () => {
  it('loads a page of the app under its CSP, checks it with axe-core and saves a screenshot', async () => {
    const page = await browser.newPage({ locale: 'en-GB' });
    const response = await page.goto(`${baseUrl}/t/${tenant.slug}/privacy`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect(page.locator('h1').first().textContent()).resolves.toContain('VoiceKing');
    const results = await browser.checkAccessibility(page);
    expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    const file = await browser.screenshot(page, 'statement');
    expect(file).toMatch(/test-results\/screenshots\/browser-helper\/statement\.png$/);
    expect(existsSync(file)).toBe(true);
    expect(browser.problemsOf(page)).toEqual([]);
  });

  it('fails the accessibility check on a serious violation (an image without text, a field without label)', async () => {
    const page = await browser.newPage();
    await page.setContent(
      '<!doctype html><html lang="en"><title>bad</title><main><img src="data:image/png;base64,iVBORw0KGgo="><input></main></html>',
    );
    await expect(browser.checkAccessibility(page)).rejects.toThrow(
      /image-alt[\s\S]*label|label[\s\S]*image-alt/,
    );
  });

  it('runs pages with JavaScript disabled and on a phone-sized viewport', async () => {
    const page = await browser.newPage({ javaScriptEnabled: false, phone: true });
    await page.goto(`${baseUrl}/t/${tenant.slug}/privacy`);
    expect(page.viewportSize()).toEqual({ width: 390, height: 844 });
    // axe still runs: the DevTools protocol evaluates it whatever the page allows.
    await browser.checkAccessibility(page);
  });
});
