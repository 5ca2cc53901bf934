import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { createPerson } from '../parties/index.js';

// Attack finding A7 (issue 19): the erasure letter lists only what the policy names in the
// person's language, and a double submit of the erase form is one request and one letter.
const PUBLIC = 'https://portal.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

/** The erase form of the account, confirmed, as the signed-in person posts it. */
const postErase = (slug: string, signedIn: { cookie: string; csrf: string }) =>
  testApp.app.inject({
    method: 'POST',
    url: `/t/${slug}/account/erase`,
    headers: { cookie: signedIn.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ csrf: signedIn.csrf, confirm: 'yes' }).toString(),
  });

describe('the erasure letter and a double submit (attack A7)', () => {
  for (const seed of ['voxtra', 'voiceking'] as const) {
    it(`VK-23 / VX-13 (${seed}): two erase posts at the same moment file one request and send one letter, whose lines are all words of the person’s language`, async () => {
      const { kernel, smtp, database } = testApp;
      const tenant = testApp[seed];
      const email = `noah.mertens.${seed}@mail.example`;
      const person = await createPerson(
        kernel,
        {
          tenantId: tenant.tenantId,
          actor: { kind: 'staff', staffId: 1, role: 'sales' },
          purpose: seed === 'voxtra' ? 'customer_administration' : 'order_processing',
        },
        {
          subjectType: 'customer',
          familyName: 'Mertens',
          givenName: 'Noah',
          email,
          phone: '+32 9 377 00 12',
          address: { street: 'Kerkstraat 9', postalCode: '9000', city: 'Gent', country: 'BE' },
        },
      );
      const { cookie, csrf } = await signInByMailedLink(testApp, tenant, email);
      const erase = () => postErase(tenant.slug, { cookie, csrf });
      const answers = await Promise.all([erase(), erase()]);
      for (const answer of answers) expect(answer.statusCode, answer.body).toBe(303);

      const requests = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        `select count(*)::int as n from rights_requests where tenant_id = $1 and subject_id = $2 and kind = 'erasure'`,
        [tenant.tenantId, person.subjectId],
      );
      expect(requests.rows[0]?.n).toBe(1);
      const letter = await smtp.waitFor(email, 2);
      expect(letter.text).toContain('Gewist:');
      // Give a second letter, if any, the time to arrive.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(smtp.to(email).filter((mail) => /Gewist:/.test(mail.text ?? ''))).toHaveLength(1);

      const lines = (letter.text ?? '').split('\n').filter((line) => line.startsWith('- '));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).not.toMatch(/^- +\(/); // no empty label
        expect(line).not.toMatch(/\b(user|kluis)\.[a-z_.]+/); // no raw category key
        expect(line).not.toMatch(/\(\w+ \(\d+ years?\)\)/); // no internal retention text
      }
    });
  }

  it('VK-23 (attack S11-6): an erase post cut after it filed the request (the database went away before the erasure) is carried out by the retry — erased, fulfilled, one letter — never answered "erased" with everything kept', async () => {
    const { kernel, smtp, database } = testApp;
    const tenant = testApp.voiceking;
    const email = 'lien.peeters.cut@mail.example';
    const person = await createPerson(
      kernel,
      {
        tenantId: tenant.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      { subjectType: 'customer', familyName: 'Peeters', givenName: 'Lien', email },
    );
    const { cookie, csrf } = await signInByMailedLink(testApp, tenant, email);
    const erase = () => postErase(tenant.slug, { cookie, csrf });
    const stateOf = async () =>
      (
        await runAsOwner<{ state: string; erased: boolean }>(
          database.ownerUrl,
          `select r.state, s.erased_at is not null as erased
             from rights_requests r join data_subjects s using (tenant_id, subject_id)
            where r.tenant_id = $1 and r.subject_id = $2 and r.kind = 'erasure'`,
          [tenant.tenantId, person.subjectId],
        )
      ).rows;
    // The erasure's update of the person fails as when the server goes away (admin_shutdown):
    // the request is filed and committed, the erasure is not.
    await runAsOwner(
      database.ownerUrl,
      `create function cut_erasure() returns trigger language plpgsql as $$
         begin raise exception 'terminating connection' using errcode = '57P01'; end $$;
       create trigger cut_erasure before update of erased_at on data_subjects for each row
         when (new.subject_id = ${String(person.subjectId)}) execute function cut_erasure()`,
    );
    try {
      const cut = await erase();
      expect(cut.statusCode).toBe(503);
    } finally {
      await runAsOwner(
        database.ownerUrl,
        'drop trigger cut_erasure on data_subjects; drop function cut_erasure()',
      );
    }
    expect(await stateOf()).toEqual([{ state: 'verified', erased: false }]);

    const retry = await erase();
    expect(retry.statusCode).toBe(303);
    expect(retry.headers.location).toContain('/account/erased');
    expect(await stateOf()).toEqual([{ state: 'fulfilled', erased: true }]);
    await smtp.waitFor(email, 2);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(smtp.to(email).filter((mail) => /Gewist:/.test(mail.text ?? ''))).toHaveLength(1);
  });
});
