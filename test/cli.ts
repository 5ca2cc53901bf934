import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const KLUIS_BIN = path.join(ROOT, 'bin/kluis.js');

// Children never write to the repository's ./.kluis: their data folder (master key file,
// embedded server) defaults to one throwaway folder per test file.
const defaultDataDir = mkdtempSync(path.join(os.tmpdir(), 'kluis-cli-'));

/** The environment a CLI child gets: nothing of ours leaks in except what the test sets. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('KLUIS_') && key !== 'DATABASE_URL') base[key] = value;
  }
  return { ...base, KLUIS_LOG_LEVEL: 'warn', KLUIS_DATA_DIR: defaultDataDir, ...env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `kluis <args>` to completion. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KLUIS_BIN, ...args], { cwd: ROOT, env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kluis ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output(): string;
  exited: Promise<number | null>;
}

/**
 * Starts `kluis serve` and resolves once it prints the URL it serves on (by default once the
 * first-run setup is done; `until` /Kluis is starting at …/ resolves as soon as it listens).
 */
export function startServer(
  env: Record<string, string>,
  timeoutMs = 60_000,
  until = /Kluis is running at (http:\/\/\S+)/,
  /**
   * `detached`: in a process group of its own, as a terminal runs it: signal the group with
   * process.kill(-pid). `openFileLimit`: started by `sh -c 'ulimit -n N; exec node …'` (the same
   * pid), its soft and hard open-file limits N.
   */
  options: { detached?: boolean; openFileLimit?: number } = {},
): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const [command, args] =
      options.openFileLimit === undefined
        ? [process.execPath, [KLUIS_BIN, 'serve']]
        : [
            'sh',
            [
              '-c',
              `ulimit -n ${options.openFileLimit}; exec "$@"`,
              'sh',
              process.execPath,
              KLUIS_BIN,
              'serve',
            ],
          ];
    const child = spawn(command, args, {
      cwd: ROOT,
      env: childEnv(env),
      detached: options.detached ?? false,
    });
    let output = '';
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start; output: ${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = until.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}; output: ${output}`));
    });
  });
}

/** A server's settings that write its audit anchors to a file of its data folder. */
export function anchoredServerEnv(dataDir: string): { env: Record<string, string>; anchorFile: string } {
  const anchorFile = path.join(dataDir, 'anchors.jsonl');
  const env = {
    KLUIS_DATA_DIR: dataDir,
    KLUIS_PORT: '0',
    KLUIS_PG_PORT: '0',
    KLUIS_AUDIT_ANCHOR_FILE: anchorFile,
  };
  return { env, anchorFile };
}

/** Something to anchor after a start: a failed login is audited. */
export async function failLogin(url: string, password: string): Promise<void> {
  await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'voiceking', email: 'nobody@voiceking.example', password }),
  });
}
