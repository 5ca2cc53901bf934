import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sql, type Insertable } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import {
  canRunAlone,
  commitWith,
  isDatabaseUnavailable,
  runAloneInTenant,
  unlessDatabaseSilent,
  withTenant,
  withTenantOnFirstStatement,
  type Db,
  type Tx,
} from '../../platform/db.js';
import { AppError, isAppError } from '../../platform/errors.js';
import { scrubbedMessage } from '../../platform/process-guard.js';
import { outsideRequest, withoutNotingCommits } from '../../platform/request-scope.js';
import {
  encodeCheckpoint,
  encodeEntryMac,
  encodePendingMac,
  encodeSetBack,
  GENESIS_HASH,
  hashAuditEntry,
  instantText,
  type ChainedEntry,
} from './audit.canonical.js';
import {
  AnchorSourceError,
  type AnchorSource,
  type AuditAnchor,
  type AuditSetBack,
} from './audit.anchors.js';
import {
  SELF_ACTOR_ID,
  validateAuditEvent,
  type AuditActor,
  type AuditEvent,
  type RecordedAuditEvent,
} from './audit.event.js';
import {
  appendIfHeadIs,
  appendOrParkOutcome,
  appendOrParkSql,
  inlinePendingSql,
  inlinePendingWritten,
  insertAuditEntries,
  SPECULATIVE_APPEND_MAX,
  WITH_COMMIT_MAX,
  insertCheckpoint,
  insertPendingEntries,
  lockAuditHead,
  movePendingEntries,
  selectPendingEntries,
  selectEntriesByNonce,
  hasPendingToChain,
  tryLockAuditHead,
  tryLockHeadWithPending,
  selectAuditEntries,
  selectAuditEntriesAfter,
  selectAuditEntry,
  selectAuditHead,
  selectCheckpointsAfter,
  selectLatestCheckpoint,
  unparkPendingSql,
  type AuditCheckpointRow,
  type AuditHead,
  type AuditLogRow,
  type AuditPendingRow,
  type InlineAppendSql,
  type PendingEntry,
} from './audit.repository.js';
import type { AuditLogTable, AuditPendingTable } from './audit.tables.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import { stopIfHeadersOnly } from '../../platform/headers-only.js';

/** Keyed functions the keyring provides (the audit module never sees the master key). */
export interface AuditKeys {
  /** Keyed hash of a subject id, hex: stable per tenant, meaningless without the key. */
  pseudonym(tenantId: number, subjectId: number): Promise<string>;
  /** `pseudonym` of each id, in order, in one call (an entry may name thousands of subjects). */
  pseudonyms(tenantId: number, subjectIds: readonly number[]): Promise<string[]>;
  /** HMAC of a checkpoint's canonical bytes. */
  checkpointMac(tenantId: number, data: Buffer): Promise<Buffer>;
  /**
   * `pseudonyms` and `checkpointMac` at once, when the tenant's secret is in memory (undefined
   * otherwise): the usual append is signed without a promise (decision 0820).
   */
  pseudonymsIfCached?: (tenantId: number, subjectIds: readonly number[]) => string[] | undefined;
  checkpointMacIfCached?: (tenantId: number, data: Buffer) => Buffer | undefined;
}

export interface AuditDeps {
  db: Db;
  keys: AuditKeys;
  clock: Clock;
  /** Where checkpoints are also written, outside the data database (key store, anchor file). */
  anchors?: readonly AnchorSource[];
  /** Where a chain blocked by a row beyond its head is reported (no entry content, no keys). */
  logger?: { error(fields: Record<string, unknown>, message: string): void };
}

const DRAIN = Symbol('drain');
const PARKED = Symbol('parked');
const PREPARED = Symbol('prepared');

/** Where a trail's inline entries are signed and chained (its transaction's tenant and pool). */
interface TrailContext {
  deps: Pick<AuditDeps, 'db' | 'keys'>;
  tenantId: number;
}

/**
 * An audit entry written by another statement of the transaction (decisions 0450, 0480), signed
 * before that statement is sent. `sql` goes into the statement; `settle` takes the statement's
 * answer.
 */
export interface InlineAuditEntry {
  sql: InlineAppendSql;
  /**
   * After the statement, once the gate has decided to allow: `row` holds the statement's
   * `gate_audit_…` columns; `held` says whether the condition given to `sql.ctes` held. An entry
   * the statement did not write is appended at commit, as `record` would. Never call it for a
   * refusal: the refusal's own entry is recorded, and the transaction (with anything the
   * statement wrote) rolls back.
   */
  settle(row: Record<string, unknown>, held: boolean): void;
}

/**
 * The audit events of one transaction, buffered so they are appended in one go (one head lock,
 * one multi-row insert) just before commit. Only `withAudit` creates one; once its transaction
 * has ended, recording into it throws instead of silently losing the event.
 */
export class AuditTrail {
  readonly #clock: Clock;
  readonly #context: TrailContext | undefined;
  #events: RecordedAuditEvent[] = [];
  #closed = false;
  /** An inline entry went to audit_pending: the chainer runs after commit. */
  #parked = false;
  /** The append statement built ahead of the commit by `prepareAppend`, and what it was built from. */
  #prepared: PreparedAppend | undefined;

  constructor(clock: Clock, context?: TrailContext) {
    this.#clock = clock;
    this.#context = context;
  }

  /** Validates the event (no personal data, see AuditEvent) and buffers it; throws when invalid. */
  record(event: AuditEvent): void {
    this.#assertOpen();
    this.#events.push(validateAuditEvent(event, this.#clock.now()));
  }

  /**
   * The entry of `event` as CTEs for another statement of this transaction (the gated read:
   * the subjects' states, the rows and the entry in ONE statement, decision 0450). The entry is
   * signed as a pending entry before the statement is sent and always goes to audit_pending: a
   * gated read never takes the chain head (decision 0480); the chainer links it after commit.
   */
  async inline(event: AuditEvent): Promise<InlineAuditEntry> {
    this.#assertOpen();
    stopIfHeadersOnly('an audit entry');
    const context = this.#context;
    if (!context) throw new Error('an audit trail without its transaction cannot write inline');
    const recorded = validateAuditEvent(event, this.#clock.now());
    const { deps, tenantId } = context;
    const pseudonyms = await pseudonymize(deps.keys, tenantId, [recorded]);
    const [pending] = await signPending(deps.keys, tenantId, pseudonyms, [recorded]);
    if (!pending) throw new Error('audit: no pending entry signed');
    let settled = false;
    return {
      sql: inlinePendingSql(pending),
      settle: (row, held) => {
        this.#assertOpen();
        if (settled) throw new Error('an inline audit entry is settled once');
        settled = true;
        if (held && inlinePendingWritten(row)) {
          this.#parked = true;
          return;
        }
        // Not written (the statement's guard was stricter than the rules): appended at commit.
        this.#events.push(recorded);
      },
    };
  }

  /**
   * Builds the statement that appends the events recorded so far (pseudonyms, chain links,
   * signatures) on the next turn of the event loop, while the caller's last statement runs on the
   * server, instead of after it (decision 0830). For a work whose last statement is long and whose
   * entries are many subjects' (the invoice batch's). The commit uses it only if nothing it was
   * built from changed since: the same events, the same head guessed, the same `behind`; else
   * (or if building failed) the statement is built at commit as before.
   */
  prepareAppend(): void {
    this.#assertOpen();
    const context = this.#context;
    const events = [...this.#events];
    if (!context || events.length === 0 || events.length > WITH_COMMIT_MAX) return;
    const { deps, tenantId } = context;
    const behind = this.#parked || chainRunPending(deps.db, tenantId);
    const statement = new Promise((resolve) => setImmediate(resolve)).then(() =>
      appendStatement(deps, tenantId, events, behind),
    );
    // Used, or its failure met again, at commit.
    statement.catch(() => undefined);
    this.#prepared = { events, behind, statement };
  }

  /** The prepared append, if it was built from exactly `events` and `behind` (decision 0830). */
  [PREPARED](
    events: readonly RecordedAuditEvent[],
    behind: boolean,
  ): PreparedAppend['statement'] | undefined {
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (!prepared || prepared.behind !== behind || prepared.events.length !== events.length) return undefined;
    if (prepared.events.some((event, at) => event !== events[at])) return undefined;
    return prepared.statement;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new Error('audit trail of a finished transaction: record events inside the withAudit callback');
    }
  }

  /** Events recorded and not yet written. */
  get pending(): number {
    return this.#events.length;
  }

  get [PARKED](): boolean {
    return this.#parked;
  }

  [DRAIN](): RecordedAuditEvent[] {
    this.#closed = true;
    const events = this.#events;
    this.#events = [];
    return events;
  }
}

/** An append statement built ahead of the commit (`AuditTrail.prepareAppend`). */
interface PreparedAppend {
  events: readonly RecordedAuditEvent[];
  behind: boolean;
  statement: Promise<AppendStatement>;
}

export interface AuditedTx {
  tx: Tx;
  tenantId: number;
  audit: AuditTrail;
}

/**
 * `withTenant` plus an AuditTrail: the work's changes and its audit entries commit together or
 * not at all. All buffered events are appended in ONE step before commit; if `work` throws,
 * nothing is written and its data changes are rolled back. The transaction begins at the work's
 * first statement (decision 0690): a work that sends none has its entries sent as a transaction
 * of their own (appendAlone), and its `tx` refuses statements once it has returned.
 */
export async function withAudit<T>(
  deps: AuditDeps,
  tenantId: number,
  work: (atx: AuditedTx) => Promise<T>,
): Promise<T> {
  const audit = new AuditTrail(deps.clock, { deps, tenantId });
  // Whether every entry appended at commit was of a read (decision 0765).
  let readsOnly = true;
  try {
    // The transaction begins at the work's first statement (decision 0690).
    const { value, appending } = await withTenantOnFirstStatement(
      deps.db,
      tenantId,
      (tx) => work({ tx, tenantId, audit }),
      {
        // The work sent statements: the entries go with its commit.
        within: async (result, tx) => {
          // After an entry of this transaction, or of a call of this process that returned before
          // its chain run, the events queue behind it (decision 0480).
          const behind = audit[PARKED] || chainRunPending(deps.db, tenantId);
          const events = audit[DRAIN]();
          readsOnly = events.every((event) => event.action === 'read');
          const prepared = audit[PREPARED](events, behind);
          return {
            value: result,
            appending: await appendEvents(tx, deps, tenantId, events, behind, prepared),
          };
        },
        // It sent nothing: the entries are the transaction, one query of their own (decision 0650).
        alone: async (result) => {
          const events = audit[DRAIN]();
          const behind = chainRunPending(deps.db, tenantId);
          const appending: Appended =
            events.length === 0 ? 'none' : await appendAlone(deps, tenantId, events, behind);
          return { value: result, appending };
        },
      },
    ).catch((error: unknown) => rethrowBlocked(deps.db, tenantId, error));
    // Sent with the commit (decision 0481): what it wrote is known once the commit is made.
    const appended =
      typeof appending === 'string'
        ? appending
        : await appending.afterCommit.catch((error: unknown) => rethrowBlocked(deps.db, tenantId, error));
    if (appended === 'pending' && !(audit[PARKED] && readsOnly)) {
      // Entries this transaction appended to audit_pending are in the chain before the caller
      // goes on (decision 0340); those of reads queued behind a parked read (a search and the
      // read of what it found, decision 0765) are read entries too, and go as that read's.
      await reachTestHook('audit.pending-committed');
      await chainBeforeAnswering(deps, tenantId);
    } else if (audit[PARKED]) {
      // A gated read whose entry went to audit_pending returns without waiting for the chain run
      // (decision 0455): the entry is durable since the commit, every reader of the chain chains
      // first, and a run links it soon after, together with the reads that follow within
      // READ_CHAIN_DELAY_MS (decision 0570; or the next run, should the process die now).
      await reachTestHook('audit.pending-committed');
      chainAfterReads(deps, tenantId);
    }
    return value;
  } finally {
    audit[DRAIN]();
  }
}

/**
 * Appends events in their own committed transaction, for denials: the caller records the
 * refusal here and then throws, so the refusal stays on record while its own work rolls back.
 */
export async function appendAuditNow(deps: AuditDeps, tenantId: number, events: AuditEvent[]): Promise<void> {
  const at = deps.clock.now();
  const recorded = events.map((event) => validateAuditEvent(event, at));
  if (recorded.length === 0) return;
  const behind = chainRunPending(deps.db, tenantId);
  const appended = await appendAlone(deps, tenantId, recorded, behind);
  if (appended === 'pending') await chainBeforeAnswering(deps, tenantId);
}

/**
 * The chain run a caller waits for after its commit (decision 0340), until the database is found
 * silent (decision 0810): the entries are durable in audit_pending and a failed run leaves them
 * there anyway, so a run queued behind a silent one (another 35 s) is not waited for.
 */
async function chainBeforeAnswering(
  deps: Pick<AuditDeps, 'db' | 'keys' | 'logger'>,
  tenantId: number,
): Promise<void> {
  await unlessDatabaseSilent(deps.db, chainSoon(deps, tenantId));
}

/**
 * An audit-only transaction: the usual batch's one statement (appendOrParkSql) with the `begin`,
 * the tenant and the `commit`, in one simple query on a pooled client, without a Kysely
 * transaction around nothing (decision 0650). A larger batch, or a database made without
 * createAppDb, goes through withTenant and appendEvents as any audited transaction.
 */
async function appendAlone(
  deps: Pick<AuditDeps, 'db' | 'keys'>,
  tenantId: number,
  events: RecordedAuditEvent[],
  behind: boolean,
): Promise<Appended> {
  try {
    if (events.length <= WITH_COMMIT_MAX && canRunAlone(deps.db)) {
      const append =
        appendStatementNow(deps, tenantId, events, behind) ??
        (await appendStatement(deps, tenantId, events, behind));
      const rows = await runAloneInTenant<Record<string, unknown>>(deps.db, tenantId, append.statement);
      if (rows) return append.settle(rows[0]);
    }
    const appending = await withTenant(deps.db, tenantId, (tx) =>
      appendEvents(tx, deps, tenantId, events, behind),
    );
    return typeof appending === 'string' ? appending : await appending.afterCommit;
  } catch (error) {
    return rethrowBlocked(deps.db, tenantId, error);
  }
}

/**
 * Whether `error` is PostgreSQL's unique violation on audit_log's key: an insert found its seq
 * taken. Kluis only ever inserts at the head + 1 with the head locked or compared in the same
 * statement, so a taken seq means a row was written there without moving the head (attack S11-4).
 * The error's detail does not name the seq (row-level security hides the key), so the caller
 * reads the head.
 */
function isSeqTaken(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const fields = error as { code?: unknown; constraint?: unknown };
  return fields.code === '23505' && fields.constraint === 'audit_log_pkey';
}

/**
 * The tenant's chain cannot take an entry: a row sits beyond its head. Every audited write would
 * fail the same way until an operator removes it, so the caller gets a 503 with a stable code and
 * the log says where (decision 0680); `kluis audit verify` names the row.
 */
export function auditChainBlocked(tenantId: number, seq: number, cause: unknown): AppError {
  return new AppError(
    'audit_unavailable',
    `audit chain of tenant ${tenantId} blocked at seq ${seq}: an entry beyond the head`,
    {
      publicMessage:
        'the audit log cannot take new entries, so nothing was changed; an administrator must run kluis audit verify',
      details: { blockedSeq: seq },
      cause,
    },
  );
}

/** Whether `error` is a chain blocked by a row beyond its head (auditChainBlocked). */
export function isAuditChainBlocked(error: unknown): error is AppError {
  return isAppError(error) && error.code === 'audit_unavailable';
}

/**
 * Rethrows a taken seq as auditChainBlocked at the seq after the head (where the row sits: the
 * head did not move), any other error as it is; so does a failure to read the head.
 */
async function rethrowBlocked(db: Db, tenantId: number, error: unknown): Promise<never> {
  if (!isSeqTaken(error)) throw error;
  const head = await withTenant(db, tenantId, (tx) => selectAuditHead(tx, tenantId)).catch(() => {
    throw error;
  });
  throw auditChainBlocked(tenantId, (head?.seq ?? 0) + 1, error);
}

const PSEUDONYM_PATTERN = /^[0-9a-f]{16,128}$/;

async function pseudonymize(
  keys: AuditKeys,
  tenantId: number,
  events: RecordedAuditEvent[],
): Promise<Map<number, string>> {
  const named = namedSubjects(events);
  // No subject, no call: the keys would create the tenant's secret for nothing.
  if (named.length === 0) return new Map();
  return pseudonymsById(named, await keys.pseudonyms(tenantId, named));
}

/** pseudonymize without a promise, or undefined when the tenant's secret is not in memory. */
function pseudonymizeNow(
  keys: AuditKeys,
  tenantId: number,
  events: RecordedAuditEvent[],
): Map<number, string> | undefined {
  const named = namedSubjects(events);
  if (named.length === 0) return new Map();
  const pseudonyms = keys.pseudonymsIfCached?.(tenantId, named);
  return pseudonyms && pseudonymsById(named, pseudonyms);
}

/** Every subject the events name (their subjects, and a subject actor), once each. */
function namedSubjects(events: RecordedAuditEvent[]): number[] {
  const ids = new Set<number>();
  for (const event of events) {
    for (const id of event.subjectIds) ids.add(id);
    if (isSubjectActorId(event.actor)) ids.add(Number(event.actor.id));
  }
  return [...ids];
}

function pseudonymsById(named: number[], pseudonyms: string[]): Map<number, string> {
  const byId = new Map<number, string>();
  named.forEach((id, at) => {
    const pseudonym = pseudonyms[at];
    // Guards against a keys implementation that would hand back something readable.
    if (pseudonym === undefined || !PSEUDONYM_PATTERN.test(pseudonym))
      throw new Error('AuditKeys.pseudonyms must return a hex keyed hash per subject');
    byId.set(id, pseudonym);
  });
  return byId;
}

/** A subject actor named by id (stored as its pseudonym), not as 'self'. */
function isSubjectActorId(actor: AuditActor): boolean {
  return actor.kind === 'subject' && actor.id !== SELF_ACTOR_ID;
}

function requirePseudonym(pseudonyms: Map<number, string>, id: number): string {
  const pseudonym = pseudonyms.get(id);
  if (pseudonym === undefined) throw new Error('a subject of the audit batch has no pseudonym');
  return pseudonym;
}

/**
 * The head each tenant's chain had after this process's last append or chain run, per pool: the
 * guess that lets an append chain its entries in the statement it sends with the commit
 * (appendOrParkSql). A wrong guess (another process appended since, or ours rolled back) sends
 * the entries to audit_pending for the chainer, never a wrong chain.
 */
const LAST_HEADS = new WeakMap<Db, Map<number, AuditHead>>();

function lastHeads(db: Db): Map<number, AuditHead> {
  let heads = LAST_HEADS.get(db);
  if (!heads) {
    heads = new Map();
    LAST_HEADS.set(db, heads);
  }
  return heads;
}

type Appended = 'chained' | 'pending' | 'none';

/**
 * Appends a transaction's events: chained onto the head when this transaction can have it, or,
 * when it cannot at once, written to audit_pending without waiting (signed over their content)
 * for the chainer to link after commit (docs/decisions/0340). Answers which — as a promise that
 * settles after the commit when the append goes to the server with the commit (decision 0481):
 * the usual case, one statement sent with the `commit`, so a transaction's entries cost no round
 * trip of their own. Await that promise only after the transaction ended.
 * `behind`: entries this process wrote before these are still pending (a gated read's, decision
 * 0480); these go pending too, after them, so the chain keeps the order in which this process's
 * calls were made (the chainer links pending entries in the order they were written).
 */
async function appendEvents(
  tx: Tx,
  deps: Pick<AuditDeps, 'db' | 'keys'>,
  tenantId: number,
  events: RecordedAuditEvent[],
  behind = false,
  prepared?: Promise<AppendStatement>,
): Promise<Appended | { afterCommit: Promise<Appended> }> {
  if (events.length === 0) return 'none';
  if (events.length <= WITH_COMMIT_MAX) {
    // Built ahead (decision 0830) and still on the head this process last wrote; else built now,
    // without a promise when the tenant's keys are in memory (decision 0820).
    const ahead = prepared && (await prepared.catch(() => undefined));
    const { statement, settle } =
      ahead && ahead.guess === guessedHead(deps.db, tenantId, behind)
        ? ahead
        : (appendStatementNow(deps, tenantId, events, behind) ??
          (await appendStatement(deps, tenantId, events, behind)));
    const answer = commitWith<Record<string, unknown>>(tx, statement);
    if (answer) {
      const settled = answer.then((rows) => settle(rows[0]));
      // Awaited by the caller after the commit; a failed commit rejects withTenant as well.
      settled.catch(() => undefined);
      // Wrapped: a promise returned from this async function would be awaited here, before the commit.
      return { afterCommit: settled };
    }
    const { rows } = await sql.raw<Record<string, unknown>>(statement).execute(tx);
    return settle(rows[0]);
  }
  // A larger batch: statements of its own before the commit (decision 0250's speculative append
  // when the guess holds, else the head locked without waiting for another transaction's).
  stopIfHeadersOnly('an audit entry');
  const { keys } = deps;
  // Keyed hashes are computed before taking the head lock, to hold it as briefly as possible.
  const pseudonyms = await pseudonymize(keys, tenantId, events);
  const heads = lastHeads(deps.db);
  if (behind) {
    await insertPendingEntries(tx, await signPending(keys, tenantId, pseudonyms, events));
    return 'pending';
  }
  const guess = heads.get(tenantId);
  let head: AuditHead | 'busy' | undefined;
  if (guess && events.length <= SPECULATIVE_APPEND_MAX) {
    const chained = await chainEvents(keys, tenantId, pseudonyms, events, guess);
    const outcome = await appendIfHeadIs(tx, tenantId, chained.rows, guess);
    if (outcome.appended) {
      heads.set(tenantId, chained.head);
      return 'chained';
    }
    // The head is now locked by this transaction, busy, or there is none yet.
    head = outcome.head;
  }
  head ??= await tryLockAuditHead(tx, tenantId);
  if (head === 'busy') {
    await insertPendingEntries(tx, await signPending(keys, tenantId, pseudonyms, events));
    return 'pending';
  }
  const chained = await chainEvents(keys, tenantId, pseudonyms, events, head);
  await insertAuditEntries(tx, chained.rows);
  heads.set(tenantId, chained.head);
  return 'chained';
}

/** The statement that appends a batch with the commit, the head it guessed, and how to read its answer. */
interface AppendStatement {
  statement: string;
  guess: AuditHead | undefined;
  settle: (row: Record<string, unknown> | undefined) => Appended;
}

/** The head an append chains onto: the one this process last wrote, unless it queues behind pending entries. */
function guessedHead(db: Db, tenantId: number, behind: boolean): AuditHead | undefined {
  return behind ? undefined : lastHeads(db).get(tenantId);
}

/**
 * The one statement that appends a batch of at most WITH_COMMIT_MAX events (decision 0481), and
 * how to read its answer. Signed both ways before it is sent: chained onto the head this process
 * last wrote, and as pending entries for when that head is busy or moved (or not known here).
 */
async function appendStatement(
  deps: Pick<AuditDeps, 'db' | 'keys'>,
  tenantId: number,
  events: RecordedAuditEvent[],
  behind: boolean,
): Promise<AppendStatement> {
  stopIfHeadersOnly('an audit entry');
  const { keys } = deps;
  const pseudonyms = await pseudonymize(keys, tenantId, events);
  const guess = guessedHead(deps.db, tenantId, behind);
  // Each event's content (its subjects' pseudonyms sorted: 5,000 for an invoice run's batch) made
  // once for both ways it is signed, not once each (decision 1010).
  const contents = events.map((event) => entryContent(tenantId, pseudonyms, event));
  const chained = guess ? await linkEntries(keys, tenantId, contents, guess) : undefined;
  const pending = await Promise.all(
    contents.map(async (entry) => {
      const content = asPending(entry);
      return pendingRowOf(content, await keys.checkpointMac(tenantId, encodePendingMac(content)));
    }),
  );
  return appendStatementOf(deps.db, tenantId, guess, chained, pending);
}

/**
 * appendStatement without a promise when the tenant's secrets are in memory (the usual append,
 * decision 0820): the same rows, signed the same way; undefined when a secret must be loaded,
 * and the caller goes through appendStatement.
 */
function appendStatementNow(
  deps: Pick<AuditDeps, 'db' | 'keys'>,
  tenantId: number,
  events: RecordedAuditEvent[],
  behind: boolean,
): AppendStatement | undefined {
  const { keys } = deps;
  const macIfCached = keys.checkpointMacIfCached;
  if (!macIfCached) return undefined;
  stopIfHeadersOnly('an audit entry');
  const pseudonyms = pseudonymizeNow(keys, tenantId, events);
  if (!pseudonyms) return undefined;
  const macNow = (data: Buffer) => macIfCached(tenantId, data);
  const guess = guessedHead(deps.db, tenantId, behind);
  const contents = events.map((event) => entryContent(tenantId, pseudonyms, event));
  const chained = guess ? linkEntriesNow(contents, guess, macNow) : undefined;
  if (chained === null) return undefined;
  const pending: Insertable<AuditPendingTable>[] = [];
  for (const entry of contents) {
    const content = asPending(entry);
    const mac = macNow(encodePendingMac(content));
    if (!mac) return undefined;
    pending.push(pendingRowOf(content, mac));
  }
  return appendStatementOf(deps.db, tenantId, guess, chained, pending);
}

function appendStatementOf(
  db: Db,
  tenantId: number,
  guess: AuditHead | undefined,
  chained: { rows: Insertable<AuditLogTable>[]; head: AuditHead } | undefined,
  pending: Insertable<AuditPendingTable>[],
): AppendStatement {
  const statement = appendOrParkSql(
    tenantId,
    chained && guess ? { rows: chained.rows, expected: guess, next: chained.head } : undefined,
    pending,
  );
  return {
    statement,
    guess,
    settle: (row) => {
      const outcome = appendOrParkOutcome(row);
      if (outcome === 'chained' && chained) lastHeads(db).set(tenantId, chained.head);
      return outcome;
    },
  };
}

/** The events as they are chained later: content as in audit_log, signed without a place. */
async function signPending(
  keys: AuditKeys,
  tenantId: number,
  pseudonyms: Map<number, string>,
  events: RecordedAuditEvent[],
): Promise<Insertable<AuditPendingTable>[]> {
  return Promise.all(
    events.map(async (event) => {
      const content = pendingContentOf(tenantId, pseudonyms, event);
      return pendingRowOf(content, await keys.checkpointMac(tenantId, encodePendingMac(content)));
    }),
  );
}

/**
 * An event's content as a pending entry: the nonce makes each pending entry one of a kind, so a
 * copy keeps it and is never chained twice (decision 0686).
 */
function pendingContentOf(
  tenantId: number,
  pseudonyms: Map<number, string>,
  event: RecordedAuditEvent,
): EntryContent & { nonce: Buffer } {
  return asPending(entryContent(tenantId, pseudonyms, event));
}

/** An entry's content as a pending entry's, with a nonce of its own (decision 0686). */
function asPending(content: EntryContent): EntryContent & { nonce: Buffer } {
  return { ...content, nonce: randomBytes(PENDING_NONCE_BYTES) };
}

function pendingRowOf(content: EntryContent & { nonce: Buffer }, mac: Buffer): Insertable<AuditPendingTable> {
  return {
    tenant_id: content.tenantId,
    at: content.at,
    actor_kind: content.actorKind,
    actor_id: content.actorId,
    role: content.role,
    purpose: content.purpose,
    action: content.action,
    subject_pseudonyms: [...content.subjectPseudonyms],
    categories: [...content.categories],
    records: content.records,
    decision: content.decision,
    reason: content.reason,
    request_id: content.requestId,
    mac,
    nonce: content.nonce,
  };
}

/** The content of an entry, and the nonce of the pending entry it comes from (decision 0686). */
type EntryContent = Omit<ChainedEntry, 'seq' | 'prevHash'> & { nonce: Buffer | null };

const PENDING_NONCE_BYTES = 16;

function entryContent(
  tenantId: number,
  pseudonyms: Map<number, string>,
  event: RecordedAuditEvent,
): EntryContent {
  return {
    tenantId,
    at: event.at,
    actorKind: event.actor.kind,
    actorId: isSubjectActorId(event.actor)
      ? requirePseudonym(pseudonyms, Number(event.actor.id))
      : event.actor.id,
    role: event.role,
    purpose: event.purpose,
    action: event.action,
    subjectPseudonyms: event.subjectIds.map((id) => requirePseudonym(pseudonyms, id)).sort(),
    categories: event.categories,
    records: event.records,
    decision: event.decision,
    reason: event.reason,
    requestId: event.requestId,
    nonce: null,
  };
}

function pendingContent(row: AuditPendingRow): EntryContent {
  return {
    tenantId: row.tenant_id,
    at: row.at,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    role: row.role,
    purpose: row.purpose,
    action: row.action,
    subjectPseudonyms: row.subject_pseudonyms,
    categories: row.categories,
    records: row.records,
    decision: row.decision,
    reason: row.reason,
    requestId: row.request_id,
    nonce: row.nonce,
  };
}

async function isPendingMacValid(keys: AuditKeys, row: AuditPendingRow): Promise<boolean> {
  const expected = await keys.checkpointMac(row.tenant_id, encodePendingMac(pendingContent(row)));
  return expected.length === row.mac.length && timingSafeEqual(expected, row.mac);
}

const CHAIN_BATCH = 500;

/**
 * The chainer (docs/decisions/0340): links the tenant's pending entries into the chain, in the
 * order they were written, in batches; each batch is chained, inserted, the head moved and its
 * pending rows deleted in ONE transaction, so a kill at any point leaves every entry in exactly
 * one of the two tables. That transaction commits without waiting for the WAL flush: its entries
 * are already durable in audit_pending, a lost commit only puts them back there, and any later
 * durable commit (an append onto this head, a checkpoint) flushes it first. Entries whose
 * signature does not hold are never chained (verification reports them). `known`: the caller
 * just wrote pending entries, so the look without the lock is skipped. Returns how many were
 * chained.
 */
export function chainPendingEntries(
  deps: Pick<AuditDeps, 'db' | 'keys' | 'logger'>,
  tenantId: number,
  options: { known?: boolean } = {},
): Promise<number> {
  // Housekeeping of the chain, not the work of the request that happens to run it: its commits
  // do not make that request's 503 a "partial" one (decision 0762).
  return withoutNotingCommits(() => chainPending(deps, tenantId, options));
}

async function chainPending(
  deps: Pick<AuditDeps, 'db' | 'keys' | 'logger'>,
  tenantId: number,
  options: { known?: boolean },
): Promise<number> {
  if (!options.known) {
    // Readers call this first: a look without the lock, so a listing never waits for appenders.
    const waiting = await withTenant(deps.db, tenantId, (tx) => hasPendingToChain(tx, tenantId));
    if (!waiting) return 0;
  }
  let chained = 0;
  let afterId = 0;
  const forged: ForgedSeen = { count: 0, firstId: 0, lastId: 0 };
  for (;;) {
    // The commit without a WAL flush: set with the begin and the tenant, in one round trip.
    const batch = await withTenant(
      deps.db,
      tenantId,
      async (tx) => {
        // The lock and the read in one statement when the head was free and unmoved since its
        // snapshot (decision 0370); else a statement of its own after the lock: its snapshot sees
        // what the chainer before this one moved (a statement that waited for the lock would
        // still see those rows pending).
        const quick = await tryLockHeadWithPending(tx, tenantId, afterId, CHAIN_BATCH);
        const head = quick?.head ?? (await lockAuditHead(tx, tenantId));
        const rows = quick?.rows ?? (await selectPendingEntries(tx, tenantId, afterId, CHAIN_BATCH));
        if (rows.length === 0) return undefined;
        const valid = await chainableEntries(deps, tx, tenantId, rows, forged);
        const lastId = rows.at(-1)?.pending_id ?? afterId;
        if (valid.length === 0) return { count: 0, read: rows.length, lastId, head };
        const linked = await linkEntries(deps.keys, tenantId, valid.map(pendingContent), head);
        await movePendingEntries(tx, linked.rows);
        await reachTestHook('audit.chain-before-commit');
        // The pending rows go with the commit, through the function that removes only what this
        // transaction chained (decision 0645); when it refuses, the commit is not made.
        const unpark = unparkPendingSql(
          valid.map((row) => row.pending_id),
          linked.rows,
        );
        const answer = commitWith(tx, unpark);
        if (answer) answer.catch(() => undefined);
        else await sql.raw(unpark).execute(tx);
        return { count: valid.length, read: rows.length, lastId, head: linked.head };
      },
      { synchronousCommit: 'off' },
    ).catch((error: unknown) => rethrowBlocked(deps.db, tenantId, error));
    if (!batch) break;
    lastHeads(deps.db).set(tenantId, batch.head);
    chained += batch.count;
    afterId = batch.lastId;
    if (batch.read < CHAIN_BATCH) break;
  }
  if (forged.count > 0) reportForged(deps, tenantId, forged);
  return chained;
}

/**
 * The pending entries of a batch the chainer may link: signed by Kluis (the others stay, and
 * verification names them) and not copies (decision 0686): a row whose nonce is already in the
 * chain, or repeats one earlier in the batch, stays in audit_pending, is logged once per process,
 * and `kluis audit verify` lists it. A row whose nonce a chained entry NOT signed by Kluis
 * carries is no copy but the genuine record that entry displaced (attack S13-4, decision 0760):
 * it stays too, logged as such. The run goes on with the others.
 */
async function chainableEntries(
  deps: Pick<AuditDeps, 'db' | 'keys' | 'logger'>,
  tx: Tx,
  tenantId: number,
  rows: readonly PendingEntry[],
  forged: ForgedSeen,
): Promise<PendingEntry[]> {
  const valid: PendingEntry[] = [];
  const chained: PendingEntry[] = [];
  const nonces = new Set<string>();
  const judged = forgedPendingOf(deps.db, tenantId);
  const reported = reportedChainedOf(deps.db);
  const copies: PendingEntry[] = [];
  for (const row of rows) {
    if (row.chained && reported.has(chainedKey(tenantId, row))) continue;
    if (judged.get(row.pending_id) === macTag(row)) {
      seeForged(forged, row.pending_id);
      continue;
    }
    if (!(await isPendingMacValid(deps.keys, row))) {
      if (judged.size < FORGED_REMEMBERED) judged.set(row.pending_id, macTag(row));
      seeForged(forged, row.pending_id);
      continue;
    }
    if (row.chained) {
      chained.push(row);
      continue;
    }
    const nonce = row.nonce?.toString('hex');
    if (nonce !== undefined && nonces.has(nonce)) {
      copies.push(row);
      continue;
    }
    if (nonce !== undefined) nonces.add(nonce);
    valid.push(row);
  }
  // The rows a forgery displaced, by the forged entry: one record, however many rows carry it.
  const displaced = new Map<number, PendingEntry[]>();
  for (const { row, twin } of await judgeChainedPending(tx, deps.keys, tenantId, chained)) {
    if (twin.kluis) copies.push(row);
    else displaced.set(twin.seq, [...(displaced.get(twin.seq) ?? []), row]);
  }
  reportCopies(deps, tenantId, copies);
  for (const [seq, displacedRows] of displaced) reportDisplaced(deps, tenantId, displacedRows, seq);
  return valid;
}

/** A chained entry that carries a pending entry's nonce, and whether Kluis wrote it. */
interface ChainedTwin {
  seq: number;
  /** Its content matches its hash and its signature (decision 0630) holds. */
  kluis: boolean;
}

/**
 * Pending entries signed by Kluis whose nonce is already chained, each with the chained entry
 * that carries it. Only Kluis chains a pending entry with a signature the app never can make
 * (decision 0630), so when that entry's signature holds, the pending row is a copy (decision
 * 0686); when it does not, a login that may link rows chained a forgery with the waiting entry's
 * nonce, and the pending row is the genuine record (attack S13-4, decision 0760).
 */
async function judgeChainedPending(
  tx: Tx,
  keys: AuditKeys,
  tenantId: number,
  rows: readonly PendingEntry[],
): Promise<Array<{ row: PendingEntry; twin: ChainedTwin }>> {
  const nonces = rows.flatMap((row) => (row.nonce ? [row.nonce] : []));
  const twins = new Map<string, ChainedTwin>();
  for (const entry of await selectEntriesByNonce(tx, tenantId, nonces)) {
    if (!entry.nonce) continue;
    const kluis =
      hashAuditEntry(fromRow(entry)).equals(entry.hash) && (await isEntryMacValid(keys, tenantId, entry));
    twins.set(entry.nonce.toString('hex'), { seq: entry.seq, kluis });
  }
  return rows.flatMap((row) => {
    const twin = row.nonce ? twins.get(row.nonce.toString('hex')) : undefined;
    return twin ? [{ row, twin }] : [];
  });
}

/**
 * What the log and `kluis audit verify` say of a genuine pending entry a forged chained entry
 * displaced (attack S13-4, decision 0760), in the same words. `rows`: how many signed pending rows
 * carry its nonce (the entry and copies of it the app role made, attack S14-2, decision 0768):
 * one record, named by its first row.
 */
function displacedMessage(tenantId: number, pendingId: number, seq: number, rows: number): string {
  const copies =
    rows > 1
      ? ` (with ${rows - 1} more signed pending ${rows === 2 ? 'row' : 'rows'} carrying its nonce: copies of it, the same one record)`
      : '';
  return `chained entry ${seq} of tenant ${tenantId} carries the nonce of pending entry ${pendingId} but was not written by Kluis (its signature does not match): pending entry ${pendingId}${copies} is the genuine record and entry ${seq} the forgery; it is not a copy, is never chained and stays in audit_pending: keep it`;
}

/**
 * Pending rows whose signature did not hold, per pool and tenant, by id with their MAC's first
 * 8 bytes (decision 0710): a pending row cannot change (the app role has no UPDATE on
 * audit_pending), so it is judged once per process, not at every chain run. The MAC is part of
 * the key because an id can come back: a forged row may take a future id (OVERRIDING SYSTEM
 * VALUE), and once the owner deletes it, Kluis's own entry gets that id with another MAC.
 * Bounded: past FORGED_REMEMBERED rows, the rest are judged at each run as before.
 */
const FORGED_PENDING = new WeakMap<Db, Map<number, Map<number, string>>>();
const FORGED_REMEMBERED = 250_000;
/** How many copies' ids verification lists; it counts them all (decision 0791). */
export const PENDING_COPIES_LISTED = 100;

function macTag(row: PendingEntry): string {
  return row.mac.subarray(0, 8).toString('hex');
}

function forgedPendingOf(db: Db, tenantId: number): Map<number, string> {
  let tenants = FORGED_PENDING.get(db);
  if (!tenants) {
    tenants = new Map();
    FORGED_PENDING.set(db, tenants);
  }
  let judged = tenants.get(tenantId);
  if (!judged) {
    judged = new Map();
    tenants.set(tenantId, judged);
  }
  return judged;
}

/** The pending entries not signed by Kluis that one chain run met. */
interface ForgedSeen {
  count: number;
  firstId: number;
  lastId: number;
}

function seeForged(forged: ForgedSeen, pendingId: number): void {
  if (forged.count === 0 || pendingId < forged.firstId) forged.firstId = pendingId;
  if (pendingId > forged.lastId) forged.lastId = pendingId;
  forged.count += 1;
}

/** When each tenant's forged pending entries were last logged, per pool. */
const FORGED_LOGGED_AT = new WeakMap<Db, Map<number, number>>();
/** As a job failing the same way (decision 0700): an operator reads one line per quarter hour. */
const FORGED_LOG_EVERY_MS = 15 * 60 * 1000;

/**
 * Says why every chain run of the tenant is slower (attack S12-2, decision 0710): rows the app
 * role's login inserted into audit_pending are read at every run until the owner removes them
 * (README, "A row the database holds that Kluis did not write").
 */
function reportForged(deps: Pick<AuditDeps, 'db' | 'logger'>, tenantId: number, forged: ForgedSeen): void {
  let loggedAt = FORGED_LOGGED_AT.get(deps.db);
  if (!loggedAt) {
    loggedAt = new Map();
    FORGED_LOGGED_AT.set(deps.db, loggedAt);
  }
  const last = loggedAt.get(tenantId);
  const now = Date.now();
  if (last !== undefined && now - last < FORGED_LOG_EVERY_MS) return;
  loggedAt.set(tenantId, now);
  deps.logger?.error(
    { tenantId, forgedPending: forged.count, firstPendingId: forged.firstId, lastPendingId: forged.lastId },
    `audit: ${forged.count} pending entries of tenant ${tenantId} (pending ids ${forged.firstId}–${forged.lastId}) are not signed by Kluis: never chained, named by kluis audit verify, and read by every chain run of the tenant until the owner removes them`,
  );
}

/**
 * Pending rows whose nonce is already chained and that were judged and logged, per pool: every
 * chain run reads them again, the log says each once. A pending row cannot change, nor can a
 * chained one, so the judgment holds; keyed with the row's MAC as decision 0710's.
 */
const REPORTED_CHAINED = new WeakMap<Db, Set<string>>();

function reportedChainedOf(db: Db): Set<string> {
  let reported = REPORTED_CHAINED.get(db);
  if (!reported) {
    reported = new Set();
    REPORTED_CHAINED.set(db, reported);
  }
  return reported;
}

function chainedKey(tenantId: number, row: PendingEntry): string {
  return `${tenantId}:${row.pending_id}:${macTag(row)}`;
}

/**
 * One line per tenant and chain batch for the copies it met that were not said before (attack S15-2,
 * decision 0791): 53,000 copies made 53,000 error lines.
 */
function reportCopies(
  deps: Pick<AuditDeps, 'db' | 'logger'>,
  tenantId: number,
  rows: readonly PendingEntry[],
): void {
  const reported = reportedChainedOf(deps.db);
  const unsaid = rows.filter((row) => !reported.has(chainedKey(tenantId, row)));
  for (const row of unsaid) reported.add(chainedKey(tenantId, row));
  const ids = unsaid.map((row) => row.pending_id).sort((a, b) => a - b);
  const [first] = ids;
  const last = ids.at(-1);
  if (first === undefined || last === undefined) return;
  if (ids.length === 1) {
    deps.logger?.error(
      { tenantId, pendingId: first },
      `audit: pending entry ${first} of tenant ${tenantId} is a copy of an entry already chained (the same nonce): not chained again, left in audit_pending (its chained twin is signed by Kluis; kluis audit verify lists it)`,
    );
    return;
  }
  deps.logger?.error(
    { tenantId, pendingCopies: ids.length, firstPendingId: first, lastPendingId: last },
    `audit: ${ids.length} pending entries of tenant ${tenantId} (pending ids ${first}–${last}) are copies of entries already chained (the same nonce): not chained again, left in audit_pending (their chained twins are signed by Kluis; kluis audit verify lists them)`,
  );
}

/** One line per forged entry and run, however many rows carry the displaced entry's nonce. */
function reportDisplaced(
  deps: Pick<AuditDeps, 'db' | 'logger'>,
  tenantId: number,
  rows: readonly PendingEntry[],
  seq: number,
): void {
  const reported = reportedChainedOf(deps.db);
  const unsaid = rows.filter((row) => !reported.has(chainedKey(tenantId, row)));
  const [first] = unsaid;
  if (!first) return;
  for (const row of unsaid) reported.add(chainedKey(tenantId, row));
  deps.logger?.error(
    { tenantId, pendingId: first.pending_id, seq, rows: unsaid.length },
    `audit: ${displacedMessage(tenantId, first.pending_id, seq, unsaid.length)}`,
  );
}

/**
 * One chain run per tenant and pool at a time: a caller that arrives while one runs waits for
 * the next, which takes every entry pending by then (so eight waiting transactions cost one run).
 * `later`: a run a gated read asked for, started after READ_CHAIN_DELAY_MS (decision 0570).
 */
interface ChainRuns {
  current?: Promise<void>;
  next?: Promise<void>;
  later?: NodeJS.Timeout;
}
const CHAIN_RUNS = new WeakMap<Db, Map<number, ChainRuns>>();

/**
 * How long the chain run a gated read asks for waits for more reads to batch (decision 0570). A
 * read's entry is durable in audit_pending from its commit; every reader of the chain chains
 * first, and a write (or anything that awaits a chain run) starts the waiting run at once, so
 * the delay is seen by no caller. It only lets one run link the entries of a burst of reads: one
 * head update, one batch insert and one pending delete for all of them.
 */
const READ_CHAIN_DELAY_MS = 25;

function chainRunsOf(db: Db, tenantId: number): ChainRuns {
  let runs = CHAIN_RUNS.get(db);
  if (!runs) {
    runs = new Map();
    CHAIN_RUNS.set(db, runs);
  }
  let state = runs.get(tenantId);
  if (!state) {
    state = {};
    runs.set(tenantId, state);
  }
  return state;
}

/** Whether a chain run of the tenant started (or asked for) by this process has not ended yet. */
function chainRunPending(db: Db, tenantId: number): boolean {
  const state = CHAIN_RUNS.get(db)?.get(tenantId);
  return state?.current !== undefined || state?.next !== undefined || state?.later !== undefined;
}

/** A chain run after READ_CHAIN_DELAY_MS, unless one is waiting already (a gated read's entry). */
function chainAfterReads(deps: Pick<AuditDeps, 'db' | 'keys' | 'logger'>, tenantId: number): void {
  const state = chainRunsOf(deps.db, tenantId);
  if (state.later) return;
  // The run serves every read of the burst: it starts as none of them (decision 0761).
  state.later = outsideRequest(() =>
    setTimeout(() => {
      state.later = undefined;
      void chainSoon(deps, tenantId);
    }, READ_CHAIN_DELAY_MS),
  );
  // A waiting run never keeps a process alive: its entries are durable, the next one chains them.
  state.later.unref();
}

function chainSoon(deps: Pick<AuditDeps, 'db' | 'keys' | 'logger'>, tenantId: number): Promise<void> {
  const current = chainRunsOf(deps.db, tenantId);
  if (current.later) {
    // Someone waits for the chain: the run the reads asked for starts now.
    clearTimeout(current.later);
    current.later = undefined;
  }
  if (!current.current) {
    current.current = chainPendingEntries(deps, tenantId, { known: true }).then(
      () => undefined,
      // The entries stay in audit_pending, durable; the next run (any later busy append, the
      // checkpoint job, verification, a listing) chains them. A blocked chain is said, as no
      // run will get past it, and so is any other failure but a lost database.
      (error: unknown) => logFailedRun(deps, tenantId, error),
    );
    void current.current.finally(() => {
      current.current = undefined;
    });
    return current.current;
  }
  current.next ??= current.current.then(() => {
    current.next = undefined;
    return chainSoon(deps, tenantId);
  });
  return current.next;
}

/** Logs a blocked chain (its tenant and seq, from the error's own message); other errors are left. */
function logBlocked(deps: Pick<AuditDeps, 'logger'>, tenantId: number, error: unknown): void {
  if (!isAuditChainBlocked(error)) return;
  deps.logger?.error({ tenantId, blockedSeq: error.details?.['blockedSeq'] }, error.message);
}

/** Failures of background chain runs already said, per logger: each tenant and message once. */
const FAILED_RUNS_SAID = new WeakMap<object, Set<string>>();

/**
 * A background chain run failed: a blocked chain is logged as such; a lost database is said by the
 * pool (and the next run retries); anything else would leave the tenant's pending entries
 * unchained until a reader of the chain fails on it too, so it is logged, once per tenant and
 * message (attack S14-1, decision 0766).
 */
function logFailedRun(deps: Pick<AuditDeps, 'logger'>, tenantId: number, error: unknown): void {
  if (isAuditChainBlocked(error)) return logBlocked(deps, tenantId, error);
  const logger = deps.logger;
  if (!logger || isDatabaseUnavailable(error)) return;
  const message = scrubbedMessage(error) ?? String(error);
  let said = FAILED_RUNS_SAID.get(logger);
  if (!said) {
    said = new Set();
    FAILED_RUNS_SAID.set(logger, said);
  }
  const key = `${tenantId}:${message}`;
  if (said.has(key)) return;
  said.add(key);
  logger.error(
    { tenantId, err: error },
    `audit: a chain run of tenant ${tenantId} failed (${message}): its pending entries stay in audit_pending until a run succeeds; kluis audit verify says where the chain stands`,
  );
}

/**
 * The chain run before a reader of the chain (verification, a checkpoint): a blocked chain is
 * logged and answered `true`, so the reader goes on with what is stored and names the row beyond
 * the head (decision 0680); any other failure is thrown.
 */
async function chainBeforeReading(
  deps: Pick<AuditDeps, 'db' | 'keys' | 'logger'>,
  tenantId: number,
): Promise<boolean> {
  try {
    await chainPendingEntries(deps, tenantId);
    return false;
  } catch (error) {
    if (!isAuditChainBlocked(error)) throw error;
    logBlocked(deps, tenantId, error);
    return true;
  }
}

/** The events as rows chained onto `head`, each hashed and signed; and the head after them. */
async function chainEvents(
  keys: AuditKeys,
  tenantId: number,
  pseudonyms: Map<number, string>,
  events: RecordedAuditEvent[],
  head: AuditHead,
): Promise<{ rows: Insertable<AuditLogTable>[]; head: AuditHead }> {
  return linkEntries(
    keys,
    tenantId,
    events.map((event) => entryContent(tenantId, pseudonyms, event)),
    head,
  );
}

async function linkEntries(
  keys: AuditKeys,
  tenantId: number,
  contents: readonly EntryContent[],
  head: AuditHead,
): Promise<{ rows: Insertable<AuditLogTable>[]; head: AuditHead }> {
  let { seq, hash: prevHash } = head;
  const rows: Insertable<AuditLogTable>[] = [];
  for (const content of contents) {
    seq += 1;
    const entry = { ...content, seq, prevHash };
    const hash = hashAuditEntry(entry);
    rows.push(
      toRow(entry, hash, await keys.checkpointMac(tenantId, encodeEntryMac({ tenantId, seq, hash }))),
    );
    prevHash = hash;
  }
  return { rows, head: { seq, hash: prevHash } };
}

/** linkEntries with a MAC made at once; null when `macNow` has no secret in memory. */
function linkEntriesNow(
  contents: readonly EntryContent[],
  head: AuditHead,
  macNow: (data: Buffer) => Buffer | undefined,
): { rows: Insertable<AuditLogTable>[]; head: AuditHead } | null {
  let { seq, hash: prevHash } = head;
  const rows: Insertable<AuditLogTable>[] = [];
  for (const content of contents) {
    seq += 1;
    const entry = { ...content, seq, prevHash };
    const hash = hashAuditEntry(entry);
    const mac = macNow(encodeEntryMac({ tenantId: content.tenantId, seq, hash }));
    if (!mac) return null;
    rows.push(toRow(entry, hash, mac));
    prevHash = hash;
  }
  return { rows, head: { seq, hash: prevHash } };
}

function toRow(
  entry: ChainedEntry & { nonce: Buffer | null },
  hash: Buffer,
  mac: Buffer,
): Insertable<AuditLogTable> {
  return {
    tenant_id: entry.tenantId,
    seq: entry.seq,
    at: entry.at,
    actor_kind: entry.actorKind,
    actor_id: entry.actorId,
    role: entry.role,
    purpose: entry.purpose,
    action: entry.action,
    subject_pseudonyms: [...entry.subjectPseudonyms],
    categories: [...entry.categories],
    records: entry.records,
    decision: entry.decision,
    reason: entry.reason,
    request_id: entry.requestId,
    prev_hash: entry.prevHash,
    hash,
    mac,
    nonce: entry.nonce,
  };
}

/** A stored row as the canonical encoding sees it (verification, and tests that forge entries). */
export function fromRow(row: Omit<AuditLogRow, 'mac' | 'nonce'>): ChainedEntry {
  return {
    tenantId: row.tenant_id,
    seq: row.seq,
    at: row.at,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    role: row.role,
    purpose: row.purpose,
    action: row.action,
    subjectPseudonyms: row.subject_pseudonyms,
    categories: row.categories,
    records: row.records,
    decision: row.decision,
    reason: row.reason,
    requestId: row.request_id,
    prevHash: row.prev_hash,
  };
}

export type AuditProblem =
  | 'hash_mismatch'
  | 'broken_link'
  | 'gap'
  | 'entry_mac_invalid'
  | 'entry_mac_missing'
  | 'checkpoint_mismatch'
  | 'checkpoint_mac_invalid'
  | 'checkpoint_backwards'
  | 'truncated'
  | 'unanchored'
  | 'anchor_unreadable';

export type AuditVerification =
  | {
      ok: true;
      entries: number;
      /** Checkpoints in the data database. */
      checkpoints: number;
      /** Checkpoints found outside it (key store, anchor file); present when sources are configured. */
      anchors?: number;
      /**
       * Pending entries (by pending id) that are copies of entries already chained, left in
       * audit_pending and never chained (decision 0686); present when there are any. The chain
       * is intact: each entry is in it once. An owner may delete them. The lowest
       * PENDING_COPIES_LISTED ids; `pendingCopyCount` says how many there are (decision 0791).
       */
      pendingCopies?: number[];
      pendingCopyCount?: number;
      /** Restores that set the chain back (decision 1270); present when there are any. */
      setBacks?: AuditSetBackView[];
    }
  | {
      ok: false;
      /** Entries found intact before the first bad one. */
      entries: number;
      firstBadSeq: number;
      problem: AuditProblem;
      message: string;
      /**
       * Genuine pending entries whose nonce a chained entry not written by Kluis carries (attack
       * S13-4, decision 0760): the chained entry is the forgery, the pending entry the record to
       * keep; present when there are any. `message` says it as the chainer's log does.
       */
      displacedPending?: DisplacedPending[];
      /** Restores that set the chain back (decision 1270); present when there are any. */
      setBacks?: AuditSetBackView[];
    };

/**
 * A restore that set the chain back (decision 1270): on `at` the chain was restored to entry
 * `seq`; the earlier timeline had been anchored up to `earlierSeq`. Its checkpoints signed before
 * `at` beyond `seq` (or not matching) went with the restore: not a break.
 */
export interface AuditSetBackView {
  at: Date;
  seq: number;
  earlierSeq: number;
  message: string;
}

/** A genuine pending entry and the forged chained entry that carries its nonce (decision 0760). */
export interface DisplacedPending {
  /** The first pending row carrying the entry. */
  pendingId: number;
  seq: number;
  /** How many signed pending rows carry its nonce: the entry and copies of it (decision 0768). */
  rows: number;
  message: string;
}

type AuditFailure = Extract<AuditVerification, { ok: false }>;

/** Thrown by writeCheckpoint: a broken chain is never signed. */
export class AuditChainError extends Error {
  constructor(readonly verification: AuditFailure) {
    super(`the audit chain is broken at seq ${verification.firstBadSeq}: ${verification.message}`);
    this.name = 'AuditChainError';
  }
}

/** A signed checkpoint and where it was found (messages name the place). */
interface Checkpoint extends AuditAnchor {
  source: string;
  /** A set-back's head (decision 1270): its MAC, over its own encoding, was checked when read. */
  setBack?: true;
  /**
   * Signed before a set-back: when beyond the chain or not matching it, it is of the earlier
   * timeline, not a break. The lowest head of the set-backs after it (for coverage).
   */
  earlierThan?: number;
}

/** A set-back as read, its MAC checked, and the place that keeps it. */
interface ReadSetBack extends AuditSetBack {
  source: string;
}

const VERIFY_BATCH = 1000;

export interface VerifyOptions {
  batchSize?: number;
  /**
   * Entries written before this instant must be covered by a checkpoint in every anchor source:
   * the server anchors every few minutes and at shutdown, so an older entry without one means
   * checkpoints were deleted (or never written). Omitted: not checked.
   */
  anchorsRequiredBefore?: Date;
}

/**
 * Recomputes a tenant's whole chain in seq order, in pages (constant memory), from one
 * consistent snapshot, against the checkpoints in the data database AND those kept outside it
 * (key store, anchor file), and names the first entry that does not hold:
 * - `gap`: an entry is missing (also at the end, against the head);
 * - `broken_link`: an entry's prev_hash is not the previous entry's hash (an entry was
 *   inserted or removed before it), or entries exist beyond the head;
 * - `hash_mismatch`: an entry's content was changed;
 * - `entry_mac_invalid` / `entry_mac_missing`: an entry was written or rewritten without the
 *   tenant's key (a forged append with the head moved, a rewrite with recomputed hashes);
 * - `checkpoint_mac_invalid`: a checkpoint was not signed with the tenant's key;
 * - `checkpoint_mismatch`: a signed checkpoint disagrees with the chain (rewritten entries);
 * - `truncated`: the chain ends before a signed checkpoint;
 * - `checkpoint_backwards`: a place's checkpoints, in the order written, go back (the chain was
 *   cut back and rebuilt);
 * - `unanchored`: an entry older than `anchorsRequiredBefore` is covered by no checkpoint of
 *   some anchor source (checkpoints deleted);
 * - `anchor_unreadable`: an anchor source cannot be read (the message says which and where).
 * What cannot be detected: entries removed from the end after the last checkpoint, with the
 * head moved back (docs/decisions/0072); checkpoints are written every 5 minutes and at shutdown.
 */
export async function verifyAuditChain(
  deps: Pick<AuditDeps, 'db' | 'keys' | 'anchors'>,
  tenantId: number,
  options: VerifyOptions = {},
): Promise<AuditVerification> {
  // The chain is complete only with the entries still pending (decision 0340); a row beyond the
  // head that blocks the run is what the verification below names (decision 0680).
  await chainBeforeReading(deps, tenantId);
  const external = await readAnchorSources(deps, tenantId);
  if (!Array.isArray(external)) return external;
  const setBacks = await readSetBacks(deps, tenantId);
  if (!Array.isArray(setBacks)) return setBacks;
  const setBackViews = setBacks.length > 0 ? { setBacks: setBacks.map(viewOfSetBack) } : {};
  for (const source of external) {
    const problem = await checkAnchorOrder(deps.keys, tenantId, source.name, source.anchors, setBacks);
    if (problem) return { ...problem, ...setBackViews };
  }
  const setBackPoints = markEarlier(setBacks.filter((s) => s.headSeq > 0).map(setBackPoint), setBacks);
  return withTenantSnapshot(deps.db, tenantId, 'read only', async (tx) => {
    const internal = markEarlier(await selectAllCheckpoints(tx, tenantId), setBacks);
    const checkpoints = [...internal, ...external.flatMap((source) => source.anchors), ...setBackPoints].sort(
      (a, b) => a.seq - b.seq,
    );
    const result = await verifyChainFrom(
      tx,
      deps.keys,
      tenantId,
      { seq: 0, hash: GENESIS_HASH },
      options.batchSize ?? VERIFY_BATCH,
      checkpoints,
    );
    if (!result.ok) {
      const displaced = await findDisplacedPending(tx, deps.keys, tenantId);
      return {
        ...result,
        ...(displaced.length > 0 ? { displacedPending: displaced } : {}),
        ...setBackViews,
      };
    }
    // What the chainer left behind is newer than its run, not signed by Kluis, or a copy.
    const { forged, copies } = await inspectPending(tx, deps.keys, tenantId);
    if (forged) {
      return {
        ok: false,
        entries: result.entries,
        firstBadSeq: result.entries + 1,
        problem: 'entry_mac_invalid',
        message: `a pending audit entry (number ${forged} in audit_pending) was not written by Kluis: its signature does not match, so it is never chained`,
        ...setBackViews,
      };
    }
    if (options.anchorsRequiredBefore) {
      for (const source of external) {
        // An earlier timeline's checkpoint covers only what the set-back after it kept
        // (decision 1270); a set-back's head covers its place's entries up to it.
        const covered = Math.max(
          0,
          ...[...source.anchors, ...setBackPoints.filter((point) => point.source === source.name)].map(
            (anchor) => Math.min(anchor.seq, anchor.earlierThan ?? anchor.seq),
          ),
        );
        const unanchored = await tx
          .selectFrom('audit_log')
          .select(['seq', 'at'])
          .where('tenant_id', '=', tenantId)
          .where('seq', '>', covered)
          .where('at', '<', options.anchorsRequiredBefore)
          .orderBy('seq')
          .limit(1)
          .executeTakeFirst();
        if (unanchored) {
          return {
            ok: false,
            entries: unanchored.seq - 1,
            firstBadSeq: unanchored.seq,
            problem: 'unanchored',
            message: `entry ${unanchored.seq} (${instantText(unanchored.at)}) is covered by no checkpoint in the ${source.name}${covered > 0 ? ` (its last is at seq ${covered})` : ''}: checkpoints are missing or were deleted`,
            ...setBackViews,
          };
        }
      }
    }
    const withCopies = {
      ...result,
      ...(copies.length > 0
        ? { pendingCopies: copies.slice(0, PENDING_COPIES_LISTED), pendingCopyCount: copies.length }
        : {}),
      ...setBackViews,
    };
    return deps.anchors === undefined
      ? withCopies
      : {
          ...withCopies,
          checkpoints: internal.length,
          anchors: external.reduce((n, s) => n + s.anchors.length, 0),
        };
  });
}

/**
 * Signs the tenant's chain head with an HMAC (keys.checkpointMac) and writes the checkpoint to the
 * data database and every anchor source. The entries since the last checkpoint are verified
 * first, so a tampered chain is never signed (AuditChainError); a head behind a checkpoint already
 * written anywhere (a truncated chain) is refused too. Checkpoint writers of a tenant take turns
 * (an advisory lock), so the places' checkpoints never go backwards. Returns null when the chain
 * is empty; signing an already signed head writes nothing new.
 */
export async function writeCheckpoint(deps: AuditDeps, tenantId: number): Promise<{ seq: number } | null> {
  // Entries left pending (a process killed between its commit and the chainer) are signed too.
  // A blocked run leaves a row beyond the head: the entries are then verified even when the head
  // is already signed, so the checkpoint is refused naming it (decision 0680).
  const blocked = await chainBeforeReading(deps, tenantId);
  return withCheckpointLock(deps.db, tenantId, async () => {
    const external = await readAnchorSources(deps, tenantId);
    if (!Array.isArray(external)) throw new AuditChainError(external);
    const setBacks = await readSetBacks(deps, tenantId);
    if (!Array.isArray(setBacks)) throw new AuditChainError(setBacks);
    // Only this timeline's checkpoints: those of the earlier one went with a restore (1270).
    const current = external.map((source) => ({
      ...source,
      anchors: markEarlier(source.anchors, setBacks).filter((anchor) => anchor.earlierThan === undefined),
    }));
    const signed = await withTenantSnapshot(deps.db, tenantId, 'read write', async (tx) => {
      const head = await selectAuditHead(tx, tenantId);
      const headSeq = head?.seq ?? 0;
      const latestInternal = await selectLatestCheckpoint(tx, tenantId);
      const candidates: Checkpoint[] = [
        ...(latestInternal ? markEarlier([fromCheckpointRow(latestInternal)], setBacks) : []).filter(
          (checkpoint) => checkpoint.earlierThan === undefined,
        ),
        ...current.flatMap((source) => source.anchors.slice(-1)),
        ...markEarlier(setBacks.filter((s) => s.headSeq > 0).map(setBackPoint), setBacks)
          .filter((point) => point.earlierThan === undefined)
          .slice(-1),
      ];
      const latest = candidates.reduce<Checkpoint | undefined>(
        (best, candidate) => (best === undefined || candidate.seq > best.seq ? candidate : best),
        undefined,
      );
      if (latest && latest.seq > headSeq) {
        throw new AuditChainError({
          ok: false,
          entries: 0,
          firstBadSeq: headSeq + 1,
          problem: 'truncated',
          message: `the chain ends at seq ${headSeq}, but the ${latest.source} holds a signed checkpoint at seq ${latest.seq}`,
        });
      }
      if (!head || headSeq === 0) return null;
      let start: AuditHead = { seq: 0, hash: GENESIS_HASH };
      if (latest) {
        await assertCheckpointHolds(tx, deps.keys, tenantId, latest);
        // A set-back's head is signed as a checkpoint too, so that every place holds it.
        if (latest.seq === headSeq && !blocked && !latest.setBack) return latest;
        start = { seq: latest.seq, hash: latest.headHash };
      }
      const verification = await verifyChainFrom(tx, deps.keys, tenantId, start, VERIFY_BATCH, []);
      if (!verification.ok) throw new AuditChainError(verification);
      // Verified only because the chain run was blocked, yet nothing beyond the head any more.
      if (latest?.seq === headSeq && !latest.setBack) return latest;
      const signedAt = deps.clock.now();
      const mac = await deps.keys.checkpointMac(
        tenantId,
        encodeCheckpoint({ tenantId, seq: head.seq, headHash: head.hash, signedAt }),
      );
      const checkpoint: Checkpoint = {
        tenantId,
        seq: head.seq,
        headHash: head.hash,
        signedAt,
        mac,
        source: 'database',
      };
      await insertCheckpoint(tx, {
        tenant_id: tenantId,
        seq: head.seq,
        head_hash: head.hash,
        signed_at: signedAt,
        mac,
      });
      return checkpoint;
    });
    if (!signed) return null;
    // After the data database: a failure here leaves a checkpoint that the next run copies out.
    for (const [index, source] of (deps.anchors ?? []).entries()) {
      const known = current[index]?.anchors ?? [];
      if (!known.some((anchor) => anchor.seq >= signed.seq)) await source.append(signed);
    }
    return { seq: signed.seq };
  });
}

const CHECKPOINT_LOCK = 0x6b6c6370; // 'klcp'

/** One checkpoint writer per tenant at a time, across processes (a session advisory lock). */
async function withCheckpointLock<T>(db: Db, tenantId: number, work: () => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${CHECKPOINT_LOCK}, ${tenantId})`.execute(connection);
    try {
      return await work();
    } finally {
      await sql`select pg_advisory_unlock(${CHECKPOINT_LOCK}, ${tenantId})`.execute(connection);
    }
  });
}

/** Every anchor source's anchors of a tenant, in written order; a failure when one is unreadable. */
async function readAnchorSources(
  deps: Pick<AuditDeps, 'anchors'>,
  tenantId: number,
): Promise<Array<{ name: string; anchors: Checkpoint[] }> | AuditFailure> {
  const result: Array<{ name: string; anchors: Checkpoint[] }> = [];
  for (const source of deps.anchors ?? []) {
    try {
      const anchors = await source.list(tenantId);
      result.push({
        name: source.name,
        anchors: anchors.map((anchor) => ({ ...anchor, source: source.name })),
      });
    } catch (error) {
      if (!(error instanceof AnchorSourceError)) throw error;
      return { ok: false, entries: 0, firstBadSeq: 1, problem: 'anchor_unreadable', message: error.message };
    }
  }
  return result;
}

/**
 * The tenant's set-backs from every place that keeps them (the key store), each signed with the
 * tenant's key over its own encoding; a failure naming the first that is not (decision 1270).
 */
async function readSetBacks(
  deps: Pick<AuditDeps, 'anchors' | 'keys'>,
  tenantId: number,
): Promise<ReadSetBack[] | AuditFailure> {
  const result: ReadSetBack[] = [];
  for (const source of deps.anchors ?? []) {
    if (!source.listSetBacks) continue;
    let setBacks: AuditSetBack[];
    try {
      setBacks = await source.listSetBacks(tenantId);
    } catch (error) {
      if (!(error instanceof AnchorSourceError)) throw error;
      return { ok: false, entries: 0, firstBadSeq: 1, problem: 'anchor_unreadable', message: error.message };
    }
    for (const setBack of setBacks) {
      const expected = await deps.keys.checkpointMac(
        tenantId,
        encodeSetBack({
          tenantId,
          headSeq: setBack.headSeq,
          headHash: setBack.headHash,
          setAt: setBack.setAt,
          earlierSeq: setBack.earlierSeq,
        }),
      );
      if (
        setBack.tenantId !== tenantId ||
        expected.length !== setBack.mac.length ||
        !timingSafeEqual(expected, setBack.mac)
      ) {
        return {
          ok: false,
          entries: 0,
          firstBadSeq: setBack.headSeq + 1,
          problem: 'checkpoint_mac_invalid',
          message: `the set-back to entry ${setBack.headSeq} (${instantText(setBack.setAt)}) in the ${source.name} is not signed with this tenant's key: no restore of Kluis wrote it`,
        };
      }
      result.push({ ...setBack, source: source.name });
    }
  }
  return result;
}

/** A set-back's head as a checkpoint of its place: the chain must still hold it (decision 1270). */
function setBackPoint(setBack: ReadSetBack): Checkpoint {
  return {
    tenantId: setBack.tenantId,
    seq: setBack.headSeq,
    headHash: setBack.headHash,
    signedAt: setBack.setAt,
    mac: setBack.mac,
    source: `${setBack.source} (set-back of ${instantText(setBack.setAt)})`,
    setBack: true,
  };
}

/**
 * Marks the checkpoints signed before a set-back (decision 1270): when beyond the chain or not
 * matching it they are of the earlier timeline. By time, not by place: a set-back in the key
 * store speaks for the anchor file and the data database too, and a genuine set-back written
 * again later hides nothing signed after its own instant.
 */
function markEarlier(checkpoints: Checkpoint[], setBacks: readonly ReadSetBack[]): Checkpoint[] {
  if (setBacks.length === 0) return checkpoints;
  return checkpoints.map((checkpoint) => {
    const after = setBacks.filter((setBack) => setBack.setAt.getTime() > checkpoint.signedAt.getTime());
    return after.length === 0
      ? checkpoint
      : { ...checkpoint, earlierThan: Math.min(...after.map((setBack) => setBack.headSeq)) };
  });
}

/** What verification says of a set-back (decision 1270). */
function viewOfSetBack(setBack: ReadSetBack): AuditSetBackView {
  const { headSeq: seq, earlierSeq, setAt: at } = setBack;
  const went =
    earlierSeq > seq
      ? `; ${earlierSeq === seq + 1 ? `entry ${earlierSeq}` : `entries ${seq + 1}-${earlierSeq}`} of the earlier chain went with the restore (their checkpoints, signed before it, are not a break)`
      : '; checkpoints of an earlier chain signed before it that do not match this one are not a break';
  return {
    at,
    seq,
    earlierSeq,
    message: `restored on ${instantText(at)} to entry ${seq}${went}`,
  };
}

/** In the order they were written, a place's checkpoints must be validly signed and move forward. */
async function checkAnchorOrder(
  keys: AuditKeys,
  tenantId: number,
  name: string,
  anchors: Checkpoint[],
  setBacks: readonly ReadSetBack[],
): Promise<AuditFailure | undefined> {
  // Set-backs part the place's checkpoints by time: a later timeline may begin lower (1270).
  const timeline = (anchor: Checkpoint) =>
    setBacks.filter((setBack) => setBack.setAt.getTime() <= anchor.signedAt.getTime()).length;
  anchors.splice(0, anchors.length, ...markEarlier(anchors, setBacks));
  let previous: Checkpoint | undefined;
  for (const anchor of anchors) {
    if (previous && timeline(previous) !== timeline(anchor)) previous = undefined;
    if (!(await isCheckpointMacValid(keys, tenantId, anchor))) {
      return {
        ok: false,
        entries: 0,
        firstBadSeq: anchor.seq,
        problem: 'checkpoint_mac_invalid',
        message: `the checkpoint at seq ${anchor.seq} in the ${name} is not signed with this tenant's key`,
      };
    }
    if (previous && anchor.seq < previous.seq) {
      return {
        ok: false,
        entries: 0,
        firstBadSeq: anchor.seq + 1,
        problem: 'checkpoint_backwards',
        message: `the ${name} has a checkpoint at seq ${anchor.seq} written after one at seq ${previous.seq}: the chain was cut back after seq ${anchor.seq} and written again`,
      };
    }
    if (previous && anchor.seq === previous.seq && !anchor.headHash.equals(previous.headHash)) {
      return {
        ok: false,
        entries: 0,
        firstBadSeq: anchor.seq,
        problem: 'checkpoint_mismatch',
        message: `the ${name} holds two different signed heads for seq ${anchor.seq}`,
      };
    }
    previous = anchor;
  }
  return undefined;
}

function fromCheckpointRow(row: AuditCheckpointRow): Checkpoint {
  return {
    tenantId: row.tenant_id,
    seq: row.seq,
    headHash: row.head_hash,
    signedAt: row.signed_at,
    mac: row.mac,
    source: 'database',
  };
}

async function selectAllCheckpoints(tx: Tx, tenantId: number): Promise<Checkpoint[]> {
  const rows: AuditCheckpointRow[] = [];
  for (;;) {
    const page = await selectCheckpointsAfter(tx, tenantId, rows.at(-1)?.seq ?? 0, 1000);
    rows.push(...page);
    if (page.length < 1000) break;
  }
  return rows.map(fromCheckpointRow);
}

async function assertCheckpointHolds(
  tx: Tx,
  keys: AuditKeys,
  tenantId: number,
  checkpoint: Checkpoint,
): Promise<void> {
  const fail = (problem: AuditProblem, message: string): never => {
    throw new AuditChainError({ ok: false, entries: 0, firstBadSeq: checkpoint.seq, problem, message });
  };
  if (!(await isCheckpointMacValid(keys, tenantId, checkpoint))) {
    fail(
      'checkpoint_mac_invalid',
      `the checkpoint at seq ${checkpoint.seq} in the ${checkpoint.source} is not signed with this tenant's key`,
    );
  }
  const entry = await selectAuditEntry(tx, tenantId, checkpoint.seq);
  if (!entry) fail('gap', `entry ${checkpoint.seq}, covered by a signed checkpoint, is missing`);
  else if (!hashAuditEntry(fromRow(entry)).equals(checkpoint.headHash)) {
    fail(
      'checkpoint_mismatch',
      `entry ${checkpoint.seq} does not match its signed checkpoint in the ${checkpoint.source}`,
    );
  }
}

async function isCheckpointMacValid(
  keys: AuditKeys,
  tenantId: number,
  checkpoint: AuditAnchor,
): Promise<boolean> {
  // A set-back's head: its MAC (over the set-back's encoding) was checked when read (1270).
  if ((checkpoint as Checkpoint).setBack) return true;
  const expected = await keys.checkpointMac(
    tenantId,
    encodeCheckpoint({
      tenantId,
      seq: checkpoint.seq,
      headHash: checkpoint.headHash,
      signedAt: checkpoint.signedAt,
    }),
  );
  return expected.length === checkpoint.mac.length && timingSafeEqual(expected, checkpoint.mac);
}

async function isEntryMacValid(keys: AuditKeys, tenantId: number, row: AuditLogRow): Promise<boolean> {
  if (row.mac === null) return false;
  const expected = await keys.checkpointMac(
    tenantId,
    encodeEntryMac({ tenantId, seq: row.seq, hash: row.hash }),
  );
  return expected.length === row.mac.length && timingSafeEqual(expected, row.mac);
}

/**
 * Verifies the entries after `start` (a trusted entry, or seq 0 with the genesis hash) against
 * the given checkpoints (sorted by seq; those at or before `start` are ignored).
 */
async function verifyChainFrom(
  tx: Tx,
  keys: AuditKeys,
  tenantId: number,
  start: AuditHead,
  batchSize: number,
  allCheckpoints: readonly Checkpoint[],
): Promise<AuditVerification> {
  let expectedSeq = start.seq + 1;
  let prevHash = start.hash;
  let entries = 0;
  let checkpointsSeen = 0;
  // The last seq vouched for by a matching checkpoint: a rewrite can only start after it.
  let trustedSeq = start.seq;
  // `entries`: found intact before the first bad one (attack S25-11): a rewrite named from an
  // earlier seq than the entry being read counts none of the rewritten.
  const fail = (firstBadSeq: number, problem: AuditProblem, message: string): AuditVerification => ({
    ok: false,
    entries: Math.max(0, Math.min(entries, firstBadSeq - 1 - start.seq)),
    firstBadSeq,
    problem,
    message,
  });
  const checkpoints = allCheckpoints.filter((checkpoint) => checkpoint.seq > start.seq);
  let next = 0;

  for (;;) {
    const rows = await selectAuditEntriesAfter(tx, tenantId, expectedSeq - 1, batchSize);
    for (const row of rows) {
      if (row.seq !== expectedSeq) {
        return fail(expectedSeq, 'gap', `entry ${expectedSeq} is missing (the next entry is ${row.seq})`);
      }
      if (!row.prev_hash.equals(prevHash)) {
        return fail(
          row.seq,
          'broken_link',
          `entry ${row.seq} does not link to entry ${row.seq - 1}: an entry was inserted or removed before it`,
        );
      }
      if (!hashAuditEntry(fromRow(row)).equals(row.hash)) {
        return fail(
          row.seq,
          'hash_mismatch',
          `entry ${row.seq} was changed: its content does not match its hash`,
        );
      }
      // Every entry Kluis writes is signed (decision 0630: no chain is older than migration
      // 0071); an unsigned one, even from seq 1 on, was written by someone without the key.
      if (row.mac === null) {
        return fail(
          row.seq,
          'entry_mac_missing',
          `entry ${row.seq} carries no signature: it was not written by Kluis`,
        );
      }
      if (!(await isEntryMacValid(keys, tenantId, row))) {
        return fail(
          row.seq,
          'entry_mac_invalid',
          `entry ${row.seq} was not written by Kluis: its signature does not match (appended or rewritten without the key)`,
        );
      }
      for (
        let checkpoint = checkpoints[next];
        checkpoint && checkpoint.seq <= row.seq;
        checkpoint = checkpoints[next]
      ) {
        if (!(await isCheckpointMacValid(keys, tenantId, checkpoint))) {
          return fail(
            checkpoint.seq,
            'checkpoint_mac_invalid',
            `the checkpoint at seq ${checkpoint.seq} in the ${checkpoint.source} is not signed with this tenant's key`,
          );
        }
        if (checkpoint.seq !== row.seq || !checkpoint.headHash.equals(row.hash)) {
          // Signed before a set-back: the earlier timeline's, gone with the restore (1270).
          if (checkpoint.earlierThan !== undefined) {
            next += 1;
            continue;
          }
          return fail(
            trustedSeq + 1,
            'checkpoint_mismatch',
            `the signed checkpoint at seq ${checkpoint.seq} in the ${checkpoint.source} does not match the chain: entries ${trustedSeq + 1}-${checkpoint.seq} were rewritten`,
          );
        }
        trustedSeq = checkpoint.seq;
        if (checkpoint.source === 'database') checkpointsSeen += 1;
        next += 1;
      }
      prevHash = row.hash;
      expectedSeq += 1;
      entries += 1;
    }
    if (rows.length < batchSize) break;
  }

  const lastSeq = expectedSeq - 1;
  const remaining = checkpoints.slice(next);
  // Beyond the chain and signed before a set-back: the earlier timeline's (1270), if signed.
  for (const earlier of remaining.filter((checkpoint) => checkpoint.earlierThan !== undefined)) {
    if (!(await isCheckpointMacValid(keys, tenantId, earlier))) {
      return fail(
        earlier.seq,
        'checkpoint_mac_invalid',
        `the checkpoint at seq ${earlier.seq} in the ${earlier.source} is not signed with this tenant's key`,
      );
    }
  }
  const notEarlier = remaining.filter((checkpoint) => checkpoint.earlierThan === undefined);
  const beyond = notEarlier[0];
  if (beyond) {
    if (!(await isCheckpointMacValid(keys, tenantId, beyond))) {
      return fail(
        beyond.seq,
        'checkpoint_mac_invalid',
        `the checkpoint at seq ${beyond.seq} in the ${beyond.source} is not signed with this tenant's key`,
      );
    }
    const last = notEarlier.at(-1) ?? beyond;
    return fail(
      lastSeq + 1,
      'truncated',
      `the chain ends at seq ${lastSeq}, but the ${last.source} holds a signed checkpoint at seq ${last.seq}: entries from seq ${lastSeq + 1} were removed`,
    );
  }
  const head = await selectAuditHead(tx, tenantId);
  const headSeq = head?.seq ?? 0;
  if (headSeq > lastSeq) {
    return fail(
      lastSeq + 1,
      'gap',
      `entries ${lastSeq + 1}-${headSeq} are missing (the chain head is at seq ${headSeq})`,
    );
  }
  if (headSeq < lastSeq) {
    return fail(
      headSeq + 1,
      'broken_link',
      `entries after seq ${headSeq} were not appended through the chain head`,
    );
  }
  if (head && !head.hash.equals(prevHash)) {
    return fail(
      trustedSeq + 1,
      'broken_link',
      `the chain head does not match entry ${lastSeq}: entries ${trustedSeq + 1}-${lastSeq} were rewritten`,
    );
  }
  return { ok: true, entries, checkpoints: checkpointsSeen };
}

/**
 * The pending entries, by pending id: the first whose signature does not hold, and those that are
 * copies (their nonce already chained, or repeating an earlier pending entry's, decision 0686).
 */
async function inspectPending(
  tx: Tx,
  keys: AuditKeys,
  tenantId: number,
): Promise<{ forged?: number; copies: number[] }> {
  const copies: number[] = [];
  const nonces = new Set<string>();
  let afterId = 0;
  for (;;) {
    const rows = await selectPendingEntries(tx, tenantId, afterId, VERIFY_BATCH);
    for (const row of rows) {
      if (!(await isPendingMacValid(keys, row))) return { forged: row.pending_id, copies };
      const nonce = row.nonce?.toString('hex');
      if (row.chained || (nonce !== undefined && nonces.has(nonce))) copies.push(row.pending_id);
      else if (nonce !== undefined) nonces.add(nonce);
    }
    const last = rows.at(-1);
    if (!last || rows.length < VERIFY_BATCH) return { copies };
    afterId = last.pending_id;
  }
}

/**
 * The pending entries signed by Kluis whose nonce a chained entry not written by Kluis carries
 * (attack S13-4, decision 0760). Only a broken chain can hold such an entry (its signature or
 * hash fails), so verification looks for them only then, wherever the forged entry is.
 */
async function findDisplacedPending(tx: Tx, keys: AuditKeys, tenantId: number): Promise<DisplacedPending[]> {
  // By the forged entry: its first row and how many carry it (decision 0768).
  const displaced = new Map<number, { pendingId: number; rows: number }>();
  let afterId = 0;
  for (;;) {
    const rows = await selectPendingEntries(tx, tenantId, afterId, VERIFY_BATCH);
    const chained: PendingEntry[] = [];
    for (const row of rows) {
      if (row.chained && (await isPendingMacValid(keys, row))) chained.push(row);
    }
    for (const { row, twin } of await judgeChainedPending(tx, keys, tenantId, chained)) {
      if (twin.kluis) continue;
      const seen = displaced.get(twin.seq);
      if (seen) seen.rows += 1;
      else displaced.set(twin.seq, { pendingId: row.pending_id, rows: 1 });
    }
    const last = rows.at(-1);
    if (!last || rows.length < VERIFY_BATCH)
      return [...displaced].map(([seq, { pendingId, rows: count }]) => ({
        pendingId,
        seq,
        rows: count,
        message: displacedMessage(tenantId, pendingId, seq, count),
      }));
    afterId = last.pending_id;
  }
}

/** A tenant transaction on one consistent snapshot, so pages and the head agree. */
async function withTenantSnapshot<T>(
  db: Db,
  tenantId: number,
  accessMode: 'read only' | 'read write',
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  return withTenant(db, tenantId, work, { isolationLevel: 'repeatable read', accessMode });
}

/** What an access report may show of an entry: no hashes, subjects only as pseudonyms. */
export interface AuditEntryView {
  seq: number;
  at: Date;
  actor: { kind: 'staff' | 'subject' | 'system'; id: string };
  role: string | null;
  purpose: string | null;
  action: string;
  subjectPseudonyms: string[];
  categories: string[];
  records: number;
  decision: 'allowed' | 'denied';
  reason: string | null;
  requestId: string | null;
}

export interface AuditEntryQuery {
  /** Entries about this subject, or made by them. */
  subjectId?: number;
  since?: Date;
  limit: number;
  /** Paging: the last seq of the previous page. */
  afterSeq?: number;
}

const MAX_LIST_LIMIT = 1000;

/**
 * Audit entries of a tenant in seq order, for access reports (GDPR art. 15: who accessed the
 * subject's data, when, under which purpose). Pages with `afterSeq`.
 */
export async function listAuditEntries(
  deps: Pick<AuditDeps, 'db' | 'keys'>,
  tenantId: number,
  query: AuditEntryQuery,
): Promise<AuditEntryView[]> {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIST_LIMIT) {
    throw new AppError('validation_failed', 'audit listing limit out of range', {
      publicMessage: `limit must be 1-${MAX_LIST_LIMIT}`,
    });
  }
  await chainPendingEntries(deps, tenantId);
  const pseudonym =
    query.subjectId === undefined ? undefined : await deps.keys.pseudonym(tenantId, query.subjectId);
  const rows = await withTenant(deps.db, tenantId, (tx) =>
    selectAuditEntries(tx, tenantId, {
      limit: query.limit,
      ...(pseudonym === undefined ? {} : { pseudonym }),
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.afterSeq === undefined ? {} : { afterSeq: query.afterSeq }),
    }),
  );
  return rows.map((row) => ({
    seq: row.seq,
    at: row.at,
    actor: { kind: row.actor_kind, id: row.actor_id },
    role: row.role,
    purpose: row.purpose,
    action: row.action,
    subjectPseudonyms: row.subject_pseudonyms,
    categories: row.categories,
    records: row.records,
    decision: row.decision,
    reason: row.reason,
    requestId: row.request_id,
  }));
}
