import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, testLogger } from '../../../test/database.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { accountErasuresJob } from '../../jobs/account-erasures.job.js';
import { DATA_MAP } from '../data-map.js';
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

/**
 * Runs `post` while the erasure's update of the person fails as when the server goes away
 * (SQLSTATE 57P01, admin_shutdown): the request is filed and committed, the erasure is not.
 */
async function whileErasureIsCut<T>(subjectId: number, post: () => Promise<T>): Promise<T> {
  const { database } = testApp;
  await runAsOwner(
    database.ownerUrl,
    `create function cut_erasure() returns trigger language plpgsql as $$
       begin raise exception 'terminating connection' using errcode = '57P01'; end $$;
     create trigger cut_erasure before update of erased_at on data_subjects for each row
       when (new.subject_id = ${String(subjectId)}) execute function cut_erasure()`,
  );
  try {
    return await post();
  } finally {
    await runAsOwner(
      database.ownerUrl,
      'drop trigger cut_erasure on data_subjects; drop function cut_erasure()',
    );
  }
}

/** The person's account erasure requests: their state, and whether the person is erased. */
async function erasureStateOf(tenantId: number, subjectId: number) {
  return (
    await runAsOwner<{ state: string; erased: boolean }>(
      testApp.database.ownerUrl,
      `select r.state, s.erased_at is not null as erased
         from rights_requests r join data_subjects s using (tenant_id, subject_id)
        where r.tenant_id = $1 and r.subject_id = $2 and r.kind = 'erasure'`,
      [tenantId, subjectId],
    )
  ).rows;
}

/** A Voiceking customer with an address, signed in to the portal, and their erase post. */
async function signedInCustomer(email: string, givenName: string) {
  const { kernel } = testApp;
  const tenant = testApp.voiceking;
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    { subjectType: 'customer', familyName: 'Peeters', givenName, email },
  );
  const { cookie, csrf } = await signInByMailedLink(testApp, tenant, email);
  return { tenant, person, email, erase: () => postErase(tenant.slug, { cookie, csrf }) };
}

/** The letter "Gewist:" reaches the person (after the login link), and no second one follows. */
async function expectOneErasureLetter(email: string): Promise<void> {
  await testApp.smtp.waitFor(email, 2);
  // Give a second letter, if any, the time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(testApp.smtp.to(email).filter((mail) => /Gewist:/.test(mail.text ?? ''))).toHaveLength(1);
}

/** How many tables the fulfilled erasure's recorded outcome lists as erased. */
async function erasedTablesOf(tenantId: number, subjectId: number): Promise<number> {
  const result = await runAsOwner<{ n: number }>(
    testApp.database.ownerUrl,
    `select jsonb_array_length(outcome->'erased')::int as n from rights_requests
      where tenant_id = $1 and subject_id = $2 and kind = 'erasure' and state = 'fulfilled'`,
    [tenantId, subjectId],
  );
  return result.rows[0]?.n ?? -1;
}

/** What the account-erasures job needs, as the server gives it (the app's mailer and data map). */
const jobDeps = () => ({
  kernel: testApp.kernel,
  mailer: testApp.smtp.mailer,
  dataMap: DATA_MAP,
  publicUrl: PUBLIC,
  logger: testLogger,
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
    const { tenant, person, email, erase } = await signedInCustomer('lien.peeters.cut@mail.example', 'Lien');
    const cut = await whileErasureIsCut(person.subjectId, erase);
    expect(cut.statusCode).toBe(503);
    expect(await erasureStateOf(tenant.tenantId, person.subjectId)).toEqual([
      { state: 'verified', erased: false },
    ]);

    const retry = await erase();
    expect(retry.statusCode).toBe(303);
    expect(retry.headers.location).toContain('/account/erased');
    expect(await erasureStateOf(tenant.tenantId, person.subjectId)).toEqual([
      { state: 'fulfilled', erased: true },
    ]);
    await expectOneErasureLetter(email);
  });

  it('VK-23 (decision 0701): an account erasure its cut post left verified is carried out by the account-erasures job once the grace is over — erased, fulfilled, one letter — and a second run changes nothing', async () => {
    const { tenant, person, email, erase } = await signedInCustomer('jan.peeters.job@mail.example', 'Jan');
    expect((await whileErasureIsCut(person.subjectId, erase)).statusCode).toBe(503);

    // Within the grace the request is left to the person's own post.
    await accountErasuresJob(jobDeps(), testLogger).run();
    expect(await erasureStateOf(tenant.tenantId, person.subjectId)).toEqual([
      { state: 'verified', erased: false },
    ]);

    const job = accountErasuresJob(jobDeps(), testLogger, { graceMs: 0 });
    await job.run();
    expect(await erasureStateOf(tenant.tenantId, person.subjectId)).toEqual([
      { state: 'fulfilled', erased: true },
    ]);
    await job.run();
    expect(await erasureStateOf(tenant.tenantId, person.subjectId)).toEqual([
      { state: 'fulfilled', erased: true },
    ]);
    expect(await erasedTablesOf(tenant.tenantId, person.subjectId)).toBeGreaterThan(0);
    await expectOneErasureLetter(email);
  });

  it('VK-23 (decision 0701): two runs of the account-erasures job at once beside the person’s retry carry the cut erasure out once — the retry answers "erased", one letter', async () => {
    const { tenant, person, email, erase } = await signedInCustomer('eva.peeters.race@mail.example', 'Eva');
    expect((await whileErasureIsCut(person.subjectId, erase)).statusCode).toBe(503);

    const job = accountErasuresJob(jobDeps(), testLogger, { graceMs: 0 });
    const [retry] = await Promise.all([erase(), job.run(), job.run()]);
    expect(retry.statusCode, retry.body).toBe(303);
    expect(retry.headers.location).toContain('/account/erased');
    expect(await erasureStateOf(tenant.tenantId, person.subjectId)).toEqual([
      { state: 'fulfilled', erased: true },
    ]);
    // The outcome recorded is the erasure that did the work, not a second pass over nothing.
    expect(await erasedTablesOf(tenant.tenantId, person.subjectId)).toBeGreaterThan(0);
    await expectOneErasureLetter(email);
  });
});
