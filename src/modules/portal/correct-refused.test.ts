import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { createPerson } from '../parties/index.js';

// Attack finding A6 (issue 19): a correction the portal refuses must file no rectification
// request, and the page says in the person's language what is wrong.
const PUBLIC = 'https://portal.voxtra.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

describe('portal "correct my data" (attack A6)', () => {
  it('VX-12: a refused correction (street emptied, phone not a number) files no request and says which fields in the person’s language; a good one files one, applied', async () => {
    const { app, kernel, voxtra, database } = testApp;
    const email = 'emma.smets10@mail.example';
    const person = await createPerson(
      kernel,
      {
        tenantId: voxtra.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'customer_administration',
      },
      {
        subjectType: 'customer',
        familyName: 'Smets',
        givenName: 'Emma',
        email,
        address: { street: 'Veldstraat 10', postalCode: '9000', city: 'Gent', country: 'BE' },
      },
    );
    const { cookie, csrf } = await signInByMailedLink(testApp, testApp.voxtra, email);
    const form = {
      csrf,
      givenName: 'Emma',
      familyName: 'Smets',
      email,
      phone: '',
      street: 'Veldstraat 10',
      postalCode: '9000',
      city: 'Gent',
    };
    const post = (fields: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: `/t/${voxtra.slug}/account/correct`,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      });
    const requests = async () =>
      (
        await runAsOwner<{ kind: string; state: string }>(
          database.ownerUrl,
          'select kind, state from rights_requests where tenant_id = $1 and subject_id = $2',
          [voxtra.tenantId, person.subjectId],
        )
      ).rows;

    const emptied = await post({ ...form, street: '' });
    expect(emptied.statusCode).toBe(422);
    expect(emptied.body).toContain('Niets verbeterd: controleer Straat en nummer.');
    expect(emptied.body).not.toMatch(/Too small|expected string/);
    expect(emptied.body).toContain('aria-invalid="true"');
    const badPhone = await post({ ...form, phone: '12' });
    expect(badPhone.statusCode).toBe(422);
    expect(badPhone.body).toContain('Niets verbeterd: controleer Telefoonnummer');
    expect(await requests()).toEqual([]);

    const good = await post({ ...form, street: 'Veldstraat 12' });
    expect(good.statusCode).toBe(303);
    expect(await requests()).toEqual([{ kind: 'rectification', state: 'fulfilled' }]);
  });
});
