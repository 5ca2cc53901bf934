import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KLUIS_BIN, ROOT } from './cli.js';
import type { TestDatabase } from './database.js';

/**
 * Child processes for crash tests (kill -9 at a KLUIS_TEST_HOOK point, then restart): the
 * environment of a child on a test's databases, and a runner that waits for the child to end
 * (by itself or by the hook's SIGKILL).
 */

// One throwaway data folder per test file: children never write to the repository's ./.kluis.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kluis-crash-'));

/** The environment of a child on the test's databases, sharing its master key. */
export function crashEnv(
  database: TestDatabase,
  masterKey: Buffer,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: database.ownerUrl,
    KLUIS_KEYSTORE_URL: database.keystoreOwnerUrl,
    KLUIS_MASTER_KEY: masterKey.toString('base64'),
    KLUIS_DATA_DIR: dataDir,
    ...extra,
  };
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs `node <args>` to its end with nothing of ours in its environment but `env` (no KLUIS_*
 * or DATABASE_URL of the test process leaks in).
 */
export function runChild(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<ChildExit> {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('KLUIS_') && key !== 'DATABASE_URL') base[key] = value;
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...base, KLUIS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    }),
  );
}

/** Fulfils an erasure request as a privacy officer in a child process (test/children/fulfil-erasure.ts). */
export async function fulfilErasureInChild(
  tenantId: number,
  requestId: string,
  env: Record<string, string>,
): Promise<NodeJS.Signals | null> {
  const exit = await runChild(
    ['--import', 'tsx', path.join(ROOT, 'test/children/fulfil-erasure.ts'), String(tenantId), requestId],
    env,
  );
  return exit.signal;
}

/** `kluis serve` until it ends (a hook's SIGKILL, say). */
export function serveUntilExit(env: Record<string, string>, timeoutMs = 120_000): Promise<ChildExit> {
  return runChild([KLUIS_BIN, 'serve'], env, timeoutMs);
}

/**
 * What `read` gives once it is `wanted` (a job's row reaching its end state after a restart), or
 * the last value read after `timeoutMs`: the caller's expectation then names what it was.
 */
export async function pollUntil(
  read: () => Promise<string>,
  wanted: string,
  timeoutMs = 60_000,
): Promise<string> {
  const started = Date.now();
  let value = await read();
  while (value !== wanted && Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    value = await read();
  }
  return value;
}
