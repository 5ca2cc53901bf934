import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { followLink } from '../../../test/link-button.js';
import {
  signInByMailedLink,
  startMailingTestApp,
  type MailingTestApp,
  type PortalSession,
} from '../../../test/mailing-app.js';
import { unzip } from '../../../test/zip.js';
import { createPerson } from '../parties/index.js';

// Attack S8-4: a HEAD of an export route ran the whole export behind the headers (Fastify answers
// HEAD with the GET handler and drains its body), took the person's one export slot and wrote the
// export's audit entry. A HEAD now answers from the headers alone (decision 0580).
const PUBLIC_URL = 'https://portal.voiceking.example';
const EMAIL = 'hanne.hoofd@example.be';

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
      familyName: 'Hoofd',
      givenName: 'Hanne',
      email: EMAIL,
      preferredLanguage: 'en',
    },
  );
  session = await signInByMailedLink(testApp, voiceking, EMAIL);
});
afterAll(async () => {
  await testApp?.close();
});

/** Every audit entry of the tenant, chained or still pending. */
async function auditEntries(): Promise<number> {
  const { rows } = await runAsOwner<{ n: string }>(
    testApp.database.ownerUrl,
    `select (select count(*) from audit_log where tenant_id = $1)
          + (select count(*) from audit_pending where tenant_id = $1) as n`,
    [testApp.voiceking.tenantId],
  );
  return Number(rows[0]?.n);
}

function ask(method: 'GET' | 'HEAD', url: string) {
  return testApp.app.inject({ method, url, headers: { cookie: session.cookie } });
}

describe('HEAD of an export route (attack S8-4, decision 0580)', () => {
  it('S8-4: HEAD of /account/data and of the JSON and ZIP downloads answers the headers only: no slot taken, no audit entry; the GETs right after are whole', async () => {
    const base = `/t/${testApp.voiceking.slug}/account`;
    const before = await auditEntries();
    // Several at once, as a link checker or a download manager sends them: each one 200.
    const heads = await Promise.all(
      [`${base}/data`, `${base}/data`, `${base}/download/json`, `${base}/download/zip`].map((url) =>
        ask('HEAD', url),
      ),
    );
    expect(heads.map((head) => head.statusCode)).toEqual([200, 200, 200, 200]);
    for (const head of heads) {
      expect(head.body).toBe('');
      expect(head.headers['content-length']).toBeUndefined();
      expect(head.headers['cache-control']).toBe('no-store');
    }
    expect(heads[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(heads[2]?.headers['content-disposition']).toBe(
      `attachment; filename="${testApp.voiceking.slug}-my-data.json"`,
    );
    expect(heads[3]?.headers['content-type']).toBe('application/zip');
    expect(heads[3]?.headers['content-disposition']).toBe(
      `attachment; filename="${testApp.voiceking.slug}-my-data.zip"`,
    );
    expect(await auditEntries()).toBe(before);

    // Nothing runs behind the HEADs: the GETs at once are whole, never 429 export_in_progress.
    const data = await ask('GET', `${base}/data`);
    expect(data.statusCode, data.body).toBe(200);
    const report = data.json<{ data: unknown }>();
    expect(JSON.stringify(report.data)).toContain('Hoofd');
    const zip = await testApp.app.inject({
      method: 'GET',
      url: `${base}/download/zip`,
      headers: { cookie: session.cookie },
    });
    expect(zip.statusCode).toBe(200);
    expect((await unzip(zip.rawPayload)).size).toBeGreaterThan(0);
    expect(await auditEntries()).toBeGreaterThan(before);
  });

  it('S8-4: HEAD without a session is refused as the GET is; HEAD of a mailed package link counts no start and writes no audit entry', async () => {
    const signedOut = await testApp.app.inject({
      method: 'HEAD',
      url: `/t/${testApp.voiceking.slug}/account/data`,
    });
    expect(signedOut.statusCode).toBe(401);

    const asked = await testApp.app.inject({
      method: 'POST',
      url: `/t/${testApp.voiceking.slug}/account/requests`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { kind: 'access' },
    });
    expect(asked.statusCode, asked.body).toBe(200);
    const letter = await testApp.smtp.waitFor(EMAIL, 2);
    const link = /(https:\/\/portal\.voiceking\.example\S+\/privacy\/downloads\/\S+)/.exec(
      letter.text ?? '',
    )?.[1];
    expect(link).toBeTruthy();
    const path = (link ?? '').slice(PUBLIC_URL.length);
    const attempts = async (): Promise<number> => {
      const { rows } = await runAsOwner<{ attempts: number }>(
        testApp.database.ownerUrl,
        'select attempts from export_downloads where tenant_id = $1',
        [testApp.voiceking.tenantId],
      );
      return rows[0]?.attempts ?? -1;
    };
    const before = await auditEntries();
    const head = await testApp.app.inject({ method: 'HEAD', url: path });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(await attempts()).toBe(0);
    expect(await auditEntries()).toBe(before);
    // The link then downloads whole.
    const download = await followLink(testApp.app, path);
    expect(download.statusCode).toBe(200);
    expect((await unzip(download.rawPayload)).has('access-report.json')).toBe(true);
  });
});

describe('HEAD of the portal pages (decision 0621)', () => {
  it('a HEAD of each my-data page of the portal reads no personal data and writes no audit entry; the GETs after it are recorded', async () => {
    const base = `/t/${testApp.voiceking.slug}/account`;
    const pages = [
      base,
      `${base}/my-data`,
      `${base}/my-data/people`,
      `${base}/correct`,
      `${base}/erase`,
      `${base}/my-requests`,
      `${base}/settings`,
      `${base}/my-consents`,
    ];
    const before = await auditEntries();
    for (const page of pages) {
      const head = await ask('HEAD', page);
      expect(head.statusCode, `${page} ${head.body}`).toBeLessThan(500);
      expect(head.body, page).toBe('');
    }
    expect((await ask('HEAD', `${base}/my-data`)).statusCode).toBe(200);
    expect(await auditEntries()).toBe(before);

    const page = await ask('GET', `${base}/my-data`);
    expect(page.statusCode).toBe(200);
    expect(await auditEntries()).toBeGreaterThan(before);
  });
});
