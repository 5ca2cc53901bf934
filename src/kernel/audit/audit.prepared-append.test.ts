import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { verifyAuditChain, withAudit } from './index.js';
import { countPendingEntries, createAuditDeps, createAuditTenant, readEvent } from './audit.test-helpers.js';

// Decision 0830: a work whose last statement is long (the invoice batch's calls lines) has its
// entries' append statement built while that statement runs (`AuditTrail.prepareAppend`). The
// commit uses it only when nothing it was built from changed; else it builds the statement anew.

let database: TestDatabase;
let deps: ReturnType<typeof createAuditDeps>;
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createAuditDeps(database);
});
afterAll(async () => {
  await database.close();
});

async function chainedSubjects(tenantId: number): Promise<number[]> {
  const { rows } = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    'select cardinality(subject_pseudonyms)::int as n from audit_log where tenant_id = $1 order by seq',
    [tenantId],
  );
  return rows.map((row) => row.n);
}

describe('an append prepared before the work ends (decision 0830)', () => {
  it('chains the entries recorded before it, sent with the commit, as one built at commit would', async () => {
    const tenantId = await createAuditTenant(database.db, 'prepared');
    await withAudit(deps, tenantId, async ({ tx, audit }) => {
      audit.record(readEvent([1, 2, 3], { action: 'write' }));
      audit.record(readEvent([1, 2, 3]));
      const last = sql`select pg_sleep(0.05)`.execute(tx);
      audit.prepareAppend();
      await last;
    });
    expect(await chainedSubjects(tenantId)).toEqual([3, 3]);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
  });

  it('is dropped when an event is recorded after it: every event recorded is appended', async () => {
    const tenantId = await createAuditTenant(database.db, 'prepared-then-recorded');
    await withAudit(deps, tenantId, async ({ tx, audit }) => {
      audit.record(readEvent([1]));
      audit.prepareAppend();
      await sql`select 1`.execute(tx);
      audit.record(readEvent([4, 5], { action: 'write' }));
    });
    expect(await chainedSubjects(tenantId)).toEqual([1, 2]);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
  });

  it('is dropped when another append of this process moved the head meanwhile: the entries still chain after it', async () => {
    const tenantId = await createAuditTenant(database.db, 'prepared-head-moved');
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([9]));
      return Promise.resolve();
    });
    await withAudit(deps, tenantId, async ({ tx, audit }) => {
      audit.record(readEvent([1, 2]));
      await sql`select 1`.execute(tx);
      audit.prepareAppend();
      await new Promise((resolve) => setImmediate(resolve));
      // Another transaction of this process appends (and moves the head this one guessed).
      await withAudit(deps, tenantId, ({ audit: other }) => {
        other.record(readEvent([7, 8, 9]));
        return Promise.resolve();
      });
    });
    expect(await chainedSubjects(tenantId)).toEqual([1, 3, 2]);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 3, checkpoints: 0 });
  });
});
