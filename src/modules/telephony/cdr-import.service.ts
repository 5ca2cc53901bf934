import { csvRecord } from '../../platform/csv.js';
/**
 * CDR import (VX-5): a switch's call-record file → normalised, attributed, rated call records,
 * stored through COPY, each batch in one transaction with one gate decision, deduplicated on the
 * switch's unique id (else the record hash). Streaming: memory holds at most three batches.
 *
 * Every line read ends as exactly one of: imported, rejected (reject file, with line number and
 * reason), or skipped as a duplicate. A run killed half-way leaves whole batches behind; running
 * the same file again adds only what is missing, so the end state equals one clean run.
 * Two bulk connections: a batch is copied into staging while the one before it inserts.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { open, rm } from 'node:fs/promises';
import { sql } from 'kysely';
import type { CountryCode } from 'libphonenumber-js/max';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Actor, Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { normalisePhoneNumber } from '../../kernel/identifiers/phone.js';
import { acceptedWindow } from '../../platform/date-window.js';
import { AppError } from '../../platform/errors.js';
import { JobStopped } from '../../platform/job-stop.js';
import {
  AttributionIndex,
  isChargeableDirection,
  type HeldPeriod,
  type LineIdentifierPeriod,
  type PeriodIndex,
} from './attribution.js';
import {
  detectDelimiter,
  parseCdrBatches,
  type CallRecord,
  type CdrFormat,
  type GenericColumnMapping,
} from './cdr.parse.js';
import { openCopyConnection, type CopyConnection, type CopyConnectionOptions } from './copy-connection.js';
import { TELEPHONY_CATEGORIES } from './datamap.js';
import { rateCall, selectBillableSeconds, type RatingTable } from './rating.js';
import { loadRatingTable } from './tariff.service.js';
import { isPgError } from './number.service.js';
import { ImportLog } from './cdr-import-log.js';
import { detached } from './detached.js';
import { authorizeKeeping } from './keeping.js';

/** The purpose call records serve, and the only one (VX-5). */
export const CALL_BILLING_PURPOSE = 'call_billing';
export const CDR_IMPORT_ACTOR: Actor = { kind: 'system', job: 'cdr-import' };
/**
 * Rows per batch (one transaction, one gate decision). Each batch's INSERT also runs the call
 * totals' statement trigger (decision 0500) once: fewer, larger batches repeat less of it (0510).
 */
export const DEFAULT_BATCH_SIZE = 200_000;
/** Bulk connections of one import: one batch copies into staging while the one before inserts. */
const BULK_CONNECTIONS = 2;
/** The first batch of an import; the next ones double until the batch size. */
const FIRST_BATCH_ROWS = 12_500;
const MAX_BATCH_ATTEMPTS = 3;
/** Bytes read from the file at a time. */
const READ_CHUNK_BYTES = 64 * 1024;

export type ImportRejectReason =
  'caller_not_normalisable' | 'destination_not_normalisable' | 'not_attributed' | 'value_out_of_range';

export interface CdrImportDeps {
  kernel: Kernel;
  /** How to open the bulk connection (the app's own database, as the app role). */
  connection: CopyConnectionOptions;
}

export interface CdrImportOptions {
  tenantId: number;
  file: string;
  format?: CdrFormat | 'auto';
  timeZone?: string;
  mapping?: GenericColumnMapping;
  /** Field delimiter; default: detected from the first line (comma, semicolon or tab). */
  delimiter?: string;
  /** Country for numbers in national form; default: the country of the policy's controller. */
  defaultCountry?: string;
  /** Where rejects go; default `<file>.rejects.csv`; null: no reject file (an upload keeps them itself). */
  rejectFile?: string | null;
  /** The row of an import that waits for this run (an upload, decision 0360); default: a new row. */
  importId?: number;
  /** Told of each rejected line, in file order (an upload keeps them, decision 0360). */
  onReject?: (reject: ImportReject) => void;
  /** Runs after the last batch, before the import is marked finished (a crash in it leaves the import running). */
  beforeFinish?: () => Promise<void>;
  batchSize?: number;
  actor?: Actor;
  onProgress?: (progress: CdrImportProgress) => void;
  /**
   * A stop (the upload job's, decision 0836): the import ends after the batch it is writing, with
   * JobStopped; a resumable import (importId) goes back in the queue, the next run adds the rest.
   */
  stopping?: AbortSignal;
}

export interface ImportReject {
  lineNumber: number;
  reason: string;
  /** The customer the line was attributed to before it was refused; null when none. */
  subjectId: number | null;
}

export interface CdrImportProgress {
  linesRead: number;
  imported: number;
  rejected: number;
  duplicates: number;
  elapsedMs: number;
}

export interface CdrImportSummary extends CdrImportProgress {
  file: string;
  /** Calls that are chargeable but matched no rate: cost left empty, see `kluis cdr rerate`. */
  unrated: number;
  batches: number;
  rejectFile: string | null;
  rejectsByReason: Record<string, number>;
}

/**
 * Imports one call-record file for a tenant. Call records are personal data of the caller
 * (kluis.telephony.call_record, kluis.telephony.number), written under the call_billing purpose by
 * the system actor `cdr-import`, one gate decision per batch over the batch's subjects.
 * Throws CdrLayoutError (nothing written) when the file's layout is wrong.
 */
export async function importCdrFile(
  deps: CdrImportDeps,
  options: CdrImportOptions,
): Promise<CdrImportSummary> {
  const { kernel } = deps;
  const started = performance.now();
  const actor = options.actor ?? CDR_IMPORT_ACTOR;
  const defaultCountry = (options.defaultCountry ??
    (await findTenantCountry(kernel, options.tenantId))) as CountryCode;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  // On record before anything else, so a run that fails at once is listed too (issue 20).
  const log = new ImportLog(kernel, options.tenantId);
  // Rows the earlier runs of this import committed: this run meets them again as stored rows,
  // and counts them as imported, not as duplicates (decision 0510).
  let earlier = 0;
  if (options.importId === undefined) await log.start(options.file, options.format ?? 'auto');
  else earlier = await log.resume(options.importId);
  const countsOf = () => ({
    linesRead: summary.linesRead,
    imported: summary.imported,
    rejected: summary.rejected,
    duplicates: summary.duplicates,
    unrated: summary.unrated,
  });
  const connections: CopyConnection[] = [];
  try {
    // Two bulk connections: one batch copies into its staging table while the one before inserts.
    for (let i = 0; i < BULK_CONNECTIONS; i += 1) connections.push(await openCopyConnection(deps.connection));
  } catch (error) {
    await Promise.all(connections.map((connection) => connection.close()));
    await log.fail(error, { linesRead: 0, imported: 0, rejected: 0, duplicates: 0, unrated: 0 });
    throw error;
  }
  const [first] = connections;
  if (first === undefined) throw new Error('cdr import: no bulk connection');
  const rejectPath = options.rejectFile === undefined ? `${options.file}.rejects.csv` : options.rejectFile;
  const rejects = new RejectWriter(rejectPath, options.onReject);
  const summary: CdrImportSummary = {
    file: options.file,
    linesRead: 0,
    imported: 0,
    rejected: 0,
    duplicates: 0,
    unrated: 0,
    batches: 0,
    elapsedMs: 0,
    rejectFile: null,
    rejectsByReason: {},
  };
  const stored = { inserted: 0, found: 0 };
  try {
    const delimiter = options.delimiter ?? (await detectFileDelimiter(options.file));
    for (const connection of connections) {
      await connection.query(BULK_SESSION_SETTINGS);
      await connection.query(STAGING_DDL);
    }
    const { attribution, ratingTable, months } = await prepare(kernel, first, options.tenantId, actor);
    const normaliser = new NumberNormaliser(defaultCountry);
    const writer = new BatchWriter(kernel, connections, options.tenantId, actor, months, log.importId);
    let batch = new Batch();
    // The first batches are small and double up to the batch size, so the database starts after
    // a few thousand lines instead of a whole batch (decision 0510).
    let target = Math.min(batchSize, FIRST_BATCH_ROWS);
    const onWritten = (written: { rows: number; inserted: number }): void => {
      summary.rejected = rejects.count;
      stored.inserted += written.inserted;
      stored.found += written.rows - written.inserted;
      // The earlier runs' rows come first in the file: the first ones found stored are theirs.
      const ours = Math.min(earlier, stored.found);
      summary.imported = stored.inserted + ours;
      summary.duplicates = stored.found - ours;
      report(summary, started, options.onProgress);
      log.progress(countsOf());
    };

    const parsed = parseCdrBatches(createReadStream(options.file, { highWaterMark: READ_CHUNK_BYTES }), {
      format: options.format ?? 'auto',
      fastSplit: options.format !== 'generic',
      delimiter,
      // A call from before 2000 or dated ahead of today is a wrong year or clock (decision 0282).
      window: acceptedWindow(kernel.clock.now(), 'happened'),
      ...(options.timeZone ? { timeZone: options.timeZone } : {}),
      ...(options.mapping ? { mapping: options.mapping } : {}),
    });
    for await (const results of parsed) {
      for (const result of results) {
        summary.linesRead += 1;
        if (result.kind === 'rejection') {
          await rejects.write(result.lineNumber, result.reason, result.message, null);
          continue;
        }
        const row = buildRow(result, normaliser, attribution, ratingTable);
        if ('reject' in row) {
          await rejects.write(result.lineNumber, row.reject, REJECT_MESSAGES[row.reject], row.subjectId);
          continue;
        }
        if (row.isUnrated) summary.unrated += 1;
        batch.add(row);
        if (batch.size >= target) {
          await writer.submit(batch, onWritten);
          batch = new Batch();
          target = Math.min(batchSize, target * 2);
          if (options.stopping?.aborted) {
            await writer.drain();
            throw new JobStopped(`call-record import ${log.importId ?? ''}`.trim());
          }
        }
      }
    }
    if (batch.size > 0) await writer.submit(batch, onWritten);
    await writer.drain();
    summary.rejected = rejects.count;
    summary.rejectsByReason = rejects.byReason;
    summary.rejectFile = rejects.count > 0 ? rejectPath : null;
    await options.beforeFinish?.();
  } catch (error) {
    summary.rejected = rejects.count;
    await log.fail(error, countsOf()).catch(() => undefined);
    throw error;
  } finally {
    await rejects.close();
    await Promise.all(connections.map((connection) => connection.close()));
  }
  summary.elapsedMs = performance.now() - started;
  await log.finish(countsOf(), summary.rejectsByReason);
  return summary;
}

function report(
  summary: CdrImportSummary,
  started: number,
  onProgress: CdrImportOptions['onProgress'],
): void {
  summary.batches += 1;
  onProgress?.({
    linesRead: summary.linesRead,
    imported: summary.imported,
    rejected: summary.rejected,
    duplicates: summary.duplicates,
    elapsedMs: performance.now() - started,
  });
}

async function findTenantCountry(kernel: Kernel, tenantId: number): Promise<string> {
  const country = (await kernel.policies.current(tenantId)).policy.controller.address.country;
  return /^[A-Z]{2}$/.test(country) ? country : 'BE';
}

// ---------------------------------------------------------------------------------------
// Preparation: who held which number, the tariff, the partitions that exist.

/** Number → periods it was held, sorted by start; times as epoch ms, open end as +Infinity. */
export type HolderIndex = PeriodIndex;

async function prepare(
  kernel: Kernel,
  connection: CopyConnection,
  tenantId: number,
  actor: Actor,
): Promise<{ attribution: AttributionIndex; ratingTable: RatingTable; months: Set<string> }> {
  return kernel.transactOn(connection, tenantId, async (atx) => {
    const subjectIds = (
      await sql<{ subject_id: number }>`
        select subject_id from number_assignments union select subject_id from line_identifiers`.execute(
        atx.tx,
      )
    ).rows.map((row) => row.subject_id);
    const grant = await authorizeKeeping(kernel, atx, actor, {
      purpose: CALL_BILLING_PURPOSE,
      action: 'read',
      categories: [TELEPHONY_CATEGORIES.number],
      subjectIds,
    });
    const holders = await loadHolderIndex(atx, grant);
    const identifiers = await loadLineIdentifierPeriods(atx, grant);
    const ratingTable = await loadRatingTable(atx.tx);
    const partitions = await atx.tx
      .selectFrom('call_record_partitions')
      .select(sql<string>`to_char(month, 'YYYY-MM')`.as('month'))
      .execute();
    return {
      attribution: new AttributionIndex(holders, identifiers),
      ratingTable,
      months: new Set(partitions.map((row) => row.month)),
    };
  });
}

/** Every assignment period of the grant's subjects, indexed by number, for attribution in memory. */
export async function loadHolderIndex(atx: AuditedTx, grant: Grant): Promise<HolderIndex> {
  const subjectIds = [...grant.subjectIds];
  const index: HolderIndex = new Map();
  if (subjectIds.length === 0) return index;
  const rows = await atx.tx
    .selectFrom('number_assignments')
    .select(['e164', 'subject_id', 'valid_from', 'valid_to'])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subjectIds)))
    .orderBy('valid_from')
    .execute();
  for (const row of rows) {
    grant.assertCovers(TELEPHONY_CATEGORIES.number, row.subject_id);
    const periods = index.get(row.e164) ?? [];
    periods.push({
      from: row.valid_from.getTime(),
      to: row.valid_to?.getTime() ?? Number.POSITIVE_INFINITY,
      subjectId: row.subject_id,
    } satisfies HeldPeriod);
    index.set(row.e164, periods);
  }
  return index;
}

/** Every line identifier period (account codes, channels, extensions, SIP users) of the grant's subjects. */
async function loadLineIdentifierPeriods(atx: AuditedTx, grant: Grant): Promise<LineIdentifierPeriod[]> {
  const subjectIds = [...grant.subjectIds];
  if (subjectIds.length === 0) return [];
  const rows = await atx.tx
    .selectFrom('line_identifiers')
    .select(['kind', 'value', 'context', 'subject_id', 'valid_from', 'valid_to'])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subjectIds)))
    .orderBy('valid_from')
    .execute();
  return rows.map((row) => {
    grant.assertCovers(TELEPHONY_CATEGORIES.number, row.subject_id);
    return {
      kind: row.kind,
      value: row.value,
      context: row.context,
      from: row.valid_from.getTime(),
      to: row.valid_to?.getTime() ?? Number.POSITIVE_INFINITY,
      subjectId: row.subject_id,
    };
  });
}

/** The delimiter of a file from its first line (the first 64 KiB are enough for any CDR line). */
async function detectFileDelimiter(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(65_536);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return detectDelimiter(buffer.subarray(0, bytesRead).toString('latin1'));
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------
// One record → one row (or a reject reason).

const REJECT_MESSAGES: Readonly<Record<ImportRejectReason, string>> = {
  caller_not_normalisable:
    "no rule attributes the call to a customer, and the caller is not a valid phone number in the tenant's numbering plan",
  destination_not_normalisable:
    'the destination is neither a valid phone number, dialled digits nor an extension of the customer',
  not_attributed:
    "no customer held the call's account code, channel, SIP user, extension, caller number or called number when the call started",
  value_out_of_range: "the call's cost at the tariff does not fit the database's bigint column",
};

/** Digits as dialled when the destination is no E.164 number: short codes, service numbers. */
const DIALLED = /^[0-9*#+]{1,32}$/;

interface Row {
  startedIso: string;
  month: string;
  line: string;
  subjectId: number;
  isUnrated: boolean;
  /** An a-leg naming its b-leg, or a record that may be one: the batch links legs after the insert. */
  linksLegs: boolean;
}

type Normalised = { ok: true; e164: string } | { ok: false };

/** libphonenumber costs tens of µs per call; a switch repeats the same few thousand numbers. */
export class NumberNormaliser {
  readonly #country: CountryCode;
  readonly #cache = new Map<string, Normalised>();

  constructor(country: CountryCode) {
    this.#country = country;
  }

  normalise(raw: string): Normalised {
    const cached = this.#cache.get(raw);
    if (cached !== undefined) return cached;
    const result = normalisePhoneNumber(raw, { defaultCountry: this.#country });
    const value: Normalised = result.ok ? { ok: true, e164: detached(result.e164) } : { ok: false };
    if (this.#cache.size >= 500_000) this.#cache.clear();
    this.#cache.set(detached(raw), value);
    return value;
  }
}

function buildRow(
  record: CallRecord,
  normaliser: NumberNormaliser,
  attribution: AttributionIndex,
  ratingTable: RatingTable,
): Row | { reject: ImportRejectReason; subjectId: number | null } {
  const caller = record.callerRaw === '' ? null : normaliser.normalise(record.callerRaw);
  const callerE164 = caller !== null && caller.ok ? caller.e164 : null;
  const normalisedDestination = normaliser.normalise(record.destinationRaw);
  const destinationE164 = normalisedDestination.ok ? normalisedDestination.e164 : null;
  const startedMs = record.startedAt.getTime();
  const attributed = attribution.attribute({
    startedMs,
    callerE164,
    callerRaw: record.callerRaw,
    destinationE164,
    destinationRaw: record.destinationRaw,
    accountCode: record.accountCode,
    sourceChannel: record.sourceChannel,
    destinationChannel: record.destinationChannel,
    context: record.context,
  });
  if (attributed === null) {
    const isCallerNumberLike =
      callerE164 !== null || DIALLED.test(record.callerRaw) || isWithheld(record.callerRaw);
    return { reject: isCallerNumberLike ? 'not_attributed' : 'caller_not_normalisable', subjectId: null };
  }
  let destination: string;
  if (destinationE164 !== null) destination = destinationE164;
  else if (DIALLED.test(record.destinationRaw)) destination = record.destinationRaw;
  else if (attributed.isDestinationExtension) destination = record.destinationRaw;
  else return { reject: 'destination_not_normalisable', subjectId: attributed.subjectId };
  // The stored caller: E.164, or an extension's digits; a withheld or named caller is stored empty.
  const callerStored = callerE164 ?? (DIALLED.test(record.callerRaw) ? record.callerRaw : '');

  const isChargeable = record.isBillableLeg && isChargeableDirection(attributed.direction);
  const seconds = isChargeable ? selectBillableSeconds(record) : 0;
  let cost: number | null = 0;
  if (seconds > 0) {
    // Dialled destinations (112, 1207) are rated by the tariff's dialled prefixes.
    const rated = rateCall(ratingTable, destination, seconds, record.startedAt);
    cost = rated === 'no_rate' ? null : rated;
    // cost_micros is a bigint written as text: beyond 2^53 the number is neither exact nor digits.
    if (cost !== null && !Number.isSafeInteger(cost))
      return { reject: 'value_out_of_range', subjectId: attributed.subjectId };
  }
  const startedIso = record.startedAt.toISOString();
  const line = [
    startedIso,
    copyText(record.uniqueId ?? record.recordHash),
    String(attributed.subjectId),
    copyText(callerStored),
    copyText(destination),
    record.answeredAt === null ? NULL : record.answeredAt.toISOString(),
    record.endedAt.toISOString(),
    String(record.durationSeconds),
    String(record.billableSeconds),
    record.disposition,
    isChargeable ? 't' : 'f',
    record.linkedId === null ? NULL : copyText(record.linkedId),
    cost === null ? NULL : String(cost),
    attributed.direction,
    record.bLegId === null ? NULL : copyText(record.bLegId),
  ].join('\t');
  return {
    startedIso,
    month: startedIso.slice(0, 7),
    line,
    subjectId: attributed.subjectId,
    isUnrated: cost === null,
    linksLegs: record.hasLegIds,
  };
}

const WITHHELD = new Set(['anonymous', 'unknown', 'private', 'restricted', 'unavailable', 'withheld']);

/** What switches write for a caller without caller ID. */
function isWithheld(raw: string): boolean {
  return raw === '' || WITHHELD.has(raw.toLowerCase());
}

const NULL = '\\N';
const COPY_SPECIAL = /[\\\t\n\r]/;

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
export function copyText(value: string): string {
  if (!COPY_SPECIAL.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

// ---------------------------------------------------------------------------------------
// Batches: COPY into a session-private staging table, then one INSERT … ON CONFLICT DO NOTHING.

export const CALL_RECORD_COLUMNS = [
  'started_at',
  'dedup_key',
  'subject_id',
  'caller_e164',
  'destination',
  'answered_at',
  'ended_at',
  'duration_seconds',
  'billable_seconds',
  'disposition',
  'is_billable_leg',
  'linked_id',
  'cost_micros',
  'direction',
  'b_leg',
] as const;

const STAGING_DDL = `CREATE TEMP TABLE IF NOT EXISTS cdr_staging (
  started_at timestamptz, dedup_key text, subject_id bigint, caller_e164 text, destination text,
  answered_at timestamptz, ended_at timestamptz, duration_seconds integer, billable_seconds integer,
  disposition text, is_billable_leg boolean, linked_id text, cost_micros bigint, direction text, b_leg text
) ON COMMIT DELETE ROWS`;

/**
 * Memory of a bulk connection's backend (decision 0615). Set before the staging table is first
 * used: temp_buffers cannot change after that. A batch of 200,000 rows is ~37 MB of staging;
 * with the default 8 MB every batch was written out by its COPY and read back by its INSERT.
 * work_mem keeps the batch's totals (the statement trigger's aggregate and sort, decision 0500)
 * off the disk: with 4 MB a batch's aggregate ran in 21 spilled batches and an external sort.
 * Only one batch inserts at a time (the advisory lock), so one backend at a time uses it.
 */
const BULK_SESSION_SETTINGS = "SET temp_buffers = '64MB'; SET work_mem = '64MB'";

const COLUMN_LIST = CALL_RECORD_COLUMNS.join(', ');
const COPY_STAGING = `COPY cdr_staging (${COLUMN_LIST}) FROM STDIN`;
/** A batch's COPY text is kept in buffers of this size, outside the JavaScript heap (decision 0440). */
const CHUNK_BYTES = 256 * 1024;
const NEWLINE = 0x0a;

/**
 * The rows of one batch as COPY text, in a few large buffers: a row's strings die young instead
 * of living on the heap until the batch is written, so the heap stays small (decision 0440).
 */
class Batch {
  readonly #sealed: Buffer[] = [];
  #buffer: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;
  size = 0;
  readonly subjects = new Set<number>();
  readonly months = new Set<string>();
  linksLegs = false;

  add(row: Row): void {
    // UTF-8 takes at most three bytes per UTF-16 code unit, and one for the newline.
    const most = row.line.length * 3 + 1;
    if (this.#used + most > this.#buffer.length) this.#seal(most);
    this.#used += this.#buffer.write(row.line, this.#used, 'utf8');
    this.#buffer[this.#used] = NEWLINE;
    this.#used += 1;
    this.size += 1;
    this.subjects.add(row.subjectId);
    this.months.add(row.month);
    if (row.linksLegs) this.linksLegs = true;
  }

  chunks(): Buffer[] {
    return this.#used === 0 ? this.#sealed : [...this.#sealed, this.#buffer.subarray(0, this.#used)];
  }

  #seal(most: number): void {
    if (this.#used > 0) this.#sealed.push(this.#buffer.subarray(0, this.#used));
    this.#buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, most));
    this.#used = 0;
  }
}

/**
 * Writes batches in file order on two bulk connections (decision 0510): while batch N inserts on
 * one, batch N+1 takes its gate decision and is copied into the other's staging table, then waits
 * for N to commit before its own insert. Batches commit one after the other, in file order; at
 * most two are in flight, so memory holds at most three (two written, one being parsed).
 */
class BatchWriter {
  /** Per connection, the batch it is writing (settled, never rejecting). */
  readonly #inFlight: Array<Promise<void> | null>;
  /** The last batch submitted: the next one inserts only after it committed (or failed). */
  #previous: Promise<boolean> = Promise.resolve(true);
  #next = 0;
  #failure: Error | null = null;
  readonly #kernel: Kernel;
  readonly #connections: readonly CopyConnection[];
  readonly #tenantId: number;
  readonly #actor: Actor;
  readonly #months: Set<string>;
  readonly #importId: number | undefined;
  /** A batch with duplicates is likely followed by more (a file imported again): skip the plain try. */
  #mode: InsertMode = 'plain';

  constructor(
    kernel: Kernel,
    connections: readonly CopyConnection[],
    tenantId: number,
    actor: Actor,
    months: Set<string>,
    importId: number | undefined,
  ) {
    this.#kernel = kernel;
    this.#connections = connections;
    this.#inFlight = connections.map(() => null);
    this.#tenantId = tenantId;
    this.#actor = actor;
    this.#months = months;
    this.#importId = importId;
  }

  async submit(batch: Batch, done: (written: { rows: number; inserted: number }) => void): Promise<void> {
    const slot = this.#next;
    this.#next = (slot + 1) % this.#connections.length;
    const busy = this.#inFlight[slot];
    if (busy) await busy;
    if (this.#failure !== null) throw this.#failure;
    const connection = this.#connections[slot];
    if (connection === undefined) throw new Error('cdr import: no bulk connection');
    const previous = this.#previous;
    // The handlers are attached at once: a failing batch must not become an unhandled rejection
    // while the parser is still busy with the next one. `done` runs before the next batch may
    // insert, so counts and progress follow the commits in file order.
    const written = this.#write(connection, batch, previous).then(
      (inserted) => {
        done({ rows: batch.size, inserted });
        return true;
      },
      (error: unknown) => {
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
        return false;
      },
    );
    this.#previous = written;
    this.#inFlight[slot] = written.then(() => undefined);
  }

  async drain(): Promise<void> {
    for (let slot = 0; slot < this.#inFlight.length; slot += 1) {
      await this.#inFlight[slot];
      this.#inFlight[slot] = null;
    }
    if (this.#failure !== null) throw this.#failure;
  }

  async #write(connection: CopyConnection, batch: Batch, previous: Promise<boolean>): Promise<number> {
    await this.#ensurePartitions(batch.months);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#kernel.transactOn(connection, this.#tenantId, async (atx) => {
          const grant = await authorizeKeeping(this.#kernel, atx, this.#actor, {
            purpose: CALL_BILLING_PURPOSE,
            action: 'write',
            categories: [TELEPHONY_CATEGORIES.callRecord, TELEPHONY_CATEGORIES.number],
            subjectIds: [...batch.subjects],
          });
          await copyCallRecordBatch(connection, grant, batch);
          // The batch before commits first; if it failed, this one rolls back (the import stops).
          if (!(await previous)) throw new Error('cdr import: an earlier batch failed');
          // One batch of a tenant at a time: two imports of overlapping files would otherwise wait
          // on each other's uncommitted keys in opposite orders (a deadlock).
          await sql`select pg_advisory_xact_lock(hashtextextended('kluis.cdr_import', ${this.#tenantId}))`.execute(
            atx.tx,
          );
          const written = await insertCallRecordBatch(atx, grant, batch, this.#mode);
          this.#mode = written.mode;
          if (this.#importId !== undefined) await countCommitted(atx, this.#importId, written.inserted);
          return written.inserted;
        });
      } catch (error) {
        // Whatever else holds the same rows (a re-rate, an erasure) may still deadlock with a batch;
        // the batch rolled back whole, so it is sent again.
        if (attempt >= MAX_BATCH_ATTEMPTS || !isPgError(error, '40P01')) throw error;
      }
    }
  }

  // In short transactions of their own (on the pool), before the batch: creating a partition
  // locks the parent.
  async #ensurePartitions(months: ReadonlySet<string>): Promise<void> {
    for (const month of [...months].sort()) {
      if (this.#months.has(month)) continue;
      await this.#kernel.plain(this.#tenantId, (tx) =>
        sql`select kluis_ensure_call_record_partition(${`${month}-01`}::date)`.execute(tx),
      );
      this.#months.add(month);
    }
  }
}

/** Counts the batch's new rows on the import's row, in the batch's transaction (decision 0510). */
async function countCommitted(atx: AuditedTx, importId: number, inserted: number): Promise<void> {
  if (inserted === 0) return;
  await atx.tx
    .updateTable('call_record_imports')
    .set((eb) => ({ committed_rows: eb('committed_rows', '+', inserted) }))
    .where('import_id', '=', importId)
    .execute();
}

/**
 * How a batch goes from the staging table into call_records. `plain`: a bare INSERT, about half
 * the work of `skip_duplicates` (no speculative insertion per row); if any row is already stored
 * (or twice in the batch) it fails with a unique violation, is rolled back to its savepoint and
 * the batch goes in as `skip_duplicates`: INSERT … ON CONFLICT DO NOTHING (decision 0440).
 */
export type InsertMode = 'plain' | 'skip_duplicates';

/** The batch's rows into this session's staging table, under the batch's grant. */
async function copyCallRecordBatch(connection: CopyConnection, grant: Grant, batch: Batch): Promise<void> {
  grant.assertWritable();
  if (!grant.categories.has(TELEPHONY_CATEGORIES.callRecord)) {
    throw new AppError('category_not_allowed', 'grant does not cover call records');
  }
  await connection.copyIn(COPY_STAGING, batch.chunks());
}

async function insertCallRecordBatch(
  atx: AuditedTx,
  grant: Grant,
  batch: Batch,
  mode: InsertMode,
): Promise<{ inserted: number; mode: InsertMode }> {
  grant.assertWritable();
  let inserted: number | null = null;
  if (mode === 'plain') {
    await sql`savepoint cdr_plain_insert`.execute(atx.tx);
    try {
      const result = await sql`
        insert into call_records (tenant_id, ${sql.raw(COLUMN_LIST)})
        select ${atx.tenantId}::integer, ${sql.raw(COLUMN_LIST)} from cdr_staging`.execute(atx.tx);
      await sql`release savepoint cdr_plain_insert`.execute(atx.tx);
      inserted = Number(result.numAffectedRows ?? 0n);
    } catch (error) {
      // call_records has one unique key, the dedup key: a violation is a duplicate, nothing else.
      if (!isPgError(error, '23505')) throw error;
      await sql`rollback to savepoint cdr_plain_insert`.execute(atx.tx);
    }
  }
  if (inserted === null) {
    const result = await sql`
      insert into call_records (tenant_id, ${sql.raw(COLUMN_LIST)})
      select ${atx.tenantId}::integer, ${sql.raw(COLUMN_LIST)} from cdr_staging
      on conflict do nothing`.execute(atx.tx);
    inserted = Number(result.numAffectedRows ?? 0n);
  }
  if (batch.linksLegs) await linkLegs(atx);
  return { inserted, mode: inserted === batch.size ? 'plain' : 'skip_duplicates' };
}

/**
 * FreeSWITCH writes one record per leg; an a-leg names its b-leg (bleg_uuid). The pair is one
 * call, charged once: on the a-leg when it is chargeable, so the b-leg of the same customer is
 * then kept at no charge and joins the a-leg's linked id. Either leg may come first, in one
 * batch, in two, or in two files. When each names the other, the earlier one is the a-leg.
 * The b-leg of a call that is not charged on its a-leg (an inbound call forwarded onwards)
 * keeps its own charge.
 */
async function linkLegs(atx: AuditedTx): Promise<void> {
  const notMutualEarlier = sql`not (b.b_leg is not null and b.b_leg = a.dedup_key
    and (b.started_at, b.dedup_key) < (a.started_at, a.dedup_key))`;
  // b-legs (stored before or now) named by this batch's chargeable a-legs
  await sql`
    update call_records b set is_billable_leg = false, cost_micros = 0, linked_id = a.dedup_key
      from cdr_staging a
     where a.b_leg is not null and a.is_billable_leg
       and b.dedup_key = a.b_leg
       and b.started_at >= a.started_at - interval '1 minute' and b.started_at <= a.ended_at + interval '1 minute'
       and b.subject_id = a.subject_id and b.is_billable_leg and ${notMutualEarlier}`.execute(atx.tx);
  // this batch's records that a chargeable a-leg stored earlier names as its b-leg
  await sql`
    update call_records b set is_billable_leg = false, cost_micros = 0, linked_id = a.dedup_key
      from cdr_staging s
      join call_records a on a.b_leg = s.dedup_key and a.is_billable_leg
           and a.started_at >= s.started_at - interval '1 day' and a.started_at <= s.started_at + interval '1 minute'
     where b.started_at = s.started_at and b.dedup_key = s.dedup_key
       and b.subject_id = a.subject_id and b.is_billable_leg and ${notMutualEarlier}`.execute(atx.tx);
}

// ---------------------------------------------------------------------------------------
// The reject file: line number, reason, message; never the line itself (it is personal data).

class RejectWriter {
  readonly #path: string | null;
  readonly #onReject: ((reject: ImportReject) => void) | undefined;
  #stream: WriteStream | null = null;
  count = 0;
  readonly byReason: Record<string, number> = {};

  constructor(path: string | null, onReject?: (reject: ImportReject) => void) {
    this.#path = path;
    this.#onReject = onReject;
  }

  async write(line: number, reason: string, message: string, subjectId: number | null): Promise<void> {
    this.#onReject?.({ lineNumber: line, reason, subjectId });
    if (this.#path === null) {
      this.count += 1;
      this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
      return;
    }
    if (this.#stream === null) {
      this.#stream = createWriteStream(this.#path, { flags: 'w', encoding: 'utf8' });
      this.#stream.write(csvRecord(['line', 'reason', 'message'], '\n'));
    }
    this.count += 1;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    const ok = this.#stream.write(csvRecord([String(line), reason, message], '\n'));
    if (!ok) await once(this.#stream, 'drain');
  }

  /** Closes the file; without rejects, a reject file of an earlier run of the same file goes. */
  async close(): Promise<void> {
    if (this.#path === null) return;
    if (this.#stream === null) {
      await rm(this.#path, { force: true });
      return;
    }
    const stream = this.#stream;
    this.#stream = null;
    stream.end();
    await once(stream, 'close');
  }
}
