/**
 * Attack S20-11, decisions 0919 and 0960: what a staff member reads in two screens of the back
 * office, in Dutch, for both seed policies (their roles differ: VoiceKing has an HR role). The
 * staff list names each role by its label, never its key; a disabled account has a "remove"
 * button (for the role the server names `staffRemoval` for) whose confirmation says what is erased
 * and what is kept, and removing it erases the account. The Art. 30 register is drawn as a
 * document: a heading, one titled table per purpose, no Markdown source. Screenshots go to
 * test-results/screenshots/screens/.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from './database.js';
import { loginAs, requestAs } from './http.js';
import { createPolicyTenant, type SeedPolicy } from './kernel.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import { createStaffUser } from '../src/modules/staff/index.js';
import { backOfficeForSuite, expectNoPageProblems, look, pageWithSession } from './staff-browser.js';
import type { Page } from './browser.js';

const env = backOfficeForSuite('screens');
const tenants = new Map<SeedPolicy, Tenant>();

beforeAll(async () => {
  for (const policy of ['voiceking', 'voxtra'] as const)
    tenants.set(policy, await createPolicyTenant(env.kernel, policy));
});

const ROLE_KEYS: Record<SeedPolicy, string[]> = {
  voiceking: ['admin', 'privacy_officer', 'sales', 'billing', 'technician', 'support', 'hr'],
  voxtra: ['admin', 'privacy_officer', 'sales', 'billing', 'technician', 'support'],
};

/** A laptop's screen: the staff list fits it without sideways scrolling (decision 1180). */
const LAPTOP = { width: 1280, height: 800 };

/**
 * How far the table reaches beyond the box it scrolls in (0 when it fits), and every action
 * button of its rows that is not wholly inside that box.
 */
async function sidewaysOverflow(page: Page): Promise<{ overflow: number; hidden: string[] }> {
  return page.evaluate(`(() => {
    const table = document.querySelector('table');
    let box = table.parentElement;
    while (box && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    const frame = (box ?? document.documentElement).getBoundingClientRect();
    const overflow = Math.max(
      box ? box.scrollWidth - box.clientWidth : 0,
      document.documentElement.scrollWidth - window.innerWidth,
    );
    const hidden = [...table.querySelectorAll('tbody button')]
      .filter((button) => {
        const rect = button.getBoundingClientRect();
        return rect.left < frame.left || rect.right > frame.right || rect.right > window.innerWidth;
      })
      .map((button) => button.getAttribute('aria-label') ?? button.textContent);
    return { overflow, hidden };
  })()`);
}

function tenantOf(policy: SeedPolicy): Tenant {
  const tenant = tenants.get(policy);
  if (!tenant) throw new Error('tenant missing');
  return tenant;
}

describe('what a staff member reads in the staff and register screens (attack S20-11)', () => {
  for (const policy of ['voiceking', 'voxtra'] as const) {
    it(`S20-11: ${policy}: the Dutch staff list names every role by its label; the admin disables a leaver's account from its row, and then removes it after a confirmation that says what is erased and what is kept (decision 0919)`, async () => {
      const tenant = tenantOf(policy);
      const { policy: installed } = await env.kernel.policies.current(tenant.tenantId);
      const admin = await loginAs(env.app, env.kernel, tenant, 'admin');
      // One account of every role, so the list shows each role's label.
      for (const role of ROLE_KEYS[policy])
        await createStaffUser(
          env.kernel,
          tenant.tenantId,
          { kind: 'system', job: 'test' },
          { email: `${role.replaceAll('_', '-')}@${policy}.example`, displayName: `Lid ${role}`, role },
        );
      const leaver = await createStaffUser(
        env.kernel,
        tenant.tenantId,
        { kind: 'system', job: 'test' },
        { email: `vertrokken@${policy}.example`, displayName: 'Vertrokken Medewerker', role: 'support' },
      );
      const page = await pageWithSession(env, admin, 'nl-BE');
      await page.setViewportSize(LAPTOP);
      await page.goto(`${env.baseUrl}/staff`);
      await page.getByRole('heading', { name: 'Medewerkers', level: 1 }).waitFor();
      const table = page.getByRole('table', { name: /Medewerkersaccounts/ });
      await table.getByRole('row', { name: /Vertrokken Medewerker/ }).waitFor();
      // The employment ended: the admin disables the account from its row (an active account
      // offers no removal), and its sessions and tokens stop.
      expect(await page.getByRole('button', { name: /^Het account van .* verwijderen$/ }).count()).toBe(0);
      await page.getByRole('button', { name: 'Vertrokken Medewerker uitschakelen' }).click();
      await page.getByText('Vertrokken Medewerker is uitgeschakeld').waitFor();
      const status = await runAsOwner<{ status: string }>(
        env.database.ownerUrl,
        'select status from staff_users where tenant_id = $1 and staff_id = $2',
        [tenant.tenantId, leaver.staffId],
      );
      expect(status.rows[0]?.status).toBe('disabled');
      await page.getByRole('button', { name: 'Vertrokken Medewerker weer inschakelen' }).waitFor();
      // The role column: every label of the policy, no key (the labels arrive after the list).
      await expect
        .poll(async () => table.locator('tbody tr td:nth-child(2)').allInnerTexts(), { timeout: 10_000 })
        .toEqual(expect.arrayContaining(ROLE_KEYS[policy].map((role) => installed.roles[role]?.label.nl)));
      const roleCells = await table.locator('tbody tr td:nth-child(2)').allInnerTexts();
      for (const role of ROLE_KEYS[policy].filter((key) => installed.roles[key]?.label.nl !== key))
        expect(roleCells, role).not.toContain(role);
      // The remove button: on the disabled account only (never one's own, never an active one).
      const removeButtons = page.getByRole('button', { name: /^Het account van .* verwijderen$/ });
      expect(await removeButtons.count()).toBe(1);
      await look(env.browser, page, `${policy}-staff-list`);

      await page.getByRole('button', { name: 'Het account van Vertrokken Medewerker verwijderen' }).click();
      const dialog = page.getByRole('dialog', { name: 'Het account van Vertrokken Medewerker verwijderen?' });
      await dialog.waitFor();
      const text = await dialog.innerText();
      expect(text).toContain(`vertrokken@${policy}.example`);
      expect(text).toContain(installed.roles.support?.label.nl ?? 'klantenservice');
      expect(text).toContain('Naam, e-mailadres, wachtwoord en tweede factor van dit account');
      expect(text).toContain(`medewerkersnummer ${leaver.staffId}`);
      expect(text).not.toContain('support)');
      await look(env.browser, page, `${policy}-staff-remove-confirmation`);
      await dialog.getByRole('button', { name: 'Het account verwijderen' }).click();
      await table.getByRole('row', { name: /Vertrokken Medewerker/ }).waitFor({ state: 'detached' });
      await page.getByText('Het account van Vertrokken Medewerker is verwijderd').waitFor();
      await look(env.browser, page, `${policy}-staff-removed`);
      expectNoPageProblems(env, page);

      // Erased in the database; the audit entry names the number and role.
      const rows = await runAsOwner(
        env.database.ownerUrl,
        'select 1 from staff_users where tenant_id = $1 and staff_id = $2',
        [tenant.tenantId, leaver.staffId],
      );
      expect(rows.rowCount).toBe(0);
      const audit = await runAsOwner<{ reason: string }>(
        env.database.ownerUrl,
        `select reason from audit_log where tenant_id = $1 and action = 'staff.remove'`,
        [tenant.tenantId],
      );
      expect(audit.rows.map((row) => row.reason)).toEqual([
        `staff ${leaver.staffId} (support) removed: name, e-mail and credentials erased`,
      ]);
      await page.context().close();
    });

    it(`S20-11: ${policy}: the privacy officer reads the Art. 30 register as a document in Dutch: a heading, one titled table per purpose, no Markdown source`, async () => {
      const tenant = tenantOf(policy);
      const { policy: installed } = await env.kernel.policies.current(tenant.tenantId);
      const officer = await loginAs(env.app, env.kernel, tenant, 'privacy_officer');
      const page = await pageWithSession(env, officer, 'nl-BE');
      await page.goto(`${env.baseUrl}/privacy`);
      await page.getByRole('heading', { name: 'Privacyregisters', level: 1 }).waitFor();
      await page.getByRole('tab', { name: 'Register' }).click();
      const register = page.getByTestId('register');
      await register
        .getByRole('heading', { name: 'Register van verwerkingsactiviteiten (art. 30 AVG)', level: 2 })
        .waitFor();
      const purposes = Object.values(installed.purposes).map((purpose) => purpose.label.nl);
      expect(await register.getByRole('heading', { level: 3 }).allInnerTexts()).toEqual(purposes);
      const text = await register.innerText();
      expect(text).not.toContain('| --- |');
      expect(text).not.toContain('\\[');
      expect(text).not.toContain('\\_');
      // Each purpose's table names every column of the register by its Dutch header.
      const first = register.getByRole('region', { name: purposes[0] ?? '' });
      expect(await first.getByRole('rowheader').allInnerTexts()).toEqual([
        'Sleutel',
        'Rechtsgrond',
        'Betrokkenen',
        'Categorieën persoonsgegevens',
        'Rollen met toegang',
        'Ontvangers',
        'Doorgifte buiten de EER',
        'Bewaartermijn',
        'Wettelijke bewaarplicht',
        'Beveiligingsmaatregelen',
      ]);
      await look(env.browser, page, `${policy}-register`);
      expectNoPageProblems(env, page);
      await page.context().close();
    });
  }

  it("S22-7: voiceking: the admin resets a staff member's forgotten password on the staff screen after a confirmation; the one-time password is shown once with a copy button and the warning that it must be changed at the next sign-in, the old one stops working and the new one leads to the password change; never on one's own row, and a non-admin is offered no reset (decision 1062)", async () => {
    // A tenant of its own: one admin, whose own row is the one without a reset.
    const tenant = await createPolicyTenant(env.kernel, 'voiceking');
    const admin = await loginAs(env.app, env.kernel, tenant, 'admin');
    const forgetful = await createStaffUser(
      env.kernel,
      tenant.tenantId,
      { kind: 'system', job: 'test' },
      { email: 'vergeetachtig@voiceking.example', displayName: 'Vergeten Wachtwoord', role: 'support' },
    );
    const page = await pageWithSession(env, admin, 'nl-BE');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.baseUrl });
    await page.goto(`${env.baseUrl}/staff`);
    await page.getByRole('heading', { name: 'Medewerkers', level: 1 }).waitFor();
    const table = page.getByRole('table', { name: /Medewerkersaccounts/ });
    await table.getByRole('row', { name: /Vergeten Wachtwoord/ }).waitFor();
    // One's own password is changed with the current one: no reset on the admin's own row.
    const ownRow = table.getByRole('row', { name: /admin-.*@staff\.example/ });
    await ownRow.waitFor();
    expect(await ownRow.getByRole('button').count()).toBe(0);
    await look(env.browser, page, 'voiceking-staff-reset-row');
    await page.getByRole('button', { name: 'Wachtwoord resetten voor Vergeten Wachtwoord' }).click();
    const dialog = page.getByRole('dialog', { name: 'Het wachtwoord van Vergeten Wachtwoord resetten?' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('vergeetachtig@voiceking.example');
    await look(env.browser, page, 'voiceking-staff-reset-confirmation');
    await dialog.getByRole('button', { name: 'Een nieuw eenmalig wachtwoord geven' }).click();
    const shown = dialog.getByTestId('one-time-password');
    await shown.waitFor();
    const oneTimePassword = (await shown.innerText()).trim();
    expect(oneTimePassword.length).toBeGreaterThanOrEqual(16);
    const text = await dialog.innerText();
    expect(text).toContain('alleen nu getoond');
    expect(text).toContain('Vergeten Wachtwoord moet het bij de volgende aanmelding wijzigen');
    await dialog.getByRole('button', { name: 'Het eenmalige wachtwoord kopiëren' }).click();
    await dialog.getByRole('button', { name: 'Gekopieerd' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(oneTimePassword);
    await look(env.browser, page, 'voiceking-staff-reset-one-time-password');
    // Shown once: closed, it is nowhere on the screen.
    await dialog.getByRole('button', { name: 'Sluiten' }).last().click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByText(oneTimePassword).count()).toBe(0);
    expectNoPageProblems(env, page);
    await page.context().close();

    // The old one-time password stops working; the new one opens only the password change.
    const login = (password: string) =>
      env.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { tenant: tenant.slug, email: 'vergeetachtig@voiceking.example', password },
      });
    expect((await login(forgetful.oneTimePassword)).statusCode).toBe(401);
    const fresh = await login(oneTimePassword);
    expect(fresh.statusCode).toBe(200);
    expect(fresh.json<{ session: string }>().session).toBe('password_change');
    // The member chooses a password: a breached one is refused with the rule in Dutch, on the field
    // (the server's sentence is English), then an own one is taken (decision 1060).
    const setCookie = fresh.headers['set-cookie'];
    const memberPage = await pageWithSession(
      env,
      {
        cookie: String(Array.isArray(setCookie) ? setCookie[0] : setCookie),
        csrfToken: fresh.json<{ csrfToken: string }>().csrfToken,
        staffId: forgetful.staffId,
      },
      'nl-BE',
    );
    await memberPage.goto(`${env.baseUrl}/`);
    await memberPage.getByLabel(/^Huidig wachtwoord/).fill(oneTimePassword);
    await memberPage.getByLabel(/^Nieuw wachtwoord/).fill('Password2026!!');
    await memberPage.getByLabel(/^Herhaal het nieuwe wachtwoord/).fill('Password2026!!');
    await memberPage.getByRole('button', { name: 'Nieuw wachtwoord bewaren' }).click();
    await memberPage.getByText('Dit wachtwoord wordt veel gebruikt of is gelekt').waitFor();
    expect(await memberPage.getByText(/commonly used|Kluis meldde/).count()).toBe(0);
    await look(env.browser, memberPage, 'voiceking-staff-reset-password-rule');
    await memberPage.getByLabel(/^Nieuw wachtwoord/).fill('Lange-Zin-Voor-Kluis-2026');
    await memberPage.getByLabel(/^Herhaal het nieuwe wachtwoord/).fill('Lange-Zin-Voor-Kluis-2026');
    await memberPage.getByRole('button', { name: 'Nieuw wachtwoord bewaren' }).click();
    await memberPage.getByRole('heading', { name: 'Start', level: 1 }).waitFor();
    expectNoPageProblems(env, memberPage);
    await memberPage.context().close();
    const audit = await runAsOwner<{ actor_id: string }>(
      env.database.ownerUrl,
      `select actor_id from audit_log where tenant_id = $1 and action = 'staff.password.reset'`,
      [tenant.tenantId],
    );
    expect(audit.rows.map((row) => row.actor_id)).toEqual([String(admin.staffId)]);

    // A role that does not manage staff is offered neither the screen nor a reset.
    const support = await loginAs(env.app, env.kernel, tenant, 'support');
    const other = await pageWithSession(env, support, 'nl-BE');
    await other.goto(`${env.baseUrl}/`);
    await other.getByRole('navigation').first().waitFor();
    expect(await other.getByRole('link', { name: 'Medewerkers' }).count()).toBe(0);
    await other.goto(`${env.baseUrl}/staff`);
    await other.waitForLoadState('networkidle');
    expect(await other.getByRole('button', { name: /resetten/ }).count()).toBe(0);
    await other.context().close();
  });

  it("decision 1180: voiceking: at 1280×800 the staff list shows every row's actions whole, without sideways scrolling, in Dutch, French and English, with a long e-mail address; the state badges stay whole", async () => {
    const tenant = await createPolicyTenant(env.kernel, 'voiceking');
    const admin = await loginAs(env.app, env.kernel, tenant, 'admin');
    for (const role of ROLE_KEYS.voiceking)
      await createStaffUser(
        env.kernel,
        tenant.tenantId,
        { kind: 'system', job: 'test' },
        { email: `${role.replaceAll('_', '-')}@voiceking.example`, displayName: `Lid ${role}`, role },
      );
    await createStaffUser(
      env.kernel,
      tenant.tenantId,
      { kind: 'system', job: 'test' },
      {
        email: 'marie-christine.vandenbroucke-de-smedt@klantendienst.voiceking.example',
        displayName: 'Marie-Christine Vandenbroucke-De Smedt',
        role: 'privacy_officer',
      },
    );
    const leaver = await createStaffUser(
      env.kernel,
      tenant.tenantId,
      { kind: 'system', job: 'test' },
      { email: 'vertrokken@voiceking.example', displayName: 'Vertrokken Medewerker', role: 'support' },
    );
    expect(
      (await requestAs(env.app, admin)('POST', `/api/v1/staff/${leaver.staffId}/disable`)).statusCode,
    ).toBe(200);
    const screens = [
      { locale: 'nl-BE', language: 'nl', reset: 'Wachtwoord resetten voor Lid hr' },
      { locale: 'fr-BE', language: 'fr', reset: 'Réinitialiser le mot de passe de Lid hr' },
      { locale: 'en-GB', language: 'en', reset: 'Reset password for Lid hr' },
    ];
    for (const screen of screens) {
      const page = await pageWithSession(env, admin, screen.locale);
      await page.setViewportSize(LAPTOP);
      await page.goto(`${env.baseUrl}/staff`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.getByRole('button', { name: screen.reset }).waitFor();
      await page.getByText('marie-christine.vandenbroucke', { exact: false }).waitFor();
      await page.waitForLoadState('networkidle');
      const { overflow, hidden } = await sidewaysOverflow(page);
      expect(overflow, screen.language).toBeLessThanOrEqual(0);
      expect(hidden, screen.language).toEqual([]);
      // Every badge whole: its label is not cut (decision 1100's "eenm…").
      const cut = await page.evaluate(`[...document.querySelectorAll('tbody .mantine-Badge-label')]
        .filter((label) => label.scrollWidth > label.getBoundingClientRect().width + 1)
        .map((label) => label.textContent)`);
      expect(cut, screen.language).toEqual([]);
      await look(env.browser, page, `voiceking-staff-list-1280-${screen.language}`);
      expectNoPageProblems(env, page);
      await page.context().close();
    }
  });

  it("decision 1181: voiceking: a second reset within a minute of an unused one is refused in the reset dialog, in the screen's language, naming the Brussels time of the first and the time from which another may be given; nothing changes", async () => {
    const tenant = await createPolicyTenant(env.kernel, 'voiceking');
    const admin = await loginAs(env.app, env.kernel, tenant, 'admin');
    const member = await createStaffUser(
      env.kernel,
      tenant.tenantId,
      { kind: 'system', job: 'test' },
      { email: 'dubbelklik@voiceking.example', displayName: 'Dubbel Klik', role: 'support' },
    );
    // Another admin (here: the API) reset the password a moment ago.
    const first = await requestAs(env.app, admin)('POST', `/api/v1/staff/${member.staffId}/password/reset`);
    expect(first.statusCode).toBe(200);
    const firstPassword = first.json<{ oneTimePassword: string }>().oneTimePassword;
    const stateOf = async () =>
      (
        await runAsOwner<{ reset_at: Date; hash: string }>(
          env.database.ownerUrl,
          'select password_reset_at as reset_at, password_hash as hash from staff_users where tenant_id = $1 and staff_id = $2',
          [tenant.tenantId, member.staffId],
        )
      ).rows[0];
    const before = await stateOf();
    const resetAt = before?.reset_at ?? new Date(0);
    const clock = (date: Date) =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Brussels',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      }).format(date);
    const at = clock(resetAt);
    const again = clock(new Date(resetAt.getTime() + 60_000));
    const screens = [
      {
        locale: 'nl-BE',
        language: 'nl',
        open: 'Wachtwoord resetten voor Dubbel Klik',
        dialog: 'Het wachtwoord van Dubbel Klik resetten?',
        submit: 'Een nieuw eenmalig wachtwoord geven',
        said: `Een eenmalig wachtwoord voor Dubbel Klik werd om ${at} gegeven en is nog niet gebruikt; het kan opnieuw gereset worden vanaf ${again}.`,
        who: 'Kluis zegt hier niet wie het gaf; het auditlogboek wel.',
      },
      {
        locale: 'fr-BE',
        language: 'fr',
        open: 'Réinitialiser le mot de passe de Dubbel Klik',
        dialog: 'Réinitialiser le mot de passe de Dubbel Klik ?',
        submit: 'Donner un nouveau mot de passe à usage unique',
        said: `Un mot de passe à usage unique pour Dubbel Klik a été donné à ${at} et n’est pas encore utilisé ; il peut être réinitialisé à nouveau à partir de ${again}.`,
        who: 'Kluis ne dit pas ici qui l’a donné ; le journal d’audit le dit.',
      },
    ];
    for (const screen of screens) {
      const page = await pageWithSession(env, admin, screen.locale);
      await page.setViewportSize(LAPTOP);
      await page.goto(`${env.baseUrl}/staff`);
      await page.getByRole('button', { name: screen.open }).click();
      const dialog = page.getByRole('dialog', { name: screen.dialog });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: screen.submit }).click();
      const alert = dialog.getByRole('alert');
      await alert.getByText(screen.said).waitFor();
      const text = await alert.innerText();
      expect(text).toContain(screen.who);
      // In the dialog and in the screen's language: no English server sentence, no box outside it.
      expect(text).not.toMatch(/already issued|Kluis meldde|Kluis a répondu/);
      expect(await page.getByRole('alert').count()).toBe(1);
      expect(await dialog.getByTestId('one-time-password').count()).toBe(0);
      await look(env.browser, page, `voiceking-staff-reset-repeated-${screen.language}`);
      expectNoPageProblems(env, page);
      await page.context().close();
    }
    // Nothing changed: the first one-time password is still the one that works.
    const after = await stateOf();
    expect(after?.hash).toBe(before?.hash);
    expect(after?.reset_at.getTime()).toBe(resetAt.getTime());
    const login = await env.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { tenant: tenant.slug, email: 'dubbelklik@voiceking.example', password: firstPassword },
    });
    expect(login.statusCode).toBe(200);
  });

  it('VK-7: voiceking: a billing clerk makes an API token valid for 30 days on the tokens screen, and the list says the day it ends (attack S22-4, decision 1002)', async () => {
    const tenant = tenantOf('voiceking');
    const billing = await loginAs(env.app, env.kernel, tenant, 'billing');
    const page = await pageWithSession(env, billing, 'nl-BE');
    await page.goto(`${env.baseUrl}/tokens`);
    await page.getByRole('heading', { name: 'API-tokens', level: 1 }).waitFor();
    await page.getByLabel('Waarvoor het dient').fill('Boekhouding export');
    await page.getByLabel('Geldig (dagen, hoogstens 365)').fill('30');
    await page.getByRole('button', { name: 'Token maken' }).click();
    await page.getByTestId('api-token').waitFor();
    const row = page
      .getByRole('table', { name: /API-tokens/ })
      .getByRole('row', { name: /Boekhouding export/ });
    await row.waitFor();
    const stored = await runAsOwner<{ days: number; ends: string }>(
      env.database.ownerUrl,
      `select extract(day from expires_at - created_at)::int as days,
              to_char(expires_at at time zone 'Europe/Brussels', 'DD-MM-YYYY') as ends
         from staff_api_tokens where tenant_id = $1 and label = 'Boekhouding export'`,
      [tenant.tenantId],
    );
    expect(stored.rows[0]?.days).toBe(30);
    const [day, month, year] = (stored.rows[0]?.ends ?? '').split('-').map(Number);
    // The day is drawn as the screen's other days are (Brussels, Dutch): its number and year are in the row.
    const rowText = await row.innerText();
    expect(rowText).toContain(String(day));
    expect(rowText).toContain(String(year));
    expect(month).toBeGreaterThan(0);
    await look(env.browser, page, 'voiceking-tokens');
    expectNoPageProblems(env, page);
    await page.context().close();
  });
});
