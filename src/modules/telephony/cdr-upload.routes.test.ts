import { readdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { runCdrUploads } from '../../jobs/cdr-upload.job.js';
import type { Kernel } from '../../kernel/kernel.js';
import { prepareTenant } from '../billing/billing.test-helpers.js';
import type { Tenant } from '../tenants/index.js';
import type { CdrUploadRunSettings } from './cdr-upload.service.js';
import { answeredCall, bulkConnection, registerCustomers, tempDir } from './telephony.test-helpers.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let voiceking: Tenant;
let billing: StaffSession;
let sales: StaffSession;
let otherBilling: StaffSession;
let spoolDir: string;
let run: CdrUploadRunSettings;
const MAX_BYTES = 64 * 1024;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  spoolDir = await tempDir();
  run = { kernel, connection: bulkConnection(database), spoolDir, batchSize: 2 };
  // The job is run by the test itself (no queue here), so no wake.
  app = await createTestApp(kernel, { cdrUploads: { spoolDir, maxBytes: MAX_BYTES } });
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  billing = await loginAs(app, kernel, voxtra, 'billing');
  sales = await loginAs(app, kernel, voxtra, 'sales');
  otherBilling = await loginAs(app, kernel, voiceking, 'billing');
  const [customer = 0] = await registerCustomers(kernel, voxtra, 1);
  const assigned = await app.inject({
    method: 'POST',
    url: '/api/v1/phone-numbers/assignments',
    headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'x-kluis-purpose': 'invoicing' },
    payload: { number: '056 22 33 44', subjectId: customer, from: '2024-06-01' },
  });
  expect(assigned.statusCode, assigned.body).toBe(201);
}, 60_000);
afterAll(async () => {
  await app.close();
  await database.close();
});

function upload(session: StaffSession, name: string, body: string, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/call-record-imports?name=${encodeURIComponent(name)}`,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      'content-type': 'text/csv',
      ...headers,
    },
    payload: body,
  });
}

function get(session: StaffSession, url: string, purpose?: string) {
  return app.inject({
    method: 'GET',
    url,
    headers: { cookie: session.cookie, ...(purpose ? { 'x-kluis-purpose': purpose } : {}) },
  });
}

const good = (id: string, minute: number) =>
  answeredCall(id, '056223344', '0470123456', `2024-06-03 09:${String(minute).padStart(2, '0')}:00`, 60);
/** Five good calls, a stranger's call (not attributed) and a line with a broken time. */
const FILE_LINES = [
  good('u.1', 1),
  good('u.2', 2),
  answeredCall('u.3', '056999999', '0470123456', '2024-06-03 09:03:00', 60),
  good('u.4', 4),
  good('u.5', 5).replace('"2024-06-03 09:05:00"', '"yesterday, at five"'),
  good('u.6', 6),
  good('u.7', 7),
];
const FILE = `${FILE_LINES.join('\n')}\n`;

async function callsOf(tenantId: number): Promise<string[]> {
  const result = await runAsOwner<{ dedup_key: string }>(
    database.ownerUrl,
    "select split_part(dedup_key, '#', 1) as dedup_key from call_records where tenant_id = $1 order by 1",
    [tenantId],
  );
  return result.rows.map((row) => row.dedup_key);
}

describe('call-record files uploaded over HTTP (issue 20, decision 0360)', () => {
  it('VX-5: billing uploads a file, the job imports it once, the import shows its counts and the rejected lines download as CSV', async () => {
    const sent = await upload(billing, 'june/switch.csv', FILE, { 'idempotency-key': 'upload-june-1' });
    expect(sent.statusCode, sent.body).toBe(202);
    const { importId } = sent.json<{ importId: number; status: string }>();
    expect(sent.json()).toMatchObject({ status: 'queued' });
    expect(sent.headers.location).toBe(`/api/v1/call-record-imports/${importId}`);
    // The same key again: the same import, nothing queued twice.
    const again = await upload(billing, 'june/switch.csv', FILE, { 'idempotency-key': 'upload-june-1' });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ importId, status: 'queued' });
    expect(again.headers['idempotent-replayed']).toBe('true');

    const waiting = await get(billing, `/api/v1/call-record-imports/${importId}`);
    expect(waiting.json()).toMatchObject({ status: 'queued', source: 'upload', fileName: 'switch.csv' });
    expect(waiting.json<{ sizeBytes: number }>().sizeBytes).toBe(Buffer.byteLength(FILE));

    await runCdrUploads(run, testLogger);
    const done = await get(billing, `/api/v1/call-record-imports/${importId}`);
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json<{ errorCode: string | null }>().errorCode).toBeNull();
    expect(done.json()).toMatchObject({
      status: 'finished',
      linesRead: 7,
      imported: 5,
      rejected: 2,
      duplicates: 0,
      rejectsByReason: { not_attributed: 1, invalid_timestamp: 1 },
    });
    const keptUntil = Date.parse(done.json<{ rejectsKeptUntil: string }>().rejectsKeptUntil);
    const finishedAt = Date.parse(done.json<{ finishedAt: string }>().finishedAt);
    expect(Math.round((keptUntil - finishedAt) / 86_400_000)).toBe(30);
    expect(await callsOf(voxtra.tenantId)).toEqual(['u.1', 'u.2', 'u.4', 'u.6', 'u.7']);
    // The spool is gone once imported.
    expect(await readdir(spoolDir)).toEqual([]);

    const rejects = await get(billing, `/api/v1/call-record-imports/${importId}/rejects`, 'call_billing');
    expect(rejects.statusCode, rejects.body).toBe(200);
    expect(rejects.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(rejects.headers['content-disposition']).toContain(`import-${importId}-rejects.csv`);
    const rows: string[][] = parse(rejects.body, {});
    expect(rows).toEqual([
      ['line', 'reason', 'content'],
      ['3', 'not_attributed', FILE_LINES[2]],
      ['5', 'invalid_timestamp', FILE_LINES[4]],
    ]);
    // The read is on record: under call_billing, by the billing member.
    const audited = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log where tenant_id = $1 and purpose = 'call_billing'
         and action = 'read' and decision = 'allowed' and categories @> array['kluis.telephony.call_record']`,
      [voxtra.tenantId],
    );
    expect(audited.rows[0]?.n).toBeGreaterThan(0);

    // The same file uploaded again: every call a duplicate, nothing twice in the database.
    const second = await upload(billing, 'switch.csv', FILE);
    expect(second.statusCode).toBe(202);
    await runCdrUploads(run, testLogger);
    const secondId = second.json<{ importId: number }>().importId;
    expect((await get(billing, `/api/v1/call-record-imports/${secondId}`)).json()).toMatchObject({
      status: 'finished',
      imported: 0,
      duplicates: 5,
      rejected: 2,
    });
    expect(await callsOf(voxtra.tenantId)).toEqual(['u.1', 'u.2', 'u.4', 'u.6', 'u.7']);
  });

  it('the rejected lines are read under the call-billing purpose only, by its roles; another tenant’s import is not found', async () => {
    const sent = await upload(billing, 'purpose.csv', FILE);
    const { importId } = sent.json<{ importId: number }>();
    await runCdrUploads(run, testLogger);
    const url = `/api/v1/call-record-imports/${importId}/rejects`;
    const wrongPurpose = await get(billing, url, 'invoicing');
    expect(wrongPurpose.statusCode).toBe(403);
    expect(wrongPurpose.json()).toMatchObject({ code: 'category_not_allowed' });
    expect((await get(billing, url)).statusCode).toBe(400);
    const bySales = await get(sales, url, 'call_billing');
    expect(bySales.statusCode).toBe(403);
    expect(bySales.json()).toMatchObject({ code: 'role_not_allowed' });
    const otherTenant = await get(otherBilling, url, 'call_billing');
    expect(otherTenant.statusCode).toBe(404);
    expect((await get(otherBilling, `/api/v1/call-record-imports/${importId}`)).statusCode).toBe(404);
    const salesUpload = await upload(sales, 'sales.csv', FILE);
    expect(salesUpload.statusCode).toBe(403);
    expect(salesUpload.json()).toMatchObject({ code: 'role_not_allowed' });
  });

  it('the upload acts under the call-billing purpose: another declared purpose is refused with 403 purpose_not_allowed and stores nothing; none or call_billing is taken (attack S7-6, decision 0061)', async () => {
    const count = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from call_record_imports where tenant_id = $1',
          [voxtra.tenantId],
        )
      ).rows[0]?.n;
    const before = await count();
    for (const purpose of ['accounting', 'solvency', 'invoicing']) {
      const refused = await upload(billing, 'p.csv', FILE, { 'x-kluis-purpose': purpose });
      expect(refused.statusCode, purpose).toBe(403);
      expect(refused.json()).toMatchObject({
        code: 'purpose_not_allowed',
        details: { validPurposes: ['call_billing'] },
      });
    }
    expect(await count()).toBe(before);
    const declared = await upload(billing, 'p.csv', FILE, { 'x-kluis-purpose': 'call_billing' });
    expect(declared.statusCode, declared.body).toBe(202);
    const undeclared = await upload(billing, 'p.csv', FILE);
    expect(undeclared.statusCode, undeclared.body).toBe(202);
    expect(await count()).toBe((before ?? 0) + 2);
    // The two taken files are imported (their calls are already on file), so the spool is empty again.
    await runCdrUploads(run, testLogger);
  });

  it('bad uploads are refused with a stable 4xx code and leave nothing behind: too large (413), empty, no name, another content type', async () => {
    const before = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from call_record_imports where tenant_id = $1',
      [voxtra.tenantId],
    );
    const line = `${good('big.1', 1)}\n`;
    const huge = line.repeat(Math.ceil((2 * MAX_BYTES) / line.length));
    const tooLarge = await upload(billing, 'huge.csv', huge);
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toMatchObject({ code: 'payload_too_large', details: { maxBytes: MAX_BYTES } });
    // Without a declared length (chunked), the limit holds while the body streams.
    const chunked = await app.inject({
      method: 'POST',
      url: '/api/v1/call-record-imports?name=chunked.csv',
      headers: {
        cookie: billing.cookie,
        'x-csrf-token': billing.csrfToken,
        'content-type': 'application/octet-stream',
        'transfer-encoding': 'chunked',
      },
      payload: huge,
    });
    expect(chunked.statusCode).toBe(413);
    const empty = await upload(billing, 'empty.csv', '');
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ code: 'validation_failed' });
    const noName = await app.inject({
      method: 'POST',
      url: '/api/v1/call-record-imports',
      headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'content-type': 'text/csv' },
      payload: FILE,
    });
    expect(noName.statusCode).toBe(400);
    const json = await app.inject({
      method: 'POST',
      url: '/api/v1/call-record-imports?name=x.json',
      headers: {
        cookie: billing.cookie,
        'x-csrf-token': billing.csrfToken,
        'content-type': 'application/json',
      },
      payload: { lines: FILE_LINES },
    });
    expect(json.statusCode).toBeGreaterThanOrEqual(400);
    expect(json.statusCode).toBeLessThan(500);
    const badFormat = await app.inject({
      method: 'POST',
      url: '/api/v1/call-record-imports?name=x.csv&format=cisco',
      headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'content-type': 'text/csv' },
      payload: FILE,
    });
    expect(badFormat.statusCode).toBe(400);
    const after = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from call_record_imports where tenant_id = $1',
      [voxtra.tenantId],
    );
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('over a real connection, a streamed body past the limit gets its 413, and one within it is taken', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const line = `${good('stream.1', 1)}\n`;
    // No content-length: the body arrives in chunks and the limit is found while it streams.
    const streamed = (copies: number): ReadableStream<Uint8Array> => {
      let sent = 0;
      return new ReadableStream({
        pull(controller) {
          if (sent >= copies) return controller.close();
          sent += 50;
          controller.enqueue(new TextEncoder().encode(line.repeat(50)));
        },
      });
    };
    const send = (name: string, copies: number) =>
      fetch(`http://127.0.0.1:${port}/api/v1/call-record-imports?name=${name}`, {
        method: 'POST',
        headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'content-type': 'text/csv' },
        body: streamed(copies),
        duplex: 'half',
      });
    const refused = await send('too-big.csv', Math.ceil((4 * MAX_BYTES) / line.length));
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({ code: 'payload_too_large' });
    const taken = await send('small.csv', 50);
    expect(taken.status).toBe(202);
    const { importId } = (await taken.json()) as { importId: number };
    expect((await get(billing, `/api/v1/call-record-imports/${importId}`)).json()).toMatchObject({
      status: 'queued',
      sizeBytes: 50 * Buffer.byteLength(line),
    });
    await runCdrUploads(run, testLogger);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('a file that is no call-record layout fails with `layout` and writes nothing', async () => {
    const calls = await callsOf(voxtra.tenantId);
    const sent = await upload(billing, 'invoice.csv', 'number,amount,date\n2024-001,12.50,2024-06-01\n');
    expect(sent.statusCode).toBe(202);
    await runCdrUploads(run, testLogger);
    const { importId } = sent.json<{ importId: number }>();
    const shown = await get(billing, `/api/v1/call-record-imports/${importId}`);
    expect(shown.json()).toMatchObject({ status: 'failed', errorCode: 'layout', imported: 0 });
    expect(shown.json<{ rejectsKeptUntil: string | null }>().rejectsKeptUntil).toBeNull();
    expect(await callsOf(voxtra.tenantId)).toEqual(calls);
    const kept = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from call_record_import_rejects where tenant_id = $1 and import_id = $2',
      [voxtra.tenantId, importId],
    );
    expect(kept.rows[0]?.n).toBe(0);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('the job removes kept rejected lines once their 30 days are up, and records the removal', async () => {
    const sent = await upload(billing, 'expiring.csv', FILE);
    const { importId } = sent.json<{ importId: number }>();
    await runCdrUploads(run, testLogger);
    const count = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from call_record_import_rejects where tenant_id = $1 and import_id = $2',
          [voxtra.tenantId, importId],
        )
      ).rows[0]?.n;
    expect(await count()).toBe(2);
    // Its day has come.
    await runAsOwner(
      database.ownerUrl,
      `update call_record_imports set rejects_kept_until = now() - interval '1 minute'
        where tenant_id = $1 and import_id = $2`,
      [voxtra.tenantId, importId],
    );
    await runCdrUploads(run, testLogger);
    expect(await count()).toBe(0);
    const shown = await get(billing, `/api/v1/call-record-imports/${importId}`);
    expect(shown.json()).toMatchObject({ rejected: 2, rejectsKeptUntil: null });
    const download = await get(billing, `/api/v1/call-record-imports/${importId}/rejects`, 'call_billing');
    expect(download.statusCode).toBe(200);
    expect(parse(download.body)).toEqual([['line', 'reason', 'content']]);
    const audited = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log where tenant_id = $1 and action = 'retention.erase'
         and purpose = 'call_billing' and records = 2`,
      [voxtra.tenantId],
    );
    expect(audited.rows[0]?.n).toBe(1);
  });
});

describe('an invoice run while a call-record import waits (attack S9-4)', () => {
  it('says how many imports were still in progress: the run bills what is stored so far, the rest comes as late calls', async () => {
    await prepareTenant(kernel, voxtra);
    await runCdrUploads(run, testLogger);
    const invoiceRun = (period: string) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/invoice-runs',
        headers: {
          cookie: billing.cookie,
          'x-csrf-token': billing.csrfToken,
          'x-kluis-purpose': 'invoicing',
        },
        payload: { period, callsPurpose: 'call_billing' },
      });
    const waiting = await upload(billing, 'late-june.csv', `${good('s94.1', 40)}\n`);
    expect(waiting.statusCode, waiting.body).toBe(202);

    const during = await invoiceRun('2024-05');
    expect(during.statusCode, during.body).toBe(200);
    expect(during.json()).toMatchObject({ period: '2024-05', importsInProgress: 1 });

    await runCdrUploads(run, testLogger);
    const after = await invoiceRun('2024-04');
    expect(after.statusCode, after.body).toBe(200);
    expect(after.json()).toMatchObject({ period: '2024-04', importsInProgress: 0 });
  });
});
