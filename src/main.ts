import { readFileSync } from 'node:fs';
import { KLUIS_VERSION } from './version.js';
import path from 'node:path';
import { createMailer } from './platform/mailer.js';
import {
  CDR_UPLOAD_JOB,
  checkpointAllTenants,
  LETTER_SENDER_JOB,
  MAILING_SENDER_JOB,
  registerJobs,
} from './jobs/index.js';
import { startJobQueue, type JobQueue } from './platform/job-queue.js';
import { failureFields } from './platform/job-failure-log.js';
import { createDomainEventSubscribers } from './jobs/domain-events.job.js';
import { DATA_MAP } from './modules/data-map.js';
import { DEFAULT_MAX_UPLOAD_BYTES } from './modules/telephony/index.js';
import { sealClearDkimKeys } from './modules/consent/index.js';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { buildApp } from './http/app.js';
import { httpInFlight } from './http/connections.js';
import {
  createAppDb,
  createDatabaseProbe,
  databaseAnswers,
  warnOnConnectionLoss,
  type Db,
} from './platform/db.js';
import { stopWithinLimits, type StopLimits, type StopOutcome } from './platform/bounded-stop.js';
import { describeDatabaseUrl, withDatabase } from './platform/database-url.js';
import { startEmbeddedPostgres, type EmbeddedServer } from './platform/embedded-postgres.js';
import { watchDatabase, type DatabaseWatchdog } from './platform/database-watchdog.js';
import { isAppError } from './platform/errors.js';
import { scrubbedMessage } from './platform/process-guard.js';
import type { Logger } from './platform/logger.js';
import { KEYSTORE_MIGRATIONS_DIR, migrate } from './platform/migrate.js';
import { systemClock, type Clock } from './platform/clock.js';
import { createKernel, type Kernel } from './kernel/kernel.js';
import { policiesBehindNewRules } from './kernel/tenant-policy/index.js';
import { replayErasureJournal } from './kernel/erasure/index.js';
import { LocalKeyManagementService, loadMasterKey } from './kernel/keyring/kms.js';
import type { KeystoreDatabase, KeystoreDb } from './kernel/keyring/keystore.tables.js';
import { WEB_ROOT } from './http/web.js';

export { KLUIS_VERSION };

/** Why Kluis could not start, said once, in words an operator can act on. */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

export interface DatabaseHandle {
  /** Owner connection: migrations and administrative work (never used for requests). */
  ownerUrl: string;
  db: Db;
  /** The key store: a separate database, so a backup of the data carries no keys. */
  keystoreOwnerUrl: string;
  keystore: KeystoreDb;
  /** The embedded server when Kluis runs one (undefined on DATABASE_URL). */
  embedded: EmbeddedServer | undefined;
  close(): Promise<void>;
  /** Closes the data and key-store pools, side by side; the embedded server keeps running. */
  closePools(): Promise<void>;
}

const EMBEDDED_DATABASE = 'kluis';
const EMBEDDED_KEYSTORE = 'kluis_keys';

export interface DatabaseServer {
  ownerUrl: string;
  keystoreOwnerUrl: string;
  /** The embedded server when this process started (or shares) one; undefined on DATABASE_URL. */
  embedded: EmbeddedServer | undefined;
  stop(): Promise<void>;
}

/**
 * Reaches the data and key-store databases (starting the embedded server unless DATABASE_URL
 * is set, creating the databases when missing) without touching their schema: a restore needs
 * them empty, everything else migrates them next.
 */
export async function prepareDatabases(
  config: Config,
  logger: Logger,
  options: OpenDatabaseOptions = {},
): Promise<DatabaseServer> {
  let embedded: EmbeddedServer | undefined;
  let ownerUrl: string;
  let keystoreOwnerUrl: string;
  if (config.databaseUrl) {
    ownerUrl = config.databaseUrl;
    keystoreOwnerUrl = config.keystoreUrl ?? withDatabase(ownerUrl, `${databaseName(ownerUrl)}_keys`);
  } else {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      preferredPort: config.embeddedPostgresPort,
      logger,
      ...(options.server === true ? { waitForOwnerMs: options.ownerWaitMs ?? OWNER_WAIT_MS } : {}),
    });
    ownerUrl = embedded.url(EMBEDDED_DATABASE);
    keystoreOwnerUrl = config.keystoreUrl ?? embedded.url(EMBEDDED_KEYSTORE);
  }
  try {
    if (embedded) await ensureDatabaseExists(embedded.url('postgres'), EMBEDDED_DATABASE);
    await assertReachable(ownerUrl);
    if (!config.keystoreUrl) {
      await ensureDatabaseExists(withDatabase(ownerUrl, 'postgres'), databaseName(keystoreOwnerUrl));
    }
    await assertReachable(keystoreOwnerUrl);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  return { ownerUrl, keystoreOwnerUrl, embedded, stop: async () => embedded?.stop() };
}

export interface OpenDatabaseOptions {
  /**
   * `kluis serve`: a live Kluis's embedded server is not shared but waited for (it stops that
   * server when it ends; attack S9-2, decision 0588). CLI commands share it.
   */
  server?: boolean;
  /** How long `server` waits for the live owner; OWNER_WAIT_MS unless a test says less. */
  ownerWaitMs?: number;
}

/** How long a starting server waits for the Kluis that still runs its data folder's PostgreSQL. */
const OWNER_WAIT_MS = 90_000;

/** Connects to DATABASE_URL, or starts the embedded server; applies migrations either way. */
export async function openDatabase(
  config: Config,
  logger: Logger,
  options: OpenDatabaseOptions = {},
): Promise<DatabaseHandle> {
  const server = await prepareDatabases(config, logger, options);
  const { ownerUrl, keystoreOwnerUrl } = server;
  try {
    await migrate(ownerUrl, logger);
    await migrate(keystoreOwnerUrl, logger, KEYSTORE_MIGRATIONS_DIR);
  } catch (error) {
    await server.stop();
    throw error;
  }
  const { db } = createAppDb({
    connectionString: config.appDatabaseUrl ?? ownerUrl,
    assumeAppRole: config.appDatabaseUrl === undefined,
    logger,
    namedStatements: config.preparedStatements,
  });
  const { db: keystore } = createAppDb<KeystoreDatabase>({
    connectionString: keystoreOwnerUrl,
    assumeAppRole: true,
    logger,
    max: 4,
  });
  const closePools = async (): Promise<void> => {
    await Promise.all([db.destroy(), keystore.destroy()]);
  };
  return {
    ownerUrl,
    db,
    keystoreOwnerUrl,
    keystore,
    embedded: server.embedded,
    closePools,
    close: async () => {
      await closePools();
      await server.stop();
    },
  };
}

function databaseName(connectionString: string): string {
  return decodeURIComponent(new URL(connectionString).pathname.replace(/^\//, '')) || 'postgres';
}

/** Creates a database when missing; a login without CREATEDB gets a message saying what to create. */
async function ensureDatabaseExists(serverUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  warnOnConnectionLoss(client, undefined, 'kluis-startup');
  try {
    await client.connect();
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (rowCount === 0) await client.query(`create database "${database.replaceAll('"', '""')}"`);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : 'unknown error';
    throw new StartupError(
      `database "${database}" is missing and could not be created (${reason}); create it, or set KLUIS_KEYSTORE_URL`,
      { cause },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function assertReachable(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
  warnOnConnectionLoss(client, undefined, 'kluis-startup');
  try {
    await client.connect();
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : 'unknown error';
    throw new StartupError(
      `cannot connect to the database at ${describeDatabaseUrl(connectionString)}: ${reason}`,
      { cause },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface Runtime {
  database: DatabaseHandle;
  kernel: Kernel;
  close(): Promise<void>;
}

/** Database, key store and the privacy core: what every CLI command and the server need. */
export async function openRuntime(
  config: Config,
  logger: Logger,
  clock: Clock = systemClock,
  options: OpenDatabaseOptions = {},
): Promise<Runtime> {
  const database = await openDatabase(config, logger, options);
  let masterKey: Buffer;
  try {
    masterKey = await loadMasterKey({ fromEnvironment: config.masterKey, dataDir: config.dataDir });
  } catch (cause) {
    await database.close();
    throw new StartupError(
      `cannot read or create the master key in ${config.dataDir} (set KLUIS_MASTER_KEY, or make the folder writable)`,
      { cause },
    );
  }
  const kernel = createKernel({
    db: database.db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock,
    logger,
    ...(config.audit.anchorFile === undefined ? {} : { auditAnchorFile: config.audit.anchorFile }),
  });
  return { database, kernel, close: () => database.close() };
}

export interface RunningKluis {
  app: FastifyInstance;
  database: DatabaseHandle;
  kernel: Kernel;
  jobs: JobQueue;
  url: string;
  /** /health answers "ok" from now on (until then "starting", 503). */
  markReady(): void;
  /** Within STOP_LIMITS (decision 0785); `clean: false` when it skipped or gave up on something. */
  stop(): Promise<StopOutcome>;
}

/** The extra CA for portability transfers, read once at startup so a bad path fails fast. */
function readTransferCa(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new StartupError('KLUIS_TRANSFER_CA_FILE: cannot read the file', { cause });
  }
}

/** The composition root: config → database → services → HTTP. */
export interface StartOptions {
  /** The embedded server died and could not be started again: the caller exits non-zero. */
  onDatabaseLost?: (cause: unknown) => void;
  /** The stop's limits; STOP_LIMITS unless a test says less. */
  stopLimits?: StopLimits;
}

export async function startKluis(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningKluis> {
  const runtime = await openRuntime(config, logger, systemClock, { server: true });
  const { database } = runtime;
  // What this start has started so far: a step that fails stops them in reverse order (and the
  // embedded server last, with the pools), so no PostgreSQL outlives a failed start.
  let watchdog: DatabaseWatchdog | undefined;
  let databaseProbe: ReturnType<typeof createDatabaseProbe> | undefined;
  let app: FastifyInstance | undefined;
  let jobs: JobQueue | undefined;
  let ready = false;
  let stopping: Promise<StopOutcome> | undefined;
  const events = createDomainEventSubscribers(runtime.kernel, logger);
  const cdrSpoolDir = path.join(config.dataDir, 'cdr-uploads');
  let url: string;
  let queue: JobQueue;
  try {
    try {
      // Data restored from an older backup (by `kluis restore` or by other means) never serves a
      // person erased since: the journal in the key store erases them again first.
      const replay = await replayErasureJournal(runtime.kernel, DATA_MAP, { ownerUrl: database.ownerUrl });
      if (Object.values(replay).some((count) => count > 0)) logger.warn(replay, 'erasure journal replayed');
    } catch (cause) {
      throw new StartupError(
        'the erasure journal could not be replayed; Kluis does not serve data it may not hold',
        { cause },
      );
    }
    try {
      // DKIM keys stored in clear before migration 0461 (or restored from an older data backup)
      // are sealed under the key store before anything can read them (decision 0461).
      const sealed = await sealClearDkimKeys(runtime.kernel);
      if (sealed > 0) logger.info({ sealed }, 'DKIM keys sealed under the key store');
    } catch (cause) {
      throw new StartupError('the DKIM keys stored in clear could not be sealed', { cause });
    }
    await warnOfPoliciesBehindNewRules(runtime.kernel, logger);
    const mailer = createMailer({
      smtpUrl: config.mail.smtpUrl,
      delivers: config.mail.delivers,
      from: config.mail.from,
      outboxDir: path.join(config.dataDir, 'outbox'),
      logger,
    });
    const transferCa = readTransferCa(config.transfer.caFile);
    const startedWatchdog = watchDatabase({
      embedded: database.embedded,
      logger,
      onGiveUp: (cause) => options.onDatabaseLost?.(cause),
    });
    watchdog = startedWatchdog;
    const probe = createDatabaseProbe({
      connectionString: config.appDatabaseUrl ?? database.ownerUrl,
      assumeAppRole: config.appDatabaseUrl === undefined,
      logger,
    });
    databaseProbe = probe;
    const built = await buildApp({
      cdrUploads: {
        spoolDir: cdrSpoolDir,
        maxBytes: DEFAULT_MAX_UPLOAD_BYTES,
        wake: async () => jobs?.runNow(CDR_UPLOAD_JOB),
      },
      wakeMailingSender: async () => jobs?.runNow(MAILING_SENDER_JOB),
      wakeLetterSender: async () => {
        // Before the queue runs, the request path sends the letter itself.
        if (!jobs) throw new Error('the job queue has not started yet');
        await jobs.runNow(LETTER_SENDER_JOB);
      },
      isReady: () => ready,
      databaseRecovery: () => startedWatchdog.recovery(),
      databaseProbe: probe,
      kernel: runtime.kernel,
      events,
      secureCookies: config.http.publicUrl.startsWith('https:'),
      mailer,
      publicUrl: config.http.publicUrl,
      transfer: { ca: transferCa },
      trustProxy: config.trustProxy,
      logger,
      version: KLUIS_VERSION,
      webRoot: WEB_ROOT,
    });
    app = built;
    // From here the app's close closes the probe.
    built.addHook('onClose', () => probe.close());
    databaseProbe = undefined;
    try {
      await built.listen({ host: config.http.host, port: config.http.port });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        throw new StartupError(`port ${config.http.port} is already in use; set KLUIS_PORT to a free port`, {
          cause,
        });
      }
      throw new StartupError(
        `the HTTP server could not listen on ${config.http.host}:${config.http.port} (${code ?? 'unknown'})`,
        { cause },
      );
    }
    const address = built.server.address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    url = config.http.port === port ? config.http.publicUrl : `http://localhost:${port}`;
    try {
      queue = await startJobQueue({ connectionString: database.ownerUrl, logger });
      jobs = queue;
      await registerJobs(queue, {
        requests: {
          kernel: runtime.kernel,
          mailer,
          dataMap: DATA_MAP,
          publicUrl: config.http.publicUrl,
          logger,
        },
        events,
        logger,
        cdrUploads: {
          kernel: runtime.kernel,
          spoolDir: cdrSpoolDir,
          connection: {
            connectionString: config.appDatabaseUrl ?? database.ownerUrl,
            assumeAppRole: config.appDatabaseUrl === undefined,
            logger,
          },
        },
      });
    } catch (cause) {
      throw new StartupError('the job queue could not start', { cause });
    }
  } catch (error) {
    await undoStart(logger, [
      ['the job queue', async () => void (await jobs?.stop())],
      ['the HTTP server', async () => app?.close()],
      ['the database probe', async () => databaseProbe?.close()],
      ['the database watchdog', () => watchdog?.stop()],
      ['the database', () => runtime.close()],
    ]);
    throw error instanceof StartupError
      ? error
      : new StartupError(`Kluis could not start: ${describeStartFailure(error)}`, { cause: error });
  }
  const startedApp = app;
  const startedWatchdog = watchdog;
  return {
    app: startedApp,
    database,
    kernel: runtime.kernel,
    jobs: queue,
    url,
    markReady: () => {
      ready = true;
    },
    stop: () => {
      // A second call (a second signal, attack S15-1) waits for the first stop, never runs one.
      stopping ??= stopOnce();
      return stopping;
    },
  };

  function stopOnce(): Promise<StopOutcome> {
    startedWatchdog.stop();
    return stopWithinLimits(
      {
        // A request ending may still wake a job (runNow): the queue stops after the HTTP side.
        closeHttp: () => startedApp.close(),
        stopJobs: () => queue.stop(),
        httpInFlight: () => httpInFlight(startedApp),
        databaseAnswers: () => databaseAnswers(database.db),
        // The last entries of this run are anchored before the database goes away.
        checkpoint: () =>
          checkpointAllTenants(runtime.kernel, logger).catch((error: unknown) => {
            logger.error(failureFields(error), 'audit checkpoint at shutdown failed');
            throw error;
          }),
        closePools: () => database.closePools(),
        stopServer: async () => database.embedded?.stop(),
        abandonServer: () => database.embedded?.signalStop(),
      },
      logger,
      options.stopLimits,
    );
  }
}

export { withDatabase };

/**
 * Stops what a failed start had started, in the order given (the reverse of the start's), each
 * whatever the others did: a step that fails to stop is logged and the next one still runs.
 */
async function undoStart(
  logger: Logger,
  steps: ReadonlyArray<readonly [string, () => Promise<unknown> | void]>,
): Promise<void> {
  for (const [what, stop] of steps) {
    try {
      await stop();
    } catch (error) {
      logger.warn(
        { err: { message: scrubbedMessage(error) } },
        `${what} could not be stopped after the failed start`,
      );
    }
  }
}

/** A start failure's cause in words: an AppError's public message or code, else the message. */
export function describeStartFailure(error: unknown): string {
  if (isAppError(error)) return `${error.publicMessage ?? error.code} (${error.code})`;
  return scrubbedMessage(error) ?? 'unknown error';
}

/** Names each tenant whose policy in force breaks a rule new versions follow (decision 0871). */
async function warnOfPoliciesBehindNewRules(kernel: Kernel, logger: Logger): Promise<void> {
  for (const tenant of await policiesBehindNewRules(kernel)) {
    logger.warn(
      { tenant: tenant.slug, policyVersion: tenant.versionNo, issues: tenant.issues },
      `the policy in force of tenant ${tenant.slug} breaks a rule new versions follow; it stays in force: correct it and install it with kluis tenant policy set --tenant ${tenant.slug} <file>`,
    );
  }
}
