import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { warnOnConnectionLoss } from '../platform/db.js';
import { from as copyFrom } from 'pg-copy-streams';
import yauzl from 'yauzl';
import { describeDatabaseUrl } from '../platform/database-url.js';
import { namedConnectionString, serverSessions } from '../platform/server-sessions.js';
import { applyMigrationsInTransaction, readMigrations } from '../platform/migrate.js';
import {
  BackupError,
  MANIFEST_ENTRY,
  manifestSchema,
  Meter,
  type ArchiveKind,
  type Manifest,
} from './archive.js';
import { bypassesRls, quoteIdent } from './catalog.js';

/** An open archive: its manifest and a way to stream each entry (yauzl reads the file on demand). */
export interface OpenArchive {
  manifest: Manifest;
  open(entry: string): Promise<Readable>;
  close(): void;
}

export async function openArchive(file: string): Promise<OpenArchive> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (error, opened) =>
      error ? reject(new BackupError(`${file} is not a Kluis backup (${error.message})`)) : resolve(opened),
    ),
  );
  const entries = new Map<string, yauzl.Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.once('end', resolve);
    zip.once('error', reject);
    zip.readEntry();
  });
  const open = (name: string): Promise<Readable> => {
    const entry = entries.get(name);
    if (!entry) return Promise.reject(new BackupError(`the archive has no entry ${name}`));
    return new Promise((resolve, reject) =>
      zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))),
    );
  };
  let manifest: Manifest;
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of await open(MANIFEST_ENTRY)) chunks.push(chunk as Buffer);
    const parsed = manifestSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BackupError(
        `${file}: the manifest is not one Kluis understands (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
      );
    }
    manifest = parsed.data;
  } catch (cause) {
    zip.close();
    if (cause instanceof BackupError) throw cause;
    throw new BackupError(`${file} is not a Kluis backup (no readable manifest)`, { cause });
  }
  return { manifest, open, close: () => zip.close() };
}

export interface RestoreOptions {
  connectionString: string;
  kind: ArchiveKind;
  archive: OpenArchive;
  migrationsDir: string;
  /** Replace a database that already holds a Kluis schema (never one a running Kluis uses). */
  force: boolean;
  /** For key-store archives: the check of the master key this Kluis runs with. */
  masterKeyCheck?: string;
  onProgress?: (rows: number, totalRows: number, table: string) => void;
}

/**
 * Restores one archive into an empty database: rebuilds the schema by replaying exactly the
 * migrations the archive's database had, creates the run-time partitions, loads every table
 * with COPY … FROM in foreign-key order and sets the sequences, all in one transaction (a
 * damaged entry leaves the database as it was). Later migrations then run as on any start.
 */
export async function restoreBackup(options: RestoreOptions): Promise<Manifest> {
  const { manifest } = options.archive;
  const target = describeDatabaseUrl(options.connectionString);
  if (manifest.kind !== options.kind) {
    throw new BackupError(`this is a ${manifest.kind} archive, not a ${options.kind} archive`);
  }
  if (
    options.kind === 'keys' &&
    manifest.masterKeyCheck !== undefined &&
    options.masterKeyCheck !== manifest.masterKeyCheck
  ) {
    throw new BackupError(
      'the key store was backed up under another master key: set KLUIS_MASTER_KEY (or master.key in the data folder) to the one it was made with',
    );
  }
  const known = await readMigrations(options.migrationsDir);
  for (const recorded of manifest.migrations) {
    const ours = known.find((migration) => migration.version === recorded.version);
    if (!ours) {
      throw new BackupError(
        `the backup has migration ${recorded.version} (${recorded.name}), which this Kluis does not know: restore with Kluis ${manifest.kluisVersion} or newer`,
      );
    }
    if (ours.checksum !== recorded.checksum) {
      throw new BackupError(`migration ${ours.file} differs from the one the backup was made with`);
    }
  }
  const client = new pg.Client({
    connectionString: namedConnectionString(options.connectionString, 'kluis-restore'),
  });
  warnOnConnectionLoss(client, undefined, 'kluis-restore');
  await client.connect();
  try {
    await refuseLiveDatabase(client, target);
    const existing = await countTables(client);
    if (existing > 0 && !options.force) {
      throw new BackupError(
        `database ${target} is not empty (${existing} tables): restore into an empty database, or add --force to replace it`,
      );
    }
    const bypass = await bypassesRls(client);
    await client.query('begin');
    if (existing > 0) {
      await client.query('drop schema public cascade');
      await client.query('create schema public');
    }
    await applyMigrationsInTransaction(
      client,
      known,
      new Set(manifest.migrations.map((migration) => migration.version)),
    );
    for (const partition of manifest.partitions) {
      await client.query(
        `create table ${quoteIdent(partition.name)} partition of ${quoteIdent(partition.parent)} ${partition.bound}`,
      );
      // As the application makes them: reachable only through the parent, where RLS applies.
      await client.query(`revoke all on ${quoteIdent(partition.name)} from kluis_app`);
    }
    const totalRows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
    let rowsSoFar = 0;
    for (const table of manifest.tables) {
      const forced = await client.query<{ forced: boolean }>(
        `select relforcerowsecurity as forced from pg_class where oid = $1::regclass`,
        [quoteIdent(table.name)],
      );
      // COPY FROM refuses a table whose row-level security applies to us: lift FORCE meanwhile.
      const lift = !bypass && forced.rows[0]?.forced === true;
      if (lift) await client.query(`alter table ${quoteIdent(table.name)} no force row level security`);
      const meter = new Meter((progress) =>
        options.onProgress?.(rowsSoFar + progress.rows, totalRows, table.name),
      );
      const columns = table.columns.map(quoteIdent).join(', ');
      await pipeline(
        await options.archive.open(table.entry),
        meter,
        client.query(copyFrom(`COPY ${quoteIdent(table.name)} (${columns}) FROM STDIN`)),
      );
      if (meter.digest() !== table.sha256 || meter.rows !== table.rows) {
        throw new BackupError(
          `archive entry ${table.entry} is damaged (checksum differs); nothing was restored`,
        );
      }
      if (lift) await client.query(`alter table ${quoteIdent(table.name)} force row level security`);
      rowsSoFar += meter.rows;
    }
    for (const sequence of manifest.sequences) {
      if (sequence.lastValue === null) continue;
      await client.query('select setval($1::regclass, $2::bigint, true)', [
        quoteIdent(sequence.name),
        sequence.lastValue,
      ]);
    }
    await client.query('commit');
    return manifest;
  } catch (cause) {
    await client.query('rollback').catch(() => undefined);
    if (cause instanceof BackupError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new BackupError(`restore into ${target} failed and was rolled back: ${reason}`, { cause });
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function countTables(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')`,
  );
  return rows[0]?.n ?? 0;
}

/** A database that a Kluis process is connected to is never replaced, not even with --force. */
async function refuseLiveDatabase(client: pg.Client, target: string): Promise<void> {
  const connections = (await serverSessions(client, ['kluis-migrate', 'kluis-backup', 'kluis-restore']))
    .length;
  if (connections > 0) {
    throw new BackupError(
      `Kluis is running on database ${target} (${connections} connections): stop it before restoring`,
    );
  }
}
