/**
 * Attack S25-5, decision 1270: README's usual restore (an older data backup, the key store in use)
 * left the key store's checkpoints signed after the backup, so verification said "entries were
 * rewritten" and the checkpoint job never signed again. The restore now records a signed set-back;
 * a cut or a forged set-back still reads broken.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { runAsOwner } from '../../test/database.js';
import { createPolicyTenant } from '../../test/kernel.js';
import { tamper } from '../kernel/audit/audit.test-helpers.js';
import { createPerson, getPerson, type UseCaseContext } from '../modules/parties/index.js';
import type { Tenant } from '../modules/tenants/index.js';
import { openBackupWorkspace, type BackupWorkspace } from './backup.test-helpers.js';

let space: BackupWorkspace;
let voiceking: Tenant;
let other: Tenant;
let personId: number;
let anchorFile: string;

const sales = (tenant: Tenant): UseCaseContext => ({
  tenantId: tenant.tenantId,
  actor: { kind: 'staff', staffId: 1, role: 'sales' },
  purpose: 'customer_administration',
});

async function headOf(ownerUrl: string, tenant: Tenant): Promise<number> {
  const result = await runAsOwner<{ seq: number }>(
    ownerUrl,
    'select seq::int as seq from audit_heads where tenant_id = $1',
    [tenant.tenantId],
  );
  return result.rows[0]?.seq ?? 0;
}

async function onlyFile(folder: string, prefix: string): Promise<string> {
  const files = (await readdir(folder)).filter((file) => file.startsWith(prefix));
  expect(files).toHaveLength(1);
  return path.join(folder, files[0] ?? '');
}

beforeAll(async () => {
  space = await openBackupWorkspace('kluis-setback-');
  anchorFile = path.join(space.dir, 'anchors.jsonl');
  voiceking = await createPolicyTenant(space.kernel, 'voxtra');
  other = await createPolicyTenant(space.kernel, 'voxtra');
  const person = await createPerson(space.kernel, sales(voiceking), {
    subjectType: 'customer',
    familyName: 'Terugzet',
    givenName: 'Test',
    email: 'terug@example.be',
  });
  personId = person.subjectId;
  await createPerson(space.kernel, sales(other), {
    subjectType: 'customer',
    familyName: 'Ander',
    givenName: 'Test',
    email: 'ander@example.be',
  });
});
afterAll(async () => {
  await space.close();
});

describe('the audit chain after a documented restore (attack S25-5, decision 1270)', () => {
  it('decision 1270: an older data backup restored with the key store in use records a signed set-back; verify says intact and names it, the checkpoint job signs again, a later cut and a forged or borrowed set-back still read broken', async () => {
    const live = space.env(space.database.ownerUrl, { KLUIS_AUDIT_ANCHOR_FILE: anchorFile });
    expect((await runCli(['audit', 'checkpoint'], live)).code).toBe(0);
    const backup = path.join(space.dir, 'bk0');
    expect((await runCli(['backup', '--out', backup], live)).code).toBe(0);
    const backedUp = await headOf(space.database.ownerUrl, voiceking);

    // Reads after the backup, signed in the key store and the anchor file.
    for (let i = 0; i < 3; i += 1) await getPerson(space.kernel, sales(voiceking), personId);
    const signedLater = await runCli(['audit', 'checkpoint', '--tenant', voiceking.slug], live);
    expect(signedLater.code).toBe(0);
    const earlier = await headOf(space.database.ownerUrl, voiceking);
    expect(signedLater.stdout).toContain(`checkpoint at seq ${earlier}`);
    expect(earlier).toBeGreaterThan(backedUp);

    // The restore README describes, with the key store in use (the live data is left alone).
    const target = await space.emptyDatabase('setback');
    const env = space.env(target, { KLUIS_AUDIT_ANCHOR_FILE: anchorFile });
    const restored = await runCli(
      ['restore', '--force', '--data', await onlyFile(backup, 'kluis-data-')],
      env,
    );
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(
      `audit chain of tenant ${voiceking.tenantId} set back to entry ${backedUp}: entries ${backedUp + 1}-${earlier} of the earlier chain went with the restore`,
    );
    // The other tenant's chain was signed at its head in the backup: nothing went, no set-back.
    expect(restored.stdout).not.toContain(`tenant ${other.tenantId} set back`);
    const setBacks = await runAsOwner<{ tenant_id: number; head_seq: number; earlier_seq: number }>(
      space.database.keystoreOwnerUrl,
      'select tenant_id, head_seq::int as head_seq, earlier_seq::int as earlier_seq from audit_setbacks',
    );
    expect(setBacks.rows).toEqual([
      { tenant_id: voiceking.tenantId, head_seq: backedUp, earlier_seq: earlier },
    ]);

    // Before: "BROKEN at seq …(checkpoint_mismatch): entries … were rewritten", exit 1.
    const verified = await runCli(['audit', 'verify', '--tenant', voiceking.slug], env);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      new RegExp(
        `audit ${voiceking.slug}: set back: restored on \\S+ to entry ${backedUp}; entries ${backedUp + 1}-${earlier} of the earlier chain went with the restore`,
      ),
    );
    expect(verified.stdout).toContain(`audit ${voiceking.slug}: intact (`);

    // The new timeline: entries at the numbers the earlier one signed, and the job signs again.
    const served = space.kernelOn(target);
    try {
      for (let i = 0; i < 3; i += 1) await getPerson(served.kernel, sales(voiceking), personId);
    } finally {
      await served.close();
    }
    const signedAgain = await runCli(['audit', 'checkpoint'], env);
    expect(signedAgain.code).toBe(0);
    const head = Number(
      new RegExp(`audit ${voiceking.slug}: checkpoint at seq (\\d+)`).exec(signedAgain.stdout)?.[1],
    );
    expect(head).toBeGreaterThan(backedUp);
    const anchored = await runAsOwner<{ n: number }>(
      space.database.keystoreOwnerUrl,
      `select count(*)::int as n from audit_anchors where tenant_id = $1 and seq = $2
          and signed_at > (select max(set_at) from audit_setbacks where tenant_id = $1)`,
      [voiceking.tenantId, head],
    );
    expect(anchored.rows[0]?.n).toBe(1);
    const again = await runCli(['audit', 'verify'], env);
    expect(again.stdout).toContain(`audit ${voiceking.slug}: intact (`);
    expect(again.stdout).toContain(`audit ${other.slug}: intact (`);
    expect(again.code).toBe(0);

    // A cut after the restore, by the owner deleting chain rows, still reads broken.
    const kept = backedUp + 1;
    await cutChainAfter(target, voiceking.tenantId, kept);
    const cut = await runCli(['audit', 'verify', '--tenant', voiceking.slug], env);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toMatch(
      new RegExp(
        `audit ${voiceking.slug}: BROKEN at seq ${kept + 1} \\(truncated\\).*checkpoint at seq ${head}`,
      ),
    );
    const refused = await runCli(['audit', 'checkpoint', '--tenant', voiceking.slug], env);
    expect(refused.code).toBe(1);

    // A set-back forged to cover the cut (no key, so no valid MAC) hides nothing.
    await tamper(space.database.keystoreOwnerUrl, (client) =>
      client.query(
        `insert into audit_setbacks (tenant_id, head_seq, head_hash, set_at, earlier_seq, mac)
         values ($1, $2, $3, now(), $4, $5)`,
        [voiceking.tenantId, kept, Buffer.alloc(32, 2), head, Buffer.alloc(32, 1)],
      ),
    );
    const forged = await runCli(['audit', 'verify', '--tenant', voiceking.slug], env);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(
      new RegExp(
        `audit ${voiceking.slug}: BROKEN at seq ${kept + 1} \\(checkpoint_mac_invalid\\): the set-back to entry ${kept} .* is not signed with this tenant's key`,
      ),
    );

    // The genuine set-back copied to another tenant is not that tenant's.
    await tamper(space.database.keystoreOwnerUrl, (client) =>
      client.query(
        `insert into audit_setbacks (tenant_id, head_seq, head_hash, set_at, earlier_seq, mac)
         select $2, head_seq, head_hash, set_at, earlier_seq, mac from audit_setbacks
          where tenant_id = $1 and head_seq = $3`,
        [voiceking.tenantId, other.tenantId, backedUp],
      ),
    );
    const borrowed = await runCli(['audit', 'verify', '--tenant', other.slug], env);
    expect(borrowed.code).toBe(1);
    expect(borrowed.stdout).toContain(
      `audit ${other.slug}: BROKEN at seq ${backedUp + 1} (checkpoint_mac_invalid)`,
    );
  }, 300_000);

  it('attack S27-2, decision 1270: a data backup made after a cut of the audit chain, restored with the key store in use, records no set-back and verify still reads the cut as broken; attack S27-3: a later restore that leaves a set-back tenant whole records none', async () => {
    const cutTenant = await createPolicyTenant(space.kernel, 'voxtra');
    const wholeTenant = await createPolicyTenant(space.kernel, 'voxtra');
    const customerOf = async (tenant: Tenant, familyName: string): Promise<number> =>
      (
        await createPerson(space.kernel, sales(tenant), {
          subjectType: 'customer',
          familyName,
          givenName: 'Test',
          email: `${familyName.toLowerCase()}@example.be`,
        })
      ).subjectId;
    const cutPerson = await customerOf(cutTenant, 'Ingekort');
    const wholePerson = await customerOf(wholeTenant, 'Heel');
    const live = space.env(space.database.ownerUrl, { KLUIS_AUDIT_ANCHOR_FILE: anchorFile });

    // S27-2: entries signed in the key store and the anchor file, then cut by the data's owner.
    for (let i = 0; i < 4; i += 1) await getPerson(space.kernel, sales(cutTenant), cutPerson);
    const signed = await runCli(['audit', 'checkpoint', '--tenant', cutTenant.slug], live);
    expect(signed.code).toBe(0);
    const anchoredHead = await headOf(space.database.ownerUrl, cutTenant);
    const kept = anchoredHead - 3;
    await cutChainAfter(space.database.ownerUrl, cutTenant.tenantId, kept);
    const cut = await runCli(['audit', 'verify', '--tenant', cutTenant.slug], live);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain(`audit ${cutTenant.slug}: BROKEN at seq ${kept + 1} (truncated)`);

    // The backup made after the cut, restored as README says: the cut is not the restore's.
    const afterCut = path.join(space.dir, 'bk-after-cut');
    expect((await runCli(['backup', '--only', 'data', '--out', afterCut], live)).code).toBe(0);
    const target = await space.emptyDatabase('cutrestored');
    const env = space.env(target, { KLUIS_AUDIT_ANCHOR_FILE: anchorFile });
    const restored = await runCli(
      ['restore', '--force', '--data', await onlyFile(afterCut, 'kluis-data-')],
      env,
    );
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    // Before: "audit chain of tenant N set back to entry …", and verify said intact.
    expect(restored.stdout).not.toContain(`audit chain of tenant ${cutTenant.tenantId} set back`);
    expect(restored.stdout).toMatch(
      new RegExp(
        `audit chain of tenant ${cutTenant.tenantId} NOT set back: the data archive's chain ends at entry ${kept}, but a checkpoint signed on \\S+, before the backup was made, holds entry ${anchoredHead}`,
      ),
    );
    const stillCut = await runCli(['audit', 'verify', '--tenant', cutTenant.slug], env);
    expect(stillCut.code).toBe(1);
    expect(stillCut.stdout).toContain(`audit ${cutTenant.slug}: BROKEN at seq ${kept + 1} (truncated)`);

    // S27-3: a genuine set-back of the whole tenant (an older backup restored) ...
    expect((await runCli(['audit', 'checkpoint', '--tenant', wholeTenant.slug], live)).code).toBe(0);
    const older = path.join(space.dir, 'bk-older');
    expect((await runCli(['backup', '--only', 'data', '--out', older], live)).code).toBe(0);
    for (let i = 0; i < 3; i += 1) await getPerson(space.kernel, sales(wholeTenant), wholePerson);
    expect((await runCli(['audit', 'checkpoint', '--tenant', wholeTenant.slug], live)).code).toBe(0);
    const first = await space.emptyDatabase('wholefirst');
    const firstEnv = space.env(first, { KLUIS_AUDIT_ANCHOR_FILE: anchorFile });
    const setBack = await runCli(
      ['restore', '--force', '--data', await onlyFile(older, 'kluis-data-')],
      firstEnv,
    );
    expect(setBack.code).toBe(0);
    expect(setBack.stdout).toContain(`audit chain of tenant ${wholeTenant.tenantId} set back to entry`);
    // ... then the new timeline is signed, backed up and restored whole: nothing went with it.
    const served = space.kernelOn(first);
    try {
      for (let i = 0; i < 3; i += 1) await getPerson(served.kernel, sales(wholeTenant), wholePerson);
    } finally {
      await served.close();
    }
    expect((await runCli(['audit', 'checkpoint', '--tenant', wholeTenant.slug], firstEnv)).code).toBe(0);
    const latest = path.join(space.dir, 'bk-latest');
    expect((await runCli(['backup', '--only', 'data', '--out', latest], firstEnv)).code).toBe(0);
    const second = await space.emptyDatabase('wholesecond');
    const secondEnv = space.env(second, { KLUIS_AUDIT_ANCHOR_FILE: anchorFile });
    const again = await runCli(
      ['restore', '--force', '--data', await onlyFile(latest, 'kluis-data-')],
      secondEnv,
    );
    expect(again.code).toBe(0);
    // Before: "set back to entry N: entries N+1-M of the earlier chain went with the restore".
    expect(again.stdout).not.toContain(`audit chain of tenant ${wholeTenant.tenantId} set back`);
    const setBacks = await runAsOwner<{ n: number }>(
      space.database.keystoreOwnerUrl,
      'select count(*)::int as n from audit_setbacks where tenant_id = $1',
      [wholeTenant.tenantId],
    );
    expect(setBacks.rows[0]?.n).toBe(1);
    const verified = await runCli(['audit', 'verify', '--tenant', wholeTenant.slug], secondEnv);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`audit ${wholeTenant.slug}: intact (`);
  }, 300_000);
});

/** The owner cuts a tenant's chain after entry `kept`: its entries, checkpoints and head moved back. */
async function cutChainAfter(ownerUrl: string, tenantId: number, kept: number): Promise<void> {
  await tamper(ownerUrl, async (client) => {
    await client.query('delete from audit_checkpoints where tenant_id = $1 and seq > $2', [tenantId, kept]);
    await client.query('delete from audit_log where tenant_id = $1 and seq > $2', [tenantId, kept]);
    await client.query(
      'update audit_heads set seq = $2, hash = (select hash from audit_log where tenant_id = $1 and seq = $2) where tenant_id = $1',
      [tenantId, kept],
    );
  });
}
