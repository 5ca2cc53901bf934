import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { parsePolicy } from '../../kernel/policy/index.js';
import type { Clock } from '../../platform/clock.js';
import { DATA_MAP } from '../data-map.js';
import { runRetentionSweep } from '../retention/index.js';
import type { Tenant } from '../tenants/index.js';
import { BANNER_VERSION } from './banner.texts.js';
import { bannerSize } from './banner.script.js';
import { cookieSectionVersion } from './cookie-policy.js';

let now = new Date('2026-11-20T10:00:00Z');
const clock: Clock = { now: () => new Date(now.getTime()) };

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;
let policyVersion: string;
const staff: Record<string, StaffSession> = {};

const VOICEKING_YAML = path.join(ROOT, 'policies', 'voiceking.yaml');
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  policyVersion = cookieSectionVersion((await kernel.policies.current(voiceking.tenantId)).policy);
  for (const role of ['admin', 'privacy_officer', 'sales', 'billing', 'technician', 'support', 'hr'])
    staff[role] = await loginAs(app, kernel, voiceking, role);
  for (const role of ['admin', 'privacy_officer', 'sales', 'billing', 'technician', 'support'])
    staff[`voxtra-${role}`] = await loginAs(app, kernel, voxtra, role);
}, 120_000);
afterAll(async () => {
  await app.close();
  await database.close();
});

interface ReceiptAnswer {
  receiptId: string;
  consentId: string;
  consentKey?: string;
  categories: string[];
  policyVersion: string;
  bannerVersion: string;
  source: string;
  gpc: boolean;
  expiresAt: string;
}

/** A choice as the banner posts it: JSON as text/plain, from another origin, no credentials. */
function choose(body: Record<string, unknown>, headers: Record<string, string> = {}, slug = voiceking.slug) {
  return app.inject({
    method: 'POST',
    url: `/t/${slug}/consent/receipts`,
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://www.voiceking.be', ...headers },
    payload: JSON.stringify({
      policyVersion,
      bannerVersion: BANNER_VERSION,
      language: 'nl',
      source: 'banner',
      ...body,
    }),
  });
}

function visit(
  body: Record<string, unknown>,
  address: string,
  userAgent = FIREFOX,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/visits`,
    remoteAddress: address,
    headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': userAgent, ...headers },
    payload: JSON.stringify(body),
  });
}

function asStaff(role: string, url: string) {
  const session = staff[role];
  if (!session) throw new Error(`no session for ${role}`);
  return app.inject({ method: 'GET', url, headers: { cookie: session.cookie } });
}

async function rows<T extends Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
  return (await runAsOwner<T>(database.ownerUrl, query, params)).rows;
}

describe('the banner script and GPC resource', () => {
  it('consent.js carries the policy’s cookies, its cookie section version and the banner text version; it loads cross-origin', async () => {
    const response = await app.inject({ method: 'GET', url: `/t/${voiceking.slug}/consent.js` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/javascript/);
    expect(response.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(response.headers['access-control-allow-origin']).toBe('*');
    for (const name of ['kluis_consent', 'kluis_lang', 'kluis_stats', 'kluis_profile'])
      expect(response.body).toContain(`"name":"${name}"`);
    expect(response.body).toContain(`"policyVersion":"${policyVersion}"`);
    expect(response.body).toContain(`"bannerVersion":"${BANNER_VERSION}"`);
    expect(response.body).not.toContain('__KLUIS_CONFIG__');
    const size = bannerSize((await kernel.policies.current(voiceking.tenantId)).policy, {
      tenantBase: 'https://kluis.example/t/voiceking',
    });
    // Small: the whole banner with Voiceking's configuration, gzipped, stays under 8 kB.
    expect(size.scriptGzip).toBeLessThan(8 * 1024);
  });

  it('a policy without a banner (Voxtra refers to its host’s policy) gets no script and no receipts', async () => {
    expect((await app.inject({ method: 'GET', url: `/t/${voxtra.slug}/consent.js` })).statusCode).toBe(404);
    expect((await choose({ categories: [] }, {}, voxtra.slug)).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/t/${voxtra.slug}/cookies` })).statusCode).toBe(404);
  });

  it('/.well-known/gpc.json says GPC is honoured', async () => {
    const response = await app.inject({ method: 'GET', url: '/.well-known/gpc.json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ gpc: true, lastUpdate: '2026-11-29' });
  });
});

describe('server receipts (VK-20)', () => {
  it('VK-20: every choice is recorded with its consent id, categories, versions, time and GPC; staff can show an authority the record and the cookie section it was given under', async () => {
    const first = await choose({ categories: ['analytical'] });
    expect(first.statusCode).toBe(201);
    expect(first.headers['access-control-allow-origin']).toBe('*');
    const receipt = first.json<ReceiptAnswer>();
    expect(receipt).toMatchObject({
      categories: ['analytical'],
      policyVersion,
      bannerVersion: BANNER_VERSION,
      source: 'banner',
      gpc: false,
      // kluis_consent lives 6 months in Voiceking's policy: the choice expires with it.
      expiresAt: '2027-05-20T10:00:00.000Z',
    });
    expect(receipt.consentId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // A change keeps the consent id and adds a receipt.
    const second = (await choose({ consentId: receipt.consentId, categories: [] })).json<ReceiptAnswer>();
    expect(second.consentId).toBe(receipt.consentId);

    const stored = await rows<{ consent_id: string; categories: string[]; gpc: boolean; source: string }>(
      'select consent_id, categories, gpc, source, policy_version, banner_version from cookie_receipts where consent_id = $1 order by receipt_id',
      [receipt.consentId],
    );
    expect(stored).toEqual([
      expect.objectContaining({ categories: ['analytical'], gpc: false, source: 'banner' }),
      expect.objectContaining({ categories: [], gpc: false, source: 'banner' }),
    ]);

    for (const role of ['admin', 'privacy_officer']) {
      const record = await asStaff(role, `/api/v1/cookies/consents/${receipt.consentId}`);
      expect(record.statusCode).toBe(200);
      const body = record.json<{
        receipts: ReceiptAnswer[];
        policyVersions: Array<{ version: string; cookies: { items: Array<{ name: string }> } }>;
      }>();
      expect(body.receipts.map((r) => r.categories)).toEqual([[], ['analytical']]);
      expect(body.policyVersions).toHaveLength(1);
      expect(body.policyVersions[0]?.version).toBe(policyVersion);
      expect(body.policyVersions[0]?.cookies.items.map((item) => item.name)).toContain('kluis_stats');
    }
  });

  it('VK-20: a browser sending Global Privacy Control gets no non-essential category from the signal; an explicit choice in the banner still counts', async () => {
    const signal = await choose(
      { categories: ['analytical', 'tracking'], source: 'gpc', gpc: true },
      { 'sec-gpc': '1' },
    );
    expect(signal.json<ReceiptAnswer>()).toMatchObject({ categories: [], source: 'gpc', gpc: true });
    const explicit = await choose(
      {
        consentId: signal.json<ReceiptAnswer>().consentId,
        consentKey: signal.json<ReceiptAnswer>().consentKey,
        categories: ['analytical'],
      },
      { 'sec-gpc': '1' },
    );
    expect(explicit.json<ReceiptAnswer>()).toMatchObject({
      categories: ['analytical'],
      source: 'banner',
      gpc: true,
    });
  });

  it('a consent id unknown to this tenant is replaced, and bad input changes nothing', async () => {
    const planted = 'AAAAAAAAAAAAAAAAAAAAAA';
    const answer = (await choose({ consentId: planted, categories: [] })).json<ReceiptAnswer>();
    expect(answer.consentId).not.toBe(planted);
    const before = await rows<{ n: string }>('select count(*) as n from cookie_receipts');
    for (const bad of [
      { categories: ['functional'] },
      { categories: ['analytical'], policyVersion: 'nothex' },
      { categories: 'analytical' },
      { categories: [], consentId: 'x' },
      { categories: [], extra: 1 },
    ])
      expect((await choose(bad)).statusCode).toBe(400);
    expect((await choose({ categories: [], policyVersion: '000000000000' })).statusCode).toBe(409);
    const notJson = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/consent/receipts`,
      headers: { 'content-type': 'text/plain' },
      payload: '{nope',
    });
    expect(notJson.statusCode).toBe(400);
    expect(await rows<{ n: string }>('select count(*) as n from cookie_receipts')).toEqual(before);
  });

  it('every role of both seed policies, twice: only admins and privacy officers of the tenant read its records; other tenants’ ids and tenants without a banner answer 404', async () => {
    const receipt = (await choose({ categories: ['tracking'] })).json<ReceiptAnswer>();
    const urls = [
      `/api/v1/cookies/consents/${receipt.consentId}`,
      '/api/v1/cookies/consent-rates?from=2026-11-01&to=2026-11-30',
      '/api/v1/cookies/statistics?from=2026-11-01&to=2026-11-30',
    ];
    const answers: string[] = [];
    for (let attempt = 0; attempt < 2; attempt += 1)
      for (const [who, session] of Object.entries(staff))
        for (const url of urls) {
          const response = await app.inject({
            method: 'GET',
            url,
            headers: { cookie: session.cookie, 'x-kluis-purpose': 'website_statistics' },
          });
          answers.push(`${attempt} ${who} ${url.split('?')[0] ?? ''} ${response.statusCode}`);
        }
    const expected: string[] = [];
    for (let attempt = 0; attempt < 2; attempt += 1)
      for (const who of Object.keys(staff))
        for (const url of urls) {
          const voxtraStaff = who.startsWith('voxtra-');
          const role = who.replace('voxtra-', '');
          const allowed = role === 'admin' || role === 'privacy_officer';
          // Voxtra's policy has no purpose website_statistics: the declared purpose is refused at the door.
          const status = voxtraStaff ? 400 : allowed ? 200 : 403;
          expected.push(`${attempt} ${who} ${url.split('?')[0] ?? ''} ${status}`);
        }
    expect(answers).toEqual(expected);
    // Without a purpose header: Voxtra's admins and officers find no Voiceking id and no banner.
    for (let attempt = 0; attempt < 2; attempt += 1)
      for (const role of ['voxtra-admin', 'voxtra-privacy_officer'])
        for (const url of urls) expect((await asStaff(role, url)).statusCode).toBe(404);
    // Another Voiceking tenant cannot reuse this tenant's consent id: it gets a fresh one.
    const other = await createPolicyTenant(kernel, 'voiceking');
    const carried = (
      await choose({ consentId: receipt.consentId, categories: [] }, {}, other.slug)
    ).json<ReceiptAnswer>();
    expect(carried.consentId).not.toBe(receipt.consentId);
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/cookies/consents/${receipt.consentId}` })).statusCode,
    ).toBe(401);
    expect((await asStaff('admin', '/api/v1/cookies/consents/short')).statusCode).toBe(400);
    expect(
      (await asStaff('admin', '/api/v1/cookies/consent-rates?from=2026-12-01&to=2026-11-01')).statusCode,
    ).toBe(400);
  });

  it('consent rates per category count the newest choice of each consent id', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const admin = await loginAs(app, kernel, tenant, 'admin');
    const a = (await choose({ categories: ['analytical'] }, {}, tenant.slug)).json<ReceiptAnswer>();
    await choose(
      { consentId: a.consentId, consentKey: a.consentKey, categories: ['analytical', 'tracking'] },
      {},
      tenant.slug,
    );
    await choose({ categories: [] }, {}, tenant.slug);
    await choose({ categories: ['analytical'] }, {}, tenant.slug);
    const rates = await app.inject({
      method: 'GET',
      url: '/api/v1/cookies/consent-rates?from=2026-11-01&to=2026-11-30',
      headers: { cookie: admin.cookie },
    });
    expect(rates.json()).toEqual({
      from: '2026-11-01',
      to: '2026-11-30',
      choices: 3,
      withGpc: 0,
      categories: [
        { category: 'analytical', granted: 2, rate: 0.6667 },
        { category: 'tracking', granted: 1, rate: 0.3333 },
      ],
    });
  });
});

describe('the visit log (VK-3)', () => {
  it('VK-3: a visit keeps the IPv4 /24 or IPv6 /48 network, never the address; device, OS, browser family, path and referrer host; the country only with analytics consent', async () => {
    now = new Date('2026-11-20T12:00:00Z');
    const consented = (await choose({ categories: ['analytical'] })).json<ReceiptAnswer>();
    const refused = (await choose({ categories: ['tracking'] })).json<ReceiptAnswer>();
    const answer = await visit(
      {
        page: '/internet?email=jan@example.be',
        referrerHost: 'WWW.Google.be',
        consentId: consented.consentId,
      },
      '81.82.83.84',
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ recorded: true, consent: { consentId: consented.consentId } });
    await visit({ page: '/internet', consentId: refused.consentId }, '81.82.83.85', IPHONE);
    await visit({ page: '/telefonie' }, '2a02:1810:1234:5678:9abc::1');
    await visit({ page: '/telefonie', consentId: consented.consentId }, '::ffff:81.82.83.86');
    const stored = await rows<Record<string, unknown>>(
      `select page, referrer_host, device_type, os, browser, host(network) || '/' || masklen(network) as network, country, analytics_consent
         from website_visits where visited_at = $1 order by visit_id`,
      [now],
    );
    expect(stored).toEqual([
      {
        page: '/internet',
        referrer_host: 'www.google.be',
        device_type: 'desktop',
        os: 'Windows',
        browser: 'Firefox',
        network: '81.82.83.0/24',
        country: 'BE',
        analytics_consent: true,
      },
      {
        page: '/internet',
        referrer_host: null,
        device_type: 'mobile',
        os: 'iOS',
        browser: 'Safari',
        network: '81.82.83.0/24',
        country: null,
        analytics_consent: false,
      },
      expect.objectContaining({ network: '2a02:1810:1234::/48', country: null, analytics_consent: false }),
      expect.objectContaining({ network: '81.82.83.0/24', country: 'BE', analytics_consent: true }),
    ]);
    const everything = JSON.stringify(await rows('select * from website_visits'));
    expect(everything).not.toMatch(/81\.82\.83\.8[4-6]|5678|jan@example|Gecko|rv:133/);
  });

  it('VK-3: statistics per page and day count only visits with analytics consent', async () => {
    now = new Date('2026-11-21T08:00:00Z');
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const consented = (await choose({ categories: ['analytical'] })).json<ReceiptAnswer>();
    await visit({ page: '/shop', consentId: consented.consentId }, '81.82.83.84');
    await visit({ page: '/shop', consentId: consented.consentId }, '81.82.83.84');
    await visit({ page: '/shop' }, '81.82.83.90');
    await visit({ page: '/hidden' }, '81.82.83.91');
    const stats = await app.inject({
      method: 'GET',
      url: '/api/v1/cookies/statistics?from=2026-11-21&to=2026-11-21',
      headers: { cookie: officer.cookie },
    });
    expect(stats.statusCode).toBe(200);
    expect(stats.json()).toEqual({
      from: '2026-11-21',
      to: '2026-11-21',
      days: [{ day: '2026-11-21', page: '/shop', visits: 2 }],
      countries: [{ country: 'BE', visits: 2 }],
    });
  });

  it('VK-3, VK-20: a visit sent with Sec-GPC: 1 under an acceptance made without GPC is not counted; the visit door records the GPC refusal and answers it, with or without the banner script (attack S19-5, decision 0860)', async () => {
    now = new Date('2026-11-24T08:00:00Z');
    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const gpc = { 'sec-gpc': '1' };
    const accepted = (await choose({ categories: ['analytical', 'tracking'] })).json<ReceiptAnswer>();
    expect(accepted).toMatchObject({ categories: ['analytical', 'tracking'], gpc: false });
    const answer = await visit(
      { page: '/gpc-door', consentId: accepted.consentId },
      '81.82.83.101',
      FIREFOX,
      gpc,
    );
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({
      recorded: true,
      consent: { consentId: accepted.consentId, categories: [], source: 'gpc', gpc: true },
    });
    const receipts = await rows<{ categories: string[]; source: string; gpc: boolean }>(
      'select categories, source, gpc from cookie_receipts where tenant_id = $1 and consent_id = $2 order by receipt_id',
      [voiceking.tenantId, accepted.consentId],
    );
    expect(receipts).toEqual([
      { categories: ['analytical', 'tracking'], source: 'banner', gpc: false },
      { categories: [], source: 'gpc', gpc: true },
    ]);
    // The refusal stays on record: the next visit without the signal is not counted either.
    const later = await visit({ page: '/gpc-door', consentId: accepted.consentId }, '81.82.83.101');
    expect(later.json()).toMatchObject({ consent: { categories: [], source: 'gpc' } });
    // An acceptance made while GPC was on is the visitor's own choice: it holds, and is counted.
    const explicit = (await choose({ categories: ['analytical'], gpc: true }, gpc)).json<ReceiptAnswer>();
    expect(explicit).toMatchObject({ categories: ['analytical'], gpc: true });
    const own = await visit(
      { page: '/gpc-own', consentId: explicit.consentId },
      '81.82.83.102',
      FIREFOX,
      gpc,
    );
    expect(own.json()).toMatchObject({
      consent: { receiptId: explicit.receiptId, categories: ['analytical'] },
    });
    const visits = await rows<{ page: string; analytics_consent: boolean }>(
      `select page, analytics_consent from website_visits where tenant_id = $1 and page like '/gpc-%' order by visit_id`,
      [voiceking.tenantId],
    );
    expect(visits).toEqual([
      { page: '/gpc-door', analytics_consent: false },
      { page: '/gpc-door', analytics_consent: false },
      { page: '/gpc-own', analytics_consent: true },
    ]);
    const stats = await app.inject({
      method: 'GET',
      url: '/api/v1/cookies/statistics?from=2026-11-24&to=2026-11-24',
      headers: { cookie: officer.cookie },
    });
    expect(stats.statusCode).toBe(200);
    expect(stats.json<{ days: unknown[] }>().days).toEqual([
      { day: '2026-11-24', page: '/gpc-own', visits: 1 },
    ]);
  });

  it('VK-20: a new version of the cookie section asks again: the earlier choice no longer holds', async () => {
    now = new Date('2026-12-12T08:00:00Z');
    const before = (await choose({ categories: ['analytical'] })).json<ReceiptAnswer>();
    // A changed statement gets its own statement version (decision 0923).
    const source = (await readFile(VOICEKING_YAML, 'utf8'))
      .replace(
        'lifetime: P13M\n      purpose: { nl: meet het gebruik',
        'lifetime: P12M\n      purpose: { nl: meet het gebruik',
      )
      .replace("version: '2026.2'", "version: '2026.3'");
    const changed = parsePolicy(source, VOICEKING_YAML);
    expect(cookieSectionVersion(changed)).not.toBe(policyVersion);
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    // The same tenant with a changed policy: use a fresh one so other tests keep theirs.
    const first = await app.inject({
      method: 'POST',
      url: `/t/${tenant.slug}/consent/receipts`,
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({
        policyVersion,
        bannerVersion: BANNER_VERSION,
        language: 'en',
        source: 'banner',
        categories: ['analytical'],
      }),
    });
    const consentId = first.json<ReceiptAnswer>().consentId;
    await kernel.policies.install(tenant.tenantId, source, 'policies/voiceking.yaml');
    const after = await app.inject({
      method: 'POST',
      url: `/t/${tenant.slug}/visits`,
      remoteAddress: '81.82.83.84',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({ page: '/', consentId }),
    });
    expect(after.json()).toMatchObject({ recorded: true, consent: null });
    const script = await app.inject({ method: 'GET', url: `/t/${tenant.slug}/consent.js` });
    expect(script.body).toContain(`"policyVersion":"${cookieSectionVersion(changed)}"`);
    // The old version is kept for the authority next to the new one.
    const late = await app.inject({
      method: 'POST',
      url: `/t/${tenant.slug}/consent/receipts`,
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({
        consentId,
        policyVersion: cookieSectionVersion(changed),
        bannerVersion: BANNER_VERSION,
        language: 'en',
        source: 'banner',
        categories: [],
      }),
    });
    expect(late.statusCode).toBe(201);
    const versions = await rows<{ version: string }>(
      'select version from cookie_policy_versions where tenant_id = $1 order by first_used_at',
      [tenant.tenantId],
    );
    expect(versions.map((row) => row.version)).toEqual([policyVersion, cookieSectionVersion(changed)]);
    void before;
  });
});

describe('the cookie-settings page', () => {
  it.each(['nl', 'fr', 'en'] as const)(
    'shows the choice of a consent id and changes it without JavaScript (%s)',
    async (lang) => {
      now = new Date('2026-12-13T08:00:00Z');
      const receipt = (await choose({ categories: ['analytical'] })).json<ReceiptAnswer>();
      // The browser holding the id and its secret in the banner's cookie (decision 0410; the portal
      // served under the provider's host sees it): the page is the holder's, the form writable.
      const held = `kluis_consent=${[receipt.consentId, receipt.policyVersion, 'analytical', Math.floor(Date.parse(receipt.expiresAt) / 1000), receipt.consentKey].join('.')}`;
      const page = await app.inject({
        method: 'GET',
        url: `/t/${voiceking.slug}/cookies?lang=${lang}&consent=${receipt.consentId}`,
        headers: { cookie: held },
      });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-language']).toBe(lang);
      expect(page.body).toContain(`<html lang="${lang}">`);
      expect(page.body).toMatch(/id="c-analytical"\s+name="categories"\s+value="analytical"\s+checked/);
      // In the privacy portal's frame (issue 19): the tenant's header and the portal's navigation.
      expect(page.body).toContain('<header class="site">');
      expect(page.body).not.toMatch(/id="c-tracking"[^>]*checked/);
      expect(page.body).not.toContain('<script');
      for (const name of ['kluis_consent', 'kluis_stats', 'kluis_profile']) expect(page.body).toContain(name);
      // The form carries the portal's form token, bound to the SameSite=Strict cookie the page set.
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const setCookies = page.headers['set-cookie'];
      const formCookie = (Array.isArray(setCookies) ? setCookies : [String(setCookies)])
        .map((cookie) => cookie.split(';')[0] ?? '')
        .find((pair) => pair.startsWith('kluis_form='));
      expect(formCookie).toBeDefined();
      const withoutToken = await app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/cookies`,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `${held}; ${formCookie ?? ''}`,
        },
        payload: `lang=${lang}&consent=${receipt.consentId}&action=save&categories=tracking`,
      });
      expect(withoutToken.statusCode).toBe(403);
      expect(withoutToken.headers['set-cookie']).toBeUndefined();
      const post = await app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/cookies`,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `${held}; ${formCookie ?? ''}`,
        },
        payload: `lang=${lang}&consent=${receipt.consentId}&action=save&categories=tracking&csrf=${csrf}`,
      });
      expect(post.statusCode).toBe(303);
      expect(post.headers.location).toContain(`consent=${receipt.consentId}`);
      // The id this browser holds: the new choice is remembered in its cookie, the secret kept.
      expect(String(post.headers['set-cookie'] ?? '')).toContain(
        `kluis_consent=${encodeURIComponent([receipt.consentId, receipt.policyVersion, 'tracking'].join('.'))}`,
      );
      expect(String(post.headers['set-cookie'] ?? '')).toContain(receipt.consentKey ?? 'no key');
      const latest = await rows<{ categories: string[]; source: string }>(
        'select categories, source from cookie_receipts where consent_id = $1 order by receipt_id desc limit 1',
        [receipt.consentId],
      );
      expect(latest).toEqual([{ categories: ['tracking'], source: 'settings' }]);
    },
  );
});

describe('retention of the website records', () => {
  it('the retention sweep deletes visits and receipts past the policy’s retention, and only those', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const at = async (iso: string, work: () => Promise<unknown>) => {
      now = new Date(iso);
      await work();
    };
    const send = (body: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: `/t/${tenant.slug}/consent/receipts`,
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({
          policyVersion,
          bannerVersion: BANNER_VERSION,
          language: 'nl',
          source: 'banner',
          ...body,
        }),
      });
    const log = (page: string) =>
      app.inject({
        method: 'POST',
        url: `/t/${tenant.slug}/visits`,
        remoteAddress: '81.82.83.84',
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ page }),
      });
    await at('2026-01-10T10:00:00Z', () => log('/old'));
    await at('2026-01-10T10:00:00Z', () => send({ categories: ['analytical'] }));
    await at('2026-06-01T10:00:00Z', () => log('/recent'));
    now = new Date('2026-07-11T10:00:00Z');
    const result = await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId);
    // Visits: 6 months (visit_log_6m); the receipt expired 2026-07-10 and is kept as long as the
    // longest retention of its consent purposes (interest profiles: at most 3 years).
    expect(result).toMatchObject({ websiteVisits: 1, cookieReceipts: 0 });
    const pages = await rows<{ page: string }>('select page from website_visits where tenant_id = $1', [
      tenant.tenantId,
    ]);
    expect(pages).toEqual([{ page: '/recent' }]);
    now = new Date('2029-07-11T10:00:00Z');
    expect(await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId)).toMatchObject({
      websiteVisits: 1,
      cookieReceipts: 1,
    });
    expect(await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId)).toMatchObject({
      websiteVisits: 0,
      cookieReceipts: 0,
    });
  });
});

describe('the proof of a cookie choice is kept as long as the statement says', () => {
  it('VK-20: the published statement says how long the record of a cookie choice is kept, and the retention sweep keeps a receipt exactly that long: the day before the end it stays, the day after it is gone', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    now = new Date('2026-03-15T09:00:00Z');
    const statement = await app.inject({ method: 'GET', url: `/t/${tenant.slug}/privacy?lang=en` });
    expect(statement.statusCode).toBe(200);
    const said = /A choice holds for (\d+) months; we then keep that proof for (\d+) more months/.exec(
      statement.body,
    );
    expect(said).not.toBeNull();
    const [holds, kept] = [Number(said?.[1]), Number(said?.[2])];
    const receipt = await choose({ language: 'en', categories: ['analytical', 'tracking'] }, {}, tenant.slug);
    expect(receipt.statusCode).toBe(201);
    const end = new Date('2026-03-15T09:00:00Z');
    end.setUTCMonth(end.getUTCMonth() + holds + kept);
    const receipts = async () =>
      (
        await runAsOwner<{ n: string }>(
          database.ownerUrl,
          'select count(*) as n from cookie_receipts where tenant_id = $1',
          [tenant.tenantId],
        )
      ).rows.map((row) => Number(row.n))[0];
    now = new Date(end.getTime() - 24 * 3600 * 1000);
    expect(await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId)).toMatchObject({ cookieReceipts: 0 });
    expect(await receipts()).toBe(1);
    now = new Date(end.getTime() + 24 * 3600 * 1000);
    expect(await runRetentionSweep(kernel, DATA_MAP, tenant.tenantId)).toMatchObject({ cookieReceipts: 1 });
    expect(await receipts()).toBe(0);
  });
});

describe('a cookie consent id is no bearer credential (attack A10, decision 0410)', () => {
  const receiptsOf = async (consentId: string) =>
    (
      await runAsOwner<{ categories: string[]; source: string }>(
        database.ownerUrl,
        'select categories, source from cookie_receipts where tenant_id = $1 and consent_id = $2 order by receipt_id',
        [voiceking.tenantId, consentId],
      )
    ).rows;

  it('VK-20: anyone may record a refusal under a consent id; an acceptance or change is recorded under it only with its secret, else under a new id', async () => {
    const victim = (await choose({ categories: [] })).json<ReceiptAnswer>();
    expect(victim.consentKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const evil = { origin: 'https://evil.example' };
    for (const forged of [
      { consentId: victim.consentId, categories: ['analytical', 'tracking'] },
      {
        consentId: victim.consentId,
        consentKey: 'A'.repeat(43),
        categories: ['analytical', 'tracking'],
      },
    ]) {
      const answer = await choose(forged, evil);
      expect(answer.statusCode).toBe(201);
      // Recorded, but as a new visitor's choice: never in the victim's name.
      expect(answer.json<ReceiptAnswer>().consentId).not.toBe(victim.consentId);
      expect(answer.json<ReceiptAnswer>().consentKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(await receiptsOf(victim.consentId)).toEqual([{ categories: [], source: 'banner' }]);

    // A refusal needs no proof: withdrawing can only protect the visitor.
    const refusal = (
      await choose({ consentId: victim.consentId, categories: [] }, evil)
    ).json<ReceiptAnswer>();
    expect(refusal.consentId).toBe(victim.consentId);
    expect(refusal.consentKey).toBeUndefined();
    // The holder changes the choice with the secret; the secret is not handed out again.
    const own = (
      await choose({ consentId: victim.consentId, consentKey: victim.consentKey, categories: ['analytical'] })
    ).json<ReceiptAnswer>();
    expect(own.consentId).toBe(victim.consentId);
    expect(own.consentKey).toBeUndefined();
    expect(await receiptsOf(victim.consentId)).toEqual([
      { categories: [], source: 'banner' },
      { categories: [], source: 'banner' },
      { categories: ['analytical'], source: 'banner' },
    ]);
    // The server keeps the secret's hash only.
    const keys = await runAsOwner<{ key_hash: Buffer }>(
      database.ownerUrl,
      'select key_hash from cookie_consent_keys where tenant_id = $1 and consent_id = $2',
      [voiceking.tenantId, victim.consentId],
    );
    expect(keys.rows).toHaveLength(1);
    expect(keys.rows[0]?.key_hash.toString('hex')).toBe(
      createHash('sha256')
        .update(victim.consentKey ?? '')
        .digest('hex'),
    );
  });

  it('VK-20: the settings page opened with another browser’s consent id is read-only (refusal only); its own browser, holding the secret in its cookie, changes its choice', async () => {
    const victim = (await choose({ categories: [] })).json<ReceiptAnswer>();
    const cookieOf = (set: string | string[] | undefined, name: string): string =>
      ([] as string[])
        .concat(set ?? [])
        .map((line) => line.split(';')[0] ?? '')
        .find((pair) => pair.startsWith(`${name}=`)) ?? '';
    /** Opens the page (with `cookie`), then posts its form with `form`; answers the post. */
    const postSettings = async (query: string, form: Record<string, string>, cookie = '') => {
      const page = await app.inject({
        method: 'GET',
        url: `/t/${voiceking.slug}/cookies?lang=en${query}`,
        headers: cookie ? { cookie } : {},
      });
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const formCookie = cookieOf(page.headers['set-cookie'], 'kluis_form') || cookie;
      const post = await app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/cookies`,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: [cookie, formCookie].filter(Boolean).join('; '),
        },
        payload: new URLSearchParams({ lang: 'en', csrf, ...form }).toString(),
      });
      return { page, post };
    };
    const consentOf = (location: unknown): string =>
      new URL(String(location), 'https://x.example').searchParams.get('consent') ?? '';

    const foreign = await postSettings(`&consent=${victim.consentId}`, {
      consent: victim.consentId,
      action: 'accept',
    });
    expect(foreign.page.body).toContain('This choice belongs to another browser');
    expect(foreign.page.body).not.toContain('value="accept"');
    expect(foreign.page.body).toContain('value="refuse"');
    expect(foreign.post.statusCode).toBe(303);
    expect(consentOf(foreign.post.headers.location)).not.toBe(victim.consentId);
    const refused = await postSettings(`&consent=${victim.consentId}`, {
      consent: victim.consentId,
      action: 'refuse',
    });
    expect(consentOf(refused.post.headers.location)).toBe(victim.consentId);
    expect(await receiptsOf(victim.consentId)).toEqual([
      { categories: [], source: 'banner' },
      { categories: [], source: 'settings' },
    ]);

    // A choice made on the page: the cookie keeps the id and its secret; the page stays writable.
    const mine = await postSettings('', { action: 'refuse' });
    const cookie = cookieOf(mine.post.headers['set-cookie'], 'kluis_consent');
    const consentId = consentOf(mine.post.headers.location);
    expect(decodeURIComponent(cookie.split('=')[1] ?? '').split('.')).toHaveLength(5);
    const change = await postSettings(
      `&consent=${consentId}`,
      { consent: consentId, action: 'save', categories: 'analytical' },
      cookie,
    );
    expect(change.page.body).not.toContain('This choice belongs to another browser');
    expect(change.page.body).toContain('value="accept"');
    expect(consentOf(change.post.headers.location)).toBe(consentId);
    expect(await receiptsOf(consentId)).toEqual([
      { categories: [], source: 'settings' },
      { categories: ['analytical'], source: 'settings' },
    ]);
  });
});
