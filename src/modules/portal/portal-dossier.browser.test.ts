import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserSuite, Page } from '../../../test/browser.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { loginAs } from '../../../test/http.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createItem } from '../dossier/index.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { startPortalSuite, type PortalSuite } from './portal.test-helpers.js';

let suite: PortalSuite;
let database: TestDatabase;
let kernel: Kernel;
let browser: BrowserSuite;
let baseUrl: string;
let voxtra: Tenant;
let voiceking: Tenant;

beforeAll(async () => {
  suite = await startPortalSuite('portal-dossier', { tenants: ['voxtra', 'voiceking'] });
  ({ database, kernel, browser, baseUrl } = suite);
  ({ voxtra, voiceking } = suite.tenants);
});
afterAll(async () => {
  await suite?.close();
});

const TECHNICIAN = { kind: 'staff' as const, staffId: 1, role: 'technician' };

const check = (page: Page, name: string): Promise<void> => suite.check(page, name);
const logInByMail = (page: Page, tenant: Tenant, email: string): Promise<void> =>
  suite.logInByMail(page, tenant, email, { lang: 'en' });

describe('my technical dossier in the privacy portal (issues 17 and 19)', () => {
  it('VX-11: a customer logged in to the portal sees their dossier with the secrets masked and shows their own password, recorded in their name; another customer’s credential stays hidden', async () => {
    const context = {
      tenantId: voxtra.tenantId,
      actor: { kind: 'staff' as const, staffId: 2, role: 'sales' },
      purpose: 'customer_administration',
    };
    const newCustomer = (givenName: string, email: string) =>
      createPerson(kernel, context, {
        subjectType: 'customer',
        familyName: 'Wouters',
        givenName,
        email,
        address: { street: 'Stationsstraat 8', postalCode: '2800', city: 'Mechelen' },
      });
    const an = await newCustomer('An', 'an.wouters@example.be');
    const bert = await newCustomer('Bert', 'bert.wouters@example.be');
    const dossier = { tenantId: voxtra.tenantId, actor: TECHNICIAN, purpose: 'technical_dossier' };
    await createItem(kernel, dossier, 'asset', an.subjectId, {
      kind: 'printer',
      brand: 'Brother',
      model: 'HL-L2350DW',
      serial: 'E78123K9N',
      hostname: 'printer-01',
    });
    const mail = await createItem(kernel, dossier, 'credential', an.subjectId, {
      system: 'Mailbox',
      url: 'https://mail.example.be',
      username: 'an@wouters.example.be',
      password: 'Kortrijk-2026!',
    });
    const foreign = await createItem(kernel, dossier, 'credential', bert.subjectId, {
      system: 'Router',
      username: 'admin',
      password: 'Bert-secret-77',
    });

    const page = await browser.newPage({ locale: 'en-GB' });
    await logInByMail(page, voxtra, 'an.wouters@example.be');
    await page.getByRole('link', { name: 'My technical dossier' }).click();
    await page.waitForURL(/my-dossier/);
    const masked = (await page.locator('main').textContent()) ?? '';
    expect(masked).toContain('HL-L2350DW');
    expect(masked).toContain('an@wouters.example.be');
    expect(masked).toContain('********');
    expect(masked).not.toContain('Kortrijk-2026!');
    await check(page, 'my-dossier-en');

    const before = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log where tenant_id = $1 and action = 'dossier.reveal' and actor_kind = 'subject'`,
      [voxtra.tenantId],
    );
    await page.getByRole('button', { name: 'Show password' }).click();
    await page.waitForLoadState();
    const shown = (await page.locator('main').textContent()) ?? '';
    expect(shown).toContain('Kortrijk-2026!');
    expect(shown).toContain('this is recorded');
    await check(page, 'my-dossier-revealed-en');
    const after = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log where tenant_id = $1 and action = 'dossier.reveal' and actor_kind = 'subject'`,
      [voxtra.tenantId],
    );
    expect((after.rows[0]?.n ?? 0) - (before.rows[0]?.n ?? 0)).toBe(1);
    // The secret is in that one answer only: the page again shows it masked.
    await page.goto(`${baseUrl}/t/${voxtra.slug}/account/my-dossier?lang=nl`);
    expect(await page.locator('main').textContent()).not.toContain('Kortrijk-2026!');
    await check(page, 'my-dossier-nl');

    // Someone else's credential id in the form: nothing of it is shown.
    await page
      .locator('input[name=credentialId]')
      .first()
      .evaluate((input, id) => {
        (input as unknown as { value: string }).value = id;
      }, String(foreign.id));
    const [forged] = await Promise.all([
      page.waitForResponse(/my-dossier\/reveal/),
      page.getByRole('button', { name: 'Wachtwoord tonen' }).first().click(),
    ]);
    expect(forged.status()).toBe(404);
    expect(await forged.text()).not.toContain('Bert-secret-77');
    expect(mail.id).not.toBe(foreign.id);
  });

  it('VX-11: the portal dossier lists attachments by name, kind and size; a plain one downloads, a secret one only by its own reveal step, each audited in the customer’s name; another customer’s stays hidden', async () => {
    const context = {
      tenantId: voxtra.tenantId,
      actor: { kind: 'staff' as const, staffId: 2, role: 'sales' },
      purpose: 'customer_administration',
    };
    const newCustomer = (givenName: string, email: string) =>
      createPerson(kernel, context, { subjectType: 'customer', familyName: 'Peeters', givenName, email });
    const els = await newCustomer('Els', 'els.peeters@example.be');
    const tom = await newCustomer('Tom', 'tom.peeters@example.be');
    const technician = await loginAs(suite.app, kernel, voxtra, 'technician');
    const attach = async (subjectId: number, body: Record<string, unknown>): Promise<number> => {
      const response = await suite.app.inject({
        method: 'POST',
        url: `/api/v1/customers/${subjectId}/dossier/attachments`,
        headers: {
          cookie: technician.cookie,
          'x-csrf-token': technician.csrfToken,
          'x-kluis-purpose': 'technical_dossier',
        },
        payload: body,
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json<{ attachmentId: number }>().attachmentId;
    };
    const diagram = 'Router 192.168.1.1 -> switch -> printer-01\n';
    await attach(els.subjectId, {
      fileName: 'netwerkplan.txt',
      contentType: 'text/plain',
      content: Buffer.from(diagram).toString('base64'),
      note: 'Plan van het kantoor',
    });
    const recovery = 'WiFi recovery key: Eeklo-Wifi-2026-secret\n';
    await attach(els.subjectId, {
      fileName: 'wifi-herstelsleutel.txt',
      contentType: 'text/plain',
      content: Buffer.from(recovery).toString('base64'),
      secret: true,
    });
    const foreign = await attach(tom.subjectId, {
      fileName: 'tom-vpn.txt',
      contentType: 'text/plain',
      content: Buffer.from('Tom-vpn-secret\n').toString('base64'),
      secret: true,
    });
    const audited = async (action: string): Promise<number> =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          `select count(*)::int as n from audit_log where tenant_id = $1 and action = $2 and actor_kind = 'subject'`,
          [voxtra.tenantId, action],
        )
      ).rows[0]?.n ?? 0;

    const page = await browser.newPage({ locale: 'en-GB', acceptDownloads: true, phone: true });
    await logInByMail(page, voxtra, 'els.peeters@example.be');
    await page.goto(`${baseUrl}/t/${voxtra.slug}/account/my-dossier?lang=en`);
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('Attachments');
    expect(main).toContain('netwerkplan.txt');
    expect(main).toContain(`text file · ${diagram.length} bytes`);
    expect(main).toContain('wifi-herstelsleutel.txt');
    expect(main).toContain('Secret: the content is encrypted and hidden');
    expect(main).not.toContain('Eeklo-Wifi-2026-secret');
    expect(main).not.toContain('tom-vpn.txt');
    await check(page, 'my-dossier-attachments-en');
    for (const lang of ['nl', 'fr'] as const) {
      await page.goto(`${baseUrl}/t/${voxtra.slug}/account/my-dossier?lang=${lang}`);
      await check(page, `my-dossier-attachments-${lang}`);
    }
    await page.goto(`${baseUrl}/t/${voxtra.slug}/account/my-dossier?lang=en`);

    const downloadsBefore = await audited('dossier.attachment.download');
    const [plain] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download', exact: true }).click(),
    ]);
    expect(plain.suggestedFilename()).toBe('netwerkplan.txt');
    expect(await readFile(await plain.path(), 'utf8')).toBe(diagram);
    expect(await audited('dossier.attachment.download')).toBe(downloadsBefore + 1);

    const revealsBefore = await audited('dossier.reveal');
    const [secret] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download secret file' }).click(),
    ]);
    expect(secret.suggestedFilename()).toBe('wifi-herstelsleutel.txt');
    expect(await readFile(await secret.path(), 'utf8')).toBe(recovery);
    expect(await audited('dossier.reveal')).toBe(revealsBefore + 1);

    // Someone else's attachment id in the form: a 404 page, nothing of it sent, nothing audited.
    await page
      .locator('input[name=attachmentId]')
      .first()
      .evaluate((input, id) => {
        (input as unknown as { value: string }).value = id;
      }, String(foreign));
    const [forged] = await Promise.all([
      page.waitForResponse(/my-dossier\/attachment/),
      page.getByRole('button', { name: 'Download', exact: true }).click(),
    ]);
    expect(forged.status()).toBe(404);
    expect(await forged.text()).not.toContain('Tom-vpn-secret');
    expect(await audited('dossier.reveal')).toBe(revealsBefore + 1);

    // The same through the account's JSON door: the CSRF token is needed.
    const cookies = await page.context().cookies();
    const header = cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
    const csrf = cookies.find((cookie) => cookie.name === 'kluis_subject_csrf')?.value ?? '';
    const own = await suite.app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/dossier`,
      headers: { cookie: header },
    });
    const attachments = own.json<{ attachments: Array<{ attachmentId: number; secret: boolean }> }>()
      .attachments;
    expect(attachments.map((item) => item.secret)).toEqual([false, true]);
    const secretId = attachments[1]?.attachmentId ?? 0;
    const url = `/t/${voxtra.slug}/account/dossier/attachments/${secretId}/content`;
    const noCsrf = await suite.app.inject({ method: 'POST', url, headers: { cookie: header } });
    expect(noCsrf.statusCode).toBe(403);
    const withCsrf = await suite.app.inject({
      method: 'POST',
      url,
      headers: { cookie: header, 'x-csrf-token': csrf },
    });
    expect(withCsrf.statusCode).toBe(200);
    expect(withCsrf.headers['cache-control']).toBe('no-store');
    expect(withCsrf.headers['content-disposition']).toContain('attachment;');
    expect(withCsrf.body).toBe(recovery);
  });

  it('a provider whose policy keeps no dossier shows no dossier page', async () => {
    const person = await createPerson(
      kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      { subjectType: 'customer', familyName: 'Claes', givenName: 'Lien', email: 'lien.claes@example.be' },
    );
    expect(person.subjectId).toBeGreaterThan(0);
    const page = await browser.newPage({ locale: 'en-GB' });
    await logInByMail(page, voiceking, 'lien.claes@example.be');
    expect(await page.getByRole('link', { name: 'My technical dossier' }).count()).toBe(0);
    const response = await page.goto(`${baseUrl}/t/${voiceking.slug}/account/my-dossier`);
    expect(response?.status()).toBeGreaterThanOrEqual(400);
    expect(response?.status()).toBeLessThan(500);
  });
});
