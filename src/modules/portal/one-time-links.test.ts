import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { openLinkPage, pressLinkButton } from '../../../test/link-button.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { unzip } from '../../../test/zip.js';
import { createPerson } from '../parties/index.js';

// Attack finding A1 (issue 19): a mail scanner's HEAD or GET of a mailed one-time link must not
// log anyone in nor spend the link; only the page's button does (decision 0400).
const PUBLIC = 'https://portal.voiceking.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

async function customer(email: string, preferredLanguage: 'nl' | 'fr' | 'en'): Promise<void> {
  const { kernel, voiceking } = testApp;
  await createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    { subjectType: 'customer', familyName: 'Scanner', givenName: 'Lien', email, preferredLanguage },
  );
}

const cookieNames = (response: { cookies: Array<{ name: string }> }): string[] =>
  response.cookies.map((cookie) => cookie.name);

async function ownerRows<T extends Record<string, unknown>>(sql: string): Promise<T[]> {
  const { database, voiceking } = testApp;
  return (await runAsOwner<T>(database.ownerUrl, sql, [voiceking.tenantId])).rows;
}

describe('one-time mailed links and mail scanners (attack A1)', () => {
  it('the portal login link: a HEAD or GET of it logs nobody in and spends nothing; the page’s button (form token) logs the person in, once', async () => {
    const { app, smtp, voiceking } = testApp;
    const email = 'lien.scanner@mail.example';
    await customer(email, 'fr');
    const asked = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/account/link`,
      payload: { email },
    });
    expect(asked.statusCode).toBe(202);
    const mail = await smtp.waitFor(email, 1);
    // It answers no request: the subject says it is a login link, in the person's language.
    expect(mail.subject).toBe('Votre lien de connexion — VoiceKing CVBA');
    const link = /(https:\/\/portal\.voiceking\.example\S+)/.exec(mail.text ?? '')?.[1] ?? '';
    expect(link).toContain('/account/login?token=');
    const path = link.slice(PUBLIC.length);

    const head = await app.inject({ method: 'HEAD', url: path });
    expect(head.statusCode).toBe(200);
    expect(cookieNames(head)).not.toContain('kluis_subject');
    const { page, button } = await openLinkPage(app, path);
    expect(page.statusCode).toBe(200);
    expect(cookieNames(page)).not.toContain('kluis_subject');
    // In the person's language (the mail's), with a button that works without JavaScript.
    expect(page.headers['content-language']).toBe('fr');
    expect(page.body).toContain('Se connecter avec votre lien');
    expect(page.body).not.toContain('<script');
    const unused = await ownerRows<{ used: boolean }>(
      'select used_at is not null as used from subject_login_links where tenant_id = $1',
    );
    expect(unused).toEqual([{ used: false }]);
    if (!button) throw new Error('no button on the login link page');

    // A post without the page's form token (another site's form) is refused and spends nothing.
    const forged = await pressLinkButton(app, { ...button, formCookie: 'x'.repeat(43) });
    expect(forged.statusCode).toBe(403);
    expect(cookieNames(forged)).not.toContain('kluis_subject');

    const pressed = await pressLinkButton(app, button);
    expect(pressed.statusCode).toBe(303);
    expect(pressed.headers.location).toBe(`/t/${voiceking.slug}/account`);
    expect(cookieNames(pressed)).toContain('kluis_subject');
    expect(
      await ownerRows('select used_at is not null as used from subject_login_links where tenant_id = $1'),
    ).toEqual([{ used: true }]);
    const again = await pressLinkButton(app, button);
    expect(again.headers.location).toBe(`/t/${voiceking.slug}/account?failed=link`);
    expect(cookieNames(again)).not.toContain('kluis_subject');
  });

  it('VK-21: a HEAD or GET of the mailed download link counts no start; the page’s button downloads the package and spends the link', async () => {
    const { app, smtp, voiceking } = testApp;
    const email = 'jonas.scanner@mail.example';
    await customer(email, 'nl');
    const receipt = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests`,
      payload: { kind: 'access', email },
    });
    expect(receipt.statusCode).toBe(202);
    const { requestId } = receipt.json<{ requestId: string }>();
    const code = /\b(\d{6})\b/.exec((await smtp.waitFor(email, 1)).text ?? '')?.[1] ?? '';
    const verified = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests/${requestId}/verify`,
      payload: { code },
    });
    expect(verified.json()).toEqual({ state: 'fulfilled' });
    const link =
      /(https:\/\/portal\.voiceking\.example\S+)/.exec((await smtp.waitFor(email, 2)).text ?? '')?.[1] ?? '';
    expect(link).toContain('/privacy/downloads/');
    const path = link.slice(PUBLIC.length);
    const state = () =>
      ownerRows<{ attempts: number; spent: boolean }>(
        'select attempts, (used_at is not null or completed_at is not null) as spent from export_downloads where tenant_id = $1',
      );

    for (let scan = 0; scan < 3; scan += 1) {
      const head = await app.inject({ method: 'HEAD', url: path });
      expect(head.statusCode).toBe(200);
      expect(String(head.headers['content-type'])).toContain('text/html');
    }
    const { page, button } = await openLinkPage(app, path);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-language']).toBe('nl');
    expect(page.body).toContain('Uw gegevens downloaden');
    expect(await state()).toEqual([{ attempts: 0, spent: false }]);
    if (!button) throw new Error('no button on the download page');

    const forged = await pressLinkButton(app, { ...button, fields: {} });
    expect(forged.statusCode).toBe(403);
    expect(await state()).toEqual([{ attempts: 0, spent: false }]);

    const download = await pressLinkButton(app, button);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/zip');
    expect((await unzip(download.rawPayload)).get('access-report.json')).toContain(email);
    // Spent once the server has seen the package written to its end (after the answer is out).
    await expect.poll(() => state()).toEqual([{ attempts: 1, spent: true }]);

    // An hour after it was written to its end (decision 0873), spent: the page and the button say
    // so in words, 404.
    await ownerRows(
      `update export_downloads set completed_at = completed_at - interval '61 minutes' where tenant_id = $1`,
    );
    const gone = await openLinkPage(app, path);
    expect(gone.page.statusCode).toBe(404);
    expect(gone.page.body).toContain('Deze link is onbekend, al gebruikt of verlopen');
    const late = await pressLinkButton(app, button);
    expect(late.statusCode).toBe(404);
    expect(late.body).toContain('Deze link is onbekend, al gebruikt of verlopen');
  });
});
