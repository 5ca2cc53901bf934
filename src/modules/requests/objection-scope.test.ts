import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

// Attack finding A9 (issue 19): an objection or withdrawal naming purposes the provider does not
// have, or purposes whose legal basis gives no such right, was "fulfilled" and the letter said it
// was done while nothing changed (decision 0411).

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voiceking: Tenant;
let officer: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  app = await createTestApp(kernel, { mailer: smtp.mailer, publicUrl: 'https://privacy.voiceking.example' });
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

let serial = 0;
async function customer() {
  serial += 1;
  return createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: `Bezwaar${serial}x`,
      givenName: 'Marie',
      email: `marie.bezwaar${serial}@mail.example`,
    },
  );
}

const mailTo = (address: string, count: number): Promise<ParsedMail> => smtp.waitFor(address, count);
const codeIn = (mail: ParsedMail): string => /\b(\d{6})\b/.exec(mail.text ?? '')?.[1] ?? '';

/** Files a request at the public door and enters the mailed code; returns the request id. */
async function fileAndVerify(body: Record<string, unknown>, email: string): Promise<string> {
  const submitted = await app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/privacy/requests`,
    payload: { ...body, email },
  });
  expect(submitted.statusCode).toBe(202);
  const { requestId } = submitted.json<{ requestId: string }>();
  const verified = await app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/privacy/requests/${requestId}/verify`,
    payload: { code: codeIn(await mailTo(email, 1)) },
  });
  expect(verified.statusCode).toBe(200);
  return requestId;
}

const ledger = async (subjectId: number) =>
  (
    await runAsOwner<{ purpose: string | null; event: string }>(
      database.ownerUrl,
      'select purpose, event from consent_records where tenant_id = $1 and subject_id = $2 order by record_id',
      [voiceking.tenantId, subjectId],
    )
  ).rows;

const requestRow = async (requestId: string) =>
  (
    await runAsOwner<{ state: string; outcome: unknown }>(
      database.ownerUrl,
      'select state, outcome from rights_requests where request_id = $1',
      [requestId],
    )
  ).rows[0];

const requestCount = async () =>
  Number(
    (
      await runAsOwner<{ n: string }>(
        database.ownerUrl,
        'select count(*) as n from rights_requests where tenant_id = $1',
        [voiceking.tenantId],
      )
    ).rows[0]?.n,
  );

describe('objection and withdrawal only report what was stopped (issue 19, attack A9)', () => {
  it('VK-24: purpose keys the provider does not have are refused with 400 naming them, at the public door and for staff; nothing is stored', async () => {
    const person = await customer();
    const before = await requestCount();
    const publicDoor = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests`,
      payload: { kind: 'objection', email: person.email, purposes: ['solvency', 'billing'] },
    });
    expect(publicDoor.statusCode).toBe(400);
    expect(publicDoor.json()).toMatchObject({ code: 'validation_failed' });
    expect(publicDoor.json<{ detail: string }>().detail).toContain('"solvency"');
    expect(publicDoor.json<{ detail: string }>().detail).not.toContain('"billing"');

    const staff = await requestAs(app, officer)('POST', '/api/v1/requests', {
      kind: 'withdraw_consent',
      channel: 'letter',
      subjectId: person.subjectId,
      purposes: ['credit_check_x'],
    });
    expect(staff.statusCode).toBe(400);
    expect(staff.json()).toMatchObject({ code: 'validation_failed' });
    expect(staff.json<{ detail: string }>().detail).toContain('"credit_check_x"');
    expect(await requestCount()).toBe(before);
    expect(await ledger(person.subjectId)).toEqual([]);
  });

  it('VK-24: an objection to purposes resting on the contract is answered as refused, with why, and changes nothing', async () => {
    const person = await customer();
    const email = person.email ?? '';
    const auditBefore = (
      await runAsOwner<{ seq: string }>(
        database.ownerUrl,
        'select coalesce(max(seq), 0) as seq from audit_log where tenant_id = $1',
        [voiceking.tenantId],
      )
    ).rows[0]?.seq;
    const requestId = await fileAndVerify(
      { kind: 'objection', purposes: ['order_processing', 'billing'], language: 'nl' },
      email,
    );
    expect(await requestRow(requestId)).toMatchObject({
      state: 'rejected',
      outcome: {
        purposes: [],
        notStopped: [
          { purpose: 'order_processing', reason: 'contract' },
          { purpose: 'billing', reason: 'contract' },
        ],
      },
    });
    expect(await ledger(person.subjectId)).toEqual([]);
    const letter = (await mailTo(email, 2)).text ?? '';
    expect(letter).not.toContain('We hebben uw verzoek uitgevoerd');
    expect(letter).toContain('We kunnen op uw verzoek niet ingaan');
    expect(letter).toContain('Niet stopgezet, en waarom:');
    expect(letter).toContain('nodig om de overeenkomst met u uit te voeren (art. 6.1.b AVG)');
    expect(letter).toContain('geen recht van bezwaar (art. 21.1 AVG)');
    const audit = await runAsOwner<{ action: string }>(
      database.ownerUrl,
      "select action from audit_log where tenant_id = $1 and action like 'request.%' and seq > $2 order by seq",
      [voiceking.tenantId, auditBefore],
    );
    expect(audit.rows.map((row) => row.action)).toContain('request.reject');
    expect(audit.rows.map((row) => row.action)).not.toContain('request.fulfil');
  });

  it('VK-24: an objection naming one purpose on legitimate interests and one on a legal obligation stops the first, and the letter says what was not stopped and why', async () => {
    const person = await customer();
    const email = person.email ?? '';
    const requestId = await fileAndVerify(
      { kind: 'objection', purposes: ['answering_questions', 'accounting'], language: 'en' },
      email,
    );
    expect(await requestRow(requestId)).toMatchObject({
      state: 'fulfilled',
      outcome: {
        purposes: ['answering_questions'],
        notStopped: [{ purpose: 'accounting', reason: 'legal_obligation' }],
      },
    });
    expect(await ledger(person.subjectId)).toEqual([{ purpose: 'answering_questions', event: 'objected' }]);
    const letter = (await mailTo(email, 2)).text ?? '';
    expect(letter).toContain('We have carried out your request.');
    expect(letter).toMatch(/Stopped, with immediate effect:\n- \S/);
    expect(letter).toMatch(
      /Not stopped, and why:\n- .+: required by law \(Art\. 6\(1\)\(c\) GDPR\); the right to object does not apply to it \(Art\. 21\(1\) GDPR\)/,
    );
  });

  it('VK-24: a withdrawal of consent naming purposes without consent, filed and fulfilled by staff, is refused with why; nothing is recorded', async () => {
    const person = await customer();
    const call = requestAs(app, officer);
    const registered = await call('POST', '/api/v1/requests', {
      kind: 'withdraw_consent',
      channel: 'letter',
      language: 'fr',
      subjectId: person.subjectId,
      verificationMethod: 'id_card_seen',
      purposes: ['billing', 'answering_questions'],
    });
    expect(registered.statusCode).toBe(201);
    const { requestId } = registered.json<{ requestId: string }>();
    const fulfilled = await call('POST', `/api/v1/requests/${requestId}/fulfil`, {});
    expect(fulfilled.statusCode).toBe(200);
    expect(fulfilled.json()).toEqual({
      outcome: {
        purposes: [],
        notStopped: [
          { purpose: 'billing', reason: 'contract' },
          { purpose: 'answering_questions', reason: 'legitimate_interests' },
        ],
      },
    });
    expect((await requestRow(requestId))?.state).toBe('rejected');
    expect(await ledger(person.subjectId)).toEqual([]);
    const letter = (await mailTo(person.email ?? '', 1)).text ?? '';
    expect(letter).toContain('Nous ne pouvons pas donner suite à votre demande.');
    expect(letter).toContain('il n’y a donc pas de consentement à retirer');
    expect(letter).toContain('vous l’arrêtez par une opposition');
  });
});
