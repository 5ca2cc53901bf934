import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { dunningJob } from '../../jobs/dunning.job.js';
import type { Kernel } from '../../kernel/kernel.js';
import { addDays } from '../../platform/calendar.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import {
  billingContext,
  contractPurpose,
  prepareTenant,
  SYSTEM,
  startContract,
} from './billing.test-helpers.js';
import { listInvoices, runInvoices, type InvoiceSummary } from './index.js';

/*
 * Dunning across a month and a half on an injected clock (issue 22, decision 0300): the daily job
 * runs once a day, mails go to a real SMTP server, staff act over HTTP.
 */

const clock = fixedClock(new Date('2026-07-01T08:00:00Z'));
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let tenant: Tenant;

interface Customer {
  email: string;
  invoice: InvoiceSummary;
}
const customers: Record<'an' | 'benoit' | 'chris' | 'dirk', Customer> = {} as never;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  smtp = await startSmtpSink();
  app = await createTestApp(kernel, { mailer: smtp.mailer });
  tenant = await createPolicyTenant(kernel, 'voiceking');
  const catalogue = await prepareTenant(kernel, tenant);
  const people = [
    ['an', 'An', 'Peeters', 'nl'],
    ['benoit', 'Benoît', 'Dubois', 'fr'],
    ['chris', 'Chris', 'Smith', 'en'],
    ['dirk', 'Dirk', 'Maes', 'nl'],
  ] as const;
  const subjects = new Map<number, { key: keyof typeof customers; email: string }>();
  for (const [key, given, family, language] of people) {
    const email = `${key}@mail.example`;
    const person = await createPerson(
      kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose: contractPurpose(tenant) },
      {
        subjectType: 'customer',
        givenName: given,
        familyName: family,
        email,
        preferredLanguage: language,
        address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
      },
    );
    await startContract(kernel, tenant, person.subjectId, {
      startDate: '2026-06-01',
      lines: [{ productId: catalogue.subscription }],
    });
    subjects.set(person.subjectId, { key, email });
  }
  // June is billed on 1 July: due 31 July (30 days).
  await runInvoices(kernel, billingContext(tenant), {
    period: '2026-06',
    issueDate: '2026-07-01',
    callsPurpose: 'call_billing',
  });
  const invoices = await listInvoices(kernel, billingContext(tenant), { limit: 10, period: '2026-06' });
  for (const invoice of invoices.items) {
    const customer = subjects.get(invoice.subjectId ?? 0);
    if (customer) customers[customer.key] = { email: customer.email, invoice };
  }
}, 120_000);
afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

const job = () =>
  dunningJob({ kernel, mailer: smtp.mailer, publicUrl: 'http://localhost', logger: testLogger });

/** A billing clerk's request on the clock's day (a fresh login: sessions expire with the clock). */
async function asBilling(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  payload?: string | Record<string, unknown>,
  contentType?: string,
) {
  const session = await loginAs(app, kernel, tenant, 'billing');
  return app.inject({
    method,
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      'x-kluis-purpose': 'billing',
      ...(contentType ? { 'content-type': contentType } : {}),
    },
    ...(payload === undefined ? {} : { payload }),
  });
}

/** The days (Brussels) on which each customer got a mail, over a run of days. */
const arrivals: Record<string, string[]> = {};

async function runDaysUntil(last: string, onDay: (day: string) => Promise<void> = () => Promise.resolve()) {
  let day = clock.now().toISOString().slice(0, 10);
  while (day <= last) {
    clock.set(new Date(`${day}T08:30:00Z`));
    await onDay(day);
    const before = new Map(Object.entries(customers).map(([key, c]) => [key, smtp.to(c.email).length]));
    await job().run();
    for (const [key, c] of Object.entries(customers)) {
      const added = smtp.to(c.email).length - (before.get(key) ?? 0);
      for (let n = 0; n < added; n += 1) (arrivals[key] ??= []).push(day);
    }
    day = addDays(day, 1);
  }
}

describe('dunning (issue 22)', () => {
  it('VX-3: across a month on an injected clock, overdue invoices get a first reminder, a second and a formal notice in the customer’s language, by mail; payment in full and a dispute stop them; staff hand one over for collection', async () => {
    const { an, benoit, chris, dirk } = customers;
    const settings = await asBilling('GET', '/api/v1/billing/settings');
    expect(settings.json()).toMatchObject({
      reminders: { enabled: true, firstReminderDays: 14, secondReminderDays: 28, formalNoticeDays: 42 },
    });

    await runDaysUntil('2026-09-30', async (day) => {
      if (day === '2026-08-17') {
        // Benoît pays in full, Dirk a part, after the first reminder.
        const statement = [
          'date;amount;communication;reference',
          `2026-08-16;18,15;${benoit.invoice.structuredCommunication};BANK-B`,
          `2026-08-16;10,00;${dirk.invoice.structuredCommunication};BANK-D`,
        ].join('\n');
        const imported = await asBilling('POST', '/api/v1/payments/import', statement, 'text/csv');
        expect(imported.statusCode, imported.body).toBe(200);
        expect(imported.json()).toMatchObject({ matched: 2 });
      }
      if (day === '2026-08-20') {
        const disputed = await asBilling('POST', `/api/v1/invoices/${chris.invoice.invoiceId}/dispute`, {
          reason: 'Contests the June subscription: line was not yet delivered.',
        });
        expect(disputed.statusCode, disputed.body).toBe(201);
      }
    });

    // Due 31 July: 14, 28 and 42 days after it. Nothing before, nothing twice, nothing after.
    expect(arrivals.an).toEqual(['2026-08-14', '2026-08-28', '2026-09-11']);
    expect(arrivals.dirk).toEqual(['2026-08-14', '2026-08-28', '2026-09-11']);
    expect(arrivals.benoit).toEqual(['2026-08-14']);
    expect(arrivals.chris).toEqual(['2026-08-14']);

    // In the customer's language, with what to pay, where, with which communication, by when.
    const [first, second, notice] = smtp.to(an.email);
    expect(first?.subject).toBe(`Herinnering: factuur ${an.invoice.invoiceNumber} is nog niet betaald`);
    expect(first?.text).toContain('Beste An Peeters,');
    expect(first?.text).toContain('Openstaand bedrag: € 18,15');
    expect(first?.text).toContain('Rekening: BE68 5390 0754 7034 (BIC GKCCBEBB)');
    expect(first?.text).toMatch(/Gestructureerde mededeling: \+\+\+\d{3}\/\d{4}\/\d{5}\+\+\+/);
    expect(first?.text).toContain('uiterlijk op 27 augustus 2026');
    expect(first?.text).toContain('neem dan contact met ons op (info@voiceking.be)');
    expect(first?.from?.text).toContain('VoiceKing');
    expect(first?.messageId).toMatch(/^<letter\.[0-9a-f-]{36}@localhost>$/);
    expect(second?.subject).toBe(
      `Tweede herinnering: factuur ${an.invoice.invoiceNumber} is nog niet betaald`,
    );
    expect(second?.text).toContain('uiterlijk op 10 september 2026');
    expect(notice?.subject).toBe(`Ingebrekestelling: factuur ${an.invoice.invoiceNumber}`);
    expect(notice?.text).toContain('formeel in gebreke');
    expect(notice?.text).toContain('uiterlijk op 26 september 2026');
    expect(smtp.to(benoit.email)[0]?.subject).toBe(
      `Rappel : la facture ${benoit.invoice.invoiceNumber} n'est pas encore payée`,
    );
    expect(smtp.to(benoit.email)[0]?.text).toContain('au plus tard le 27 août 2026');
    expect(smtp.to(benoit.email)[0]?.text).toContain('Montant dû : € 18,15');
    expect(smtp.to(chris.email)[0]?.subject).toBe(
      `Reminder: invoice ${chris.invoice.invoiceNumber} has not been paid yet`,
    );
    // A part payment lowers what the next letters ask.
    expect(smtp.to(dirk.email)[0]?.text).toContain('€ 18,15');
    expect(smtp.to(dirk.email)[1]?.text).toContain('Openstaand bedrag: € 8,15');

    // The reminders of an invoice, over HTTP.
    const listed = await asBilling('GET', `/api/v1/invoices/${an.invoice.invoiceId}/reminders`);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json()).toMatchObject({
      invoiceNumber: an.invoice.invoiceNumber,
      status: 'overdue',
      balanceCents: 1815,
      disputed: false,
      sentForCollectionAt: null,
      reminders: [
        { level: 1, kind: 'first_reminder', sentOn: '2026-08-14', payBy: '2026-08-27', mailed: true },
        { level: 2, kind: 'second_reminder', sentOn: '2026-08-28', payBy: '2026-09-10', mailed: true },
        { level: 3, kind: 'formal_notice', sentOn: '2026-09-11', payBy: '2026-09-26', mailed: true },
      ],
    });
    const chrisList = await asBilling('GET', `/api/v1/invoices/${chris.invoice.invoiceId}/reminders`);
    expect(chrisList.json()).toMatchObject({ disputed: true, reminders: [{ level: 1 }] });

    // After the formal notice, the invoice goes to collection, once; not before a formal notice.
    const handed = await asBilling('POST', `/api/v1/invoices/${an.invoice.invoiceId}/collection`);
    expect(handed.statusCode, handed.body).toBe(201);
    expect(handed.json()).toMatchObject({ invoiceNumber: an.invoice.invoiceNumber });
    expect((await asBilling('POST', `/api/v1/invoices/${an.invoice.invoiceId}/collection`)).statusCode).toBe(
      409,
    );
    const tooEarly = await asBilling('POST', `/api/v1/invoices/${chris.invoice.invoiceId}/collection`);
    expect(tooEarly.statusCode).toBe(409);
    expect(tooEarly.json<{ detail: string }>().detail).toContain('no formal notice');
    const listedAfter = await asBilling('GET', `/api/v1/invoices/${an.invoice.invoiceId}/reminders`);
    expect(listedAfter.json<{ sentForCollectionAt: string | null }>().sentForCollectionAt).toBe(
      '2026-09-30T08:30:00.000Z',
    );

    // Another run on the same day writes and sends nothing; every level is one row with its letter.
    await job().run();
    const levels = await runAsOwner<{ n: string }>(
      database.ownerUrl,
      'select count(*) as n from invoice_reminders where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(Number(levels.rows[0]?.n)).toBe(8);
    expect(smtp.messages).toHaveLength(8);
    const letters = await runAsOwner<{ kind: string; state: string; sealed: boolean }>(
      database.ownerUrl,
      `select l.kind, l.state, l.sealed is not null as sealed from sealed_letters l
         join invoice_reminders r on r.tenant_id = l.tenant_id and r.letter_id = l.letter_id
        where l.tenant_id = $1 order by l.kind`,
      [tenant.tenantId],
    );
    expect(letters.rows.map((row) => `${row.kind}:${row.state}:${row.sealed}`)).toEqual([
      ...Array<string>(4).fill('billing.reminder.1:sent:false'),
      ...Array<string>(2).fill('billing.reminder.2:sent:false'),
      ...Array<string>(2).fill('billing.reminder.3:sent:false'),
    ]);
  }, 600_000);

  it('the schedule is the billing settings’: a bad one is refused and changes nothing; off, nobody is reminded', async () => {
    const bad = await asBilling('PUT', '/api/v1/billing/settings', {
      payeeIban: 'BE68 5390 0754 7034',
      reminders: { enabled: true, firstReminderDays: 28, secondReminderDays: 14, formalNoticeDays: 42 },
    });
    expect(bad.statusCode).toBe(400);
    const off = await asBilling('PUT', '/api/v1/billing/settings', {
      payeeIban: 'BE68 5390 0754 7034',
      reminders: { enabled: false, firstReminderDays: 7, secondReminderDays: 21, formalNoticeDays: 35 },
    });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json()).toMatchObject({ reminders: { enabled: false, firstReminderDays: 7 } });
    // Without the schedule, a PUT keeps the stored one.
    const kept = await asBilling('PUT', '/api/v1/billing/settings', { payeeIban: 'BE68 5390 0754 7034' });
    expect(kept.json()).toMatchObject({ reminders: { enabled: false, firstReminderDays: 7 } });
    const sent = smtp.messages.length;
    clock.set(new Date('2026-12-01T08:30:00Z'));
    await job().run();
    expect(smtp.messages).toHaveLength(sent);
  });
});
