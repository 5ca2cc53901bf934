import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createTenant } from '../../modules/tenants/index.js';
import { withAudit } from './index.js';
import { createAuditDeps, insertForgedEntry, readEvent, rewriteTail, tamper } from './audit.test-helpers.js';

let database: TestDatabase;
let deps: ReturnType<typeof createAuditDeps>;
const masterKey = randomBytes(32);
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  deps = createAuditDeps(database, masterKey);
  // The CLI derives its audit keys from the same master key the entries were written with.
  env = { DATABASE_URL: database.ownerUrl, KLUIS_MASTER_KEY: masterKey.toString('base64') };
});
afterAll(async () => database.close());

async function tenantWithTenEntries(slug: string): Promise<number> {
  const { tenantId } = await createTenant(database.db, { slug, name: slug });
  for (let i = 0; i < 10; i += 1) {
    await withAudit(deps, tenantId, ({ audit }) => Promise.resolve(audit.record(readEvent([i + 1]))));
  }
  return tenantId;
}

describe('kluis audit verify / checkpoint', () => {
  it('reports intact chains with exit 0, and each tampered chain with exit 1 naming tenant and first bad seq', async () => {
    await tenantWithTenEntries('intact');
    const changed = await tenantWithTenEntries('changed');
    const deleted = await tenantWithTenEntries('deleted');
    const inserted = await tenantWithTenEntries('inserted');
    const rewritten = await tenantWithTenEntries('rewritten');
    const late = await tenantWithTenEntries('late');

    const signed = await runCli(['audit', 'checkpoint'], env);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.stdout).toContain('audit rewritten: checkpoint at seq 10');

    await tamper(database.ownerUrl, async (client) => {
      await client.query('update audit_log set records = 99 where tenant_id = $1 and seq = 6', [changed]);
      await client.query('delete from audit_log where tenant_id = $1 and seq = 3', [deleted]);
    });
    // Entries after the last checkpoint, one of them changed: the next checkpoint must refuse.
    for (let i = 0; i < 3; i += 1) {
      await withAudit(deps, late, ({ audit }) => Promise.resolve(audit.record(readEvent([i + 1]))));
    }
    await tamper(database.ownerUrl, (client) =>
      client.query("update audit_log set action = 'login' where tenant_id = $1 and seq = 12", [late]),
    );
    await insertForgedEntry(database.ownerUrl, inserted, 5);
    await rewriteTail(database.ownerUrl, rewritten, 8);

    const all = await runCli(['audit', 'verify'], env);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain('audit intact: intact (10 entries, 1 checkpoints, 1 outside the database)');
    expect(all.stdout).toMatch(/audit changed: BROKEN at seq 6 \(hash_mismatch\)/);
    expect(all.stdout).toMatch(/audit deleted: BROKEN at seq 3 \(gap\)/);
    expect(all.stdout).toMatch(/audit inserted: BROKEN at seq 5 \(entry_mac_missing\)/);
    // The rewrite from seq 8 recomputed every hash; the entry's own signature names it.
    expect(all.stdout).toMatch(/audit rewritten: BROKEN at seq 8 \(entry_mac_invalid\)/);
    expect(all.stdout).toMatch(/audit late: BROKEN at seq 12 \(hash_mismatch\)/);
    expect(all.stderr).toContain('5 audit chain(s) broken');

    const one = await runCli(['audit', 'verify', '--tenant', 'intact'], env);
    expect(one.code).toBe(0);
    expect(one.stdout.trim()).toBe(
      'audit intact: intact (10 entries, 1 checkpoints, 1 outside the database)',
    );

    // A checkpoint verifies the entries since the previous one before signing.
    const refused = await runCli(['audit', 'checkpoint', '--tenant', 'late'], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/audit late: NOT signed, BROKEN at seq 12 \(hash_mismatch\)/);

    const unknown = await runCli(['audit', 'verify', '--tenant', 'nobody'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('tenant_not_found');
  });
});
