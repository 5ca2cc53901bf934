import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import type { AccessReport } from '../../kernel/access-report/index.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { insertCalls } from '../billing/billing.test-helpers.js';
import { createPerson } from '../parties/index.js';

const PUBLIC = 'https://portal.voiceking.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

interface Decision {
  categories: string[];
  action: string;
}

describe('"my data" a page at a time (issue 19)', () => {
  it('VK-21: a customer with 3,000 call records gets small pages: the overview reads no values, the call records come a month and 50 rows at a time, under a gate decision for their category only', async () => {
    const { app, kernel, voiceking, database } = testApp;
    const email = 'wout.bellers@example.be';
    const person = await createPerson(
      kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      { subjectType: 'customer', familyName: 'Bellers', givenName: 'Wout', email, preferredLanguage: 'en' },
    );
    const calls = Array.from({ length: 3000 }, (_, index) => {
      const month = ['08', '09', '10'][index % 3] ?? '08';
      const day = String((index % 28) + 1).padStart(2, '0');
      const minute = String(index % 60).padStart(2, '0');
      const hour = String(Math.floor(index / 60) % 24).padStart(2, '0');
      return {
        subjectId: person.subjectId,
        startedAt: `2026-${month}-${day}T${hour}:${minute}:00Z`,
        destination: '+32470111222',
        seconds: 30 + (index % 300),
        costMicros: 120_000,
      };
    });
    await insertCalls(kernel, voiceking, calls);
    const cookie = (await signInByMailedLink(testApp, testApp.voiceking, email)).cookie;
    const decisions = async (): Promise<Decision[]> =>
      (
        await runAsOwner<Decision>(
          database.ownerUrl,
          `select categories, action from audit_log where tenant_id = $1 and actor_kind = 'subject'
           and decision = 'allowed' and action = 'export' order by seq`,
          [voiceking.tenantId],
        )
      ).rows;
    const before = (await decisions()).length;

    const overview = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-data`,
      headers: { cookie },
    });
    expect(overview.statusCode).toBe(200);
    expect(overview.body).toContain('(3000 lines)');
    expect(overview.body).not.toContain('+32470111222');
    expect(overview.body.length).toBeLessThan(40_000);

    const page = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-data/call_records`,
      headers: { cookie },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body.length).toBeLessThan(60_000);
    // The newest month, 50 rows, the months with their counts, a pager.
    expect(page.body.match(/<tr>/g)?.length).toBe(51);
    expect(page.body).toContain('2026-10 (1000)');
    expect(page.body).toContain('2026-08 (1000)');
    expect(page.body).toContain('Page 1 of 20');
    const august = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-data/call_records?month=2026-08&page=20`,
      headers: { cookie },
    });
    expect(august.statusCode).toBe(200);
    expect(august.body.match(/<tr>/g)?.length).toBe(51);
    expect(august.body).toContain('Page 20 of 20');
    // Shown as local dates in the person's language (en-GB: day/month/year).
    expect(august.body).toContain('28/08/2026');
    expect(august.body).not.toContain('/09/2026');
    expect(august.body).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);

    // The table pages asked the gate for the call records' category only.
    const asked = (await decisions()).slice(before);
    expect(asked).toHaveLength(3);
    expect(asked[0]?.categories.length).toBeGreaterThan(3);
    expect(asked.slice(1).map((decision) => decision.categories)).toEqual([
      ['kluis.telephony.call_record'],
      ['kluis.telephony.call_record'],
    ]);

    // A table that is not the person's, or not a table at all: a 404 page.
    const unknown = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-data/invoices_nowhere`,
      headers: { cookie },
    });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('who consulted my data (decision 0590)', () => {
  it('VK-21: the access report and the "my data" page say who consulted the data, when and why: each staff read and refusal by role and purpose, never a staff member’s id', async () => {
    const { app, kernel, voiceking } = testApp;
    const email = 'ines.raadpleeg@example.be';
    const person = await createPerson(
      kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      { subjectType: 'customer', familyName: 'Raadpleeg', givenName: 'Ines', email, preferredLanguage: 'en' },
    );
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const billing = await loginAs(app, kernel, voiceking, 'billing');
    const read = (session: StaffSession, purpose: string) =>
      app.inject({
        method: 'GET',
        url: `/api/v1/people/${person.subjectId}`,
        headers: { cookie: session.cookie, 'x-kluis-purpose': purpose },
      });
    expect((await read(sales, 'order_processing')).statusCode).toBe(200);
    expect((await read(sales, 'order_processing')).statusCode).toBe(200);
    // Call records are not personal data billing may see of a person's record: refused.
    expect((await read(billing, 'call_billing')).statusCode).toBe(403);

    const { cookie } = await signInByMailedLink(testApp, voiceking, email);
    const download = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/data`,
      headers: { cookie },
    });
    expect(download.statusCode).toBe(200);
    const report = download.json<AccessReport>();
    const today = new Date().toISOString().slice(0, 10);
    const staffLines = report.consultations.filter((item) => item.by === 'staff');
    expect(staffLines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          by: 'staff',
          role: 'sales',
          roleLabel: expect.any(String) as string,
          purpose: 'order_processing',
          action: 'write',
          decision: 'allowed',
          times: 1,
        }),
        expect.objectContaining({
          role: 'sales',
          purpose: 'order_processing',
          action: 'read',
          decision: 'allowed',
          times: 2,
        }),
        expect.objectContaining({
          role: 'billing',
          purpose: 'call_billing',
          action: 'read',
          decision: 'denied',
          times: 1,
        }),
      ]),
    );
    // Dated by day; the newest first.
    const dates = report.consultations.map((item) => item.date);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(Math.abs(Date.parse(dates[0] ?? '') - Date.parse(today))).toBeLessThanOrEqual(86_400_000);
    // Staff by role only: neither a staff id nor an actor field.
    for (const line of report.consultations) {
      expect(Object.keys(line).sort()).toEqual(
        ['action', 'by', 'date', 'decision', 'purpose', 'purposeLabel', 'role', 'roleLabel', 'times'].sort(),
      );
    }

    const page = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-data?lang=en`,
      headers: { cookie },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Who consulted your data');
    expect(page.body).toMatch(/a member of staff \([^)]+\), read: refused — [^(]+\(once\)/);
    expect(page.body).toMatch(/a member of staff \([^)]+\), read — [^(]+\(2 times\)/);
  });
});

describe('"my data" in the person\'s words (attack S20-5, decision 0924)', () => {
  it('S20-5: a French customer reads their consent by phone with French column names, the purpose by its label, the event and channel in words and a Brussels moment', async () => {
    const { app, kernel, voiceking } = testApp;
    const email = 'camille.dubois@example.be';
    const person = await createPerson(
      kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      { subjectType: 'customer', familyName: 'Dubois', givenName: 'Camille', email, preferredLanguage: 'fr' },
    );
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const consent = await requestAs(app, sales, 'interest_profiles')(
      'POST',
      `/api/v1/people/${person.subjectId}/consents`,
      {
        event: 'given',
        channel: 'staff_phone',
        wording: { language: 'fr', text: 'Pouvons-nous utiliser vos clics pour un profil d’intérêts ?' },
        statement: 'Oui, c’est d’accord.',
      },
    );
    expect(consent.statusCode, consent.body).toBe(201);
    const cookie = (await signInByMailedLink(testApp, voiceking, email)).cookie;
    const page = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/my-data/consent_records?lang=fr`,
      headers: { cookie },
    });
    expect(page.statusCode).toBe(200);
    const headers = [...page.body.matchAll(/<th scope="col">([^<]*)<\/th>/g)].map((match) =>
      match[1]?.trim(),
    );
    expect(headers).toEqual([
      'Consentement pour',
      'Ce que vous avez décidé',
      'Comment',
      'Quand',
      'Version de la déclaration de confidentialité',
      'Ce qui vous a été montré ou lu',
    ]);
    const cells = [...page.body.matchAll(/<td>([^<]*)<\/td>/g)].map((match) => match[1]?.trim());
    expect(cells).toContain('établir des profils d&#39;intérêts à des fins publicitaires');
    expect(cells).toContain('consentement donné');
    expect(cells).toContain('par téléphone, à un collaborateur');
    for (const code of ['interest_profiles', 'given', 'staff_phone']) expect(cells, code).not.toContain(code);
    // The moment on the Brussels clock, never an ISO UTC timestamp.
    expect(page.body).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    expect(cells.some((cell) => /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/.test(cell ?? ''))).toBe(true);
  });
});
