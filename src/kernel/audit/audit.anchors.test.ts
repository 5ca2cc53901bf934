import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createTenant, type Tenant } from '../../modules/tenants/index.js';
import { fixedClock, systemClock, type Clock } from '../../platform/clock.js';
import { createKernel, kernelCore, type Kernel } from '../kernel.js';
import { LocalKeyManagementService } from '../keyring/kms.js';
import { encodeEntryMac, hashAuditEntry } from './audit.canonical.js';
import { readEvent, selectRaw, tamper, toChained } from './audit.test-helpers.js';
import { verifyAuditChain, withAudit, writeCheckpoint } from './index.js';

let database: TestDatabase;
let anchorFile: string;
const masterKey = randomBytes(32);
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase();
  anchorFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'kluis-anchors-')), 'audit-anchors.jsonl');
  env = {
    DATABASE_URL: database.ownerUrl,
    KLUIS_MASTER_KEY: masterKey.toString('base64'),
    KLUIS_AUDIT_ANCHOR_FILE: anchorFile,
  };
});
afterAll(async () => database.close());

function kernelAt(clock: Clock = systemClock, withFile = true): Kernel {
  return createKernel({
    db: database.db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock,
    ...(withFile ? { auditAnchorFile: anchorFile } : {}),
  });
}

async function tenantWithEntries(kernel: Kernel, label: string, count: number): Promise<Tenant> {
  const tenant = await createTenant(database.db, {
    slug: `${label}-${randomBytes(3).toString('hex')}`,
    name: label,
  });
  await appendEntries(kernel, tenant, count);
  return tenant;
}

async function appendEntries(kernel: Kernel, tenant: Tenant, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await withAudit(kernelCore(kernel).audit, tenant.tenantId, ({ audit }) =>
      Promise.resolve(audit.record(readEvent([i + 1]))),
    );
  }
}

async function verify(tenant: Tenant, extraEnv: Record<string, string> = {}, args: string[] = []) {
  return runCli(['audit', 'verify', '--tenant', tenant.slug, ...args], { ...env, ...extraEnv });
}

/** As the database superuser, with triggers off: replaces the whole chain, recomputing every hash. */
/**
 * The whole chain rewritten, its hashes recomputed and every entry signed again with the tenant's
 * key: an attacker with the database and the master key. Only the anchors outside the database
 * can tell (an unsigned rewrite fails on its first entry's signature, decision 0630).
 */
async function rewriteWholeChainSigned(kernel: Kernel, ownerUrl: string, tenantId: number): Promise<void> {
  const keys = kernelCore(kernel).audit.keys;
  await tamper(ownerUrl, async (client) => {
    await client.query('delete from audit_checkpoints where tenant_id = $1', [tenantId]);
    let prevHash: Buffer = Buffer.alloc(32);
    for (const row of await selectRaw(client, tenantId, 1)) {
      const entry = toChained(row);
      entry.prevHash = prevHash;
      if (entry.seq === 2) entry.action = 'login';
      const hash = hashAuditEntry(entry);
      const mac = await keys.checkpointMac(tenantId, encodeEntryMac({ tenantId, seq: entry.seq, hash }));
      await client.query(
        'update audit_log set action = $3, prev_hash = $4, hash = $5, mac = $6 where tenant_id = $1 and seq = $2',
        [tenantId, entry.seq, entry.action, entry.prevHash, hash, mac],
      );
      prevHash = hash;
    }
    await client.query('update audit_heads set hash = $2 where tenant_id = $1', [tenantId, prevHash]);
  });
}

describe('the audit log cannot be rewritten unseen (issue 11)', () => {
  it('an intact chain with its checkpoints in the database, the key store and the anchor file verifies', async () => {
    const kernel = kernelAt();
    const tenant = await tenantWithEntries(kernel, 'intact', 6);
    expect(await writeCheckpoint(kernelCore(kernel).audit, tenant.tenantId)).toEqual({ seq: 6 });
    const lines = (await readFile(anchorFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { tenantId: number; seq: number });
    expect(lines).toContainEqual(expect.objectContaining({ tenantId: tenant.tenantId, seq: 6 }));
    const result = await verify(tenant);
    expect(result.stdout.trim()).toBe(
      `audit ${tenant.slug}: intact (6 entries, 1 checkpoints, 2 outside the database)`,
    );
    expect(result.code).toBe(0);
  });

  it('attack 1: a forged entry appended with the head moved is named (it carries no valid signature)', async () => {
    const kernel = kernelAt();
    const tenant = await tenantWithEntries(kernel, 'forged-append', 10);
    await writeCheckpoint(kernelCore(kernel).audit, tenant.tenantId);
    await tamper(database.ownerUrl, async (client) => {
      const [last] = await selectRaw(client, tenant.tenantId, 10);
      if (!last) throw new Error('no entry 10');
      const forged = { ...toChained(last), seq: 11, action: 'export', prevHash: last.hash };
      const hash = hashAuditEntry(forged);
      await client.query(
        `insert into audit_log (tenant_id, seq, at, actor_kind, actor_id, role, purpose, action, subject_pseudonyms,
           categories, records, decision, reason, request_id, prev_hash, hash, mac)
         select tenant_id, 11, at, actor_kind, actor_id, role, purpose, 'export', subject_pseudonyms, categories,
           records, decision, reason, request_id, $2, $3, $4 from audit_log where tenant_id = $1 and seq = 10`,
        [tenant.tenantId, last.hash, hash, randomBytes(32)],
      );
      await client.query('update audit_heads set seq = 11, hash = $2 where tenant_id = $1', [
        tenant.tenantId,
        hash,
      ]);
    });
    const result = await verify(tenant);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(`audit ${tenant.slug}: BROKEN at seq 11 \\(entry_mac_invalid\\)`),
    );
    // Nor will the next checkpoint sign it.
    await expect(writeCheckpoint(kernelCore(kernel).audit, tenant.tenantId)).rejects.toMatchObject({
      verification: { firstBadSeq: 11, problem: 'entry_mac_invalid' },
    });
  });

  it('attack 2: a rewrite after the last checkpoint, every hash and the head recomputed, is named at its first entry', async () => {
    const kernel = kernelAt();
    const tenant = await tenantWithEntries(kernel, 'rewrite-after', 10);
    await writeCheckpoint(kernelCore(kernel).audit, tenant.tenantId);
    await appendEntries(kernel, tenant, 5);
    await tamper(database.ownerUrl, async (client) => {
      const [before] = await selectRaw(client, tenant.tenantId, 12);
      let prevHash = before?.hash ?? Buffer.alloc(32);
      for (const row of await selectRaw(client, tenant.tenantId, 13)) {
        const entry = { ...toChained(row), prevHash };
        if (entry.seq === 13) entry.purpose = 'marketing.advertising';
        const hash = hashAuditEntry(entry);
        await client.query(
          'update audit_log set purpose = $3, prev_hash = $4, hash = $5 where tenant_id = $1 and seq = $2',
          [tenant.tenantId, entry.seq, entry.purpose, entry.prevHash, hash],
        );
        prevHash = hash;
      }
      await client.query('update audit_heads set hash = $2 where tenant_id = $1', [
        tenant.tenantId,
        prevHash,
      ]);
    });
    const result = await verify(tenant);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(`audit ${tenant.slug}: BROKEN at seq 13 \\(entry_mac_invalid\\)`),
    );
  });

  it('attack 3: a truncated tail, with the database checkpoints deleted and the head moved back, is caught by the checkpoints outside the database', async () => {
    const kernel = kernelAt();
    const tenant = await tenantWithEntries(kernel, 'truncated', 10);
    await writeCheckpoint(kernelCore(kernel).audit, tenant.tenantId);
    await tamper(database.ownerUrl, async (client) => {
      await client.query('delete from audit_checkpoints where tenant_id = $1', [tenant.tenantId]);
      await client.query('delete from audit_log where tenant_id = $1 and seq > 7', [tenant.tenantId]);
      await client.query(
        'update audit_heads set seq = 7, hash = (select hash from audit_log where tenant_id = $1 and seq = 7) where tenant_id = $1',
        [tenant.tenantId],
      );
    });
    const result = await verify(tenant);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(`audit ${tenant.slug}: BROKEN at seq 8 \\(truncated\\).*checkpoint at seq 10`),
    );
    // The truncated chain is not signed either: the next checkpoint would go backwards.
    const refused = await runCli(['audit', 'checkpoint', '--tenant', tenant.slug], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/NOT signed, BROKEN at seq 8 \(truncated\)/);
  });

  it('attack 4: deleted checkpoints with a rewritten chain: the key store and the anchor file disagree; with every anchor gone, the unanchored entries fail', async () => {
    const kernel = kernelAt();
    const tenant = await tenantWithEntries(kernel, 'deleted-checkpoints', 10);
    await writeCheckpoint(kernelCore(kernel).audit, tenant.tenantId);
    await rewriteWholeChainSigned(kernel, database.ownerUrl, tenant.tenantId);
    // Today's main said "intact (10 entries, 0 checkpoints)" here.
    const withAnchors = await verify(tenant);
    expect(withAnchors.code).toBe(1);
    expect(withAnchors.stdout).toMatch(
      new RegExp(
        `audit ${tenant.slug}: BROKEN at seq 1 \\(checkpoint_mismatch\\).*checkpoint at seq 10 in the key store`,
      ),
    );

    // The attacker also owns the key store's server: its anchors go too. The file still disagrees.
    await tamper(database.keystoreOwnerUrl, (client) =>
      client.query('delete from audit_anchors where tenant_id = $1', [tenant.tenantId]),
    );
    const withFile = await verify(tenant);
    expect(withFile.code).toBe(1);
    expect(withFile.stdout).toMatch(/BROKEN at seq 1 \(checkpoint_mismatch\).*in the anchor file/);

    // No file configured either: every anchor is gone, and entries older than the grace period
    // (here: any) without a checkpoint outside the database are themselves the finding.
    const nothingLeft = await verify(tenant, { KLUIS_AUDIT_ANCHOR_FILE: '' }, [
      '--anchor-grace-minutes',
      '0',
    ]);
    expect(nothingLeft.code).toBe(1);
    expect(nothingLeft.stdout).toMatch(/BROKEN at seq 1 \(unanchored\).*key store/);
  });

  it('checkpoints that go backwards (an old anchor line replayed after a newer one) are reported', async () => {
    const kernel = kernelAt();
    const tenant = await tenantWithEntries(kernel, 'backwards', 5);
    await writeCheckpoint(kernelCore(kernel).audit, tenant.tenantId);
    const firstLine = (await readFile(anchorFile, 'utf8'))
      .trim()
      .split('\n')
      .find((line) => (JSON.parse(line) as { tenantId: number }).tenantId === tenant.tenantId);
    await appendEntries(kernel, tenant, 5);
    await writeCheckpoint(kernelCore(kernel).audit, tenant.tenantId);
    await appendFile(anchorFile, `${firstLine}\n`);
    const result = await verify(tenant);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(`audit ${tenant.slug}: BROKEN at seq 6 \\(checkpoint_backwards\\).*anchor file`),
    );
  });

  it('a chain with entries older than the grace period and no checkpoint outside the database fails, naming the first such entry', async () => {
    const twoDaysAgo = fixedClock(new Date(Date.now() - 2 * 24 * 3600 * 1000));
    const tenant = await tenantWithEntries(kernelAt(twoDaysAgo), 'never-anchored', 3);
    const result = await verify(tenant);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`audit ${tenant.slug}: BROKEN at seq 1 \\(unanchored\\)`));
    // The same chain just written is within the grace period (the next checkpoint is minutes away).
    const fresh = await tenantWithEntries(kernelAt(), 'fresh', 3);
    expect((await verify(fresh)).code).toBe(0);
    expect(await verifyAuditChain(kernelCore(kernelAt()).audit, fresh.tenantId)).toMatchObject({
      ok: true,
      anchors: 0,
    });
  });
});
