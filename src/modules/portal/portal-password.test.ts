import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { chainPendingAudit } from '../../../test/kernel.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { fixedClock } from '../../platform/clock.js';
import { createPerson } from '../parties/index.js';

// Attack finding S22-5: a portal password change left every other session logged in, asked no
// current password and took the person's own e-mail address (decisions 1060, 1061).

const PUBLIC = 'https://portal.voxtra.example';
const clock = fixedClock(new Date());
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC, clock });
});
afterAll(async () => {
  await testApp?.close();
});

interface Browser {
  cookie: string;
  csrf: string;
}

const cookiePairs = (set: string | string[] | undefined): string[] =>
  (Array.isArray(set) ? set : set === undefined ? [] : [set]).map((cookie) => cookie.split(';')[0] ?? '');

function browserOf(login: { headers: { 'set-cookie'?: string | string[] } }): Browser {
  const pairs = cookiePairs(login.headers['set-cookie']);
  const csrf = (pairs.find((pair) => pair.startsWith('kluis_subject_csrf=')) ?? '').split('=')[1] ?? '';
  return { cookie: pairs.join('; '), csrf };
}

async function customer(email: string): Promise<number> {
  const { kernel, voxtra } = testApp;
  const person = await createPerson(
    kernel,
    {
      tenantId: voxtra.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'customer_administration',
    },
    { subjectType: 'customer', familyName: 'Lemaire', givenName: 'Hugo', email },
  );
  return person.subjectId;
}

/** Asks the portal for a login link and reads its token from the n-th mail to the address. */
async function mailedLinkToken(email: string, nth: number, remoteAddress?: string): Promise<string> {
  const { app, smtp, voxtra } = testApp;
  const asked = await app.inject({
    method: 'POST',
    url: `/t/${voxtra.slug}/account/link`,
    payload: { email },
    ...(remoteAddress === undefined ? {} : { remoteAddress }),
  });
  expect(asked.statusCode).toBe(202);
  const text = (await smtp.waitFor(email, nth)).text ?? '';
  const links = [...text.matchAll(/https:\/\/portal\.voxtra\.example\S+/g)];
  return new URL(links.at(-1)?.[0] ?? PUBLIC).searchParams.get('token') ?? '';
}

/** Follows a mailed link's token (the JSON door, as a browser's button does). */
function loginWithToken(token: string) {
  const { app, voxtra } = testApp;
  return app.inject({ method: 'POST', url: `/t/${voxtra.slug}/account/login`, payload: { token } });
}

/** Logs in with the n-th mailed link to the address. */
async function loginByLink(email: string, nth: number): Promise<Browser> {
  const login = await loginWithToken(await mailedLinkToken(email, nth));
  expect(login.statusCode, login.body).toBe(200);
  return browserOf(login);
}

async function loginByPassword(
  email: string,
  password: string,
): Promise<{ status: number; browser: Browser }> {
  const { app, voxtra } = testApp;
  const login = await app.inject({
    method: 'POST',
    url: `/t/${voxtra.slug}/account/login`,
    payload: { email, password },
  });
  return { status: login.statusCode, browser: browserOf(login) };
}

/** The settings page's password form, posted as a browser posts it. */
function postPasswordForm(browser: Browser, fields: Record<string, string>) {
  const { app, voxtra } = testApp;
  return app.inject({
    method: 'POST',
    url: `/t/${voxtra.slug}/account/settings/password`,
    headers: { cookie: browser.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ csrf: browser.csrf, ...fields }).toString(),
  });
}

/** The JSON door of a password change, with the session's cookie and CSRF header. */
function postPasswordJson(browser: Browser, payload: { currentPassword?: string; password: string }) {
  const { app, voxtra } = testApp;
  return app.inject({
    method: 'POST',
    url: `/t/${voxtra.slug}/account/password`,
    headers: { cookie: browser.cookie, 'x-csrf-token': browser.csrf },
    payload,
  });
}

/** The settings page refusing a new password as a part repeated, in Dutch, without echoing it. */
function expectPageRefusesAsRepeated(answer: { statusCode: number; body: string }, password: string): void {
  expect(answer.statusCode, password).toBe(422);
  expect(answer.body, password).toContain(
    'Het nieuwe wachtwoord mag geen kort of makkelijk te raden stuk zijn dat herhaald wordt',
  );
  expect(answer.body, password).not.toContain(password);
}

async function myDataStatus(browser: Browser): Promise<number> {
  const { app, voxtra } = testApp;
  return (
    await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/my-data`,
      headers: { cookie: browser.cookie },
    })
  ).statusCode;
}

describe('privacy portal password change (VK-8, VK-23; attack S22-5)', () => {
  it('VK-8: on the settings page a password change asks the current password once one is set, refuses the person’s own e-mail address and common passwords naming the rule in the page’s language, ends every other session of the person and says so', async () => {
    const { app, voxtra, database } = testApp;
    const email = 'hugo.lemaire3@mail.example';
    const subjectId = await customer(email);

    // A: logged in by a mailed link, no password yet: sets one without a current password.
    const a = await loginByLink(email, 1);
    const settings = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/settings`,
      headers: { cookie: a.cookie },
    });
    expect(settings.statusCode).toBe(200);
    expect(settings.body).not.toContain('name="currentPassword"');
    const first = await postPasswordForm(a, { password: 'Another-Passw0rd-22' });
    expect(first.statusCode).toBe(303);

    // B: another browser, logged in with that password.
    const b = await loginByPassword(email, 'Another-Passw0rd-22');
    expect(b.status).toBe(200);
    expect(await myDataStatus(b.browser)).toBe(200);
    const bSettings = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/settings`,
      headers: { cookie: b.browser.cookie },
    });
    expect(bSettings.body).toContain('name="currentPassword"');
    expect(bSettings.body).toContain('Huidig wachtwoord');

    // B without, and with a wrong, current password: refused, said in Dutch, nothing changed.
    const without = await postPasswordForm(b.browser, { password: 'Zomer-Router-Kortrijk-Lift' });
    expect(without.statusCode).toBe(403);
    expect(without.body).toContain('Geef uw huidige wachtwoord.');
    const wrong = await postPasswordForm(b.browser, {
      currentPassword: 'not-the-current-one',
      password: 'Zomer-Router-Kortrijk-Lift',
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).toContain('Het huidige wachtwoord is niet juist.');

    // The rule of a new password, each named on the page.
    const refused: [string, string][] = [
      [`${email}1`, 'mag uw e-mailadres of onze naam niet bevatten'],
      ['Voxtra-Portaal-2026', 'mag uw e-mailadres of onze naam niet bevatten'],
      ['Password123!', 'staat in lijsten van gelekte wachtwoorden'],
      ['V0xtr@-P0rta!-2026', 'mag uw e-mailadres of onze naam niet bevatten'],
      ['\\/0xtr@-26-portaal', 'mag uw e-mailadres of onze naam niet bevatten'],
      ['ＰＡＳＳＷＯＲＤ１２３４', 'staat in lijsten van gelekte wachtwoorden'],
      ['aaaaaaaaaaaa', 'geen kort of makkelijk te raden stuk zijn dat herhaald wordt'],
      ['abababababab', 'geen kort of makkelijk te raden stuk zijn dat herhaald wordt'],
      ['Another-Passw0rd-22', 'moet verschillen van het huidige'],
    ];
    for (const [password, words] of refused) {
      const answer = await postPasswordForm(b.browser, { currentPassword: 'Another-Passw0rd-22', password });
      expect(answer.statusCode, password).toBe(422);
      expect(answer.body, password).toContain(words);
    }
    expect((await loginByPassword(email, 'Another-Passw0rd-22')).status).toBe(200);

    // B changes it with the current password: A (and the extra login above) are logged out, B is not.
    const changed = await postPasswordForm(b.browser, {
      currentPassword: 'Another-Passw0rd-22',
      password: 'Zomer-Router-Kortrijk-Lift',
    });
    expect(changed.statusCode).toBe(303);
    expect(changed.headers.location).toBe(`/t/${voxtra.slug}/account/settings?saved=pw`);
    const saved = await app.inject({
      method: 'GET',
      url: String(changed.headers.location),
      headers: { cookie: b.browser.cookie },
    });
    expect(saved.body).toContain('Elke andere sessie van uw account is afgemeld');
    expect(await myDataStatus(b.browser)).toBe(200);
    expect(await myDataStatus(a)).toBe(401);
    expect((await loginByPassword(email, 'Another-Passw0rd-22')).status).toBe(401);
    expect((await loginByPassword(email, 'Zomer-Router-Kortrijk-Lift')).status).toBe(200);

    const sessions = await runAsOwner<{ count: string }>(
      database.ownerUrl,
      'select count(*) from subject_sessions where tenant_id = $1 and subject_id = $2',
      [voxtra.tenantId, subjectId],
    );
    expect(Number(sessions.rows[0]?.count)).toBe(2); // B and the last login
    await chainPendingAudit(testApp.kernel, voxtra.tenantId);
    const audit = await runAsOwner<{ reason: string }>(
      database.ownerUrl,
      "select reason from audit_log where tenant_id = $1 and action = 'password.change' order by 1",
      [voxtra.tenantId],
    );
    expect(audit.rows.map((row) => row.reason)).toEqual([
      'password changed; 2 other session(s) ended; 0 unused login link(s) revoked',
      'password set; 0 other session(s) ended; 0 unused login link(s) revoked',
    ]);
  });

  it('VK-8: a portal password that is a word or a common password repeated is refused like the word, said in Dutch on the page and as `password_repeated_character` to the JSON door; a good passphrase said twice is taken (attack S23B-1)', async () => {
    const email = 'noor.herhaald@mail.example';
    await customer(email);
    const browser = await loginByLink(email, 1);
    for (const password of ['dragondragondragon', 'qwertyqwertyqwerty', 'Iloveyou-Iloveyou-'])
      expectPageRefusesAsRepeated(await postPasswordForm(browser, { password }), password);
    const json = await postPasswordJson(browser, { password: 'Voxtra-Voxtra-Voxtra' });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({
      code: 'validation_failed',
      details: { rule: 'password_repeated_character', issues: [{ path: 'body/password' }] },
    });
    expect((await loginByPassword(email, 'qwertyqwertyqwerty')).status).toBe(401);
    const twice = 'Noord-Zeedijk-Blankenberge-Tram/Noord-Zeedijk-Blankenberge-Tram';
    expect((await postPasswordForm(browser, { password: twice })).statusCode).toBe(303);
    expect((await loginByPassword(email, twice)).status).toBe(200);
  });

  it('VK-8: a portal password that is a repeated word with digits before or after it or between the repetitions, or one character repeated with one letter added, is refused as repeated, on the page and to the JSON door (attack S24-1)', async () => {
    const email = 'noor.jaartal@mail.example';
    await customer(email);
    // From a network of its own, so the file's other tests keep their share of login links.
    const login = await loginWithToken(await mailedLinkToken(email, 1, '198.51.100.24'));
    expect(login.statusCode, login.body).toBe(200);
    const browser = browserOf(login);
    const refused = [
      'dragondragondragon1',
      '1dragondragondragon',
      'dragondragondragon2026',
      '2026dragondragondragon',
      'dragon1dragon2dragon3',
      'aaaaaaaaaaaab',
    ];
    for (const password of refused) {
      expectPageRefusesAsRepeated(await postPasswordForm(browser, { password }), password);
      const json = await postPasswordJson(browser, { password });
      expect(json.statusCode, password).toBe(400);
      expect(json.json(), password).toMatchObject({
        code: 'validation_failed',
        details: { rule: 'password_repeated_character', issues: [{ path: 'body/password' }] },
      });
    }
    expect((await loginByPassword(email, 'dragondragondragon2026')).status).toBe(401);
    expect((await postPasswordForm(browser, { password: 'dragonnogarddragon' })).statusCode).toBe(303);
    expect((await loginByPassword(email, 'dragonnogarddragon')).status).toBe(200);
  });

  it('VK-8: a forgotten portal password: a fresh session of a mailed link sets a new one without the current one (not the same one again); 15 minutes on, the current one is asked', async () => {
    const email = 'zoe.vergeten@mail.example';
    await customer(email);
    const first = await loginByLink(email, 1);
    expect((await postPasswordForm(first, { password: 'First-Portal-Passphrase' })).statusCode).toBe(303);
    const other = await loginByPassword(email, 'First-Portal-Passphrase');
    expect(other.status).toBe(200);

    const fresh = await loginByLink(email, 2);
    const same = await postPasswordForm(fresh, { password: 'First-Portal-Passphrase' });
    expect(same.statusCode).toBe(422);
    expect(same.body).toContain('Het nieuwe wachtwoord moet verschillen van het huidige.');
    const reset = await postPasswordJson(fresh, { password: 'Second-Portal-Passphrase' });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toEqual({ otherSessionsEnded: 2 });
    expect(await myDataStatus(other.browser)).toBe(401);

    // 16 minutes later (the session kept alive), the link no longer stands in for the password.
    clock.advance(10 * 60 * 1000);
    expect(await myDataStatus(fresh)).toBe(200);
    clock.advance(6 * 60 * 1000);
    const late = await postPasswordJson(fresh, { password: 'Third-Portal-Passphrase' });
    expect(late.statusCode).toBe(403);
    expect(late.json()).toMatchObject({ details: { rule: 'current_password_required' } });
    const common = await postPasswordJson(fresh, {
      currentPassword: 'Second-Portal-Passphrase',
      password: 'iloveyou12345',
    });
    expect(common.statusCode).toBe(400);
    expect(common.json()).toMatchObject({
      code: 'validation_failed',
      details: { rule: 'password_common', issues: [{ path: 'body/password' }] },
    });
    const withCurrent = await postPasswordJson(fresh, {
      currentPassword: 'Second-Portal-Passphrase',
      password: 'Third-Portal-Passphrase',
    });
    expect(withCurrent.statusCode).toBe(200);
    expect((await loginByPassword(email, 'Third-Portal-Passphrase')).status).toBe(200);
  });

  it('VK-8: a portal password change revokes every login link mailed before it and still unused; a link mailed after it logs in (decision 1110)', async () => {
    const { voxtra, database } = testApp;
    const email = 'ines.gekaapt@mail.example';
    const subjectId = await customer(email);
    const first = await loginByLink(email, 1);
    expect((await postPasswordForm(first, { password: 'Before-The-Mailbox-Leak' })).statusCode).toBe(303);

    // Two links mailed (say, by someone who knows the address), not followed; then the person,
    // logged in with the password, changes it.
    const unusedA = await mailedLinkToken(email, 2);
    const unusedB = await mailedLinkToken(email, 3);
    const owner = await loginByPassword(email, 'Before-The-Mailbox-Leak');
    expect(owner.status).toBe(200);
    const changed = await postPasswordForm(owner.browser, {
      currentPassword: 'Before-The-Mailbox-Leak',
      password: 'After-The-Mailbox-Leak',
    });
    expect(changed.statusCode).toBe(303);

    for (const token of [unusedA, unusedB]) {
      const refused = await loginWithToken(token);
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['set-cookie']).toBeUndefined();
    }
    const links = await runAsOwner<{ count: string }>(
      database.ownerUrl,
      'select count(*) from subject_login_links where tenant_id = $1 and subject_id = $2 and used_at is null',
      [voxtra.tenantId, subjectId],
    );
    expect(Number(links.rows[0]?.count)).toBe(0);

    // A link mailed after the change is the person's way back in (a forgotten password).
    // (Asked from another network: three asks for one address from one network an hour.)
    const afterLogin = await loginWithToken(await mailedLinkToken(email, 4, '198.51.100.7'));
    expect(afterLogin.statusCode, afterLogin.body).toBe(200);
    const after = browserOf(afterLogin);
    expect(await myDataStatus(after)).toBe(200);
    expect(await myDataStatus(owner.browser)).toBe(200);

    await chainPendingAudit(testApp.kernel, voxtra.tenantId);
    const audit = await runAsOwner<{ reason: string }>(
      database.ownerUrl,
      "select reason from audit_log where tenant_id = $1 and action = 'password.change' order by seq desc limit 2",
      [voxtra.tenantId],
    );
    expect(audit.rows.map((row) => row.reason).reverse()).toEqual([
      'password set; 0 other session(s) ended; 0 unused login link(s) revoked',
      'password changed; 1 other session(s) ended; 2 unused login link(s) revoked',
    ]);
  });
  it('VK-8: five portal password changes with the same current password sent at once: one is saved, the others answer 409 saying so in Dutch (or 403, the current one gone); only the saved one logs in (attack S23-2)', async () => {
    const { voxtra, database } = testApp;
    const email = 'lotte.dubbelklik@mail.example';
    await customer(email);
    const passwordChanges = async (): Promise<number> => {
      await chainPendingAudit(testApp.kernel, voxtra.tenantId);
      const audit = await runAsOwner<{ count: string }>(
        database.ownerUrl,
        "select count(*) from audit_log where tenant_id = $1 and action = 'password.change'",
        [voxtra.tenantId],
      );
      return Number(audit.rows[0]?.count);
    };
    const changesBefore = await passwordChanges();
    const fresh = await loginByLink(email, 1);
    // A session of a mailed link may set a password without the current one, so sets sent at once
    // from it are not the case here: the first password is set once.
    const first = 'First-Choice-Number-1x';
    expect((await postPasswordForm(fresh, { password: first })).statusCode).toBe(303);

    const owner = await loginByPassword(email, first);
    expect(owner.status).toBe(200);
    const seconds = Array.from({ length: 5 }, (_, i) => `Second-Choice-Number-${i}y`);
    const changeAnswers = await Promise.all(
      seconds.map((password) => postPasswordForm(owner.browser, { currentPassword: first, password })),
    );
    // One is saved; the others lost under the lock (409) or, sent a moment after it was saved, found
    // their current password no longer current (403).
    const statuses = changeAnswers.map((answer) => answer.statusCode);
    expect(statuses.filter((status) => status === 303)).toHaveLength(1);
    expect(
      statuses.filter((status) => status !== 303).every((status) => status === 409 || status === 403),
    ).toBe(true);
    for (const lost of changeAnswers.filter((answer) => answer.statusCode === 409))
      expect(lost.body).toContain('Uw wachtwoord werd intussen al gewijzigd');
    const second = seconds[changeAnswers.findIndex((answer) => answer.statusCode === 303)] ?? '';
    expect((await loginByPassword(email, second)).status).toBe(200);

    // One set and one change written, none of the four that lost.
    expect((await passwordChanges()) - changesBefore).toBe(2);
  });
});
