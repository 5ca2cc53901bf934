import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import pg from 'pg';
import { warnOnConnectionLoss } from '../platform/db.js';
import { BackupError, masterKeyCheck, type ArchiveKind, type Manifest } from '../backup/archive.js';
import { writeBackup } from '../backup/backup.js';
import {
  checkArchive,
  loadArchive,
  openArchive,
  openRestoreTarget,
  prepareApplicationRole,
  type LoadedArchive,
  type OpenArchive,
  type RestoreTarget,
} from '../backup/restore.js';
import {
  compareErasureJournal,
  findSubjectsWithoutKeys,
  sampleFieldsWithKeys,
  type FieldSample,
  type JournalComparison,
} from '../backup/key-coverage.js';
import {
  planAuditSetBacks,
  writeAuditSetBacks,
  type CutBeforeBackup,
  type PlannedSetBack,
} from '../backup/audit-setback.js';
import { replayErasureJournal } from '../kernel/erasure/index.js';
import {
  LocalKeyManagementService,
  loadMasterKey,
  type KeyManagementService,
} from '../kernel/keyring/kms.js';
import { KLUIS_VERSION, openRuntime, prepareDatabases } from '../main.js';
import { DATA_MAP } from '../modules/data-map.js';
import {
  describeNumberingHolds,
  holdNumberingAfterRestore,
  numberingHoldsInSchema,
  type HeldTenant,
} from '../modules/billing/index.js';
import {
  applyMigrationsInTransaction,
  KEYSTORE_MIGRATIONS_DIR,
  MIGRATIONS_DIR,
  MigrationError,
  type Migration,
} from '../platform/migrate.js';
import { createCliContext, exitWithFailure } from './context.js';
import { createProgress } from './progress.js';
import { namedConnectionString } from '../platform/server-sessions.js';

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description(
      'write a backup of the data and of the key store, as two separate archives (keep them apart, for different lengths of time)',
    )
    .option('--out <dir>', 'folder for the archives', 'backups')
    .option('--only <kind>', 'only one archive: data or keys')
    .action(async (options: { out: string; only?: string }, command: Command) => {
      if (options.only !== undefined && options.only !== 'data' && options.only !== 'keys') {
        command.error('error: --only must be data or keys', { exitCode: 2 });
      }
      await prepareOutFolder(options.out, command);
      try {
        const { config, logger } = createCliContext();
        const kinds: ArchiveKind[] = options.only ? [options.only] : ['data', 'keys'];
        const server = await prepareDatabases(config, logger);
        try {
          const stamp = new Date()
            .toISOString()
            .replace(/\.\d+Z$/, 'Z')
            .replaceAll(':', '-');
          const tenantIds = await readTenantIds(server.ownerUrl);
          for (const kind of kinds) {
            const file = path.join(options.out, `kluis-${kind}-${stamp}.zip`);
            const progress = createProgress(kind === 'data' ? 'data     ' : 'key store', 0);
            const manifest = await writeBackup({
              connectionString: kind === 'data' ? server.ownerUrl : server.keystoreOwnerUrl,
              kind,
              file,
              kluisVersion: KLUIS_VERSION,
              ...(kind === 'keys'
                ? {
                    tenantIds,
                    masterKeyCheck: masterKeyCheck(
                      await loadMasterKey({ fromEnvironment: config.masterKey, dataDir: config.dataDir }),
                    ),
                  }
                : {}),
              onProgress: ({ rows, estimatedTotalRows, table }) => {
                progress.setTotal(estimatedTotalRows);
                progress.update(rows, table);
              },
            });
            progress.stop();
            console.log(`${label(kind)} backup: ${file} (${await describe(file, manifest)})`);
          }
          if (kinds.length === 2) {
            console.log(
              'Store the two archives apart: the key store briefly (e.g. 7 days), the data as long as your backup policy says.',
            );
          }
        } finally {
          await server.stop();
        }
      } catch (error) {
        exitWithFailure(error);
      }
    });

  program
    .command('restore')
    .description(
      'restore backups into an empty database (embedded data folder or DATABASE_URL), then erase again everyone the erasure journal lists',
    )
    .option('--data <file>', 'data archive (kluis-data-….zip)')
    .option('--keys <file>', 'key-store archive (kluis-keys-….zip); without it the current key store is used')
    .option('--force', 'replace a database that already holds data (never one a running Kluis uses)')
    .action(async (options: { data?: string; keys?: string; force?: boolean }, command: Command) => {
      if (!options.data && !options.keys) {
        command.error('error: give --data <file>, --keys <file>, or both', { exitCode: 2 });
      }
      const archives: OpenArchive[] = [];
      try {
        const { config, logger } = createCliContext();
        const keys = options.keys ? await openForRestore(options.keys) : undefined;
        if (keys) archives.push(keys);
        const data = options.data ? await openForRestore(options.data) : undefined;
        if (data) archives.push(data);
        const server = await prepareDatabases(config, logger);
        try {
          const masterKey = await loadMasterKey({
            fromEnvironment: config.masterKey,
            dataDir: config.dataDir,
          });
          if (!keys && (await countTables(server.keystoreOwnerUrl)) === 0) {
            throw new BackupError(
              'the key store is empty: without its data keys the encrypted fields cannot be read; restore its backup too (--keys <file>)',
            );
          }
          await restoreTogether({
            data: data ? { archive: data, connectionString: server.ownerUrl } : undefined,
            keys: keys ? { archive: keys, connectionString: server.keystoreOwnerUrl } : undefined,
            currentDataUrl: server.ownerUrl,
            currentKeysUrl: server.keystoreOwnerUrl,
            force: options.force === true,
            masterKeyCheck: masterKeyCheck(masterKey),
            kms: new LocalKeyManagementService(masterKey),
            anchorFile: config.audit.anchorFile,
          });
        } finally {
          await server.stop();
        }
        // Later migrations, then the erasure journal, before anything serves this data.
        const runtime = await openRuntime(config, logger);
        try {
          const progress = createProgress('erasures', 0, 'people');
          const replay = await replayErasureJournal(runtime.kernel, DATA_MAP, {
            ownerUrl: runtime.database.ownerUrl,
            onProgress: (done, total) => {
              progress.setTotal(total);
              progress.update(done);
            },
          });
          progress.stop();
          console.log(
            `erasure journal: ${replay.replayed} ${replay.replayed === 1 ? 'person' : 'people'} erased after the backup erased again${replay.categoriesReplayed > 0 ? `; categories erased after the backup erased again for ${replay.categoriesReplayed}` : ''}${replay.journaled + replay.categoriesJournaled > 0 ? `; ${replay.journaled + replay.categoriesJournaled} erasures added to the journal` : ''}`,
          );
        } finally {
          await runtime.close();
        }
      } catch (error) {
        exitWithFailure(error);
      } finally {
        for (const archive of archives) archive.close();
      }
    });
}

interface RestorePart {
  archive: OpenArchive;
  connectionString: string;
}

interface RestoreTogetherOptions {
  data: RestorePart | undefined;
  keys: RestorePart | undefined;
  /** The databases as they are, for the check of the half not restored. */
  currentDataUrl: string;
  currentKeysUrl: string;
  force: boolean;
  masterKeyCheck: string;
  /** The master key the restored installation will run with, to open a sample of fields. */
  kms: KeyManagementService;
  /** KLUIS_AUDIT_ANCHOR_FILE: its checkpoints count when deciding a set-back (decision 1270). */
  anchorFile: string | undefined;
}

/** The current key store's transaction that records set-backs when only the data is restored. */
interface SetBackTransaction {
  client: pg.Client;
  plans: PlannedSetBack[];
}

const NOTHING_RESTORED = 'nothing was restored: the data and the key store are as they were';

/**
 * Restores the data and the key store so that a failure of either leaves both as they were
 * (attack S22-3, decision 1050): both archives are checked whole first, then loaded in open
 * transactions, checked to belong together (every encrypted field keeps its data key), and
 * committed data first, key store second. The only failure that leaves one written is the key
 * store's commit after the data's, and then the message says so.
 */
async function restoreTogether(options: RestoreTogetherOptions): Promise<void> {
  const parts = (['data', 'keys'] as const).flatMap((kind) => {
    const part = options[kind];
    return part ? [{ kind, ...part }] : [];
  });
  const loaded = new Map<ArchiveKind, LoadedArchive>();
  const targets: RestoreTarget[] = [];
  let setBacks: PlannedSetBack[] = [];
  let cutBeforeBackup: CutBeforeBackup[] = [];
  let setBackTx: SetBackTransaction | undefined;
  let numberingHeld: HeldTenant[] = [];
  try {
    const migrations = new Map<ArchiveKind, Migration[]>();
    for (const part of parts) {
      const progress = createProgress(`checking ${part.kind === 'data' ? 'data' : 'keys'}`, 0);
      migrations.set(
        part.kind,
        await checkArchive({
          archive: part.archive,
          kind: part.kind,
          migrationsDir: part.kind === 'data' ? MIGRATIONS_DIR : KEYSTORE_MIGRATIONS_DIR,
          ...(part.kind === 'keys' ? { masterKeyCheck: options.masterKeyCheck } : {}),
          onProgress: (rows, total, table) => {
            progress.setTotal(total);
            progress.update(rows, table);
          },
        }),
      );
      progress.stop();
    }
    const opened = new Map<ArchiveKind, RestoreTarget>();
    for (const part of parts) {
      const target = await openRestoreTarget(part.connectionString, options.force);
      targets.push(target);
      opened.set(part.kind, target);
    }
    const first = targets[0];
    if (first) await prepareApplicationRole(first);
    for (const part of parts) {
      const target = opened.get(part.kind);
      if (!target) continue;
      const progress = createProgress(part.kind === 'data' ? 'data     ' : 'key store', 0);
      loaded.set(
        part.kind,
        await loadArchive({
          target,
          archive: part.archive,
          migrations: migrations.get(part.kind) ?? [],
          onProgress: (rows, total, table) => {
            progress.setTotal(total);
            progress.update(rows, table);
          },
        }),
      );
      progress.stop();
    }
    await refuseMissingKeys(options, loaded);
    ({ setBacks, setBackTx, cutBeforeBackup } = await recordSetBacks(options, loaded));
    numberingHeld = await holdNumbering(loaded.get('data'), migrations.get('data') ?? []);
  } catch (cause) {
    for (const archive of loaded.values()) await archive.rollback();
    await setBackTx?.client.query('rollback').catch(() => undefined);
    await setBackTx?.client.end().catch(() => undefined);
    for (const target of targets) await target.close();
    throw new BackupError(`${describeFailure(cause)}; ${NOTHING_RESTORED}`, { cause });
  }
  const data = loaded.get('data');
  const keys = loaded.get('keys');
  try {
    try {
      await data?.commit();
    } catch (cause) {
      await keys?.rollback();
      throw new BackupError(`committing the data failed: ${describeFailure(cause)}; ${NOTHING_RESTORED}`, {
        cause,
      });
    }
    if (data) printRestored('data', data.manifest);
    const holds = data ? describeNumberingHolds(numberingHeld, new Date(data.manifest.createdAt)) : null;
    if (holds) console.log(holds);
    try {
      await keys?.commit();
    } catch (cause) {
      throw new BackupError(
        `committing the key store failed: ${describeFailure(cause)}; ${data ? 'the data WAS restored, the key store is as it was' : NOTHING_RESTORED}: restore the key store again (--keys <file> --force) before starting Kluis`,
        { cause },
      );
    }
    if (keys) printRestored('keys', keys.manifest);
    if (setBackTx) {
      try {
        await setBackTx.client.query('commit');
      } catch (cause) {
        throw new BackupError(
          `recording the audit set-back in the key store failed: ${describeFailure(cause)}; the data WAS restored: kluis audit verify will read the checkpoints signed since the backup as a break; restore the data again (--data <file> --force) before starting Kluis`,
          { cause },
        );
      }
    }
    printSetBacks(setBacks);
    printCutsBeforeBackup(cutBeforeBackup);
  } finally {
    await setBackTx?.client.end().catch(() => undefined);
    for (const target of targets) await target.close();
  }
}

/**
 * A data restore holds every restored tenant's invoice numbering in the data's own transaction
 * (attack S27-6, decision 1320): the counters are those of the backup, the numbers issued since
 * were sent. Billing owns the hold; the operator lifts it with kluis invoices resume-numbering.
 */
async function holdNumbering(
  data: LoadedArchive | undefined,
  migrations: readonly Migration[],
): Promise<HeldTenant[]> {
  if (!data) return [];
  if (!(await numberingHoldsInSchema(data.target.client))) {
    // An archive made before the holds existed: its schema is brought forward now, in the same
    // transaction, as Kluis's start would do next, so the hold commits with the data.
    await applyMigrationsInTransaction(
      data.target.client,
      migrations,
      new Set(migrations.map((migration) => migration.version)),
    );
  }
  return holdNumberingAfterRestore(data.target.client, new Date(data.manifest.createdAt), new Date());
}

/**
 * A restore that sets an audit chain back behind checkpoints signed before it (attack S25-5,
 * decision 1270) records a signed set-back per such tenant in the key store that will be in use,
 * in the restore's transactions: the restored key store's, or (data alone) a transaction of the
 * current key store committed right after the data. Planned with both halves as they will be.
 */
async function recordSetBacks(
  options: RestoreTogetherOptions,
  loaded: ReadonlyMap<ArchiveKind, LoadedArchive>,
): Promise<{
  setBacks: PlannedSetBack[];
  setBackTx: SetBackTransaction | undefined;
  cutBeforeBackup: CutBeforeBackup[];
}> {
  const data = loaded.get('data');
  const keys = loaded.get('keys');
  // A checkpoint signed before the data archive was made that its chain lacks is a cut the
  // backup already held: no set-back excuses it (attack S27-2).
  const archiveMadeAt = data ? new Date(data.manifest.createdAt) : undefined;
  const { setBacks: plans, cutBeforeBackup } = await withSide(
    data?.target.client,
    options.currentDataUrl,
    (dataClient) =>
      withSide(keys?.target.client, options.currentKeysUrl, (keysClient) =>
        planAuditSetBacks(dataClient, keysClient, { anchorFile: options.anchorFile, archiveMadeAt }),
      ),
  );
  if (plans.length === 0) return { setBacks: [], setBackTx: undefined, cutBeforeBackup };
  const setAt = new Date();
  if (keys) {
    if (!(await writeAuditSetBacks(keys.target.client, plans, options.kms, setAt))) {
      throw new BackupError(
        `the key-store archive predates audit set-backs (decision 1270) and holds checkpoints beyond the restored audit chain: restore the key-store archive made with this data backup, or a newer one`,
      );
    }
    return { setBacks: plans, setBackTx: undefined, cutBeforeBackup };
  }
  const client = new pg.Client({
    connectionString: namedConnectionString(options.currentKeysUrl, 'kluis-restore'),
  });
  warnOnConnectionLoss(client, undefined, 'kluis-restore');
  await client.connect();
  const setBackTx = { client, plans };
  try {
    await client.query('begin');
    // The key store in use was migrated at this start: it has the set-backs table.
    await writeAuditSetBacks(client, plans, options.kms, setAt);
  } catch (cause) {
    await client.query('rollback').catch(() => undefined);
    await client.end().catch(() => undefined);
    throw cause;
  }
  return { setBacks: plans, setBackTx, cutBeforeBackup };
}

/**
 * What the operator reads when the archive's chain was cut before the backup was made (attack
 * S27-2): no set-back is recorded, and verify will say where the chain breaks.
 */
function printCutsBeforeBackup(cuts: readonly CutBeforeBackup[]): void {
  for (const cut of cuts) {
    console.log(
      `audit chain of tenant ${cut.tenantId} NOT set back: the data archive's chain ends at entry ${cut.headSeq}, but a checkpoint signed on ${cut.signedAt.toISOString()}, before the backup was made, holds entry ${cut.seq}: the chain was cut before the backup; kluis audit verify will read it broken`,
    );
  }
}

/** What the operator reads: the chain was set back, and why verify will not call it broken. */
function printSetBacks(plans: readonly PlannedSetBack[]): void {
  for (const plan of plans) {
    const went =
      plan.earlierSeq > plan.headSeq
        ? `entries ${plan.headSeq + 1}-${plan.earlierSeq} of the earlier chain went with the restore`
        : 'checkpoints of an earlier chain do not match it';
    console.log(
      `audit chain of tenant ${plan.tenantId} set back to entry ${plan.headSeq}: ${went}; a signed set-back is recorded in the key store, and kluis audit verify names it (not a break)`,
    );
  }
}

/**
 * Refuses a restore after which encrypted data could not be read, before anything commits.
 * Compares what will be there once committed: each restored half in its open transaction, the
 * other half as it is now. First a sample of fields is opened with the key store and master key
 * that will be in use: another installation's data or key store opens none, however alike its
 * numbering (attack S23-3, decision 1120). Then the key store's erasure journal must name no
 * subject the data holds as another person (same number, another creation time): a copy that
 * went its own way and erased its own new people has no live key of theirs to try (attack S24-3,
 * decision 1240). Then every subject with encrypted fields must have a data-key row: a key store
 * older than the data would lose the people made in between (1050).
 */
async function refuseMissingKeys(
  options: RestoreTogetherOptions,
  loaded: ReadonlyMap<ArchiveKind, LoadedArchive>,
): Promise<void> {
  const data = loaded.get('data');
  const keys = loaded.get('keys');
  const { sample, journal, missing } = await withSide(
    data?.target.client,
    options.currentDataUrl,
    (dataClient) =>
      withSide(keys?.target.client, options.currentKeysUrl, async (keysClient) => ({
        sample: await sampleFieldsWithKeys(dataClient, keysClient, DATA_MAP, options.kms),
        journal: await compareErasureJournal(dataClient, keysClient),
        missing: await findSubjectsWithoutKeys(dataClient, keysClient, DATA_MAP),
      })),
  );
  const dataName = data ? `the data archive (backup of ${data.manifest.createdAt})` : 'the current data';
  const keysName = keys
    ? `the key-store archive (backup of ${keys.manifest.createdAt})`
    : 'the current key store';
  if (sample.unreadable > 0) refuseForeign(countUnreadable(sample), data !== undefined, keys !== undefined);
  if (journal.others > 0) refuseForeign(countOthers(journal), data !== undefined, keys !== undefined);
  if (missing.subjects === 0) return;
  const who = `${missing.subjects} ${missing.subjects === 1 ? 'person' : 'people'} (in ${missing.tenants} ${missing.tenants === 1 ? 'tenant' : 'tenants'})`;
  const remedy = keys
    ? 'it is older than the data: restore the key-store archive made with this data backup or a later one'
    : 'restore the key-store archive made with this data backup too (--keys <file> --force)';
  throw new BackupError(
    `${keysName} holds no data key for ${who} whose encrypted fields ${dataName} holds; after this restore their e-mail, phone and other encrypted fields could never be read again: ${remedy}`,
  );
}

/** The other lineage a refused archive comes from (decisions 1120, 1150). */
const DIVERGED = 'or of a copy that went its own way since (both made new people with keys of their own)';

/** What did not match when sampled fields do not open (decisions 1120, 1150). */
function countUnreadable(sample: FieldSample): string {
  return `${sample.unreadable} of ${sample.checked} encrypted fields tried in ${tenants(sample.tenants)} do not open with its data keys${sample.unwrapFailures > 0 ? ' (its data keys do not unwrap with this master key)' : ''}`;
}

/** What did not match when the erasure journal names other people than the data's (decision 1240). */
function countOthers(journal: JournalComparison): string {
  return `${journal.others} of ${journal.checked} erased ${journal.checked === 1 ? 'person' : 'people'} tried from the key store's erasure journal (in ${tenants(journal.tenants)}) ${journal.others === 1 ? 'is another person' : 'are other people'} in the data, under the same number but made at another time`;
}

function tenants(count: number): string {
  return `${count} ${count === 1 ? 'tenant' : 'tenants'}`;
}

/**
 * Refuses data and a key store of different installations, or of copies that went their own way
 * (decisions 1120, 1150, 1240); `counted` says what did not match.
 */
function refuseForeign(counted: string, restoringData: boolean, restoringKeys: boolean): never {
  if (restoringData && restoringKeys) {
    throw new BackupError(
      `this data archive was not made with this key-store archive: ${counted}; they are backups of different installations, or of copies that went their own way since: restore the data and key-store archives one installation made together`,
    );
  }
  if (restoringData) {
    throw new BackupError(
      `this data archive was not made with this key store: ${counted}; it is a backup of another installation, ${DIVERGED}: restore this installation's own data archive, or this archive's own key-store archive with it (--keys <file> --force)`,
    );
  }
  throw new BackupError(
    `this key-store archive does not belong with the current data: ${counted}; it is a backup of another installation, ${DIVERGED}: restore this installation's own key-store archive, or the data archive made with this one with it (--data <file> --force)`,
  );
}

/**
 * Runs `work` with the restore's own client (in its open transaction) or, for a half not being
 * restored, a read-only transaction on the database as it is; a database without a Kluis schema
 * has nothing to compare and counts as holding nothing.
 */
async function withSide<T>(
  restoring: pg.Client | undefined,
  currentUrl: string,
  work: (client: pg.ClientBase) => Promise<T>,
): Promise<T> {
  if (restoring) return work(restoring);
  return withClient(currentUrl, async (client) => {
    const tables = await client.query<{ ok: boolean }>(
      `select to_regclass('public.schema_migrations') is not null as ok`,
    );
    if (!tables.rows[0]?.ok) return work(client);
    await client.query('begin isolation level repeatable read read only');
    try {
      return await work(client);
    } finally {
      await client.query('rollback').catch(() => undefined);
    }
  });
}

/** Opens an archive to restore; one that is no Kluis backup ends with the usual sentence. */
async function openForRestore(file: string): Promise<OpenArchive> {
  try {
    return await openArchive(file);
  } catch (cause) {
    throw new BackupError(`${describeFailure(cause)}; ${NOTHING_RESTORED}`, { cause });
  }
}

function describeFailure(cause: unknown): string {
  if (cause instanceof BackupError || cause instanceof MigrationError) return cause.message;
  return `restore failed: ${cause instanceof Error ? cause.message : String(cause)}`;
}

function printRestored(kind: ArchiveKind, manifest: Manifest): void {
  const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
  console.log(
    `${label(kind)} restored: ${manifest.tables.length} tables, ${rows} rows, backup of ${manifest.createdAt} (Kluis ${manifest.kluisVersion}, migration level ${manifest.migrationLevel})`,
  );
}

function label(kind: ArchiveKind): string {
  return kind === 'data' ? 'data' : 'key-store';
}

async function describe(file: string, manifest: Manifest): Promise<string> {
  const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
  const size = (await stat(file)).size;
  return `${manifest.tables.length} tables, ${rows} rows, ${(size / 1024 / 1024).toFixed(1)} MiB`;
}

async function withClient<T>(connectionString: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: namedConnectionString(connectionString, 'kluis-restore'),
  });
  warnOnConnectionLoss(client, undefined, 'kluis-restore');
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function readTenantIds(ownerUrl: string): Promise<number[]> {
  return withClient(ownerUrl, async (client) => {
    const exists = await client.query<{ ok: boolean }>(
      `select to_regclass('public.tenants') is not null as ok`,
    );
    if (!exists.rows[0]?.ok) return [];
    const { rows } = await client.query<{ id: number }>('select tenant_id as id from tenants order by 1');
    return rows.map((row) => row.id);
  });
}

async function countTables(connectionString: string): Promise<number> {
  return withClient(connectionString, async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p')`,
    );
    return rows[0]?.n ?? 0;
  });
}

/**
 * Makes the folder --out names (owner only) or refuses the option as a usage error, exit 2
 * (attack S20-10): a file, a path under a file or a folder that cannot be written is the
 * operator's typo, not an unexpected error.
 */
async function prepareOutFolder(out: string, command: Command): Promise<void> {
  try {
    await mkdir(out, { recursive: true, mode: 0o700 });
    await access(out, constants.W_OK);
  } catch (error) {
    const reason = OUT_FOLDER_REFUSALS[String((error as { code?: unknown }).code)];
    if (reason === undefined) throw error;
    command.error(`error: --out: ${out} ${reason}`, { exitCode: 2 });
  }
}

const OUT_FOLDER_REFUSALS: Record<string, string> = {
  EEXIST: 'is a file, not a folder',
  ENOTDIR: 'lies under a file, not a folder',
  EACCES: 'cannot be written to (permission denied)',
  EPERM: 'cannot be written to (permission denied)',
  EROFS: 'is on a read-only file system',
};
