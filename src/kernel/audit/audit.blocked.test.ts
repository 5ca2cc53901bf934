import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createTenant } from '../../modules/tenants/index.js';
import { createAppDb, type Db } from '../../platform/db.js';
import { isAppError } from '../../platform/errors.js';
import { AuditChainError, verifyAuditChain, withAudit, writeCheckpoint, type AuditDeps } from './index.js';
import { createAuditDeps, readEvent, writeRowBeyondHead } from './audit.test-helpers.js';

// Attack finding S11-4, decision 0680: one row inserted into audit_log at the head's seq + 1 (the
// head not moved) takes the seq every later append needs. Since decision 0685 only the owner (the
// migrations' login) can write it; the app role is refused (audit.link.test.ts).

let database: TestDatabase;
let deps: AuditDeps;
let otherPool: Db;
const logged: Array<{ fields: Record<string, unknown>; message: string }> = [];
const masterKey = randomBytes(32);
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  deps = {
    ...createAuditDeps(database, masterKey),
    logger: { error: (fields: Record<string, unknown>, message: string) => logged.push({ fields, message }) },
  };
  // Another process: it has no guess of the head, so its entries go to audit_pending.
  otherPool = createAppDb({
    connectionString: database.ownerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 2,
  }).db;
  env = { DATABASE_URL: database.ownerUrl, KLUIS_MASTER_KEY: masterKey.toString('base64') };
});
afterAll(async () => {
  await otherPool.destroy();
  await database.close();
});

async function count(table: 'audit_pending' | 'audit_checkpoints', tenantId: number): Promise<number> {
  const { rows } = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    `select count(*)::int as n from ${table} where tenant_id = $1`,
    [tenantId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Runs the README's runbook for a row beyond the head (the SQL block after its marker) for
 * `tenantId`, as the owner; answers the rows its first statement listed.
 */
async function runRunbook(tenantId: number): Promise<Array<Record<string, unknown>>> {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const marker = readme.indexOf('<!-- runbook: audit-row-beyond-head');
  const block = /```sql\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (marker < 0 || !block?.[1]) throw new Error('the runbook is not in the README');
  const text = block[1].replaceAll('tenant_id = 7', `tenant_id = ${String(tenantId)}`);
  const client = new pg.Client({ connectionString: database.ownerUrl });
  await client.connect();
  try {
    const results = (await client.query(text)) as unknown as Array<pg.QueryResult<Record<string, unknown>>>;
    return results[0]?.rows ?? [];
  } finally {
    await client.end();
  }
}

describe('attack S11-4: a row beyond the chain head', () => {
  it('is named by verify (service and CLI) and refused by the checkpoint; appends answer audit_unavailable, not a unique violation', async () => {
    const { tenantId } = await createTenant(database.db, { slug: 'blocked', name: 'blocked' });
    for (let i = 0; i < 3; i += 1) {
      await withAudit(deps, tenantId, ({ audit }) => Promise.resolve(audit.record(readEvent([i + 1]))));
    }
    expect(await writeCheckpoint(deps, tenantId)).toEqual({ seq: 3 });
    const blockedSeq = await writeRowBeyondHead(database.ownerUrl, tenantId, 'owner');
    expect(blockedSeq).toBe(4);

    // An append onto the head this process knows finds its seq taken: a stable code, the seq.
    const write = withAudit(deps, tenantId, ({ audit }) => Promise.resolve(audit.record(readEvent([9]))));
    const error = await write.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isAppError(error) && error.code).toBe('audit_unavailable');
    expect(isAppError(error) && error.details).toEqual({ blockedSeq: 4 });
    expect((error as Error).message).toContain('blocked at seq 4: an entry beyond the head');

    // Another process's entry goes pending; its chain run is blocked and says so.
    const otherDeps = { ...deps, db: otherPool };
    await withAudit(otherDeps, tenantId, ({ audit }) => Promise.resolve(audit.record(readEvent([8]))));
    expect(await count('audit_pending', tenantId)).toBe(1);
    expect(logged.some((entry) => entry.message.includes('blocked at seq 4'))).toBe(true);

    logged.length = 0;
    const verification = await verifyAuditChain(deps, tenantId);
    expect(verification).toMatchObject({ ok: false, firstBadSeq: 4, entries: 3 });
    expect(logged).toEqual([
      { fields: { tenantId, blockedSeq: 4 }, message: expect.stringContaining('blocked at seq 4') as string },
    ]);

    // The head is already signed at seq 3: the checkpoint still verifies what follows, and refuses.
    const checkpoint = await writeCheckpoint(deps, tenantId).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(checkpoint).toBeInstanceOf(AuditChainError);
    expect((checkpoint as AuditChainError).verification.firstBadSeq).toBe(4);
    expect(await count('audit_checkpoints', tenantId)).toBe(1);

    const cli = await runCli(['audit', 'verify', '--tenant', 'blocked'], env);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/audit blocked: BROKEN at seq 4 \(hash_mismatch\)/);
    expect(cli.stderr).not.toContain('unexpected error');
    expect(cli.stderr).toContain('blocked at seq 4: an entry beyond the head');

    // The README's runbook, as written there, run as the owner: the row goes, the chain is
    // intact again (the entry that waited is chained) and the tenant's audited writes succeed.
    const evidence = await runRunbook(tenantId);
    expect(evidence).toMatchObject([{ seq: 4, action: 'forged.block', unsigned: true }]);
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({ ok: true, entries: 4 });
    expect(await count('audit_pending', tenantId)).toBe(0);
    await withAudit(deps, tenantId, ({ audit }) => Promise.resolve(audit.record(readEvent([9]))));
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({ ok: true, entries: 5 });
  });
});
