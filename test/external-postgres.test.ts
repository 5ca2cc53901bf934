import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedServer } from '../src/platform/embedded-postgres.js';
import { runCli } from './cli.js';
import { runAsOwner, testLogger } from './database.js';

/**
 * A second PostgreSQL server, set up as the README's "External PostgreSQL" tells an
 * administrator to: a login without superuser, CREATEROLE or CREATEDB that owns its two
 * databases, and `kluis_app` created beforehand and granted to it.
 */
let server: EmbeddedServer;
let dataDir: string;
let work: string;
const PASSWORD = 'owner-secret-4711';

function loginUrl(database: string): string {
  return `postgres://kluis_owner:${PASSWORD}@127.0.0.1:${server.port}/${database}`;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-external-'));
  work = await mkdtemp(path.join(os.tmpdir(), 'kluis-external-work-'));
  server = await startEmbeddedPostgres({ dataDir, preferredPort: 0, logger: testLogger, persistent: false });
  const admin = server.url('postgres');
  await runAsOwner(
    admin,
    `create role kluis_owner login password '${PASSWORD}' nosuperuser nocreaterole nocreatedb nobypassrls`,
  );
  await runAsOwner(admin, 'create role kluis_app nologin nosuperuser nobypassrls');
  await runAsOwner(admin, 'grant kluis_app to kluis_owner');
  for (const database of ['kluis', 'kluis_keys', 'kluis_restored']) {
    await runAsOwner(admin, `create database ${database} owner kluis_owner`);
  }
}, 120_000);

afterAll(async () => {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('External PostgreSQL with a login that is not a superuser (README setup)', () => {
  it('migrates, creates a tenant, and backs up and restores with nothing but Kluis', async () => {
    const env = {
      DATABASE_URL: loginUrl('kluis'),
      KLUIS_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      KLUIS_DATA_DIR: path.join(work, 'data'),
    };
    const migrated = await runCli(['migrate'], env);
    expect(migrated.stderr).toBe('');
    expect(migrated.stdout).toContain('migrations: up to date');

    const created = await runCli(
      ['tenant', 'create', '--policy', 'policies/voxtra.yaml', '--slug', 'voxtra'],
      env,
    );
    expect(created.stderr).toBe('');
    const staff = await runCli(
      ['staff', 'create', '--tenant', 'voxtra', '--email', 'tech@voxtra.example', '--role', 'technician'],
      env,
    );
    expect(staff.code).toBe(0);
    // The app's queries run as kluis_app: the login is a member, not a superuser.
    const roles = await runAsOwner<{ rolsuper: boolean; member: boolean }>(
      server.url('kluis'),
      `select rolsuper, pg_has_role('kluis_owner', 'kluis_app', 'MEMBER') as member
         from pg_roles where rolname = 'kluis_owner'`,
    );
    expect(roles.rows).toEqual([{ rolsuper: false, member: true }]);

    const out = path.join(work, 'backups');
    const backup = await runCli(['backup', '--out', out], env);
    expect(backup.stderr).toBe('');
    const data = (await readdir(out)).find((file) => file.startsWith('kluis-data-')) ?? '';
    const restoreEnv = {
      ...env,
      DATABASE_URL: loginUrl('kluis_restored'),
      KLUIS_KEYSTORE_URL: loginUrl('kluis_keys'),
    };
    const restored = await runCli(['restore', '--data', path.join(out, data)], restoreEnv);
    expect(restored.stderr).toBe('');
    expect(restored.stdout).toMatch(/^data restored: /m);
    const listed = await runCli(['staff', 'list', '--tenant', 'voxtra'], restoreEnv);
    expect(listed.stdout).toContain('tech@voxtra.example');
  }, 240_000);
});
