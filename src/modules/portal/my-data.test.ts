import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
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
