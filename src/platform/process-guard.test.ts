import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../test/cli.js';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { startProxy } from '../../test/tcp-proxy.js';
import { createLogger } from './logger.js';
import { guardProcess, scrubbedMessage, UNCAUGHT_EXIT_CODE } from './process-guard.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.close());

/** Resolves once `read()` contains `text`; rejects after `timeoutMs` with what was read. */
async function waitFor(read: () => string, text: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!read().includes(text)) {
    if (Date.now() > until) throw new Error(`"${text}" not seen in:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startChild(databaseUrl: string): ChildProcessWithoutNullStreams {
  return spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test/children/job-loses-database.ts')],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl },
    },
  );
}

describe('kluis serve and what nothing caught (decision 0620)', () => {
  it('the database lost under a running job: the unhandled rejection is logged without secrets and the process serves on', async () => {
    const target = new URL(database.ownerUrl);
    const proxy = await startProxy(target);
    const throughProxy = new URL(database.ownerUrl);
    throughProxy.hostname = '127.0.0.1';
    throughProxy.port = String(proxy.port);
    const child = startChild(throughProxy.toString());
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await waitFor(() => stdout, 'running', 90_000);
      await proxy.cut();
      child.stdin.write('release\n');
      await waitFor(() => stderr, 'unhandled promise rejection');
      child.stdin.write('ping\n');
      await waitFor(() => stdout, 'pong');
      expect(child.exitCode, stderr).toBeNull();
      const logged = stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { stack?: string } });
      const rejection = logged.find((entry) => entry.msg.startsWith('unhandled promise rejection'));
      expect(rejection?.level).toBe(50);
      // pg-boss's completion of the job that ran, not awaited (manager.js `onFetch`).
      expect(rejection?.err?.stack, JSON.stringify(rejection)).toContain('Manager.complete');
      if (target.password) expect(stderr).not.toContain(decodeURIComponent(target.password));
    } finally {
      child.kill('SIGKILL');
      await proxy.cut().catch(() => undefined);
    }
  }, 180_000);

  it('an uncaught exception is logged as fatal and ends the process with exit code 70', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => lines.push(line) },
    });
    const exits: number[] = [];
    const unguard = guardProcess(logger, { exit: (code) => exits.push(code) });
    try {
      process.emit('uncaughtException', new Error('boom at postgres://kluis:s3cret@db.example/kluis'));
    } finally {
      unguard();
    }
    expect(exits).toEqual([UNCAUGHT_EXIT_CODE]);
    expect(lines.join('')).toContain('"level":60');
    expect(lines.join('')).not.toContain('s3cret');
  });

  it('an uncaught exception in a process that started the embedded PostgreSQL stops that server too: none outlives the exit 70', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'kluis-uncaught-'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'test/children/uncaught-with-embedded-server.ts')],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', KLUIS_DATA_DIR: dataDir } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let postmaster: number | undefined;
    try {
      // The whole line, pid and all (the server may be stopped a moment after it is written).
      await waitFor(() => (/started \d+\n/.test(stdout) ? 'line' : ''), 'line', 120_000);
      postmaster = Number.parseInt(/started (\d+)/.exec(stdout)?.[1] ?? '');
      expect(postmaster, stdout).toBeGreaterThan(0);
      expect(await exited, stderr).toBe(UNCAUGHT_EXIT_CODE);
      expect(stderr).toContain('uncaught exception; exiting');
      // Fast shutdown takes a moment after the exit; before decision 0620's amendment it never came.
      const until = Date.now() + 30_000;
      while (isAlive(postmaster) && Date.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(isAlive(postmaster), `postgres ${postmaster} still runs`).toBe(false);
      await expect(readFile(path.join(dataDir, 'pg/postmaster.pid'))).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
      if (postmaster !== undefined && isAlive(postmaster)) process.kill(postmaster, 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('a connection string quoted in an error message loses its credentials', () => {
    expect(scrubbedMessage(new Error('cannot reach postgres://kluis:s3cret@db.example:5432/kluis'))).toBe(
      'cannot reach postgres://[redacted]@db.example:5432/kluis',
    );
  });
});
