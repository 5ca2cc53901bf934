/**
 * Issue 14 "Done when": newsletters end to end, HTTP in, mail out through a real SMTP server on
 * loopback (test/smtp.ts), the database and the access report checked. The job queue's work is
 * run by calling the sender the job runs (sendQueuedMailings); mailings.cli.test.ts kills it.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { loginAs, type StaffSession } from '../../../test/http.js';
import { followLink } from '../../../test/link-button.js';
import { fixedClock } from '../../../test/kernel.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createLogger } from '../../platform/logger.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { expireSignups, sealClearDkimKeys, sendQueuedMailings, type ConsentDeps } from './index.js';
import { putVoicekingMailSettings } from './mailing.test-helpers.js';

const PUBLIC = 'https://news.example';
const clock = fixedClock(new Date('2026-11-29T09:00:00Z'));
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const DKIM_TXT = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;

let testApp: MailingTestApp;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let deps: ConsentDeps;
let voiceking: Tenant;
let voxtra: Tenant;
let sales: StaffSession;
const BOUNCING = 'no-such-mailbox@mail.example';

beforeAll(async () => {
  testApp = await startMailingTestApp({
    publicUrl: PUBLIC,
    clock,
    rejectRecipient: (address) => address === BOUNCING,
  });
  ({ database, kernel, smtp, app, voiceking, voxtra } = testApp);
  deps = { kernel, mailer: smtp.mailer, publicUrl: PUBLIC, dataMap: DATA_MAP, logger: testLogger };
  sales = await loginAs(app, kernel, voiceking, 'sales');
  const admin = await loginAs(app, kernel, voiceking, 'admin');
  const settings = await putVoicekingMailSettings(app, admin, privateKey);
  expect(settings.statusCode).toBe(200);
  expect(settings.body).not.toContain('PRIVATE KEY');
}, 120_000);
afterAll(async () => {
  await testApp.close();
});

let serial = 0;
async function person(
  tenant: Tenant,
  subjectType: string,
  purpose: string,
  extra: { preferredLanguage?: 'nl' | 'fr' | 'en' } = {},
): Promise<{ id: number; email: string }> {
  serial += 1;
  const email = `reader${serial}@mail.example`;
  const created = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose },
    { subjectType, familyName: `Reader${serial}`, givenName: 'Roos', email, ...extra },
  );
  return { id: created.subjectId, email };
}

const staff = (session: StaffSession, purpose: string) => ({
  cookie: session.cookie,
  'x-csrf-token': session.csrfToken,
  'x-kluis-purpose': purpose,
});

interface MailingAnswer {
  mailingId: number;
  state: string;
  recipients: Record<string, number>;
}

/** Composes, previews and sends a mailing as staff; runs the sender; returns the preview count. */
async function sendMailing(
  session: StaffSession,
  purpose: string,
  texts: Record<string, { subject: string; body: string }>,
): Promise<{ mailingId: number; count: number }> {
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/mailings',
    headers: staff(session, purpose),
    payload: { texts },
  });
  expect(created.statusCode).toBe(201);
  const { mailingId } = created.json<MailingAnswer>();
  const preview = await app.inject({
    method: 'GET',
    url: `/api/v1/mailings/${mailingId}/audience`,
    headers: staff(session, purpose),
  });
  expect(preview.statusCode).toBe(200);
  const { count } = preview.json<{ count: number }>();
  const sent = await app.inject({
    method: 'POST',
    url: `/api/v1/mailings/${mailingId}/send`,
    headers: staff(session, purpose),
  });
  expect(sent.statusCode).toBe(202);
  await sendQueuedMailings(deps, { tenantId: sessionTenant(session), mailingId });
  return { mailingId, count };
}

const tenantOfSession = new Map<StaffSession, number>();
const sessionTenant = (session: StaffSession): number => tenantOfSession.get(session) ?? voiceking.tenantId;

const linkIn = (mail: ParsedMail, pattern: RegExp): string => pattern.exec(mail.text ?? '')?.[0] ?? '';
const pathOf = (url: string): string => url.replace(PUBLIC, '');

async function recordConsent(session: StaffSession, subjectId: number, purpose: string): Promise<void> {
  const response = await app.inject({
    method: 'POST',
    url: `/api/v1/people/${subjectId}/consents`,
    headers: staff(session, purpose),
    payload: {
      event: 'given',
      wording: { language: 'nl', text: `Akkoord met ${purpose}?` },
      statement: 'Ja, dat is goed.',
    },
  });
  expect(response.statusCode).toBe(201);
}

describe('newsletters (VK-17, VK-18, VX-9, VX-10)', () => {
  it('VK-17: a soft opt-in customer gets the newsletter in their language, with a visible unsubscribe link and the RFC 8058 headers', async () => {
    const customer = await person(voiceking, 'customer', 'order_processing', { preferredLanguage: 'fr' });
    const { count } = await sendMailing(sales, 'newsletter_customers', {
      nl: {
        subject: 'Nieuws van VoiceKing',
        body: 'Beste klant,\n\nOns nieuws: https://www.voiceking.be/nieuws',
      },
      fr: {
        subject: 'Nouvelles de VoiceKing',
        body: 'Cher client,\n\nNos nouvelles : https://www.voiceking.be/nouvelles',
      },
    });
    expect(count).toBeGreaterThanOrEqual(1);
    const mail = await smtp.waitFor(customer.email);
    expect(mail.subject).toBe('Nouvelles de VoiceKing');
    expect(mail.from?.text).toContain('news@voiceking.be');
    const unsubscribe = linkIn(
      mail,
      /https:\/\/news\.example\/t\/[^\s]+\/mail\/unsubscribe\/[A-Za-z0-9_-]{43}/,
    );
    expect(unsubscribe).not.toBe('');
    expect(mail.text).toContain('Se désinscrire');
    expect(mail.html).toContain(unsubscribe);
    const raw = smtp.rawOf(mail);
    expect(raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    expect(raw.replace(/\r?\n[ \t]+/g, ' ')).toContain(`List-Unsubscribe: <${unsubscribe}>`);
    // Not tracked: no pixel, the link as written.
    expect(mail.html).not.toContain('/mail/o/');
    expect(mail.text).toContain('https://www.voiceking.be/nouvelles');
  });

  it('VK-18: a GET of the unsubscribe link does not unsubscribe; one POST does, without login, cookies or a redirect; the next mailing skips the address', async () => {
    const customer = await person(voiceking, 'customer', 'order_processing', { preferredLanguage: 'nl' });
    await sendMailing(sales, 'newsletter_customers', { nl: { subject: 'Eerste', body: 'Een.' } });
    const mail = await smtp.waitFor(customer.email);
    const link = pathOf(linkIn(mail, /https:\/\/news\.example\/\S+\/mail\/unsubscribe\/\S+/));

    const page = await app.inject({ method: 'GET', url: link });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    // In the privacy portal's frame: one form with one button, posting back to the link itself.
    expect(page.body).toMatch(
      /<form method="post" action="\/t\/[^"]+\/mail\/unsubscribe\/[^"?]+\?lang=nl">\s*<input type="hidden" name="confirm" value="1" \/><button type="submit">Uitschrijven<\/button>\s*<\/form>/,
    );
    expect(page.body).toContain('<header class="site">');
    expect(page.body).not.toContain('<script');
    expect(page.headers['set-cookie']).toBeUndefined();
    const states = () =>
      runAsOwner<{ state: string }>(
        database.ownerUrl,
        `select state from subject_purpose_states where subject_id = $1 and purpose = 'newsletter_customers'`,
        [customer.id],
      );
    expect((await states()).rows).toEqual([]);
    const inEnglish = await app.inject({ method: 'GET', url: `${link}?lang=en` });
    expect(inEnglish.body).toContain('>Unsubscribe</button>');

    // RFC 8058 one-click, as a mail client sends it: no cookie, no login.
    const post = await app.inject({
      method: 'POST',
      url: link,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(200);
    expect(post.headers.location).toBeUndefined();
    expect(post.headers['set-cookie']).toBeUndefined();
    expect(post.body).toContain('U bent uitgeschreven');
    expect((await states()).rows).toEqual([{ state: 'objected' }]);
    // Twice changes nothing more.
    expect(
      (
        await app.inject({
          method: 'POST',
          url: link,
          headers: { 'content-type': 'multipart/form-data; boundary=x' },
          payload: '--x--',
        })
      ).statusCode,
    ).toBe(200);
    const ledger = await runAsOwner<{ event: string; channel: string }>(
      database.ownerUrl,
      'select event, channel from consent_records where subject_id = $1',
      [customer.id],
    );
    expect(ledger.rows).toEqual([{ event: 'objected', channel: 'unsubscribe_link' }]);

    await sendMailing(sales, 'newsletter_customers', { nl: { subject: 'Tweede', body: 'Twee.' } });
    expect(smtp.to(customer.email).map((message) => message.subject)).toEqual(['Eerste']);
    // An unknown token tells nothing.
    expect(
      (await app.inject({ method: 'POST', url: link.replace(/[A-Za-z0-9_-]{43}$/, 'A'.repeat(43)) }))
        .statusCode,
    ).toBe(404);
  });

  it('VK-18: five one-click unsubscribes of one mail at once add one suppression and one ledger event; after an objection by phone, five more at once still leave one suppression (decision 0951)', async () => {
    const suppressions = (subjectId: number) =>
      runAsOwner<{ purpose: string; reason: string }>(
        database.ownerUrl,
        'select purpose, reason from mail_suppressions where subject_id = $1',
        [subjectId],
      );
    const oneClick = (link: string) =>
      Promise.all(
        Array.from({ length: 5 }, () =>
          app.inject({
            method: 'POST',
            url: link,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: 'List-Unsubscribe=One-Click',
          }),
        ),
      );
    const first = await person(voiceking, 'customer', 'order_processing', { preferredLanguage: 'nl' });
    const second = await person(voiceking, 'customer', 'order_processing', { preferredLanguage: 'nl' });
    await sendMailing(sales, 'newsletter_customers', { nl: { subject: 'Gelijktijdig', body: 'Vijf.' } });
    const linkOf = async (email: string) =>
      pathOf(linkIn(await smtp.waitFor(email), /https:\/\/news\.example\/\S+\/mail\/unsubscribe\/\S+/));

    const answers = await oneClick(await linkOf(first.email));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect((await suppressions(first.id)).rows).toEqual([
      { purpose: 'newsletter_customers', reason: 'unsubscribed' },
    ]);
    const ledger = await runAsOwner<{ event: string }>(
      database.ownerUrl,
      'select event from consent_records where subject_id = $1',
      [first.id],
    );
    expect(ledger.rows).toEqual([{ event: 'objected' }]);

    // Objected by phone first: the link has no event left to record, and the suppression is still added once.
    const objection = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${second.id}/consents`,
      headers: staff(sales, 'newsletter_customers'),
      payload: { event: 'objected', statement: 'Geen nieuwsbrief meer.' },
    });
    expect(objection.statusCode, objection.body).toBe(201);
    const again = await oneClick(await linkOf(second.email));
    expect(again.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect((await suppressions(second.id)).rows).toEqual([
      { purpose: 'newsletter_customers', reason: 'unsubscribed' },
    ]);
  });

  it('VK-17: a prospect gets nothing until the double opt-in is confirmed (a GET of the link confirms nothing); an unconfirmed sign-up expires and is erased', async () => {
    const email = 'prospect.signup@mail.example';
    const signup = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/newsletter/signup`,
      payload: { email, language: 'en' },
    });
    expect(signup.statusCode).toBe(202);
    const confirmation = await smtp.waitFor(email);
    expect(confirmation.subject).toBe('Confirm your newsletter subscription');
    await sendMailing(sales, 'newsletter_opt_in', { en: { subject: 'Before confirming', body: 'Hello.' } });
    expect(smtp.to(email).map((mail) => mail.subject)).toEqual(['Confirm your newsletter subscription']);

    const link = pathOf(linkIn(confirmation, /https:\/\/news\.example\/\S+\/newsletter\/confirm\/\S+/));
    const page = await app.inject({ method: 'GET', url: link });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Yes, subscribe me');
    await sendMailing(sales, 'newsletter_opt_in', { en: { subject: 'After a GET', body: 'Hello.' } });
    expect(smtp.to(email)).toHaveLength(1);

    const confirmed = await app.inject({
      method: 'POST',
      url: link,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'confirm=1',
    });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('Subscription confirmed');
    await sendMailing(sales, 'newsletter_opt_in', { en: { subject: 'Welcome', body: 'Hello.' } });
    expect(smtp.to(email).map((mail) => mail.subject)).toEqual([
      'Confirm your newsletter subscription',
      'Welcome',
    ]);
    const ledger = await runAsOwner<{ event: string; channel: string; proof_reference: string | null }>(
      database.ownerUrl,
      `select r.event, r.channel, r.proof_reference from consent_records r join newsletter_signups s
         on s.tenant_id = r.tenant_id and s.subject_id = r.subject_id where s.email_bidx is not null and r.tenant_id = $1
        order by r.record_id`,
      [voiceking.tenantId],
    );
    expect(ledger.rows.map((row) => `${row.event}/${row.channel}`)).toEqual([
      'signed_up/web_form',
      'given/double_opt_in',
    ]);

    // Another sign-up is never confirmed: after a week it is erased with its subject.
    await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/newsletter/signup`,
      payload: { email: 'never.confirmed@mail.example' },
    });
    await smtp.waitFor('never.confirmed@mail.example');
    const pending = await runAsOwner<{ subject_id: number }>(
      database.ownerUrl,
      'select subject_id from newsletter_signups where tenant_id = $1 and confirmed_at is null',
      [voiceking.tenantId],
    );
    expect(pending.rows).toHaveLength(1);
    clock.set(new Date('2026-12-07T09:00:00Z'));
    try {
      expect(await expireSignups(deps, voiceking.tenantId)).toBe(1);
    } finally {
      clock.set(new Date('2026-11-29T09:00:00Z'));
    }
    const subject = await runAsOwner<{ erased_at: Date | null }>(
      database.ownerUrl,
      'select erased_at from data_subjects where tenant_id = $1 and subject_id = $2',
      [voiceking.tenantId, pending.rows[0]?.subject_id],
    );
    expect(subject.rows[0]?.erased_at).not.toBeNull();
    const left = await runAsOwner(
      database.ownerUrl,
      'select 1 from newsletter_signups where tenant_id = $1 and confirmed_at is null',
      [voiceking.tenantId],
    );
    expect(left.rows).toEqual([]);
  });

  it('VX-10: after objecting to direct marketing, the next mailing skips the person; minors without parental consent and other tenants’ people are never in an audience', async () => {
    const objector = await person(voiceking, 'customer', 'order_processing');
    const minor = await person(voiceking, 'customer', 'order_processing');
    // The age check (VK-15) found a 11-year-old without a parent's consent.
    await runAsOwner(
      database.ownerUrl,
      `update data_subjects set minor_until = '2031-03-01' where subject_id = $1`,
      [minor.id],
    );
    const objected = await app.inject({
      method: 'POST',
      url: `/api/v1/people/${objector.id}/consents`,
      headers: staff(sales, 'newsletter_customers'),
      payload: { event: 'objected_marketing', statement: 'Geen reclame meer, dank u.' },
    });
    expect(objected.statusCode).toBe(201);
    const other = await person(voxtra, 'customer', 'customer_administration');
    const { mailingId } = await sendMailing(sales, 'newsletter_customers', {
      nl: { subject: 'Aanbod', body: 'Aanbod.' },
    });
    expect(smtp.to(objector.email)).toEqual([]);
    expect(smtp.to(minor.email)).toEqual([]);
    expect(smtp.to(other.email)).toEqual([]);
    // Sending twice sends nothing twice; another tenant's staff cannot see or send it.
    const again = await app.inject({
      method: 'POST',
      url: `/api/v1/mailings/${mailingId}/send`,
      headers: staff(sales, 'newsletter_customers'),
    });
    expect(again.statusCode).toBe(409);
    const voxtraSales = await loginAs(app, kernel, voxtra, 'sales');
    tenantOfSession.set(voxtraSales, voxtra.tenantId);
    for (const url of [`/api/v1/mailings/${mailingId}`, `/api/v1/mailings/${mailingId}/audience`])
      expect(
        (await app.inject({ method: 'GET', url, headers: staff(voxtraSales, 'personalised_info') }))
          .statusCode,
      ).toBe(404);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: `/api/v1/mailings/${mailingId}/send`,
          headers: staff(voxtraSales, 'personalised_info'),
        })
      ).statusCode,
    ).toBe(404);
  });

  it('VX-9: Voxtra sends offers and news to its customers on legitimate interest, and not to a prospect who did not opt in', async () => {
    const voxtraSales = await loginAs(app, kernel, voxtra, 'sales');
    tenantOfSession.set(voxtraSales, voxtra.tenantId);
    const customer = await person(voxtra, 'customer', 'customer_administration');
    const prospect = await person(voxtra, 'prospect', 'quotes');
    await sendMailing(voxtraSales, 'personalised_info', {
      nl: { subject: 'Nieuws van Voxtra', body: 'Nieuws.' },
    });
    expect((await smtp.waitFor(customer.email)).subject).toBe('Nieuws van Voxtra');
    await sendMailing(voxtraSales, 'news_opt_in', {
      nl: { subject: 'Aanbod voor prospects', body: 'Aanbod.' },
    });
    expect(smtp.to(prospect.email)).toEqual([]);
  });

  it('VK-17: DKIM signatures verify with a verifying library and cover List-Unsubscribe and List-Unsubscribe-Post', async () => {
    const customer = await person(voiceking, 'customer', 'order_processing');
    await sendMailing(sales, 'newsletter_customers', { nl: { subject: 'Ondertekend', body: 'Getekend.' } });
    const mail = await smtp.waitFor(customer.email);
    const resolver = (name: string, type: string): Promise<string[][]> =>
      name === 'k2026._domainkey.voiceking.be' && type === 'TXT'
        ? Promise.resolve([[DKIM_TXT]])
        : Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    const { results } = await dkimVerify(smtp.rawOf(mail), { resolver });
    expect(results).toHaveLength(1);
    const [result] = results;
    expect(result?.status.result).toBe('pass');
    expect(result?.signingDomain).toBe('voiceking.be');
    const signed = String(result?.signingHeaders.keys).toLowerCase();
    expect(signed).toContain('list-unsubscribe');
    expect(signed).toContain('list-unsubscribe-post');
    // A changed header breaks the signature.
    const tampered = smtp
      .rawOf(mail)
      .replace(/List-Unsubscribe-Post: [^\r\n]+/, 'List-Unsubscribe-Post: nothing');
    const broken = await dkimVerify(tampered, { resolver });
    expect(broken.results[0]?.status.result).toBe('fail');
  });

  it('A17: the DKIM key is stored sealed (no PEM in the data database); a key stored in clear before migration 0461 is sealed at start and mail is still DKIM-signed', async () => {
    const stored = async () =>
      (
        await runAsOwner<{ dkim_private_key: string | null; dkim_key_sealed: Buffer | null }>(
          database.ownerUrl,
          'select dkim_private_key, dkim_key_sealed from mail_settings where tenant_id = $1',
          [voiceking.tenantId],
        )
      ).rows[0];
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const holdsNoKey = (row: Awaited<ReturnType<typeof stored>>) => {
      expect(row?.dkim_private_key).toBeNull();
      expect(row?.dkim_key_sealed?.length).toBeGreaterThan(0);
      expect(row?.dkim_key_sealed?.toString('latin1')).not.toContain('PRIVATE KEY');
      expect(row?.dkim_key_sealed?.includes(der.subarray(30, 60))).toBe(false);
    };
    holdsNoKey(await stored());
    // As an older Kluis stored it (or a restored older backup holds it): in clear.
    await runAsOwner(
      database.ownerUrl,
      'update mail_settings set dkim_key_sealed = null, dkim_private_key = $2 where tenant_id = $1',
      [voiceking.tenantId, pem],
    );
    expect(await sealClearDkimKeys(kernel)).toBe(1);
    holdsNoKey(await stored());
    expect(await sealClearDkimKeys(kernel)).toBe(0);

    const customer = await person(voiceking, 'customer', 'order_processing');
    await sendMailing(sales, 'newsletter_customers', { nl: { subject: 'Verzegeld', body: 'Getekend.' } });
    const mail = await smtp.waitFor(customer.email);
    const resolver = (name: string, type: string): Promise<string[][]> =>
      name === 'k2026._domainkey.voiceking.be' && type === 'TXT'
        ? Promise.resolve([[DKIM_TXT]])
        : Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    const { results } = await dkimVerify(smtp.rawOf(mail), { resolver });
    expect(results[0]?.status.result).toBe('pass');
  });

  // A refused key: 400 validation_failed naming the field, no key in the answer, nothing changed.
  async function expectDkimKeyRefused(privateKey: KeyObject, selector: string, message: string) {
    const admin = await loginAs(app, kernel, voiceking, 'admin');
    const headers = staff(admin, 'staff_accounts');
    const settings = () =>
      runAsOwner(database.ownerUrl, 'select * from mail_settings where tenant_id = $1', [voiceking.tenantId]);
    const before = await settings();
    const refused = await app.inject({
      method: 'PUT',
      url: '/api/v1/mail-settings',
      headers,
      payload: {
        fromAddress: 'other@voiceking.be',
        dkim: {
          domain: 'voiceking.be',
          selector,
          privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        },
        ratePerSecond: 5,
      },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'body/dkim/privateKey', message }], minimumRsaBits: 2048 },
    });
    expect(refused.json<{ detail: string }>().detail).toContain('RSA');
    expect(refused.body).not.toContain('PRIVATE KEY');
    expect((await settings()).rows).toEqual(before.rows);
    const shown = await app.inject({ method: 'GET', url: '/api/v1/mail-settings', headers });
    expect(shown.json()).toMatchObject({
      fromAddress: 'news@voiceking.be',
      dkim: { selector: 'k2026' },
    });
  }

  it('A17: an RSA DKIM key shorter than 2048 bits is refused with 400 validation_failed naming the field, and nothing changes', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    await expectDkimKeyRefused(weak, 'weak', 'RSA key shorter than 2048 bits');
  });

  it('an Ed25519 DKIM key alone is refused with 400 validation_failed naming the field (the sender signs RSA only; it would go out unsigned), and nothing changes', async () => {
    await expectDkimKeyRefused(generateKeyPairSync('ed25519').privateKey, 'ed2026', 'Ed25519 key alone');
  });

  it('S8-4: an Ed25519 DKIM key stored before decision 0523 is named in the settings, a new mailing is refused with 409 naming the fix, a queued one waits with a warning and nothing goes out unsigned; once an RSA key is put, it goes out signed', async () => {
    const admin = await loginAs(app, kernel, voiceking, 'admin');
    const adminHeaders = {
      cookie: admin.cookie,
      'x-csrf-token': admin.csrfToken,
      'x-kluis-purpose': 'staff_accounts',
    };
    const customer = await person(voiceking, 'customer', 'order_processing');
    // Queued while the key was still RSA; not sent yet.
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/mailings',
      headers: staff(sales, 'newsletter_customers'),
      payload: { texts: { nl: { subject: 'Wacht op RSA', body: 'Getekend of niet.' } } },
    });
    const queued = created.json<MailingAnswer>().mailingId;
    expect(
      (
        await app.inject({
          method: 'POST',
          url: `/api/v1/mailings/${queued}/send`,
          headers: staff(sales, 'newsletter_customers'),
        })
      ).statusCode,
    ).toBe(202);
    // An Ed25519 key as an older Kluis accepted it: stored, then sealed at start (decision 0461).
    const ed25519 = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    await runAsOwner(
      database.ownerUrl,
      'update mail_settings set dkim_key_sealed = null, dkim_private_key = $2 where tenant_id = $1',
      [voiceking.tenantId, ed25519],
    );
    expect(await sealClearDkimKeys(kernel)).toBe(1);

    const settings = await app.inject({ method: 'GET', url: '/api/v1/mail-settings', headers: adminHeaders });
    expect(settings.statusCode).toBe(200);
    const problem = settings.json<{ dkim: { problem: string | null } }>().dkim.problem ?? '';
    expect(problem).toContain('Ed25519');
    expect(problem).toContain('RSA');
    expect(settings.body).not.toContain('PRIVATE KEY');

    // A new mailing is refused before anything is queued.
    const draft = await app.inject({
      method: 'POST',
      url: '/api/v1/mailings',
      headers: staff(sales, 'newsletter_customers'),
      payload: { texts: { nl: { subject: 'Nooit ongetekend', body: 'Nee.' } } },
    });
    const draftId = draft.json<MailingAnswer>().mailingId;
    const refused = await app.inject({
      method: 'POST',
      url: `/api/v1/mailings/${draftId}/send`,
      headers: staff(sales, 'newsletter_customers'),
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'conflict',
      details: { setting: 'dkim', minimumRsaBits: 2048 },
    });
    expect(refused.json<{ detail: string }>().detail).toContain('RSA');
    const state = async (mailingId: number) =>
      (
        await runAsOwner<{ state: string; pending: number }>(
          database.ownerUrl,
          `select state, (select count(*) from mailing_recipients r where r.tenant_id = m.tenant_id
                  and r.mailing_id = m.mailing_id and r.state = 'pending')::int as pending
             from mailings m where tenant_id = $1 and mailing_id = $2`,
          [voiceking.tenantId, mailingId],
        )
      ).rows[0];
    expect(await state(draftId)).toEqual({ state: 'draft', pending: 0 });

    // The queued mailing waits: nothing is handed to SMTP, a warning says why, its rows stay pending.
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n'))
            if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      }),
    });
    const waited = await sendQueuedMailings(
      { ...deps, logger },
      { tenantId: voiceking.tenantId, mailingId: queued },
    );
    expect(waited.sent).toBe(0);
    expect(smtp.to(customer.email)).toEqual([]);
    const queuedState = await state(queued);
    expect(queuedState?.state).toBe('sending');
    expect(queuedState?.pending).toBeGreaterThan(0);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        mailingId: queued,
        msg: 'mailing waits: the DKIM key cannot sign',
        problem: expect.stringMatching(/Ed25519 key alone.*RSA key/) as unknown,
      }),
    );
    expect(JSON.stringify(lines)).not.toContain('PRIVATE KEY');

    // The admin puts an RSA key: the warning is gone and the queued mailing goes out signed.
    const replaced = await app.inject({
      method: 'PUT',
      url: '/api/v1/mail-settings',
      headers: adminHeaders,
      payload: {
        fromAddress: 'news@voiceking.be',
        dkim: {
          domain: 'voiceking.be',
          selector: 'k2026',
          privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        },
        ratePerSecond: 1000,
      },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json<{ dkim: { problem: string | null } }>().dkim.problem).toBeNull();
    await sendQueuedMailings(deps, { tenantId: voiceking.tenantId, mailingId: queued });
    const mail = await smtp.waitFor(customer.email);
    expect(mail.subject).toBe('Wacht op RSA');
    const resolver = (name: string, type: string): Promise<string[][]> =>
      name === 'k2026._domainkey.voiceking.be' && type === 'TXT'
        ? Promise.resolve([[DKIM_TXT]])
        : Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }));
    const { results } = await dkimVerify(smtp.rawOf(mail), { resolver });
    expect(results[0]?.status.result).toBe('pass');
  });

  it('a hard bounce suppresses the address: the next mailing does not try it again', async () => {
    serial += 1;
    const created = await createPerson(
      kernel,
      { tenantId: voiceking.tenantId, actor: { kind: 'system', job: 'test' }, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Bounce', givenName: 'Bo', email: BOUNCING },
    );
    const first = await sendMailing(sales, 'newsletter_customers', {
      nl: { subject: 'Bounce 1', body: 'x' },
    });
    const status = await app.inject({
      method: 'GET',
      url: `/api/v1/mailings/${first.mailingId}`,
      headers: staff(sales, 'newsletter_customers'),
    });
    expect(status.json<MailingAnswer>().recipients.bounced).toBe(1);
    const second = await sendMailing(sales, 'newsletter_customers', {
      nl: { subject: 'Bounce 2', body: 'x' },
    });
    expect(second.count).toBe(first.count - 1);
    const rows = await runAsOwner<{ state: string }>(
      database.ownerUrl,
      'select state from mailing_recipients where subject_id = $1',
      [created.subjectId],
    );
    expect(rows.rows).toEqual([{ state: 'bounced' }]);
  });
  it('VK-17: consent to the opt-in newsletter taken by phone, by import or in the privacy portal waits for the e-mail confirmation: 202 pending, the sign-up confirmation mail, no mailing until it is confirmed; an unconfirmed one expires without erasing the person', async () => {
    const byPhone = await person(voiceking, 'prospect', 'answering_questions');
    const given = (subjectId: number, payload: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/people/${subjectId}/consents`,
        headers: staff(sales, 'newsletter_opt_in'),
        payload: {
          event: 'given',
          wording: { language: 'en', text: 'May we send you our newsletter?' },
          statement: 'Yes, please.',
          ...payload,
        },
      });
    // Staff cannot read the address under a purpose without consent: the person names it.
    const withoutAddress = await given(byPhone.id, {});
    expect(withoutAddress.statusCode).toBe(400);
    expect(
      withoutAddress.json<{ code: string; details: { issues: Array<{ path: string }> } }>(),
    ).toMatchObject({ code: 'validation_failed', details: { issues: [{ path: 'body/email' }] } });
    const phone = await given(byPhone.id, { email: byPhone.email });
    expect(phone.statusCode).toBe(202);
    expect(phone.json()).toMatchObject({ event: 'signed_up', channel: 'staff_phone', state: 'pending' });
    const confirmation = await smtp.waitFor(byPhone.email);
    expect(confirmation.subject).toBe('Confirm your newsletter subscription');

    // By import, to an address that is not the one on file: pending as well, mailed there.
    const imported = await person(voiceking, 'prospect', 'answering_questions');
    const otherAddress = `other.${imported.email}`;
    const importAnswer = await given(imported.id, { channel: 'import', email: otherAddress });
    expect(importAnswer.statusCode).toBe(202);
    await smtp.waitFor(otherAddress);

    // In the privacy portal: the confirmation goes to the address on the person's record.
    const inPortal = await person(voiceking, 'prospect', 'answering_questions');
    const session = await loginToPortal(voiceking, inPortal.email);
    const portal = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/consents`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { purpose: 'newsletter_opt_in', event: 'given', language: 'en' },
    });
    expect(portal.statusCode).toBe(202);
    expect(portal.json()).toMatchObject({ event: 'signed_up', channel: 'privacy_portal', state: 'pending' });
    const portalMail = await smtp.waitFor(inPortal.email, 2);
    expect(portalMail.subject).toBe('Confirm your newsletter subscription');

    const read = (subjectId: number) =>
      app.inject({
        method: 'GET',
        url: `/api/v1/people/${subjectId}`,
        headers: staff(sales, 'newsletter_opt_in'),
      });
    expect((await read(byPhone.id)).json<{ code: string }>().code).toBe('consent_missing');
    await sendMailing(sales, 'newsletter_opt_in', { en: { subject: 'Not yet', body: 'Hello.' } });
    for (const address of [byPhone.email, otherAddress, inPortal.email])
      expect(smtp.to(address).map((mail) => mail.subject)).not.toContain('Not yet');

    // The phone prospect confirms (a POST from the link's page): consented, in the audience.
    const link = pathOf(linkIn(confirmation, /https:\/\/news\.example\/\S+\/newsletter\/confirm\/\S+/));
    const confirmed = await app.inject({
      method: 'POST',
      url: link,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'confirm=1',
    });
    expect(confirmed.statusCode).toBe(200);
    expect((await read(byPhone.id)).statusCode).toBe(200);
    await sendMailing(sales, 'newsletter_opt_in', { en: { subject: 'Confirmed', body: 'Hello.' } });
    expect(smtp.to(byPhone.email).map((mail) => mail.subject)).toEqual([
      'Confirm your newsletter subscription',
      'Confirmed',
    ]);
    for (const address of [otherAddress, inPortal.email])
      expect(smtp.to(address).map((mail) => mail.subject)).not.toContain('Confirmed');
    const ledger = await runAsOwner<{ event: string; channel: string }>(
      database.ownerUrl,
      'select event, channel from consent_records where tenant_id = $1 and subject_id = $2 order by record_id',
      [voiceking.tenantId, byPhone.id],
    );
    expect(ledger.rows.map((row) => `${row.event}/${row.channel}`)).toEqual([
      'signed_up/staff_phone',
      'given/double_opt_in',
    ]);
    // Staff recording consent again changes nothing for one who confirmed.
    expect((await given(byPhone.id, {})).statusCode).toBe(201);

    // The others never confirm: after a week their addresses for it go, the people stay.
    clock.set(new Date('2026-12-07T09:00:00Z'));
    try {
      await expireSignups(deps, voiceking.tenantId);
    } finally {
      clock.set(new Date('2026-11-29T09:00:00Z'));
    }
    const kept = await runAsOwner<{ subject_id: number; erased_at: Date | null; signups: number }>(
      database.ownerUrl,
      `select s.subject_id::int as subject_id, s.erased_at,
              (select count(*)::int from newsletter_signups n where n.tenant_id = s.tenant_id and n.subject_id = s.subject_id) as signups
         from data_subjects s where s.tenant_id = $1 and s.subject_id = any($2) order by s.subject_id`,
      [voiceking.tenantId, [imported.id, inPortal.id]],
    );
    expect(kept.rows).toEqual([
      { subject_id: imported.id, erased_at: null, signups: 0 },
      { subject_id: inPortal.id, erased_at: null, signups: 0 },
    ]);
  });
});

async function loginToPortal(tenant: Tenant, email: string): Promise<{ cookie: string; csrf: string }> {
  const before = smtp.to(email).length;
  await app.inject({ method: 'POST', url: `/t/${tenant.slug}/account/link`, payload: { email } });
  const mail = await smtp.waitFor(email, before + 1);
  const link = /(https:\/\/news\.example\S+account\/login\S+)/.exec(mail.text ?? '')?.[1] ?? '';
  // The link's page has a button (decision 0400); pressing it logs in and goes on to the account.
  const login = await followLink(app, pathOf(link));
  expect(login.statusCode).toBe(303);
  const cookies = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .map((line) => line.split(';')[0] ?? '');
  const cookie = cookies.find((line) => line.startsWith('kluis_subject=')) ?? '';
  const csrf = (cookies.find((line) => line.startsWith('kluis_subject_csrf=')) ?? '').split('=')[1] ?? '';
  return { cookie, csrf };
}

describe('tracking only with consent (VK-19) and interest profiles (VK-6)', () => {
  const BODY =
    'Lees meer: https://www.voiceking.be/glasvezel/aanbod en https://shop.voiceking.be/toestellen.';

  it('VK-19: a recipient without tracking consent gets no pixel and unwrapped links; one with consent gets both; the redirect goes only to links of that mailing; the events are in the access report', async () => {
    const plain = await person(voiceking, 'customer', 'order_processing');
    const tracked = await person(voiceking, 'customer', 'order_processing');
    await recordConsent(sales, tracked.id, 'email_tracking');
    await sendMailing(sales, 'newsletter_customers', { nl: { subject: 'Glasvezel', body: BODY } });

    const plainMail = await smtp.waitFor(plain.email);
    expect(plainMail.html).not.toContain('/mail/o/');
    expect(plainMail.html).not.toContain('/mail/c/');
    expect(plainMail.text).toContain('https://www.voiceking.be/glasvezel/aanbod');

    const trackedMail = await smtp.waitFor(tracked.email);
    const pixel = /src="(https:\/\/news\.example\/t\/[^"]+\/mail\/o\/[A-Za-z0-9_-]{43})"/.exec(
      trackedMail.html || '',
    )?.[1];
    expect(pixel).toBeDefined();
    expect(trackedMail.text).not.toContain('https://www.voiceking.be/glasvezel/aanbod');
    const clicks = [
      ...(trackedMail.text ?? '').matchAll(
        /https:\/\/news\.example\/t\/\S+\/mail\/c\/[A-Za-z0-9_-]{43}\/\d+/g,
      ),
    ].map((match) => match[0]);
    expect(clicks).toHaveLength(2);

    const opened = await app.inject({ method: 'GET', url: pathOf(pixel ?? '') });
    expect(opened.statusCode).toBe(200);
    expect(opened.headers['content-type']).toBe('image/gif');
    const clicked = await app.inject({ method: 'GET', url: pathOf(clicks[0] ?? '') });
    expect(clicked.statusCode).toBe(302);
    expect(clicked.headers.location).toBe('https://www.voiceking.be/glasvezel/aanbod');
    // No open redirect: only the mailing's own links, by number.
    const elsewhere = await app.inject({
      method: 'GET',
      url: pathOf((clicks[0] ?? '').replace(/\/\d+$/, '/99')),
    });
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.headers.location).toBeUndefined();

    const events = await runAsOwner<{ subject_id: number; kind: string }>(
      database.ownerUrl,
      'select subject_id, kind from tracking_events where tenant_id = $1 order by event_id',
      [voiceking.tenantId],
    );
    expect(events.rows).toEqual([
      { subject_id: tracked.id, kind: 'open' },
      { subject_id: tracked.id, kind: 'click' },
    ]);

    const session = await loginToPortal(voiceking, tracked.email);
    const report = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/data`,
      headers: { cookie: session.cookie },
    });
    const body = report.json<{
      data: Array<{ table: string; rows: Array<Record<string, { category: string; value: unknown }>> }>;
      categories: Array<{ key: string; retention: Array<{ rule: string }> }>;
    }>();
    const table = body.data.find((entry) => entry.table === 'tracking_events');
    expect(table?.rows.map((row) => row.kind)).toEqual(['open', 'click']);
    const category = body.categories.find((entry) => entry.key === 'kluis.marketing.email_engagement');
    expect(category?.retention.map((rule) => rule.rule)).toContain('until_withdrawn');

    // Withdrawn from the portal: no more events, and the recorded ones are gone.
    const withdrawn = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/consents`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { purpose: 'email_tracking', event: 'withdrawn' },
    });
    expect(withdrawn.statusCode).toBe(201);
    await app.inject({ method: 'GET', url: pathOf(pixel ?? '') });
    const left = await runAsOwner(database.ownerUrl, 'select 1 from tracking_events where subject_id = $1', [
      tracked.id,
    ]);
    expect(left.rows).toEqual([]);
  });

  it('VK-6: an interest profile is built from tracked clicks only with consent, shown in the access report, and deleted at once when consent is withdrawn', async () => {
    const profiled = await person(voiceking, 'customer', 'order_processing');
    const notProfiled = await person(voiceking, 'customer', 'order_processing');
    for (const subject of [profiled, notProfiled]) await recordConsent(sales, subject.id, 'email_tracking');
    await recordConsent(sales, profiled.id, 'interest_profiles');
    await sendMailing(sales, 'newsletter_customers', { nl: { subject: 'Toestellen', body: BODY } });
    for (const subject of [profiled, notProfiled]) {
      const mail = await smtp.waitFor(subject.email);
      for (const click of (mail.text ?? '').match(
        /https:\/\/news\.example\/t\/\S+\/mail\/c\/[A-Za-z0-9_-]{43}\/\d+/g,
      ) ?? [])
        expect((await app.inject({ method: 'GET', url: pathOf(click) })).statusCode).toBe(302);
    }
    const profiles = await runAsOwner<{ subject_id: number; topic: string; clicks: number }>(
      database.ownerUrl,
      'select subject_id, topic, clicks from interest_profiles where tenant_id = $1 order by topic',
      [voiceking.tenantId],
    );
    expect(profiles.rows).toEqual([
      { subject_id: profiled.id, topic: 'shop.voiceking.be/toestellen', clicks: 1 },
      { subject_id: profiled.id, topic: 'www.voiceking.be/glasvezel', clicks: 1 },
    ]);

    const session = await loginToPortal(voiceking, profiled.email);
    const report = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/data`,
      headers: { cookie: session.cookie },
    });
    const table = report
      .json<{ data: Array<{ table: string; rows: Array<Record<string, { value: unknown }>> }> }>()
      .data.find((entry) => entry.table === 'interest_profiles');
    expect(table?.rows.map((row) => row.topic)).toEqual([
      'shop.voiceking.be/toestellen',
      'www.voiceking.be/glasvezel',
    ]);

    const withdrawn = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/consents`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { purpose: 'interest_profiles', event: 'withdrawn' },
    });
    expect(withdrawn.statusCode).toBe(201);
    const left = await runAsOwner(
      database.ownerUrl,
      'select 1 from interest_profiles where subject_id = $1',
      [profiled.id],
    );
    expect(left.rows).toEqual([]);
  });
  it('VK-19, VK-6: the one-click unsubscribe POST also withdraws the consents to measuring opens and clicks and to the interest profile: the recorded opens, clicks and profile go at once, and nothing more is measured', async () => {
    const reader = await person(voiceking, 'customer', 'order_processing');
    await recordConsent(sales, reader.id, 'email_tracking');
    await recordConsent(sales, reader.id, 'interest_profiles');
    await sendMailing(sales, 'newsletter_customers', { nl: { subject: 'Meten', body: BODY } });
    const mail = await smtp.waitFor(reader.email);
    const pixel = /src="(https:\/\/news\.example\/t\/[^"]+\/mail\/o\/[A-Za-z0-9_-]{43})"/.exec(
      mail.html || '',
    )?.[1];
    const click = /https:\/\/news\.example\/t\/\S+\/mail\/c\/[A-Za-z0-9_-]{43}\/\d+/.exec(
      mail.text ?? '',
    )?.[0];
    expect((await app.inject({ method: 'GET', url: pathOf(pixel ?? '') })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: pathOf(click ?? '') })).statusCode).toBe(302);
    const measured = () =>
      runAsOwner<{ kind: string }>(
        database.ownerUrl,
        `select 'event' as kind from tracking_events where subject_id = $1
         union all select 'profile' from interest_profiles where subject_id = $1`,
        [reader.id],
      );
    expect((await measured()).rows.length).toBeGreaterThanOrEqual(3);

    const link = pathOf(linkIn(mail, /https:\/\/news\.example\/\S+\/mail\/unsubscribe\/\S+/));
    const post = await app.inject({
      method: 'POST',
      url: link,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(200);
    const states = await runAsOwner<{ purpose: string; state: string }>(
      database.ownerUrl,
      'select purpose, state from subject_purpose_states where subject_id = $1 order by purpose',
      [reader.id],
    );
    expect(states.rows).toEqual([
      { purpose: 'email_tracking', state: 'withdrawn' },
      { purpose: 'interest_profiles', state: 'withdrawn' },
      { purpose: 'newsletter_customers', state: 'objected' },
    ]);
    expect((await measured()).rows).toEqual([]);
    const ledger = await runAsOwner<{ purpose: string; event: string; channel: string }>(
      database.ownerUrl,
      `select purpose, event, channel from consent_records where subject_id = $1 and channel = 'unsubscribe_link' order by purpose`,
      [reader.id],
    );
    expect(ledger.rows).toEqual([
      { purpose: 'email_tracking', event: 'withdrawn', channel: 'unsubscribe_link' },
      { purpose: 'interest_profiles', event: 'withdrawn', channel: 'unsubscribe_link' },
      { purpose: 'newsletter_customers', event: 'objected', channel: 'unsubscribe_link' },
    ]);
    // The pixel and the link of the mail already sent record nothing any more.
    await app.inject({ method: 'GET', url: pathOf(pixel ?? '') });
    await app.inject({ method: 'GET', url: pathOf(click ?? '') });
    expect((await measured()).rows).toEqual([]);
  });
});
