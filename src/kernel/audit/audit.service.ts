import { timingSafeEqual } from 'node:crypto';
import { sql, type Insertable } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { withTenant, type Db, type Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { encodeCheckpoint, GENESIS_HASH, hashAuditEntry, type ChainedEntry } from './audit.canonical.js';
import {
  SELF_ACTOR_ID,
  validateAuditEvent,
  type AuditActor,
  type AuditEvent,
  type RecordedAuditEvent,
} from './audit.event.js';
import {
  insertAuditEntries,
  insertCheckpoint,
  lockAuditHead,
  selectAuditEntries,
  selectAuditEntriesAfter,
  selectAuditEntry,
  selectAuditHead,
  selectCheckpointsAfter,
  selectLatestCheckpoint,
  type AuditCheckpointRow,
  type AuditHead,
  type AuditLogRow,
} from './audit.repository.js';
import type { AuditLogTable } from './audit.tables.js';

/** Keyed functions the keyring provides (the audit module never sees the master key). */
export interface AuditKeys {
  /** Keyed hash of a subject id, hex: stable per tenant, meaningless without the key. */
  pseudonym(tenantId: number, subjectId: number): Promise<string>;
  /** HMAC of a checkpoint's canonical bytes. */
  checkpointMac(tenantId: number, data: Buffer): Promise<Buffer>;
}

export interface AuditDeps {
  db: Db;
  keys: AuditKeys;
  clock: Clock;
}

const DRAIN = Symbol('drain');

/**
 * The audit events of one transaction, buffered so they are appended in one go (one head lock,
 * one multi-row insert) just before commit. Only `withAudit` creates one; once its transaction
 * has ended, recording into it throws instead of silently losing the event.
 */
export class AuditTrail {
  readonly #clock: Clock;
  #events: RecordedAuditEvent[] = [];
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Validates the event (no personal data, see AuditEvent) and buffers it; throws when invalid. */
  record(event: AuditEvent): void {
    if (this.#closed) {
      throw new Error('audit trail of a finished transaction: record events inside the withAudit callback');
    }
    this.#events.push(validateAuditEvent(event, this.#clock.now()));
  }

  /** Events recorded and not yet written. */
  get pending(): number {
    return this.#events.length;
  }

  [DRAIN](): RecordedAuditEvent[] {
    this.#closed = true;
    const events = this.#events;
    this.#events = [];
    return events;
  }
}

export interface AuditedTx {
  tx: Tx;
  tenantId: number;
  audit: AuditTrail;
}

/**
 * `withTenant` plus an AuditTrail: the work's changes and its audit entries commit together or
 * not at all. All buffered events are appended in ONE step before commit; if `work` throws,
 * nothing is written and its data changes are rolled back.
 */
export async function withAudit<T>(
  deps: AuditDeps,
  tenantId: number,
  work: (atx: AuditedTx) => Promise<T>,
): Promise<T> {
  const audit = new AuditTrail(deps.clock);
  try {
    return await withTenant(deps.db, tenantId, async (tx) => {
      const result = await work({ tx, tenantId, audit });
      await appendEvents(tx, deps.keys, tenantId, audit[DRAIN]());
      return result;
    });
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
  await withTenant(deps.db, tenantId, (tx) => appendEvents(tx, deps.keys, tenantId, recorded));
}

const PSEUDONYM_PATTERN = /^[0-9a-f]{16,128}$/;

async function pseudonymize(
  keys: AuditKeys,
  tenantId: number,
  events: RecordedAuditEvent[],
): Promise<Map<number, string>> {
  const ids = new Set<number>();
  for (const event of events) {
    for (const id of event.subjectIds) ids.add(id);
    if (isSubjectActorId(event.actor)) ids.add(Number(event.actor.id));
  }
  const pairs = await Promise.all(
    [...ids].map(async (id) => [id, await keys.pseudonym(tenantId, id)] as const),
  );
  for (const [, pseudonym] of pairs) {
    // Guards against a keys implementation that would hand back something readable.
    if (!PSEUDONYM_PATTERN.test(pseudonym))
      throw new Error('AuditKeys.pseudonym must return a hex keyed hash');
  }
  return new Map(pairs);
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

async function appendEvents(
  tx: Tx,
  keys: AuditKeys,
  tenantId: number,
  events: RecordedAuditEvent[],
): Promise<void> {
  if (events.length === 0) return;
  // Keyed hashes are computed before taking the head lock, to hold it as briefly as possible.
  const pseudonyms = await pseudonymize(keys, tenantId, events);
  const head = await lockAuditHead(tx, tenantId);
  let { seq, hash: prevHash } = head;
  const rows: Insertable<AuditLogTable>[] = [];
  for (const event of events) {
    seq += 1;
    const entry: ChainedEntry = {
      tenantId,
      seq,
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
      prevHash,
    };
    const hash = hashAuditEntry(entry);
    rows.push(toRow(entry, hash));
    prevHash = hash;
  }
  await insertAuditEntries(tx, tenantId, rows, { seq, hash: prevHash });
}

function toRow(entry: ChainedEntry, hash: Buffer): Insertable<AuditLogTable> {
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
  };
}

/** A stored row as the canonical encoding sees it (verification, and tests that forge entries). */
export function fromRow(row: AuditLogRow): ChainedEntry {
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
  'hash_mismatch' | 'broken_link' | 'gap' | 'checkpoint_mismatch' | 'checkpoint_mac_invalid';

export type AuditVerification =
  | { ok: true; entries: number; checkpoints: number }
  | {
      ok: false;
      /** Entries found intact before the first bad one. */
      entries: number;
      firstBadSeq: number;
      problem: AuditProblem;
      message: string;
    };

/** Thrown by writeCheckpoint: a broken chain is never signed. */
export class AuditChainError extends Error {
  constructor(readonly verification: Extract<AuditVerification, { ok: false }>) {
    super(`the audit chain is broken at seq ${verification.firstBadSeq}: ${verification.message}`);
    this.name = 'AuditChainError';
  }
}

const VERIFY_BATCH = 1000;
const CHECKPOINT_BATCH = 500;

/**
 * Recomputes a tenant's whole chain in seq order, in pages (constant memory), from one
 * consistent snapshot, and names the first entry that does not hold:
 * - `gap`: an entry is missing (also at the end, against the head or a checkpoint);
 * - `broken_link`: an entry's prev_hash is not the previous entry's hash (an entry was
 *   inserted or removed before it), or entries exist beyond the head;
 * - `hash_mismatch`: an entry's content was changed;
 * - `checkpoint_mac_invalid`: a checkpoint was not signed with the tenant's key;
 * - `checkpoint_mismatch`: the chain was rewritten with recomputed hashes. The rewrite is only
 *   known to lie after the last matching checkpoint, so firstBadSeq is the first entry after
 *   it. A rewrite after the last checkpoint is caught only by the next checkpoint: write them
 *   often (`kluis audit checkpoint`).
 */
export async function verifyAuditChain(
  deps: Pick<AuditDeps, 'db' | 'keys'>,
  tenantId: number,
  options: { batchSize?: number } = {},
): Promise<AuditVerification> {
  return withTenantSnapshot(deps.db, tenantId, 'read only', (tx) =>
    verifyChainFrom(
      tx,
      deps.keys,
      tenantId,
      { seq: 0, hash: GENESIS_HASH },
      options.batchSize ?? VERIFY_BATCH,
    ),
  );
}

/**
 * Signs the tenant's chain head with an HMAC (keys.checkpointMac). The entries since the
 * previous checkpoint are verified first, so a tampered chain is never signed (AuditChainError).
 * Returns null when the chain is empty; signing an already signed head writes nothing.
 */
export async function writeCheckpoint(deps: AuditDeps, tenantId: number): Promise<{ seq: number } | null> {
  return withTenantSnapshot(deps.db, tenantId, 'read write', async (tx) => {
    const head = await selectAuditHead(tx, tenantId);
    if (!head || head.seq === 0) return null;
    let start: AuditHead = { seq: 0, hash: GENESIS_HASH };
    const latest = await selectLatestCheckpoint(tx, tenantId);
    if (latest) {
      await assertCheckpointHolds(tx, deps.keys, tenantId, latest);
      if (latest.seq === head.seq) return { seq: head.seq };
      start = { seq: latest.seq, hash: latest.head_hash };
    }
    const verification = await verifyChainFrom(tx, deps.keys, tenantId, start, VERIFY_BATCH);
    if (!verification.ok) throw new AuditChainError(verification);
    const signedAt = deps.clock.now();
    const mac = await deps.keys.checkpointMac(
      tenantId,
      encodeCheckpoint({ tenantId, seq: head.seq, headHash: head.hash, signedAt }),
    );
    await insertCheckpoint(tx, {
      tenant_id: tenantId,
      seq: head.seq,
      head_hash: head.hash,
      signed_at: signedAt,
      mac,
    });
    return { seq: head.seq };
  });
}

async function assertCheckpointHolds(
  tx: Tx,
  keys: AuditKeys,
  tenantId: number,
  checkpoint: AuditCheckpointRow,
): Promise<void> {
  const fail = (problem: AuditProblem, message: string): never => {
    throw new AuditChainError({ ok: false, entries: 0, firstBadSeq: checkpoint.seq, problem, message });
  };
  if (!(await isCheckpointMacValid(keys, tenantId, checkpoint))) {
    fail(
      'checkpoint_mac_invalid',
      `the checkpoint at seq ${checkpoint.seq} is not signed with this tenant's key`,
    );
  }
  const entry = await selectAuditEntry(tx, tenantId, checkpoint.seq);
  if (!entry) fail('gap', `entry ${checkpoint.seq}, covered by a signed checkpoint, is missing`);
  else if (!hashAuditEntry(fromRow(entry)).equals(checkpoint.head_hash)) {
    fail('checkpoint_mismatch', `entry ${checkpoint.seq} does not match its signed checkpoint`);
  }
}

async function isCheckpointMacValid(
  keys: AuditKeys,
  tenantId: number,
  checkpoint: AuditCheckpointRow,
): Promise<boolean> {
  const expected = await keys.checkpointMac(
    tenantId,
    encodeCheckpoint({
      tenantId,
      seq: checkpoint.seq,
      headHash: checkpoint.head_hash,
      signedAt: checkpoint.signed_at,
    }),
  );
  return expected.length === checkpoint.mac.length && timingSafeEqual(expected, checkpoint.mac);
}

/** Streams checkpoints after a seq in pages. */
function openCheckpointCursor(
  tx: Tx,
  tenantId: number,
  afterSeq: number,
): { next(): Promise<AuditCheckpointRow | undefined> } {
  let page: AuditCheckpointRow[] = [];
  let index = 0;
  let lastSeq = afterSeq;
  let exhausted = false;
  return {
    async next() {
      if (index >= page.length && !exhausted) {
        page = await selectCheckpointsAfter(tx, tenantId, lastSeq, CHECKPOINT_BATCH);
        index = 0;
        exhausted = page.length < CHECKPOINT_BATCH;
      }
      const row = page[index];
      index += 1;
      if (row) lastSeq = row.seq;
      return row;
    },
  };
}

/** Verifies the entries after `start` (a trusted entry, or seq 0 with the genesis hash). */
async function verifyChainFrom(
  tx: Tx,
  keys: AuditKeys,
  tenantId: number,
  start: AuditHead,
  batchSize: number,
): Promise<AuditVerification> {
  let expectedSeq = start.seq + 1;
  let prevHash = start.hash;
  let entries = 0;
  let checkpoints = 0;
  // The last seq vouched for by a matching checkpoint: a rewrite can only start after it.
  let trustedSeq = start.seq;
  const fail = (firstBadSeq: number, problem: AuditProblem, message: string): AuditVerification => ({
    ok: false,
    entries,
    firstBadSeq,
    problem,
    message,
  });
  const cursor = openCheckpointCursor(tx, tenantId, start.seq);
  let checkpoint = await cursor.next();

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
      while (checkpoint && checkpoint.seq <= row.seq) {
        if (!(await isCheckpointMacValid(keys, tenantId, checkpoint))) {
          return fail(
            checkpoint.seq,
            'checkpoint_mac_invalid',
            `the checkpoint at seq ${checkpoint.seq} is not signed with this tenant's key`,
          );
        }
        if (checkpoint.seq !== row.seq || !checkpoint.head_hash.equals(row.hash)) {
          return fail(
            trustedSeq + 1,
            'checkpoint_mismatch',
            `the signed checkpoint at seq ${checkpoint.seq} does not match the chain: entries ${trustedSeq + 1}-${checkpoint.seq} were rewritten`,
          );
        }
        trustedSeq = checkpoint.seq;
        checkpoints += 1;
        checkpoint = await cursor.next();
      }
      prevHash = row.hash;
      expectedSeq += 1;
      entries += 1;
    }
    if (rows.length < batchSize) break;
  }

  const lastSeq = expectedSeq - 1;
  if (checkpoint) {
    if (!(await isCheckpointMacValid(keys, tenantId, checkpoint))) {
      return fail(
        checkpoint.seq,
        'checkpoint_mac_invalid',
        `the checkpoint at seq ${checkpoint.seq} is not signed with this tenant's key`,
      );
    }
    return fail(
      lastSeq + 1,
      'gap',
      `entries from seq ${lastSeq + 1} are missing: a signed checkpoint covers seq ${checkpoint.seq}`,
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
  return { ok: true, entries, checkpoints };
}

/** A tenant transaction on one consistent snapshot, so pages and the head agree. */
async function withTenantSnapshot<T>(
  db: Db,
  tenantId: number,
  accessMode: 'read only' | 'read write',
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode(accessMode)
    .execute(async (tx) => {
      await sql`select set_config('app.tenant', ${String(tenantId)}, true)`.execute(tx);
      return work(tx);
    });
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
