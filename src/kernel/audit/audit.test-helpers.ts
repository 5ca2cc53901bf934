import { randomBytes } from 'node:crypto';
import type { Insertable } from 'kysely';
import pg from 'pg';
import { fixedClock } from '../../platform/clock.js';
import type { Db } from '../../platform/db.js';
import { runAsOwner } from '../../../test/database.js';
import { createTenant } from '../../modules/tenants/index.js';
import { hashAuditEntry, type ChainedEntry } from './audit.canonical.js';
import type { AuditEvent } from './audit.event.js';
import type { AuditHead } from './audit.repository.js';
import type { AuditLogTable, AuditPendingTable } from './audit.tables.js';
import { fromRow, type AuditDeps } from './audit.service.js';
import { Keyring } from '../keyring/keyring.js';
import { LocalKeyManagementService } from '../keyring/kms.js';
import type { KeystoreDb } from '../keyring/keystore.tables.js';

export const MASTER_KEY = randomBytes(32);

/** Audit dependencies whose keyed functions come from the real keyring (key store + master key). */
export function createAuditDeps(
  database: { db: Db; keystore: KeystoreDb },
  masterKey: Buffer = MASTER_KEY,
): AuditDeps & { clock: ReturnType<typeof fixedClock> } {
  const clock = fixedClock(new Date('2026-03-01T09:00:00.123Z'));
  const keyring = new Keyring({
    kms: new LocalKeyManagementService(masterKey),
    keystore: database.keystore,
    clock,
  });
  return {
    db: database.db,
    keys: {
      pseudonym: (tenantId, subjectId) => keyring.pseudonym(tenantId, subjectId),
      pseudonyms: (tenantId, subjectIds) => keyring.pseudonyms(tenantId, subjectIds),
      checkpointMac: (tenantId, data) => keyring.checkpointMac(tenantId, data),
      pseudonymsIfCached: (tenantId, subjectIds) => keyring.pseudonymsIfCached(tenantId, subjectIds),
      checkpointMacIfCached: (tenantId, data) => keyring.checkpointMacIfCached(tenantId, data),
    },
    clock,
  };
}

/** A line the audit wrote to its logger. */
export interface LoggedLine {
  fields: Record<string, unknown>;
  message: string;
}

/**
 * Audit dependencies whose logger keeps its lines in `logged`, and whose keyed MAC passes through
 * `checkpointMac` first (to count or fail calls), as the tests of forged rows need.
 */
export function createWatchedAuditDeps(
  database: { db: Db; keystore: KeystoreDb },
  logged: LoggedLine[],
  checkpointMac: (next: AuditDeps['keys']['checkpointMac']) => AuditDeps['keys']['checkpointMac'] = (next) =>
    next,
): AuditDeps {
  const base = createAuditDeps(database);
  // Without the cached MAC: every MAC, an append's too, goes through the watched `checkpointMac`.
  const { checkpointMacIfCached: _unwatched, ...keys } = base.keys;
  return {
    ...base,
    keys: {
      ...keys,
      checkpointMac: checkpointMac((tenantId, data) => base.keys.checkpointMac(tenantId, data)),
    },
    logger: { error: (fields: Record<string, unknown>, message: string) => logged.push({ fields, message }) },
  };
}

let tenantCounter = 0;
/** A fresh tenant per test, so tests never see each other's chains. */
export async function createAuditTenant(db: Db, label: string): Promise<number> {
  tenantCounter += 1;
  const tenant = await createTenant(db, {
    slug: `${label}-${tenantCounter}-${randomBytes(3).toString('hex')}`,
    name: label,
  });
  return tenant.tenantId;
}

export function readEvent(subjectIds: number[] = [], overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    actor: { kind: 'staff', id: '17' },
    role: 'billing',
    purpose: 'billing.invoicing',
    action: 'read',
    subjectIds,
    categories: ['user.contact.email', 'user.financial.bank_account'],
    records: subjectIds.length,
    decision: 'allowed',
    requestId: 'req-1',
    ...overrides,
  };
}

/** Runs statements as the superuser with triggers disabled: what an attacker with the server could do. */
export async function tamper<T>(ownerUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query('set session_replication_role = replica');
    return await work(client);
  } finally {
    await client.end();
  }
}

interface RawRow {
  tenant_id: number;
  seq: string;
  at: Date;
  actor_kind: 'staff' | 'subject' | 'system';
  actor_id: string;
  role: string | null;
  purpose: string | null;
  action: string;
  subject_pseudonyms: string[];
  categories: string[];
  records: number;
  decision: 'allowed' | 'denied';
  reason: string | null;
  request_id: string | null;
  prev_hash: Buffer;
  hash: Buffer;
}

export function toChained(row: RawRow): ChainedEntry {
  return fromRow({ ...row, seq: Number(row.seq) });
}

export async function selectRaw(client: pg.Client, tenantId: number, fromSeq: number): Promise<RawRow[]> {
  const { rows } = await client.query<RawRow>(
    'select * from audit_log where tenant_id = $1 and seq >= $2 order by seq',
    [tenantId, fromSeq],
  );
  return rows;
}

/**
 * Rewrites the chain from `fromSeq` on as an attacker who knows the algorithm would: change
 * entry `fromSeq`, then recompute every hash and link after it, and move the head along.
 */
export async function rewriteTail(ownerUrl: string, tenantId: number, fromSeq: number): Promise<void> {
  await tamper(ownerUrl, async (client) => {
    const [before] = await selectRaw(client, tenantId, fromSeq - 1);
    if (!before) throw new Error('no entry before the rewrite');
    let prevHash = before.hash;
    for (const row of await selectRaw(client, tenantId, fromSeq)) {
      const entry = toChained(row);
      entry.prevHash = prevHash;
      if (entry.seq === fromSeq) entry.action = 'login';
      const hash = hashAuditEntry(entry);
      await client.query(
        'update audit_log set action = $3, prev_hash = $4, hash = $5 where tenant_id = $1 and seq = $2',
        [tenantId, entry.seq, entry.action, entry.prevHash, hash],
      );
      prevHash = hash;
    }
    await client.query('update audit_heads set hash = $2 where tenant_id = $1', [tenantId, prevHash]);
  });
}

/** Shifts entries from `atSeq` up by one and forges a well-formed entry at `atSeq`. */
export async function insertForgedEntry(ownerUrl: string, tenantId: number, atSeq: number): Promise<void> {
  await tamper(ownerUrl, async (client) => {
    // Two steps, so the primary key never sees two rows with the same seq mid-statement.
    await client.query('update audit_log set seq = seq + 1000000 where tenant_id = $1 and seq >= $2', [
      tenantId,
      atSeq,
    ]);
    await client.query('update audit_log set seq = seq - 999999 where tenant_id = $1 and seq >= 1000000', [
      tenantId,
    ]);
    const [before] = await selectRaw(client, tenantId, atSeq - 1);
    if (!before) throw new Error('no entry before the insertion');
    const forged = { ...toChained(before), seq: atSeq, action: 'export', prevHash: before.hash };
    await client.query(
      `insert into audit_log (tenant_id, seq, at, actor_kind, actor_id, role, purpose, action, subject_pseudonyms,
         categories, records, decision, reason, request_id, prev_hash, hash)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [
        tenantId,
        forged.seq,
        forged.at,
        forged.actorKind,
        forged.actorId,
        forged.role,
        forged.purpose,
        forged.action,
        forged.subjectPseudonyms,
        forged.categories,
        forged.records,
        forged.decision,
        forged.reason,
        forged.requestId,
        forged.prevHash,
        hashAuditEntry(forged),
      ],
    );
    await client.query('update audit_heads set seq = seq + 1 where tenant_id = $1', [tenantId]);
  });
}

/**
 * Attack S11-4 (decision 0680): in the tenant, one row at the chain head's seq + 1, linked to the
 * head but not signed, the head left where it is. Answers the row's seq. As the app role (an
 * intruder with its login) it is refused since decision 0685 (permission denied); as the owner
 * (`role: 'owner'`, the migrations' login) it still blocks the chain, which decision 0680 names.
 */
export async function writeRowBeyondHead(
  ownerUrl: string,
  tenantId: number,
  role: 'app' | 'owner' = 'app',
): Promise<number> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    if (role === 'app') await client.query('set role kluis_app');
    await client.query('begin');
    await client.query(`select set_config('app.tenant', $1, true)`, [String(tenantId)]);
    const { rows } = await client.query<{ seq: number }>(
      `insert into audit_log (tenant_id, seq, at, actor_kind, actor_id, role, purpose, action, subject_pseudonyms,
         categories, records, decision, reason, request_id, prev_hash, hash, mac)
       select tenant_id, seq + 1, now(), 'system', 'attacker', null, null, 'forged.block', '{}', '{}', 0, 'allowed',
         null, null, hash, sha256('x'::bytea), null from audit_heads where tenant_id = $1
       returning seq`,
      [tenantId],
    );
    await client.query('commit');
    const seq = rows[0]?.seq;
    if (seq === undefined) throw new Error('the tenant has no chain head');
    return seq;
  } finally {
    await client.end();
  }
}

/** Holds the tenant's chain head, as a long audited transaction would, until released. */
export async function holdChainHead(ownerUrl: string, tenantId: number): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  await client.query('begin');
  await client.query('select 1 from audit_heads where tenant_id = $1 for update', [tenantId]);
  return async () => {
    await client.query('commit');
    await client.end();
  };
}

/** How many entries of `tenantId` wait in audit_pending, read as the owner. */
export async function countPendingEntries(ownerUrl: string, tenantId: number): Promise<number> {
  const { rows } = await runAsOwner<{ n: number }>(
    ownerUrl,
    'select count(*)::int as n from audit_pending where tenant_id = $1',
    [tenantId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Until at least `count` entries of `tenantId` wait in audit_pending (only those of `requestId`,
 * when given): an append blocked behind a held chain head parks its entry there.
 */
export async function untilPending(
  ownerUrl: string,
  tenantId: number,
  { count = 1, requestId }: { count?: number; requestId?: string } = {},
): Promise<void> {
  for (let tries = 0; ; tries += 1) {
    const waiting =
      requestId === undefined
        ? await countPendingEntries(ownerUrl, tenantId)
        : await countAuditRows(ownerUrl, 'audit_pending', tenantId, requestId);
    if (waiting >= count) return;
    if (tries > 400)
      throw new Error(`only ${String(waiting)} of ${String(count)} entries reached audit_pending`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** How many rows of one request a tenant has in the chain or among its pending entries. */
export async function countAuditRows(
  ownerUrl: string,
  table: 'audit_log' | 'audit_pending',
  tenantId: number,
  requestId: string,
): Promise<number> {
  const { rows } = await runAsOwner<{ n: number }>(
    ownerUrl,
    `select count(*)::int as n from ${table} where tenant_id = $1 and request_id = $2`,
    [tenantId, requestId],
  );
  return rows[0]?.n ?? 0;
}

/** Until the backend `pid` waits on a lock (inside the statement a test has blocked). */
export async function untilBackendWaitsOnLock(ownerUrl: string, pid: number): Promise<void> {
  for (let tries = 0; ; tries += 1) {
    const waiting = await runAsOwner<{ n: number }>(
      ownerUrl,
      `select count(*)::int as n from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'`,
      [pid],
    );
    if (waiting.rows[0]?.n === 1) return;
    if (tries > 400) throw new Error('the append never waited inside its insert');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Runs `statements` in one transaction of `tenantId` as the app role, as an intruder with its
 * login could; answers the last statement's result. Any error rolls the transaction back.
 */
export async function runAsAppRole(
  ownerUrl: string,
  tenantId: number,
  ...statements: Array<[text: string, values?: unknown[]]>
): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query('set role kluis_app');
    await client.query('begin');
    await client.query(`select set_config('app.tenant', $1, true)`, [String(tenantId)]);
    let result: pg.QueryResult | undefined;
    for (const [text, values] of statements) result = await client.query(text, values ?? []);
    await client.query('commit');
    if (!result) throw new Error('no statement');
    return result;
  } finally {
    await client.end();
  }
}

/**
 * `entry` as a row for kluis_audit_link(_onto), made as anyone who knows the (public) algorithm
 * can make it: its hash right, its MAC random (the tenant's key is not at hand).
 */
export function forgedRowJson(entry: ChainedEntry): Record<string, unknown> {
  const bytea = (value: Buffer): string => `\\x${value.toString('hex')}`;
  return {
    tenant_id: entry.tenantId,
    seq: entry.seq,
    at: entry.at.toISOString(),
    actor_kind: entry.actorKind,
    actor_id: entry.actorId,
    role: entry.role,
    purpose: entry.purpose,
    action: entry.action,
    subject_pseudonyms: entry.subjectPseudonyms,
    categories: entry.categories,
    records: entry.records,
    decision: entry.decision,
    reason: entry.reason,
    request_id: entry.requestId,
    prev_hash: bytea(entry.prevHash),
    hash: bytea(hashAuditEntry(entry)),
    mac: bytea(randomBytes(32)),
  };
}

/**
 * Attack S13-4 (decision 0760), as the app role's login can do it: holds the tenant's chain head,
 * starts `park` (something that makes a genuine entry wait in audit_pending, the tenant's only
 * one), and chains through kluis_audit_link a row anyone can make — the right seq, link and hash,
 * a random MAC — carrying the waiting entry's nonce and request id. Answers the forged row's seq
 * and the waiting entry's pending id, once `park` has finished.
 */
export async function chainForgedWithWaitingNonce(
  ownerUrl: string,
  tenantId: number,
  park: () => Promise<unknown>,
): Promise<{ seq: number; pendingId: number }> {
  const intruder = new pg.Client({ connectionString: ownerUrl });
  await intruder.connect();
  let parking: Promise<unknown> | undefined;
  let squatted: { seq: number; pendingId: number };
  try {
    await intruder.query('set role kluis_app');
    await intruder.query('begin');
    await intruder.query(`select set_config('app.tenant', $1, true)`, [String(tenantId)]);
    const head = await intruder.query<{ seq: string; hash: Buffer }>(
      'select seq, hash from audit_heads where tenant_id = $1 for update',
      [tenantId],
    );
    parking = park();
    await untilPending(ownerUrl, tenantId);
    const waiting = await intruder.query<{ pending_id: string; request_id: string | null; nonce: Buffer }>(
      'select pending_id, request_id, nonce from audit_pending where tenant_id = $1 order by pending_id desc limit 1',
      [tenantId],
    );
    const last = head.rows[0];
    const genuine = waiting.rows[0];
    if (!last || !genuine) throw new Error('no head or no waiting entry');
    const entry: ChainedEntry = {
      tenantId,
      seq: Number(last.seq) + 1,
      at: new Date('2026-03-01T09:00:00.000Z'),
      actorKind: 'system',
      actorId: 'nobody',
      role: null,
      purpose: null,
      action: 'forged.squat',
      subjectPseudonyms: [],
      categories: [],
      records: 0,
      decision: 'allowed',
      reason: null,
      requestId: genuine.request_id,
      prevHash: last.hash,
    };
    const row = { ...forgedRowJson(entry), nonce: `\\x${genuine.nonce.toString('hex')}` };
    const linked = await intruder.query<{ linked: number }>('select kluis_audit_link($1::jsonb) as linked', [
      JSON.stringify([row]),
    ]);
    if (linked.rows[0]?.linked !== 1) throw new Error('the forged row was not linked');
    await intruder.query('commit');
    squatted = { seq: entry.seq, pendingId: Number(genuine.pending_id) };
  } finally {
    await intruder.end();
    await parking;
  }
  return squatted;
}

/** A well-formed pending row of a read (its MAC is random: the database does not check it). */
export function pendingRow(tenantId: number, requestId: string): Insertable<AuditPendingTable> {
  return {
    tenant_id: tenantId,
    at: new Date('2026-03-01T09:00:00.000Z'),
    actor_kind: 'staff',
    actor_id: '17',
    role: 'billing',
    purpose: 'billing.invoicing',
    action: 'read',
    subject_pseudonyms: [],
    categories: ['user.contact.email'],
    records: 1,
    decision: 'allowed',
    reason: null,
    request_id: requestId,
    mac: randomBytes(32),
    nonce: randomBytes(16),
  };
}

/** A well-formed chained row after `head` (its hash and MAC are not checked by the database). */
export function chainedRow(tenantId: number, head: AuditHead, requestId: string): Insertable<AuditLogTable> {
  const { mac: _mac, nonce: _nonce, ...content } = pendingRow(tenantId, requestId);
  return { ...content, seq: head.seq + 1, prev_hash: head.hash, hash: randomBytes(32), mac: randomBytes(32) };
}

/** The tenant's chain head, read as the owner. */
export async function chainHeadOf(ownerUrl: string, tenantId: number): Promise<AuditHead> {
  const { rows } = await runAsOwner<AuditHead>(
    ownerUrl,
    'select seq, hash from audit_heads where tenant_id = $1',
    [tenantId],
  );
  if (!rows[0]) throw new Error('no head');
  return rows[0];
}

/** How many entries the tenant has in the chain and among its pending ones, read as the owner. */
export async function chainAndPendingCounts(
  ownerUrl: string,
  tenantId: number,
): Promise<{ log: number; pending: number }> {
  const { rows } = await runAsOwner<{ log: number; pending: number }>(
    ownerUrl,
    `select (select count(*)::int from audit_log where tenant_id = $1) as log,
            (select count(*)::int from audit_pending where tenant_id = $1) as pending`,
    [tenantId],
  );
  return rows[0] ?? { log: -1, pending: -1 };
}
