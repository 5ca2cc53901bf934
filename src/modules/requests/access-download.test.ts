import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner } from '../../../test/database.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { unzip } from '../../../test/zip.js';
import { AccessReportSchema, renderAccessReportHtml } from '../../kernel/access-report/index.js';
import { insertCalls } from '../billing/billing.test-helpers.js';
import { createPerson } from '../parties/index.js';
import { followLink, pastDownloadGrace } from '../../../test/link-button.js';

const PUBLIC = 'https://privacy.voiceking.example';
let testApp: MailingTestApp;

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: PUBLIC });
});
afterAll(async () => {
  await testApp?.close();
});

describe('the access download, written while it is read (issue 19 remainder)', () => {
  it('VK-21: the single-use download of a person with 2,500 call records carries every row in the JSON and the HTML, both written from one walk of the data while it is read, under one gate decision', async () => {
    const { app, kernel, smtp, voiceking, database } = testApp;
    const email = 'mira.veelbeller@example.be';
    const person = await createPerson(
      kernel,
      {
        tenantId: voiceking.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      {
        subjectType: 'customer',
        familyName: 'Veelbeller',
        givenName: 'Mira',
        email,
        preferredLanguage: 'en',
      },
    );
    const calls = Array.from({ length: 2500 }, (_, index) => ({
      subjectId: person.subjectId,
      startedAt: `2026-09-${String((index % 28) + 1).padStart(2, '0')}T${String(index % 24).padStart(2, '0')}:${String(index % 60).padStart(2, '0')}:00Z`,
      destination: '+32470999888',
      seconds: 60 + (index % 100),
      costMicros: 150_000,
    }));
    await insertCalls(kernel, voiceking, calls);

    const submitted = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests`,
      payload: { kind: 'access', email, language: 'en' },
    });
    expect(submitted.statusCode).toBe(202);
    const { requestId } = submitted.json<{ requestId: string }>();
    const code = /\b(\d{6})\b/.exec((await smtp.waitFor(email, 1)).text ?? '')?.[1] ?? '';
    const verified = await app.inject({
      method: 'POST',
      url: `/t/${voiceking.slug}/privacy/requests/${requestId}/verify`,
      payload: { code },
    });
    expect(verified.json()).toEqual({ state: 'fulfilled' });
    const link =
      /(https:\/\/privacy\.voiceking\.example\S+)/.exec((await smtp.waitFor(email, 2)).text ?? '')?.[1] ?? '';
    const before = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log where tenant_id = $1 and action = 'export'`,
      [voiceking.tenantId],
    );

    const download = await followLink(app, link.replace(PUBLIC, ''));
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/zip');
    expect(download.headers['cache-control']).toBe('no-store');
    const files = await unzip(download.rawPayload);
    const report = AccessReportSchema.parse(JSON.parse(files.get('access-report.json') ?? '{}'));
    const callRows = report.data.find((table) => table.table === 'call_records')?.rows ?? [];
    expect(callRows).toHaveLength(2500);
    expect(report.controller.enterpriseNumber).toBe('BE0653.989.638');
    const html = files.get('access-report.html') ?? '';
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.trimEnd().endsWith('</body></html>')).toBe(true);
    expect(html.match(/\+32470999888/g)?.length).toBe(2500);
    expect(html).toContain('Veelbeller');
    expect(html).toContain('Belgian Data Protection Authority');
    // The HTML is the report's document for a person to read, from the same walk as the JSON.
    expect(html).toBe(renderAccessReportHtml(report));
    // Two files from one walk of the data: one audited export decision, nothing per page
    // (decision 0492).
    const after = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log where tenant_id = $1 and action = 'export'`,
      [voiceking.tenantId],
    );
    expect((after.rows[0]?.n ?? 0) - (before.rows[0]?.n ?? 0)).toBe(1);
    // Spent an hour after it was written to its end (decision 0873).
    await pastDownloadGrace(database.ownerUrl, voiceking.tenantId);
    expect((await followLink(app, link.replace(PUBLIC, ''))).statusCode).toBe(404);
  });
});
