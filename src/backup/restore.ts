import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { warnOnConnectionLoss } from '../platform/db.js';
import { from as copyFrom } from 'pg-copy-streams';
import yauzl from 'yauzl';
import { describeDatabaseUrl } from '../platform/database-url.js';
import { namedConnectionString, serverSessions } from '../platform/server-sessions.js';
import { applyMigrationsInTransaction, readMigrations, type Migration } from '../platform/migrate.js';
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
  /** The file as the operator named it. */
  file: string;
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
    // yauzl refuses an entry named like `../../x` or `/etc/x`: a hand-made or damaged archive.
    zip.once('error', (error: Error) => {
      zip.close();
      reject(new BackupError(`${file} is not a Kluis backup (${error.message})`, { cause: error }));
    });
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
  return { file, manifest, open, close: () => zip.close() };
}

export interface ArchiveCheckOptions {
  archive: OpenArchive;
  kind: ArchiveKind;
  migrationsDir: string;
  /** For key-store archives: the check of the master key this Kluis runs with. */
  masterKeyCheck?: string;
  onProgress?: (rows: number, totalRows: number, table: string) => void;
}

/**
 * Checks an archive whole without touching any database (attack S22-3, decision 1050): its kind,
 * the master key it was made under, the migrations it was made at, and every entry's SHA-256 and
 * row count read end to end. Returns this Kluis's migrations, which the load replays.
 */
export async function checkArchive(options: ArchiveCheckOptions): Promise<Migration[]> {
  const { manifest, file } = options.archive;
  if (manifest.kind !== options.kind) {
    throw new BackupError(`${file}: this is a ${manifest.kind} archive, not a ${options.kind} archive`);
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
        `${file}: the backup has migration ${recorded.version} (${recorded.name}), which this Kluis does not know: restore with Kluis ${manifest.kluisVersion} or newer`,
      );
    }
    if (ours.checksum !== recorded.checksum) {
      throw new BackupError(`${file}: migration ${ours.file} differs from the one the backup was made with`);
    }
  }
  const totalRows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
  let rowsSoFar = 0;
  for (const table of manifest.tables) {
    const meter = new Meter((progress) =>
      options.onProgress?.(rowsSoFar + progress.rows, totalRows, table.name),
    );
    await pipeline(
      await options.archive.open(table.entry),
      meter,
      new Writable({ write: (_chunk, _encoding, done) => done() }),
    );
    if (meter.digest() !== table.sha256 || meter.rows !== table.rows) {
      throw new BackupError(`${file}: archive entry ${table.entry} is damaged (checksum differs)`);
    }
    rowsSoFar += meter.rows;
  }
  return known;
}

/** A database a restore writes into: connected and checked, nothing written yet. */
export interface RestoreTarget {
  readonly client: pg.Client;
  /** The database as the operator may see it (no password). */
  readonly name: string;
  /** Tables it holds now: a database that holds any is replaced only with --force. */
  readonly existingTables: number;
  close(): Promise<void>;
}

/**
 * Connects to a database a restore will write into and refuses it, before anything is written,
 * while a Kluis is connected to it (always) or when it holds tables and `force` is not given.
 */
export async function openRestoreTarget(connectionString: string, force: boolean): Promise<RestoreTarget> {
  const name = describeDatabaseUrl(connectionString);
  const client = new pg.Client({
    connectionString: namedConnectionString(connectionString, 'kluis-restore'),
  });
  warnOnConnectionLoss(client, undefined, 'kluis-restore');
  await client.connect();
  const close = () => client.end().catch(() => undefined);
  try {
    await refuseLiveDatabase(client, name);
    const existingTables = await countTables(client);
    if (existingTables > 0 && !force) {
      throw new BackupError(
        `database ${name} is not empty (${existingTables} tables): restore into an empty database, or add --force to replace it`,
      );
    }
    return { client, name, existingTables, close };
  } catch (cause) {
    await close();
    throw cause;
  }
}

/**
 * Makes the application role both schemas' first migration makes, if it is missing, before any
 * load begins. Roles belong to the whole cluster: two open restore transactions that each made it
 * would wait on each other for ever. The role grants nothing by itself (decision 1050).
 */
export async function prepareApplicationRole(target: RestoreTarget): Promise<void> {
  const { rows } = await target.client.query<{ exists: boolean; member: boolean }>(
    `select exists (select from pg_roles where rolname = 'kluis_app') as exists,
            case when exists (select from pg_roles where rolname = 'kluis_app')
                 then pg_has_role(current_user, 'kluis_app', 'MEMBER') else false end as member`,
  );
  if (!rows[0]?.exists) {
    await target.client.query(
      'create role kluis_app nologin nosuperuser nobypassrls nocreatedb nocreaterole noinherit',
    );
  }
  if (!rows[0]?.member) await target.client.query('grant kluis_app to current_user');
}

/** An archive loaded into its database in a transaction still open: commit or roll back. */
export interface LoadedArchive {
  readonly manifest: Manifest;
  readonly target: RestoreTarget;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface LoadOptions {
  target: RestoreTarget;
  archive: OpenArchive;
  /** From `checkArchive`. */
  migrations: readonly Migration[];
  onProgress?: (rows: number, totalRows: number, table: string) => void;
}

/**
 * Loads a checked archive into its target in one transaction that it leaves open: replaces the
 * schema (with --force), rebuilds it by replaying exactly the migrations the archive's database
 * had, creates the run-time partitions, loads every table with COPY … FROM in foreign-key order
 * and sets the sequences. The caller commits once every archive of the restore has loaded and
 * they were found to belong together (decision 1050); on failure the transaction is rolled back.
 */
export async function loadArchive(options: LoadOptions): Promise<LoadedArchive> {
  const { target, archive } = options;
  const { client } = target;
  const { manifest } = archive;
  try {
    const bypass = await bypassesRls(client);
    await client.query('begin');
    if (target.existingTables > 0) {
      await client.query('drop schema public cascade');
      await client.query('create schema public');
    }
    await applyMigrationsInTransaction(
      client,
      options.migrations,
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
        await archive.open(table.entry),
        meter,
        client.query(copyFrom(`COPY ${quoteIdent(table.name)} (${columns}) FROM STDIN`)),
      );
      // Checked whole before; checked again in case the file changed since.
      if (meter.digest() !== table.sha256 || meter.rows !== table.rows) {
        throw new BackupError(`${archive.file}: archive entry ${table.entry} is damaged (checksum differs)`);
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
  } catch (cause) {
    await client.query('rollback').catch(() => undefined);
    if (cause instanceof BackupError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new BackupError(`loading ${archive.file} into ${target.name} failed: ${reason}`, { cause });
  }
  return {
    manifest,
    target,
    commit: async () => {
      await client.query('commit');
    },
    rollback: async () => {
      await client.query('rollback').catch(() => undefined);
    },
  };
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
