import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runAsOwner, testLogger } from '../../test/database.js';
import { withDatabase } from './database-url.js';
import { createAppDb } from './db.js';
import { migrate, MigrationError, readMigrations } from './migrate.js';

const serverUrl = inject('serverUrl');
const databaseName = `kluis_migrate_${process.pid}_${Date.now()}`;
const url = withDatabase(serverUrl, databaseName);

beforeAll(async () => {
  await runAsOwner(serverUrl, `create database ${databaseName}`);
});
afterAll(async () => {
  await runAsOwner(serverUrl, `drop database if exists ${databaseName} with (force)`);
});

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kluis-migrations-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

describe('migration runner', () => {
  it('applies numbered files once, in order, and records each with a checksum', async () => {
    const dir = await migrationsDir({
      '0001_first.sql': 'create table m_first (id int);',
      '0002_second.sql': 'alter table m_first add column name text;',
    });
    const first = await migrate(url, testLogger, dir);
    expect(first.applied).toEqual(['0001_first.sql', '0002_second.sql']);
    const second = await migrate(url, testLogger, dir);
    expect(second.applied).toEqual([]);
    const rows = await runAsOwner<{ version: number; checksum: string }>(
      url,
      'select version, checksum from schema_migrations order by version',
    );
    expect(rows.rows.map((row) => row.version)).toEqual([1, 2]);
    expect(rows.rows[0]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an applied migration whose file changed, and applies nothing', async () => {
    const dir = await migrationsDir({
      '0001_first.sql': 'create table m_first (id int); -- edited',
      '0002_second.sql': 'alter table m_first add column name text;',
      '0003_third.sql': 'create table m_third (id int);',
    });
    await expect(migrate(url, testLogger, dir)).rejects.toThrow(
      /0001_first\.sql was changed after it was applied/,
    );
    const third = await runAsOwner(url, "select to_regclass('m_third') as t");
    expect(third.rows[0]).toEqual({ t: null });
  });

  it('rolls back a migration that fails half-way and applies it once fixed', async () => {
    const broken = await migrationsDir({
      '0001_first.sql': 'create table m_first (id int);',
      '0002_second.sql': 'alter table m_first add column name text;',
      '0003_half.sql': 'create table m_half (id int); select * from no_such_table;',
    });
    await expect(migrate(url, testLogger, broken)).rejects.toThrow(MigrationError);
    await expect(migrate(url, testLogger, broken)).rejects.toThrow(
      /0003_half\.sql failed and was rolled back/,
    );
    const half = await runAsOwner(url, "select to_regclass('m_half') as t");
    expect(half.rows[0]).toEqual({ t: null });
    const fixed = await migrationsDir({
      '0001_first.sql': 'create table m_first (id int);',
      '0002_second.sql': 'alter table m_first add column name text;',
      '0003_half.sql': 'create table m_half (id int);',
    });
    expect((await migrate(url, testLogger, fixed)).applied).toEqual(['0003_half.sql']);
  });

  it('refuses to run against a database with a migration it does not know', async () => {
    const older = await migrationsDir({ '0001_first.sql': 'create table m_first (id int);' });
    await expect(migrate(url, testLogger, older)).rejects.toThrow(/does not know/);
  });

  it('refuses new migrations while a running Kluis is connected to the database, naming its sessions, and applies them once it stopped (decision 0740)', async () => {
    const known = {
      '0001_first.sql': 'create table m_first (id int);',
      '0002_second.sql': 'alter table m_first add column name text;',
      '0003_half.sql': 'create table m_half (id int);',
    };
    const upgrade = await migrationsDir({ ...known, '0004_fourth.sql': 'create table m_fourth (id int);' });
    const running = new pg.Client({ connectionString: url, application_name: 'kluis-jobs' });
    const someoneElse = new pg.Client({ connectionString: url, application_name: 'operator-console' });
    await running.connect();
    await someoneElse.connect();
    try {
      // A second server of the same version starting beside it has nothing to apply: no refusal.
      expect((await migrate(url, testLogger, await migrationsDir(known))).applied).toEqual([]);
      const pid = (await running.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
      await expect(migrate(url, testLogger, upgrade)).rejects.toThrow(
        new RegExp(
          `a running Kluis is connected to this database \\(pid ${String(pid)} kluis-jobs from [^)]+\\): stop every Kluis process before applying 1 new migration\\(s\\) from 0004_fourth\\.sql on`,
        ),
      );
      const fourth = await runAsOwner(url, "select to_regclass('m_fourth') as t");
      expect(fourth.rows[0]).toEqual({ t: null });
    } finally {
      await running.end();
    }
    try {
      // Only Kluis's own sessions stop an upgrade; an operator's SQL console does not.
      expect((await migrate(url, testLogger, upgrade)).applied).toEqual(['0004_fourth.sql']);
    } finally {
      await someoneElse.end();
    }
  });

  it('a running Kluis whose DATABASE_URL names its connections otherwise (?application_name=…) is still seen, and the migration waits (attack S13-1, decision 0740)', async () => {
    const known = {
      '0001_first.sql': 'create table m_first (id int);',
      '0002_second.sql': 'alter table m_first add column name text;',
      '0003_half.sql': 'create table m_half (id int);',
      '0004_fourth.sql': 'create table m_fourth (id int);',
    };
    const upgrade = await migrationsDir({ ...known, '0005_fifth.sql': 'create table m_fifth (id int);' });
    const monitored = new URL(url);
    monitored.searchParams.set('application_name', 'acme-backoffice');
    const { db } = createAppDb({
      connectionString: monitored.toString(),
      assumeAppRole: false,
      logger: testLogger,
    });
    try {
      await sql`select 1`.execute(db);
      await expect(migrate(url, testLogger, upgrade)).rejects.toThrow(
        /a running Kluis is connected to this database \(pid \d+ kluis from /,
      );
      const names = await runAsOwner<{ name: string }>(
        url,
        "select distinct application_name as name from pg_stat_activity where datname = current_database() and application_name like 'acme%'",
      );
      expect(names.rows).toEqual([]);
    } finally {
      await db.destroy();
    }
    expect((await migrate(url, testLogger, upgrade)).applied).toEqual(['0005_fifth.sql']);
  });

  it('rejects misnamed and duplicate migration files', async () => {
    await expect(readMigrations(await migrationsDir({ '1_bad.sql': 'select 1;' }))).rejects.toThrow(
      /NNNN_lowercase_name/,
    );
    await expect(
      readMigrations(await migrationsDir({ '0001_a.sql': 'select 1;', '0001_b.sql': 'select 1;' })),
    ).rejects.toThrow(/used twice/);
  });

  it('the shipped migrations read cleanly, start at 1 and are applied in ascending order', async () => {
    const versions = (await readMigrations()).map((migration) => migration.version);
    expect(versions[0]).toBe(1);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });
});
