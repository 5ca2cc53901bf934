import { randomBytes } from 'node:crypto';
import type { Insertable } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { appendOrParkSql, type AuditHead } from './audit.repository.js';
import type { AuditLogTable, AuditPendingTable } from './audit.tables.js';
import { appendAuditNow, verifyAuditChain, withAudit } from './index.js';
import {
  chainAndPendingCounts,
  chainedRow,
  chainHeadOf,
  createAuditDeps,
  createAuditTenant,
  pendingRow,
  readEvent,
  runAsAppRole,
} from './audit.test-helpers.js';

// Decision 0820: one entry (the usual append) goes through kluis_audit_append_one, one SECURITY
// DEFINER function in place of kluis_audit_append calling kluis_audit_link_onto. It must check
// what they checked (the transaction's tenant, the next seq, the previous hash, a MAC), never wait
// for a head another transaction holds, and leave nothing when its transaction rolls back.

let database: TestDatabase;
let deps: ReturnType<typeof createAuditDeps>;
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createAuditDeps(database);
});
afterAll(async () => database.close());

/** The one-entry statement Kluis sends: `row` chained onto `expected`, else parked as `pending`. */
function appendOne(
  tenantId: number,
  expected: AuditHead,
  row: Insertable<AuditLogTable>,
  pending: Insertable<AuditPendingTable> = pendingRow(tenantId, String(row.request_id)),
): string {
  const statement = appendOrParkSql(
    tenantId,
    { rows: [row], expected, next: { seq: row.seq, hash: row.hash } },
    [pending],
  );
  expect(statement).toMatch(/^select moved, parked from kluis_audit_append_one\(/);
  return statement;
}

async function appendAs(tenantId: number, statement: string): Promise<unknown> {
  const result = await runAsAppRole(database.ownerUrl, tenantId, [statement]);
  return result.rows[0];
}

async function appendReads(tenantId: number, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1], { requestId: `read-${String(i)}` }));
      return Promise.resolve();
    });
  }
}

/** A connection as the app role inside an open transaction of `tenantId`. */
async function openAppTransaction(tenantId: number): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.ownerUrl });
  await client.connect();
  await client.query('set role kluis_app');
  await client.query('begin');
  await client.query(`select set_config('app.tenant', $1, true)`, [String(tenantId)]);
  return client;
}

describe('kluis_audit_append_one (decision 0820)', () => {
  it('refuses a wrong tenant, a wrong seq, a wrong previous hash, a missing MAC and a taken seq, and writes nothing', async () => {
    const mine = await createAuditTenant(database.db, 'one-mine');
    const theirs = await createAuditTenant(database.db, 'one-theirs');
    await appendReads(mine, 3);
    await appendReads(theirs, 1);
    const head = await headOf(mine);
    const before = {
      mine: await counts(mine),
      theirs: await counts(theirs),
      theirHead: await headOf(theirs),
    };

    // The other tenant named as the function's tenant (onto its real head), or no tenant at all.
    const theirHead = await headOf(theirs);
    await expect(
      appendAs(mine, appendOne(theirs, theirHead, chainedRow(theirs, theirHead, 'cross'))),
    ).rejects.toThrow(/not the transaction's tenant/);
    const noTenant = new pg.Client({ connectionString: database.ownerUrl });
    await noTenant.connect();
    try {
      await noTenant.query('set role kluis_app');
      await expect(noTenant.query(appendOne(mine, head, chainedRow(mine, head, 'none')))).rejects.toThrow(
        /not the transaction's tenant/,
      );
    } finally {
      await noTenant.end();
    }
    // Its own tenant named, with an entry that does not continue its head.
    const wrong: Array<Insertable<AuditLogTable>> = [
      chainedRow(theirs, head, 'their-row'),
      { ...chainedRow(mine, head, 'gap'), seq: head.seq + 2 },
      { ...chainedRow(mine, head, 'fork'), prev_hash: randomBytes(32) },
      { ...chainedRow(mine, head, 'unsigned'), mac: null },
    ];
    for (const row of wrong) {
      await expect(appendAs(mine, appendOne(mine, head, row))).rejects.toThrow(
        /do not continue the chain head|row-level security/,
      );
    }
    // A seq already written: the primary key refuses it (decision 0680 names it).
    await expect(
      appendAs(mine, appendOne(mine, head, { ...chainedRow(mine, head, 'taken'), seq: 2 })),
    ).rejects.toThrow(/duplicate key/);
    // Parked (the head named is not the head) with a pending form of the other tenant.
    const stale = { seq: head.seq - 1, hash: randomBytes(32) };
    await expect(
      appendAs(
        mine,
        appendOne(mine, stale, chainedRow(mine, stale, 'x'), pendingRow(theirs, 'cross-pending')),
      ),
    ).rejects.toThrow(/not the transaction's tenant|row-level security/);

    expect(await counts(mine)).toEqual(before.mine);
    expect(await counts(theirs)).toEqual(before.theirs);
    expect(await headOf(mine)).toEqual(head);
    expect(await headOf(theirs)).toEqual(before.theirHead);
    expect(await verifyAuditChain(deps, mine)).toEqual({ ok: true, entries: 3, checkpoints: 0 });
    expect(await verifyAuditChain(deps, theirs)).toEqual({ ok: true, entries: 1, checkpoints: 0 });
  });

  it('links a proper entry and moves the head; a head not as expected parks it, the chain untouched', async () => {
    const tenantId = await createAuditTenant(database.db, 'one-link');
    await appendReads(tenantId, 2);
    const head = await headOf(tenantId);
    const row = chainedRow(tenantId, head, 'linked');
    expect(await appendAs(tenantId, appendOne(tenantId, head, row))).toEqual({ moved: 1, parked: 0 });
    expect(await headOf(tenantId)).toEqual({ seq: head.seq + 1, hash: row.hash });
    // Onto the head it replaced: parked for the chainer, nothing chained.
    expect(await appendAs(tenantId, appendOne(tenantId, head, chainedRow(tenantId, head, 'stale')))).toEqual({
      moved: 0,
      parked: 1,
    });
    expect(await counts(tenantId)).toEqual({ log: 3, pending: 1 });
    expect(await headOf(tenantId)).toEqual({ seq: head.seq + 1, hash: row.hash });
  });

  it('two connections appending onto one head at once: one chains, the other parks without waiting', async () => {
    const tenantId = await createAuditTenant(database.db, 'one-concurrent');
    await appendReads(tenantId, 1);
    const head = await headOf(tenantId);
    const first = await openAppTransaction(tenantId);
    const second = await openAppTransaction(tenantId);
    try {
      const firstRow = chainedRow(tenantId, head, 'first');
      const chained = await first.query(appendOne(tenantId, head, firstRow));
      expect(chained.rows[0]).toEqual({ moved: 1, parked: 0 });
      // The first transaction still holds the head: the second answers at once (a wait here would
      // never end, as the first commits only after it).
      const parked = await second.query(appendOne(tenantId, head, chainedRow(tenantId, head, 'second')));
      expect(parked.rows[0]).toEqual({ moved: 0, parked: 1 });
      await second.query('commit');
      await first.query('commit');
      expect(await headOf(tenantId)).toEqual({ seq: head.seq + 1, hash: firstRow.hash });
      expect(await counts(tenantId)).toEqual({ log: 2, pending: 1 });
    } finally {
      await first.end();
      await second.end();
    }

    // Kluis's own appends from the pool's connections at once: every entry ends up in one chain.
    const other = await createAuditTenant(database.db, 'one-concurrent-pool');
    await appendReads(other, 1);
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        appendAuditNow(deps, other, [readEvent([i + 1], { requestId: `at-once-${String(i)}` })]),
      ),
    );
    expect(await counts(other)).toEqual({ log: 7, pending: 0 });
    expect(await verifyAuditChain(deps, other)).toEqual({ ok: true, entries: 7, checkpoints: 0 });
  });

  it('a rollback takes the entry and the move of the head back, and the next append links onto the same head', async () => {
    const tenantId = await createAuditTenant(database.db, 'one-rollback');
    await appendReads(tenantId, 2);
    const head = await headOf(tenantId);
    const client = await openAppTransaction(tenantId);
    try {
      const answer = await client.query(appendOne(tenantId, head, chainedRow(tenantId, head, 'undone')));
      expect(answer.rows[0]).toEqual({ moved: 1, parked: 0 });
      await client.query('rollback');
    } finally {
      await client.end();
    }
    expect(await counts(tenantId)).toEqual({ log: 2, pending: 0 });
    expect(await headOf(tenantId)).toEqual(head);
    await appendReads(tenantId, 1);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 3, checkpoints: 0 });
  });

  it('runs as its owner with a fixed search_path, and only the app role may call it', async () => {
    const { rows } = await runAsOwner<{
      definer: boolean;
      config: string[] | null;
      app: boolean;
      everyone: boolean;
    }>(
      database.ownerUrl,
      `select p.prosecdef as definer, p.proconfig as config,
              has_function_privilege('kluis_app', p.oid, 'execute') as app,
              coalesce((select bool_or(a.grantee = 0) from aclexplode(p.proacl) as a), true) as everyone
         from pg_proc p
        where p.oid = 'kluis_audit_append_one(integer, bigint, bytea, jsonb, text)'::regprocedure`,
    );
    expect(rows).toEqual([
      { definer: true, config: ['search_path=public, pg_temp'], app: true, everyone: false },
    ]);
  });
});

const headOf = (tenantId: number): Promise<AuditHead> => chainHeadOf(database.ownerUrl, tenantId);
const counts = (tenantId: number): Promise<{ log: number; pending: number }> =>
  chainAndPendingCounts(database.ownerUrl, tenantId);
