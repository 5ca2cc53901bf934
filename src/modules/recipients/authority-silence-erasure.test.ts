import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { fixedClock } from '../../../test/kernel.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import type { SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { DATA_MAP } from '../data-map.js';
import { runRetentionSweep } from '../retention/index.js';
import { createCustomer } from './recipients.test-helpers.js';

/**
 * Attack finding A19 (decision 0470): an Art. 17 erasure keeps a person's link to an authority
 * request while the silence the authority imposed runs, says nothing of it to the person (letter),
 * records it for staff in the outcome, and erases it once the silence has ended.
 */
const PUBLIC_URL = 'https://privacy.voiceking.example';
let testApp: MailingTestApp;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voiceking: Tenant;
let officer: StaffSession;
let secondOfficer: StaffSession;
const clock = fixedClock(new Date('2026-11-24T09:00:00Z'));

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC_URL, clock });
  ({ database, kernel, smtp, app, voiceking } = testApp);
  officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
  secondOfficer = await loginAs(app, kernel, voiceking, 'privacy_officer');
});
afterAll(async () => {
  await testApp.close();
});

function order(subjectIds: number[], overrides: Record<string, unknown> = {}) {
  return {
    recipient: 'judicial_authorities',
    authority: 'Parket West-Vlaanderen, afdeling Kortrijk',
    country: 'BE',
    legalBasis: 'art. 46bis Wetboek van Strafvordering',
    orderReference: 'KO.12.L1.0470/26',
    subjectIds,
    categories: ['user.name'],
    decision: 'disclose',
    ...overrides,
  };
}

const links = async (subjectId: number): Promise<number[]> =>
  (
    await runAsOwner<{ id: number }>(
      database.ownerUrl,
      'select authority_request_id::int as id from authority_request_subjects where tenant_id = $1 and subject_id = $2 order by 1',
      [voiceking.tenantId, subjectId],
    )
  ).rows.map((row) => row.id);

describe('an erasure keeps authority requests under silence silently (attack A19, decision 0470)', () => {
  it('VK-23: erasing a person named in an authority request under silence keeps that link, tells staff until when and not the person; the request still discloses the others; after the silence the retention sweep removes the link', async () => {
    const suspect = await createCustomer(kernel, voiceking, 'order_processing');
    const other = await createCustomer(kernel, voiceking, 'order_processing');
    const register = async (body: unknown): Promise<number> => {
      const registered = await requestAs(app, officer)('POST', '/api/v1/authority-requests', body);
      expect(registered.statusCode, registered.body).toBe(201);
      return registered.json<{ authorityRequestId: number }>().authorityRequestId;
    };
    const silent = await register(
      order([suspect.subjectId, other.subjectId], { confidentialUntil: '2027-01-31' }),
    );
    // A request without silence (and one whose silence has ended) is nothing to keep.
    const open = await register(order([suspect.subjectId], { orderReference: 'KO.12.L1.0471/26' }));
    const ended = await register(
      order([suspect.subjectId], { orderReference: 'KO.12.L1.0472/26', confidentialUntil: '2026-11-23' }),
    );
    expect(await links(suspect.subjectId)).toEqual([silent, open, ended].sort((a, b) => a - b));

    const filed = await requestAs(app, officer)('POST', '/api/v1/requests', {
      kind: 'erasure',
      channel: 'letter',
      subjectId: suspect.subjectId,
      verificationMethod: 'id_card_seen',
    });
    expect(filed.statusCode, filed.body).toBe(201);
    const { requestId } = filed.json<{ requestId: string }>();
    const fulfilled = await requestAs(app, officer)('POST', `/api/v1/requests/${requestId}/fulfil`, {});
    expect(fulfilled.statusCode, fulfilled.body).toBe(200);
    const { outcome } = fulfilled.json<{
      outcome: {
        erased: Array<{ table: string; rows: number }>;
        keptSilently: unknown[];
        keyDestroyed: boolean;
      };
    }>();
    // Staff see what was kept, why and until when; the two other links went.
    expect(outcome.keptSilently).toEqual([
      { table: 'authority_request_subjects', rows: 1, kind: 'authority_request', until: '2027-01-31' },
    ]);
    expect(outcome.erased).toContainEqual(
      expect.objectContaining({ table: 'authority_request_subjects', rows: 2 }),
    );
    expect(outcome.erased).toContainEqual(expect.objectContaining({ table: 'people', rows: 1 }));
    expect(outcome.keyDestroyed).toBe(true);
    expect(await links(suspect.subjectId)).toEqual([silent]);
    const stored = await runAsOwner<{ outcome: { keptSilently: unknown[] } }>(
      database.ownerUrl,
      'select outcome from rights_requests where request_id = $1',
      [requestId],
    );
    expect(stored.rows[0]?.outcome.keptSilently).toEqual(outcome.keptSilently);

    // The person's letter: what was erased in words, nothing of the authority, no count of its rows.
    const letter = await smtp.waitFor(suspect.email ?? '', 1);
    const text = letter.text ?? '';
    expect(text).toMatch(/Gewist:/);
    for (const word of [
      'Parket',
      'KO.12',
      'gerechtelijk',
      'politie',
      'judicial',
      '2027-01-31',
      'januari 2027',
    ])
      expect(text.toLowerCase()).not.toContain(word.toLowerCase());
    const listed = text.split('\n').filter((line) => line.startsWith('- '));
    expect(listed.length).toBeGreaterThan(0);
    for (const line of listed) expect(line).toMatch(/^- \p{L}/u);

    // The request still names the erased person for staff (a tombstone id) and discloses the other.
    const url = `/api/v1/authority-requests/${silent}`;
    expect((await requestAs(app, secondOfficer)('POST', `${url}/approve`, {})).statusCode).toBe(200);
    const disclosed = await requestAs(app, officer)('POST', `${url}/disclose`, {});
    expect(disclosed.statusCode, disclosed.body).toBe(200);
    const body = disclosed.json<{
      request: { subjectIds: number[] };
      persons: Array<{ subjectId: number }>;
    }>();
    expect(body.request.subjectIds).toEqual([suspect.subjectId, other.subjectId]);
    expect(body.persons.map((person) => person.subjectId)).toEqual([other.subjectId]);

    // On the silence's last day a new erasure still keeps the link …
    clock.set(new Date('2027-01-31T20:00:00Z'));
    const erase = async () =>
      requestAs(app, await loginAs(app, kernel, voiceking, 'privacy_officer'), 'rights_requests')(
        'DELETE',
        `/api/v1/people/${suspect.subjectId}`,
        {},
      );
    const during = await erase();
    expect(during.statusCode, during.body).toBe(200);
    expect(during.json()).toMatchObject({
      erased: [],
      keptSilently: [{ table: 'authority_request_subjects', rows: 1, until: '2027-01-31' }],
    });
    expect(await links(suspect.subjectId)).toEqual([silent]);
    // … the day after, the retention sweep erases it (the other person's link stays).
    clock.set(new Date('2027-02-01T08:00:00Z'));
    expect(await runRetentionSweep(kernel, DATA_MAP, voiceking.tenantId)).toMatchObject({ silencedLinks: 1 });
    expect(await links(suspect.subjectId)).toEqual([]);
    expect(await links(other.subjectId)).toEqual([silent]);
    clock.set(new Date('2026-11-24T09:00:00Z'));
  });
});
