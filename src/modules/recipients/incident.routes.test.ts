import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { breachClockJob } from '../../jobs/breach-clock.job.js';
import { kernelCore, type Kernel } from '../../kernel/kernel.js';
import { deliverLetters } from '../../kernel/letters/index.js';
import { startJobQueue } from '../../platform/job-queue.js';
import { createMailer, type Mailer } from '../../platform/mailer.js';
import { createTenant, type Tenant } from '../tenants/index.js';
import type { Incident } from './incident.service.js';
import { createCustomer, staffCall } from './recipients.test-helpers.js';

const HOUR = 3_600_000;
/** What happened, as the officer writes it for the letters and the notification (decision 0895). */
const WHAT_HAPPENED =
  'Op 23 november werd een laptop gestolen uit een bedrijfswagen; er stond een export van de klantenlijst op.';
const T0 = new Date('2026-11-24T09:00:00Z');
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
const clock = fixedClock(T0);

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  smtp = await startSmtpSink();
  app = await createTestApp(kernel, { mailer: smtp.mailer });
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

/** A mailer whose relay is down: an address where nothing listens (a port just freed). */
async function smtpDown(): Promise<Mailer> {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return createMailer({
    smtpUrl: `smtp://127.0.0.1:${port}`,
    delivers: false,
    from: 'privacy@kluis.test',
    outboxDir: '/nonexistent',
    logger: testLogger,
  });
}

interface Desk {
  tenant: Tenant;
  officer: StaffSession;
  technician: StaffSession;
}

async function desk(policy: 'voiceking' | 'voxtra' = 'voiceking'): Promise<Desk> {
  const tenant = await createPolicyTenant(kernel, policy);
  return {
    tenant,
    officer: await loginAs(app, kernel, tenant, 'privacy_officer'),
    technician: await loginAs(app, kernel, tenant, 'technician'),
  };
}

const reportForm = (tenant: Tenant, payload: unknown, ip = '198.51.100.7') =>
  app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/privacy/incident-reports`,
    payload: payload as Record<string, unknown>,
    remoteAddress: ip,
  });

/** A breach reported by a technician and assessed by the officer at `at` (the clock's now). */
async function breach(d: Desk, assessment: Record<string, unknown> = {}): Promise<number> {
  const reported = await staffCall(app, d.technician, 'POST', '/api/v1/incidents', {
    payload: {
      kind: 'breach',
      description: 'Een laptop met een export van de klantenlijst is gestolen uit een bedrijfswagen.',
    },
  });
  expect(reported.statusCode).toBe(201);
  const { incidentId } = reported.json<{ incidentId: number }>();
  const assessed = await staffCall(app, d.officer, 'POST', `/api/v1/incidents/${incidentId}/assessment`, {
    payload: {
      isBreach: true,
      affectedCategories: ['user.name', 'user.contact.email'],
      affectedTables: ['people'],
      risk: 'high',
      riskAssessment: 'Phishing in onze naam is mogelijk; de schijf was niet versleuteld.',
      measures: 'Aangifte bij de politie, wachtwoorden van de portaalaccounts teruggezet.',
      whatHappened: WHAT_HAPPENED,
      ...assessment,
    },
  });
  expect(assessed.statusCode).toBe(200);
  return incidentId;
}

const reminders = (address: string): number => smtp.to(address).length;

describe('reports of misuse or insecurity (VK-9)', () => {
  it('VK-9: a report from the public form lands in the register, the answer is the same for everyone, and the form is limited per address', async () => {
    const d = await desk();
    const first = await reportForm(d.tenant, {
      kind: 'misuse',
      description: 'Ik kreeg een e-mail in naam van VoiceKing die om mijn wachtwoord vroeg.',
    });
    expect(first.statusCode).toBe(202);
    const rows = await runAsOwner<{ kind: string; source: string; description: string }>(
      database.ownerUrl,
      'select kind, source, description from incidents where tenant_id = $1',
      [d.tenant.tenantId],
    );
    expect(rows.rows).toEqual([
      {
        kind: 'misuse',
        source: 'public_form',
        description: 'Ik kreeg een e-mail in naam van VoiceKing die om mijn wachtwoord vroeg.',
      },
    ]);
    const again = await reportForm(d.tenant, {
      kind: 'insecurity',
      description: 'Uw portaal toont geen slotje in de browser.',
    });
    expect(again.json()).toEqual(first.json());
    // VK-16: a national register number typed in the report is refused, nothing stored.
    const sensitive = await reportForm(d.tenant, {
      kind: 'misuse',
      description: 'Mijn rijksregisternummer 85.07.30-033.28 werd misbruikt.',
    });
    expect(sensitive.statusCode).toBe(422);
    expect(sensitive.body).not.toContain('85.07.30');
    expect((await reportForm(d.tenant, { kind: 'misuse', description: 'kort' })).statusCode).toBe(400);
    // Five valid reports an hour per address; another address still gets through.
    for (let index = 0; index < 3; index += 1)
      expect(
        (
          await reportForm(d.tenant, {
            kind: 'misuse',
            description: `Verdachte sms nummer ${index} ontvangen.`,
          })
        ).statusCode,
      ).toBe(202);
    const limited = await reportForm(d.tenant, {
      kind: 'misuse',
      description: 'Nog een verdachte sms ontvangen.',
    });
    expect(limited.statusCode).toBe(429);
    expect(
      (
        await reportForm(
          d.tenant,
          { kind: 'misuse', description: 'Verdachte oproep ontvangen.' },
          '203.0.113.9',
        )
      ).statusCode,
    ).toBe(202);
    const count = await runAsOwner(database.ownerUrl, 'select 1 from incidents where tenant_id = $1', [
      d.tenant.tenantId,
    ]);
    expect(count.rowCount).toBe(6);
    // Only the incident role keeps the register; other staff may report, not read.
    const list = await staffCall(app, d.officer, 'GET', '/api/v1/incidents');
    expect(list.json<{ items: unknown[] }>().items).toHaveLength(6);
    const technicianList = await staffCall(app, d.technician, 'GET', '/api/v1/incidents');
    expect(technicianList.statusCode).toBe(403);
  });
});

describe('a personal-data breach on the 72-hour clock (VK-9, GDPR Art. 33)', () => {
  it('VK-9: the clock, the reminders to the privacy contact (real SMTP) and the authority draft follow the clock across the 72 hours', async () => {
    clock.set(T0);
    const d = await desk();
    const affected = [
      await createCustomer(kernel, d.tenant, 'order_processing'),
      await createCustomer(kernel, d.tenant, 'order_processing'),
    ];
    const incidentId = await breach(d);
    const contact = 'info@voiceking.be';
    const incident = (await staffCall(app, d.officer, 'GET', `/api/v1/incidents/${incidentId}`)).json<{
      awareAt: string;
      deadline: string;
      affectedCount: number;
    }>();
    expect(incident.awareAt).toBe(T0.toISOString());
    expect(incident.deadline).toBe(new Date(T0.getTime() + 72 * HOUR).toISOString());
    expect(incident.affectedCount).toBe(affected.length);
    const stored = await runAsOwner<{ subject_id: string }>(
      database.ownerUrl,
      'select subject_id from incident_subjects where tenant_id = $1 order by subject_id',
      [d.tenant.tenantId],
    );
    expect(stored.rows.map((row) => Number(row.subject_id))).toEqual(
      affected.map((person) => person.subjectId),
    );

    // The first reminder goes through the real job queue (pg-boss) at once.
    const job = breachClockJob({ kernel, mailer: smtp.mailer, publicUrl: 'https://kluis.test' }, testLogger);
    const queue = await startJobQueue({
      connectionString: database.ownerUrl,
      logger: testLogger,
      pollingIntervalSeconds: 0.5,
    });
    try {
      await queue.register(job);
      await queue.runNow(job.name);
      await smtp.waitFor(contact, 1);
      await queue.drain(job.name);
    } finally {
      await queue.stop();
    }
    expect(smtp.to(contact).at(-1)?.subject).toBe(
      `Incident ${incidentId}: nog 72 uur om de inbreuk te melden (GDPR art. 33)`,
    );

    const expected: Array<[number, string | null]> = [
      [1, null],
      [23, null],
      [24, 'nog 48 uur om de inbreuk te melden'],
      [30, null],
      [48, 'nog 24 uur om de inbreuk te melden'],
      [60, 'nog 12 uur om de inbreuk te melden'],
      [68, 'nog 4 uur om de inbreuk te melden'],
      [71, null],
      [72, 'de meldingstermijn is nu verstreken'],
      [95, null],
      [96, 'de meldingstermijn is 24 uur verstreken'],
    ];
    for (const [hours, subject] of expected) {
      clock.set(new Date(T0.getTime() + hours * HOUR));
      const before = reminders(contact);
      // Two runs at the same moment (two processes) send one reminder.
      await Promise.all([job.run(), job.run()]);
      if (subject === null) expect(reminders(contact), `${hours} h`).toBe(before);
      else {
        const mail = await smtp.waitFor(contact, before + 1);
        expect(mail.subject, `${hours} h`).toBe(`Incident ${incidentId}: ${subject} (GDPR art. 33)`);
        expect(reminders(contact)).toBe(before + 1);
      }
      // Staff sessions expire as the injected clock moves on: the officer logs in again.
      if (hours === 24 || hours === 96) d.officer = await loginAs(app, kernel, d.tenant, 'privacy_officer');
      if (hours === 24) {
        const draft = await staffCall(
          app,
          d.officer,
          'GET',
          `/api/v1/incidents/${incidentId}/notification-draft`,
        );
        expect(draft.statusCode).toBe(200);
        const body = draft.json<{ language: string; hoursLeft: number; text: string; deadline: string }>();
        expect(body.language).toBe('nl');
        expect(body.hoursLeft).toBe(48);
        expect(body.deadline).toBe(incident.deadline);
        for (const part of [
          'Aan: Gegevensbeschermingsautoriteit (GBA)',
          'Verwerkingsverantwoordelijke: VoiceKing CVBA, BE0653.989.638',
          'a) Aard van de inbreuk',
          WHAT_HAPPENED,
          'Categorieën van betrokkenen: klanten',
          'Geschat aantal betrokkenen: 2',
          'Categorieën van persoonsgegevens: naam en voornaam, e-mailadres',
          'b) Functionaris voor gegevensbescherming of ander contactpunt',
          'info@voiceking.be, 0800 82 027',
          'c) Waarschijnlijke gevolgen van de inbreuk',
          'hoog risico: Phishing in onze naam is mogelijk',
          'd) Genomen of voorgestelde maatregelen',
        ])
          expect(body.text).toContain(part);
        expect(body.text).not.toContain('vertraging');
        const french = await staffCall(
          app,
          d.officer,
          'GET',
          `/api/v1/incidents/${incidentId}/notification-draft?lang=fr`,
        );
        expect(french.json<{ text: string }>().text).toContain('a) Nature de la violation');
        expect(french.json<{ text: string }>().text).toContain('Autorité de protection des données (APD)');
      }
      if (hours === 96) {
        const late = await staffCall(
          app,
          d.officer,
          'GET',
          `/api/v1/incidents/${incidentId}/notification-draft`,
        );
        expect(late.json<{ hoursLeft: number; text: string }>()).toMatchObject({ hoursLeft: -24 });
        expect(late.json<{ text: string }>().text).toContain('Redenen voor de vertraging (art. 33, lid 1)');
      }
    }
    // Not notified without a reason: refused (Art. 33(5)); notified: the clock stops.
    d.officer = await loginAs(app, kernel, d.tenant, 'privacy_officer');
    d.officer = await loginAs(app, kernel, d.tenant, 'privacy_officer');
    const noReason = await staffCall(
      app,
      d.officer,
      'POST',
      `/api/v1/incidents/${incidentId}/authority-notification`,
      {
        payload: { decision: 'not_notified' },
      },
    );
    expect(noReason.statusCode).toBe(400);
    const notified = await staffCall(
      app,
      d.officer,
      'POST',
      `/api/v1/incidents/${incidentId}/authority-notification`,
      {
        payload: { decision: 'notified' },
      },
    );
    expect(notified.json()).toMatchObject({ authorityDecision: 'notified' });
    clock.set(new Date(T0.getTime() + 120 * HOUR));
    const before = reminders(contact);
    await job.run();
    expect(reminders(contact)).toBe(before);
    clock.set(T0);
  });

  it('VK-9: a reminder whose mail fails (SMTP down) after its step was claimed is sent once SMTP is back, exactly once (decision 0850)', async () => {
    clock.set(T0);
    const d = await desk();
    const incidentId = await breach(d);
    const contact = 'info@voiceking.be';
    const subject = `Incident ${incidentId}: nog 72 uur om de inbreuk te melden (GDPR art. 33)`;
    const sentToThis = () => smtp.to(contact).filter((mail) => mail.subject === subject).length;
    const before = sentToThis();
    const down = await smtpDown();
    const publicUrl = 'https://kluis.test';
    await breachClockJob({ kernel, mailer: down, publicUrl }, testLogger)
      .run()
      .catch(() => undefined);
    expect(sentToThis()).toBe(before);
    const claimed = await runAsOwner<{ last_reminder_hour: number | null }>(
      database.ownerUrl,
      'select last_reminder_hour from incidents where tenant_id = $1 and incident_id = $2',
      [d.tenant.tenantId, incidentId],
    );
    expect(claimed.rows).toEqual([{ last_reminder_hour: 0 }]);

    // SMTP is back, a minute later: the letter sender and two more runs of the clock (two
    // processes) send the claimed reminder once, and no run claims the step again.
    clock.set(new Date(T0.getTime() + 60_000));
    const job = breachClockJob({ kernel, mailer: smtp.mailer, publicUrl }, testLogger);
    await Promise.all([job.run(), job.run(), deliverLetters(kernel, smtp.mailer, [d.tenant.tenantId])]);
    await deliverLetters(kernel, smtp.mailer, [d.tenant.tenantId]);
    expect(sentToThis()).toBe(before + 1);
    const letters = await runAsOwner<{ kind: string; state: string }>(
      database.ownerUrl,
      'select kind, state from sealed_letters where tenant_id = $1',
      [d.tenant.tenantId],
    );
    expect(letters.rows).toEqual([{ kind: 'incident.breach_reminder', state: 'sent' }]);
    clock.set(T0);
  });

  it('VK-9: the persons’ letters are queued with the decision: with SMTP down none is lost and the answer counts them waiting; the letter sender sends each once when SMTP is back; affected staff are informed too, in both seed policies (attack S18-1, decision 0863)', async () => {
    clock.set(T0);
    const down = await smtpDown();
    const appSmtpDown = await createTestApp(kernel, { mailer: down });
    try {
      for (const policy of ['voiceking', 'voxtra'] as const) {
        const d = await desk(policy);
        const purpose = policy === 'voiceking' ? 'order_processing' : 'customer_administration';
        const customer = await createCustomer(kernel, d.tenant, purpose, { givenName: 'Lore' });
        // Every table that keeps an e-mail address: the customers' and the staff accounts'.
        const incidentId = await breach(d, {
          affectedCategories: ['user.contact.email'],
          affectedTables: undefined,
        });
        const breachLetters = () =>
          smtp.messages.filter(
            (mail) =>
              mail.subject?.startsWith('Belangrijk: een inbreuk') &&
              (JSON.stringify(mail.to).includes(customer.email ?? '-') ||
                JSON.stringify(mail.to).includes('@staff.example')),
          ).length;
        const before = breachLetters();
        const path = `/api/v1/incidents/${incidentId}/persons-notification`;
        const answer = await staffCall(appSmtpDown, d.officer, 'POST', path, {
          payload: { decision: 'inform' },
        });
        expect(answer.statusCode, answer.body).toBe(200);
        const counts = answer.json<{
          lettersSent: number;
          lettersWaiting: number;
          lettersWithoutAddress: number;
          personsNotReached: number;
          affectedCount: number;
        }>();
        // The customer and the two staff members signed in (officer, technician), none left out.
        expect(counts).toMatchObject({ lettersSent: 0, lettersWithoutAddress: 0, personsNotReached: 0 });
        expect(counts.lettersWaiting).toBe(counts.affectedCount);
        expect(counts.lettersWaiting).toBeGreaterThanOrEqual(3);
        expect(breachLetters()).toBe(before);
        const denied = await runAsOwner<{ n: number }>(
          database.ownerUrl,
          `select count(*)::int as n from audit_log where tenant_id = $1 and action like 'read denied%'`,
          [d.tenant.tenantId],
        );
        expect(denied.rows[0]?.n).toBe(0);
        // Asked again: nothing to queue twice.
        expect(
          (await staffCall(app, d.officer, 'POST', path, { payload: { decision: 'inform' } })).statusCode,
        ).toBe(409);

        // SMTP back, ten minutes later (past the retry's back-off): two letter senders at once
        // send each letter once.
        clock.set(new Date(T0.getTime() + 10 * 60_000));
        await Promise.all([
          deliverLetters(kernel, smtp.mailer, [d.tenant.tenantId]),
          deliverLetters(kernel, smtp.mailer, [d.tenant.tenantId]),
        ]);
        await deliverLetters(kernel, smtp.mailer, [d.tenant.tenantId]);
        expect(breachLetters()).toBe(before + counts.lettersWaiting);
        expect(smtp.to(customer.email ?? '')).toHaveLength(1);
        const letters = await runAsOwner<{ state: string; n: number }>(
          database.ownerUrl,
          `select state, count(*)::int as n from sealed_letters where tenant_id = $1 and kind = 'incident.person_letter' group by state`,
          [d.tenant.tenantId],
        );
        expect(letters.rows).toEqual([{ state: 'sent', n: counts.lettersWaiting }]);
        clock.set(T0);
      }
    } finally {
      await appSmtpDown.close();
    }
  });

  it('VK-9: a breach that is not notified keeps its reason; the persons affected get a letter in their own language, once', async () => {
    clock.set(T0);
    const d = await desk();
    const dutch = await createCustomer(kernel, d.tenant, 'order_processing', {
      preferredLanguage: 'nl',
      givenName: 'Jan',
    });
    const french = await createCustomer(kernel, d.tenant, 'order_processing', {
      preferredLanguage: 'fr',
      givenName: 'Claire',
    });
    const incidentId = await breach(d, {
      risk: 'none',
      riskAssessment: 'Enkel namen en e-mailadressen, versleuteld; de sleutel is niet gelekt.',
    });
    const reason =
      'De gegevens waren versleuteld en de sleutel is niet gelekt: geen risico voor de betrokkenen.';
    const decided = await staffCall(
      app,
      d.officer,
      'POST',
      `/api/v1/incidents/${incidentId}/authority-notification`,
      {
        payload: { decision: 'not_notified', reason },
      },
    );
    expect(decided.statusCode).toBe(200);
    const kept = await runAsOwner<{ authority_decision: string; authority_reason: string }>(
      database.ownerUrl,
      'select authority_decision, authority_reason from incidents where tenant_id = $1 and incident_id = $2',
      [d.tenant.tenantId, incidentId],
    );
    expect(kept.rows[0]).toEqual({ authority_decision: 'not_notified', authority_reason: reason });
    // Changed without saying why: 400, the decision stands (decision 1070).
    const twice = await staffCall(
      app,
      d.officer,
      'POST',
      `/api/v1/incidents/${incidentId}/authority-notification`,
      {
        payload: { decision: 'notified' },
      },
    );
    expect(twice.statusCode).toBe(400);
    expect(twice.json<{ detail: string }>().detail).toContain('reason');
    expect((await staffCall(app, d.officer, 'GET', `/api/v1/incidents/${incidentId}`)).json()).toMatchObject({
      authorityDecision: 'not_notified',
    });

    const informed = await staffCall(
      app,
      d.officer,
      'POST',
      `/api/v1/incidents/${incidentId}/persons-notification`,
      {
        payload: { decision: 'inform' },
      },
    );
    expect(informed.statusCode).toBe(200);
    expect(informed.json()).toMatchObject({ personsDecision: 'inform', lettersSent: 2 });
    const toDutch = await smtp.waitFor(dutch.email ?? '');
    expect(toDutch.subject).toBe(
      'Belangrijk: een inbreuk in verband met uw persoonsgegevens – VoiceKing CVBA',
    );
    expect(toDutch.text).toContain(`Beste Jan ${dutch.familyName},`);
    expect(toDutch.text).toContain('Gegevensbeschermingsautoriteit (GBA)');
    const toFrench = await smtp.waitFor(french.email ?? '');
    expect(toFrench.subject).toBe(
      'Important : une violation concernant vos données à caractère personnel – VoiceKing CVBA',
    );
    // A second call sends no letter twice.
    const again = await staffCall(
      app,
      d.officer,
      'POST',
      `/api/v1/incidents/${incidentId}/persons-notification`,
      {
        payload: { decision: 'inform' },
      },
    );
    expect(again.statusCode).toBe(409);
    expect(smtp.to(dutch.email ?? '')).toHaveLength(1);
  });

  it('VK-9: the persons notification taken twice at the same moment (a double click) is taken once: one 200, one 409, one letter per person (attack A3)', async () => {
    clock.set(T0);
    const d = await desk();
    const people = await Promise.all(
      ['Anna', 'Bram', 'Cato', 'Dirk'].map((givenName) =>
        createCustomer(kernel, d.tenant, 'order_processing', { preferredLanguage: 'nl', givenName }),
      ),
    );
    const incidentId = await breach(d);
    const inform = () =>
      staffCall(app, d.officer, 'POST', `/api/v1/incidents/${incidentId}/persons-notification`, {
        payload: { decision: 'inform' },
      });
    const answers = await Promise.all([inform(), inform()]);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 409]);
    const first = answers.find((answer) => answer.statusCode === 200);
    expect(first?.json()).toMatchObject({ personsDecision: 'inform', lettersSent: people.length });
    for (const person of people) expect(smtp.to(person.email ?? '')).toHaveLength(1);
    const rows = await runAsOwner<{ n: number; sent: number }>(
      database.ownerUrl,
      'select count(*)::int as n, count(letter_sent_at)::int as sent from incident_subjects where tenant_id = $1 and incident_id = $2',
      [d.tenant.tenantId, incidentId],
    );
    expect(rows.rows[0]).toEqual({ n: people.length, sent: people.length });
    // And afterwards: still 409, still one letter each.
    expect((await inform()).statusCode).toBe(409);
    for (const person of people) expect(smtp.to(person.email ?? '')).toHaveLength(1);
  });

  it("VK-9: the letters to the persons and the Art. 33 draft say what the privacy officer wrote, never the anonymous report's text; a breach is not assessed without it, nor with control or text-direction characters in what happened, the risk or the measures (attack S19-4, decision 0895)", async () => {
    clock.set(T0);
    const d = await desk();
    const customer = await createCustomer(kernel, d.tenant, 'order_processing', {
      preferredLanguage: 'nl',
      givenName: 'Els',
    });
    const reporterText =
      'Er is een lek. Zet uw wachtwoord meteen terug op https://kluis-reset.example/login om uw account te redden.';
    expect((await reportForm(d.tenant, { kind: 'misuse', description: reporterText })).statusCode).toBe(202);
    const listed = await staffCall(app, d.officer, 'GET', '/api/v1/incidents');
    const [reported] = listed.json<{ items: Incident[] }>().items;
    expect(reported).toMatchObject({ source: 'public_form', description: reporterText });
    const incidentId = reported?.incidentId ?? 0;
    const path = `/api/v1/incidents/${incidentId}`;
    const assessment = {
      isBreach: true,
      affectedCategories: ['user.name', 'user.contact.email'],
      affectedTables: ['people'],
      risk: 'high',
      riskAssessment: 'Phishing in onze naam is mogelijk.',
      measures: 'Wachtwoorden van de portaalaccounts teruggezet.',
    };
    // A breach without the officer's text, or with a text-direction override in it: 400, nothing kept.
    for (const whatHappened of [
      undefined,
      'Een lijst \u202Etxt.exe werd gedeeld.',
      'Een lijst\u0007 lekte.',
    ]) {
      const refused = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
        payload: { ...assessment, ...(whatHappened === undefined ? {} : { whatHappened }) },
      });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json()).toMatchObject({
        code: 'validation_failed',
        details: { issues: [{ path: 'body/whatHappened' }] },
      });
    }
    // The risk and the measures go into the letters too: the same rule (attack S19 leftover).
    for (const field of ['riskAssessment', 'measures'] as const) {
      const refused = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
        payload: { ...assessment, whatHappened: 'Een lijst lekte.', [field]: 'Zie \u202Etxt.exe' },
      });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json()).toMatchObject({
        code: 'validation_failed',
        details: { issues: [{ path: `body/${field}` }] },
      });
    }
    expect((await staffCall(app, d.officer, 'GET', path)).json<Incident>()).toMatchObject({
      assessmentNo: 0,
      isBreach: false,
    });
    const officerText =
      'Op 23 november gaf een medewerker per vergissing een klantenlijst mee aan een leverancier.\nDe lijst bevatte namen en e-mailadressen.';
    const assessed = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
      payload: { ...assessment, whatHappened: `${officerText.replace('\n', '\r\n')}\n` },
    });
    expect(assessed.statusCode, assessed.body).toBe(200);
    const incident = assessed.json<Incident>();
    expect(incident).toMatchObject({ whatHappened: officerText, description: reporterText });
    expect(incident.assessments).toMatchObject([{ assessmentNo: 1, whatHappened: officerText }]);
    // The notification to the authority says the officer's words.
    const draft = (await staffCall(app, d.officer, 'GET', `${path}/notification-draft`)).json<{
      text: string;
    }>();
    expect(draft.text).toContain(officerText);
    expect(draft.text).not.toContain('kluis-reset.example');
    // So does each letter, as the SMTP relay receives it.
    const informed = await staffCall(app, d.officer, 'POST', `${path}/persons-notification`, {
      payload: { decision: 'inform' },
    });
    expect(informed.statusCode, informed.body).toBe(200);
    const letter = await smtp.waitFor(customer.email ?? '');
    expect(letter.text).toContain(`Wat er gebeurde:\n${officerText}\n`);
    expect(letter.text).not.toContain('kluis-reset.example');
    expect(letter.text).not.toContain('Er is een lek');
    // The register keeps the report as it was made.
    const rows = await runAsOwner<{ description: string; what_happened: string }>(
      database.ownerUrl,
      'select description, what_happened from incidents where tenant_id = $1 and incident_id = $2',
      [d.tenant.tenantId, incidentId],
    );
    expect(rows.rows).toEqual([{ description: reporterText, what_happened: officerText }]);
  });

  it('VK-9: an incident assessed before decision 0895 (no text of what happened) has no letters nor draft until an assessment adds the text; after the authority decision that assessment only adds it (attack S19-4)', async () => {
    clock.set(T0);
    const d = await desk();
    const customer = await createCustomer(kernel, d.tenant, 'order_processing', {
      preferredLanguage: 'nl',
      givenName: 'Wim',
    });
    const incidentId = await breach(d);
    const path = `/api/v1/incidents/${incidentId}`;
    // As the migration leaves an older assessment: no text.
    await runAsOwner(
      database.ownerUrl,
      `alter table incident_assessments disable trigger incident_assessments_append_only;
       update incident_assessments set what_happened = null where tenant_id = ${d.tenant.tenantId};
       alter table incident_assessments enable trigger incident_assessments_append_only;
       update incidents set what_happened = null where tenant_id = ${d.tenant.tenantId};`,
    );
    const draft = await staffCall(app, d.officer, 'GET', `${path}/notification-draft`);
    expect(draft.statusCode, draft.body).toBe(409);
    expect(draft.json<{ detail: string }>().detail).toContain('whatHappened');
    expect(
      (
        await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
          payload: { decision: 'notified' },
        })
      ).statusCode,
    ).toBe(200);
    const refused = await staffCall(app, d.officer, 'POST', `${path}/persons-notification`, {
      payload: { decision: 'inform' },
    });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json<{ detail: string }>().detail).toContain('whatHappened');
    expect((await staffCall(app, d.officer, 'GET', path)).json<Incident>().personsDecision).toBe('pending');
    expect(smtp.to(customer.email ?? '')).toHaveLength(0);
    // After the authority decision an assessment may only add the text, keeping what was decided on.
    const completion = {
      isBreach: true,
      affectedCategories: ['user.name', 'user.contact.email'],
      affectedTables: ['people'],
      risk: 'high',
      riskAssessment: 'Phishing in onze naam is mogelijk; de schijf was niet versleuteld.',
      measures: 'Aangifte bij de politie, wachtwoorden van de portaalaccounts teruggezet.',
      whatHappened: WHAT_HAPPENED,
      revises: 1,
    };
    const changed = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
      payload: { ...completion, risk: 'low', changeReason: 'Toch minder erg.' },
    });
    expect(changed.statusCode, changed.body).toBe(409);
    const completed = await staffCall(app, d.officer, 'POST', `${path}/assessment`, { payload: completion });
    expect(completed.statusCode, completed.body).toBe(200);
    expect(completed.json<Incident>()).toMatchObject({ assessmentNo: 2, whatHappened: WHAT_HAPPENED });
    // Completed once: a further revision is a later phase, which says what was learnt (decision 1070).
    const again = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
      payload: { ...completion, revises: 2 },
    });
    expect(again.statusCode, again.body).toBe(400);
    expect(again.json<{ detail: string }>().detail).toContain('changeReason');
    const informed = await staffCall(app, d.officer, 'POST', `${path}/persons-notification`, {
      payload: { decision: 'inform' },
    });
    expect(informed.statusCode, informed.body).toBe(200);
    expect((await smtp.waitFor(customer.email ?? '')).text).toContain(WHAT_HAPPENED);
  });

  it('VK-9: the public report form refuses control and text-direction characters in the description with 400; nothing is filed (attack S19-4, decision 0895)', async () => {
    clock.set(T0);
    const d = await desk();
    const filed = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from incidents where tenant_id = $1',
          [d.tenant.tenantId],
        )
      ).rows[0]?.n;
    for (const description of [
      'Uw portaal toont \u202Etxt.exe als bijlage aan iedereen.',
      'Uw portaal toont \u2066een andere richting\u2069 aan iedereen.',
      'Uw portaal toont een bel\u0007 en een escape \u001b[31m aan iedereen.',
      'Uw portaal toont \u202Aeen inbedding aan iedereen.',
    ]) {
      const refused = await reportForm(d.tenant, { kind: 'insecurity', description }, '198.51.100.41');
      expect(refused.statusCode, JSON.stringify(description)).toBe(400);
      expect(refused.json()).toMatchObject({
        code: 'validation_failed',
        details: { issues: [{ path: 'body/description' }] },
      });
    }
    expect(await filed()).toBe(0);
    // Lines and tabs are what a report is made of: taken.
    const taken = await reportForm(
      d.tenant,
      { kind: 'insecurity', description: 'Uw portaal:\r\n\t- toont geen slotje\n\t- vraagt geen wachtwoord' },
      '198.51.100.41',
    );
    expect(taken.statusCode, taken.body).toBe(202);
    expect(await filed()).toBe(1);
  });

  it('VK-9: a re-assessment that downgrades a breach leaves in the audit log what it replaced: each assessment names the one before (attack S16-6)', async () => {
    const d = await desk();
    const incidentId = await breach(d);
    const downgraded = await staffCall(app, d.officer, 'POST', `/api/v1/incidents/${incidentId}/assessment`, {
      payload: {
        isBreach: false,
        affectedCategories: [],
        affectedTables: [],
        risk: 'none',
        riskAssessment: 'De laptop is teruggevonden, de schijf bleek toch versleuteld.',
        measures: 'Geen.',
        revises: 1,
        changeReason: 'Teruggevonden in de wagen van een collega; versleuteling nagekeken.',
      },
    });
    expect(downgraded.statusCode, downgraded.body).toBe(200);
    const { rows } = await runAsOwner<{ reason: string }>(
      database.ownerUrl,
      `select reason from audit_log where tenant_id = $1 and action = 'incident.assess' order by seq`,
      [d.tenant.tenantId],
    );
    expect(rows.map((row) => row.reason)).toEqual([
      'a breach, risk high; before: not assessed',
      'not a breach, risk none; before: a breach, risk high',
    ]);
  });

  it('VK-9: every assessment is kept and shown on the incident; a re-assessment names the one it revises (409 otherwise; two at once: one wins) and a lowered one says why (attack S16-6, decision 0840)', async () => {
    clock.set(T0);
    const d = await desk();
    const incidentId = await breach(d);
    const path = `/api/v1/incidents/${incidentId}/assessment`;
    const read = async () =>
      (await staffCall(app, d.officer, 'GET', `/api/v1/incidents/${incidentId}`)).json<Incident>();
    const stored = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from incident_assessments where tenant_id = $1 and incident_id = $2',
          [d.tenant.tenantId, incidentId],
        )
      ).rows[0]?.n;
    const first = await read();
    expect(first).toMatchObject({ assessmentNo: 1, isBreach: true, risk: 'high' });
    expect(first.assessments).toMatchObject([
      { assessmentNo: 1, isBreach: true, risk: 'high', changeReason: null, affectedTables: ['people'] },
    ]);
    const notABreach = {
      isBreach: false,
      risk: 'none',
      riskAssessment: 'De laptop is teruggevonden, de schijf bleek toch versleuteld.',
      measures: 'Versleuteling van alle laptops nagekeken.',
    };
    // Without naming the assessment it revises: 409, nothing changes.
    const blind = await staffCall(app, d.officer, 'POST', path, { payload: notABreach });
    expect(blind.statusCode, blind.body).toBe(409);
    expect(blind.json()).toMatchObject({ code: 'conflict' });
    expect(blind.json<{ detail: string }>().detail).toContain('revises: 1');
    // Lowered without a reason: 400 naming changeReason, nothing changes.
    const unexplained = await staffCall(app, d.officer, 'POST', path, {
      payload: { ...notABreach, revises: 1 },
    });
    expect(unexplained.statusCode, unexplained.body).toBe(400);
    expect(unexplained.json<{ detail: string }>().detail).toContain('changeReason');
    expect(await read()).toMatchObject({ assessmentNo: 1, isBreach: true, risk: 'high' });
    expect(await stored()).toBe(1);
    // With both: kept beside the first, which stays as it was made.
    const reason = 'Teruggevonden in de wagen van een collega; versleuteling nagekeken.';
    const lowered = await staffCall(app, d.officer, 'POST', path, {
      payload: { ...notABreach, revises: 1, changeReason: reason },
    });
    expect(lowered.statusCode, lowered.body).toBe(200);
    const second = await read();
    expect(second).toMatchObject({ assessmentNo: 2, isBreach: false, risk: 'none' });
    expect(second.assessments.map((a) => [a.assessmentNo, a.isBreach, a.risk, a.changeReason])).toEqual([
      [1, true, 'high', null],
      [2, false, 'none', reason],
    ]);
    expect(second.assessments[0]?.riskAssessment).toBe(first.assessments[0]?.riskAssessment);
    expect(second.assessments[0]?.measures).toBe(first.assessments[0]?.measures);
    // Two officers raising it at the same moment from the same page: one is kept, the other 409.
    const raise = { ...notABreach, isBreach: true, risk: 'low', revises: 2, whatHappened: WHAT_HAPPENED };
    const both = await Promise.all([
      staffCall(app, d.officer, 'POST', path, { payload: raise }),
      staffCall(app, d.officer, 'POST', path, { payload: { ...raise, risk: 'high' } }),
    ]);
    expect(both.map((answer) => answer.statusCode).sort()).toEqual([200, 409]);
    expect(await stored()).toBe(3);
    expect((await read()).assessmentNo).toBe(3);
    // The history cannot be rewritten, not even by the database owner.
    await expect(
      runAsOwner(database.ownerUrl, 'update incident_assessments set risk = $1 where tenant_id = $2', [
        'none',
        d.tenant.tenantId,
      ]),
    ).rejects.toThrow(/append-only/);
    await expect(
      runAsOwner(database.ownerUrl, 'delete from incident_assessments where tenant_id = $1', [
        d.tenant.tenantId,
      ]),
    ).rejects.toThrow(/append-only/);
    // Nor emptied in one statement (attack S18-3, decision 0862).
    await expect(runAsOwner(database.ownerUrl, 'truncate incident_assessments cascade')).rejects.toThrow(
      /append-only/,
    );
    expect(await stored()).toBe(3);
  });

  it('VK-9: a breach with a risk cannot be recorded as not notified (GDPR Art. 33(1)); a non-breach has no risk; a revision that finds fewer persons says why (attack S17-2, S17-4, decision 0842)', async () => {
    clock.set(T0);
    const d = await desk();
    await createCustomer(kernel, d.tenant, 'order_processing', { givenName: 'Els' });
    const incidentId = await breach(d, { risk: 'low' });
    const path = `/api/v1/incidents/${incidentId}`;
    const notNotified = { decision: 'not_notified', reason: 'De ontvanger wiste de gegevens meteen.' };
    const refused = await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
      payload: notNotified,
    });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json<{ detail: string }>().detail).toContain('Art. 33(1)');
    const first = (await staffCall(app, d.officer, 'GET', path)).json<Incident>();
    expect(first).toMatchObject({ authorityDecision: 'pending', risk: 'low' });
    expect(first.affectedCount).toBeGreaterThan(0);
    const revision = {
      isBreach: true,
      risk: 'none',
      riskAssessment: 'Versleuteld; de sleutel is niet gelekt.',
      measures: 'Sleutels vervangen.',
      affectedCategories: ['user.name', 'user.contact.email'],
      affectedTables: ['people'],
      whatHappened: WHAT_HAPPENED,
      revises: 1,
    };
    // Not a breach with a risk: refused, whatever else.
    const contradiction = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
      payload: { ...revision, isBreach: false, risk: 'high' },
    });
    expect(contradiction.statusCode).toBe(400);
    expect(contradiction.json<{ detail: string }>().detail).toMatch(/^risk: /);
    // Fewer persons (no tables, no categories: nobody) without a reason: refused.
    const emptied = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
      payload: { ...revision, risk: 'low', affectedCategories: [], affectedTables: [] },
    });
    expect(emptied.statusCode).toBe(400);
    expect(emptied.json<{ detail: string }>().detail).toContain(`${first.affectedCount} persons`);
    // Revised to no risk with its reason: now it may be recorded as not notified.
    const revised = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
      payload: { ...revision, changeReason: 'De schijf bleek versleuteld.' },
    });
    expect(revised.statusCode, revised.body).toBe(200);
    const decided = await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
      payload: notNotified,
    });
    expect(decided.statusCode, decided.body).toBe(200);
    const { rows } = await runAsOwner<{ action: string; reason: string }>(
      database.ownerUrl,
      `select action, reason from audit_log where tenant_id = $1 and action like 'incident.authority.%'`,
      [d.tenant.tenantId],
    );
    expect(rows).toEqual([
      { action: 'incident.authority.not_notified', reason: 'not notified; assessed a breach, risk none' },
    ]);
  });

  it('VK-9: a breach assessed high-risk cannot be recorded as keeping the persons uninformed, as the statement promises (GDPR Art. 34(1), decision 0842), in both seed policies', async () => {
    clock.set(T0);
    for (const policy of ['voiceking', 'voxtra'] as const) {
      const d = await desk(policy);
      const incidentId = await breach(d, { risk: 'high', affectedCategories: ['user.contact.email'] });
      const path = `/api/v1/incidents/${incidentId}/persons-notification`;
      const refused = await staffCall(app, d.officer, 'POST', path, {
        payload: { decision: 'not_inform', reason: 'Te veel werk.' },
      });
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json<{ detail: string }>().detail).toContain('Art. 34(1)');
      const incident = (
        await staffCall(app, d.officer, 'GET', `/api/v1/incidents/${incidentId}`)
      ).json<Incident>();
      expect(incident.personsDecision).toBe('pending');
      const { rows } = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        `select count(*)::int as n from audit_log where tenant_id = $1 and action like 'incident.persons.%'`,
        [d.tenant.tenantId],
      );
      expect(rows[0]?.n).toBe(0);
    }
  });

  it('migration 0840 keeps the assessment each incident had before it as assessment 1, tenant by tenant', async () => {
    clock.set(T0);
    const d = await desk('voxtra');
    const incidentId = await breach(d, { affectedCategories: ['user.contact.email'] });
    const unassessed = await staffCall(app, d.technician, 'POST', '/api/v1/incidents', {
      payload: { kind: 'misuse', description: 'Iemand belde met de vraag naar het adres van een klant.' },
    });
    // As before the migration: the register's row only.
    await runAsOwner(
      database.ownerUrl,
      `alter table incident_assessments disable trigger incident_assessments_append_only;
       delete from incident_assessments where tenant_id = ${d.tenant.tenantId};
       alter table incident_assessments enable trigger incident_assessments_append_only;`,
    );
    const migration = await readFile(
      new URL('../../../migrations/0840_incident_assessments.sql', import.meta.url),
      'utf8',
    );
    const fill = migration.slice(migration.indexOf('DO $$'));
    await runAsOwner(database.ownerUrl, fill);
    const incident = (
      await staffCall(app, d.officer, 'GET', `/api/v1/incidents/${incidentId}`)
    ).json<Incident>();
    expect(incident.assessments).toMatchObject([
      {
        assessmentNo: 1,
        isBreach: true,
        risk: 'high',
        riskAssessment: incident.riskAssessment,
        measures: incident.measures,
        affectedCategories: ['user.contact.email'],
        changeReason: null,
      },
    ]);
    const other = unassessed.json<{ incidentId: number }>().incidentId;
    const notAssessed = (
      await staffCall(app, d.officer, 'GET', `/api/v1/incidents/${other}`)
    ).json<Incident>();
    expect(notAssessed).toMatchObject({ assessmentNo: 0, assessments: [] });
  });

  it('the register is the tenant’s own: another tenant’s officer, other roles and bad input are refused', async () => {
    clock.set(T0);
    const d = await desk();
    const other = await desk('voxtra');
    const incidentId = await breach(d);
    expect((await staffCall(app, other.officer, 'GET', `/api/v1/incidents/${incidentId}`)).statusCode).toBe(
      404,
    );
    expect(
      (
        await staffCall(
          app,
          other.officer,
          'POST',
          `/api/v1/incidents/${incidentId}/authority-notification`,
          {
            payload: { decision: 'notified' },
          },
        )
      ).statusCode,
    ).toBe(404);
    const sales = await loginAs(app, kernel, d.tenant, 'sales');
    const draft = await staffCall(app, sales, 'GET', `/api/v1/incidents/${incidentId}/notification-draft`);
    expect(draft.statusCode).toBe(403);
    expect(draft.json()).toMatchObject({ code: 'role_not_allowed' });
    const unknownCategory = await staffCall(
      app,
      d.officer,
      'POST',
      `/api/v1/incidents/${incidentId}/assessment`,
      {
        payload: {
          isBreach: true,
          affectedCategories: ['constructor'],
          risk: 'low',
          riskAssessment: 'x',
          measures: 'y',
        },
      },
    );
    expect(unknownCategory.statusCode).toBe(400);
    // Voxtra's register works under its own policy (no language category: letters in Dutch).
    const voxtraIncident = await breach(other, { affectedCategories: ['user.contact.email'] });
    expect(
      (
        await staffCall(app, other.officer, 'GET', `/api/v1/incidents/${voxtraIncident}/notification-draft`)
      ).json<{
        text: string;
      }>().text,
    ).toContain('Verwerkingsverantwoordelijke: Voxtra bvba');
  });

  it('VK-9: a bare tenant (no policy) before a tenant with a breach on its clock does not stop that tenant’s reminder; the job names the bare tenant as failed (decision 0625)', async () => {
    clock.set(T0);
    const bare = await createTenant(kernelCore(kernel).db, {
      slug: `bare-${randomBytes(4).toString('hex')}`,
      name: 'Bare',
    });
    const later = await desk('voxtra');
    expect(later.tenant.tenantId).toBeGreaterThan(bare.tenantId);
    const incidentId = await breach(later);
    const contact = 'administratie@voxtra.be';
    const before = reminders(contact);

    const job = breachClockJob({ kernel, mailer: smtp.mailer, publicUrl: 'https://kluis.test' }, testLogger);
    const outcome = await job.run().then(
      () => 'succeeded',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(outcome).toBe(`breach-clock failed for tenants: ${bare.slug}`);
    await smtp.waitFor(contact, before + 1);
    expect(smtp.to(contact).map((mail) => mail.subject)).toContain(
      `Incident ${incidentId}: nog 72 uur om de inbreuk te melden (GDPR art. 33)`,
    );
  });
});
