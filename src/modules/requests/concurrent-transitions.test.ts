import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { loginAs, requestAs, type StaffRequest } from '../../../test/http.js';
import { fixedClock } from '../../../test/kernel.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { createPerson } from '../parties/index.js';

// Finding S19-6 (decision 0893): the same change of a request sent five times at once (two
// officers, two tabs) is made once; the other calls are refused and make, change and mail nothing.

let testApp: MailingTestApp;
let staff: StaffRequest;
const clock = fixedClock(new Date('2026-03-02T09:00:00Z'));
const TIMES = 5;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: 'https://privacy.voiceking.example', clock });
  const officer = await loginAs(testApp.app, testApp.kernel, testApp.voiceking, 'privacy_officer');
  staff = requestAs(testApp.app, officer);
}, 180_000);
afterAll(async () => {
  await testApp.close();
});

let serial = 0;
async function filedRequest(
  kind: string,
  verified = true,
): Promise<{ requestId: string; email: string; subjectId: number }> {
  serial += 1;
  const email = `lore.goossens${serial}@mail.example`;
  const person = await createPerson(
    testApp.kernel,
    {
      tenantId: testApp.voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: `Goossens${serial}x`,
      givenName: 'Lore',
      email,
      phone: `+3247755${String(serial).padStart(4, '0')}`,
      address: { street: `Kerkstraat ${serial}`, postalCode: '9000', city: 'Gent', country: 'BE' },
    },
  );
  const registered = await staff('POST', '/api/v1/requests', {
    kind,
    channel: 'letter',
    subjectId: person.subjectId,
    ...(verified ? { verificationMethod: 'id_card_seen' } : {}),
  });
  expect(registered.statusCode, registered.body).toBe(201);
  return {
    requestId: registered.json<{ requestId: string }>().requestId,
    email,
    subjectId: person.subjectId,
  };
}

/** The same call TIMES times at once, as `race.mjs` sent them; the status codes, sorted. */
async function race(url: string, payload: Record<string, unknown>): Promise<LightMyRequestResponse[]> {
  return Promise.all(Array.from({ length: TIMES }, () => staff('POST', url, payload)));
}

const statuses = (answers: LightMyRequestResponse[]): number[] =>
  answers.map((answer) => answer.statusCode).sort((a, b) => a - b);

async function count(sql: string, params: unknown[]): Promise<number> {
  const result = await runAsOwner<{ n: number }>(testApp.database.ownerUrl, sql, params);
  return result.rows[0]?.n ?? -1;
}

/** The tenant's audited request changes of this kind (`request.fulfil`, `request.extend`, …). */
const audited = (action: string): Promise<number> =>
  count('select count(*)::int as n from audit_log where tenant_id = $1 and action = $2', [
    testApp.voiceking.tenantId,
    action,
  ]);

/** Waits for what the letter sender sends after the answers, then a little longer for strays. */
async function lettersTo(email: string): Promise<number> {
  await testApp.smtp.waitFor(email, 1);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return testApp.smtp.to(email).length;
}

const CHANGES = ['request.fulfil', 'request.extend', 'request.reject'] as const;
async function auditBaseline(): Promise<Record<(typeof CHANGES)[number], number>> {
  const [fulfil, extend, reject] = await Promise.all(CHANGES.map(audited));
  return { 'request.fulfil': fulfil ?? 0, 'request.extend': extend ?? 0, 'request.reject': reject ?? 0 };
}

describe('one change per request, however often it is sent at once (finding S19-6)', () => {
  it('VK-21: five access fulfilments at once make one download link and one letter; four are refused with 409', async () => {
    const before = await auditBaseline();
    const { requestId, email } = await filedRequest('access');
    const answers = await race(`/api/v1/requests/${requestId}/fulfil`, {});
    expect(statuses(answers)).toEqual([200, 409, 409, 409, 409]);
    for (const refused of answers.filter((answer) => answer.statusCode === 409))
      expect(refused.json()).toMatchObject({ code: 'conflict', detail: 'the request is fulfilled' });
    expect(
      await count(
        'select count(*)::int as n from export_downloads where tenant_id = $1 and request_id = $2',
        [testApp.voiceking.tenantId, requestId],
      ),
    ).toBe(1);
    expect(await lettersTo(email)).toBe(1);
    expect(testApp.smtp.to(email)[0]?.text).toContain('/privacy/downloads/');
    expect((await audited('request.fulfil')) - before['request.fulfil']).toBe(1);

    // Later, one at a time, it is refused alike.
    const later = await staff('POST', `/api/v1/requests/${requestId}/fulfil`, {});
    expect(later.statusCode).toBe(409);
  });

  it('VK-27: five extensions at once extend once and mail one letter; a later second extension is refused (already_extended) and mails nothing', async () => {
    const before = await auditBaseline();
    const { requestId, email } = await filedRequest('access');
    const body = { until: '2026-05-01', reason: 'Many requests at once; Art. 12(3).' };
    const answers = await race(`/api/v1/requests/${requestId}/extend`, body);
    expect(statuses(answers)).toEqual([200, 409, 409, 409, 409]);
    for (const refused of answers.filter((answer) => answer.statusCode === 409))
      expect(refused.json()).toMatchObject({ code: 'conflict', details: { reason: 'already_extended' } });
    expect(await lettersTo(email)).toBe(1);
    expect((await audited('request.extend')) - before['request.extend']).toBe(1);

    const again = await staff('POST', `/api/v1/requests/${requestId}/extend`, {
      until: '2026-04-20',
      reason: 'Asking for more time a second time.',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'conflict',
      details: { reason: 'already_extended', extendedUntil: '2026-05-01' },
    });
    const stored = await runAsOwner<{ extended_due_on: string; extension_reason: string }>(
      testApp.database.ownerUrl,
      'select extended_due_on::text, extension_reason from rights_requests where request_id = $1',
      [requestId],
    );
    expect(stored.rows).toEqual([{ extended_due_on: '2026-05-01', extension_reason: body.reason }]);
    expect(await lettersTo(email)).toBe(1);
    expect((await audited('request.extend')) - before['request.extend']).toBe(1);
  });

  it('VK-27: five rejections at once reject once and mail one letter; four are refused with 409', async () => {
    const before = await auditBaseline();
    const { requestId, email } = await filedRequest('restriction');
    const answers = await race(`/api/v1/requests/${requestId}/reject`, {
      reason: 'the signature does not match the one on file',
    });
    expect(statuses(answers)).toEqual([200, 409, 409, 409, 409]);
    expect(await lettersTo(email)).toBe(1);
    expect((await audited('request.reject')) - before['request.reject']).toBe(1);
    // A rejected request is not carried out afterwards either.
    expect((await staff('POST', `/api/v1/requests/${requestId}/fulfil`, {})).statusCode).toBe(409);
    expect((await audited('request.fulfil')) - before['request.fulfil']).toBe(0);
  });

  it('VK-24: five fulfilments of an objection at once write the consent ledger once and mail one letter', async () => {
    const before = await auditBaseline();
    const { requestId, email, subjectId } = await filedRequest('objection');
    const answers = await race(`/api/v1/requests/${requestId}/fulfil`, {});
    expect(statuses(answers)).toEqual([200, 409, 409, 409, 409]);
    expect(await lettersTo(email)).toBe(1);
    const fulfilled = (await audited('request.fulfil')) - before['request.fulfil'];
    const refused = (await audited('request.reject')) - before['request.reject'];
    expect(fulfilled + refused).toBe(1);
    // One ledger record per purpose stopped, none twice.
    const duplicates = await count(
      `select (count(*) - count(distinct purpose))::int as n from consent_records
        where tenant_id = $1 and subject_id = $2 and proof_reference = $3`,
      [testApp.voiceking.tenantId, subjectId, `rights_request:${requestId}`],
    );
    expect(duplicates).toBe(0);
  });

  it('VK-26: five staff verifications at once verify once; four are refused with 409', async () => {
    const before = await audited('request.verify');
    const { requestId } = await filedRequest('erasure', false);
    const answers = await race(`/api/v1/requests/${requestId}/verify`, { method: 'id_card_seen' });
    expect(statuses(answers)).toEqual([200, 409, 409, 409, 409]);
    expect((await audited('request.verify')) - before).toBe(1);
  });
});
