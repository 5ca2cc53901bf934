/**
 * Call-record files uploaded over HTTP (issue 20, decision 0360): the body is streamed to a spool
 * file in the data folder (never held in memory), an import row waits `queued`, and the
 * call-record upload job imports it with importCdrFile. A run killed half-way leaves the row
 * `running` and the spool in place; one cut by a lost database goes back to `queued` with its spool
 * (decision 0675). The next run takes it again, and the import's deduplication (ON CONFLICT on the
 * switch's id or the record hash) makes the end state that of one clean run.
 * The rejected lines are kept for REJECTS_KEPT_DAYS, readable under the call-billing purpose.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { isDatabaseUnavailable } from '../../platform/db.js';
import { AppError, validationError } from '../../platform/errors.js';
import { JobStopped } from '../../platform/job-stop.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import {
  deleteRejects,
  insertRejects,
  selectRejects,
  selectRejectSubjects,
  type KeptReject,
} from './call-record-reject.repository.js';
import { assertMaySeeImports, importFileName } from './cdr-import-log.js';
import {
  CALL_BILLING_PURPOSE,
  CDR_IMPORT_ACTOR,
  importCdrFile,
  type ImportReject,
} from './cdr-import.service.js';
import { openCopyConnection, type CopyConnectionOptions } from './copy-connection.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';
import { authorizeKeeping } from './keeping.js';

/** How long the rejected lines of an upload stay downloadable (decision 0360). */
export const REJECTS_KEPT_DAYS = 30;
/** At most this many rejected lines are kept per import; the counts cover them all. */
export const MAX_KEPT_REJECTS = 100_000;
/** A kept line is cut here (a call-record line is a few hundred characters). */
const MAX_LINE_CHARS = 4000;
const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;
const REJECTS_ACTOR: Actor = { kind: 'system', job: 'cdr-rejects-retention' };
const UPLOAD_FORMATS = ['auto', 'asterisk', 'freeswitch'] as const;
export type UploadFormat = (typeof UPLOAD_FORMATS)[number];

/** Where uploads wait and how large one may be. */
export interface CdrUploadSettings {
  /** A private folder of the data folder (`<data>/cdr-uploads`). */
  spoolDir: string;
  maxBytes: number;
  /** Asks the job queue to import now; without it, the job's next tick takes the upload. */
  wake?: () => Promise<void>;
}

export interface CdrUploadRunSettings {
  kernel: Kernel;
  connection: CopyConnectionOptions;
  spoolDir: string;
  /** Rows per batch (tests use small ones); default the import's. */
  batchSize?: number;
}

export function isUploadFormat(value: string): value is UploadFormat {
  return (UPLOAD_FORMATS as readonly string[]).includes(value);
}

function spoolPath(spoolDir: string, tenantId: number, importId: number): string {
  return path.join(spoolDir, `t${tenantId}-i${importId}.cdr`);
}
const SPOOL_NAME = /^t(\d+)-i(\d+)\.cdr$/;
const PART_NAME = /^upload-[0-9a-f-]{36}\.part$/;

export function tooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', 'upload over the limit', {
    publicMessage: `the file is larger than the limit of ${maxBytes} bytes`,
    details: { maxBytes },
  });
}

/**
 * Takes an uploaded call-record file: streams it to the spool (refusing it past `maxBytes`),
 * puts a queued import on record and wakes the job. For the call-billing roles and the admin.
 */
export async function acceptUpload(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  settings: CdrUploadSettings,
  input: { fileName: string; format: UploadFormat; body: Readable; declaredBytes: number | null },
): Promise<{ importId: number }> {
  await assertMaySeeImports(kernel, tenantId, actor);
  if (input.declaredBytes !== null && input.declaredBytes > settings.maxBytes) {
    input.body.resume();
    throw tooLarge(settings.maxBytes);
  }
  await mkdir(settings.spoolDir, { recursive: true, mode: 0o700 });
  const part = path.join(settings.spoolDir, `upload-${randomUUID()}.part`);
  let bytes: number;
  try {
    bytes = await spool(input.body, part, settings.maxBytes);
  } catch (error) {
    await rm(part, { force: true });
    if (error instanceof AppError) throw error;
    throw validationError('the upload broke off before the end of the file');
  }
  if (bytes === 0) {
    await rm(part, { force: true });
    throw validationError('the file is empty');
  }
  const now = kernel.clock.now();
  try {
    const row = await kernel.plain(tenantId, (tx) =>
      tx
        .insertInto('call_record_imports')
        .values({
          tenant_id: tenantId,
          file_name: importFileName(input.fileName),
          format: input.format,
          status: 'queued',
          source: 'upload',
          size_bytes: bytes,
          started_at: now,
          updated_at: now,
        })
        .returning('import_id')
        .executeTakeFirstOrThrow(),
    );
    const importId = Number(row.import_id);
    await rename(part, spoolPath(settings.spoolDir, tenantId, importId));
    // The job's minute tick is the backstop when waking fails.
    await settings.wake?.().catch(() => undefined);
    return { importId };
  } catch (error) {
    await rm(part, { force: true });
    throw error;
  }
}

/**
 * Copies the body to `file` with back-pressure, and returns its size. Past `maxBytes` it stops
 * writing and fails with payload_too_large, but lets the rest of the body drain (never destroys
 * it), so the client still reads the 413 before the connection closes.
 */
function spool(body: Readable, file: string, maxBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file, { mode: 0o600 });
    let bytes = 0;
    let failure: Error | null = null;
    const fail = (error: Error): void => {
      if (failure !== null) return;
      failure = error;
      body.resume();
      out.destroy();
      reject(error);
    };
    body.on('data', (chunk: Buffer) => {
      if (failure !== null) return;
      bytes += chunk.length;
      if (bytes > maxBytes) return fail(tooLarge(maxBytes));
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => body.resume());
      }
    });
    body.on('end', () => {
      if (failure === null) out.end();
    });
    body.on('aborted', () => fail(new Error('upload aborted')));
    // Its connection ended before the end of the body (a stop ends a trickling upload, 0835).
    body.on('close', () => {
      if (!body.readableEnded) fail(new Error('upload aborted'));
    });
    body.on('error', (error) => fail(error));
    out.on('error', (error) => fail(error));
    out.on('finish', () => {
      if (failure === null) resolve(bytes);
    });
  });
}

/** What one pass over a tenant's waiting uploads did. */
export interface UploadsPass {
  /** Uploads whose import ended on record (finished, or failed for good) in this pass. */
  ended: number;
  /** The import a stop ended at a batch boundary, back in the queue; null when none was. */
  stopped: StoppedUpload | null;
  /** Uploads that waited and this pass did not start because a stop came first. */
  notStarted: number;
}

/** An upload the stop ended (decision 0836): its counts as on record, what it had written. */
export interface StoppedUpload {
  importId: number;
  /** Lines read by this run, and of them imported, duplicates and rejected. */
  linesRead: number;
  imported: number;
  duplicates: number;
  rejected: number;
  /** Call records of the file stored so far, by every run of it: the next run adds the rest. */
  storedRows: number;
}

/**
 * Imports every upload of the tenant that waits (or whose run died), one after the other. Each is
 * held by a session lock while it runs, so a second process skips it. Says how many ended and,
 * when a stop ended one, which and what it had written.
 */
export async function runWaitingUploads(
  settings: CdrUploadRunSettings,
  tenantId: number,
  /** A stop: the running import ends at its next batch boundary, back in the queue (0836). */
  stopping?: AbortSignal,
): Promise<UploadsPass> {
  const waiting = await settings.kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('call_record_imports')
      .select(['import_id', 'format'])
      .where('source', '=', 'upload')
      .where('status', 'in', ['queued', 'running'])
      .orderBy('import_id')
      .execute(),
  );
  const pass: UploadsPass = { ended: 0, stopped: null, notStarted: 0 };
  for (const [index, row] of waiting.entries()) {
    if (stopping?.aborted) {
      pass.notStarted = waiting.length - index;
      break;
    }
    const format = isUploadFormat(row.format) ? row.format : 'auto';
    const run = await runUpload(settings, tenantId, Number(row.import_id), format, stopping);
    if (run === 'ended') pass.ended += 1;
    else if (run !== 'skipped') {
      pass.stopped = run;
      pass.notStarted = waiting.length - index - 1;
      break;
    }
  }
  return pass;
}

/** The import's counts as on record after a stop ended it. */
async function stoppedUpload(kernel: Kernel, tenantId: number, importId: number): Promise<StoppedUpload> {
  const row = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('call_record_imports')
      .select(['lines_read', 'imported', 'duplicates', 'rejected', 'committed_rows'])
      .where('import_id', '=', importId)
      .executeTakeFirstOrThrow(),
  );
  return {
    importId,
    linesRead: row.lines_read,
    imported: row.imported,
    duplicates: row.duplicates,
    rejected: row.rejected,
    storedRows: row.committed_rows,
  };
}

async function runUpload(
  settings: CdrUploadRunSettings,
  tenantId: number,
  importId: number,
  format: UploadFormat,
  stopping: AbortSignal | undefined,
): Promise<'skipped' | 'ended' | StoppedUpload> {
  const { kernel } = settings;
  const lock = await openCopyConnection(settings.connection);
  try {
    const held = await lock.query<{ ok: boolean }>(
      'select pg_try_advisory_lock(hashtextextended($1, 0)) as ok',
      [`kluis.cdr_upload:${tenantId}:${importId}`],
    );
    if (held.rows[0]?.ok !== true) return 'skipped';
    // Under the lock: another process may have ended it meanwhile.
    const current = await kernel.plain(tenantId, (tx) =>
      tx
        .selectFrom('call_record_imports')
        .select('status')
        .where('import_id', '=', importId)
        .executeTakeFirst(),
    );
    if (current?.status !== 'queued' && current?.status !== 'running') return 'skipped';
    const file = spoolPath(settings.spoolDir, tenantId, importId);
    if (!(await exists(file))) {
      await failLostUpload(kernel, tenantId, importId);
      return 'ended';
    }
    const rejects: ImportReject[] = [];
    let failure: unknown = null;
    try {
      await importCdrFile(
        { kernel, connection: settings.connection },
        {
          tenantId,
          file,
          format,
          importId,
          rejectFile: null,
          ...(settings.batchSize === undefined ? {} : { batchSize: settings.batchSize }),
          ...(stopping ? { stopping } : {}),
          onReject: (reject) => {
            if (rejects.length < MAX_KEPT_REJECTS) rejects.push(reject);
          },
          onProgress: () => {
            void reachTestHook('cdr-upload.batch-written');
          },
          beforeFinish: () => keepRejects(kernel, tenantId, importId, file, rejects),
        },
      );
    } catch (error) {
      // importCdrFile put a final failure on record (layout, a refusal's code), or, for a lost
      // database or a stop, put the import back in the queue (decisions 0675, 0836).
      failure = error;
    }
    // The spool goes only once the end is on record; a lost database leaves it for the next run
    // (attack S11-5), which resumes the import and adds only what is missing (decision 0510).
    const endedOnRecord = await hasEndedOnRecord(kernel, tenantId, importId);
    if (endedOnRecord) await rm(file, { force: true });
    // Kept out of the pass's result: the job logs the tenant's failure and is retried.
    if (failure instanceof Error && isDatabaseUnavailable(failure)) throw failure;
    // Ended by the stop, back in the queue: the pass says so with what it had written (0836).
    // Any error met during a stop that left the import unended counts as the stop's cut too.
    if (failure instanceof JobStopped || (failure !== null && stopping?.aborted === true && !endedOnRecord))
      return stoppedUpload(kernel, tenantId, importId);
    return 'ended';
  } finally {
    // Ending the session releases the lock (the server ended it already if the database went).
    await lock.close().catch(() => undefined);
  }
}

/** Whether the import is finished or failed on record; false when that cannot be read. */
async function hasEndedOnRecord(kernel: Kernel, tenantId: number, importId: number): Promise<boolean> {
  const row = await kernel
    .plain(tenantId, (tx) =>
      tx
        .selectFrom('call_record_imports')
        .select('status')
        .where('import_id', '=', importId)
        .executeTakeFirst(),
    )
    .catch(() => undefined);
  return row?.status === 'finished' || row?.status === 'failed';
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function failLostUpload(kernel: Kernel, tenantId: number, importId: number): Promise<void> {
  const now = kernel.clock.now();
  await kernel.plain(tenantId, (tx) =>
    tx
      .updateTable('call_record_imports')
      .set({ status: 'failed', error_code: 'upload_lost', updated_at: now, finished_at: now })
      .where('import_id', '=', importId)
      .where('status', 'in', ['queued', 'running'])
      .execute(),
  );
}

/**
 * Reads the rejected lines back from the spool (one pass, in file order) and stores them with
 * their reason, in batches of one gate decision each, then sets until when they are kept.
 */
async function keepRejects(
  kernel: Kernel,
  tenantId: number,
  importId: number,
  file: string,
  rejects: readonly ImportReject[],
): Promise<void> {
  const wanted = new Map(rejects.map((reject) => [reject.lineNumber, reject]));
  let batch: KeptReject[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    const subjectIds = [...new Set(rows.flatMap((row) => (row.subjectId === null ? [] : [row.subjectId])))];
    await kernel.transact(tenantId, async (atx) => {
      const grant = await authorizeKeeping(kernel, atx, CDR_IMPORT_ACTOR, {
        purpose: CALL_BILLING_PURPOSE,
        action: 'write',
        categories: [TELEPHONY_CATEGORIES.callRecord],
        subjectIds,
      });
      await insertRejects(atx, grant, importId, rows);
    });
  };
  if (wanted.size > 0) {
    // latin1, as the parser reads the file: every byte is one character, nothing is lost.
    let lineNumber = 0;
    for await (const text of readLines(file)) {
      lineNumber += 1;
      const reject = wanted.get(lineNumber);
      if (reject === undefined) continue;
      batch.push({ ...reject, line: keptLine(text) });
      if (batch.length >= 1000) await flush();
    }
    await flush();
  }
  const until = new Date(kernel.clock.now().getTime() + REJECTS_KEPT_DAYS * DAY_MS);
  await kernel.plain(tenantId, (tx) =>
    tx
      .updateTable('call_record_imports')
      .set({ rejects_kept_until: wanted.size > 0 ? until : null })
      .where('import_id', '=', importId)
      .execute(),
  );
}

/** The file's lines as the parser counts them: ended by LF or CR LF (a lone CR is no end). */
async function* readLines(file: string): AsyncGenerator<string> {
  let rest = '';
  let isFirst = true;
  for await (const chunk of createReadStream(file, { encoding: 'latin1' })) {
    let text = rest + (chunk as string);
    if (isFirst) {
      isFirst = false;
      if (text.startsWith('\xef\xbb\xbf')) text = text.slice(3);
    }
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
  }
  if (rest !== '') yield rest;
}

/** Control characters (a NUL, a stray CR) become a space; the line is cut at MAX_LINE_CHARS. */
function keptLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, ' ').slice(0, MAX_LINE_CHARS);
}

/**
 * The kept rejected lines of one import in file order (line number, reason, the line as read),
 * a page at a time: kluis.telephony.call_record, read under the call-billing purpose (the caller
 * names it; the gate decides and records the read). Another tenant's import is not found.
 */
export async function readRejects(
  kernel: Kernel,
  context: { tenantId: number; actor: Actor; purpose: string; requestId?: string },
  importId: number,
  page: { afterLine: number; limit: number },
): Promise<KeptReject[]> {
  await assertMaySeeImports(kernel, context.tenantId, context.actor);
  return kernel.transact(context.tenantId, async (atx) => {
    const found = await atx.tx
      .selectFrom('call_record_imports')
      .select(['import_id'])
      .where('import_id', '=', importId)
      .executeTakeFirst();
    if (!found) throw new AppError('not_found', 'no such import', { publicMessage: 'no such import' });
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [TELEPHONY_CATEGORIES.callRecord],
      subjectIds: await selectRejectSubjects(atx, [importId]),
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    return selectRejects(atx, grant, importId, page);
  });
}

/**
 * Removes the kept rejected lines whose time is up (decision 0360): one erase decision by the
 * retention job under the call-billing purpose, recorded with the count. Idempotent.
 */
export async function removeExpiredRejects(kernel: Kernel, tenantId: number): Promise<number> {
  const now = kernel.clock.now();
  return kernel.transact(tenantId, async (atx) => {
    const expired = (
      await atx.tx
        .selectFrom('call_record_imports')
        .select('import_id')
        .where('rejects_kept_until', '<=', now)
        .execute()
    ).map((row) => Number(row.import_id));
    if (expired.length === 0) return 0;
    const grant = await kernel.gate.authorize(atx, REJECTS_ACTOR, {
      purpose: CALL_BILLING_PURPOSE,
      action: 'erase',
      categories: [TELEPHONY_CATEGORIES.callRecord],
      subjectIds: await selectRejectSubjects(atx, expired),
    });
    const removed = await deleteRejects(atx, grant, expired);
    await atx.tx
      .updateTable('call_record_imports')
      .set({ rejects_kept_until: null })
      .where('import_id', '=', (eb) => eb.fn.any(eb.val(expired)))
      .execute();
    if (removed > 0)
      atx.audit.record({
        actor: { kind: 'system', id: 'cdr-rejects-retention' },
        role: null,
        purpose: CALL_BILLING_PURPOSE,
        action: 'retention.erase',
        categories: [TELEPHONY_CATEGORIES.callRecord],
        records: removed,
        decision: 'allowed',
        reason: `rejected lines of uploaded imports kept ${REJECTS_KEPT_DAYS} days: ${expired.length} import(s)`,
      });
    return removed;
  });
}

/**
 * Spool files whose import no longer waits (a run died after it ended the import but before it
 * removed the file) and uploads that broke off (a `.part` older than a day) are removed.
 */
export async function sweepSpool(kernel: Kernel, spoolDir: string): Promise<number> {
  const names = await readdir(spoolDir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const file = path.join(spoolDir, name);
    if (PART_NAME.test(name)) {
      const info = await stat(file).catch(() => null);
      if (info && info.mtimeMs < Date.now() - DAY_MS) {
        await rm(file, { force: true });
        removed += 1;
      }
      continue;
    }
    const match = SPOOL_NAME.exec(name);
    if (!match) continue;
    const tenantId = Number(match[1]);
    const importId = Number(match[2]);
    const row = await kernel
      .plain(tenantId, (tx) =>
        tx
          .selectFrom('call_record_imports')
          .select('status')
          .where('import_id', '=', importId)
          .executeTakeFirst(),
      )
      .catch(() => 'unknown' as const);
    // Kept when it may still be needed: its import waits, or the look-up failed.
    if (row === 'unknown' || row?.status === 'queued' || row?.status === 'running') continue;
    await rm(file, { force: true });
    removed += 1;
  }
  return removed;
}
