import { request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ParsedMail } from 'mailparser';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { signInByMailedLink, type MailingTestApp } from '../../../test/mailing-app.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { closeProxiedKernel, createProxiedKernel } from '../../../test/proxied-kernel.js';
import { startProxy, type TcpProxy } from '../../../test/tcp-proxy.js';
import { openLinkPage } from '../../../test/link-button.js';
import { buildApp } from '../../http/app.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Db } from '../../platform/db.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

// Attack S10-8 (decision 0641): the database lost in the middle of a person's own-data download.
const CALLS = 150_000;

let database: TestDatabase;
let proxy: TcpProxy;
let proxied: Db;
let kernel: Kernel;
let smtp: SmtpSink;
let app: FastifyInstance;
let origin: string;
let tenant: Tenant;
let cookie: string;
const PUBLIC_URL = 'https://portal.voiceking.example';

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startProxy(new URL(database.ownerUrl));
  // A frozen database (decision 0704) is given up after 2 s here instead of a minute.
  ({ db: proxied, kernel } = createProxiedKernel(database, proxy, { max: 6, copySilenceMs: 2000 }));
  smtp = await startSmtpSink();
  app = await buildApp({
    kernel,
    logger: testLogger,
    version: 'test',
    mailer: smtp.mailer,
    publicUrl: PUBLIC_URL,
    answerQuanta: { form: 0, link: 0, login: 0 },
  });
  origin = await app.listen({ host: '127.0.0.1', port: 0 });
  tenant = await createPolicyTenant(kernel, 'voiceking');
  const email = 'lara.langbeller@example.be';
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    { subjectType: 'customer', familyName: 'Langbeller', givenName: 'Lara', email, preferredLanguage: 'en' },
  );
  await insertCallHistory(person.subjectId, 'k');
  const testApp = { app, smtp } as unknown as MailingTestApp; // signInByMailedLink reads these two
  cookie = (await signInByMailedLink(testApp, tenant, email)).cookie;
}, 300_000);
afterAll(async () => {
  await closeProxiedKernel({ app, proxied, proxy, database });
  await smtp?.close();
});

/** A long call history, written at once by the owner, from 1 August 2026 on. */
async function insertCallHistory(subject: number, prefix: string): Promise<void> {
  const owner = new pg.Client({ connectionString: database.ownerUrl });
  await owner.connect();
  try {
    await owner.query('begin');
    await owner.query("select set_config('app.tenant', $1, true)", [String(tenant.tenantId)]);
    for (const month of ['2026-08-01', '2026-09-01', '2026-10-01'])
      await owner.query('select kluis_ensure_call_record_partition($1::date)', [month]);
    await owner.query(
      `insert into call_records (tenant_id, started_at, dedup_key, subject_id, caller_e164, destination, answered_at,
         ended_at, duration_seconds, billable_seconds, disposition, is_billable_leg, linked_id, cost_micros)
       select $1::int, at, $4::text || $2::bigint || '-' || g, $2::bigint, '+32470000001', '+3256' || lpad(g::text, 6, '0'),
              at + interval '2 seconds', at + interval '95.5 seconds', 95, 93, 'answered', true, null, 12000 + g
         from generate_series(1, $3::int) g,
              lateral (select timestamptz '2026-08-01' + (g * interval '20 seconds') as at) t`,
      [tenant.tenantId, subject, CALLS, prefix],
    );
    await owner.query('commit');
  } finally {
    await owner.end();
  }
}

interface Download {
  status: number;
  /** Reads `bytes` of the body, or less if it ends first. */
  read(bytes: number): Promise<void>;
  /** Resolves when the body has ended or the connection closed. */
  ended: Promise<void>;
}

/** A download over a real connection, read at the test's pace. */
function startDownload(
  path: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string } = {},
): Promise<Download> {
  return new Promise<Download>((resolve, reject) => {
    const outgoing = httpRequest(
      `${origin}${path}`,
      { method: options.method ?? 'GET', headers: options.headers ?? { cookie } },
      (response) => {
        response.on('error', () => undefined);
        response.pause();
        let done = false;
        const ended = new Promise<void>((settle) => {
          for (const event of ['end', 'close'])
            response.on(event, () => {
              done = true;
              settle();
            });
        });
        resolve({
          status: response.statusCode ?? 0,
          ended,
          read: async (bytes) => {
            let got = 0;
            while (got < bytes && !done) {
              const chunk = response.read() as Buffer | null;
              if (chunk !== null) {
                got += chunk.length;
                continue;
              }
              await new Promise<void>((wake) => {
                const settle = (): void => {
                  for (const event of ['readable', 'end', 'close']) response.off(event, settle);
                  wake();
                };
                for (const event of ['readable', 'end', 'close']) response.on(event, settle);
              });
            }
          },
        });
      },
    );
    outgoing.on('error', (error) => {
      if (!outgoing.destroyed) reject(error);
    });
    outgoing.end(options.body);
  });
}

let serial = 0;
/**
 * A customer with a long call history files an access or portability request, enters the mailed
 * code, and gets the download link by mail; returns a start of the download (the link's button).
 */
async function mailedDownload(kind: 'access' | 'portability'): Promise<() => Promise<Download>> {
  serial += 1;
  const email = `pieter.pakket${serial}@mail.example`;
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    { subjectType: 'customer', familyName: `Pakket${serial}`, givenName: 'Pieter', email },
  );
  await insertCallHistory(person.subjectId, `m${serial}-`);
  const receipt = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/privacy/requests`,
    payload: { kind, email },
  });
  expect(receipt.statusCode, receipt.body).toBe(202);
  const { requestId } = receipt.json<{ requestId: string }>();
  const code = /\b(\d{6})\b/.exec((await smtp.waitFor(email)).text ?? '')?.[1] ?? '';
  const verified = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/privacy/requests/${requestId}/verify`,
    payload: { code },
  });
  expect(verified.json()).toEqual({ state: 'fulfilled' });
  const letter: ParsedMail = await smtp.waitFor(email, 2);
  const link = /(https:\/\/portal\.voiceking\.example\S+)/.exec(letter.text ?? '')?.[1] ?? '';
  const path = link.slice(PUBLIC_URL.length);
  return async () => {
    const { button } = await openLinkPage(app, path);
    if (!button) throw new Error('no button on the download page');
    const body = new URLSearchParams(button.fields).toString();
    return startDownload(button.action, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(body),
        cookie: `kluis_form=${button.formCookie}`,
      },
      body,
    });
  };
}

/**
 * Cuts the database while `start`'s download is under way (the client reading), and returns how
 * long the body took to end after the cut; then brings the database back and returns the status
 * of the same person's next download (retried while a 429 says the last one still runs).
 */
async function cutMidDownload(
  start: () => Promise<Download>,
  how: 'cut' | 'freeze' = 'cut',
): Promise<{ endedAfterMs: number; next: number }> {
  const download = await start();
  expect(download.status).toBe(200);
  await download.read(100_000);
  const cutAt = Date.now();
  if (how === 'cut') await proxy.cut();
  else proxy.freeze();
  // The client keeps reading: the server must end the body, not leave it open.
  await Promise.all([download.read(Number.MAX_SAFE_INTEGER), download.ended]);
  const endedAfterMs = Date.now() - cutAt;
  // A frozen database comes back as a restarted one: its old sessions are gone.
  if (how === 'freeze') await proxy.cut();
  await proxy.restore();
  let next = 0;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const again = await start();
    next = again.status;
    await again.read(Number.MAX_SAFE_INTEGER);
    if (next !== 429) break;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  return { endedAfterMs, next };
}

describe('a download whose database goes away (attack S10-8, decision 0641)', () => {
  for (const format of ['zip', 'json'] as const)
    it(`the portal’s ${format} download ends within seconds of the database connection being lost, and the same person’s next download is accepted once the database is back`, async () => {
      const outcome = await cutMidDownload(() =>
        startDownload(`/t/${tenant.slug}/account/download/${format}?lang=en`),
      );
      expect(outcome.endedAfterMs).toBeLessThan(10_000);
      expect(outcome.next).toBe(200);
    }, 180_000);

  for (const kind of ['access', 'portability'] as const)
    it(`the mailed ${kind} download ends within seconds of the database connection being lost, and the link downloads again once the database is back`, async () => {
      const start = await mailedDownload(kind);
      const outcome = await cutMidDownload(start);
      expect(outcome.endedAfterMs).toBeLessThan(10_000);
      expect(outcome.next).toBe(200);
    }, 180_000);

  it('the portal’s zip download ends within seconds of the database no longer answering without closing its connections (decision 0704), and the same person’s next download is accepted once the database is back', async () => {
    const outcome = await cutMidDownload(
      () => startDownload(`/t/${tenant.slug}/account/download/zip?lang=en`),
      'freeze',
    );
    // The silence limit is 2 s here; the client stall timer (30 s, decision 0531) is not what ends it.
    expect(outcome.endedAfterMs).toBeLessThan(15_000);
    expect(outcome.next).toBe(200);
  }, 180_000);
});
