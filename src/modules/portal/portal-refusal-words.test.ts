import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { createPerson } from '../parties/index.js';

const PUBLIC = 'https://portal.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

interface Answer {
  statusCode: number;
  body: string;
  location: string | undefined;
}

/** A browser of one person: a cookie jar over the app's inject, forms sent url-encoded. */
function browserOf(app: MailingTestApp['app']) {
  const jar = new Map<string, string>();
  return async (method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<Answer> => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await app.inject({
      method,
      url,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    const header = response.headers['set-cookie'];
    for (const set of Array.isArray(header) ? header : header === undefined ? [] : [header]) {
      const [name = '', value = ''] = (set.split(';')[0] ?? '').split('=');
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
}

const csrfOf = (body: string): string => /name="csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';

describe('the privacy portal answers a refused form in the person’s language, never with keys', () => {
  it('S20-13: a refused consent change and dossier reveal on the Dutch portal say so in Dutch, without the purpose key or the server’s English', async () => {
    const { app, smtp } = testApp;
    const tenant = testApp.voiceking;
    const email = 'weigering.nl@example.be';
    await createPerson(
      testApp.kernel,
      {
        tenantId: tenant.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      { subjectType: 'customer', familyName: 'Peeters', givenName: 'An', email, preferredLanguage: 'nl' },
    );
    const send = browserOf(app);
    const base = `/t/${tenant.slug}`;
    const loginPage = await send('GET', `${base}/account?lang=nl`);
    const before = smtp.to(email).length;
    expect(
      (await send('POST', `${base}/account/login-link`, { email, csrf: csrfOf(loginPage.body) })).statusCode,
    ).toBe(303);
    const text = (await smtp.waitFor(email, before + 1)).text ?? '';
    const link = new URL(/(https:\/\/portal\.example\S+)/.exec(text)?.[1] ?? PUBLIC);
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
    expect((await send('POST', action, fields)).location).toBe(`${base}/account`);
    const consents = await send('GET', `${base}/account/my-consents`);
    const csrf = csrfOf(consents.body);

    for (const form of [
      { purpose: 'billing', event: 'objected' },
      { purpose: 'eligibility', event: 'bogus' },
      { purpose: 'interest_profiles_gone', event: 'given' },
    ]) {
      const refused = await send('POST', `${base}/account/my-consents`, { csrf, ...form });
      expect(refused.statusCode, JSON.stringify(form)).toBe(422);
      expect(refused.body).toContain('<html lang="nl"');
      expect(refused.body).toContain('Deze keuze bestaat niet (meer)');
      expect(refused.body).not.toContain(form.purpose);
      expect(refused.body).not.toMatch(/rests on|name the purpose|the policy has no purpose/);
    }
    const reveal = await send('POST', `${base}/account/my-dossier/reveal`, { csrf, credentialId: 'abc' });
    expect(reveal.statusCode).toBe(422);
    expect(reveal.body).toContain('Deze keuze bestaat niet (meer)');
    expect(reveal.body).not.toContain('credentialId');
    // Nothing was recorded.
    const after = await send('GET', `${base}/account/my-consents`);
    expect(after.statusCode).toBe(200);
    // French elides before a vowel: « sur la base d’une obligation légale », never « de une ».
    const french = await send('GET', `${base}/account/my-data?lang=fr`);
    expect(french.statusCode).toBe(200);
    expect(french.body).toContain('sur la base d’une obligation légale');
    expect(french.body).not.toMatch(/sur la base de (une|un) /);
  });
});
