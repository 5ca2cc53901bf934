import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import type { Incident } from './incident.service.js';
import { createCustomer, staffCall } from './recipients.test-helpers.js';

// Attack S22-1, decision 1070: a breach's decisions are followed by later ones (GDPR Art. 34(4),
// Art. 33(4)); the register keeps every phase.
const WHAT_HAPPENED =
  'Een lijst met telefoonnummers van klanten werd per vergissing gedeeld met een leverancier.';
const T0 = new Date('2026-11-24T09:00:00Z');
const MINUTE = 60_000;
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

const SEEDS = [
  { policy: 'voiceking', purpose: 'order_processing' },
  { policy: 'voxtra', purpose: 'customer_administration' },
] as const;

interface Desk {
  tenant: Tenant;
  officer: StaffSession;
  technician: StaffSession;
}

async function desk(policy: 'voiceking' | 'voxtra'): Promise<Desk> {
  const tenant = await createPolicyTenant(kernel, policy);
  return {
    tenant,
    officer: await loginAs(app, kernel, tenant, 'privacy_officer'),
    technician: await loginAs(app, kernel, tenant, 'technician'),
  };
}

const phoneLeak = {
  isBreach: true,
  affectedCategories: ['user.contact.phone_number'],
  affectedTables: ['people'],
  risk: 'low',
  riskAssessment: 'Enkel telefoonnummers; de leverancier heeft de lijst gewist.',
  measures: 'De leverancier bevestigde de verwijdering schriftelijk.',
  whatHappened: WHAT_HAPPENED,
};

async function reportAndAssess(d: Desk): Promise<number> {
  const reported = await staffCall(app, d.technician, 'POST', '/api/v1/incidents', {
    payload: { kind: 'breach', description: 'Een lijst met nummers is naar de verkeerde partij gegaan.' },
  });
  expect(reported.statusCode, reported.body).toBe(201);
  const { incidentId } = reported.json<{ incidentId: number }>();
  const assessed = await staffCall(app, d.officer, 'POST', `/api/v1/incidents/${incidentId}/assessment`, {
    payload: phoneLeak,
  });
  expect(assessed.statusCode, assessed.body).toBe(200);
  return incidentId;
}

const breachLetters = (email: string | null | undefined): number =>
  smtp.to(email ?? '-').filter((mail) => /inbreuk|violation|breach/i.test(mail.subject ?? '')).length;

describe('a breach in phases (VK-9, attack S22-1)', () => {
  it('VK-9: after not_inform the persons are informed after all when the authority requires it: inform with its reason, five at once taken once, one letter per person; the earlier decision and its reason stay in the register, append-only (GDPR Art. 34(4), attack S22-1, decision 1070), in both seed policies', async () => {
    for (const seed of SEEDS) {
      clock.set(T0);
      const d = await desk(seed.policy);
      const people = await Promise.all(
        ['Anna', 'Bram'].map((givenName) => createCustomer(kernel, d.tenant, seed.purpose, { givenName })),
      );
      const incidentId = await reportAndAssess(d);
      const path = `/api/v1/incidents/${incidentId}`;
      const lowRisk = 'Laag risico: enkel nummers, de ontvanger heeft ze gewist.';
      const notInform = await staffCall(app, d.officer, 'POST', `${path}/persons-notification`, {
        payload: { decision: 'not_inform', reason: lowRisk },
      });
      expect(notInform.statusCode, notInform.body).toBe(200);
      clock.set(new Date(T0.getTime() + 5 * MINUTE));
      const notified = await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
        payload: { decision: 'notified' },
      });
      expect(notified.statusCode, notified.body).toBe(200);

      // The authority answers that the persons must be told. Without saying why: 400, nothing changes.
      // Another officer, an hour later (the first one's session has lapsed).
      const firstOfficer = d.officer.staffId;
      clock.set(new Date(T0.getTime() + 60 * MINUTE));
      d.officer = await loginAs(app, kernel, d.tenant, 'privacy_officer');
      const unexplained = await staffCall(app, d.officer, 'POST', `${path}/persons-notification`, {
        payload: { decision: 'inform' },
      });
      expect(unexplained.statusCode, unexplained.body).toBe(400);
      expect(unexplained.json<{ detail: string }>().detail).toContain('reason');
      expect(people.map((person) => breachLetters(person.email))).toEqual([0, 0]);

      const required = 'De GBA eist dat de betrokkenen worden ingelicht (AVG art. 34, lid 4).';
      const inform = () =>
        staffCall(app, d.officer, 'POST', `${path}/persons-notification`, {
          payload: { decision: 'inform', reason: required },
        });
      const answers = await Promise.all([inform(), inform(), inform(), inform(), inform()]);
      expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 409, 409, 409, 409]);
      const taken = answers
        .find((answer) => answer.statusCode === 200)
        ?.json<Incident & { lettersSent: number }>();
      expect(taken).toMatchObject({ personsDecision: 'inform', personsReason: required, lettersSent: 2 });
      for (const person of people) await smtp.waitFor(person.email ?? '');
      expect(people.map((person) => breachLetters(person.email))).toEqual([1, 1]);
      // Twice more, one after the other: nothing left to send.
      expect((await inform()).statusCode).toBe(409);
      expect(people.map((person) => breachLetters(person.email))).toEqual([1, 1]);
      // What was sent is not taken back.
      const takenBack = await staffCall(app, d.officer, 'POST', `${path}/persons-notification`, {
        payload: { decision: 'not_inform', reason: 'toch niet' },
      });
      expect(takenBack.statusCode, takenBack.body).toBe(409);

      // The register: every decision, who, when, why, on which assessment.
      const incident = (await staffCall(app, d.officer, 'GET', path)).json<Incident>();
      expect(incident.assessments[0]?.assessedByStaffId).toBe(firstOfficer);
      expect(incident.decisions).toEqual([
        {
          decisionNo: 1,
          addressee: 'persons',
          decision: 'not_inform',
          reason: lowRisk,
          assessmentNo: 1,
          lettersQueued: 0,
          decidedAt: T0.toISOString(),
          decidedByStaffId: firstOfficer,
        },
        expect.objectContaining({
          decisionNo: 2,
          addressee: 'authority',
          decision: 'notified',
          reason: null,
        }),
        {
          decisionNo: 3,
          addressee: 'persons',
          decision: 'inform',
          reason: required,
          assessmentNo: 1,
          lettersQueued: 2,
          decidedAt: new Date(T0.getTime() + 60 * MINUTE).toISOString(),
          decidedByStaffId: d.officer.staffId,
        },
      ]);
      const audit = await runAsOwner<{ action: string }>(
        database.ownerUrl,
        `select action from audit_log where tenant_id = $1 and action like 'incident.persons.%' order by seq`,
        [d.tenant.tenantId],
      );
      expect(audit.rows.map((row) => row.action)).toEqual([
        'incident.persons.not_inform',
        'incident.persons.inform',
      ]);
      // The register cannot be rewritten, not even by the database owner.
      for (const statement of [
        `update incident_decisions set reason = 'x' where tenant_id = ${d.tenant.tenantId}`,
        `delete from incident_decisions where tenant_id = ${d.tenant.tenantId}`,
        'truncate incident_decisions cascade',
      ])
        await expect(runAsOwner(database.ownerUrl, statement)).rejects.toThrow(/append-only/);
      const kept = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        'select count(*)::int as n from incident_decisions where tenant_id = $1 and incident_id = $2',
        [d.tenant.tenantId, incidentId],
      );
      expect(kept.rows[0]?.n).toBe(3);
    }
  });

  it('VK-9: a revised assessment after the decisions widens the breach: kept as a new assessment, the persons newly found through the data map get the Art. 34 letter and those informed before none, the authority notification is supplemented; narrowing it or leaving out why is refused and changes nothing (GDPR Art. 33(4), attack S22-1, decision 1070), in both seed policies', async () => {
    for (const seed of SEEDS) {
      clock.set(T0);
      const d = await desk(seed.policy);
      // One person with a phone number, one with only an e-mail address.
      const withPhone = await createCustomer(kernel, d.tenant, seed.purpose, { givenName: 'Cato' });
      const emailOnly = await createCustomer(kernel, d.tenant, seed.purpose, {
        givenName: 'Dirk',
        phone: undefined,
      });
      const incidentId = await reportAndAssess(d);
      const path = `/api/v1/incidents/${incidentId}`;
      const first = await staffCall(app, d.officer, 'POST', `${path}/persons-notification`, {
        payload: { decision: 'inform' },
      });
      expect(first.statusCode, first.body).toBe(200);
      expect(first.json()).toMatchObject({ affectedCount: 1, lettersSent: 1 });
      await smtp.waitFor(withPhone.email ?? '');
      const notified = await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
        payload: { decision: 'notified' },
      });
      expect(notified.statusCode, notified.body).toBe(200);
      // Nothing new yet: no supplement, and notified is not recorded twice.
      for (const decision of ['supplemented', 'notified', 'not_notified'])
        expect(
          (
            await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
              payload: { decision, reason: 'x' },
            })
          ).statusCode,
        ).toBe(409);

      // The officer learns that e-mail addresses leaked too.
      clock.set(new Date(T0.getTime() + 24 * 60 * MINUTE));
      d.officer = await loginAs(app, kernel, d.tenant, 'privacy_officer');
      const learnt = 'De lijst bevatte ook e-mailadressen (vastgesteld op 25 november).';
      const wider = {
        ...phoneLeak,
        affectedCategories: ['user.contact.phone_number', 'user.contact.email'],
        whatHappened: `${WHAT_HAPPENED} Ook e-mailadressen stonden op de lijst.`,
        revises: 1,
      };
      const refusals: Array<[Record<string, unknown>, number]> = [
        [{ ...wider, changeReason: undefined }, 400],
        [{ ...wider, changeReason: learnt, revises: undefined }, 409],
        [{ ...wider, changeReason: learnt, risk: 'none' }, 409],
        [{ ...wider, changeReason: learnt, affectedCategories: ['user.contact.email'] }, 409],
        [{ ...wider, changeReason: learnt, affectedTables: ['staff_users'] }, 409],
        [{ ...wider, changeReason: learnt, isBreach: false, risk: 'none', whatHappened: undefined }, 409],
      ];
      for (const [payload, status] of refusals) {
        const refused = await staffCall(app, d.officer, 'POST', `${path}/assessment`, { payload });
        expect(refused.statusCode, `${JSON.stringify(payload)}: ${refused.body}`).toBe(status);
      }
      expect((await staffCall(app, d.officer, 'GET', path)).json<Incident>()).toMatchObject({
        assessmentNo: 1,
        affectedCount: 1,
      });

      const revised = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
        payload: { ...wider, changeReason: learnt },
      });
      expect(revised.statusCode, revised.body).toBe(200);
      const widened = revised.json<Incident>();
      expect(widened).toMatchObject({ assessmentNo: 2, affectedCount: 2, personsDecision: 'inform' });
      expect(widened.assessments.map((a) => [a.assessmentNo, a.affectedCount, a.changeReason])).toEqual([
        [1, 1, null],
        [2, 2, learnt],
      ]);
      expect(widened.assessments[0]?.affectedCategories).toEqual(['user.contact.phone_number']);

      // The letters of this phase: only the person not yet informed.
      const inform = () =>
        staffCall(app, d.officer, 'POST', `${path}/persons-notification`, {
          payload: { decision: 'inform' },
        });
      const phase = await Promise.all([inform(), inform()]);
      expect(phase.map((answer) => answer.statusCode).sort()).toEqual([200, 409]);
      expect(phase.find((answer) => answer.statusCode === 200)?.json()).toMatchObject({ lettersSent: 1 });
      const letter = await smtp.waitFor(emailOnly.email ?? '');
      expect(letter.text).toContain('Ook e-mailadressen stonden op de lijst.');
      expect([breachLetters(withPhone.email), breachLetters(emailOnly.email)]).toEqual([1, 1]);
      const links = await runAsOwner<{ subject_id: number; sent: Date }>(
        database.ownerUrl,
        'select subject_id, letter_sent_at as sent from incident_subjects where tenant_id = $1 and incident_id = $2 order by letter_sent_at',
        [d.tenant.tenantId, incidentId],
      );
      expect(links.rows.map((row) => [row.subject_id, row.sent.toISOString()])).toEqual([
        [withPhone.subjectId, T0.toISOString()],
        [emailOnly.subjectId, new Date(T0.getTime() + 24 * 60 * MINUTE).toISOString()],
      ]);

      // The authority gets the supplement: recorded once per revised assessment.
      const supplement = await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
        payload: { decision: 'supplemented', reason: 'Aanvulling: ook e-mailadressen.' },
      });
      expect(supplement.statusCode, supplement.body).toBe(200);
      const again = await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
        payload: { decision: 'supplemented' },
      });
      expect(again.statusCode, again.body).toBe(409);
      const incident = (await staffCall(app, d.officer, 'GET', path)).json<Incident>();
      expect(incident.authorityDecision).toBe('notified');
      expect(
        incident.decisions.map((x) => [x.addressee, x.decision, x.assessmentNo, x.lettersQueued]),
      ).toEqual([
        ['persons', 'inform', 1, 1],
        ['authority', 'notified', 1, 0],
        ['persons', 'inform', 2, 1],
        ['authority', 'supplemented', 2, 0],
      ]);
      const draft = await staffCall(app, d.officer, 'GET', `${path}/notification-draft`);
      expect(draft.statusCode, draft.body).toBe(200);
      expect(draft.json<{ text: string }>().text).toContain('Ook e-mailadressen stonden op de lijst.');
    }
  });

  it('VK-9: not_notified followed by notified says why and keeps the first reason in the register (attack S22-1, decision 1070)', async () => {
    clock.set(T0);
    const d = await desk('voiceking');
    const incidentId = await reportAndAssess(d);
    const path = `/api/v1/incidents/${incidentId}`;
    const noRisk = 'Versleuteld; de sleutel is niet gelekt.';
    const revised = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
      payload: { ...phoneLeak, risk: 'none', revises: 1, changeReason: noRisk },
    });
    expect(revised.statusCode, revised.body).toBe(200);
    expect(
      (
        await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
          payload: { decision: 'not_notified', reason: noRisk },
        })
      ).statusCode,
    ).toBe(200);
    const later = 'De sleutel bleek toch gelekt.';
    const raised = await staffCall(app, d.officer, 'POST', `${path}/assessment`, {
      payload: { ...phoneLeak, risk: 'low', revises: 2, changeReason: later },
    });
    expect(raised.statusCode, raised.body).toBe(200);
    const notified = await staffCall(app, d.officer, 'POST', `${path}/authority-notification`, {
      payload: { decision: 'notified', reason: later },
    });
    expect(notified.statusCode, notified.body).toBe(200);
    expect(notified.json<Incident>().decisions.map((x) => [x.decision, x.reason, x.assessmentNo])).toEqual([
      ['not_notified', noRisk, 2],
      ['notified', later, 3],
    ]);
  });
});
