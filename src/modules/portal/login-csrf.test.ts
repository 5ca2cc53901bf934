import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { createPerson } from '../parties/index.js';

// Attack finding A12 (issues 15 and 19): the portal's login forms took cross-site posts without a
// form token (login CSRF), and such a login joined the victim browser's cookie consent id to the
// attacker's person (decision 0412).

const PUBLIC = 'https://portal.voiceking.example';
const PASSWORD = 'Attacker-portal-pw-2026!';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

const cookiePairs = (set: string | string[] | undefined): string[] =>
  (Array.isArray(set) ? set : set === undefined ? [] : [set]).map((cookie) => cookie.split(';')[0] ?? '');
const tokenIn = (body: string): string => /name="csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';

/** A customer with a portal password, set from their own session (a mailed link, the JSON door). */
async function customerWithPassword(email: string): Promise<number> {
  const { app, kernel, smtp, voiceking } = testApp;
  const person = await createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    { subjectType: 'customer', familyName: 'Aerts', givenName: 'Marie', email },
  );
  const asked = await app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/account/link`,
    payload: { email },
  });
  expect(asked.statusCode).toBe(202);
  const text = (await smtp.waitFor(email, 1)).text ?? '';
  const token = new URL(
    /(https:\/\/portal\.voiceking\.example\S+)/.exec(text)?.[1] ?? PUBLIC,
  ).searchParams.get('token');
  const login = await app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/account/login`,
    payload: { token },
  });
  expect(login.statusCode, login.body).toBe(200);
  const password = await app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/account/password`,
    headers: {
      cookie: cookiePairs(login.headers['set-cookie']).join('; '),
      'x-csrf-token': login.json<{ csrfToken: string }>().csrfToken,
    },
    payload: { password: PASSWORD },
  });
  expect(password.statusCode).toBe(200);
  return person.subjectId;
}

/** The victim's browser once refused cookies on Kluis's own settings page: its consent cookie. */
async function victimBrowser(): Promise<{ consentCookie: string; consentId: string }> {
  const { app, voiceking } = testApp;
  const page = await app.inject({ method: 'GET', url: `/t/${voiceking.slug}/cookies?lang=en` });
  const form = cookiePairs(page.headers['set-cookie']).filter((pair) => pair.startsWith('kluis_form='));
  const saved = await app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/cookies`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.join('; ') },
    payload: new URLSearchParams({ lang: 'en', action: 'refuse', csrf: tokenIn(page.body) }).toString(),
  });
  expect(saved.statusCode, saved.body).toBe(303);
  const consentCookie =
    cookiePairs(saved.headers['set-cookie']).find((pair) => pair.startsWith('kluis_consent=')) ?? '';
  const consentId = new URL(String(saved.headers.location), PUBLIC).searchParams.get('consent') ?? '';
  expect(consentId).not.toBe('');
  return { consentCookie, consentId };
}

const links = async (consentId: string): Promise<number[]> =>
  (
    await runAsOwner<{ subject_id: number }>(
      testApp.database.ownerUrl,
      'select subject_id from cookie_consent_links where tenant_id = $1 and consent_id = $2',
      [testApp.voiceking.tenantId, consentId],
    )
  ).rows.map((row) => row.subject_id);

const sessionSet = (set: string | string[] | undefined): boolean =>
  cookiePairs(set).some((pair) => pair.startsWith('kluis_subject='));

describe('portal login forms refuse cross-site posts and join no consent id of another site (attack A12)', () => {
  it('the password login form carries the form token; a post from another site, or without the token, logs nobody in and joins nothing', async () => {
    const { app, voiceking } = testApp;
    const email = 'marie.aerts21@mail.example';
    const attacker = await customerWithPassword(email);
    const victim = await victimBrowser();

    // Both login forms of the page carry the portal's form token.
    const page = await app.inject({ method: 'GET', url: `/t/${voiceking.slug}/account?lang=en` });
    expect(page.statusCode).toBe(200);
    expect(page.body.match(/name="csrf" value="[A-Za-z0-9_-]{43}"/g)?.length).toBe(2);
    const formCookie =
      cookiePairs(page.headers['set-cookie']).find((pair) => pair.startsWith('kluis_form=')) ?? '';
    const token = tokenIn(page.body);

    const post = (url: string, headers: Record<string, string>, form: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/account/${url}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: new URLSearchParams(form).toString(),
      });
    const credentials = { email, password: PASSWORD };
    for (const attempt of [
      // The attack as run: another site's page posts the attacker's credentials, no form token.
      await post(
        'login-password',
        { cookie: victim.consentCookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
        credentials,
      ),
      // Without fetch metadata (an older browser): no token, or a token without its cookie.
      await post('login-password', { cookie: victim.consentCookie }, credentials),
      await post('login-password', { cookie: victim.consentCookie }, { ...credentials, csrf: token }),
      // Even with the form cookie and its token, a cross-site post is refused.
      await post(
        'login-password',
        { cookie: `${victim.consentCookie}; ${formCookie}`, 'sec-fetch-site': 'cross-site' },
        { ...credentials, csrf: token },
      ),
      await post('login-link', { 'sec-fetch-site': 'cross-site' }, { email }),
    ]) {
      expect(attempt.statusCode, attempt.body).toBe(403);
      expect(sessionSet(attempt.headers['set-cookie'])).toBe(false);
    }
    // The JSON door refuses a browser's cross-site login too.
    const json = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/login`,
      headers: { cookie: victim.consentCookie, 'sec-fetch-site': 'cross-site' },
      payload: credentials,
    });
    expect(json.statusCode).toBe(403);
    expect(sessionSet(json.headers['set-cookie'])).toBe(false);
    expect(await links(victim.consentId)).toEqual([]);
    // Only the mailed link of the set-up was sent: the cross-site link form mailed nothing.
    expect(testApp.smtp.to(email)).toHaveLength(1);

    // The person's own login from the page, in the browser that made the choice: in, and joined.
    const own = await post(
      'login-password',
      { cookie: `${victim.consentCookie}; ${formCookie}`, 'sec-fetch-site': 'same-origin' },
      { ...credentials, csrf: token },
    );
    expect(own.statusCode, own.body).toBe(303);
    expect(own.headers.location).toBe(`/t/${voiceking.slug}/account`);
    expect(sessionSet(own.headers['set-cookie'])).toBe(true);
    expect(await links(victim.consentId)).toEqual([attacker]);
  });
});
