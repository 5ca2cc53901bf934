/**
 * Attack S23B-3, decision 1150: a copy restored from this installation's backup shares its old
 * data keys; once both made new people, each with keys of its own, a later archive of one must
 * not be restored into the other. The restore's sample opens the newest rows and the rows of the
 * newest keys' people too, not only the oldest rows both copies share.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { runAsOwner } from '../../test/database.js';
import { createPolicyTenant } from '../../test/kernel.js';
import { createPerson, getPerson, type UseCaseContext } from '../modules/parties/index.js';
import type { Tenant } from '../modules/tenants/index.js';
import { openBackupWorkspace, type BackupWorkspace } from './backup.test-helpers.js';

let space: BackupWorkspace;
let tenant: Tenant;

const sales = (): UseCaseContext => ({
  tenantId: tenant.tenantId,
  actor: { kind: 'staff', staffId: 1, role: 'sales' },
  purpose: 'customer_administration',
});

async function count(ownerUrl: string, sql: string): Promise<number> {
  const result = await runAsOwner<{ n: number }>(ownerUrl, sql);
  return result.rows[0]?.n ?? -1;
}

async function onlyFile(folder: string, prefix: string): Promise<string> {
  const files = (await readdir(folder)).filter((file) => file.startsWith(prefix));
  expect(files).toHaveLength(1);
  return path.join(folder, files[0] ?? '');
}

beforeAll(async () => {
  space = await openBackupWorkspace('kluis-drift-');
  tenant = await createPolicyTenant(space.kernel, 'voxtra');
});
afterAll(async () => {
  await space.close();
  await rm(space.dir, { recursive: true, force: true });
});

describe('a copy that went its own way (attack S23B-3, decision 1150)', () => {
  it('backup of A, restored into R; both make new people; a later data archive of A restored into R is refused, nothing written, R still serves its own people; R’s key-store archive over A’s later data is refused with and without --data (attack S23B-3)', async () => {
    const { database, kernel } = space;
    const make = (on: typeof kernel, familyName: string, email: string) =>
      createPerson(on, sales(), { subjectType: 'customer', familyName, givenName: 'Test', email });
    // The people both copies will share: more than the sample's oldest rows.
    const shared = [];
    for (const name of ['Aerts', 'Baert', 'Claes', 'Dierckx', 'Eeckhout'])
      shared.push(await make(kernel, name, `${name.toLowerCase()}@example.be`));
    const first = path.join(space.dir, 'first');
    expect((await runCli(['backup', '--out', first], space.env(database.ownerUrl))).code).toBe(0);

    // R: a copy of A (a standby, a staging copy), restored from A's pair.
    const copyData = await space.emptyDatabase('r_data');
    const copyKeys = await space.emptyDatabase('r_keys');
    const copyEnv = space.env(copyData, { KLUIS_KEYSTORE_URL: copyKeys });
    const restored = await runCli(
      [
        'restore',
        '--data',
        await onlyFile(first, 'kluis-data-'),
        '--keys',
        await onlyFile(first, 'kluis-keys-'),
      ],
      copyEnv,
    );
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);

    // Both go on: the same subject numbers, each with data keys of its own.
    const fromA = [
      await make(kernel, 'Forka', 'fork-a-1@example.be'),
      await make(kernel, 'Forka', 'fork-a-2@example.be'),
    ];
    let copy = space.kernelOn(copyData, copyKeys);
    const fromR = [
      await make(copy.kernel, 'Forkr', 'fork-r-1@example.be'),
      await make(copy.kernel, 'Forkr', 'fork-r-2@example.be'),
    ];
    await copy.close();
    expect(fromR.map((person) => person.subjectId)).toEqual(fromA.map((person) => person.subjectId));

    const later = path.join(space.dir, 'later');
    expect((await runCli(['backup', '--out', later], space.env(database.ownerUrl))).code).toBe(0);
    const laterData = await onlyFile(later, 'kluis-data-');
    const laterKeys = await onlyFile(later, 'kluis-keys-');
    const copyBackup = path.join(space.dir, 'copy');
    expect((await runCli(['backup', '--only', 'keys', '--out', copyBackup], copyEnv)).code).toBe(0);
    const copyKeysArchive = await onlyFile(copyBackup, 'kluis-keys-');

    // --data of A's later backup into R (R's key store stays): refused, nothing written.
    const people = 'select count(*)::int as n from people';
    const keyRows = 'select count(*)::int as n from data_keys';
    const peopleBefore = await count(copyData, people);
    const keysBefore = await count(copyKeys, keyRows);
    const dataOnly = await runCli(['restore', '--force', '--data', laterData], copyEnv);
    expect(dataOnly.code).toBe(1);
    expect(dataOnly.stdout).not.toMatch(/restored:/);
    expect(dataOnly.stderr).toMatch(
      /this data archive was not made with this key store: [1-9]\d* of \d+ encrypted fields tried in 1 tenant do not open with its data keys; it is a backup of another installation, or of a copy that went its own way since .*; nothing was restored: the data and the key store are as they were/,
    );
    expect(await count(copyData, people)).toBe(peopleBefore);
    expect(await count(copyData, "select count(*)::int as n from people where family_name = 'Forka'")).toBe(
      0,
    );
    expect(await count(copyKeys, keyRows)).toBe(keysBefore);
    copy = space.kernelOn(copyData, copyKeys);
    try {
      for (const [index, person] of fromR.entries()) {
        expect((await getPerson(copy.kernel, sales(), person.subjectId)).email).toBe(
          `fork-r-${index + 1}@example.be`,
        );
      }
      const aerts = shared[0]?.subjectId ?? 0;
      expect((await getPerson(copy.kernel, sales(), aerts)).email).toBe('aerts@example.be');
    } finally {
      await copy.close();
    }

    // T: A's later pair restored; R's key-store archive over it, alone or with A's data: refused.
    const otherData = await space.emptyDatabase('t_data');
    const otherKeys = await space.emptyDatabase('t_keys');
    const otherEnv = space.env(otherData, { KLUIS_KEYSTORE_URL: otherKeys });
    const good = await runCli(['restore', '--data', laterData, '--keys', laterKeys], otherEnv);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    const otherKeysBefore = await count(otherKeys, keyRows);
    const keysOnly = await runCli(['restore', '--force', '--keys', copyKeysArchive], otherEnv);
    expect(keysOnly.code).toBe(1);
    expect(keysOnly.stderr).toMatch(
      /this key-store archive does not belong with the current data: [1-9]\d* of \d+ encrypted fields .*or of a copy that went its own way since .*; nothing was restored/,
    );
    expect(keysOnly.stderr).not.toMatch(/older than the data/);
    expect(await count(otherKeys, keyRows)).toBe(otherKeysBefore);
    const both = await runCli(
      ['restore', '--force', '--data', laterData, '--keys', copyKeysArchive],
      otherEnv,
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(
      /this data archive was not made with this key-store archive: .*or of copies that went their own way since.*; nothing was restored/,
    );
    expect(await count(otherKeys, keyRows)).toBe(otherKeysBefore);
    expect(await count(otherData, "select count(*)::int as n from people where family_name = 'Forka'")).toBe(
      2,
    );
  }, 300_000);
});
