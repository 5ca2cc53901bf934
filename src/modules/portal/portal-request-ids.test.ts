import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import {
  signInByMailedLink,
  startMailingTestApp,
  type MailingTestApp,
  type PortalSession,
} from '../../../test/mailing-app.js';
import { createPerson } from '../parties/index.js';

// Decision 0728: the portal's audit entries carry their request's id, as the staff API's do (0521).
const PUBLIC_URL = 'https://portal.voiceking.example';
const EMAIL = 'ria.verzoek@example.be';

let testApp: MailingTestApp;
let session: PortalSession;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC_URL });
  const { kernel, voiceking } = testApp;
  await createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: 'Verzoek',
      givenName: 'Ria',
      email: EMAIL,
      preferredLanguage: 'en',
    },
  );
  session = await signInByMailedLink(testApp, voiceking, EMAIL);
});
afterAll(async () => {
  await testApp?.close();
});

/** The request ids of the tenant's entries after `afterSeq` and every pending one, oldest first. */
async function entriesSince(afterSeq: number, afterPending: number): Promise<Array<string | null>> {
  const { rows } = await runAsOwner<{ request_id: string | null }>(
    testApp.database.ownerUrl,
    `select request_id from (
       select 0 as pending, seq as n, request_id from audit_log where tenant_id = $1 and seq > $2
       union all
       select 1, pending_id, request_id from audit_pending where tenant_id = $1 and pending_id > $3) entries
     order by pending, n`,
    [testApp.voiceking.tenantId, afterSeq, afterPending],
  );
  return rows.map((row) => row.request_id);
}

async function positions(): Promise<{ seq: number; pending: number }> {
  const { rows } = await runAsOwner<{ seq: string; pending: string }>(
    testApp.database.ownerUrl,
    `select coalesce((select max(seq) from audit_log where tenant_id = $1), 0) as seq,
            coalesce((select max(pending_id) from audit_pending where tenant_id = $1), 0) as pending`,
    [testApp.voiceking.tenantId],
  );
  return { seq: Number(rows[0]?.seq), pending: Number(rows[0]?.pending) };
}

describe("the portal's audit entries name their request (decision 0728)", () => {
  it("a portal read of the person's own data writes entries carrying the id the response's x-request-id header names, and a second read its own", async () => {
    const url = `/t/${testApp.voiceking.slug}/account/data`;
    const ids: string[] = [];
    for (let read = 0; read < 2; read += 1) {
      const before = await positions();
      const response = await testApp.app.inject({ method: 'GET', url, headers: { cookie: session.cookie } });
      expect(response.statusCode, response.body).toBe(200);
      const requestId = String(response.headers['x-request-id']);
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      const entries = await entriesSince(before.seq, before.pending);
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.every((id) => id === requestId)).toBe(true);
      ids.push(requestId);
    }
    expect(ids[0]).not.toBe(ids[1]);
  });
});
