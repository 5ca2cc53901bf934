/**
 * Attack S23B-3, decision 1150: a copy restored from this installation's backup shares its old
 * data keys; once both made new people, each with keys of its own, a later archive of one must
 * not be restored into the other. The restore's sample opens the newest rows and the rows of the
 * newest keys' people too, not only the oldest rows both copies share. Attack S24-3, decision
 * 1240: when the copy erased all its new people no live key of theirs is left to try; the key
 * store's erasure journal then names them under numbers the data holds as other people.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { runAsOwner } from '../../test/database.js';
import { createPolicyTenant } from '../../test/kernel.js';
import { eraseSubject } from '../kernel/erasure/index.js';
import { DATA_MAP } from '../modules/data-map.js';
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

const officer = () => ({
  tenantId: tenant.tenantId,
  actor: { kind: 'staff' as const, staffId: 9, role: 'privacy_officer' },
  purpose: 'rights_requests',
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

/** R: a copy of A (a standby, a staging copy), restored from A's pair in `first`. */
async function restoredCopy(first: string, tag: string) {
  const copyData = await space.emptyDatabase(`${tag}_data`);
  const copyKeys = await space.emptyDatabase(`${tag}_keys`);
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
  return { copyData, copyKeys, copyEnv };
}

/** A later backup of A (data and keys) and an archive of R's key store alone. */
async function laterArchives(copyEnv: Record<string, string>, tag: string) {
  const later = path.join(space.dir, `later${tag}`);
  expect((await runCli(['backup', '--out', later], space.env(space.database.ownerUrl))).code).toBe(0);
  const copyBackup = path.join(space.dir, `copy${tag}`);
  expect((await runCli(['backup', '--only', 'keys', '--out', copyBackup], copyEnv)).code).toBe(0);
  return {
    laterData: await onlyFile(later, 'kluis-data-'),
    laterKeys: await onlyFile(later, 'kluis-keys-'),
    copyKeysArchive: await onlyFile(copyBackup, 'kluis-keys-'),
  };
}

const KEY_ROWS = 'select count(*)::int as n from data_keys';

/**
 * T: A's later pair restored into a third installation; R's key-store archive over it, alone
 * and with A's data, refused as `refusals` say, nothing written to the key store.
 */
async function refusedOverThirdInstallation(
  tag: string,
  archives: Awaited<ReturnType<typeof laterArchives>>,
  refusals: { keysOnly: RegExp; both: RegExp },
) {
  const otherData = await space.emptyDatabase(`${tag}_data`);
  const otherKeys = await space.emptyDatabase(`${tag}_keys`);
  const otherEnv = space.env(otherData, { KLUIS_KEYSTORE_URL: otherKeys });
  const good = await runCli(
    ['restore', '--data', archives.laterData, '--keys', archives.laterKeys],
    otherEnv,
  );
  expect(good.stderr).toBe('');
  expect(good.code).toBe(0);
  const otherKeysBefore = await count(otherKeys, KEY_ROWS);
  const keysOnly = await runCli(['restore', '--force', '--keys', archives.copyKeysArchive], otherEnv);
  expect(keysOnly.code).toBe(1);
  expect(keysOnly.stderr).toMatch(refusals.keysOnly);
  expect(keysOnly.stderr).not.toMatch(/older than the data/);
  expect(await count(otherKeys, KEY_ROWS)).toBe(otherKeysBefore);
  const both = await runCli(
    ['restore', '--force', '--data', archives.laterData, '--keys', archives.copyKeysArchive],
    otherEnv,
  );
  expect(both.code).toBe(1);
  expect(both.stderr).toMatch(refusals.both);
  expect(await count(otherKeys, KEY_ROWS)).toBe(otherKeysBefore);
  return { otherData, otherKeys };
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

    const { copyData, copyKeys, copyEnv } = await restoredCopy(first, 'r');

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

    const archives = await laterArchives(copyEnv, '');
    const { laterData } = archives;

    // --data of A's later backup into R (R's key store stays): refused, nothing written.
    const people = 'select count(*)::int as n from people';
    const peopleBefore = await count(copyData, people);
    const keysBefore = await count(copyKeys, KEY_ROWS);
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
    expect(await count(copyKeys, KEY_ROWS)).toBe(keysBefore);
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
    const { otherData } = await refusedOverThirdInstallation('t', archives, {
      keysOnly:
        /this key-store archive does not belong with the current data: [1-9]\d* of \d+ encrypted fields .*or of a copy that went its own way since .*; nothing was restored/,
      both: /this data archive was not made with this key-store archive: .*or of copies that went their own way since.*; nothing was restored/,
    });
    expect(await count(otherData, "select count(*)::int as n from people where family_name = 'Forka'")).toBe(
      2,
    );
  }, 300_000);

  it('backup of A, restored into R; both make new people; R erases all its new people; a later data archive of A restored into R is refused, nothing written; R’s key-store archive over A’s later data is refused with and without --data; R’s own older data with its key store still restores (attack S24-3)', async () => {
    const { database, kernel } = space;
    const make = (on: typeof kernel, familyName: string, email: string) =>
      createPerson(on, sales(), { subjectType: 'customer', familyName, givenName: 'Test', email });
    const shared = [];
    for (const name of ['Gielen', 'Hermans', 'Janssens'])
      shared.push(await make(kernel, name, `${name.toLowerCase()}@example.be`));
    const first = path.join(space.dir, 'first-s24');
    expect((await runCli(['backup', '--out', first], space.env(database.ownerUrl))).code).toBe(0);
    const firstData = await onlyFile(first, 'kluis-data-');

    const { copyData, copyKeys, copyEnv } = await restoredCopy(first, 'r24');

    // Both go on with the same subject numbers; R then erases every one of its new people, so
    // none of its keys is live any more and the sample of decision 1150 has nothing of theirs to try.
    const fromA = [
      await make(kernel, 'Forkx', 'fork-x-1@example.be'),
      await make(kernel, 'Forkx', 'fork-x-2@example.be'),
    ];
    let copy = space.kernelOn(copyData, copyKeys);
    try {
      const fromR = [
        await make(copy.kernel, 'Forky', 'fork-y-1@example.be'),
        await make(copy.kernel, 'Forky', 'fork-y-2@example.be'),
      ];
      expect(fromR.map((person) => person.subjectId)).toEqual(fromA.map((person) => person.subjectId));
      for (const person of fromR)
        await eraseSubject(copy.kernel, DATA_MAP, { ...officer(), subjectId: person.subjectId });
    } finally {
      await copy.close();
    }
    const destroyed = `select count(*)::int as n from data_keys where owner_kind = 'subject' and wrapped is null and owner_ref = any(array['${fromA.map((person) => person.subjectId).join("','")}'])`;
    expect(await count(copyKeys, destroyed)).toBe(2);

    const archives = await laterArchives(copyEnv, '-s24');
    const { laterData } = archives;

    // --data of A's later backup into R (R's key store stays): refused, nothing written.
    const people = 'select count(*)::int as n from people';
    const peopleBefore = await count(copyData, people);
    const keysBefore = await count(copyKeys, KEY_ROWS);
    const dataOnly = await runCli(['restore', '--force', '--data', laterData], copyEnv);
    expect(dataOnly.code).toBe(1);
    expect(dataOnly.stdout).not.toMatch(/restored:/);
    expect(dataOnly.stderr).toMatch(
      /this data archive was not made with this key store: 2 of [2-9]\d* erased people tried from the key store's erasure journal \(in 1 tenant\) are other people in the data, under the same number but made at another time; it is a backup of another installation, or of a copy that went its own way since .*; nothing was restored: the data and the key store are as they were/,
    );
    expect(await count(copyData, people)).toBe(peopleBefore);
    expect(await count(copyData, "select count(*)::int as n from people where family_name = 'Forkx'")).toBe(
      0,
    );
    expect(await count(copyKeys, KEY_ROWS)).toBe(keysBefore);
    copy = space.kernelOn(copyData, copyKeys);
    try {
      await expect(getPerson(copy.kernel, sales(), fromA[0]?.subjectId ?? 0)).rejects.toMatchObject({
        code: 'subject_erased',
      });
      expect((await getPerson(copy.kernel, sales(), shared[0]?.subjectId ?? 0)).email).toBe(
        'gielen@example.be',
      );
    } finally {
      await copy.close();
    }

    // T: A's later pair restored; R's key-store archive over it, alone or with A's data: refused.
    const { otherData, otherKeys } = await refusedOverThirdInstallation('t24', archives, {
      keysOnly:
        /this key-store archive does not belong with the current data: 2 of \d+ erased people tried from the key store's erasure journal .*or of a copy that went its own way since .*; nothing was restored/,
      both: /this data archive was not made with this key-store archive: 2 of \d+ erased people tried .*or of copies that went their own way since.*; nothing was restored/,
    });
    expect(await count(otherKeys, 'select count(*)::int as n from erasure_journal')).toBe(0);
    const forkPeople = "select count(*)::int as n from people where family_name = 'Forkx'";
    expect(await count(otherData, forkPeople)).toBe(2);
    copy = space.kernelOn(otherData, otherKeys);
    try {
      expect((await getPerson(copy.kernel, sales(), fromA[1]?.subjectId ?? 0)).email).toBe(
        'fork-x-2@example.be',
      );
    } finally {
      await copy.close();
    }

    // The legitimate ones still pass. R erases one of the people it shares with A (the same
    // person on both sides: the journal's creation time is the data's), then restores its own
    // older data with its key store, whose journal names people that data does not have yet.
    copy = space.kernelOn(copyData, copyKeys);
    try {
      await eraseSubject(copy.kernel, DATA_MAP, { ...officer(), subjectId: shared[1]?.subjectId ?? 0 });
    } finally {
      await copy.close();
    }
    const own = await runCli(['restore', '--force', '--data', firstData], copyEnv);
    expect(own.stderr).toBe('');
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('erasure journal: 1 person erased after the backup erased again');
    copy = space.kernelOn(copyData, copyKeys);
    try {
      expect((await getPerson(copy.kernel, sales(), shared[0]?.subjectId ?? 0)).email).toBe(
        'gielen@example.be',
      );
      await expect(getPerson(copy.kernel, sales(), shared[1]?.subjectId ?? 0)).rejects.toMatchObject({
        code: 'subject_erased',
      });
    } finally {
      await copy.close();
    }
  }, 300_000);

  it("an older data backup restored with the key store in use: a person made after the backup keeps their number, and the next new person gets a number of their own, not that person's data key (attack S25-8)", async () => {
    const { database, kernel } = space;
    const make = (on: typeof kernel, familyName: string, email: string) =>
      createPerson(on, sales(), { subjectType: 'customer', familyName, givenName: 'Test', email });
    await make(kernel, 'Kerckhofs', 'kerckhofs@example.be');
    const first = path.join(space.dir, 'first-s25');
    expect((await runCli(['backup', '--out', first], space.env(database.ownerUrl))).code).toBe(0);
    const { copyData, copyKeys, copyEnv } = await restoredCopy(first, 'r25');
    let copy = space.kernelOn(copyData, copyKeys);
    let lost: number;
    try {
      lost = (await make(copy.kernel, 'Lambrechts', 'lambrechts@example.be')).subjectId;
    } finally {
      await copy.close();
    }
    // The usual restore of older data: the person made since is lost from the data, their key stays.
    const older = await runCli(
      ['restore', '--force', '--data', await onlyFile(first, 'kluis-data-')],
      copyEnv,
    );
    expect(older.stderr).toBe('');
    expect(older.code).toBe(0);
    expect(
      await count(copyData, `select count(*)::int as n from data_subjects where subject_id = ${lost}`),
    ).toBe(0);
    copy = space.kernelOn(copyData, copyKeys);
    try {
      const next = await make(copy.kernel, 'Maes', 'maes@example.be');
      expect(next.subjectId).toBeGreaterThan(lost);
      expect((await getPerson(copy.kernel, sales(), next.subjectId)).email).toBe('maes@example.be');
    } finally {
      await copy.close();
    }
  }, 300_000);
});
