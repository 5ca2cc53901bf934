/**
 * The record of call-record imports (issue 20): one row per run of importCdrFile with its counts,
 * written as it goes, so the back office lists imports and the ones that failed or rejected lines.
 * Counts and codes only (kernel.plain); the rejected lines stay in the reject file.
 * docs/decisions/0331-call-record-imports-on-record.md.
 */
import path from 'node:path';
import type { Kernel } from '../../kernel/kernel.js';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { isDatabaseUnavailable } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { JobStopped } from '../../platform/job-stop.js';
import { CALL_BILLING_PURPOSE } from './cdr-import.service.js';

export type ImportStatus = 'queued' | 'running' | 'finished' | 'failed';
/** A running import not heard of for this long was stopped (killed, or its machine went down). */
export const INTERRUPTED_AFTER_MS = 15 * 60_000;

export interface ImportCounts {
  linesRead: number;
  imported: number;
  rejected: number;
  duplicates: number;
  unrated: number;
}

/** The file's own name, reduced to what the table keeps (no folder, no odd characters). */
export function importFileName(file: string): string {
  const base = path
    .basename(file)
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .slice(0, 120);
  return /^[A-Za-z0-9_]/.test(base) ? base : `_${base.slice(0, 119)}`;
}

/** Writes one import's row: created at the start, counts as batches land, the end state last. */
export class ImportLog {
  #importId: number | undefined;
  /** Taken on by resume(): an upload's row, whose spool file the upload job can run again. */
  #isResumable = false;
  #latest: ImportCounts | undefined;
  #writing: Promise<void> = Promise.resolve();
  #isWriting = false;

  constructor(
    private readonly kernel: Kernel,
    private readonly tenantId: number,
  ) {}

  async start(file: string, format: string): Promise<void> {
    const now = this.kernel.clock.now();
    const row = await this.kernel.plain(this.tenantId, (tx) =>
      tx
        .insertInto('call_record_imports')
        .values({
          tenant_id: this.tenantId,
          file_name: importFileName(file),
          format: /^[a-z]{1,20}$/.test(format) ? format : 'auto',
          status: 'running',
          started_at: now,
          updated_at: now,
        })
        .returning('import_id')
        .executeTakeFirstOrThrow(),
    );
    this.#importId = Number(row.import_id);
  }

  /** The import's row, once started or resumed. */
  get importId(): number | undefined {
    return this.#importId;
  }

  /**
   * Takes on the row of a queued (or interrupted) upload; counts start again from nothing. Returns
   * the rows its earlier runs committed (decision 0510): this run meets them again as stored rows.
   */
  async resume(importId: number): Promise<number> {
    const now = this.kernel.clock.now();
    const row = await this.kernel.plain(this.tenantId, (tx) =>
      tx
        .updateTable('call_record_imports')
        .set({
          status: 'running',
          updated_at: now,
          lines_read: 0,
          imported: 0,
          rejected: 0,
          duplicates: 0,
          unrated: 0,
        })
        .where('import_id', '=', importId)
        .where('status', 'in', ['queued', 'running'])
        .returning(['import_id', 'committed_rows'])
        .executeTakeFirst(),
    );
    if (!row) throw new AppError('conflict', 'the import is not waiting to run');
    this.#importId = importId;
    this.#isResumable = true;
    return row.committed_rows;
  }

  /** Counts so far; written one at a time, the newest wins (a batch never waits for it). */
  progress(counts: ImportCounts): void {
    this.#latest = { ...counts };
    if (this.#isWriting) return;
    this.#isWriting = true;
    // Progress is a courtesy: a failed count update never stops the import (its end state is written after).
    this.#writing = this.#drain().catch(() => undefined);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#latest) {
        const counts = this.#latest;
        this.#latest = undefined;
        await this.#update({ counts });
      }
    } finally {
      this.#isWriting = false;
    }
  }

  async finish(counts: ImportCounts, rejectsByReason: Record<string, number>): Promise<void> {
    await this.#writing;
    this.#latest = undefined;
    await this.#update({ counts, status: 'finished', rejectsByReason });
  }

  /**
   * The end of a run that threw: the error's code only (never its message). A resumed upload cut
   * by a lost database is not failed: it goes back to `queued` with its counts so far, and the
   * upload job runs it again from its spool file, adding only what is missing (decision 0675).
   * When even that cannot be written, the row stays `running`, which the job takes the same way.
   */
  async fail(error: unknown, counts: ImportCounts): Promise<void> {
    await this.#writing.catch(() => undefined);
    this.#latest = undefined;
    // A lost database or a stop (decision 0836): the next run resumes it.
    if (this.#isResumable && (isDatabaseUnavailable(error) || error instanceof JobStopped)) {
      await this.#update({ counts, status: 'queued' });
      return;
    }
    const code =
      error instanceof Error && error.name === 'CdrLayoutError'
        ? 'layout'
        : error instanceof AppError && /^[a-z][a-z_]{0,59}$/.test(error.code)
          ? error.code
          : databaseCause(error);
    await this.#update({ counts, status: 'failed', errorCode: code });
  }

  async #update(change: {
    counts: ImportCounts;
    status?: ImportStatus;
    rejectsByReason?: Record<string, number>;
    errorCode?: string;
  }): Promise<void> {
    const importId = this.#importId;
    if (importId === undefined) return;
    const now = this.kernel.clock.now();
    await this.kernel.plain(this.tenantId, (tx) =>
      tx
        .updateTable('call_record_imports')
        .set({
          lines_read: change.counts.linesRead,
          imported: change.counts.imported,
          rejected: change.counts.rejected,
          duplicates: change.counts.duplicates,
          unrated: change.counts.unrated,
          updated_at: now,
          ...(change.status ? { status: change.status } : {}),
          ...(change.status === 'finished' || change.status === 'failed' ? { finished_at: now } : {}),
          ...(change.rejectsByReason ? { rejects_by_reason: JSON.stringify(change.rejectsByReason) } : {}),
          ...(change.errorCode ? { error_code: change.errorCode } : {}),
        })
        .where('import_id', '=', importId)
        .where('status', '=', 'running')
        .execute(),
    );
  }
}

export interface ImportView extends ImportCounts {
  importId: number;
  fileName: string;
  format: string;
  /** `interrupted`: still marked running, but not heard of for INTERRUPTED_AFTER_MS. */
  status: ImportStatus | 'interrupted';
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  rejectsByReason: Record<string, number>;
  errorCode: string | null;
  source: 'file' | 'upload';
  sizeBytes: number | null;
  /** Until when the rejected lines can be downloaded; null: none kept (or no longer). */
  rejectsKeptUntil: Date | null;
}

export interface ImportListQuery {
  limit: number;
  /** Import id of the last row of the previous page (newest first). */
  beforeId?: number;
  /** Only imports that need a look: failed, interrupted, or with rejected lines. */
  problems?: boolean;
  since?: Date;
  /** Only this import. */
  importId?: number;
}

/** The roles that see the imports: those the policy lets work on call records, and the admin. */
export function maySeeImports(policy: Policy, role: string): boolean {
  return role === 'admin' || policy.purposes[CALL_BILLING_PURPOSE]?.roles.includes(role) === true;
}

/** Refuses a role that does not see the imports (maySeeImports). */
export async function assertMaySeeImports(kernel: Kernel, tenantId: number, actor: Actor): Promise<void> {
  if (actor.kind !== 'staff') return;
  const { policy } = await kernel.policies.current(tenantId);
  if (maySeeImports(policy, actor.role)) return;
  throw new AppError('role_not_allowed', `role ${actor.role} may not see call-record imports`, {
    publicMessage: `role ${actor.role} may not see call-record imports`,
  });
}

/** Imports newest first, filtered in SQL before the page is cut (decision 0085). */
export async function listImports(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  query: ImportListQuery,
): Promise<{ items: ImportView[]; nextBeforeId: number | null }> {
  await assertMaySeeImports(kernel, tenantId, actor);
  const now = kernel.clock.now();
  const stale = new Date(now.getTime() - INTERRUPTED_AFTER_MS);
  const rows = await kernel.plain(tenantId, (tx) => {
    let select = tx.selectFrom('call_record_imports').selectAll();
    if (query.importId !== undefined) select = select.where('import_id', '=', query.importId);
    if (query.beforeId !== undefined) select = select.where('import_id', '<', query.beforeId);
    if (query.since !== undefined) select = select.where('started_at', '>=', query.since);
    if (query.problems)
      select = select.where((eb) =>
        eb.or([
          eb('status', '=', 'failed'),
          eb('rejected', '>', 0),
          eb.and([eb('status', 'in', ['queued', 'running']), eb('updated_at', '<', stale)]),
        ]),
      );
    return select
      .orderBy('import_id', 'desc')
      .limit(query.limit + 1)
      .execute();
  });
  const shown = rows.slice(0, query.limit);
  return {
    items: shown.map((row) => ({
      importId: Number(row.import_id),
      fileName: row.file_name,
      format: row.format,
      status:
        (row.status === 'running' || row.status === 'queued') && row.updated_at < stale
          ? 'interrupted'
          : row.status,
      startedAt: row.started_at,
      updatedAt: row.updated_at,
      finishedAt: row.finished_at,
      linesRead: row.lines_read,
      imported: row.imported,
      rejected: row.rejected,
      duplicates: row.duplicates,
      unrated: row.unrated,
      rejectsByReason: row.rejects_by_reason,
      errorCode: row.error_code,
      source: row.source,
      sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
      rejectsKeptUntil: row.rejects_kept_until,
    })),
    nextBeforeId: rows.length > query.limit ? (shown.at(-1)?.import_id ?? null) : null,
  };
}

/**
 * Call-record imports of the tenant still queued or running (not interrupted): an invoice run
 * started meanwhile bills only the calls stored so far and says so (attack S9-4); the calls
 * stored after it are billed as late calls by the next run (decision 0426).
 */
export async function countImportsInProgress(kernel: Kernel, tenantId: number): Promise<number> {
  const stale = new Date(kernel.clock.now().getTime() - INTERRUPTED_AFTER_MS);
  const row = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('call_record_imports')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', 'in', ['queued', 'running'])
      .where('updated_at', '>=', stale)
      .executeTakeFirst(),
  );
  return Number(row?.n ?? 0);
}

/** A constraint's name as PostgreSQL allows it unquoted (digits too: partitions' names carry them). */
const CONSTRAINT_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * What the database said, as a stable code for the log (attack S10-5): the constraint a row broke
 * (its name, e.g. call_records_dedup_key_check), or database_unavailable when the connection went
 * (db.ts decides that, as for the API's 503).
 */
function databaseCause(error: unknown): string {
  if (isDatabaseUnavailable(error)) return 'database_unavailable';
  if (!(error instanceof Error)) return 'error';
  const { constraint } = error as Error & { constraint?: unknown };
  return typeof constraint === 'string' && CONSTRAINT_NAME.test(constraint) ? constraint : 'error';
}
