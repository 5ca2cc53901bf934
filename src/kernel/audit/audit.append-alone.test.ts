import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import {
  createAppDb,
  FinishedTransactionError,
  openTransactionOf,
  runAloneInTenant,
  type Tx,
} from '../../platform/db.js';
import { appendOrParkSql, type AuditHead } from './audit.repository.js';
import { appendAuditNow, verifyAuditChain, withAudit } from './index.js';
import {
  chainHeadOf,
  countPendingEntries,
  createAuditDeps,
  createAuditTenant,
  pendingRow,
  readEvent,
  untilBackendWaitsOnLock,
} from './audit.test-helpers.js';

// Decision 0650: an audit-only transaction (appendAuditNow, a refusal's entry) is one simple query
// on a pooled client, without a Kysely transaction: begin, the tenant, the append, commit. What it
// must keep: all or nothing, the transaction's tenant, and one chain that verifies.

let database: TestDatabase;
let deps: ReturnType<typeof createAuditDeps>;
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createAuditDeps(database);
});
afterAll(async () => database.close());

/**
 * Audit dependencies on a pool of ONE connection whose simple queries are recorded as sent: a
 * client handed back in an open or aborted transaction would fail the next call.
 */
function onePool(): { deps: typeof deps; sent: string[]; pool: pg.Pool; close: () => Promise<void> } {
  const sent: string[] = [];
  const single = createAppDb({
    connectionString: database.ownerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 1,
  });
  single.pool.on('connect', (client) => {
    // Its backend may be terminated by a test: the connection's end is expected there.
    client.on('error', () => undefined);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      if (typeof args[0] === 'string') sent.push(args[0].replace(/\s+/g, ' ').trim());
      return query(...args);
    };
  });
  return { deps: { ...deps, db: single.db }, sent, pool: single.pool, close: () => single.db.destroy() };
}

async function entries(tenantId: number): Promise<{ seq: number; request_id: string }[]> {
  const { rows } = await runAsOwner<{ seq: number; request_id: string }>(
    database.ownerUrl,
    'select seq, request_id from audit_log where tenant_id = $1 order by seq',
    [tenantId],
  );
  return rows;
}

const denied = (requestId: string) =>
  readEvent([1], { decision: 'denied', reason: 'no grant for this purpose', requestId });

describe('an audit-only transaction of its own (appendAuditNow)', () => {
  it('is the begin, the tenant, the entry and the commit in ONE simple query, and keeps one chain with withAudit', async () => {
    const tenantId = await createAuditTenant(database.db, 'alone-one-query');
    const pool = onePool();
    try {
      // The first append of a process does not know the head: pending, then chained before it returns.
      await appendAuditNow(pool.deps, tenantId, [denied('first')]);
      pool.sent.length = 0;
      await appendAuditNow(pool.deps, tenantId, [denied('second')]);
      expect(pool.sent).toHaveLength(1);
      expect(pool.sent[0]).toMatch(
        /^begin; select set_config\('app\.tenant', '\d+', true\); select moved, parked from kluis_audit_append_one\(\d+, \d+, .*\); select pg_current_xact_id_if_assigned\(\) is not null as wrote; commit$/,
      );
      await withAudit(pool.deps, tenantId, ({ audit }) => {
        audit.record(readEvent([1], { requestId: 'third' }));
        return Promise.resolve();
      });
      await appendAuditNow(pool.deps, tenantId, [denied('fourth'), denied('fifth')]);
      expect(await entries(tenantId)).toEqual([
        { seq: 1, request_id: 'first' },
        { seq: 2, request_id: 'second' },
        { seq: 3, request_id: 'third' },
        { seq: 4, request_id: 'fourth' },
        { seq: 5, request_id: 'fifth' },
      ]);
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 5, checkpoints: 0 });
    } finally {
      await pool.close();
    }
  });

  it("writes in the transaction's tenant only: an entry of another tenant is refused, nothing is written for either, and the client goes back rolled back", async () => {
    const tenantId = await createAuditTenant(database.db, 'alone-tenant');
    const otherId = await createAuditTenant(database.db, 'alone-other');
    const pool = onePool();
    try {
      await appendAuditNow(pool.deps, tenantId, [denied('own')]);
      const foreign = appendOrParkSql(otherId, undefined, [pendingRow(otherId, 'foreign')]);
      await expect(runAloneInTenant(pool.deps.db, tenantId, foreign)).rejects.toThrow();
      expect(pool.sent.at(-1)).toBe('rollback');
      expect(await entries(tenantId)).toEqual([{ seq: 1, request_id: 'own' }]);
      expect(await entries(otherId)).toEqual([]);
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
      expect(await countPendingEntries(database.ownerUrl, otherId)).toBe(0);
      // The one connection of the pool is usable: the next append chains on.
      await appendAuditNow(pool.deps, tenantId, [denied('after')]);
      expect(await entries(tenantId)).toEqual([
        { seq: 1, request_id: 'own' },
        { seq: 2, request_id: 'after' },
      ]);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
    } finally {
      await pool.close();
    }
  });

  it('when the append fails on the server, nothing commits, the call throws, and the next append chains on', async () => {
    const tenantId = await createAuditTenant(database.db, 'alone-fails');
    const pool = onePool();
    try {
      await appendAuditNow(pool.deps, tenantId, [denied('one')]);
      const head = await headOf(tenantId);
      await runAsOwner(
        database.ownerUrl,
        `create function refuse_alone_entry() returns trigger language plpgsql as $$
         begin raise exception 'entry refused'; end $$;
         create trigger refuse_alone_entry before insert on audit_log for each row
           when (new.tenant_id = ${String(tenantId)}) execute function refuse_alone_entry()`,
      );
      try {
        await expect(appendAuditNow(pool.deps, tenantId, [denied('two')])).rejects.toThrow('entry refused');
      } finally {
        await runAsOwner(database.ownerUrl, 'drop trigger refuse_alone_entry on audit_log');
      }
      expect(await entries(tenantId)).toEqual([{ seq: 1, request_id: 'one' }]);
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
      expect(await headOf(tenantId)).toEqual(head);
      await appendAuditNow(pool.deps, tenantId, [denied('three')]);
      expect(await entries(tenantId)).toEqual([
        { seq: 1, request_id: 'one' },
        { seq: 2, request_id: 'three' },
      ]);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
    } finally {
      await pool.close();
    }
  });

  it('a crash between its statements (the backend terminated while the append waits inside its insert) leaves no half entry', async () => {
    const tenantId = await createAuditTenant(database.db, 'alone-killed');
    const pool = onePool();
    const blocker = new pg.Client({ connectionString: database.ownerUrl });
    await blocker.connect();
    try {
      await appendAuditNow(pool.deps, tenantId, [denied('one')]);
      const head = await headOf(tenantId);
      const backend = await runAloneInTenant<{ pid: number }>(
        pool.deps.db,
        tenantId,
        'select pg_backend_pid() as pid',
      );
      const pid = backend?.[0]?.pid;
      if (pid === undefined) throw new Error('no backend pid');
      // Another transaction holds the place the append will insert at (uncommitted), so the
      // append takes the head after its begin and tenant, then waits inside its insert.
      await blocker.query('begin');
      await blocker.query(
        `insert into audit_log (tenant_id, seq, at, actor_kind, actor_id, action, decision, prev_hash, hash)
         values ($1, $2, now(), 'system', 'blocker', 'read', 'allowed', $3, $4)`,
        [tenantId, head.seq + 1, head.hash, randomBytes(32)],
      );
      const appending = appendAuditNow(pool.deps, tenantId, [denied('killed')]).then(
        () => 'committed',
        (error: Error) => error.message,
      );
      await untilBackendWaitsOnLock(database.ownerUrl, pid);
      await runAsOwner(database.ownerUrl, 'select pg_terminate_backend($1)', [pid]);
      expect(await appending).toMatch(/terminat/);
      await blocker.query('rollback');
    } finally {
      await blocker.end();
    }
    try {
      expect(await entries(tenantId)).toEqual([{ seq: 1, request_id: 'one' }]);
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
      // The pool dropped the dead client; the next append takes a new one and chains on.
      await appendAuditNow(pool.deps, tenantId, [denied('after')]);
      expect(await entries(tenantId)).toEqual([
        { seq: 1, request_id: 'one' },
        { seq: 2, request_id: 'after' },
      ]);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
    } finally {
      await pool.close();
    }
  });
});

// Decision 0690: withAudit's transaction begins at its work's first statement. A work that sends
// nothing leaves its entries a transaction of their own, sent as above; a work that sends a
// statement is one transaction with its entries, as ever; its `tx` refuses statements once the
// work has returned.
describe('withAudit, its transaction begun at the first statement', () => {
  const staffRow = (tenantId: number, email: string) => ({
    tenant_id: tenantId,
    email,
    display_name: 'X',
    role: 'admin' as const,
    password_hash: 'x',
  });
  const newEmail = () => `first-statement-${randomBytes(4).toString('hex')}@example.test`;

  /** The transaction id that wrote the staff row of `email` and the tenant's entry `requestId`. */
  async function writers(tenantId: number, email: string, requestId: string) {
    const staff = await runAsOwner<{ xmin: string }>(
      database.ownerUrl,
      'select xmin::text from staff_users where email = $1',
      [email],
    );
    const entry = await runAsOwner<{ xmin: string }>(
      database.ownerUrl,
      'select xmin::text from audit_log where tenant_id = $1 and request_id = $2',
      [tenantId, requestId],
    );
    return { staff: staff.rows.map((row) => row.xmin), entry: entry.rows.map((row) => row.xmin) };
  }

  it('a work that sends nothing holds no connection, and its entry is the begin, the tenant, the append and the commit in ONE simple query; one that records nothing sends nothing', async () => {
    const tenantId = await createAuditTenant(database.db, 'lazy-one-query');
    const pool = onePool();
    try {
      await appendAuditNow(pool.deps, tenantId, [denied('first')]);
      pool.sent.length = 0;
      const value = await withAudit(pool.deps, tenantId, ({ audit }) => {
        // The work holds no connection: the pool's one is free.
        expect(pool.pool.idleCount).toBe(1);
        audit.record(readEvent([1], { requestId: 'second' }));
        return Promise.resolve('answered');
      });
      expect(value).toBe('answered');
      expect(pool.sent).toHaveLength(1);
      expect(pool.sent[0]).toMatch(
        /^begin; select set_config\('app\.tenant', '\d+', true\); select moved, parked from kluis_audit_append_one\(\d+, \d+, .*\); select pg_current_xact_id_if_assigned\(\) is not null as wrote; commit$/,
      );
      pool.sent.length = 0;
      await withAudit(pool.deps, tenantId, () => Promise.resolve());
      expect(pool.sent).toEqual([]);
      expect(await entries(tenantId)).toEqual([
        { seq: 1, request_id: 'first' },
        { seq: 2, request_id: 'second' },
      ]);
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
    } finally {
      await pool.close();
    }
  });

  it('a work that writes is one transaction with its entry: both commit, or, when the entry is refused, neither', async () => {
    const tenantId = await createAuditTenant(database.db, 'lazy-writes');
    const pool = onePool();
    try {
      await appendAuditNow(pool.deps, tenantId, [denied('first')]);
      const email = newEmail();
      await withAudit(pool.deps, tenantId, async ({ tx, audit }) => {
        await tx.insertInto('staff_users').values(staffRow(tenantId, email)).execute();
        audit.record(readEvent([1], { action: 'write', requestId: 'wrote' }));
      });
      const both = await writers(tenantId, email, 'wrote');
      expect(both.staff).toHaveLength(1);
      expect(both.entry).toEqual(both.staff);

      const refused = newEmail();
      await runAsOwner(
        database.ownerUrl,
        `create function refuse_lazy_entry() returns trigger language plpgsql as $$
         begin raise exception 'entry refused'; end $$;
         create trigger refuse_lazy_entry before insert on audit_log for each row
           when (new.tenant_id = ${String(tenantId)}) execute function refuse_lazy_entry()`,
      );
      try {
        await expect(
          withAudit(pool.deps, tenantId, async ({ tx, audit }) => {
            await tx.insertInto('staff_users').values(staffRow(tenantId, refused)).execute();
            audit.record(readEvent([1], { action: 'write', requestId: 'refused' }));
          }),
        ).rejects.toThrow('entry refused');
      } finally {
        await runAsOwner(database.ownerUrl, 'drop trigger refuse_lazy_entry on audit_log');
      }
      expect(await writers(tenantId, refused, 'refused')).toEqual({ staff: [], entry: [] });
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
    } finally {
      await pool.close();
    }
  });

  it('a work that throws writes nothing, whether it sent a statement or not', async () => {
    const tenantId = await createAuditTenant(database.db, 'lazy-throws');
    const pool = onePool();
    try {
      await appendAuditNow(pool.deps, tenantId, [denied('first')]);
      pool.sent.length = 0;
      await expect(
        withAudit(pool.deps, tenantId, ({ audit }) => {
          audit.record(readEvent([1], { requestId: 'silent' }));
          return Promise.reject(new Error('the use case failed'));
        }),
      ).rejects.toThrow('the use case failed');
      expect(pool.sent).toEqual([]);
      const email = newEmail();
      await expect(
        withAudit(pool.deps, tenantId, async ({ tx, audit }) => {
          await tx.insertInto('staff_users').values(staffRow(tenantId, email)).execute();
          audit.record(readEvent([1], { action: 'write', requestId: 'wrote' }));
          throw new Error('the use case failed after its write');
        }),
      ).rejects.toThrow('the use case failed after its write');
      expect(pool.sent.at(-1)).toBe('rollback');
      expect(await writers(tenantId, email, 'wrote')).toEqual({ staff: [], entry: [] });
      expect(await entries(tenantId)).toEqual([{ seq: 1, request_id: 'first' }]);
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
      // The pool's one connection went back usable.
      await appendAuditNow(pool.deps, tenantId, [denied('after')]);
      expect(await entries(tenantId)).toHaveLength(2);
    } finally {
      await pool.close();
    }
  });

  it('a statement the work sent and did not await commits with its entry; one sent after the work returned throws and writes nothing', async () => {
    const tenantId = await createAuditTenant(database.db, 'lazy-late');
    const pool = onePool();
    try {
      await appendAuditNow(pool.deps, tenantId, [denied('first')]);
      // Sent before the work returned, not awaited by it: part of its transaction.
      const early = newEmail();
      let unawaited: Promise<unknown> | undefined;
      await withAudit(pool.deps, tenantId, ({ tx, audit }) => {
        unawaited = tx.insertInto('staff_users').values(staffRow(tenantId, early)).execute();
        audit.record(readEvent([1], { action: 'write', requestId: 'early' }));
        return Promise.resolve();
      });
      await unawaited;
      const both = await writers(tenantId, early, 'early');
      expect(both.staff).toHaveLength(1);
      expect(both.entry).toEqual(both.staff);

      // Sent after the work returned, by a work that sent nothing and by one that did.
      for (const wrote of [false, true]) {
        const late = newEmail();
        let sending: Promise<unknown> | undefined;
        let kept: Tx | undefined;
        await withAudit(pool.deps, tenantId, async ({ tx, audit }) => {
          kept = tx;
          if (wrote) await sql`select 1`.execute(tx);
          sending = new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
            tx.insertInto('staff_users').values(staffRow(tenantId, late)).execute(),
          );
          // Refused 20 ms on, perhaps before withAudit has returned (a loaded machine): handled
          // here, so that the refusal is not an unhandled rejection before the expect below.
          sending.catch(() => undefined);
          audit.record(readEvent([1], { requestId: `late-${String(wrote)}` }));
        });
        await expect(sending).rejects.toThrow(FinishedTransactionError);
        if (!kept) throw new Error('no tx');
        await expect(sql`select 1`.execute(kept)).rejects.toThrow();
        expect(await writers(tenantId, late, `late-${String(wrote)}`)).toMatchObject({ staff: [] });
      }
      expect((await entries(tenantId)).map((entry) => entry.request_id)).toEqual([
        'first',
        'early',
        'late-false',
        'late-true',
      ]);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 4, checkpoints: 0 });
    } finally {
      await pool.close();
    }
  });

  it("is the open transaction of decision 0583's store: a read made on the side begins it on the work's one connection", async () => {
    const tenantId = await createAuditTenant(database.db, 'lazy-open');
    const pool = onePool();
    try {
      await appendAuditNow(pool.deps, tenantId, [denied('first')]);
      const found = await withAudit(pool.deps, tenantId, async ({ tx, audit }) => {
        const open = openTransactionOf(pool.deps.db, tenantId);
        expect(open).toBe(tx);
        audit.record(readEvent([1], { requestId: 'read' }));
        // On a pool of one: a read on a connection of its own would wait for ever.
        const { rows } = await sql<{
          tenant: string;
        }>`select current_setting('app.tenant') as tenant`.execute(open ?? tx);
        return rows[0]?.tenant;
      });
      expect(found).toBe(String(tenantId));
      expect(openTransactionOf(pool.deps.db, tenantId)).toBeUndefined();
      expect((await entries(tenantId)).map((entry) => entry.request_id)).toEqual(['first', 'read']);
    } finally {
      await pool.close();
    }
  });
});

const headOf = (tenantId: number): Promise<AuditHead> => chainHeadOf(database.ownerUrl, tenantId);
