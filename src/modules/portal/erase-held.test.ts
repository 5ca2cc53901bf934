import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { loginAs, requestAs } from '../../../test/http.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { createPerson } from '../parties/index.js';

const PUBLIC = 'https://portal.voiceking.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

describe('"erase my account" under a legal hold (attack A18, decision 0415)', () => {
  it('VK-23: a person under a legal hold is told on the erase page, in their language, that their data are kept for a legal claim until the hold ends; posting the form anyway erases nothing and files no request; released, the erasure runs', async () => {
    const { app, kernel, voiceking, database } = testApp;
    const email = 'lucas.gehouden@example.be';
    const person = await createPerson(
      kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      { subjectType: 'customer', familyName: 'Gehouden', givenName: 'Lucas', email, preferredLanguage: 'fr' },
    );
    const cookie = (await signInByMailedLink(testApp, testApp.voiceking, email)).cookie;
    const erasePage = (lang: string) =>
      app.inject({
        method: 'GET',
        url: `/t/${voiceking.slug}/account/erase?lang=${lang}`,
        headers: { cookie },
      });
    const free = await erasePage('en');
    expect(free.statusCode).toBe(200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(free.body)?.[1] ?? '';
    expect(csrf).not.toBe('');

    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const placed = await requestAs(app, officer, 'rights_requests')('POST', '/api/v1/retention/holds', {
      subjectId: person.subjectId,
      reason: 'Litigation: summons Rechtbank Kortrijk',
      endsOn: '2027-06-30',
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const holdId = placed.json<{ holdId: number }>().holdId;

    const french = await erasePage('fr');
    expect(french.statusCode).toBe(200);
    expect(french.body).toContain('conservées pour une action en justice');
    expect(french.body).toContain('jusqu’au 30 juin 2027');
    expect(french.body).not.toContain('Rechtbank');
    expect(french.body).not.toContain('name="confirm"');
    const dutch = await erasePage('nl');
    expect(dutch.body).toContain('bewaard voor een rechtsvordering');
    const english = await erasePage('en');
    expect(english.body).toContain('kept for a legal claim (GDPR Art. 17(3)(e)) until 30 June 2027');

    const post = () =>
      app.inject({
        method: 'POST',
        url: `/t/${voiceking.slug}/account/erase`,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `csrf=${encodeURIComponent(csrf)}&confirm=yes`,
      });
    const refused = await post();
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('jusqu’au 30 juin 2027');
    const state = async () =>
      (
        await runAsOwner<{ person: boolean; holds: number; requests: number }>(
          database.ownerUrl,
          `select exists (select 1 from people where tenant_id = $1 and subject_id = $2) as person,
                  (select count(*)::int from legal_holds where tenant_id = $1 and subject_id = $2) as holds,
                  (select count(*)::int from rights_requests where tenant_id = $1 and subject_id = $2) as requests`,
          [voiceking.tenantId, person.subjectId],
        )
      ).rows[0];
    expect(await state()).toEqual({ person: true, holds: 1, requests: 0 });

    const released = await requestAs(
      app,
      officer,
      'rights_requests',
    )('POST', `/api/v1/retention/holds/${holdId}/release`);
    expect(released.statusCode, released.body).toBe(204);
    const erased = await post();
    expect(erased.statusCode).toBe(303);
    expect(await state()).toMatchObject({ person: false, holds: 0 });
  });
});
