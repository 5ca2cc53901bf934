import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { withTenant } from '../../platform/db.js';
import {
  AuditChainError,
  appendAuditNow,
  listAuditEntries,
  verifyAuditChain,
  withAudit,
  writeCheckpoint,
  type AuditDeps,
  type AuditTrail,
} from './index.js';
import {
  createAuditDeps,
  createAuditTenant,
  insertForgedEntry,
  readEvent,
  rewriteTail,
  tamper,
} from './audit.test-helpers.js';

let database: TestDatabase;
let deps: ReturnType<typeof createAuditDeps>;
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createAuditDeps(database);
});
afterAll(async () => database.close());

async function countEntries(tenantId: number): Promise<number> {
  const result = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    'select count(*)::int as n from audit_log where tenant_id = $1',
    [tenantId],
  );
  return result.rows[0]?.n ?? -1;
}

/** Ten entries in three transactions, as a gate would write them. */
async function appendTen(tenantId: number): Promise<void> {
  for (const size of [3, 3, 4]) {
    await withAudit(deps, tenantId, ({ audit }) => {
      for (let i = 0; i < size; i += 1) {
        audit.record(readEvent([1000 + i]));
        deps.clock.advance(1);
      }
      return Promise.resolve();
    });
  }
}

describe('appending', () => {
  // Part of VK-7, tested here below the HTTP/CLI edge (requirement IDs title end-to-end tests only).
  it('every access is audited: one transaction appends its events as a valid chain', async () => {
    const tenantId = await createAuditTenant(database.db, 'append');
    const pending = await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1, 2]));
      audit.record(readEvent([3], { action: 'write', records: 1 }));
      audit.record(readEvent([], { action: 'login', decision: 'denied', reason: 'mfa_failed' }));
      return Promise.resolve(audit.pending);
    });
    expect(pending).toBe(3);
    const rows = await runAsOwner<{ seq: number; action: string; prev_hash: Buffer; hash: Buffer }>(
      database.ownerUrl,
      'select seq, action, prev_hash, hash from audit_log where tenant_id = $1 order by seq',
      [tenantId],
    );
    expect(rows.rows.map((row) => [row.seq, row.action])).toEqual([
      [1, 'read'],
      [2, 'write'],
      [3, 'login'],
    ]);
    expect(rows.rows[0]?.prev_hash.equals(Buffer.alloc(32))).toBe(true);
    expect(rows.rows[1]?.prev_hash.equals(rows.rows[0]!.hash)).toBe(true);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 3, checkpoints: 0 });
  });

  it('20 concurrent transactions of one tenant append one unbroken chain', async () => {
    const tenantId = await createAuditTenant(database.db, 'concurrent');
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        withAudit(deps, tenantId, async ({ audit, tx }) => {
          audit.record(readEvent([index + 1]));
          // Some work between the events, so the transactions really overlap.
          await sql`select pg_sleep(0.005)`.execute(tx);
          audit.record(readEvent([index + 1], { action: 'write' }));
        }),
      ),
    );
    const seqs = await runAsOwner<{ seq: number }>(
      database.ownerUrl,
      'select seq from audit_log where tenant_id = $1 order by seq',
      [tenantId],
    );
    expect(seqs.rows.map((row) => row.seq)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 40, checkpoints: 0 });
  });

  it('two tenants have independent chains, each starting at seq 1', async () => {
    const a = await createAuditTenant(database.db, 'chain-a');
    const b = await createAuditTenant(database.db, 'chain-b');
    await Promise.all([appendTen(a), appendTen(b)]);
    for (const tenantId of [a, b]) {
      expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 10, checkpoints: 0 });
    }
    // Tenant A's transaction sees only A's entries (row-level security).
    const seen = await withTenant(database.db, a, (tx) =>
      tx.selectFrom('audit_log').select(['tenant_id']).distinct().execute(),
    );
    expect(seen).toEqual([{ tenant_id: a }]);
  });

  it('a rolled-back transaction leaves no audit entries and none of its data change', async () => {
    const tenantId = await createAuditTenant(database.db, 'rollback');
    const email = `rollback-${randomBytes(4).toString('hex')}@example.test`;
    await expect(
      withAudit(deps, tenantId, async ({ tx, audit }) => {
        await tx
          .insertInto('staff_users')
          .values({ tenant_id: tenantId, email, display_name: 'X', role: 'admin', password_hash: 'x' })
          .execute();
        audit.record(readEvent([5], { action: 'write' }));
        throw new Error('the use case failed');
      }),
    ).rejects.toThrow('the use case failed');
    expect(await countEntries(tenantId)).toBe(0);
    const staff = await runAsOwner(database.ownerUrl, 'select 1 from staff_users where email = $1', [email]);
    expect(staff.rowCount).toBe(0);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 0, checkpoints: 0 });
  });

  it('a denial appended with appendAuditNow survives the failure of the transaction around it', async () => {
    const tenantId = await createAuditTenant(database.db, 'denial');
    await expect(
      withAudit(deps, tenantId, async ({ audit }) => {
        audit.record(readEvent([7]));
        await appendAuditNow(deps, tenantId, [
          readEvent([8], {
            decision: 'denied',
            reason: 'purpose_not_allowed',
            purpose: 'marketing.advertising',
          }),
        ]);
        throw new Error('denied');
      }),
    ).rejects.toThrow('denied');
    const rows = await runAsOwner<{ decision: string; reason: string }>(
      database.ownerUrl,
      'select decision, reason from audit_log where tenant_id = $1',
      [tenantId],
    );
    expect(rows.rows).toEqual([{ decision: 'denied', reason: 'purpose_not_allowed' }]);
  });

  it('a trail refuses events once its transaction has ended', async () => {
    const tenantId = await createAuditTenant(database.db, 'closed');
    let leaked: AuditTrail | undefined;
    await withAudit(deps, tenantId, ({ audit }) => {
      leaked = audit;
      audit.record(readEvent([1]));
      return Promise.resolve();
    });
    expect(() => leaked?.record(readEvent([2]))).toThrow(/finished transaction/);
  });

  it('an event carrying personal data is refused and nothing is written', async () => {
    const tenantId = await createAuditTenant(database.db, 'refused');
    await expect(
      withAudit(deps, tenantId, ({ audit }) => {
        audit.record(readEvent([1], { reason: 'asked by jan.peeters@example.be' }));
        return Promise.resolve();
      }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await countEntries(tenantId)).toBe(0);
  });
});

describe('pseudonyms', () => {
  it('subject ids never appear in the audit log; the same subject always gets the same pseudonym', async () => {
    const tenantId = await createAuditTenant(database.db, 'pseudonym');
    const subjectId = 987_654_321;
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([subjectId, 55]));
      audit.record({
        ...readEvent([subjectId]),
        actor: { kind: 'subject', id: String(subjectId) },
        action: 'export',
      });
      return Promise.resolve();
    });
    await appendAuditNow(deps, tenantId, [readEvent([subjectId])]);
    const dump = await runAsOwner<{ line: string }>(
      database.ownerUrl,
      'select row_to_json(a)::text as line from audit_log a where tenant_id = $1',
      [tenantId],
    );
    expect(dump.rows).toHaveLength(3);
    for (const row of dump.rows) expect(row.line).not.toContain(String(subjectId));

    const pseudonym = await deps.keys.pseudonym(tenantId, subjectId);
    const rows = await runAsOwner<{ subject_pseudonyms: string[]; actor_id: string }>(
      database.ownerUrl,
      'select subject_pseudonyms, actor_id from audit_log where tenant_id = $1 order by seq',
      [tenantId],
    );
    expect(rows.rows.every((row) => row.subject_pseudonyms.includes(pseudonym))).toBe(true);
    expect(rows.rows[1]?.actor_id).toBe(pseudonym);
    // Another tenant's pseudonym of the same id differs: no linking across controllers.
    expect(await deps.keys.pseudonym(tenantId + 1, subjectId)).not.toBe(pseudonym);

    const listed = await listAuditEntries(deps, tenantId, { subjectId, limit: 10 });
    expect(listed.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    const others = await listAuditEntries(deps, tenantId, { subjectId: 55, limit: 10 });
    expect(others.map((entry) => entry.seq)).toEqual([1]);
    const paged = await listAuditEntries(deps, tenantId, { subjectId, limit: 1, afterSeq: 1 });
    expect(paged.map((entry) => entry.seq)).toEqual([2]);
  });
});

describe('append-only, enforced by the database', () => {
  it('the application role cannot UPDATE, DELETE or TRUNCATE audit_log', async () => {
    const tenantId = await createAuditTenant(database.db, 'readonly');
    await appendTen(tenantId);
    for (const statement of [
      sql`update audit_log set records = 0`,
      sql`delete from audit_log`,
      sql`truncate audit_log`,
      sql`delete from audit_checkpoints`,
      sql`delete from audit_heads`,
    ]) {
      await expect(withTenant(database.db, tenantId, (tx) => statement.execute(tx))).rejects.toThrow(
        /permission denied/,
      );
    }
    expect(await countEntries(tenantId)).toBe(10);
  });

  it('even the owner cannot change or delete entries while the triggers are on', async () => {
    const tenantId = await createAuditTenant(database.db, 'owner');
    await appendTen(tenantId);
    await expect(
      runAsOwner(database.ownerUrl, 'update audit_log set records = 0 where tenant_id = $1', [tenantId]),
    ).rejects.toThrow(/append-only/);
    await expect(
      runAsOwner(database.ownerUrl, 'delete from audit_log where tenant_id = $1', [tenantId]),
    ).rejects.toThrow(/append-only/);
    await expect(runAsOwner(database.ownerUrl, 'truncate audit_log')).rejects.toThrow(/append-only/);
    expect(await countEntries(tenantId)).toBe(10);
  });
});

describe('tamper detection (verifyAuditChain)', () => {
  it('a changed entry is reported as a hash mismatch at its seq', async () => {
    const tenantId = await createAuditTenant(database.db, 'changed');
    await appendTen(tenantId);
    await tamper(database.ownerUrl, (client) =>
      client.query('update audit_log set records = 0 where tenant_id = $1 and seq = 6', [tenantId]),
    );
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      firstBadSeq: 6,
      problem: 'hash_mismatch',
      entries: 5,
    });
  });

  it('a deleted entry is reported as a gap at its seq', async () => {
    const tenantId = await createAuditTenant(database.db, 'deleted');
    await appendTen(tenantId);
    await tamper(database.ownerUrl, (client) =>
      client.query('delete from audit_log where tenant_id = $1 and seq = 4', [tenantId]),
    );
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      problem: 'gap',
    });
  });

  it('a deleted entry with the later ones renumbered is reported as a broken link', async () => {
    const tenantId = await createAuditTenant(database.db, 'renumbered');
    await appendTen(tenantId);
    await tamper(database.ownerUrl, async (client) => {
      await client.query('delete from audit_log where tenant_id = $1 and seq = 4', [tenantId]);
      await client.query('update audit_log set seq = seq - 1 where tenant_id = $1 and seq > 4', [tenantId]);
    });
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      problem: 'broken_link',
    });
  });

  it('entries removed from the end are reported against the chain head', async () => {
    const tenantId = await createAuditTenant(database.db, 'truncated');
    await appendTen(tenantId);
    await tamper(database.ownerUrl, (client) =>
      client.query('delete from audit_log where tenant_id = $1 and seq > 8', [tenantId]),
    );
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      firstBadSeq: 9,
      problem: 'gap',
    });
  });

  it('an entry inserted in the middle (with a well-formed hash and link) is named: it carries no signature', async () => {
    const tenantId = await createAuditTenant(database.db, 'inserted');
    await appendTen(tenantId);
    await insertForgedEntry(database.ownerUrl, tenantId, 6);
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      firstBadSeq: 6,
      problem: 'entry_mac_missing',
    });
  });

  it('a chain unsigned from its first entry (written without the key on a tenant with no entries yet) is named at seq 1, and no checkpoint vouches for it (attack S10-4)', async () => {
    const tenantId = await createAuditTenant(database.db, 'unsigned-from-one');
    // Well-formed links and hashes, no signatures: what the app role can write through
    // kluis_audit_append or plain INSERTs on a tenant whose chain is empty.
    for (const requestId of ['one', 'two', 'three'])
      await withAudit(deps, tenantId, ({ audit }) =>
        Promise.resolve(audit.record(readEvent([1], { requestId }))),
      );
    await tamper(database.ownerUrl, (client) =>
      client.query('update audit_log set mac = null where tenant_id = $1', [tenantId]),
    );
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      firstBadSeq: 1,
      problem: 'entry_mac_missing',
    });
    // The checkpoint job verifies before it signs: before decision 0630 it signed this chain,
    // which then verified as intact.
    await expect(writeCheckpoint(deps, tenantId)).rejects.toBeInstanceOf(AuditChainError);
    const { rows } = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from audit_checkpoints where tenant_id = $1',
      [tenantId],
    );
    expect(rows[0]?.n).toBe(0);
  });

  it('a chain rewritten from some seq on with every hash recomputed is named at its first rewritten entry (entry signatures)', async () => {
    const tenantId = await createAuditTenant(database.db, 'rewritten');
    await appendTen(tenantId);
    await withAudit(deps, tenantId, ({ audit }) => Promise.resolve(audit.record(readEvent([1]))));
    expect(await writeCheckpoint(deps, tenantId)).toEqual({ seq: 11 });
    await appendTen(tenantId);
    expect(await writeCheckpoint(deps, tenantId)).toEqual({ seq: 21 });
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 21, checkpoints: 2 });

    await rewriteTail(database.ownerUrl, tenantId, 12);
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      firstBadSeq: 12,
      problem: 'entry_mac_invalid',
    });
  });

  it('a rewrite inside a checkpointed stretch is named at the rewritten entry, not only from the last checkpoint', async () => {
    const tenantId = await createAuditTenant(database.db, 'rewritten-mid');
    await appendTen(tenantId);
    await writeCheckpoint(deps, tenantId);
    await appendTen(tenantId);
    await writeCheckpoint(deps, tenantId);
    await rewriteTail(database.ownerUrl, tenantId, 15);
    const result = await verifyAuditChain(deps, tenantId);
    // Each entry's own signature names the first rewritten one, not just "after checkpoint 10".
    expect(result).toMatchObject({ ok: false, firstBadSeq: 15, problem: 'entry_mac_invalid' });
  });

  it('a forged checkpoint (wrong MAC) is reported', async () => {
    const tenantId = await createAuditTenant(database.db, 'forged-checkpoint');
    await appendTen(tenantId);
    await tamper(database.ownerUrl, (client) =>
      client.query(
        `insert into audit_checkpoints (tenant_id, seq, head_hash, signed_at, mac)
         select tenant_id, seq, hash, now(), $2 from audit_log where tenant_id = $1 and seq = 10`,
        [tenantId, randomBytes(32)],
      ),
    );
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      firstBadSeq: 10,
      problem: 'checkpoint_mac_invalid',
    });
  });

  it('verification streams in pages: a small page size gives the same answer', async () => {
    const tenantId = await createAuditTenant(database.db, 'paged');
    await appendTen(tenantId);
    await writeCheckpoint(deps, tenantId);
    await appendTen(tenantId);
    expect(await verifyAuditChain(deps, tenantId, { batchSize: 3 })).toEqual({
      ok: true,
      entries: 20,
      checkpoints: 1,
    });
    await tamper(database.ownerUrl, (client) =>
      client.query(
        "update audit_log set purpose = 'marketing.advertising' where tenant_id = $1 and seq = 13",
        [tenantId],
      ),
    );
    expect(await verifyAuditChain(deps, tenantId, { batchSize: 3 })).toMatchObject({
      ok: false,
      firstBadSeq: 13,
      problem: 'hash_mismatch',
    });
  });
});

describe('checkpoints', () => {
  it('an empty chain has nothing to sign; signing the same head twice writes one checkpoint', async () => {
    const tenantId = await createAuditTenant(database.db, 'checkpoint');
    expect(await writeCheckpoint(deps, tenantId)).toBeNull();
    await appendTen(tenantId);
    expect(await writeCheckpoint(deps, tenantId)).toEqual({ seq: 10 });
    expect(await writeCheckpoint(deps, tenantId)).toEqual({ seq: 10 });
    const rows = await runAsOwner(
      database.ownerUrl,
      'select seq from audit_checkpoints where tenant_id = $1',
      [tenantId],
    );
    expect(rows.rowCount).toBe(1);
  });

  it('a tampered chain is never signed', async () => {
    const tenantId = await createAuditTenant(database.db, 'no-sign');
    await appendTen(tenantId);
    await writeCheckpoint(deps, tenantId);
    await appendTen(tenantId);
    await tamper(database.ownerUrl, (client) =>
      client.query('update audit_log set records = 5 where tenant_id = $1 and seq = 14', [tenantId]),
    );
    const attempt = writeCheckpoint(deps, tenantId);
    await expect(attempt).rejects.toBeInstanceOf(AuditChainError);
    await expect(attempt).rejects.toMatchObject({
      verification: { firstBadSeq: 14, problem: 'hash_mismatch' },
    });
  });

  it('another master key can neither sign nor verify checkpoints (the MAC key is wrapped by the master key)', async () => {
    const tenantId = await createAuditTenant(database.db, 'other-key');
    await appendTen(tenantId);
    expect(await writeCheckpoint(deps, tenantId)).toEqual({ seq: 10 });
    const otherKeys: AuditDeps = createAuditDeps(database, randomBytes(32));
    await expect(writeCheckpoint(otherKeys, tenantId)).rejects.toThrow(/could not be unwrapped/);
    await expect(verifyAuditChain(otherKeys, tenantId)).rejects.toThrow(/could not be unwrapped/);
  });
});
