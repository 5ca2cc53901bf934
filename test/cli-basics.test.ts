import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from './cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from './database.js';

/*
 * The CLI's answers that bound no time (split from test/lifecycle.test.ts, whose stops and
 * restarts run alone with the timed files): they run beside the other files.
 */
let database: TestDatabase;
let dataDirForKeys: string;
beforeAll(async () => {
  database = await createTestDatabase();
  dataDirForKeys = await mkdtemp(path.join(os.tmpdir(), 'kluis-keys-'));
});
afterAll(async () => database.close());

describe('kluis serve refuses to start', () => {
  it('a port in use gives one clear message and a non-zero exit', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const result = await runCli(['serve'], { DATABASE_URL: database.ownerUrl, KLUIS_PORT: String(port) });
    blocker.close();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`port ${port} is already in use; set KLUIS_PORT`);
  });

  it('an unreachable database gives one clear message without the password', async () => {
    const result = await runCli(['serve'], {
      DATABASE_URL: 'postgres://kluis:hunter2secret@127.0.0.1:1/kluis',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot connect to the database at 127.0.0.1:1/kluis');
    expect(result.stderr + result.stdout).not.toContain('hunter2secret');
  });

  it('a malformed setting stops startup naming the variable, not its value', async () => {
    const result = await runCli(['serve'], { KLUIS_PORT: 'not-a-port-xyz' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('KLUIS_PORT');
    expect(result.stderr).not.toContain('not-a-port-xyz');
  });
});

describe('kluis CLI', () => {
  it('kluis tenant create creates a tenant; a bad slug is refused and writes nothing', async () => {
    const env = { DATABASE_URL: database.ownerUrl };
    const created = await runCli(['tenant', 'create', '--name', 'Acme BV', '--slug', 'acme'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/tenant acme created/);
    const bad = await runCli(['tenant', 'create', '--name', 'Bad', '--slug', 'Bad Slug!'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/slug/);
    const rows = await runAsOwner<{ slug: string }>(
      database.ownerUrl,
      "select slug from tenants where name in ('Acme BV', 'Bad')",
    );
    expect(rows.rows).toEqual([{ slug: 'acme' }]);
  });

  it('bad arguments print usage and exit non-zero', async () => {
    const missing = await runCli(['tenant', 'create', '--slug', 'x']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/give --policy <file>, or --name <name> and --slug <slug>/);
    expect(missing.stderr).toMatch(/Usage: kluis tenant create/);
    const noFile = await runCli(['tenant', 'policy', 'set', '--tenant', 'x']);
    expect(noFile.code).not.toBe(0);
    expect(noFile.stderr).toMatch(/missing required argument 'file'/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command/);
  });

  it('VK-29: a tenant is created from a policy; a new version replaces it, an invalid one changes nothing', async () => {
    const env = { DATABASE_URL: database.ownerUrl, KLUIS_DATA_DIR: dataDirForKeys };
    const created = await runCli(
      ['tenant', 'create', '--policy', 'policies/voxtra.yaml', '--slug', 'voxtra-cli'],
      env,
    );
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/tenant voxtra-cli created \(id \d+\), policy version 1 installed/);
    const tenants = await runAsOwner<{ name: string }>(
      database.ownerUrl,
      "select name from tenants where slug = 'voxtra-cli'",
    );
    expect(tenants.rows).toEqual([{ name: 'Voxtra bvba' }]);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'kluis-policy-'));
    const source = await readFile(path.join(ROOT, 'policies/voxtra.yaml'), 'utf8');
    await writeFile(path.join(dir, 'v2.yaml'), source.replace("version: '2026.1'", "version: '2026.2'"));
    const replaced = await runCli(
      ['tenant', 'policy', 'set', '--tenant', 'voxtra-cli', path.join(dir, 'v2.yaml')],
      env,
    );
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain('tenant voxtra-cli: policy version 2 (statement 2026.2) in force');

    await writeFile(
      path.join(dir, 'bad.yaml'),
      source.replace('legalBasis: contract', 'legalBasis: because'),
    );
    const refused = await runCli(
      ['tenant', 'policy', 'set', '--tenant', 'voxtra-cli', path.join(dir, 'bad.yaml')],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /bad\.yaml:\d+:\d+ purposes\.\w+\.legalBasis: invalid legal basis "because"/,
    );
    const versions = await runCli(['tenant', 'policy', 'list', '--tenant', 'voxtra-cli'], env);
    expect(
      versions.stdout
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/).slice(0, 3).join(' ')),
    ).toEqual(['1 statement 2026.1', '2 statement 2026.2']);
  });

  it('kluis keys rotate re-wraps the tenant’s data keys under a new key version', async () => {
    const env = { DATABASE_URL: database.ownerUrl, KLUIS_DATA_DIR: dataDirForKeys };
    const staff = await runCli(
      ['staff', 'create', '--tenant', 'voxtra-cli', '--email', 'Tech@Voxtra.example', '--role', 'technician'],
      env,
    );
    expect(staff.stdout).toMatch(
      /^staff tech@voxtra\.example \(technician\) created in voxtra-cli; one-time password: \S{20}\n$/,
    );
    const badRole = await runCli(
      ['staff', 'create', '--tenant', 'voxtra-cli', '--email', 'x@voxtra.example', '--role', 'hr'],
      env,
    );
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toMatch(/role: "hr" is not a role of this tenant's policy/);
    const rotated = await runCli(['keys', 'rotate', '--tenant', 'voxtra-cli'], env);
    expect(rotated.stderr).toBe('');
    expect(rotated.stdout).toMatch(
      /tenant voxtra-cli: key-encryption key now at version 2 \(\d+ keys re-wrapped\)/,
    );
    const tenant = await runAsOwner<{ tenant_id: number }>(
      database.ownerUrl,
      "select tenant_id from tenants where slug = 'voxtra-cli'",
    );
    const keys = await runAsOwner<{ kek_version: number }>(
      database.keystoreOwnerUrl,
      'select distinct kek_version from data_keys where wrapped is not null and tenant_id = $1',
      [tenant.rows[0]?.tenant_id],
    );
    expect(keys.rows).toEqual([{ kek_version: 2 }]);
  });

  it('kluis migrate applies migrations on DATABASE_URL and reports up to date', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: database.ownerUrl });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('migrations: up to date');
  });
});
