import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { createPerson } from '../parties/index.js';

// Attack S18 (screens brief 2a): the portal's "correct my data" form counted fields the person
// did not touch as changed. Only what changed is filed, audited and named back to the person.
const PUBLIC = 'https://portal.voxtra.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

describe('portal "correct my data": only what changed', () => {
  it('VX-12: a new postcode alone files an address correction only (an e-mail in capitals and a phone in another notation are no change), the page names only the postcode, and saving again unchanged files nothing and says so', async () => {
    const { app, kernel, voxtra, database } = testApp;
    const email = 'lies.wouters@mail.example';
    const person = await createPerson(
      kernel,
      {
        tenantId: voxtra.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'customer_administration',
      },
      {
        subjectType: 'customer',
        familyName: 'Wouters',
        givenName: 'Lies',
        email,
        phone: '+32 471 12 34 56',
        address: { street: 'Kouter 7', postalCode: '9000', city: 'Gent', country: 'BE' },
      },
    );
    const { cookie, csrf } = await signInByMailedLink(testApp, testApp.voxtra, email);
    const post = (fields: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: `/t/${voxtra.slug}/account/correct`,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ csrf, ...fields }).toString(),
      });
    const page = async (location: string) =>
      (await app.inject({ method: 'GET', url: location, headers: { cookie } })).body;
    const requests = async () =>
      (
        await runAsOwner<{ outcome: unknown }>(
          database.ownerUrl,
          'select outcome from rights_requests where tenant_id = $1 and subject_id = $2 order by received_at',
          [voxtra.tenantId, person.subjectId],
        )
      ).rows;
    const portalWrites = async () =>
      (
        await runAsOwner<{ categories: string[] }>(
          database.ownerUrl,
          `select categories from audit_log where tenant_id = $1 and action = 'write' and actor_kind <> 'staff' order by seq`,
          [voxtra.tenantId],
        )
      ).rows;

    // The form as the person sees it, with the postcode changed; the e-mail address typed in
    // capitals and the phone number in its national notation mean the same values.
    const form = {
      givenName: 'Lies',
      familyName: 'Wouters',
      email: 'Lies.Wouters@Mail.Example',
      phone: '0471 12 34 56',
      street: 'Kouter 7',
      postalCode: '9050',
      city: 'Gent',
    };
    const saved = await post(form);
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe(`/t/${voxtra.slug}/account/correct?done=postalCode`);
    expect(await requests()).toEqual([{ outcome: { changedCategories: ['user.contact.address'] } }]);
    expect(await portalWrites()).toEqual([{ categories: ['user.contact.address'] }]);
    const shown = await page(String(saved.headers.location));
    expect(shown).toContain('Uw gegevens zijn verbeterd. Gewijzigd: Postcode.');
    expect(shown).toContain('value="9050"');

    // The same form again: nothing differs from what is stored now; nothing is filed, and the
    // button says why nothing happened.
    const again = await post(form);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe(`/t/${voxtra.slug}/account/correct?unchanged=1`);
    expect(await requests()).toHaveLength(1);
    expect(await portalWrites()).toHaveLength(1);
    expect(await page(String(again.headers.location))).toContain(
      'Niets verbeterd: u wijzigde geen enkel veld.',
    );
  });
});
