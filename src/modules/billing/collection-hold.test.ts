import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, testLogger } from '../../../test/database.js';
import { dunningJob } from '../../jobs/dunning.job.js';
import { loginAs, requestAs } from '../../../test/http.js';
import { fixedClock } from '../../../test/kernel.js';
import { signInByMailedLink, startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { addDays } from '../../platform/calendar.js';
import { createPerson } from '../parties/index.js';
import {
  billingContext,
  contractPurpose,
  prepareTenant,
  SYSTEM,
  startContract,
} from './billing.test-helpers.js';
import { runInvoices } from './index.js';

/*
 * An invoice handed over for collection is a legal claim in progress (GDPR Art. 17(3)(e)): while
 * the hand-over is open its customer is not erased, by staff or by their own "erase my account"
 * (decision 0465, like an open dispute under decision 0415). Paid in full, or closed by staff, the
 * erasure runs.
 */

const PUBLIC = 'https://portal.voiceking.example';
const clock = fixedClock(new Date('2026-01-15T10:00:00Z'));
let testApp: MailingTestApp;

interface Debtor {
  subjectId: number;
  email: string;
  invoiceId: number;
  totalCents: number;
  communication: string;
}
const debtors: Record<'staffErased' | 'selfErased', Debtor> = {} as never;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC, clock });
  const { kernel, voiceking, database } = testApp;
  const catalogue = await prepareTenant(kernel, voiceking);
  const people = [
    ['staffErased', 'Inning', 'Jan', 'nl'],
    ['selfErased', 'Recouvrement', 'Julie', 'fr'],
  ] as const;
  for (const [key, family, given, language] of people) {
    const email = `${given.toLowerCase()}.${family.toLowerCase()}@mail.example`;
    const person = await createPerson(
      kernel,
      { tenantId: voiceking.tenantId, actor: SYSTEM, purpose: contractPurpose(voiceking) },
      {
        subjectType: 'customer',
        familyName: family,
        givenName: given,
        email,
        preferredLanguage: language,
        address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
      },
    );
    await startContract(kernel, voiceking, person.subjectId, {
      startDate: '2026-01-01',
      // January only: a contract that still runs keeps its holder from erasure (decision 0940).
      endDate: '2026-01-31',
      lines: [{ productId: catalogue.subscription }],
    });
    debtors[key] = { subjectId: person.subjectId, email, invoiceId: 0, totalCents: 0, communication: '' };
  }
  clock.set(new Date('2026-02-03T10:00:00Z'));
  await runInvoices(kernel, billingContext(voiceking), {
    period: '2026-01',
    issueDate: '2026-02-03',
    callsPurpose: 'call_billing',
  });
  let due = '';
  for (const debtor of Object.values(debtors)) {
    const row = (
      await runAsOwner<{ invoice_id: number; total: number; communication: string; due: string }>(
        database.ownerUrl,
        `select invoice_id, total_incl_vat_cents::int as total, structured_communication as communication,
                due_date::text as due
           from invoices where tenant_id = $1 and subject_id = $2 and kind = 'invoice'`,
        [voiceking.tenantId, debtor.subjectId],
      )
    ).rows[0];
    expect(row).toBeDefined();
    Object.assign(debtor, {
      invoiceId: row?.invoice_id,
      totalCents: row?.total,
      communication: row?.communication,
    });
    due = row?.due ?? '';
  }
  // Both stay unpaid: first reminder, second and formal notice (14, 28, 42 days after the due date).
  for (const days of [14, 28, 42]) {
    clock.set(new Date(`${addDays(due, days)}T08:30:00Z`));
    await dunningJob({ kernel, mailer: testApp.smtp.mailer, publicUrl: PUBLIC, logger: testLogger }).run();
  }
  clock.set(new Date(`${addDays(due, 45)}T10:00:00Z`));
}, 120_000);
afterAll(async () => {
  await testApp?.close();
});

async function asBilling(method: 'GET' | 'POST', url: string, payload?: unknown) {
  const { app, kernel, voiceking } = testApp;
  return requestAs(app, await loginAs(app, kernel, voiceking, 'billing'), 'billing')(method, url, payload);
}

/** The person, their hand-over and their erasure requests, as the database holds them. */
async function stateOf(debtor: Debtor) {
  const { database, voiceking } = testApp;
  return (
    await runAsOwner<{ person: boolean; open: number; requests: number; linked: boolean }>(
      database.ownerUrl,
      `select exists (select 1 from people where tenant_id = $1 and subject_id = $2) as person,
              (select count(*)::int from invoice_collections
                where tenant_id = $1 and subject_id = $2 and closed_at is null) as open,
              (select count(*)::int from rights_requests where tenant_id = $1 and subject_id = $2) as requests,
              exists (select 1 from invoice_collections where tenant_id = $1 and invoice_id = $3
                and subject_id = $2) as linked`,
      [voiceking.tenantId, debtor.subjectId, debtor.invoiceId],
    )
  ).rows[0];
}

describe('a hand-over for collection holds its customer from erasure (decision 0465)', () => {
  it('VK-23: a DELETE of a customer whose invoice is handed over for collection answers 409 erasure_held naming the kind collection and changes nothing; paid in full, the hand-over closes by itself and the erasure runs', async () => {
    const { app, kernel, voiceking } = testApp;
    const debtor = debtors.staffErased;
    const notYet = await asBilling('POST', `/api/v1/invoices/${debtor.invoiceId}/collection/close`);
    expect(notYet.statusCode, notYet.body).toBe(409);
    expect(notYet.json<{ detail: string }>().detail).toContain('was not handed over');
    const handed = await asBilling('POST', `/api/v1/invoices/${debtor.invoiceId}/collection`);
    expect(handed.statusCode, handed.body).toBe(201);
    expect(await stateOf(debtor)).toEqual({ person: true, open: 1, requests: 0, linked: true });

    const officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const erase = () =>
      requestAs(app, officer, 'rights_requests')('DELETE', `/api/v1/people/${debtor.subjectId}`, {});
    const refused = await erase();
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'erasure_held',
      details: { holds: [{ kind: 'collection', endsOn: null }] },
    });
    expect(refused.json<{ detail: string }>().detail).toContain('collection until it is closed');
    expect(await stateOf(debtor)).toEqual({ person: true, open: 1, requests: 0, linked: true });
    const key = await runAsOwner<{ live: boolean }>(
      testApp.database.keystoreOwnerUrl,
      "select wrapped is not null as live from data_keys where tenant_id = $1 and owner_kind = 'subject' and owner_ref = $2",
      [voiceking.tenantId, String(debtor.subjectId)],
    );
    expect(key.rows[0]?.live).toBe(true);
    const open = await asBilling('GET', `/api/v1/invoices/${debtor.invoiceId}/reminders`);
    expect(open.json()).toMatchObject({ collectionClosedAt: null, collectionClosedBecause: null });
    expect(open.json<{ sentForCollectionAt: string | null }>().sentForCollectionAt).not.toBeNull();

    // The debtor pays the whole invoice: the payment that settles it closes the hand-over.
    const day = clock.now().toISOString().slice(0, 10);
    const statement = [
      'date;amount;communication;reference',
      `${day};${(debtor.totalCents / 100).toFixed(2)};${debtor.communication};BANK-INNING`,
    ].join('\n');
    const clerk = await loginAs(app, kernel, voiceking, 'billing');
    const imported = await app.inject({
      method: 'POST',
      url: '/api/v1/payments/import',
      headers: {
        cookie: clerk.cookie,
        'x-csrf-token': clerk.csrfToken,
        'x-kluis-purpose': 'billing',
        'content-type': 'text/csv',
      },
      payload: statement,
    });
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toMatchObject({ matched: 1 });
    const closed = await asBilling('GET', `/api/v1/invoices/${debtor.invoiceId}/reminders`);
    expect(closed.json()).toMatchObject({
      status: 'paid',
      collectionClosedAt: clock.now().toISOString(),
      collectionClosedBecause: 'paid',
    });
    // Closing a closed hand-over answers it as it stands.
    const again = await asBilling('POST', `/api/v1/invoices/${debtor.invoiceId}/collection/close`);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ collectionClosedBecause: 'paid' });

    const erased = await erase();
    expect(erased.statusCode, erased.body).toBe(200);
    expect(await stateOf(debtor)).toMatchObject({ person: false, open: 0 });
  });

  it('VK-23: "erase my account" of a customer whose invoice is handed over for collection says in their language that their data are kept until it is paid or closed, shows no form; a post answers 409, files nothing and erases nothing; closed by staff (idempotent), the erasure runs', async () => {
    const { app } = testApp;
    const debtor = debtors.selfErased;
    const handed = await asBilling('POST', `/api/v1/invoices/${debtor.invoiceId}/collection`);
    expect(handed.statusCode, handed.body).toBe(201);

    // The first reminder, the second and the formal notice reached the address: the link is the fourth mail.
    await testApp.smtp.waitFor(debtor.email, 3);
    const session = await signInByMailedLink(testApp, testApp.voiceking, debtor.email, 4);
    const slug = testApp.voiceking.slug;
    const erasePage = (lang: string) =>
      app.inject({
        method: 'GET',
        url: `/t/${slug}/account/erase?lang=${lang}`,
        headers: { cookie: session.cookie },
      });
    const french = await erasePage('fr');
    expect(french.statusCode).toBe(200);
    expect(french.body).toContain('conservées pour une action en justice');
    expect(french.body).toContain('confiée au recouvrement soit payée ou son recouvrement clôturé');
    expect(french.body).not.toContain('name="confirm"');
    expect((await erasePage('nl')).body).toContain('voor inning uit handen gaven, betaald of afgesloten is');
    expect((await erasePage('en')).body).toContain(
      'kept for a legal claim (GDPR Art. 17(3)(e)) until the unpaid invoice we handed over for collection is paid or its collection is closed',
    );

    const post = () =>
      app.inject({
        method: 'POST',
        url: `/t/${slug}/account/erase`,
        headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `csrf=${encodeURIComponent(session.csrf)}&confirm=yes`,
      });
    const refused = await post();
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('recouvrement');
    expect(await stateOf(debtor)).toEqual({ person: true, open: 1, requests: 0, linked: true });

    const closed = await asBilling('POST', `/api/v1/invoices/${debtor.invoiceId}/collection/close`);
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json()).toMatchObject({
      invoiceId: debtor.invoiceId,
      collectionClosedAt: clock.now().toISOString(),
      collectionClosedBecause: 'staff',
    });
    const again = await asBilling('POST', `/api/v1/invoices/${debtor.invoiceId}/collection/close`);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toEqual(closed.json());
    const listed = await asBilling('GET', `/api/v1/invoices/${debtor.invoiceId}/reminders`);
    expect(listed.json()).toMatchObject({ status: 'overdue', collectionClosedBecause: 'staff' });

    const erased = await post();
    expect(erased.statusCode, erased.body).toBe(303);
    expect(await stateOf(debtor)).toMatchObject({ person: false, open: 0 });
  });
});
