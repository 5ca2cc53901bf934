import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import pg from 'pg';
import { warnOnConnectionLoss } from '../platform/db.js';
import { BackupError, masterKeyCheck, type ArchiveKind, type Manifest } from '../backup/archive.js';
import { writeBackup } from '../backup/backup.js';
import { openArchive, restoreBackup, type OpenArchive } from '../backup/restore.js';
import { replayErasureJournal } from '../kernel/erasure/index.js';
import { loadMasterKey } from '../kernel/keyring/kms.js';
import { KLUIS_VERSION, openRuntime, prepareDatabases } from '../main.js';
import { DATA_MAP } from '../modules/data-map.js';
import { KEYSTORE_MIGRATIONS_DIR, MIGRATIONS_DIR } from '../platform/migrate.js';
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
        // Every archive is read and checked before anything is touched.
        const keys = options.keys ? await openArchive(options.keys) : undefined;
        if (keys) archives.push(keys);
        const data = options.data ? await openArchive(options.data) : undefined;
        if (data) archives.push(data);
        const server = await prepareDatabases(config, logger);
        try {
          if (keys) {
            const masterKey = await loadMasterKey({
              fromEnvironment: config.masterKey,
              dataDir: config.dataDir,
            });
            await restoreOne(
              keys,
              'keys',
              server.keystoreOwnerUrl,
              options.force === true,
              masterKeyCheck(masterKey),
            );
          } else if ((await countTables(server.keystoreOwnerUrl)) === 0) {
            throw new BackupError(
              'the key store is empty: without its data keys the encrypted fields cannot be read; restore its backup too (--keys <file>)',
            );
          }
          if (data) await restoreOne(data, 'data', server.ownerUrl, options.force === true);
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

async function restoreOne(
  archive: OpenArchive,
  kind: ArchiveKind,
  connectionString: string,
  force: boolean,
  check?: string,
): Promise<void> {
  const progress = createProgress(kind === 'data' ? 'data     ' : 'key store', 0);
  const manifest = await restoreBackup({
    connectionString,
    kind,
    archive,
    migrationsDir: kind === 'data' ? MIGRATIONS_DIR : KEYSTORE_MIGRATIONS_DIR,
    force,
    ...(check ? { masterKeyCheck: check } : {}),
    onProgress: (rows, total, table) => {
      progress.setTotal(total);
      progress.update(rows, table);
    },
  });
  progress.stop();
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
