/**
 * Decision 1220: the person screen's notes card saves through PATCH /api/v1/people/:id under the
 * screen's purpose. Screenshots go to test-results/screenshots/back-office-person-notes/.
 */
import { describe, expect, it } from 'vitest';
import { createPerson } from '../src/modules/parties/index.js';
import { runAsOwner } from './database.js';
import { loginAs } from './http.js';
import { createPolicyTenant } from './kernel.js';
import {
  backOfficeForSuite,
  choosePurpose,
  expectNoPageProblems,
  look,
  pageWithSession,
} from './staff-browser.js';

const env = backOfficeForSuite('back-office-person-notes');

const SALES = { kind: 'staff', staffId: 1, role: 'sales' } as const;

describe('the notes card of the person screen (decision 1220)', () => {
  it('VK-16: voiceking: support refuses to keep a national register number in a note (said in Dutch, nothing kept), saves an ordinary note and reads it after a reload; sales, whose purpose does not cover notes, is told so and offered no form', async () => {
    const tenant = await createPolicyTenant(env.kernel, 'voiceking');
    const person = await createPerson(
      env.kernel,
      { tenantId: tenant.tenantId, actor: SALES, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Notelaar', givenName: 'Noor', email: 'noor@mail.example' },
    );
    const notesOf = async (): Promise<Buffer | null | undefined> =>
      (
        await runAsOwner<{ notes_enc: Buffer | null }>(
          env.database.ownerUrl,
          'select notes_enc from people where tenant_id = $1 and subject_id = $2',
          [tenant.tenantId, person.subjectId],
        )
      ).rows[0]?.notes_enc;

    const support = await loginAs(env.app, env.kernel, tenant, 'support');
    const page = await pageWithSession(env, support, 'nl-BE');
    await page.goto(`${env.baseUrl}/people/${person.subjectId}`);
    await choosePurpose(page, 'installation_support');
    const card = page.getByTestId('notes-card');
    const field = card.getByRole('textbox', { name: 'Notities' });
    await field.waitFor();

    await field.fill('Rijksregisternummer 85.07.30-033.28 doorgegeven');
    await card.getByRole('button', { name: 'Bewaren' }).click();
    await card.getByText('Deze tekst lijkt gevoelige gegevens te bevatten').waitFor();
    expect(await card.innerText()).not.toContain('033.28');
    expect(await notesOf()).toBeNull();
    await look(env.browser, page, 'support-person-notes-refused');

    const note = 'Belt liefst na 17 uur; de modem staat in de garage.';
    await field.fill(note);
    await card.getByRole('button', { name: 'Bewaren' }).click();
    await card.getByText('De notities zijn bewaard').waitFor();
    expect(await notesOf()).toBeInstanceOf(Buffer);

    await page.reload();
    await field.waitFor();
    await expect.poll(() => field.inputValue(), { timeout: 10_000 }).toBe(note);
    await look(env.browser, page, 'support-person-notes-saved');
    expectNoPageProblems(env, page);
    await page.context().close();

    const sales = await loginAs(env.app, env.kernel, tenant, 'sales');
    const salesPage = await pageWithSession(env, sales, 'nl-BE');
    await salesPage.goto(`${env.baseUrl}/people/${person.subjectId}`);
    await choosePurpose(salesPage, 'order_processing');
    const salesCard = salesPage.getByTestId('notes-card');
    await salesCard.getByText('Het doel waarvoor u werkt dekt geen notities').waitFor();
    expect(await salesCard.getByRole('textbox').count()).toBe(0);
    await look(env.browser, salesPage, 'sales-person-notes-not-covered');
    expectNoPageProblems(env, salesPage);
    await salesPage.context().close();
  });
});
