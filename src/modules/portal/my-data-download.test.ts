import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { signInByMailedLink, type MailingTestApp } from '../../../test/mailing-app.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import { unzip } from '../../../test/zip.js';
import { buildApp, type HttpDependencies } from '../../http/app.js';
import { buildAccessReport } from '../../kernel/access-report/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createLogger } from '../../platform/logger.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

// Attack S7-7 and S7-8: the person's own-data downloads are written while the rows are read, one
// at a time per person (decision 0490), and a client that hangs up half-way is no server error.
const PUBLIC_URL = 'https://portal.voiceking.example';
const CALLS = 20_000;
const BIG_CALLS = 150_000;

/** Every log line the app writes, parsed. */
const logLines: Array<Record<string, unknown>> = [];
const logSink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n'))
      if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
let app: FastifyInstance;
let voiceking: Tenant;
let origin: string;
let cookie: string;
let bigCookie: string;
let subjectId: number;

/** The app as these tests run it: its log lines kept, the public doors answering at once. */
function buildPortalApp(extra: Partial<HttpDependencies> = {}): Promise<FastifyInstance> {
  return buildApp({
    kernel,
    logger: createLogger({ level: 'info', destination: logSink }),
    version: 'test',
    mailer: smtp.mailer,
    publicUrl: PUBLIC_URL,
    answerQuanta: { form: 0, link: 0, login: 0 },
    ...extra,
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  app = await buildPortalApp();
  origin = await app.listen({ host: '127.0.0.1', port: 0 });
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  const email = 'vera.veelbeller@example.be';
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
      givenName: 'Vera "V" \\ Ω',
      email,
      preferredLanguage: 'en',
    },
  );
  subjectId = person.subjectId;
  await insertCallHistory(subjectId, CALLS, '5 minutes');
  const testApp = { app, smtp } as unknown as MailingTestApp; // signInByMailedLink reads these two
  cookie = (await signInByMailedLink(testApp, voiceking, email)).cookie;
  // A longer history, whose report outgrows what the sockets hold while nobody reads it.
  const bigEmail = 'bruno.bigbeller@example.be';
  const big = await createPerson(
    kernel,
    {
      tenantId: voiceking.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: 'Bigbeller',
      givenName: 'Bruno',
      email: bigEmail,
      preferredLanguage: 'en',
    },
  );
  await insertCallHistory(big.subjectId, BIG_CALLS, '20 seconds');
  bigCookie = (await signInByMailedLink(testApp, voiceking, bigEmail)).cookie;
});

/** A long call history, written at once (as the bench does), from 1 August 2026 on. */
async function insertCallHistory(subject: number, calls: number, every: string): Promise<void> {
  const owner = new pg.Client({ connectionString: database.ownerUrl });
  await owner.connect();
  try {
    await owner.query('begin');
    await owner.query("select set_config('app.tenant', $1, true)", [String(voiceking.tenantId)]);
    for (const month of ['2026-08-01', '2026-09-01', '2026-10-01'])
      await owner.query('select kluis_ensure_call_record_partition($1::date)', [month]);
    await owner.query(
      `insert into call_records (tenant_id, started_at, dedup_key, subject_id, caller_e164, destination, answered_at,
         ended_at, duration_seconds, billable_seconds, disposition, is_billable_leg, linked_id, cost_micros)
       select $1::int, at, 'k' || $2::bigint || '-' || g, $2::bigint, '+32470000001', '+3256' || lpad(g::text, 6, '0'),
              at + interval '2 seconds', at + interval '95.5 seconds', 95, 93, 'answered', true, null, 12000 + g
         from generate_series(1, $3::int) g,
              lateral (select timestamptz '2026-08-01' + (g * $4::interval) as at) t`,
      [voiceking.tenantId, subject, calls, every],
    );
    await owner.query('commit');
  } finally {
    await owner.end();
  }
}
afterAll(async () => {
  await app?.close();
  await smtp?.close();
  await database?.close();
});

interface Started {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Reads `bytes` more of the body (or to its end) and keeps them. */
  read(bytes: number): Promise<void>;
  /** Reads the rest of the body. */
  rest(): Promise<Buffer>;
  /** Closes the connection. */
  hangUp(): void;
}

/** A download over a real connection, read at the test's pace. */
async function startDownload(path: string, as = cookie, at = origin): Promise<Started> {
  return new Promise<Started>((resolve, reject) => {
    const outgoing = httpRequest(`${at}${path}`, { headers: { cookie: as } }, (response) => {
      response.on('error', () => undefined);
      response.pause();
      const chunks: Buffer[] = [];
      let ended = false;
      // A download the server breaks off ends with 'close' (no 'end').
      for (const event of ['end', 'close'])
        response.on(event, () => {
          ended = true;
        });
      const read = async (bytes: number): Promise<void> => {
        let got = 0;
        while (got < bytes && !ended) {
          const chunk = response.read() as Buffer | null;
          if (chunk === null) {
            await new Promise<void>((done) => {
              const settle = (): void => {
                for (const event of ['readable', 'end', 'close']) response.off(event, settle);
                done();
              };
              for (const event of ['readable', 'end', 'close']) response.on(event, settle);
            });
            continue;
          }
          chunks.push(chunk);
          got += chunk.length;
        }
      };
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        read,
        rest: async () => {
          await read(Number.MAX_SAFE_INTEGER);
          return Buffer.concat(chunks);
        },
        hangUp: () => outgoing.destroy(),
      });
    });
    outgoing.on('error', (error) => {
      if (!outgoing.destroyed) reject(error);
    });
    outgoing.end();
  });
}

const base = (): string => `/t/${voiceking.slug}/account`;

/** The report without the moment it was made. */
// Two reports differ in their time and in who consulted the data: each lists the exports
// before it (decision 0590), so a later report has one more.
const undated = (report: Record<string, unknown>): Record<string, unknown> => ({
  ...report,
  generatedAt: 'x',
  consultations: 'x',
});

describe('own-data downloads stream (attack S7-7, S7-8, decision 0490)', () => {
  it('S7-7: /account/data and /account/download/json of a person with 20,000 call records are the access report, written while read, the same document as the report built in memory', async () => {
    const built = await buildAccessReport(kernel, DATA_MAP, {
      tenantId: voiceking.tenantId,
      actor: { kind: 'subject', subjectId },
      purpose: 'rights_requests',
      subjectId,
      language: 'en',
    });
    // Format v2 (decision 0491): each column's category once per table, rows as column → value.
    expect(built.format).toBe('kluis.access-report.v2');
    const calls = built.data.find((table) => table.table === 'call_records');
    expect(calls?.rows).toHaveLength(CALLS);
    expect(calls?.columns).toMatchObject({
      destination: 'kluis.telephony.call_record',
      started_at: 'kluis.telephony.call_record',
    });
    expect(calls?.rows.find((row) => row.destination === '+3256000001')).toMatchObject({
      destination: '+3256000001',
      started_at: '2026-08-01T00:05:00.000Z',
      ended_at: '2026-08-01T00:06:35.500Z',
      cost_micros: 12001,
    });
    const people = built.data.find((table) => table.table === 'people');
    expect(people?.rows[0]).toMatchObject({ given_name: 'Vera "V" \\ Ω' });
    expect(people?.columns.given_name).toBe('user.name');
    // Every category a row holds a value for is described.
    const described = new Set(built.categories.map((category) => category.key));
    for (const table of built.data)
      for (const row of table.rows)
        for (const column of Object.keys(row)) expect(described).toContain(table.columns[column]);

    const data = await app.inject({ method: 'GET', url: `${base()}/data`, headers: { cookie } });
    expect(data.statusCode).toBe(200);
    expect(data.headers['content-type']).toBe('application/json; charset=utf-8');
    // The API answers in the policy's first language; the download in the page's (English here).
    const api = await buildAccessReport(kernel, DATA_MAP, {
      tenantId: voiceking.tenantId,
      actor: { kind: 'subject', subjectId },
      purpose: 'rights_requests',
      subjectId,
      language: 'nl',
    });
    expect(undated(data.json())).toEqual(undated(api as unknown as Record<string, unknown>));

    const download = await startDownload(`${base()}/download/json?lang=en`);
    expect(download.status).toBe(200);
    expect(download.headers['content-disposition']).toBe(
      `attachment; filename="${voiceking.slug}-my-data.json"`,
    );
    expect(download.headers['cache-control']).toBe('no-store');
    const parsed = JSON.parse((await download.rest()).toString('utf8')) as Record<string, unknown>;
    expect(undated(parsed)).toEqual(undated(built as unknown as Record<string, unknown>));
  });

  it('S7-8: a client that hangs up half-way through the JSON or the ZIP leaves the server answering, its next download whole, and logs no 500 and nothing at error level', async () => {
    const before = logLines.length;
    for (const format of ['json', 'zip']) {
      const download = await startDownload(`${base()}/download/${format}`);
      expect(download.status).toBe(200);
      await download.read(200_000);
      download.hangUp();
    }
    // The slot is given back once the writer has stopped: the next download runs to its end.
    let zip: Buffer | undefined;
    for (let attempt = 0; attempt < 50 && !zip; attempt += 1) {
      const again = await startDownload(`${base()}/download/zip`);
      if (again.status === 429) {
        await again.rest();
        await new Promise((done) => setTimeout(done, 100));
        continue;
      }
      expect(again.status).toBe(200);
      zip = await again.rest();
    }
    const files = await unzip(zip ?? Buffer.alloc(0));
    // The call records come as CSV only (decision 0825): every call once, none lost or doubled.
    expect(files.has('call_records.json')).toBe(false);
    const csvLines = files.get('call_records.csv')?.trim().split('\r\n') ?? [];
    expect(csvLines).toHaveLength(CALLS + 1);
    const header = csvLines[0]?.split(',') ?? [];
    const destination = header.indexOf('destination');
    // Exactly as stored: a phone number keeps its '+', no apostrophe (attack S18-5, decision 0870).
    expect(
      csvLines
        .slice(1)
        .map((line) => line.split(',')[destination])
        .sort(),
    ).toEqual(
      Array.from({ length: CALLS }, (_, index) => `+3256${String(index + 1).padStart(6, '0')}`).sort(),
    );
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);

    const logged = logLines.slice(before);
    expect(logged.filter((line) => Number(line.level) >= 50)).toEqual([]);
    expect(
      logged.filter((line) => (line.res as { statusCode?: number } | undefined)?.statusCode === 500),
    ).toEqual([]);
    expect(logged.some((line) => line.msg === 'export download interrupted by the client')).toBe(true);
  });

  it('S7-7: a second download by the same person while the first runs is 429 export_in_progress with Retry-After; another person is not held up', async () => {
    const first = await startDownload(`${base()}/download/json`, bigCookie);
    expect(first.status).toBe(200);
    await first.read(1000);
    // The first one waits for its reader (backpressure) and keeps the person's slot.
    const page = await app.inject({
      method: 'GET',
      url: `${base()}/download/zip`,
      headers: { cookie: bigCookie },
    });
    expect(page.statusCode).toBe(429);
    expect(page.headers['retry-after']).toBe('10');
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('A download of your data is already running');
    const api = await app.inject({ method: 'GET', url: `${base()}/data`, headers: { cookie: bigCookie } });
    expect(api.statusCode).toBe(429);
    expect(api.headers['retry-after']).toBe('10');
    expect(api.json()).toMatchObject({ status: 429, code: 'export_in_progress' });
    // Another person is not held up.
    const other = await app.inject({ method: 'GET', url: `${base()}/data`, headers: { cookie } });
    expect(other.statusCode).toBe(200);

    // The first download is whole; then the person may download again.
    const whole = JSON.parse((await first.rest()).toString('utf8')) as { data: Array<{ table: string }> };
    expect(whole.data.map((table) => table.table)).toContain('call_records');
    let status = 429;
    for (let attempt = 0; attempt < 50 && status === 429; attempt += 1) {
      const again = await app.inject({
        method: 'GET',
        url: `${base()}/data`,
        headers: { cookie: bigCookie },
      });
      status = again.statusCode;
      if (status === 429) await new Promise((done) => setTimeout(done, 100));
    }
    expect(status).toBe(200);
  });
});

describe('exports never hold the pool at a client’s pace (attack S8-1, decision 0531)', () => {
  let paced: FastifyInstance;
  let pacedOrigin: string;
  const STALL_MS = 1500;

  beforeAll(async () => {
    // The same server with one export connection and a short stall time.
    paced = await buildPortalApp({ exportPace: { connections: 1, stallMs: STALL_MS } });
    pacedOrigin = await paced.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await paced?.close();
  });

  /** The app's connections inside a transaction (a running export holds one). */
  async function appTransactions(): Promise<number> {
    const owner = new pg.Client({ connectionString: database.ownerUrl });
    await owner.connect();
    try {
      const { rows } = await owner.query<{ n: string }>(
        `select count(*) as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()
            and (state like 'idle in transaction%' or (state = 'active' and query ilike 'copy%'))`,
      );
      return Number(rows[0]?.n ?? 0);
    } finally {
      await owner.end();
    }
  }

  it('a download whose client stops reading is ended after the stall time, its transaction rolled back; while it runs the process’s last export connection is taken (429 exports_busy with Retry-After, a page in the person’s language); then the next download is whole', async () => {
    const before = logLines.length;
    const stalled = await startDownload(`${base()}/download/json?lang=en`, cookie, pacedOrigin);
    expect(stalled.status).toBe(200);
    await stalled.read(1000);
    expect(await appTransactions()).toBeGreaterThan(0);

    // While it holds the only export connection, another export waits outside, not in the pool.
    const api = await paced.inject({ method: 'GET', url: `${base()}/data`, headers: { cookie } });
    expect(api.statusCode).toBe(429);
    expect(api.headers['retry-after']).toBe('10');
    expect(api.json()).toMatchObject({ status: 429, code: 'exports_busy' });
    const page = await paced.inject({
      method: 'GET',
      url: `${base()}/download/zip?lang=en`,
      headers: { cookie },
    });
    expect(page.statusCode).toBe(429);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('Many downloads are being made right now');
    // Other work of the server goes on meanwhile.
    expect((await paced.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    // No byte taken for the stall time: the server ends the download and rolls its reading back.
    let open = 1;
    for (let attempt = 0; attempt < 100 && open > 0; attempt += 1) {
      await new Promise((done) => setTimeout(done, 100));
      open = await appTransactions();
    }
    expect(open).toBe(0);
    const cut = await stalled.rest();
    expect(() => JSON.parse(cut.toString('utf8')) as unknown).toThrow();
    expect(
      logLines.slice(before).some((line) => line.msg === 'export download ended: the client took no bytes'),
    ).toBe(true);

    // The connection and the person's slot are free again: the next download is whole.
    const again = await startDownload(`${base()}/download/json?lang=en`, cookie, pacedOrigin);
    expect(again.status).toBe(200);
    const whole = JSON.parse((await again.rest()).toString('utf8')) as { data: Array<{ table: string }> };
    expect(whole.data.map((table) => table.table)).toContain('call_records');
  });
});
