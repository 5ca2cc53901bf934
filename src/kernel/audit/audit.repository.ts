import { sql, type Insertable, type Selectable } from 'kysely';
import type { Tx } from '../../platform/db.js';
import type { AuditCheckpointsTable, AuditLogTable, AuditPendingTable } from './audit.tables.js';

// All queries run inside withTenant: row-level security limits them to the transaction's tenant,
// and every WHERE names tenant_id too, so the plans use the (tenant_id, seq) keys.

export type AuditLogRow = Selectable<AuditLogTable>;
export type AuditCheckpointRow = Selectable<AuditCheckpointsTable>;
export type AuditPendingRow = Selectable<AuditPendingTable>;
/**
 * A pending entry as the chainer and verification read it: `chained` when an entry with its
 * nonce is already in audit_log, so this row is a copy that must never be chained (decision 0686).
 */
export type PendingEntry = AuditPendingRow & { chained: boolean };
export interface AuditHead {
  seq: number;
  hash: Buffer;
}

// 16 parameters per row; PostgreSQL allows 65535 per statement.
const INSERT_CHUNK = 1000;

/**
 * Locks the tenant's chain head until the transaction ends, creating it on the first append.
 * Concurrent appenders of one tenant wait here, so each sees the head the previous one wrote.
 */
export async function lockAuditHead(tx: Tx, tenantId: number): Promise<AuditHead> {
  const existing = await selectHeadForUpdate(tx, tenantId);
  if (existing) return existing;
  // Two first appends may race: one inserts, the other waits on the key and then does nothing.
  // The app role may not insert a head itself (decision 0685): the function makes it at seq 0.
  await sql`select kluis_audit_open_head()`.execute(tx);
  const created = await selectHeadForUpdate(tx, tenantId);
  if (!created) throw new Error('the audit chain head could not be created');
  return created;
}

/**
 * Locks the head like lockAuditHead, unless another transaction holds it: then it returns 'busy'
 * at once instead of waiting for that transaction to commit (docs/decisions/0340).
 */
export async function tryLockAuditHead(tx: Tx, tenantId: number): Promise<AuditHead | 'busy'> {
  const result = await sql<{ seq: number | null; hash: Buffer | null; present: boolean }>`
    with head as (
      select seq, hash from audit_heads where tenant_id = ${tenantId} for update skip locked
    )
    select head.seq, head.hash,
           exists (select 1 from audit_heads where tenant_id = ${tenantId}) as present
      from (select 1) as one left join head on true`.execute(tx);
  const row = result.rows[0];
  if (row?.seq != null && row.hash) return { seq: row.seq, hash: row.hash };
  if (row?.present) return 'busy';
  return lockAuditHead(tx, tenantId);
}

async function selectHeadForUpdate(tx: Tx, tenantId: number): Promise<AuditHead | undefined> {
  const row = await tx
    .selectFrom('audit_heads')
    .select(['seq', 'hash'])
    .where('tenant_id', '=', tenantId)
    .forUpdate()
    .executeTakeFirst();
  return row && { seq: row.seq, hash: row.hash };
}

/** At most this many rows are appended speculatively in one statement (appendIfHeadIs). */
export const SPECULATIVE_APPEND_MAX = 200;

/**
 * At most this many rows are sent with the commit (appendOrParkSql, decision 0481): signed twice
 * and written twice into one literal text, a larger batch costs more than the round trip saved.
 */
export const WITH_COMMIT_MAX = 20;

/**
 * One round trip for the usual append: locks the head and, when it is still `expected` (the head
 * this process last wrote), links the rows chained onto it (kluis_audit_link: inserted, checked
 * and the head moved to the last, decision 0685), in one statement. Otherwise it inserts nothing and returns the head it now holds locked (or undefined
 * when the tenant has no head yet), and the caller chains onto that one; or, when another
 * transaction holds the head, `busy` without waiting for it (docs/decisions/0340).
 */
export async function appendIfHeadIs(
  tx: Tx,
  tenantId: number,
  rows: Insertable<AuditLogTable>[],
  expected: AuditHead,
): Promise<{ appended: true } | { appended: false; head: AuditHead | 'busy' | undefined }> {
  const json = JSON.stringify(rows.map(toJsonRow));
  const result = await sql<{ seq: number | null; hash: Buffer | null; moved: number; present: boolean }>`
    with head as (
      select seq, hash from audit_heads where tenant_id = ${tenantId} for update skip locked
    ), expected as (
      select 1 from head where seq = ${expected.seq} and hash = ${expected.hash}
    ), linked as (
      select kluis_audit_link(${json}::jsonb) as moved from expected
    )
    select head.seq, head.hash, coalesce((select 1 from linked where moved > 0), 0) as moved,
           exists (select 1 from audit_heads where tenant_id = ${tenantId}) as present
      from (select 1) as one left join head on true`.execute(tx);
  const row = result.rows[0];
  if (row?.moved === 1) return { appended: true };
  if (row?.seq != null && row.hash) return { appended: false, head: { seq: row.seq, hash: row.hash } };
  return { appended: false, head: row?.present ? 'busy' : undefined };
}

/**
 * A transaction's entries in ONE statement that never fails to write them and never waits
 * (decision 0481): chained onto the head and the head moved when the head is free and still
 * `chained.expected` (as appendIfHeadIs), otherwise (the head held by another transaction, moved
 * by another process, not there yet, or no guess at all) written to audit_pending, signed over
 * their content, for the chainer (decision 0340). One entry (the usual append) calls
 * `kluis_audit_append_one` (migration 0820, decision 0820): one function that locks, links and
 * checks, and reads its pending form only when it parks it. A batch calls `kluis_audit_append`
 * (migration 0600), whose head lock and link are one call of `kluis_audit_link_onto` (migration
 * 0715). Its text carries every value as a literal (no parameters), so it can go to the server in
 * one simple query with the commit (commitWith). Its row says which: appendOrParkOutcome.
 */
export function appendOrParkSql(
  tenantId: number,
  chained: { rows: Insertable<AuditLogTable>[]; expected: AuditHead; next: AuditHead } | undefined,
  pending: Insertable<AuditPendingTable>[],
): string {
  const [onePending] = pending;
  if (onePending && pending.length === 1 && (!chained || chained.rows.length === 1)) {
    return appendOneOrParkSql(tenantId, chained, onePending);
  }
  const head = chained
    ? [
        integer(chained.expected.seq),
        byteaLiteral(chained.expected.hash),
        integer(chained.next.seq),
        byteaLiteral(chained.next.hash),
        jsonLiteral(chained.rows.map(toJsonRow)),
      ]
    : ['null', 'null', 'null', 'null', 'null'];
  const pendingJson = jsonLiteral(pending.map(toJsonPendingRow));
  return `select moved, parked from kluis_audit_append(${integer(tenantId)}, ${head.join(', ')}, ${pendingJson})`;
}

/** appendOrParkSql for one entry: its pending form is a text literal, parsed only when parked. */
function appendOneOrParkSql(
  tenantId: number,
  chained: { rows: Insertable<AuditLogTable>[]; expected: AuditHead } | undefined,
  pending: Insertable<AuditPendingTable>,
): string {
  const [row] = chained?.rows ?? [];
  const head =
    chained && row
      ? [integer(chained.expected.seq), byteaLiteral(chained.expected.hash), jsonLiteral(toJsonRow(row))]
      : ['null', 'null', 'null'];
  const pendingText = textLiteral(JSON.stringify(toJsonPendingRow(pending)));
  return `select moved, parked from kluis_audit_append_one(${integer(tenantId)}, ${head.join(', ')}, ${pendingText})`;
}

/** What the row of appendOrParkSql says; throws when it wrote nothing (never for a valid answer). */
export function appendOrParkOutcome(row: Record<string, unknown> | undefined): 'chained' | 'pending' {
  if (row?.moved === 1) return 'chained';
  if (typeof row?.parked === 'number' && row.parked > 0) return 'pending';
  throw new Error('audit: the append statement wrote no entry');
}

function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error('audit: not a safe integer');
  return String(value);
}

function byteaLiteral(value: Buffer): string {
  return `decode('${value.toString('hex')}', 'hex')`;
}

const QUOTE_OR_BACKSLASH = /['\\]/g;

/**
 * A JSON document as a jsonb literal: an escape string (E'…') with every quote and backslash
 * doubled, the literal node-postgres's escapeLiteral writes, made by one regular expression
 * instead of a loop over every character (the loop was a tenth of Node's time per append,
 * decision 0650). E'…' reads the same whatever standard_conforming_strings is.
 */
function jsonLiteral(value: unknown): string {
  return `${textLiteral(JSON.stringify(value))}::jsonb`;
}

/** A text literal as jsonLiteral writes it, without the cast (the server types it as text). */
function textLiteral(text: string): string {
  return `E'${text.replace(QUOTE_OR_BACKSLASH, '$&$&')}'`;
}

/** A bytea value as jsonb_populate_recordset reads it from a JSON string: '\\x' and hex. */
function byteaJson(value: Buffer | null | undefined): string | null {
  return value ? `\\x${value.toString('hex')}` : null;
}

/** A row as jsonb_populate_recordset reads it: bytea as '\\x' hex, instants as ISO strings. */
function toJsonRow(row: Insertable<AuditLogTable>): Record<string, unknown> {
  return {
    ...row,
    at: row.at.toISOString(),
    prev_hash: byteaJson(row.prev_hash),
    hash: byteaJson(row.hash),
    mac: byteaJson(row.mac),
    nonce: byteaJson(row.nonce),
  };
}

/**
 * Links chained rows onto the head and moves it to the last one, through kluis_audit_link (the
 * only way rows enter audit_log, decision 0685), a chunk per statement; the head must be locked.
 */
export async function insertAuditEntries(tx: Tx, rows: Insertable<AuditLogTable>[]): Promise<void> {
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    await linkRows(tx, rows.slice(start, start + INSERT_CHUNK));
  }
}

/** One statement: the rows through kluis_audit_link, which refuses any that do not continue the head. */
async function linkRows(tx: Tx, rows: Insertable<AuditLogTable>[]): Promise<void> {
  const json = JSON.stringify(rows.map(toJsonRow));
  await sql`select kluis_audit_link(${json}::jsonb)`.execute(tx);
}

/** Writes entries that could not be chained now (the head was busy); the chainer links them. */
export async function insertPendingEntries(tx: Tx, rows: Insertable<AuditPendingTable>[]): Promise<void> {
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    await tx
      .insertInto('audit_pending')
      .values(rows.slice(start, start + INSERT_CHUNK))
      .execute();
  }
}

/** Whether pending row `q`'s nonce is already in the tenant's chain: the row is a copy (0686). */
const nonceChained = sql<boolean>`(q.nonce is not null and exists (
  select 1 from audit_log as l where l.tenant_id = q.tenant_id and l.nonce = q.nonce))`;

/**
 * The chainer's first step in ONE statement (decision 0370): the head locked without waiting and
 * the pending entries after `afterId` read. Only when the lock was free and no transaction moved
 * the head since this statement's snapshot (the locked head, which FOR UPDATE reads as last
 * committed, is the head the snapshot sees): then the snapshot holds every move before it, so no
 * entry another chainer already moved is read as pending. Otherwise undefined, and the caller
 * locks the head (waiting) and reads the entries with a statement of its own, after the lock.
 */
export async function tryLockHeadWithPending(
  tx: Tx,
  tenantId: number,
  afterId: number,
  limit: number,
): Promise<{ head: AuditHead; rows: PendingEntry[] } | undefined> {
  const result = await sql<
    { part: number; head_seq: number | null; head_hash: Buffer | null; snap_seq: number | null } & Record<
      string,
      unknown
    >
  >`
    with head as (
      select seq, hash from audit_heads where tenant_id = ${tenantId} for update skip locked
    ), snap as (
      select seq from audit_heads where tenant_id = ${tenantId}
    )
    select k.part, head.seq as head_seq, head.hash as head_hash,
           (select seq from snap) as snap_seq, p.*
      from (values (0), (1)) as k (part)
      left join head on k.part = 0
      left join (
        select q.*, ${nonceChained} as chained from audit_pending as q
         where q.tenant_id = ${tenantId} and q.pending_id > ${afterId}
         order by q.pending_id limit ${limit}
      ) as p on k.part = 1 and exists (select 1 from head)
     where k.part = 0 or p.pending_id is not null
     order by k.part, p.pending_id`.execute(tx);
  const [first, ...pending] = result.rows;
  if (first?.head_seq == null || !first.head_hash || first.snap_seq !== first.head_seq) return undefined;
  const rows = pending.map((row) => {
    const { part: _part, head_seq: _seq, head_hash: _hash, snap_seq: _snap, ...entry } = row;
    return entry as unknown as PendingEntry;
  });
  return { head: { seq: first.head_seq, hash: first.head_hash }, rows };
}

/**
 * The chained entries that carry one of `nonces` (pending entries' nonces already in the chain):
 * the twins the chainer and verification judge before calling a pending row a copy (attack S13-4).
 */
export async function selectEntriesByNonce(
  tx: Tx,
  tenantId: number,
  nonces: readonly Buffer[],
): Promise<AuditLogRow[]> {
  if (nonces.length === 0) return [];
  return tx
    .selectFrom('audit_log')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('nonce', 'in', [...nonces])
    .execute();
}

/** Pending entries in the order they were written, after `afterId`, each said chained or not. */
export async function selectPendingEntries(
  tx: Tx,
  tenantId: number,
  afterId: number,
  limit: number,
): Promise<PendingEntry[]> {
  return tx
    .selectFrom('audit_pending as q')
    .selectAll('q')
    .select(nonceChained.as('chained'))
    .where('q.tenant_id', '=', tenantId)
    .where('q.pending_id', '>', afterId)
    .orderBy('q.pending_id')
    .limit(limit)
    .execute();
}

/**
 * Whether the tenant has a pending entry the chainer could take: copies of chained entries left
 * in audit_pending (decision 0686) do not count, so they do not make every reader lock the head.
 */
export async function hasPendingToChain(tx: Tx, tenantId: number): Promise<boolean> {
  const row = await tx
    .selectFrom('audit_pending as q')
    .select('q.pending_id')
    .where('q.tenant_id', '=', tenantId)
    .where(sql<boolean>`not ${nonceChained}`)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Chained rows (at most INSERT_CHUNK) linked and the head moved, in one statement (kluis_audit_link);
 * the head must be locked. The pending entries they came from are removed by unparkPendingSql, in the same
 * transaction (the app role may not delete them itself, decision 0645).
 */
export async function movePendingEntries(tx: Tx, rows: Insertable<AuditLogTable>[]): Promise<void> {
  if (rows.length > INSERT_CHUNK) throw new Error('movePendingEntries: batch too large');
  await linkRows(tx, rows);
}

/**
 * The statement that removes the pending entries `pendingIds` once `chained` (their twins, in the
 * same order) are in audit_log: a call of `kluis_audit_unpark` (migration 0645, decision 0645),
 * which deletes each only when its twin has the same content at the claimed seq and hash and was
 * inserted by this transaction, and otherwise fails, rolling the transaction back (another
 * chainer moved them already: chaining them again would duplicate them). A text with literals
 * only, so it can travel with the commit (commitWith).
 */
export function unparkPendingSql(
  pendingIds: readonly number[],
  chained: readonly Pick<Insertable<AuditLogTable>, 'seq' | 'hash'>[],
): string {
  if (pendingIds.length !== chained.length) throw new Error('unparkPendingSql: one twin per pending entry');
  const ids = pendingIds.map(integer).join(', ');
  const seqs = chained.map((row) => integer(row.seq)).join(', ');
  const hashes = chained.map((row) => byteaLiteral(row.hash)).join(', ');
  return `select count(*)::int as removed from kluis_audit_unpark(array[${ids}]::bigint[], array[${seqs}]::bigint[], array[${hashes}]::bytea[])`;
}

/** The head as committed (no lock): what a checkpoint signs and what verification compares. */
export async function selectAuditHead(tx: Tx, tenantId: number): Promise<AuditHead | undefined> {
  return tx
    .selectFrom('audit_heads')
    .select(['seq', 'hash'])
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
}

/** One page of the chain in seq order, for streaming verification. */
export async function selectAuditEntriesAfter(
  tx: Tx,
  tenantId: number,
  afterSeq: number,
  limit: number,
): Promise<AuditLogRow[]> {
  return tx
    .selectFrom('audit_log')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export async function selectAuditEntry(
  tx: Tx,
  tenantId: number,
  seq: number,
): Promise<AuditLogRow | undefined> {
  return tx
    .selectFrom('audit_log')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', '=', seq)
    .executeTakeFirst();
}

/** One page of checkpoints in seq order. */
export async function selectCheckpointsAfter(
  tx: Tx,
  tenantId: number,
  afterSeq: number,
  limit: number,
): Promise<AuditCheckpointRow[]> {
  return tx
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export async function selectLatestCheckpoint(
  tx: Tx,
  tenantId: number,
): Promise<AuditCheckpointRow | undefined> {
  return tx
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Writes a checkpoint; a second one for the same seq is ignored (checkpoints are append-only). */
export async function insertCheckpoint(tx: Tx, row: Insertable<AuditCheckpointsTable>): Promise<void> {
  await tx
    .insertInto('audit_checkpoints')
    .values(row)
    .onConflict((conflict) => conflict.columns(['tenant_id', 'seq']).doNothing())
    .execute();
}

export interface AuditEntryFilter {
  /** Entries naming this pseudonym, as a subject of the access or as the acting subject. */
  pseudonym?: string;
  since?: Date;
  afterSeq?: number;
  limit: number;
}

export async function selectAuditEntries(
  tx: Tx,
  tenantId: number,
  filter: AuditEntryFilter,
): Promise<AuditLogRow[]> {
  let query = tx.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenantId);
  const { pseudonym } = filter;
  if (pseudonym !== undefined) {
    query = query.where((eb) =>
      eb.or([
        eb(sql<string[]>`subject_pseudonyms`, '@>', sql<string[]>`array[${pseudonym}]::text[]`),
        eb.and([eb('actor_kind', '=', 'subject'), eb('actor_id', '=', pseudonym)]),
      ]),
    );
  }
  if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
  if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq);
  return query.orderBy('seq').limit(filter.limit).execute();
}

/**
 * One page of the entries that name a pseudonym (as a subject of the access, or as the acting
 * subject), newest first: a person's audit trail. `beforeSeq` is the last seq of the previous page.
 */
export async function selectTrailPage(
  tx: Tx,
  tenantId: number,
  pseudonym: string,
  page: { limit: number; beforeSeq?: number },
): Promise<AuditLogRow[]> {
  let query = tx
    .selectFrom('audit_log')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      eb.or([
        eb(sql<string[]>`subject_pseudonyms`, '@>', sql<string[]>`array[${pseudonym}]::text[]`),
        eb.and([eb('actor_kind', '=', 'subject'), eb('actor_id', '=', pseudonym)]),
      ]),
    );
  if (page.beforeSeq !== undefined) query = query.where('seq', '<', page.beforeSeq);
  return query.orderBy('seq', 'desc').limit(page.limit).execute();
}

/**
 * An audit entry written by another module's statement (the gated read, decisions 0450 and
 * 0480): CTEs named `audit_…` to put into that statement's WITH, and a column (named
 * `gate_audit_…`) that says what they did. When `condition` holds, they insert the entry into
 * audit_pending, signed over its content (decision 0340); the chainer links it after the commit.
 * The statement never locks or reads the chain head, so gated reads never wait for each other or
 * for an appender. When `condition` does not hold they write nothing.
 */
export interface InlineAppendSql {
  /** Every entry's CTEs have the same text: the other statement's text is built once (0855). */
  shape: string;
  /** The CTEs, testing `condition`, with their one parameter (`parameters`) as `$first`. */
  ctes(condition: string, first: number): string;
  columns: string;
  parameters: readonly unknown[];
}

export function inlinePendingSql(pending: Insertable<AuditPendingTable>): InlineAppendSql {
  return {
    shape: 'audit_parked',
    ctes: (condition, first) => `audit_parked as (
      insert into audit_pending (tenant_id, at, actor_kind, actor_id, role, purpose, action,
          subject_pseudonyms, categories, records, decision, reason, request_id, mac, nonce)
        select r.tenant_id, r.at, r.actor_kind, r.actor_id, r.role, r.purpose, r.action,
            r.subject_pseudonyms, r.categories, r.records, r.decision, r.reason, r.request_id, r.mac,
            r.nonce
          from jsonb_populate_record(null::audit_pending, $${first}::jsonb) as r
         where ${condition}
        returning 1
    )`,
    columns: '(select count(*)::int from audit_parked) as gate_audit_parked',
    parameters: [JSON.stringify(toJsonPendingRow(pending))],
  };
}

/** Whether the statement of inlinePendingSql wrote its entry. */
export function inlinePendingWritten(row: Record<string, unknown>): boolean {
  return row.gate_audit_parked === 1;
}

function toJsonPendingRow(row: Insertable<AuditPendingTable>): Record<string, unknown> {
  return { ...row, at: row.at.toISOString(), mac: byteaJson(row.mac), nonce: byteaJson(row.nonce) };
}
