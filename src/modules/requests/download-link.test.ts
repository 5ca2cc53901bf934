import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { unzip } from '../../../test/zip.js';
import { followLink, openLinkPage } from '../../../test/link-button.js';
import { buildApp } from '../../http/app.js';
import type { Kernel } from '../../kernel/kernel.js';
import { armTestHook } from '../../platform/test-hooks.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

// The access package's download link (issue 19 attack): a broken connection must not spend it
// (decision 0382).
const PUBLIC_URL = 'https://privacy.voiceking.example';
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voiceking: Tenant;
let origin: string;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  app = await buildApp({
    kernel,
    logger: testLogger,
    version: 'test',
    mailer: smtp.mailer,
    publicUrl: PUBLIC_URL,
  });
  origin = await app.listen({ host: '127.0.0.1', port: 0 });
  voiceking = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  armTestHook(undefined);
  await app.close();
  await smtp.close();
  await database.close();
});

let serial = 0;
/** A customer files an access request, enters the mailed code, and gets the link by mail. */
async function downloadLink(): Promise<{ path: string; email: string }> {
  serial += 1;
  const email = `lotte.pakket${serial}@mail.example`;
  await createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    { subjectType: 'customer', familyName: `Pakket${serial}`, givenName: 'Lotte', email },
  );
  const receipt = await app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/privacy/requests`,
    payload: { kind: 'access', email },
  });
  expect(receipt.statusCode, receipt.body).toBe(202);
  const { requestId } = receipt.json<{ requestId: string }>();
  const code = /\b(\d{6})\b/.exec((await smtp.waitFor(email)).text ?? '')?.[1] ?? '';
  const verified = await app.inject({
    method: 'POST',
    url: `/t/${voiceking.slug}/privacy/requests/${requestId}/verify`,
    payload: { code },
  });
  expect(verified.json()).toEqual({ state: 'fulfilled' });
  const letter: ParsedMail = await smtp.waitFor(email, 2);
  const link = /(https:\/\/privacy\.voiceking\.example\S+)/.exec(letter.text ?? '')?.[1] ?? '';
  expect(link).toContain('/privacy/downloads/');
  return { path: link.slice(PUBLIC_URL.length), email };
}

/** Opens the link's page (a GET counts no start, decision 0400) and posts its button over a real socket. */
async function pressDownloadButton(path: string): Promise<{ response: IncomingMessage; hangUp: () => void }> {
  const { button } = await openLinkPage(app, path);
  if (!button) throw new Error('no button on the download page');
  const body = new URLSearchParams(button.fields).toString();
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      `${origin}${button.action}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          cookie: `kluis_form=${button.formCookie}`,
        },
      },
      (response) => {
        response.on('error', () => undefined);
        resolve({ response, hangUp: () => outgoing.destroy() });
      },
    );
    outgoing.on('error', (error) => {
      if (!outgoing.destroyed) reject(error);
    });
    outgoing.end(body);
  });
}

/** Starts the download and breaks the connection once the answer has begun. */
async function abortedDownload(path: string): Promise<number> {
  armTestHook('requests.download-started:stall');
  try {
    const { response, hangUp } = await pressDownloadButton(path);
    hangUp();
    return response.statusCode ?? 0;
  } finally {
    armTestHook(undefined);
  }
}

/** Presses the download button, reads `atLeast` bytes of the package, and hangs up. */
async function brokenOffDownload(path: string, atLeast: number): Promise<number> {
  const { response, hangUp } = await pressDownloadButton(path);
  return new Promise<number>((resolve, reject) => {
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received < atLeast) return;
      hangUp();
      resolve(received);
    });
    response.on('end', () =>
      reject(new Error(`the whole package came (${received} bytes) before the hang-up`)),
    );
  });
}

/** 60,000 calls for the newest person, so that their package is still being written for a while. */
async function giveLongHistory(): Promise<void> {
  const { rows } = await runAsOwner<{ id: string }>(
    database.ownerUrl,
    'select max(subject_id)::text as id from people where tenant_id = $1',
    [voiceking.tenantId],
  );
  const subjectId = Number(rows[0]?.id);
  await runAsOwner(
    database.ownerUrl,
    `select set_config('app.tenant', $1, false), kluis_ensure_call_record_partition(date '2026-10-01')`,
    [String(voiceking.tenantId)],
  );
  await runAsOwner(
    database.ownerUrl,
    `insert into call_records (tenant_id, started_at, dedup_key, subject_id, caller_e164, destination, answered_at,
        ended_at, duration_seconds, billable_seconds, disposition, is_billable_leg, linked_id, cost_micros)
     select $1, t, 'abort-' || i || '-' || $2::text, $2::bigint, '+3292000000', '+32470' || lpad((i % 1000000)::text, 6, '0'), t,
            t + interval '90 seconds', 90, 90, 'answered', true, null, 50000
       from generate_series(1, 60000) i,
            lateral (select timestamptz '2026-10-02 00:00:00+00' + i * interval '20 seconds') x(t)`,
    [voiceking.tenantId, subjectId],
  );
}

async function linkState(path: string): Promise<{ attempts: number; spent: boolean }> {
  const rows = await runAsOwner<{ attempts: number; spent: boolean }>(
    database.ownerUrl,
    'select attempts, (used_at is not null or completed_at is not null) as spent from export_downloads where tenant_id = $1',
    [voiceking.tenantId],
  );
  expect(path).toBeTruthy();
  return rows.rows.at(-1) ?? { attempts: -1, spent: false };
}

describe('the access package download link (decision 0382)', () => {
  it('a download broken off mid-way does not spend the link: the next one gets the whole package; the link works an hour more, then it is spent (attack S18-9, decision 0873)', async () => {
    const { path, email } = await downloadLink();
    expect(await abortedDownload(path)).toBe(200);
    expect(await linkState(path)).toEqual({ attempts: 1, spent: false });

    const whole = await followLink(app, path);
    expect(whole.statusCode).toBe(200);
    const files = await unzip(whole.rawPayload);
    expect(files.get('access-report.json')).toContain(email);
    expect(files.get('access-report.html')).toContain('</html>');
    // Spent once the server has seen the package written to its end (after the answer is out).
    await expect.poll(() => linkState(path)).toEqual({ attempts: 2, spent: true });

    // Written to its end is no proof it arrived whole (attack S18-9): for an hour the link still
    // starts the download again (decision 0873), then it is spent.
    const within = await followLink(app, path);
    expect(within.statusCode).toBe(200);
    expect((await unzip(within.rawPayload)).get('access-report.json')).toContain(email);
    await runAsOwner(
      database.ownerUrl,
      `update export_downloads set completed_at = completed_at - interval '61 minutes' where tenant_id = $1`,
      [voiceking.tenantId],
    );
    const again = await followLink(app, path);
    expect(again.statusCode).toBe(404);
    expect(again.body).toContain('Deze link is onbekend, al gebruikt of verlopen');
  });

  it('VK-21: a person who closes the connection while the package is being written (attack S7-0) stops the download and nothing else: the server goes on answering, the link stays usable, and the next download gets the whole package', async () => {
    const { path } = await downloadLink();
    // A long history, so that the package is still being written when the person goes away.
    await giveLongHistory();

    const received = await brokenOffDownload(path, 64 * 1024);
    expect(received).toBeGreaterThanOrEqual(64 * 1024);
    // The server is still there for everyone, and the broken download spent nothing.
    await expect.poll(async () => (await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    await expect.poll(() => linkState(path)).toEqual({ attempts: 1, spent: false });

    const whole = await followLink(app, path);
    expect(whole.statusCode).toBe(200);
    const files = await unzip(whole.rawPayload);
    expect(files.get('access-report.json')).toContain('abort-60000');
    expect(files.get('access-report.html')).toContain('</html>');
    // Spent once the server has seen the package written to its end (after the answer is out).
    await expect.poll(() => linkState(path)).toEqual({ attempts: 2, spent: true });
  }, 120_000);

  it('a link serves at most 3 started downloads, and none once it has expired', async () => {
    const { path } = await downloadLink();
    for (let attempt = 1; attempt <= 3; attempt += 1) expect(await abortedDownload(path)).toBe(200);
    expect(await linkState(path)).toEqual({ attempts: 3, spent: true });
    const fourth = await followLink(app, path);
    expect(fourth.statusCode).toBe(404);

    const fresh = await downloadLink();
    await runAsOwner(
      database.ownerUrl,
      `update export_downloads set expires_at = now() - interval '1 second' where tenant_id = $1 and attempts = 0`,
      [voiceking.tenantId],
    );
    const expired = await followLink(app, fresh.path);
    expect(expired.statusCode).toBe(404);
    expect(await linkState(fresh.path)).toEqual({ attempts: 0, spent: false });
  });

  it('S8-7: while a download of the package runs, the link’s next start is 429 in the person’s language and counts no start; once the first is gone, the link works', async () => {
    const { path } = await downloadLink();
    await giveLongHistory();
    // The first download starts, and its reader takes the first bytes, then waits.
    const held = await pressDownloadButton(path);
    await new Promise<void>((resolve) =>
      held.response.once('data', () => {
        held.response.pause();
        resolve();
      }),
    );
    expect(await linkState(path)).toEqual({ attempts: 1, spent: false });

    const second = await followLink(app, path);
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toBe('10');
    expect(second.body).toContain('Er wordt al een download van uw gegevens gemaakt');
    expect(await linkState(path)).toEqual({ attempts: 1, spent: false });

    held.hangUp();
    await expect
      .poll(async () => (await followLink(app, path)).statusCode, { timeout: 20_000, interval: 200 })
      .toBe(200);
    await expect.poll(() => linkState(path)).toEqual({ attempts: 2, spent: true });
  }, 120_000);
});
