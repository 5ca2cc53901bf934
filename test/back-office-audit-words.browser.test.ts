/**
 * Decision 1260, in a real Chromium: the person's audit trail says what happened in the screen's
 * language, not the log's codes. Sales reads and corrects a Voxtra customer and a technician is
 * refused a correction (over HTTP); the customer's technical dossier is erased as on a written
 * termination. The privacy officer reads the trail in Dutch, then in French; the codes as
 * recorded stay beneath each entry. The entries are checked in the database; screenshots (1280 ×
 * 800) under test-results/screenshots/back-office-audit-words/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyringOf } from '../src/kernel/kernel.js';
import { eraseDossier } from '../src/modules/dossier/index.js';
import type { Page } from './browser.js';
import { runAsOwner } from './database.js';
import { loginAs, requestAs } from './http.js';
import { createPolicyTenant } from './kernel.js';
import {
  choosePurpose,
  closeBackOffice,
  expectNoPageProblems,
  look,
  pageWithSession,
  startBackOffice,
  type BackOffice,
} from './staff-browser.js';

let env: BackOffice;

beforeAll(async () => {
  env = await startBackOffice('back-office-audit-words');
}, 180_000);
afterAll(() => closeBackOffice(env));

interface ShownEntry {
  what: string;
  why: string | null;
  refused: boolean;
  recorded: string;
}

/** The trail's entries as shown: the words, the refusal badge, the codes as recorded. */
async function shownEntries(page: Page): Promise<ShownEntry[]> {
  const rows = page.getByTestId('audit-trail').locator('tbody tr');
  const shown: ShownEntry[] = [];
  for (const row of await rows.all()) {
    const why = row.getByTestId('trail-why');
    shown.push({
      what: await row.getByTestId('trail-what').innerText(),
      why: (await why.count()) > 0 ? await why.innerText() : null,
      refused: (await row.locator('.mantine-Badge-root').count()) > 0,
      recorded: await row.getByTestId('trail-recorded').innerText(),
    });
  }
  return shown;
}

/** The entry whose recorded codes begin with `codes` (action, decision, reason). */
function entryOf(entries: ShownEntry[], codes: string, refused = false): ShownEntry | undefined {
  return entries.find(
    (entry) =>
      entry.refused === refused && (entry.recorded === codes || entry.recorded.startsWith(`${codes} · `)),
  );
}

describe('the audit trail in the screen’s language (decision 1260)', () => {
  it('a Dutch privacy officer reads a read, a correction, a refused correction and an erasure of the technical dossier in Dutch words, the codes as recorded beneath; in French the same entries in French', async () => {
    const { app, kernel, database, browser, baseUrl } = env;
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const sales = await loginAs(app, kernel, tenant, 'sales');
    const asSales = requestAs(app, sales, 'customer_administration');
    const created = await asSales('POST', '/api/v1/people', {
      subjectType: 'customer',
      familyName: 'Claes',
      givenName: 'Marie',
      email: 'marie.claes@mail.example',
    });
    expect(created.statusCode, created.body).toBe(201);
    const { subjectId } = created.json<{ subjectId: number }>();
    // A read and a correction by sales; a technician may not correct under that purpose.
    const read = await asSales('GET', `/api/v1/people/${subjectId}`);
    expect(read.statusCode, read.body).toBe(200);
    const corrected = await asSales('PATCH', `/api/v1/people/${subjectId}`, { familyName: 'Claes-Peeters' });
    expect(corrected.statusCode, corrected.body).toBe(200);
    const technician = await loginAs(app, kernel, tenant, 'technician');
    const refused = await requestAs(app, technician, 'customer_administration')(
      'PATCH',
      `/api/v1/people/${subjectId}`,
      { familyName: 'X' },
    );
    expect(refused.statusCode, refused.body).toBe(403);
    // The technician keeps a password in the dossier (under its own key); a written termination
    // erases the dossier.
    const credential = await requestAs(app, technician, 'technical_dossier')(
      'POST',
      `/api/v1/customers/${subjectId}/dossier/credentials`,
      {
        system: 'Webmail',
        username: 'marie',
        password: 'Voorbeeld-Wachtwoord-1',
      },
    );
    expect(credential.statusCode, credential.body).toBe(201);
    const erased = await eraseDossier(kernel, {
      tenantId: tenant.tenantId,
      subjectId,
      purpose: 'technical_dossier',
      trigger: 'written termination',
    });
    expect(erased).toMatchObject({ erased: true, keyDestroyed: true });

    // In the database: each of these entries names the person.
    const pseudonym = await keyringOf(kernel).pseudonym(tenant.tenantId, subjectId);
    const logged = await runAsOwner<{ action: string; decision: string; reason: string | null }>(
      database.ownerUrl,
      `select action, decision, reason from audit_log
        where tenant_id = $1 and subject_pseudonyms @> array[$2]::text[] order by seq`,
      [tenant.tenantId, pseudonym],
    );
    const rows = logged.rows.map((row) => `${row.action} ${row.decision} ${row.reason ?? ''}`.trim());
    expect(rows).toEqual(
      expect.arrayContaining([
        'read allowed',
        'write allowed',
        'write denied role_not_allowed',
        'erase allowed',
        'key.destroy allowed crypto_shredded',
      ]),
    );
    expect(rows.some((row) => row.startsWith('dossier.erase allowed certificate:'))).toBe(true);

    const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
    const page = await pageWithSession(env, officer, 'nl-BE');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${baseUrl}/people/${subjectId}`);
    await choosePurpose(page, 'rights_requests');
    const trail = page.getByRole('region', { name: 'Het auditspoor van deze persoon' });
    await trail.getByText('technisch dossier gewist', { exact: true }).waitFor();
    const dutch = await shownEntries(page);
    expect(entryOf(dutch, 'read')).toMatchObject({ what: 'gelezen', why: null });
    expect(entryOf(dutch, 'write')).toMatchObject({ what: 'gewijzigd', why: null });
    expect(entryOf(dutch, 'write · denied · role_not_allowed', true)).toMatchObject({
      what: 'gewijzigd',
      why: 'de rol mag niet onder dit doel handelen',
    });
    expect(entryOf(dutch, 'erase')).toMatchObject({ what: 'gewist' });
    expect(entryOf(dutch, 'key.destroy · crypto_shredded')).toMatchObject({
      what: 'sleutel vernietigd',
      why: 'de sleutel is vernietigd: wat ermee versleuteld was, is niet meer leesbaar',
    });
    // A sentence the server wrote is shown as written, with the codes: not as words.
    expect(entryOf(dutch, 'dossier.erase')).toMatchObject({ what: 'technisch dossier gewist', why: null });
    expect(entryOf(dutch, 'dossier.erase')?.recorded).toContain('certificate: technical dossier erased');
    expect(await trail.locator('.mantine-Badge-root').allInnerTexts()).toEqual(['geweigerd']);
    // Every entry in words: no action shown as its code.
    for (const entry of dutch) expect(entry.what).not.toBe(entry.recorded.split(' · ')[0]);
    expect(await trail.innerText()).toContain('Zo vastgelegd:');
    // The purposes by the policy's Dutch names, their keys kept in the cell's title.
    const purpose = trail.getByRole('cell', { name: 'klantenadministratie' }).first();
    expect(await purpose.getAttribute('title')).toBe('customer_administration');
    // A system job's role is no policy key: in words too, its key in the title.
    const system = trail.getByRole('cell', { name: 'systeem', exact: true }).first();
    expect(await system.getAttribute('title')).toBe('system');
    await look(browser, page, 'trail-nl');

    // The same entries in French, chosen in the banner.
    await page.getByRole('banner').getByText('FR', { exact: true }).click();
    const french = page.getByRole('region', { name: 'La piste d’audit de cette personne' });
    await french.getByText('dossier technique effacé', { exact: true }).waitFor();
    const inFrench = await shownEntries(page);
    expect(entryOf(inFrench, 'read')).toMatchObject({ what: 'lu' });
    expect(entryOf(inFrench, 'write')).toMatchObject({ what: 'modifié' });
    expect(entryOf(inFrench, 'write · denied · role_not_allowed', true)).toMatchObject({
      what: 'modifié',
      why: 'le rôle ne peut pas agir pour cette finalité',
    });
    expect(entryOf(inFrench, 'erase')).toMatchObject({ what: 'effacé' });
    expect(entryOf(inFrench, 'key.destroy · crypto_shredded')).toMatchObject({ what: 'clé détruite' });
    expect(await french.locator('.mantine-Badge-root').allInnerTexts()).toEqual(['refusé']);
    expect(inFrench.map((entry) => entry.recorded)).toEqual(dutch.map((entry) => entry.recorded));
    await look(browser, page, 'trail-fr');
    expectNoPageProblems(env, page);

    // The officer's looks are on record too, under the rights purpose.
    const looks = await runAsOwner<{ actor_id: string; purpose: string }>(
      database.ownerUrl,
      `select distinct actor_id, purpose from audit_log
        where tenant_id = $1 and action = 'audit.read' and subject_pseudonyms @> array[$2]::text[]`,
      [tenant.tenantId, pseudonym],
    );
    expect(looks.rows).toEqual([{ actor_id: String(officer.staffId), purpose: 'rights_requests' }]);
  }, 240_000);
});
