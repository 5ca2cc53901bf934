import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { crashEnv, pollUntil, runChild } from '../../../test/crash.js';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { CDR_UPLOAD_JOB, cdrUploadJob, runCdrUploads } from '../../jobs/cdr-upload.job.js';
import { JOB_SCHEMA, startJobQueue } from '../../platform/job-queue.js';
import type { Kernel } from '../../kernel/kernel.js';
import { systemClock } from '../../platform/clock.js';
import { createLogger } from '../../platform/logger.js';
import type { Tenant } from '../tenants/index.js';
import { answeredCall, bulkConnection, registerCustomers, tempDir } from './telephony.test-helpers.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;
let spoolDir: string;
const masterKey = randomBytes(32);

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  spoolDir = await tempDir();
  app = await createTestApp(kernel, { cdrUploads: { spoolDir, maxBytes: 1024 * 1024 } });
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  billing = await loginAs(app, kernel, voxtra, 'billing');
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

const count = async (sql: string, params: unknown[]): Promise<number> =>
  (await runAsOwner<{ n: number }>(database.ownerUrl, sql, params)).rows[0]?.n ?? -1;
const storedCalls = (): Promise<number> =>
  count('select count(*)::int as n from call_records where tenant_id = $1', [voxtra.tenantId]);
const distinctCalls = (): Promise<number> =>
  count('select count(distinct dedup_key)::int as n from call_records where tenant_id = $1', [
    voxtra.tenantId,
  ]);

async function upload(name: string, lines: readonly string[]): Promise<number> {
  const sent = await app.inject({
    method: 'POST',
    url: `/api/v1/call-record-imports?name=${name}`,
    headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'content-type': 'text/csv' },
    payload: `${lines.join('\n')}\n`,
  });
  expect(sent.statusCode, sent.body).toBe(202);
  return sent.json<{ importId: number }>().importId;
}

async function importCounts(importId: number): Promise<unknown> {
  const done = await app.inject({
    method: 'GET',
    url: `/api/v1/call-record-imports/${importId}`,
    headers: { cookie: billing.cookie },
  });
  return done.json();
}

// The child runs the uploads in batches of 3 rows and dies (SIGKILL) once the first has committed.
async function killedAfterFirstBatch(child: 'run-cdr-uploads.ts' | 'run-cdr-upload-queue.ts'): Promise<void> {
  const exit = await runChild(
    ['--import', 'tsx', path.join(ROOT, 'test/children', child), spoolDir, '3'],
    crashEnv(database, masterKey, { KLUIS_TEST_HOOK: 'cdr-upload.batch-written:kill' }),
  );
  expect(exit.signal, exit.stderr).toBe('SIGKILL');
}

const runUploads = (): Promise<void> =>
  runCdrUploads({ kernel, connection: bulkConnection(database), spoolDir, batchSize: 3 }, testLogger);

describe('an uploaded import killed half-way (decision 0360)', () => {
  it('VX-5: the upload job killed after its first batch loses nothing and duplicates nothing when it runs again', async () => {
    const lines = Array.from({ length: 9 }, (_, index) =>
      answeredCall(`k.${index}`, '056223344', '0470123456', `2024-06-04 10:0${index}:00`, 60),
    );
    // Line 4: a stranger's call, rejected.
    lines[3] = answeredCall('k.x', '056999999', '0470123456', '2024-06-04 10:30:00', 60);
    const importId = await upload('killed.csv', lines);

    await killedAfterFirstBatch('run-cdr-uploads.ts');
    expect(await storedCalls()).toBe(3);
    const status = await runAsOwner<{ status: string }>(
      database.ownerUrl,
      'select status from call_record_imports where tenant_id = $1 and import_id = $2',
      [voxtra.tenantId, importId],
    );
    expect(status.rows[0]?.status).toBe('running');
    expect(await readdir(spoolDir)).toHaveLength(1);

    // The job runs again (the queue hands the expired run back; here the pass is run directly).
    await runUploads();
    // The first run's three calls were imported from this file: imported, not duplicates (S7-8).
    expect(await importCounts(importId)).toMatchObject({
      status: 'finished',
      linesRead: 9,
      imported: 8,
      duplicates: 0,
      rejected: 1,
    });
    expect(await storedCalls()).toBe(8);
    expect(await distinctCalls()).toBe(8);
    expect(
      await count(
        'select count(*)::int as n from call_record_import_rejects where tenant_id = $1 and import_id = $2',
        [voxtra.tenantId, importId],
      ),
    ).toBe(1);
    expect(await readdir(spoolDir)).toEqual([]);
  }, 120_000);

  it('VX-5: after a server killed during an upload run restarts, the waiting import finishes within a minute, not after the 15-minute job expiry (decision 0466)', async () => {
    const lines = Array.from({ length: 7 }, (_, index) =>
      answeredCall(`q.${index}`, '056223344', '0470123456', `2024-06-05 11:0${index}:00`, 60),
    );
    const importId = await upload('queue-killed.csv', lines);
    const before = await storedCalls();

    // The job queue of a "server" runs the upload and the process dies after its first batch.
    await killedAfterFirstBatch('run-cdr-upload-queue.ts');
    expect(await storedCalls()).toBe(before + 3);
    const activeRuns = `select count(*)::int as n from ${JOB_SCHEMA}.job where name = $1 and state = 'active'`;
    // The dead run holds the stately queue: before the fix it stayed so for 15 minutes.
    expect(await count(activeRuns, [CDR_UPLOAD_JOB])).toBe(1);

    // The server starts again: its queue registers the job and the start asks for a run.
    const queue = await startJobQueue({
      connectionString: database.ownerUrl,
      logger: testLogger,
      pollingIntervalSeconds: 1,
      recoverIntervalSeconds: 2,
    });
    try {
      await queue.register(
        cdrUploadJob({ kernel, connection: bulkConnection(database), spoolDir, batchSize: 3 }, testLogger),
      );
      await queue.runNow(CDR_UPLOAD_JOB);
      const status = await pollUntil(async () => {
        const row = await runAsOwner<{ status: string }>(
          database.ownerUrl,
          'select status from call_record_imports where tenant_id = $1 and import_id = $2',
          [voxtra.tenantId, importId],
        );
        return row.rows[0]?.status ?? 'missing';
      }, 'finished');
      expect(status).toBe('finished');
    } finally {
      await queue.stop();
    }
    expect(await importCounts(importId)).toMatchObject({
      status: 'finished',
      linesRead: 7,
      imported: 7,
      duplicates: 0,
      rejected: 0,
    });
    expect(await storedCalls()).toBe(before + 7);
    expect(await distinctCalls()).toBe(before + 7);
    // The dead run was failed (handed to a retry), not left active; nothing of the queue runs now.
    expect(await count(activeRuns, [CDR_UPLOAD_JOB])).toBe(0);
    expect(await readdir(spoolDir)).toEqual([]);
  }, 120_000);

  it('VX-5: a resumed upload counts what the killed run stored as imported, and only true duplicates of the file as duplicates (attack S7-8, decision 0510)', async () => {
    const lines = Array.from({ length: 8 }, (_, index) =>
      answeredCall(`d.${index}`, '056223344', '0470123456', `2024-06-06 12:0${index}:00`, 60),
    );
    // Line 8 repeats line 1 (the same switch id): a duplicate within the file itself.
    lines.push(answeredCall('d.0', '056223344', '0470123456', '2024-06-06 12:00:00', 60));
    // One call of the file was stored before, by another import: a duplicate of the file too.
    await upload('earlier.csv', [lines[6] ?? '']);
    await runUploads();
    const importId = await upload('resumed-counts.csv', lines);
    const before = await storedCalls();

    await killedAfterFirstBatch('run-cdr-uploads.ts');
    expect(await storedCalls()).toBe(before + 3);
    expect(
      await count(
        'select committed_rows::int as n from call_record_imports where tenant_id = $1 and import_id = $2',
        [voxtra.tenantId, importId],
      ),
    ).toBe(3);

    await runUploads();
    // 9 lines: 7 calls stored by this import (3 by the killed run, 4 by the resumed one), line 9
    // repeating line 1, and line 7 stored before by the other import.
    expect(await importCounts(importId)).toMatchObject({
      status: 'finished',
      linesRead: 9,
      imported: 7,
      duplicates: 2,
      rejected: 0,
    });
    expect(await storedCalls()).toBe(before + 7);
    expect(await readdir(spoolDir)).toEqual([]);
  }, 120_000);

  it("VX-5: a stop during an upload import ends it at a batch boundary within the queue's grace, back in the queue; the next run adds the rest, nothing lost or doubled, no error line (decision 0836)", async () => {
    const lines = Array.from({ length: 600 }, (_, index) => {
      const start = new Date(Date.UTC(2024, 5, 7, 8, 0, 0) + index * 60_000).toISOString();
      return answeredCall(`s.${index}`, '056223344', '0470123456', start.replace('T', ' ').slice(0, 19), 60);
    });
    const importId = await upload('stopped.csv', lines);
    // A second upload waits behind it: the stop leaves it unstarted, and the line says so.
    const waitingId = await upload('waiting.csv', [
      answeredCall('w.0', '056223344', '0470123456', '2024-06-08 09:00:00', 60),
    ]);
    const before = await storedCalls();
    const logged: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logged.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
          done();
        },
      }),
    });
    const committed = async (): Promise<number> =>
      count(
        'select committed_rows::int as n from call_record_imports where tenant_id = $1 and import_id = $2',
        [voxtra.tenantId, importId],
      );

    // A server's queue runs the import in batches of 3 rows; once some have committed, it stops.
    const queue = await startJobQueue({
      connectionString: database.ownerUrl,
      logger,
      pollingIntervalSeconds: 1,
    });
    await queue.register(
      cdrUploadJob({ kernel, connection: bulkConnection(database), spoolDir, batchSize: 3 }, logger),
    );
    await queue.runNow(CDR_UPLOAD_JOB);
    expect(await pollUntil(async () => String((await committed()) > 0), 'true')).toBe('true');
    const stopped = await queue.stop();

    expect(stopped).toEqual({ cut: [] });
    const status = await runAsOwner<{ status: string }>(
      database.ownerUrl,
      'select status from call_record_imports where tenant_id = $1 and import_id = $2',
      [voxtra.tenantId, importId],
    );
    expect(status.rows[0]?.status).toBe('queued');
    const storedAtStop = (await storedCalls()) - before;
    expect(storedAtStop).toBeGreaterThan(0);
    expect(storedAtStop).toBeLessThan(600);
    expect(storedAtStop % 3).toBe(0); // whole batches
    expect(await committed()).toBe(storedAtStop);
    expect(await readdir(spoolDir)).toHaveLength(2);
    expect(logged.filter((line) => Number(line.level) >= 50)).toEqual([]);
    expect(JSON.stringify(logged)).not.toMatch(/terminating connection|Cannot use a pool/);
    // The log says the stop ended it and what it had written, not that it was imported (0836).
    const onRecord = await runAsOwner<{ lines_read: number; imported: number; duplicates: number }>(
      database.ownerUrl,
      'select lines_read, imported, duplicates from call_record_imports where tenant_id = $1 and import_id = $2',
      [voxtra.tenantId, importId],
    );
    const uploadLines = logged.filter((line) => String(line.msg).startsWith('call-record upload'));
    expect(uploadLines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'call-record upload ended by the stop, back in the queue: the next run adds the rest',
        tenantId: voxtra.tenantId,
        importId,
        // The one cut short is an upload whose run ended (it said 0; decision 0836, amended s19).
        uploadsEnded: 1,
        uploadsCutShort: 1,
        uploadsNotStarted: 1,
        linesRead: onRecord.rows[0]?.lines_read,
        imported: onRecord.rows[0]?.imported,
        duplicates: onRecord.rows[0]?.duplicates,
        storedRows: storedAtStop,
      }),
    ]);

    // The next start's run goes on with it.
    await runUploads();
    expect(await importCounts(importId)).toMatchObject({
      status: 'finished',
      linesRead: 600,
      imported: 600,
      duplicates: 0,
      rejected: 0,
    });
    expect(await importCounts(waitingId)).toMatchObject({ status: 'finished', imported: 1 });
    expect(await storedCalls()).toBe(before + 601);
    expect(await distinctCalls()).toBe(before + 601);
    expect(await readdir(spoolDir)).toEqual([]);
  }, 180_000);
});
