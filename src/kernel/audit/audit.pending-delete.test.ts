import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { hashAuditEntry } from './audit.canonical.js';
import type { AuditLogRow } from './audit.repository.js';
import { fromRow } from './audit.service.js';
import { verifyAuditChain, withAudit } from './index.js';
import {
  createAuditDeps,
  createAuditTenant,
  readEvent,
  holdChainHead,
  countAuditRows,
  countPendingEntries,
  untilPending,
} from './audit.test-helpers.js';

// Attack finding S10-3, decision 0645: an entry waiting in audit_pending is the record of work
// that already happened (a read served, a change committed). The app role must not be able to
// make it vanish before the chainer links it; only the chainer's own move may remove it.

let database: TestDatabase;
let deps: ReturnType<typeof createAuditDeps>;
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createAuditDeps(database);
});
afterAll(async () => database.close());

/**
 * Runs `statement` (and `then`, when given) in one transaction of `tenantId` as the app role, as an
 * intruder with its login could; answers the last statement's result.
 */
async function asAppRole(
  tenantId: number | undefined,
  statement: string,
  values: unknown[] = [],
  then?: string,
  thenValues: unknown[] = [],
): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: database.ownerUrl });
  await client.connect();
  try {
    await client.query('set role kluis_app');
    await client.query('begin');
    if (tenantId !== undefined) {
      await client.query(`select set_config('app.tenant', $1, true)`, [String(tenantId)]);
    }
    let result = await client.query(statement, values);
    if (then !== undefined) result = await client.query(then, thenValues);
    await client.query('commit');
    return result;
  } finally {
    await client.end();
  }
}

function runAsAppRoleWithoutTenant(statement: string, values: unknown[]): Promise<pg.QueryResult> {
  return asAppRole(undefined, statement, values);
}

/** The chainer's claim, made by hand: pending entry `pendingId` is chained at `seq` with `hash`. */
function unparkAsAppRole(
  tenantId: number,
  pendingId: number,
  seq: number,
  hash: Buffer,
): Promise<pg.QueryResult> {
  return asAppRole(
    tenantId,
    'select * from kluis_audit_unpark(array[$1::bigint], array[$2::bigint], array[$3::bytea])',
    [pendingId, seq, hash],
  );
}

async function pendingEntry(tenantId: number, requestId: string): Promise<{ pending_id: number }> {
  const { rows } = await runAsOwner<{ pending_id: string }>(
    database.ownerUrl,
    'select pending_id from audit_pending where tenant_id = $1 and request_id = $2',
    [tenantId, requestId],
  );
  if (!rows[0]) throw new Error('no pending entry');
  return { pending_id: Number(rows[0].pending_id) };
}

async function chainedEntry(tenantId: number, seq: number): Promise<{ hash: Buffer }> {
  const { rows } = await runAsOwner<{ hash: Buffer }>(
    database.ownerUrl,
    'select hash from audit_log where tenant_id = $1 and seq = $2',
    [tenantId, seq],
  );
  if (!rows[0]) throw new Error('no chained entry');
  return rows[0];
}

/** An audited call whose entry goes pending (the head is held) and stays there until `attack` ran. */
async function withEntryPending(
  tenantId: number,
  requestId: string,
  attack: () => Promise<void>,
): Promise<void> {
  const release = await holdChainHead(database.ownerUrl, tenantId);
  const appending = withAudit(deps, tenantId, ({ audit }) => {
    audit.record(readEvent([2], { requestId }));
    return Promise.resolve();
  });
  try {
    await untilPending(database.ownerUrl, tenantId, { requestId });
    await attack();
  } finally {
    await release();
  }
  await appending;
}

describe('a pending audit entry cannot be deleted by the app role (attack S10-3, decision 0645)', () => {
  it('S10-3: deleting a pending entry as the app role is refused; the chainer chains it and the chain verifies', async () => {
    const tenantId = await createAuditTenant(database.db, 'pending-delete');
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1]));
      return Promise.resolve();
    });
    let refused: unknown;
    await withEntryPending(tenantId, 'the-read', async () => {
      refused = await asAppRole(tenantId, 'delete from audit_pending where tenant_id = $1', [tenantId]).then(
        () => undefined,
        (error: unknown) => error,
      );
    });
    expect(String(refused)).toMatch(/permission denied/);
    expect(await countAuditRows(database.ownerUrl, 'audit_pending', tenantId, 'the-read')).toBe(0);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'the-read')).toBe(1);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
  });

  it('the chainer still chains every pending entry and empties the table, through the function only', async () => {
    const tenantId = await createAuditTenant(database.db, 'pending-chained');
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1]));
      return Promise.resolve();
    });
    const release = await holdChainHead(database.ownerUrl, tenantId);
    const appends = Array.from({ length: 6 }, (_, index) =>
      withAudit(deps, tenantId, ({ audit }) => {
        audit.record(
          // Odd ones with the fields the twin must match exactly: text with quotes and braces,
          // no role, no subjects, no categories.
          index % 2
            ? readEvent([], {
                requestId: `busy-${index}`,
                reason: 'a "quoted", {braced} reason é',
                role: null,
                categories: [],
              })
            : readEvent([index + 2], { requestId: `busy-${index}` }),
        );
        return Promise.resolve();
      }),
    );
    try {
      await untilPending(database.ownerUrl, tenantId, { count: 6 });
    } finally {
      await release();
    }
    await Promise.all(appends);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 7, checkpoints: 0 });
    const privileges = await runAsOwner<{ can_delete: boolean; can_insert: boolean }>(
      database.ownerUrl,
      `select has_table_privilege('kluis_app', 'audit_pending', 'delete') as can_delete,
              has_table_privilege('kluis_app', 'audit_pending', 'insert') as can_insert`,
    );
    expect(privileges.rows).toEqual([{ can_delete: false, can_insert: true }]);
  });

  it('a forged "already chained" claim is refused and deletes nothing: another entry as twin, a twin chained before, no tenant, one twin for two', async () => {
    const tenantId = await createAuditTenant(database.db, 'pending-forged-claim');
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1], { requestId: 'chained-before' }));
      return Promise.resolve();
    });
    await withEntryPending(tenantId, 'the-read', async () => {
      const pending = await pendingEntry(tenantId, 'the-read');
      const chained = await chainedEntry(tenantId, 1);
      // An entry of the chain whose content differs.
      await expect(unparkAsAppRole(tenantId, pending.pending_id, 1, chained.hash)).rejects.toThrow(
        /have no twin chained by this transaction/,
      );
      // Its content copied into a replayed pending row: the twin exists, but it was chained
      // before, not by this transaction, so it vouches for the earlier entry only.
      const replay = await asAppRole(
        tenantId,
        `insert into audit_pending (tenant_id, at, actor_kind, actor_id, role, purpose, action,
           subject_pseudonyms, categories, records, decision, reason, request_id, mac, nonce)
         select tenant_id, at, actor_kind, actor_id, role, purpose, action, subject_pseudonyms,
           categories, records, decision, reason, request_id, hash, $2
           from audit_log where tenant_id = $1 and seq = 1
         returning pending_id`,
        [tenantId, randomBytes(16)],
      );
      const replayId = Number((replay.rows[0] as { pending_id: string }).pending_id);
      await expect(unparkAsAppRole(tenantId, replayId, 1, chained.hash)).rejects.toThrow(
        /have no twin chained by this transaction/,
      );
      // No tenant in the transaction, or a claim without its own twin.
      await expect(
        runAsAppRoleWithoutTenant(
          `select * from kluis_audit_unpark(array[1]::bigint[], array[1]::bigint[], array[$1::bytea])`,
          [chained.hash],
        ),
      ).rejects.toThrow(/has no tenant/);
      await expect(
        asAppRole(
          tenantId,
          'select * from kluis_audit_unpark(array[$1::bigint, $2::bigint], array[1, 1]::bigint[], array[$3::bytea, $3::bytea])',
          [pending.pending_id, replayId, chained.hash],
        ),
      ).rejects.toThrow(/its own twin/);
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(2);
      // The replay is the intruder's; the owner removes it so the test's chain stays its own.
      await runAsOwner(
        database.ownerUrl,
        'delete from audit_pending where tenant_id = $1 and pending_id = $2',
        [tenantId, replayId],
      );
    });
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'the-read')).toBe(1);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
  });

  it('a twin the intruder writes itself in the same transaction lets the pending row go, but verification names the forged entry', async () => {
    const tenantId = await createAuditTenant(database.db, 'pending-own-twin');
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1]));
      return Promise.resolve();
    });
    // The pending row stands for a genuine entry waiting for the chainer; its content MAC plays no
    // part here (the intruder discharges the row, it is never chained). It is written as the app
    // role may, not behind a held head: the twin now goes through kluis_audit_link (decision
    // 0685), which takes the head lock, and the chainer would take the row once the head is free.
    await asAppRole(
      tenantId,
      `insert into audit_pending (tenant_id, at, actor_kind, actor_id, role, purpose, action,
         subject_pseudonyms, categories, records, decision, reason, request_id, mac, nonce)
       select tenant_id, at, actor_kind, actor_id, role, purpose, action, subject_pseudonyms,
         categories, records, decision, reason, 'the-read', $2, $3
         from audit_log where tenant_id = $1 and seq = 1`,
      [tenantId, randomBytes(32), randomBytes(16)],
    );
    const pending = await pendingEntry(tenantId, 'the-read');
    // The twin as the chainer would write it (the algorithm and the content are no secret), at
    // the next place and linked to the head; only its signature needs the tenant's key.
    const { rows } = await runAsOwner<AuditLogRow & { pending_id: number }>(
      database.ownerUrl,
      `select p.*, h.seq + 1 as seq, h.hash as prev_hash
         from audit_pending p join audit_heads h using (tenant_id)
        where p.tenant_id = $1 and p.pending_id = $2`,
      [tenantId, pending.pending_id],
    );
    const twin = rows[0];
    if (!twin) throw new Error('no pending entry');
    const hash = hashAuditEntry(fromRow({ ...twin, seq: Number(twin.seq) }));
    const bytea = (value: Buffer): string => `\\x${value.toString('hex')}`;
    const twinSql = 'select kluis_audit_link($1::jsonb)';
    const twinValues = [
      JSON.stringify([
        {
          ...twin,
          pending_id: undefined,
          seq: 2,
          at: twin.at.toISOString(),
          prev_hash: bytea(twin.prev_hash),
          hash: bytea(hash),
          mac: bytea(randomBytes(32)),
          nonce: twin.nonce && bytea(twin.nonce),
        },
      ]),
    ];
    // Claimed with another hash than the twin's: refused, and the twin rolls back with it.
    await expect(
      asAppRole(
        tenantId,
        twinSql,
        twinValues,
        `select * from kluis_audit_unpark(array[$1::bigint], array[2]::bigint[], array[$2::bytea])`,
        [pending.pending_id, randomBytes(32)],
      ),
    ).rejects.toThrow(/have no twin chained by this transaction/);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(1);
    const removed = await asAppRole(
      tenantId,
      twinSql,
      twinValues,
      `select * from kluis_audit_unpark(array[$1::bigint], array[2]::bigint[], array[$2::bytea])`,
      [pending.pending_id, hash],
    );
    expect(
      removed.rows.map((row: { kluis_audit_unpark: unknown }) => Number(row.kluis_audit_unpark)),
    ).toEqual([pending.pending_id]);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
    const verification = await verifyAuditChain(deps, tenantId);
    expect(verification).toMatchObject({
      ok: false,
      entries: 1,
      firstBadSeq: 2,
      problem: 'entry_mac_invalid',
    });
  });

  it('runs as its owner with a fixed search_path the app role cannot add to, and only the app role may call it', async () => {
    const { rows } = await runAsOwner<{
      definer: boolean;
      config: string[] | null;
      app: boolean;
      everyone: boolean;
      app_creates: boolean;
    }>(
      database.ownerUrl,
      `select p.prosecdef as definer, p.proconfig as config,
              has_function_privilege('kluis_app', p.oid, 'execute') as app,
              coalesce((select bool_or(a.grantee = 0) from aclexplode(p.proacl) as a), true) as everyone,
              has_schema_privilege('kluis_app', 'public', 'create') as app_creates
         from pg_proc p where p.oid = 'kluis_audit_unpark(bigint[], bigint[], bytea[])'::regprocedure`,
    );
    expect(rows).toEqual([
      // An operator or function the app role put into public could be picked by the definer's
      // statements; it may not create there.
      {
        definer: true,
        config: ['search_path=public, pg_temp'],
        app: true,
        everyone: false,
        app_creates: false,
      },
    ]);
  });
});
