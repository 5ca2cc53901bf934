import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServer } from './cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from './database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.close());

async function health(url: string): Promise<unknown> {
  const response = await fetch(`${url}/health`);
  return { status: response.status, body: await response.json() };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('kluis serve on an external PostgreSQL (DATABASE_URL)', () => {
  it('starts, bootstraps the first run once, answers /health, and stops on SIGINT', async () => {
    const env = { DATABASE_URL: database.ownerUrl, KLUIS_PORT: '0' };
    const first = await startServer(env);
    expect(await health(first.url)).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });
    expect(first.output()).toMatch(
      /tenant voiceking\s+admin@voiceking\.example\s+role admin\s+password \S{20}/,
    );
    first.child.kill('SIGINT');
    expect(await first.exited).not.toBeNull();

    const tenants = await runAsOwner<{ slug: string }>(
      database.ownerUrl,
      'select slug from tenants order by slug',
    );
    expect(tenants.rows.map((row) => row.slug)).toEqual(['voiceking', 'voxtra']);

    const second = await startServer(env);
    expect(second.output()).not.toMatch(/First run/);
    second.child.kill('SIGINT');
    await second.exited;
    const again = await runAsOwner(database.ownerUrl, 'select count(*)::int as n from tenants');
    expect(again.rows[0]).toEqual({ n: 2 });
  });

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
    expect(missing.stderr).toMatch(/required option '--name <name>'/);
    expect(missing.stderr).toMatch(/Usage: kluis tenant create/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command/);
  });

  it('kluis migrate applies migrations on DATABASE_URL and reports up to date', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: database.ownerUrl });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('migrations: up to date');
  });
});

describe('kluis serve on the embedded PostgreSQL', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'kluis-embedded-'));
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('survives SIGKILL: the next start recovers the server and keeps the data; Ctrl-C stops both', async () => {
    const env = { KLUIS_DATA_DIR: dataDir, KLUIS_PORT: '0', KLUIS_PG_PORT: '0' };
    const first = await startServer(env);
    expect(await health(first.url)).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });
    expect(first.output()).toMatch(/First run/);
    const pgPid = Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(isAlive(pgPid)).toBe(true); // the orphan a killed Kluis leaves behind

    const second = await startServer(env);
    expect(await health(second.url)).toEqual({ status: 200, body: { status: 'ok', db: 'ok' } });
    expect(second.output()).not.toMatch(/First run/); // same data
    expect(isAlive(pgPid)).toBe(false); // the orphan was stopped, a fresh server runs
    const livePid = Number(
      (await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );

    second.child.kill('SIGINT');
    await second.exited;
    await waitUntil(() => !isAlive(livePid));
  });

  it('a data directory that cannot be written gives one clear message', async () => {
    const result = await runCli(['serve'], { KLUIS_DATA_DIR: '/dev/null/kluis', KLUIS_PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('data directory /dev/null/kluis is not writable');
  });
});
