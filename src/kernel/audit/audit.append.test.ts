import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createAppDb, withTenant, type Db, type Tx } from '../../platform/db.js';
import { verifyAuditChain, withAudit } from './index.js';
import { lockAuditHead } from './audit.repository.js';
import { createAuditDeps, createAuditTenant, readEvent } from './audit.test-helpers.js';

// How appends take the chain head (docs/decisions/0250): one statement when this process's last
// head still holds, a second when it does not; and when a transaction may skip the WAL flush.

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

async function synchronousCommitAfter(
  tenantId: number,
  before: (tx: Tx) => Promise<unknown>,
  relaxIfAuditOnly: boolean,
): Promise<string> {
  return withTenant(database.db, tenantId, async (tx) => {
    await before(tx);
    await lockAuditHead(tx, tenantId, { relaxIfAuditOnly });
    const { rows } = await sql<{
      value: string;
    }>`select current_setting('synchronous_commit') as value`.execute(tx);
    return rows[0]?.value ?? '';
  });
}

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

describe('durability of audit-only transactions (docs/decisions/0250)', () => {
  it('a transaction that wrote nothing but allowed decisions skips the WAL flush; one that changed data, or a refusal, waits for it', async () => {
    const tenantId = await createAuditTenant(database.db, 'durability');
    // The head exists from here on (creating it is a write of its own).
    await withAudit(deps, tenantId, ({ audit }) => {
      audit.record(readEvent([1]));
      return Promise.resolve();
    });
    const onlyReads = await synchronousCommitAfter(tenantId, () => Promise.resolve(), true);
    const afterWrite = await synchronousCommitAfter(
      tenantId,
      // Any change assigns the transaction an id; this one is the cheapest to provoke.
      (tx) => sql`select pg_current_xact_id()`.execute(tx),
      true,
    );
    const refusal = await synchronousCommitAfter(tenantId, () => Promise.resolve(), false);
    expect({ onlyReads, afterWrite, refusal }).toEqual({ onlyReads: 'off', afterWrite: 'on', refusal: 'on' });
  });
});
