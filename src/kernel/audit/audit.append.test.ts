import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createAppDb, withTenant, type Db } from '../../platform/db.js';
import { tryLockHeadWithPending } from './audit.repository.js';
import { verifyAuditChain, withAudit } from './index.js';
import {
  createAuditDeps,
  createAuditTenant,
  readEvent,
  holdChainHead,
  countPendingEntries,
} from './audit.test-helpers.js';

// How appends take the chain head (docs/decisions/0250): one statement, sent with the commit
// (decision 0481), chains the entries when this process's last head still holds; when another
// transaction holds the head, or it moved, the same statement writes them to audit_pending
// without waiting and the chainer links them before the call returns (docs/decisions/0340).

let database: TestDatabase;
let deps: ReturnType<typeof createAuditDeps>;
let otherDb: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createAuditDeps(database);
  // A second pool on the same database: another process, with its own idea of the head.
  otherDb = createAppDb({
    connectionString: database.ownerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 2,
  }).db;
});
afterAll(async () => {
  await otherDb.destroy();
  await database.close();
});

describe('appending onto the chain head', () => {
  it('two pools appending in turn (each guessing the head the other moved) keep one unbroken chain', async () => {
    const tenantId = await createAuditTenant(database.db, 'two-pools');
    const other = { ...deps, db: otherDb };
    for (let round = 0; round < 4; round += 1) {
      for (const side of [deps, other]) {
        await withAudit(side, tenantId, ({ audit }) => {
          audit.record(readEvent([round + 1]));
          audit.record(readEvent([round + 1], { action: 'write' }));
          return Promise.resolve();
        });
      }
    }
    // Concurrent appends of both pools on top.
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        withAudit(index % 2 === 0 ? deps : other, tenantId, ({ audit }) => {
          audit.record(readEvent([index + 1]));
          return Promise.resolve();
        }),
      ),
    );
    const seqs = await runAsOwner<{ seq: number }>(
      database.ownerUrl,
      'select seq from audit_log where tenant_id = $1 order by seq',
      [tenantId],
    );
    expect(seqs.rows.map((row) => row.seq)).toEqual(Array.from({ length: 26 }, (_, index) => index + 1));
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 26, checkpoints: 0 });
  });
});

describe('appending while another transaction holds the head', () => {
  it('does not wait for it: the entry commits to audit_pending, and is in the chain when the call returns', async () => {
    const tenantId = await createAuditTenant(database.db, 'busy-head');
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1]));
      return Promise.resolve();
    });
    const release = await holdChainHead(database.ownerUrl, tenantId);
    let settled = false;
    const appending = withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([2], { requestId: 'while-held' }));
      audit.record(readEvent([3], { requestId: 'while-held' }));
      return Promise.resolve();
    }).finally(() => {
      settled = true;
    });
    try {
      for (let tries = 0; (await countPendingEntries(database.ownerUrl, tenantId)) < 2; tries += 1) {
        if (tries > 400) throw new Error('the entries never reached audit_pending');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // Committed while the head is still held; the call waits for the chainer.
      expect(settled).toBe(false);
    } finally {
      await release();
    }
    await appending;
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
    const rows = await runAsOwner<{ seq: number; request_id: string }>(
      database.ownerUrl,
      'select seq, request_id from audit_log where tenant_id = $1 order by seq',
      [tenantId],
    );
    expect(rows.rows).toEqual([
      { seq: 1, request_id: 'req-1' },
      { seq: 2, request_id: 'while-held' },
      { seq: 3, request_id: 'while-held' },
    ]);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 3, checkpoints: 0 });
  });

  it('a pending entry not signed by Kluis is never chained, and verification names it', async () => {
    const tenantId = await createAuditTenant(database.db, 'forged-pending');
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1]));
      return Promise.resolve();
    });
    await runAsOwner(
      database.ownerUrl,
      `insert into audit_pending (tenant_id, at, actor_kind, actor_id, action, decision, request_id, mac, nonce)
       values ($1, now(), 'staff', '17', 'read', 'allowed', 'forged', $2, $3)`,
      [tenantId, randomBytes(32), randomBytes(16)],
    );
    // A genuine entry that went pending after the forged one is still chained.
    const release = await holdChainHead(database.ownerUrl, tenantId);
    const appending = withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([2], { requestId: 'genuine' }));
      return Promise.resolve();
    });
    for (let tries = 0; (await countPendingEntries(database.ownerUrl, tenantId)) < 2; tries += 1) {
      if (tries > 400) throw new Error('the entry never reached audit_pending');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await release();
    await appending;

    const verification = await verifyAuditChain(deps, tenantId);
    expect(verification).toMatchObject({
      ok: false,
      entries: 2,
      firstBadSeq: 3,
      problem: 'entry_mac_invalid',
    });
    const chained = await runAsOwner<{ request_id: string }>(
      database.ownerUrl,
      'select request_id from audit_log where tenant_id = $1 order by seq',
      [tenantId],
    );
    expect(chained.rows.map((row) => row.request_id)).toEqual(['req-1', 'genuine']);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(1);
  });
});

describe('the append goes to the server with the commit (decision 0481)', () => {
  /** A pool whose statements are recorded as sent (node-postgres's query, one entry per message). */
  function recordingDeps(): { deps: typeof deps; sent: string[]; close: () => Promise<void> } {
    const sent: string[] = [];
    const recording = createAppDb({
      connectionString: database.ownerUrl,
      assumeAppRole: true,
      logger: testLogger,
      max: 2,
    });
    recording.pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const text =
          typeof args[0] === 'string' ? args[0] : (args[0] as { sentText?: string } | undefined)?.sentText;
        if (text !== undefined) sent.push(text.replace(/\s+/g, ' ').trim());
        return query(...args);
      };
    });
    return { deps: { ...deps, db: recording.db }, sent, close: () => recording.db.destroy() };
  }

  it('a transaction that wrote sends its work behind the begin and its entry with the commit: two round trips, the entry chained', async () => {
    const tenantId = await createAuditTenant(database.db, 'with-commit');
    const recording = recordingDeps();
    try {
      const write = (requestId: string) =>
        withAudit(recording.deps, tenantId, async ({ tx, audit }) => {
          await sql`select pg_current_xact_id(), ${requestId}::text as request`.execute(tx);
          audit.record(readEvent([1], { action: 'write', requestId }));
        });
      // The first append of a process does not know the head: pending, then chained before it returns.
      await write('first');
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
      recording.sent.length = 0;
      await write('second');
      // The work (a statement with a parameter) goes behind the begin (decision 0570).
      expect(recording.sent).toHaveLength(2);
      expect(recording.sent[0]).toMatch(
        /^begin; select set_config\('app\.tenant', '\d+', true\); select pg_current_xact_id\(\), \$1::text as request$/,
      );
      expect(recording.sent[1]).toMatch(
        /^select moved, parked from kluis_audit_append_one\(\d+, \d+, .*\); commit$/,
      );
      const rows = await runAsOwner<{ seq: number; request_id: string }>(
        database.ownerUrl,
        'select seq, request_id from audit_log where tenant_id = $1 order by seq',
        [tenantId],
      );
      expect(rows.rows).toEqual([
        { seq: 1, request_id: 'first' },
        { seq: 2, request_id: 'second' },
      ]);
      expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
    } finally {
      await recording.close();
    }
  });

  it('when the statement sent with the commit fails, nothing commits: the work rolls back with it and the pool goes on', async () => {
    const tenantId = await createAuditTenant(database.db, 'commit-fails');
    const recording = recordingDeps();
    const staffRows = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from staff_users where tenant_id = $1',
          [tenantId],
        )
      ).rows[0]?.n ?? 0;
    const write = (email: string) =>
      withAudit(recording.deps, tenantId, async ({ tx, audit }) => {
        await tx
          .insertInto('staff_users')
          .values({ tenant_id: tenantId, email, display_name: email, role: 'admin', password_hash: 'x' })
          .execute();
        audit.record(readEvent([1], { action: 'write' }));
      });
    try {
      await write('one@example.test'); // the process now knows the head
      // The server refuses this tenant's next chained entry, as any failing statement would.
      await runAsOwner(
        database.ownerUrl,
        `create function refuse_entry() returns trigger language plpgsql as $$
         begin raise exception 'entry refused'; end $$;
         create trigger refuse_entry before insert on audit_log for each row
           when (new.tenant_id = ${String(tenantId)}) execute function refuse_entry()`,
      );
      await expect(write('two@example.test')).rejects.toThrow('entry refused');
      expect(await staffRows()).toBe(1);
      await runAsOwner(database.ownerUrl, 'drop trigger refuse_entry on audit_log');
      await write('three@example.test');
      expect(await staffRows()).toBe(2);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
    } finally {
      await recording.close();
    }
  });

  it('an audit-only transaction is the begin, the entry and the commit in ONE round trip, like a bare INSERT', async () => {
    const tenantId = await createAuditTenant(database.db, 'audit-only');
    const recording = recordingDeps();
    try {
      const record = () =>
        withAudit(recording.deps, tenantId, ({ audit }) => {
          audit.record(readEvent([1]));
          return Promise.resolve();
        });
      await record();
      recording.sent.length = 0;
      await record();
      expect(recording.sent).toHaveLength(1);
      expect(recording.sent[0]).toMatch(
        /^begin; select set_config\('app\.tenant', '\d+', true\); select moved, parked from kluis_audit_append_one\(\d+, \d+, .*\); select pg_current_xact_id_if_assigned\(\) is not null as wrote; commit$/,
      );
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
    } finally {
      await recording.close();
    }
  });
  it('a batch of more than 20 entries appends with a statement of its own, then a plain commit', async () => {
    const tenantId = await createAuditTenant(database.db, 'large-batch');
    const recording = recordingDeps();
    try {
      const record = (count: number) =>
        withAudit(recording.deps, tenantId, ({ audit }) => {
          for (let i = 0; i < count; i += 1) audit.record(readEvent([i + 1]));
          return Promise.resolve();
        });
      await record(1);
      recording.sent.length = 0;
      await record(25);
      expect(
        recording.sent.map((text) => text.replace(/^begin; select set_config\(.*?\); /, '').slice(0, 18)),
      ).toEqual(['with head as ( sel', 'select pg_current_']);
      expect(recording.sent[0]).toMatch(/^begin; select set_config/);
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 26, checkpoints: 0 });
    } finally {
      await recording.close();
    }
  });
});

describe("the chainer's first statement (decision 0370)", () => {
  it('locks a free head and reads the pending entries in one statement; a held head is answered at once, without waiting', async () => {
    const tenantId = await createAuditTenant(database.db, 'chainer-first');
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1]));
      return Promise.resolve();
    });
    // Rows as the chainer finds them (their signatures are the chainer's next concern, not this one's).
    for (const requestId of ['p-1', 'p-2', 'p-3']) {
      await runAsOwner(
        database.ownerUrl,
        `insert into audit_pending (tenant_id, at, actor_kind, actor_id, action, decision, request_id, mac, nonce)
         values ($1, now(), 'staff', '17', 'read', 'allowed', $2, $3, $4)`,
        [tenantId, requestId, randomBytes(32), randomBytes(16)],
      );
    }
    const head = await runAsOwner<{ seq: number; hash: Buffer }>(
      database.ownerUrl,
      'select seq, hash from audit_heads where tenant_id = $1',
      [tenantId],
    );
    const first = await withTenant(database.db, tenantId, (tx) => tryLockHeadWithPending(tx, tenantId, 0, 2));
    expect(first?.head).toEqual({ seq: head.rows[0]?.seq, hash: head.rows[0]?.hash });
    expect(first?.rows.map((row) => row.request_id)).toEqual(['p-1', 'p-2']);
    expect(first?.rows[0]).toMatchObject({ tenant_id: tenantId, actor_kind: 'staff', categories: [] });
    expect(Buffer.isBuffer(first?.rows[0]?.mac)).toBe(true);
    const after = await withTenant(database.db, tenantId, (tx) =>
      tryLockHeadWithPending(tx, tenantId, first?.rows[1]?.pending_id ?? 0, 2),
    );
    expect(after?.rows.map((row) => row.request_id)).toEqual(['p-3']);

    const release = await holdChainHead(database.ownerUrl, tenantId);
    try {
      // Held by another transaction: nothing is read, and the chainer falls back to waiting.
      const held = await withTenant(database.db, tenantId, (tx) =>
        tryLockHeadWithPending(tx, tenantId, 0, 10),
      );
      expect(held).toBeUndefined();
    } finally {
      await release();
    }
  });
});
