import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

const PUBLIC = 'https://portal.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

const setCookies = (header: string | string[] | undefined): string[] =>
  (Array.isArray(header) ? header : header === undefined ? [] : [header]).map(
    (cookie) => cookie.split(';')[0] ?? '',
  );

/**
 * Walks the tenant's portal as a person would (public pages, a mailed-link login, every account
 * page, log-out) and, where the policy offers it, the cookie banner and the cookie-settings page;
 * answers the name of every cookie set on the way, with the cookies a browser then holds.
 */
async function walk(tenant: Tenant, email: string): Promise<Set<string>> {
  const { app, smtp } = testApp;
  const names = new Set<string>();
  const jar = new Map<string, string>();
  const send = async (
    method: 'GET' | 'POST',
    url: string,
    options: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ statusCode: number; body: string; location: string | undefined }> => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await app.inject({
      method,
      url,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(options.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...options.headers,
      },
      ...(options.form ? { payload: new URLSearchParams(options.form).toString() } : {}),
      ...(options.json !== undefined ? { payload: options.json as object } : {}),
    });
    for (const pair of setCookies(response.headers['set-cookie'])) {
      const [name = '', value = ''] = pair.split('=');
      names.add(name);
      if (value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const location = response.headers.location;
    return {
      statusCode: response.statusCode,
      body: response.body,
      location: location ? String(location) : undefined,
    };
  };
  const base = `/t/${tenant.slug}`;
  const { policy } = await testApp.kernel.policies.current(tenant.tenantId);
  const banner = policy.cookies.consentAtFirstVisit && policy.cookies.items.length > 0;

  for (const path of [
    '/privacy?lang=en',
    '/privacy',
    '/rights?lang=fr',
    '/rights/access',
    '/rights/erasure',
    '/report',
  ])
    expect((await send('GET', `${base}${path}`)).statusCode).toBeLessThan(400);
  if (banner) {
    const script = await send('GET', `${base}/consent.js`);
    expect(script.statusCode).toBe(200);
    // The banner's script sets its cookie in the browser (document.cookie): the name it is given.
    const named = /"cookie":"([a-z_]+)"/.exec(script.body)?.[1];
    expect(named).toBe('kluis_consent');
    names.add(named ?? '');
    await send('GET', `${base}/consent.css`);
    const version = /"policyVersion":"([0-9a-f]{12})"/.exec(script.body)?.[1] ?? '';
    const bannerVersion = /"bannerVersion":"([0-9a-f]{12})"/.exec(script.body)?.[1] ?? '';
    const receipt = await send('POST', `${base}/consent/receipts`, {
      headers: { 'content-type': 'text/plain' },
      json: JSON.stringify({
        categories: ['analytical'],
        policyVersion: version,
        bannerVersion,
        language: 'en',
        source: 'banner',
      }),
    });
    expect(receipt.statusCode, receipt.body).toBe(201);
    await send('POST', `${base}/visits`, {
      headers: { 'content-type': 'text/plain' },
      json: JSON.stringify({ page: '/' }),
    });
    const settings = await send('GET', `${base}/cookies?lang=en`);
    expect(settings.statusCode).toBe(200);
    // The settings form carries the portal's form token (the kluis_form cookie's value).
    const csrf = /name="csrf" value="([^"]+)"/.exec(settings.body)?.[1] ?? '';
    expect(
      (await send('POST', `${base}/cookies`, { form: { lang: 'en', action: 'refuse', csrf } })).statusCode,
    ).toBe(303);
  }
  const loginPage = await send('GET', `${base}/account?lang=en`);
  expect(loginPage.statusCode).toBe(200);
  // The login forms carry the portal's form token too (decision 0412).
  const formCsrf = /name="csrf" value="([^"]+)"/.exec(loginPage.body)?.[1] ?? '';
  const before = smtp.to(email).length;
  expect(
    (await send('POST', `${base}/account/login-link`, { form: { email, csrf: formCsrf } })).statusCode,
  ).toBe(303);
  const text = (await smtp.waitFor(email, before + 1)).text ?? '';
  const link = new URL(/(https:\/\/portal\.example\S+)/.exec(text)?.[1] ?? PUBLIC);
  // The mailed link opens a page whose button logs in (decision 0400).
  const linkPage = await send('GET', `${link.pathname}${link.search}`);
  const action = (/<form method="post" action="([^"]+)"/.exec(linkPage.body)?.[1] ?? '').replaceAll(
    '&amp;',
    '&',
  );
  const fields = Object.fromEntries(
    [...linkPage.body.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)"/g)].map((match) => [
      match[1] ?? '',
      match[2] ?? '',
    ]),
  );
  const login = await send('POST', action, { form: fields });
  expect(login.location).toBe(`${base}/account`);
  for (const path of [
    '/account',
    '/account/my-data',
    '/account/my-consents',
    '/account/my-requests',
    '/account/my-dossier',
    '/account/correct',
    '/account/erase',
    '/account/settings',
  ])
    expect((await send('GET', `${base}${path}`)).statusCode, path).toBeLessThan(500);
  const account = await send('GET', `${base}/account`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(account.body)?.[1] ?? '';
  expect((await send('POST', `${base}/account/logout`, { form: { csrf } })).statusCode).toBe(303);
  return names;
}

describe('the cookies the privacy portal and the banner set are the cookies the policy declares', () => {
  for (const seed of ['voiceking', 'voxtra'] as const) {
    it(`${seed}: every cookie set while walking the portal (and the banner, where offered) is in the policy's cookie list`, async () => {
      const tenant = testApp[seed];
      const email = `walker.${seed}@example.be`;
      await createPerson(
        testApp.kernel,
        {
          tenantId: tenant.tenantId,
          actor: { kind: 'staff', staffId: 1, role: 'sales' },
          purpose: seed === 'voxtra' ? 'customer_administration' : 'order_processing',
        },
        {
          subjectType: 'customer',
          familyName: 'Walker',
          givenName: 'Sam',
          email,
          // Voxtra's policy keeps no preferred language.
          ...(seed === 'voiceking' ? { preferredLanguage: 'en' } : {}),
        },
      );
      const set = await walk(tenant, email);
      const { policy } = await testApp.kernel.policies.current(tenant.tenantId);
      const declared = new Set(policy.cookies.items.map((cookie) => cookie.name));
      // The walk did reach the pages that set cookies.
      expect(set).toEqual(expect.any(Set));
      for (const name of ['kluis_lang', 'kluis_form', 'kluis_subject', 'kluis_subject_csrf'])
        expect([...set]).toContain(name);
      if (seed === 'voiceking') expect([...set]).toContain('kluis_consent');
      expect([...set].filter((name) => !declared.has(name))).toEqual([]);
      // Every portal cookie is functional: none needs consent, so none waits for the banner.
      const portalCookies = policy.cookies.items.filter((cookie) => set.has(cookie.name));
      expect(portalCookies.map((cookie) => cookie.category)).toEqual(portalCookies.map(() => 'functional'));
    });
  }
});

describe('the language cookie lasts what the policy declares', () => {
  const maxAgeOf = (header: string | string[] | undefined): string | undefined => {
    const cookie = (Array.isArray(header) ? header : [header ?? '']).find((value) =>
      value.startsWith('kluis_lang='),
    );
    if (cookie === undefined) return undefined;
    return /Max-Age=(\d+)/i.exec(cookie)?.[1] ?? 'session';
  };

  it('VK-20: the portal remembers the chosen language for the declared P12M, for a browser session when the policy says "session", and not at all when the policy does not declare the cookie', async () => {
    const { app, kernel } = testApp;
    const now = kernel.clock.now();
    const year = new Date(now.getTime());
    year.setUTCMonth(year.getUTCMonth() + 12);
    const declared = await app.inject({ method: 'GET', url: `/t/${testApp.voiceking.slug}/privacy?lang=fr` });
    expect(declared.statusCode).toBe(200);
    expect(maxAgeOf(declared.headers['set-cookie'])).toBe(
      String(Math.round((year.getTime() - now.getTime()) / 1000)),
    );

    const source = await readFile(path.join(ROOT, 'policies', 'voiceking.yaml'), 'utf8');
    const languageItem = /(- name: kluis_lang\n(?:.*\n)*?\s+lifetime: )P12M/;
    expect(source).toMatch(languageItem);
    const session = await createPolicyTenant(kernel, 'voiceking');
    await kernel.policies.install(
      session.tenantId,
      source.replace(languageItem, '$1session').replace("version: '2026.2'", "version: '2026.3'"),
      'policies/voiceking.yaml',
    );
    const sessionAnswer = await app.inject({ method: 'GET', url: `/t/${session.slug}/privacy?lang=fr` });
    expect(sessionAnswer.statusCode).toBe(200);
    expect(maxAgeOf(sessionAnswer.headers['set-cookie'])).toBe('session');

    const undeclared = await createPolicyTenant(kernel, 'voiceking');
    const withoutItem = source.replace(/ {4}- name: kluis_lang\n(?: {6}.*\n| {8}.*\n)+/, '');
    expect(withoutItem).not.toContain('kluis_lang');
    await kernel.policies.install(
      undeclared.tenantId,
      withoutItem.replace("version: '2026.2'", "version: '2026.3'"),
      'policies/voiceking.yaml',
    );
    const none = await app.inject({ method: 'GET', url: `/t/${undeclared.slug}/privacy?lang=fr` });
    expect(none.statusCode).toBe(200);
    expect(none.headers['content-language']).toBe('fr');
    expect(maxAgeOf(none.headers['set-cookie'])).toBeUndefined();
  });
});
