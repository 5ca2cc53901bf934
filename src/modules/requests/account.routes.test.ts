import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { settledLetterStates } from '../../../test/letters.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { type SmtpSink } from '../../../test/smtp.js';
import { unzip } from '../../../test/zip.js';
import { AccessReportSchema } from '../../kernel/access-report/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { followLink, openLinkPage, pressLinkButton } from '../../../test/link-button.js';

let testApp: MailingTestApp;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voxtra: Tenant;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: 'https://portal.voxtra.example' });
  ({ database, kernel, smtp, app, voxtra } = testApp);
});
afterAll(async () => {
  await testApp.close();
});

const mailTo = (address: string, count = 1): Promise<ParsedMail> => smtp.waitFor(address, count);

/** Asks for a link and follows it as mailed: opens its page and presses its button (decision 0400). */
async function loginByLink(email: string): Promise<{ cookie: string; csrf: string }> {
  const asked = await app.inject({
    method: 'POST',
    url: `/t/${voxtra.slug}/account/link`,
    payload: { email },
  });
  expect(asked.statusCode).toBe(202);
  const link = /(https:\/\/portal\.voxtra\.example\S+)/.exec((await mailTo(email)).text ?? '')?.[1] ?? '';
  const url = link.replace('https://portal.voxtra.example', '');
  const { button } = await openLinkPage(app, url);
  if (!button) throw new Error('no button on the login link page');
  const login = await pressLinkButton(app, button);
  // The link logs in and goes on to the account page (issue 19).
  expect(login.statusCode).toBe(303);
  expect(login.headers.location).toBe(`/t/${voxtra.slug}/account`);
  const again = await pressLinkButton(app, button);
  expect(again.headers.location).toBe(`/t/${voxtra.slug}/account?failed=link`); // single use
  expect(String(again.headers['set-cookie'] ?? '')).not.toContain('kluis_subject=');
  const cookies = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .map((line) => line.split(';')[0] ?? '');
  const cookie = cookies.find((line) => line.startsWith('kluis_subject=')) ?? '';
  const csrf = (cookies.find((line) => line.startsWith('kluis_subject_csrf=')) ?? '').split('=')[1] ?? '';
  return { cookie, csrf };
}

/** A customer of Voxtra with an e-mail address, as sales registers one. */
function createCustomer(
  familyName: string,
  givenName: string,
  email: string,
): ReturnType<typeof createPerson> {
  return createPerson(
    kernel,
    {
      tenantId: voxtra.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'customer_administration',
    },
    { subjectType: 'customer', familyName, givenName, email },
  );
}

describe('privacy portal accounts (VK-23, VX-13)', () => {
  it('VK-23: a person logs in with a link sent to the address on file, sees their data, sets a password, and erases everything from the account settings', async () => {
    const person = await createPerson(
      kernel,
      {
        tenantId: voxtra.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'customer_administration',
      },
      {
        subjectType: 'customer',
        familyName: 'Selfservice',
        givenName: 'Ine',
        email: 'ine.selfservice@mail.example',
        phone: '+32 9 377 00 11',
      },
    );
    const unknown = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/link`,
      payload: { email: 'who@mail.example' },
    });
    expect(unknown.statusCode).toBe(202);
    const session = await loginByLink('ine.selfservice@mail.example');
    const data = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/data`,
      headers: { cookie: session.cookie },
    });
    expect(data.statusCode).toBe(200);
    expect(data.body).toContain('ine.selfservice@mail.example');

    const password = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/password`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { password: 'correct horse battery staple' },
    });
    expect(password.statusCode).toBe(200);
    const wrong = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/login`,
      payload: { email: 'ine.selfservice@mail.example', password: 'nope nope nope' },
    });
    const nobody = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/login`,
      payload: { email: 'nobody@mail.example', password: 'nope nope nope' },
    });
    expect(wrong.statusCode).toBe(401);
    const withoutRequest = (body: string) => body.replace(/"(requestId|instance)":"[^"]+"/g, '');
    expect(withoutRequest(wrong.body)).toBe(withoutRequest(nobody.body));
    const byPassword = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/login`,
      payload: { email: 'ine.selfservice@mail.example', password: 'correct horse battery staple' },
    });
    expect(byPassword.statusCode).toBe(200);

    const noCsrf = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/requests`,
      headers: { cookie: session.cookie },
      payload: { kind: 'erasure' },
    });
    expect(noCsrf.statusCode).toBe(403);
    const erased = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/requests`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { kind: 'erasure' },
    });
    expect(erased.statusCode).toBe(200);
    expect(erased.json()).toMatchObject({ kind: 'erasure', state: 'fulfilled' });
    const people = await runAsOwner(database.ownerUrl, 'select 1 from people where subject_id = $1', [
      person.subjectId,
    ]);
    expect(people.rowCount).toBe(0);
    const accounts = await runAsOwner(
      database.ownerUrl,
      'select 1 from subject_accounts where subject_id = $1',
      [person.subjectId],
    );
    expect(accounts.rowCount).toBe(0);
    // The person erased themselves: the audit names them (pseudonymised), not a system job.
    const erasure = await runAsOwner<{ actor_kind: string; action: string }>(
      database.ownerUrl,
      `select actor_kind, action from audit_log
        where tenant_id = $1 and action in ('erase', 'request.erasure', 'request.fulfil') order by seq`,
      [voxtra.tenantId],
    );
    expect(erasure.rows).toEqual([
      { actor_kind: 'subject', action: 'request.erasure' },
      { actor_kind: 'subject', action: 'erase' },
      { actor_kind: 'subject', action: 'request.fulfil' },
    ]);
    const after = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/data`,
      headers: { cookie: session.cookie },
    });
    expect(after.statusCode).toBe(401);
  });

  it('portal password guessing is slowed down: after 5 failures for one address the next attempts wait (429)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const response = await app.inject({
        method: 'POST',
        url: `/t/${voxtra.slug}/account/login`,
        payload: { email: 'target@mail.example', password: `guess-${i}-guess` },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('a login link goes through the sealed outbox with the link it names: a known address gets one mail, an unknown one a letter that is dropped unsent', async () => {
    await createCustomer('Outbox', 'Olle', 'olle.outbox@mail.example');
    for (const email of ['olle.outbox@mail.example', 'nobody.outbox@mail.example']) {
      const asked = await app.inject({
        method: 'POST',
        url: `/t/${voxtra.slug}/account/link`,
        payload: { email },
      });
      expect(asked.statusCode).toBe(202);
    }
    const mail = await mailTo('olle.outbox@mail.example');
    const token = /account\/login\?token=([A-Za-z0-9_-]+)/.exec(mail.text ?? '')?.[1] ?? '';
    expect(token).not.toBe('');
    const states = await settledLetterStates(database.ownerUrl, voxtra.tenantId, 'request.login_link');
    expect(states).toMatchObject({
      sent: expect.any(Number) as number,
      dropped: expect.any(Number) as number,
    });
    expect(states.pending).toBeUndefined();
    // Only the known person's link exists, and the mailed token is the one stored.
    const links = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from subject_login_links where tenant_id = $1 and token_hash = $2',
      [voxtra.tenantId, createHash('sha256').update(token).digest()],
    );
    expect(links.rows[0]?.n).toBe(1);
    expect(smtp.to('nobody.outbox@mail.example')).toEqual([]);
  });

  it('VX-12: a correction from the account is applied at once', async () => {
    await createCustomer('Tikfout', 'Bart', 'bart.tikfout@mail.example');
    const session = await loginByLink('bart.tikfout@mail.example');
    const corrected = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/requests`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { kind: 'rectification', corrections: { familyName: 'Tijdfout' } },
    });
    expect(corrected.json()).toMatchObject({ state: 'fulfilled' });
    const data = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/data`,
      headers: { cookie: session.cookie },
    });
    expect(data.body).toContain('Tijdfout');
    expect(data.body).not.toContain('Tikfout');
  });

  it('VX-11: the access report and the portability export from the account leave out the portal password hash and say so (Art. 15(4))', async () => {
    await createCustomer('Geheim', 'Lies', 'lies.geheim@mail.example');
    const session = await loginByLink('lies.geheim@mail.example');
    const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
    const password = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/password`,
      headers,
      payload: { password: 'a long and secret pass phrase' },
    });
    expect(password.statusCode).toBe(200);
    const stored = await runAsOwner<{ password_hash: string }>(
      database.ownerUrl,
      'select password_hash from subject_accounts a join people p using (tenant_id, subject_id) where p.family_name = $1',
      ['Geheim'],
    );
    const hash = stored.rows[0]?.password_hash ?? '';
    expect(hash).toMatch(/^\$argon2id\$/);

    const data = await app.inject({ method: 'GET', url: `/t/${voxtra.slug}/account/data`, headers });
    expect(data.statusCode).toBe(200);
    expect(data.body).not.toContain(hash);
    expect(data.body).not.toContain('$argon2');
    const report = AccessReportSchema.parse(data.json());
    expect(report.data.map((table) => table.table)).not.toContain('subject_accounts');
    expect(report.withheld.items).toEqual([
      { table: 'subject_accounts', column: 'password_hash', category: 'user.authorization.credentials' },
    ]);
    expect(report.withheld.note).toContain('15');

    const exported = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/requests`,
      headers,
      payload: { kind: 'portability' },
    });
    expect(exported.json()).toMatchObject({ state: 'fulfilled' });
    const link =
      /(https:\/\/portal\.voxtra\.example\S+)/.exec(
        (await mailTo('lies.geheim@mail.example', 2)).text ?? '',
      )?.[1] ?? '';
    const download = await followLink(app, link.replace('https://portal.voxtra.example', ''));
    expect(download.statusCode).toBe(200);
    const files = await unzip(download.rawPayload);
    for (const [, text] of files) expect(text).not.toContain('$argon2');
    expect([...files.keys()].filter((name) => name.startsWith('subject_accounts'))).toEqual([]);
    expect(JSON.parse(files.get('manifest.json') ?? '{}')).toMatchObject({
      withheld: { items: [{ table: 'subject_accounts', column: 'password_hash' }] },
    });
  });
});
