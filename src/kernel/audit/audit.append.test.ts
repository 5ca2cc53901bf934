import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createAppDb, type Db } from '../../platform/db.js';
import { verifyAuditChain, withAudit } from './index.js';
import { createAuditDeps, createAuditTenant, readEvent } from './audit.test-helpers.js';

// How appends take the chain head (docs/decisions/0250): one statement when this process's last
// head still holds, a second when it does not.

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
