import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { withTenant } from '../../platform/db.js';
import { appendOrParkSql, type AuditHead } from './audit.repository.js';
import { verifyAuditChain, withAudit } from './index.js';
import {
  chainAndPendingCounts,
  chainedRow,
  chainHeadOf,
  createAuditDeps,
  createAuditTenant,
  pendingRow,
  readEvent,
  untilBackendWaitsOnLock,
} from './audit.test-helpers.js';

// Decision 0600: a transaction's entries go through kluis_audit_append (migration 0600), a
// function that runs with the caller's rights. What it must keep: one chain that verifies, row
// level security (no entry of another tenant), no power the app role did not have (it never
// rewrites or forks the chain), and all or nothing when its transaction dies half-way.

let database: TestDatabase;
let deps: ReturnType<typeof createAuditDeps>;
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createAuditDeps(database);
});
afterAll(async () => database.close());

const SIGNATURE = 'kluis_audit_append(integer, bigint, bytea, bigint, bytea, jsonb, jsonb)';

/** Runs one append statement in a transaction of `tenantId`, as the app role. */
function appendAs(tenantId: number, statement: string): Promise<Record<string, unknown> | undefined> {
  return withTenant(database.db, tenantId, async (tx) => {
    const { rows } = await sql.raw<Record<string, unknown>>(statement).execute(tx);
    return rows[0];
  });
}

async function appendThree(tenantId: number): Promise<void> {
  for (const requestId of ['one', 'two', 'three']) {
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1], { requestId }));
      return Promise.resolve();
    });
  }
}

describe('kluis_audit_append (decision 0600)', () => {
  it('appends keep one gapless chain that verifies, single entries and a batch alike', async () => {
    const tenantId = await createAuditTenant(database.db, 'fn-chain');
    await appendThree(tenantId);
    await withAudit(deps, tenantId, ({ audit }) => {
      for (let i = 0; i < 5; i += 1) audit.record(readEvent([i + 1], { requestId: `batch-${i}` }));
      return Promise.resolve();
    });
    const { rows } = await runAsOwner<{ seq: number }>(
      database.ownerUrl,
      'select seq from audit_log where tenant_id = $1 order by seq',
      [tenantId],
    );
    expect(rows.map((row) => row.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await counts(tenantId)).pending).toBe(0);
    expect(await headOf(tenantId)).toMatchObject({ seq: 8 });
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 8, checkpoints: 0 });
  });

  it("refuses an entry of another tenant, as the head's tenant or in the rows, and writes nothing", async () => {
    const mine = await createAuditTenant(database.db, 'fn-mine');
    const theirs = await createAuditTenant(database.db, 'fn-theirs');
    await appendThree(mine);
    await appendThree(theirs);
    const before = { mine: await counts(mine), theirs: await counts(theirs), head: await headOf(theirs) };

    // The other tenant named as the function's tenant.
    await expect(
      appendAs(mine, appendOrParkSql(theirs, undefined, [pendingRow(theirs, 'cross')])),
    ).rejects.toThrow(/not the transaction's tenant/);
    // Chained onto the other tenant's real head: refused before its head is even looked at.
    const theirHead = await headOf(theirs);
    await expect(
      appendAs(
        mine,
        appendOrParkSql(
          theirs,
          {
            rows: [chainedRow(theirs, theirHead, 'cross')],
            expected: theirHead,
            next: { seq: theirHead.seq + 1, hash: randomBytes(32) },
          },
          [pendingRow(theirs, 'cross')],
        ),
      ),
    ).rejects.toThrow(/not the transaction's tenant/);
    // Its own tenant named, the rows of the other: refused.
    await expect(
      appendAs(mine, appendOrParkSql(mine, undefined, [pendingRow(theirs, 'cross')])),
    ).rejects.toThrow(/row-level security|not the transaction's tenant/);
    const myHead = await headOf(mine);
    await expect(
      appendAs(
        mine,
        appendOrParkSql(
          mine,
          {
            rows: [chainedRow(theirs, myHead, 'cross')],
            expected: myHead,
            next: { seq: myHead.seq + 1, hash: randomBytes(32) },
          },
          [pendingRow(mine, 'cross')],
        ),
      ),
      // Refused by kluis_audit_link (decision 0685), by row-level security where its owner is
      // subject to it, or by the function's own tenant check where the owner bypasses it.
    ).rejects.toThrow(/row-level security|do not continue the chain head/);

    expect(await counts(mine)).toEqual(before.mine);
    expect(await counts(theirs)).toEqual(before.theirs);
    expect(await headOf(theirs)).toEqual(before.head);
    expect(await headOf(mine)).toEqual(myHead);
    expect((await verifyAuditChain(deps, mine)).ok).toBe(true);
    expect((await verifyAuditChain(deps, theirs)).ok).toBe(true);
  });

  it('never forks or rewrites the chain: a stale head parks the entries, a seq already taken is refused', async () => {
    const tenantId = await createAuditTenant(database.db, 'fn-stale');
    await appendThree(tenantId);
    const head = await headOf(tenantId);
    const stale = { seq: head.seq - 1, hash: randomBytes(32) };
    // Chained onto a head that is no longer the head: written pending for the chainer, the
    // chain and its head untouched.
    const parked = await appendAs(
      tenantId,
      appendOrParkSql(
        tenantId,
        { rows: [chainedRow(tenantId, stale, 'stale')], expected: stale, next: head },
        [pendingRow(tenantId, 'stale')],
      ),
    );
    expect(parked).toEqual({ moved: 0, parked: 1 });
    expect(await counts(tenantId)).toEqual({ log: 3, pending: 1 });
    expect(await headOf(tenantId)).toEqual(head);
    // Onto the true head, but with the place of an entry already written: the primary key refuses
    // it and the head stays (an entry is never overwritten).
    const taken = { ...chainedRow(tenantId, head, 'taken'), seq: 2 };
    await expect(
      appendAs(
        tenantId,
        appendOrParkSql(
          tenantId,
          { rows: [taken], expected: head, next: { seq: head.seq + 1, hash: randomBytes(32) } },
          [pendingRow(tenantId, 'taken')],
        ),
      ),
    ).rejects.toThrow(/duplicate key/);
    expect(await counts(tenantId)).toEqual({ log: 3, pending: 1 });
    expect(await headOf(tenantId)).toEqual(head);
  });

  it("runs with the caller's rights and a fixed search_path, and only the app role may call it", async () => {
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
         from pg_proc p where p.oid = '${SIGNATURE}'::regprocedure`,
    );
    expect(rows).toEqual([
      { definer: false, config: ['search_path=public, pg_temp'], app: true, everyone: false },
    ]);
  });

  it('a transaction that dies inside the append (its backend terminated while it inserts) leaves no half entry', async () => {
    const tenantId = await createAuditTenant(database.db, 'fn-killed');
    await appendThree(tenantId);
    const head = await headOf(tenantId);
    // Another transaction holds the place the append will insert at (uncommitted), so the append
    // takes the head, then waits inside its insert.
    const blocker = new pg.Client({ connectionString: database.ownerUrl });
    await blocker.connect();
    const app = new pg.Client({ connectionString: database.ownerUrl });
    // Its backend is terminated below: the connection's end is expected, not an error of the test.
    app.on('error', () => undefined);
    await app.connect();
    try {
      await blocker.query('begin');
      await blocker.query(
        `insert into audit_log (tenant_id, seq, at, actor_kind, actor_id, action, decision, prev_hash, hash)
         values ($1, $2, now(), 'system', 'blocker', 'read', 'allowed', $3, $4)`,
        [tenantId, head.seq + 1, head.hash, randomBytes(32)],
      );
      await app.query('set role kluis_app');
      const { rows } = await app.query<{ pid: number }>('select pg_backend_pid() as pid');
      const pid = rows[0]?.pid;
      if (pid === undefined) throw new Error('no backend pid');
      const statement = appendOrParkSql(
        tenantId,
        {
          rows: [chainedRow(tenantId, head, 'killed')],
          expected: head,
          next: { seq: head.seq + 1, hash: randomBytes(32) },
        },
        [pendingRow(tenantId, 'killed')],
      );
      const appending = app
        .query(`begin; select set_config('app.tenant', '${String(tenantId)}', true); ${statement}; commit`)
        .then(
          () => 'committed',
          (error: Error) => error.message,
        );
      await untilBackendWaitsOnLock(database.ownerUrl, pid);
      await runAsOwner(database.ownerUrl, 'select pg_terminate_backend($1)', [pid]);
      expect(await appending).toMatch(/terminat/);
      await blocker.query('rollback');
    } finally {
      await blocker.end();
      await app.end().catch(() => undefined);
    }
    expect(await counts(tenantId)).toEqual({ log: 3, pending: 0 });
    expect(await headOf(tenantId)).toEqual(head);
    // The next append finds the head free and unmoved, and the chain goes on.
    await appendThree(tenantId);
    expect(await counts(tenantId)).toEqual({ log: 6, pending: 0 });
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 6, checkpoints: 0 });
  });
});

const headOf = (tenantId: number): Promise<AuditHead> => chainHeadOf(database.ownerUrl, tenantId);
const counts = (tenantId: number): Promise<{ log: number; pending: number }> =>
  chainAndPendingCounts(database.ownerUrl, tenantId);
