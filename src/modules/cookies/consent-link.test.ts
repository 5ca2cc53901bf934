import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { unzip } from '../../../test/zip.js';
import { streamPortabilityZip } from '../../kernel/access-report/index.js';
import type { AccessReport } from '../../kernel/access-report/index.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

const PUBLIC = 'https://portal.voiceking.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

const cookiePairs = (set: string | string[] | undefined): string[] =>
  (Array.isArray(set) ? set : set === undefined ? [] : [set]).map((cookie) => cookie.split(';')[0] ?? '');

/** A choice on the cookie-settings page (a form post, as without JavaScript); answers the cookie it set. */
async function chooseOnSettingsPage(
  tenant: Tenant,
  form: Record<string, string>,
  cookie?: string,
): Promise<{ cookie: string; consentId: string }> {
  // The page first, as a browser would: its form carries the portal's form token.
  const page = await testApp.app.inject({
    method: 'GET',
    url: `/t/${tenant.slug}/cookies`,
    headers: cookie ? { cookie } : {},
  });
  expect(page.statusCode).toBe(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  const formCookie = cookiePairs(page.headers['set-cookie']).filter((pair) => pair.startsWith('kluis_form='));
  const response = await testApp.app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/cookies`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: [...(cookie ? [cookie] : []), ...formCookie].join('; '),
    },
    payload: new URLSearchParams({ ...form, csrf }).toString(),
  });
  expect(response.statusCode, response.body).toBe(303);
  const consentId = new URL(String(response.headers.location)).searchParams.get('consent') ?? '';
  const pair = cookiePairs(response.headers['set-cookie']).find((value) =>
    value.startsWith('kluis_consent='),
  );
  expect(pair).toBeDefined();
  return { cookie: pair ?? '', consentId };
}

async function customer(tenant: Tenant, email: string): Promise<number> {
  const person = await createPerson(
    testApp.kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      // Each seed policy's own purpose for keeping a customer's record.
      purpose: tenant.tenantId === testApp.voxtra.tenantId ? 'customer_administration' : 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: 'Claeys',
      givenName: 'Lotte',
      email,
      // Voxtra's policy keeps no preferred language.
      ...(tenant.tenantId === testApp.voiceking.tenantId ? { preferredLanguage: 'en' } : {}),
    },
  );
  return person.subjectId;
}

/** Logs in by the mailed link through the portal's JSON door, carrying `cookie` like a browser would. */
async function logIn(
  tenant: Tenant,
  email: string,
  cookie: string | undefined,
): Promise<{ cookie: string; csrf: string }> {
  const { app, smtp } = testApp;
  const before = smtp.to(email).length;
  const asked = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/account/link`,
    payload: { email },
  });
  expect(asked.statusCode).toBe(202);
  const text = (await smtp.waitFor(email, before + 1)).text ?? '';
  const token = new URL(
    /(https:\/\/portal\.voiceking\.example\S+)/.exec(text)?.[1] ?? PUBLIC,
  ).searchParams.get('token');
  const login = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/account/login`,
    headers: cookie ? { cookie } : {},
    payload: { token },
  });
  expect(login.statusCode, login.body).toBe(200);
  return {
    cookie: cookiePairs(login.headers['set-cookie']).join('; '),
    csrf: login.json<{ csrfToken: string }>().csrfToken,
  };
}

async function links(tenantId: number): Promise<Array<{ consent_id: string; subject_id: number }>> {
  return (
    await runAsOwner<{ consent_id: string; subject_id: number }>(
      testApp.database.ownerUrl,
      'select consent_id, subject_id from cookie_consent_links where tenant_id = $1 order by linked_at',
      [tenantId],
    )
  ).rows;
}

describe('a cookie consent id joins the person at a portal login (issue 15, decision 0290)', () => {
  it('VK-20 / VK-21: a choice made in the browser is linked when its holder logs in to the privacy portal, then shows in the access report, the export and "my consents", and erasure unlinks it while the receipts stay anonymous', async () => {
    const { app, kernel, voiceking, database } = testApp;
    const email = 'lotte.claeys@example.be';
    const subjectId = await customer(voiceking, email);
    // Two choices from one browser: accept everything, then keep analytics only.
    const first = await chooseOnSettingsPage(voiceking, { lang: 'en', action: 'accept' });
    const second = await chooseOnSettingsPage(
      voiceking,
      { lang: 'en', action: 'save', categories: 'analytical', consent: first.consentId },
      first.cookie,
    );
    expect(second.consentId).toBe(first.consentId);
    // Before any login the receipts name nobody.
    expect(await links(voiceking.tenantId)).toEqual([]);

    const session = await logIn(voiceking, email, second.cookie);
    expect(await links(voiceking.tenantId)).toEqual([{ consent_id: first.consentId, subject_id: subjectId }]);
    // The link is written in the person's name under the rights purpose, for the category only.
    const audit = await runAsOwner<{ purpose: string; action: string; categories: string[] }>(
      database.ownerUrl,
      `select purpose, action, categories from audit_log where tenant_id = $1 and actor_kind = 'subject'
        and action = 'write' and 'kluis.online.cookie_choices' = any(categories)`,
      [voiceking.tenantId],
    );
    expect(audit.rows).toEqual([
      { purpose: 'rights_requests', action: 'write', categories: ['kluis.online.cookie_choices'] },
    ]);

    // The access report (the account's own JSON door) holds both receipts, newest choice included.
    const data = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/data`,
      headers: { cookie: session.cookie },
    });
    expect(data.statusCode, data.body).toBe(200);
    const report = data.json<AccessReport>();
    const choices = report.data.find((table) => table.table === 'cookie_choices_of_subjects');
    const values = (choices?.rows ?? []).map((row) => ({
      consentId: row.consent_id,
      categories: row.categories,
      source: row.source,
    }));
    expect(values).toEqual(
      expect.arrayContaining([
        { consentId: first.consentId, categories: ['analytical', 'tracking'], source: 'settings' },
        { consentId: first.consentId, categories: ['analytical'], source: 'settings' },
      ]),
    );
    expect(values).toHaveLength(2);
    const category = report.categories.find((entry) => entry.key === 'kluis.online.cookie_choices');
    expect(category?.label).toBe(
      'uw cookiekeuzes (de code waaronder uw browser ze bewaart, wat u koos en wanneer)',
    );
    expect(category?.purposes).toEqual(['rights_requests']);

    // The portability export (Art. 20) carries them as a table of their own.
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    await streamPortabilityZip(
      kernel,
      DATA_MAP,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'subject', subjectId },
        purpose: 'rights_requests',
        subjectId,
        language: 'en',
      },
      output,
    );
    const files = await unzip(Buffer.concat(chunks));
    const exported = JSON.parse(files.get('cookie_choices_of_subjects.json') ?? '[]') as Array<{
      consent_id: string;
      categories: string[];
    }>;
    expect(exported.map((row) => row.categories).sort()).toEqual([
      ['analytical'],
      ['analytical', 'tracking'],
    ]);
    expect(files.get('cookie_choices_of_subjects.csv')).toContain(first.consentId);

    // "My consents" shows the choices in words and links to the cookie settings of that id.
    const page = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-consents?lang=en`,
      headers: { cookie: session.cookie },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('My cookie choices');
    expect(page.body).toContain('consent to analytical cookies');
    expect(page.body).toContain('consent to analytical, tracking cookies');
    expect(page.body).toContain(`/t/${voiceking.slug}/cookies?lang=en&amp;consent=${first.consentId}`);

    // Erasure from the account: the link goes, the receipts stay as the anonymous proof of consent.
    const erased = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/requests`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { kind: 'erasure' },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    expect(erased.json()).toMatchObject({ kind: 'erasure', state: 'fulfilled' });
    expect(await links(voiceking.tenantId)).toEqual([]);
    const receipts = await runAsOwner(
      database.ownerUrl,
      'select 1 from cookie_receipts where tenant_id = $1 and consent_id = $2',
      [voiceking.tenantId, first.consentId],
    );
    expect(receipts.rowCount).toBe(2);
  });

  it('a login without the cookie, with an id nobody chose under, or with another provider’s id links nothing', async () => {
    const { voiceking, voxtra } = testApp;
    const email = 'jonas.desmet@example.be';
    await customer(voiceking, email);
    await logIn(voiceking, email, undefined);
    await logIn(voiceking, email, 'kluis_consent=AAAAAAAAAAAAAAAAAAAAAA.0123456789ab.analytical.4102444800');
    await logIn(voiceking, email, 'kluis_consent=not-an-id');
    expect(await links(voiceking.tenantId)).toEqual([]);
    // A choice made on VoiceKing's site means nothing at Voxtra (ids are per provider).
    const chosen = await chooseOnSettingsPage(voiceking, { lang: 'nl', action: 'refuse' });
    const other = 'ruben.voxtra@example.be';
    await customer(voxtra, other);
    await logIn(voxtra, other, chosen.cookie);
    expect(await links(voxtra.tenantId)).toEqual([]);
    // Voxtra's policy asks for no banner: its settings page does not exist, nothing can be linked.
    const settings = await testApp.app.inject({ method: 'GET', url: `/t/${voxtra.slug}/cookies` });
    expect(settings.statusCode).toBe(404);
  });

  it('a cross-site post of the settings form (no form token, another site’s consent id) sets no cookie and links nothing at a later login', async () => {
    const { app, voiceking } = testApp;
    const email = 'fixation.victim@example.be';
    await customer(voiceking, email);
    // The attacker's own choice, made in the attacker's browser.
    const attacker = await chooseOnSettingsPage(voiceking, { lang: 'nl', action: 'refuse' });
    const before = await links(voiceking.tenantId);
    const receiptsBefore = await runAsOwner<{ n: string }>(
      testApp.database.ownerUrl,
      'select count(*) as n from cookie_receipts where consent_id = $1',
      [attacker.consentId],
    );
    const forged = (headers: Record<string, string>, extra = '') =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/cookies`,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://evil.example',
          ...headers,
        },
        payload: `lang=nl&action=accept&consent=${attacker.consentId}${extra}`,
      });
    // The victim's browser: its own form cookie (it visited the page once), but the attacker's page
    // cannot read the token; a cross-site fetch says so itself; no cookie at all is refused too.
    const visit = await app.inject({ method: 'GET', url: `/t/${voiceking.slug}/cookies` });
    const victimForm =
      cookiePairs(visit.headers['set-cookie']).find((pair) => pair.startsWith('kluis_form=')) ?? '';
    const victimToken = /name="csrf" value="([^"]+)"/.exec(visit.body)?.[1] ?? '';
    for (const attempt of [
      await forged({}),
      await forged({ cookie: victimForm }),
      await forged({ cookie: victimForm }, '&csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
      await forged({ cookie: victimForm, 'sec-fetch-site': 'cross-site' }, `&csrf=${victimToken}`),
    ]) {
      expect(attempt.statusCode, attempt.body).toBe(403);
      expect(attempt.headers['content-type']).toContain('application/problem+json');
      expect(
        cookiePairs(attempt.headers['set-cookie']).filter((pair) => pair.startsWith('kluis_consent=')),
      ).toEqual([]);
    }
    // Even the victim's own same-site form naming another id records it but never puts it in the cookie.
    const sameSite = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/cookies`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: victimForm },
      payload: `lang=nl&action=refuse&consent=${attacker.consentId}&csrf=${victimToken}`,
    });
    expect(sameSite.statusCode).toBe(303);
    expect(
      cookiePairs(sameSite.headers['set-cookie']).filter((pair) => pair.startsWith('kluis_consent=')),
    ).toEqual([]);
    const receiptsAfter = await runAsOwner<{ n: string }>(
      testApp.database.ownerUrl,
      'select count(*) as n from cookie_receipts where consent_id = $1',
      [attacker.consentId],
    );
    expect(Number(receiptsAfter.rows[0]?.n)).toBe(Number(receiptsBefore.rows[0]?.n) + 1);
    // The victim logs in later with what the browser holds: nothing of the attacker's is linked.
    await logIn(voiceking, email, victimForm);
    expect(await links(voiceking.tenantId)).toEqual(before);
  });

  it('"my data" names the two cookie tables apart (the choices, the linked browsers) in nl, fr and en', async () => {
    const { app, voiceking } = testApp;
    const email = 'mira.tabellen@example.be';
    await customer(voiceking, email);
    const choice = await chooseOnSettingsPage(voiceking, { lang: 'en', action: 'accept' });
    const session = await logIn(voiceking, email, choice.cookie);
    const names = {
      nl: ['Cookiekeuzes: de keuzes die u maakte', 'Cookiekeuzes: de browsers die aan u gekoppeld zijn'],
      fr: [
        'Choix de cookies : les choix que vous avez faits',
        'Choix de cookies : les navigateurs liés à vous',
      ],
      en: ['Cookie choices: the choices you made', 'Cookie choices: the browsers linked to you'],
    } as const;
    for (const [lang, [choices, links]] of Object.entries(names)) {
      const page = await app.inject({
        method: 'GET',
        url: `/t/${voiceking.slug}/account/my-data?lang=${lang}`,
        headers: { cookie: session.cookie },
      });
      expect(page.statusCode).toBe(200);
      const anchors = [
        ...page.body.matchAll(/<a href="[^"]*\/account\/my-data\/(cookie_[a-z_]+)">([^<]*)<\/a>/g),
      ].map((match) => [match[1], match[2]]);
      expect(anchors, lang).toEqual(
        expect.arrayContaining([
          ['cookie_choices_of_subjects', choices],
          ['cookie_consent_links', links],
        ]),
      );
      const table = await app.inject({
        method: 'GET',
        url: `/t/${voiceking.slug}/account/my-data/cookie_consent_links?lang=${lang}`,
        headers: { cookie: session.cookie },
      });
      expect(table.statusCode).toBe(200);
      expect(table.body).toContain(links);
    }
  });
});
