/**
 * Decision 1041 (left open by 0982): after a new policy version drops a purpose, the privacy
 * officer's person screen shows the consent records of that purpose, labelled as no longer in the
 * policy, read through the API under the rights purpose; a role without it sees no such card.
 * Screenshots go to test-results/screenshots/undeclared-consents/.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAsOwner } from './database.js';
import { loginAs } from './http.js';
import { createPolicyTenant } from './kernel.js';
import { createPerson } from '../src/modules/parties/index.js';
import { recordConsent } from '../src/modules/consent/index.js';
import {
  backOfficeForSuite,
  choosePurpose,
  expectNoPageProblems,
  look,
  pageWithSession,
  requestsTo,
} from './staff-browser.js';

const env = backOfficeForSuite('undeclared-consents');

const SALES = { kind: 'staff', staffId: 1, role: 'sales' } as const;

describe('the consent ledger of a purpose no longer in the policy, on the officer’s person screen', () => {
  it('VK-29: the privacy officer opens a person whose consent purpose the new policy version dropped and reads its records, labelled as a purpose no longer in the policy; sales sees no such card', async () => {
    const tenant = await createPolicyTenant(env.kernel, 'voiceking');
    const person = await createPerson(
      env.kernel,
      { tenantId: tenant.tenantId, actor: SALES, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Profiel', givenName: 'Ilse', email: 'ilse@mail.example' },
    );
    for (const event of ['given', 'withdrawn'] as const)
      await recordConsent(
        env.kernel,
        { tenantId: tenant.tenantId, actor: SALES, purpose: 'interest_profiles' },
        {
          subjectId: person.subjectId,
          purpose: 'interest_profiles',
          event,
          channel: 'staff_phone',
          ...(event === 'given'
            ? {
                wording: { language: 'nl' as const, text: 'Mogen wij uw interesses bijhouden?' },
                statement: 'Ja, dat mag.',
              }
            : {}),
        },
      );
    const seed = await readFile(path.join(import.meta.dirname, '../policies/voiceking.yaml'), 'utf8');
    await env.kernel.policies.install(
      tenant.tenantId,
      seed
        .replaceAll('interest_profiles', 'interest_profiling')
        .replace(/version: '[0-9.]+'/, "version: '2027.1'"),
      'policies/voiceking-2027.yaml',
    );

    const officer = await loginAs(env.app, env.kernel, tenant, 'privacy_officer');
    const page = await pageWithSession(env, officer, 'nl-BE');
    await page.goto(`${env.baseUrl}/people/${person.subjectId}`);
    await choosePurpose(page, 'rights_requests');
    const card = page.getByTestId('undeclared-consents');
    await card
      .getByRole('heading', { name: 'Toestemmingen voor doeleinden die niet meer in het beleid staan' })
      .waitFor();
    const table = card.getByRole('table', {
      name: /Het register van doeleinden die niet meer vermeld worden/,
    });
    const rows = table.locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    const texts = await rows.allInnerTexts();
    for (const text of texts) {
      expect(text).toContain('interest_profiles');
      expect(text).toContain('niet meer in het beleid');
    }
    expect(texts[0]).toContain('toestemming gegeven');
    expect(texts[0]).toContain('Ja, dat mag.');
    expect(texts[1]).toContain('toestemming ingetrokken');
    // The audit trail's table, scrolled sideways when wide, is reachable by keyboard (axe).
    await expect
      .poll(() =>
        page.getByRole('region', { name: 'Het auditspoor van deze persoon' }).getAttribute('tabindex'),
      )
      .toBe('0');
    await look(env.browser, page, 'officer-person-undeclared-consents');
    expectNoPageProblems(env, page);
    await page.context().close();

    // Sales (no rights purpose) opens the same person: no such card, and no request for it.
    const sales = await loginAs(env.app, env.kernel, tenant, 'sales');
    const salesPage = await pageWithSession(env, sales, 'nl-BE');
    const asked = requestsTo(salesPage, 'undeclared-purposes');
    await salesPage.goto(`${env.baseUrl}/people/${person.subjectId}`);
    await choosePurpose(salesPage, 'order_processing');
    await salesPage.getByTestId('consents').waitFor();
    expect(await salesPage.getByTestId('undeclared-consents').count()).toBe(0);
    expect(asked).toEqual([]);
    expectNoPageProblems(env, salesPage);
    await salesPage.context().close();
  });

  it("VK-29: the person screen's consent ledger writes each moment in Brussels time as the ledger of dropped purposes does (one table for both)", async () => {
    const tenant = await createPolicyTenant(env.kernel, 'voiceking');
    const person = await createPerson(
      env.kernel,
      { tenantId: tenant.tenantId, actor: SALES, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: 'Tijd', givenName: 'Wout', email: 'wout@mail.example' },
    );
    await recordConsent(
      env.kernel,
      { tenantId: tenant.tenantId, actor: SALES, purpose: 'email_tracking' },
      {
        subjectId: person.subjectId,
        purpose: 'email_tracking',
        event: 'given',
        channel: 'staff_phone',
        wording: { language: 'nl' as const, text: 'Mogen wij meten of u onze e-mails opent?' },
        statement: 'Ja.',
      },
    );
    const stored = await runAsOwner<{ recorded_at: Date }>(
      env.database.ownerUrl,
      'select recorded_at from consent_records where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, person.subjectId],
    );
    const recordedAt = stored.rows[0]?.recorded_at ?? new Date(Number.NaN);
    const brussels = (options: Intl.DateTimeFormatOptions) =>
      new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Brussels', hourCycle: 'h23', ...options }).format(
        recordedAt,
      );
    const expected = `${brussels({ day: '2-digit', month: '2-digit', year: 'numeric' })} ${brussels({ hour: '2-digit', minute: '2-digit' })}`;
    const sales = await loginAs(env.app, env.kernel, tenant, 'sales');
    const page = await pageWithSession(env, sales, 'en-GB');
    await page.goto(`${env.baseUrl}/people/${person.subjectId}`);
    await choosePurpose(page, 'order_processing');
    const consents = page.getByTestId('consents');
    await consents.getByRole('combobox', { name: /^For what/ }).click();
    await page.getByRole('option', { name: /measuring whether you open our e-mails/ }).click();
    const row = consents.locator('[data-testid^="consent-"]').first();
    await row.waitFor();
    const text = await row.innerText();
    expect(text).toContain(expected);
    // Not the UTC moment cut from the ISO string (Brussels is an hour or two ahead).
    expect(text).not.toContain(recordedAt.toISOString().slice(0, 16).replace('T', ' '));
    await look(env.browser, page, 'sales-person-consents-brussels-time');
    expectNoPageProblems(env, page);
    await page.context().close();
  });
});
