import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, startServer } from '../../test/cli.js';
import { runAsOwner, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant } from '../../test/kernel.js';
import { eraseSubject } from '../kernel/erasure/index.js';
import { type Kernel } from '../kernel/kernel.js';
import { DATA_MAP } from '../modules/data-map.js';
import { createPerson, getPerson, type UseCaseContext } from '../modules/parties/index.js';
import { assignNumber, importCdrFile } from '../modules/telephony/index.js';
import { asteriskLine, writeLines } from '../modules/telephony/telephony.test-helpers.js';
import type { Tenant } from '../modules/tenants/index.js';
import { withDatabase } from '../platform/database-url.js';
import { openBackupWorkspace, type BackupWorkspace } from './backup.test-helpers.js';
import { openArchive } from './restore.js';

let space: BackupWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let dir: string;
const cleanup: string[] = [];

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

/** A kernel over another data database with the current key store and master key. */
async function customerWithCalls(email: string, familyName: string, number: string, calls: number) {
  const person = await createPerson(kernel, sales(), {
    subjectType: 'customer',
    familyName,
    givenName: 'Test',
    email,
  });
  await assignNumber(
    kernel,
    { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose: 'telephony_service' },
    { number, subjectId: person.subjectId, from: new Date('2026-01-01T00:00:00Z') },
  );
  const lines = Array.from({ length: calls }, (_, index) =>
    asteriskLine({
      src: number,
      dst: '+3250123456',
      start: `2026-03-0${index + 1} 10:00:00`,
      answer: `2026-03-0${index + 1} 10:00:05`,
      end: `2026-03-0${index + 1} 10:01:05`,
      duration: 65,
      billsec: 60,
      uniqueId: `${familyName}-${index}`,
      sequence: index,
    }),
  );
  const file = await writeLines(dir, `${familyName}.csv`, lines);
  const summary = await importCdrFile(
    { kernel, connection: { connectionString: database.ownerUrl, assumeAppRole: true } },
    { tenantId: tenant.tenantId, file, format: 'asterisk', timeZone: 'UTC' },
  );
  expect(summary.imported).toBe(calls);
  return person;
}

async function count(ownerUrl: string, sql: string, values: unknown[] = []): Promise<number> {
  const result = await runAsOwner<{ n: number }>(ownerUrl, sql, values);
  return result.rows[0]?.n ?? -1;
}

async function tableCount(url: string): Promise<number> {
  return count(url, "select count(*)::int as n from pg_tables where schemaname = 'public'");
}

async function onlyFile(folder: string, prefix: string): Promise<string> {
  const files = (await readdir(folder)).filter((file) => file.startsWith(prefix));
  expect(files).toHaveLength(1);
  return path.join(folder, files[0] ?? '');
}

/** A copy of an archive with one table's entry changed and the manifest left as it was. */
async function damagedCopy(file: string, table: string, from: string, to: string): Promise<string> {
  const archive = await openArchive(file);
  const copy = path.join(dir, `damaged-${table}.zip`);
  try {
    const zip = new yazl.ZipFile();
    const written = pipeline(zip.outputStream, createWriteStream(copy));
    for (const entry of archive.manifest.tables) {
      const chunks: Buffer[] = [];
      for await (const chunk of await archive.open(entry.entry)) chunks.push(chunk as Buffer);
      let content = Buffer.concat(chunks);
      if (entry.name === table) {
        expect(content.toString('utf8')).toContain(from);
        content = Buffer.from(content.toString('utf8').replace(from, to));
      }
      zip.addBuffer(content, entry.entry);
    }
    zip.addBuffer(Buffer.from(JSON.stringify(archive.manifest)), 'manifest.json');
    zip.end();
    await written;
  } finally {
    archive.close();
  }
  return copy;
}

let anna: { subjectId: number };
let bert: { subjectId: number };
let dataArchive: string;
let keysArchive: string;

beforeAll(async () => {
  space = await openBackupWorkspace('kluis-backup-');
  ({ database, kernel, dir } = space);
  tenant = await createPolicyTenant(kernel, 'voxtra');
  anna = await customerWithCalls('anna.gone@example.be', 'Annasdottir', '+32471000001', 3);
  bert = await customerWithCalls('bert.stays@example.be', 'Bertens', '+32471000002', 2);
});
afterAll(async () => {
  await space.close();
  for (const folder of cleanup) await rm(folder, { recursive: true, force: true });
});

describe('kluis backup and kluis restore (issue 12, issue 11 erasure journal)', () => {
  it('writes two archives, data and key store, each with a manifest (version, migration level, time, checksums)', async () => {
    const out = path.join(dir, 'backups');
    const result = await runCli(['backup', '--out', out], space.env(database.ownerUrl));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^data backup: .*kluis-data-.*\.zip \(\d+ tables, \d+ rows, [\d.]+ MiB\)$/m,
    );
    expect(result.stdout).toMatch(/^key-store backup: .*kluis-keys-.*\.zip/m);
    const files = (await readdir(out)).sort();
    expect(files).toHaveLength(2);
    keysArchive = path.join(out, files.find((file) => file.startsWith('kluis-keys-')) ?? '');
    dataArchive = path.join(out, files.find((file) => file.startsWith('kluis-data-')) ?? '');

    const data = await openArchive(dataArchive);
    try {
      expect(data.manifest).toMatchObject({ format: 'kluis-backup', kind: 'data', kluisVersion: '0.1.0' });
      const level = await count(database.ownerUrl, 'select max(version)::int as n from schema_migrations');
      expect(data.manifest.migrationLevel).toBe(level);
      const calls = data.manifest.tables.find((table) => table.name === 'call_records');
      expect(calls?.rows).toBe(5);
      expect(calls?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(data.manifest.partitions.map((partition) => partition.parent)).toContain('call_records');
      expect(data.manifest.tables.map((table) => table.name)).not.toContain('data_keys');
    } finally {
      data.close();
    }
    const keys = await openArchive(keysArchive);
    try {
      expect(keys.manifest.kind).toBe('keys');
      expect(keys.manifest.tables.map((table) => table.name)).toEqual(
        expect.arrayContaining(['data_keys', 'erasure_journal']),
      );
      expect(keys.manifest.masterKeyCheck).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      keys.close();
    }
  });

  it('back up, change and erase, restore into an empty database: the state of the backup minus the later erasure', async () => {
    // After the backup: a new person, and Anna is erased.
    const carla = await createPerson(kernel, sales(), {
      subjectType: 'customer',
      familyName: 'Carlier',
      givenName: 'Carla',
      email: 'carla.new@example.be',
    });
    await eraseSubject(kernel, DATA_MAP, { ...officer(), subjectId: anna.subjectId });
    // Carla came and went after the backup: her number must never be handed out again.
    await eraseSubject(kernel, DATA_MAP, { ...officer(), subjectId: carla.subjectId });
    const journal = await count(
      database.keystoreOwnerUrl,
      'select count(*)::int as n from erasure_journal where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, anna.subjectId],
    );
    expect(journal).toBe(1);

    const target = await space.emptyDatabase('restored');
    const restored = await runCli(['restore', '--data', dataArchive], space.env(target));
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/^data restored: \d+ tables, \d+ rows, backup of /m);
    expect(restored.stdout).toContain('erasure journal: 1 person erased after the backup erased again');

    const other = space.kernelOn(target);
    try {
      // Bert is as he was, with his encrypted e-mail readable and his calls.
      expect((await getPerson(other.kernel, sales(), bert.subjectId)).email).toBe('bert.stays@example.be');
      expect(
        await count(target, 'select count(*)::int as n from call_records where subject_id = $1', [
          bert.subjectId,
        ]),
      ).toBe(2);
      // Carla came after the backup: not there.
      expect(
        await count(target, 'select count(*)::int as n from data_subjects where subject_id = $1', [
          carla.subjectId,
        ]),
      ).toBe(0);
      // Anna was erased after the backup: erased again, name and calls gone.
      await expect(getPerson(other.kernel, sales(), anna.subjectId)).rejects.toMatchObject({
        code: 'subject_erased',
      });
      expect(
        await count(target, 'select count(*)::int as n from call_records where subject_id = $1', [
          anna.subjectId,
        ]),
      ).toBe(0);
      expect(
        await count(target, "select count(*)::int as n from people where family_name = 'Annasdottir'"),
      ).toBe(0);
      // A new person never gets the number of someone erased since the backup.
      const next = await createPerson(other.kernel, sales(), {
        subjectType: 'customer',
        familyName: 'Nieuw',
        givenName: 'Nina',
      });
      expect(next.subjectId).toBeGreaterThan(carla.subjectId);
    } finally {
      await other.close();
    }

    const again = await runCli(['restore', '--data', dataArchive], space.env(target));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      /is not empty \(\d+ tables\): restore into an empty database, or add --force/,
    );
  });

  it('an older data backup restored over live data with the current key store: the erased person’s encrypted fields cannot be read and the rest is gone', async () => {
    // The archive itself still holds Anna's encrypted e-mail, which no current key opens.
    const archive = await openArchive(dataArchive);
    let annaRow: string | undefined;
    try {
      const people = archive.manifest.tables.find((table) => table.name === 'people');
      let text = '';
      for await (const chunk of await archive.open(people?.entry ?? '')) text += (chunk as Buffer).toString();
      annaRow = text.split('\n').find((line) => line.includes('Annasdottir'));
    } finally {
      archive.close();
    }
    expect(annaRow).toBeDefined();
    expect(annaRow).not.toContain('anna.gone');
    const key = await count(
      database.keystoreOwnerUrl,
      `select count(*)::int as n from data_keys where tenant_id = $1 and owner_kind = 'subject'
          and owner_ref = $2 and wrapped is null and destroyed_at is not null`,
      [tenant.tenantId, String(anna.subjectId)],
    );
    expect(key).toBe(1);

    const target = withDatabase(inject('serverUrl'), `${database.name}_restored`);
    // A running Kluis is never overwritten, not even with --force.
    const live = new pg.Client({ connectionString: target, application_name: 'kluis' });
    await live.connect();
    const refused = await runCli(['restore', '--data', dataArchive, '--force'], space.env(target));
    await live.end();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Kluis is running on database .*: stop it before restoring/);

    const forced = await runCli(['restore', '--data', dataArchive, '--force'], space.env(target));
    expect(forced.stderr).toBe('');
    expect(forced.stdout).toContain('erasure journal: 1 person erased after the backup erased again');
    expect(
      await count(target, "select count(*)::int as n from people where family_name = 'Annasdottir'"),
    ).toBe(0);
    expect(
      await count(target, 'select count(*)::int as n from call_records where subject_id = $1', [
        anna.subjectId,
      ]),
    ).toBe(0);
    expect(
      await count(
        target,
        'select count(*)::int as n from data_subjects where erased_at is not null and subject_id = $1',
        [anna.subjectId],
      ),
    ).toBe(1);
  });

  it('kluis serve replays the journal before it serves when the data is behind it', async () => {
    const target = withDatabase(inject('serverUrl'), `${database.name}_restored`);
    // As if Bert had been erased in the key store's timeline after this data was restored.
    const created = await runAsOwner<{ created_at: Date }>(
      target,
      'select created_at from data_subjects where subject_id = $1',
      [bert.subjectId],
    );
    await runAsOwner(
      database.keystoreOwnerUrl,
      'insert into erasure_journal (tenant_id, subject_id, subject_created_at, erased_at) values ($1, $2, $3, now())',
      [tenant.tenantId, bert.subjectId, created.rows[0]?.created_at],
    );
    const server = await startServer(space.env(target, { KLUIS_PORT: '0', KLUIS_DEMO: 'false' }));
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      expect(
        await count(target, 'select count(*)::int as n from call_records where subject_id = $1', [
          bert.subjectId,
        ]),
      ).toBe(0);
      expect(await count(target, "select count(*)::int as n from people where family_name = 'Bertens'")).toBe(
        0,
      );
    } finally {
      server.child.kill('SIGINT');
      await server.exited;
    }
  });

  it('a damaged archive is refused and changes nothing; a key-store archive needs the master key it was made with', async () => {
    const target = await space.emptyDatabase('damaged');
    const notZip = path.join(dir, 'data.csv');
    await writeLines(dir, 'data.csv', ['not,a,backup']);
    const bad = await runCli(['restore', '--data', notZip], space.env(target));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is not a Kluis backup/);
    const wrongKind = await runCli(['restore', '--data', keysArchive], space.env(target));
    expect(wrongKind.code).toBe(1);
    expect(wrongKind.stderr).toContain('this is a keys archive, not a data archive');
    const keysTarget = await space.emptyDatabase('damaged_keys');
    const otherKey = await runCli(
      ['restore', '--keys', keysArchive],
      space.env(target, {
        KLUIS_KEYSTORE_URL: keysTarget,
        KLUIS_MASTER_KEY: randomBytes(32).toString('base64'),
      }),
    );
    expect(otherKey.code).toBe(1);
    expect(otherKey.stderr).toMatch(/backed up under another master key/);
    expect(await count(target, "select count(*)::int as n from pg_tables where schemaname = 'public'")).toBe(
      0,
    );
  });

  it('a damaged data archive with a good key-store archive, with and without --force, leaves the key store and the data as they were; the good pair then restores (attack S22-3)', async () => {
    const damaged = await damagedCopy(dataArchive, 'people', 'Bertens', 'BERTENS');
    const dataTarget = await space.emptyDatabase('s22_data');
    const keysTarget = await space.emptyDatabase('s22_keys');
    const env = space.env(dataTarget, { KLUIS_KEYSTORE_URL: keysTarget });

    const intoEmpty = await runCli(['restore', '--data', damaged, '--keys', keysArchive], env);
    expect(intoEmpty.code).toBe(1);
    expect(intoEmpty.stdout).not.toMatch(/restored:/);
    expect(intoEmpty.stderr).toMatch(
      /archive entry tables\/people\.copy is damaged \(checksum differs\); nothing was restored: the data and the key store are as they were/,
    );
    expect(await tableCount(dataTarget)).toBe(0);
    expect(await tableCount(keysTarget)).toBe(0);

    const good = await runCli(['restore', '--data', dataArchive, '--keys', keysArchive], env);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^data restored: /m);
    expect(good.stdout).toMatch(/^key-store restored: /m);

    // Marks on both sides: a replaced database would lose them.
    await runAsOwner(dataTarget, `update people set given_name = 'Mark' where subject_id = $1`, [
      bert.subjectId,
    ]);
    await runAsOwner(
      keysTarget,
      `insert into data_keys (tenant_id, owner_kind, owner_ref, kek_version, wrapped, destroyed_at)
       values ($1, 'subject', 'mark', 1, null, now())`,
      [tenant.tenantId],
    );
    const keysBefore = await count(keysTarget, 'select count(*)::int as n from data_keys');
    const forced = await runCli(['restore', '--force', '--data', damaged, '--keys', keysArchive], env);
    expect(forced.code).toBe(1);
    expect(forced.stdout).not.toMatch(/restored:/);
    expect(forced.stderr).toMatch(/is damaged \(checksum differs\); nothing was restored/);
    expect(await count(keysTarget, 'select count(*)::int as n from data_keys')).toBe(keysBefore);
    expect(await count(keysTarget, "select count(*)::int as n from data_keys where owner_ref = 'mark'")).toBe(
      1,
    );
    expect(
      await count(
        dataTarget,
        `select count(*)::int as n from people where given_name = 'Mark' and subject_id = $1`,
        [bert.subjectId],
      ),
    ).toBe(1);

    const again = await runCli(['restore', '--force', '--data', dataArchive, '--keys', keysArchive], env);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(await count(keysTarget, "select count(*)::int as n from data_keys where owner_ref = 'mark'")).toBe(
      0,
    );
    expect(await count(dataTarget, "select count(*)::int as n from people where given_name = 'Mark'")).toBe(
      0,
    );
  });

  it('a key-store archive older than the data archive is refused before anything is written, naming how many people would lose their keys (attack S22-3)', async () => {
    const out = path.join(dir, 's22-pair');
    const keysBackup = await runCli(
      ['backup', '--only', 'keys', '--out', path.join(out, 'old')],
      space.env(database.ownerUrl),
    );
    expect(keysBackup.code).toBe(0);
    // After the key backup: a person with an e-mail address, whose data key it does not hold.
    await createPerson(kernel, sales(), {
      subjectType: 'customer',
      familyName: 'Later',
      givenName: 'Lena',
      email: 'lena.later@example.be',
    });
    const dataBackup = await runCli(['backup', '--out', path.join(out, 'new')], space.env(database.ownerUrl));
    expect(dataBackup.code).toBe(0);
    const oldKeys = await onlyFile(path.join(out, 'old'), 'kluis-keys-');
    const newData = await onlyFile(path.join(out, 'new'), 'kluis-data-');
    const newKeys = await onlyFile(path.join(out, 'new'), 'kluis-keys-');

    const dataTarget = await space.emptyDatabase('s22_old_data');
    const keysTarget = await space.emptyDatabase('s22_old_keys');
    const env = space.env(dataTarget, { KLUIS_KEYSTORE_URL: keysTarget });
    const refused = await runCli(['restore', '--data', newData, '--keys', oldKeys], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).not.toMatch(/restored:/);
    expect(refused.stderr).toMatch(
      /the key-store archive \(backup of [^)]+\) holds no data key for 1 person \(in 1 tenant\) whose encrypted fields the data archive \(backup of [^)]+\) holds; .*it is older than the data: restore the key-store archive made with this data backup or a later one; nothing was restored/,
    );
    expect(await tableCount(dataTarget)).toBe(0);
    expect(await tableCount(keysTarget)).toBe(0);

    // Over an installation restored from the newer pair, --force does not let the old keys in either.
    const good = await runCli(['restore', '--data', newData, '--keys', newKeys], env);
    expect(good.code).toBe(0);
    const keysBefore = await count(keysTarget, 'select count(*)::int as n from data_keys');
    const forcedKeysOnly = await runCli(['restore', '--force', '--keys', oldKeys], env);
    expect(forcedKeysOnly.code).toBe(1);
    expect(forcedKeysOnly.stderr).toMatch(
      /holds no data key for 1 person \(in 1 tenant\) whose encrypted fields the current data holds/,
    );
    expect(await count(keysTarget, 'select count(*)::int as n from data_keys')).toBe(keysBefore);
  });

  it('another installation’s archives, numbered alike and under the same master key, are refused before anything is written: its data with and without --keys, its key store alone; the good pair still restores (attack S23-3)', async () => {
    // Installation B: its own databases, the same master key, the same tenant and subject numbers.
    const other = await openBackupWorkspace('kluis-backup-other-', { masterKey: space.masterKey });
    try {
      const otherTenant = await createPolicyTenant(other.kernel, 'voxtra');
      expect(otherTenant.tenantId).toBe(tenant.tenantId);
      const otherSales = { ...sales(), tenantId: otherTenant.tenantId };
      const bo = await createPerson(other.kernel, otherSales, {
        subjectType: 'customer',
        familyName: 'Otherson',
        givenName: 'Bo',
        email: 'bo.other@example.be',
        phone: '0471 99 99 99',
      });
      expect(bo.subjectId).toBeLessThanOrEqual(bert.subjectId);
      const otherOut = path.join(dir, 's23-other');
      const otherBackup = await runCli(['backup', '--out', otherOut], other.env(other.database.ownerUrl));
      expect(otherBackup.code).toBe(0);
      const otherData = await onlyFile(otherOut, 'kluis-data-');
      const otherKeys = await onlyFile(otherOut, 'kluis-keys-');

      // Installation A, restored from its own pair.
      const dataTarget = await space.emptyDatabase('s23_data');
      const keysTarget = await space.emptyDatabase('s23_keys');
      const env = space.env(dataTarget, { KLUIS_KEYSTORE_URL: keysTarget });
      const good = await runCli(['restore', '--data', dataArchive, '--keys', keysArchive], env);
      expect(good.code).toBe(0);
      const people = 'select count(*)::int as n from people';
      const peopleBefore = await count(dataTarget, people);
      const keysBefore = await count(keysTarget, 'select count(*)::int as n from data_keys');
      const unchanged = async () => {
        expect(await count(dataTarget, people)).toBe(peopleBefore);
        expect(
          await count(dataTarget, "select count(*)::int as n from people where family_name = 'Otherson'"),
        ).toBe(0);
        expect(await count(keysTarget, 'select count(*)::int as n from data_keys')).toBe(keysBefore);
      };

      const dataOnly = await runCli(['restore', '--force', '--data', otherData], env);
      expect(dataOnly.code).toBe(1);
      expect(dataOnly.stdout).not.toMatch(/restored:/);
      expect(dataOnly.stderr).toMatch(
        /this data archive was not made with this key store: \d+ of \d+ encrypted fields tried in 1 tenant do not open with its data keys; it is a backup of another installation, or of a copy that went its own way since .*; nothing was restored: the data and the key store are as they were/,
      );
      await unchanged();

      const withOurKeys = await runCli(
        ['restore', '--force', '--data', otherData, '--keys', keysArchive],
        env,
      );
      expect(withOurKeys.code).toBe(1);
      expect(withOurKeys.stderr).toMatch(
        /this data archive was not made with this key-store archive: .*backups of different installations.*; nothing was restored/,
      );
      await unchanged();

      const keysOnly = await runCli(['restore', '--force', '--keys', otherKeys], env);
      expect(keysOnly.code).toBe(1);
      expect(keysOnly.stderr).toMatch(
        /this key-store archive does not belong with the current data: .*it is a backup of another installation.*; nothing was restored/,
      );
      expect(keysOnly.stderr).not.toMatch(/older than the data/);
      await unchanged();

      const again = await runCli(['restore', '--force', '--data', dataArchive, '--keys', keysArchive], env);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      expect(await count(dataTarget, people)).toBe(peopleBefore);
    } finally {
      await other.close();
    }
  }, 240_000);

  it('an archive entry named ../../x or /etc/x ends with "nothing was restored" and writes nothing (attack S23-3)', async () => {
    const target = await space.emptyDatabase('s23_paths');
    for (const [stand, unsafe] of [
      ['aa/aa/x', '../../x'],
      ['Xetc/x', '/etc/x'],
    ] as const) {
      // yazl refuses such names: write a safe one of the same length and change it in place.
      const file = path.join(dir, `unsafe-${stand.length}.zip`);
      const zip = new yazl.ZipFile();
      const written = pipeline(zip.outputStream, createWriteStream(file));
      zip.addBuffer(Buffer.from('x'), stand);
      zip.addBuffer(Buffer.from('{}'), 'manifest.json');
      zip.end();
      await written;
      const bytes = await readFile(file);
      await writeFile(file, Buffer.from(bytes.toString('latin1').replaceAll(stand, unsafe), 'latin1'));
      const refused = await runCli(['restore', '--data', file], space.env(target));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /is not a Kluis backup \(.*\); nothing was restored: the data and the key store are as they were/,
      );
      expect(refused.stderr).not.toMatch(/unexpected error/);
    }
    expect(await tableCount(target)).toBe(0);
  });

  it('on the embedded PostgreSQL: both archives of one data folder restore into an empty data folder', async () => {
    const key = { KLUIS_MASTER_KEY: space.masterKey.toString('base64'), KLUIS_PG_PORT: '0' };
    // Folders of their own in the temp folder: the server runs as `postgres` and must reach them.
    const first = { ...key, KLUIS_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'kluis-embedded-a-')) };
    const second = { ...key, KLUIS_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'kluis-embedded-b-')) };
    cleanup.push(first.KLUIS_DATA_DIR, second.KLUIS_DATA_DIR);
    const created = await runCli(
      ['tenant', 'create', '--policy', 'policies/voxtra.yaml', '--slug', 'voxtra'],
      first,
    );
    expect(created.code).toBe(0);
    const staff = await runCli(
      ['staff', 'create', '--tenant', 'voxtra', '--email', 'tech@voxtra.example', '--role', 'technician'],
      first,
    );
    expect(staff.code).toBe(0);
    const out = path.join(dir, 'embedded-backups');
    const backup = await runCli(['backup', '--out', out], first);
    expect(backup.code).toBe(0);
    const files = (await readdir(out)).sort();
    const [data, keys] = [files.find((f) => f.includes('-data-')), files.find((f) => f.includes('-keys-'))];
    const restored = await runCli(
      ['restore', '--data', path.join(out, data ?? ''), '--keys', path.join(out, keys ?? '')],
      second,
      120_000,
    );
    // (stderr may carry a warning of a pooled connection the stopping server closed)
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/^key-store restored: /m);
    expect(restored.stdout).toMatch(/^data restored: /m);
    // The restored staff account decrypts with the restored key store.
    const listed = await runCli(['staff', 'list', '--tenant', 'voxtra'], second);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('tech@voxtra.example');
  }, 240_000);
});
