import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import pg from 'pg';
import { warnOnConnectionLoss } from '../platform/db.js';
import { to as copyTo } from 'pg-copy-streams';
import yazl from 'yazl';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  BackupError,
  MANIFEST_ENTRY,
  Meter,
  type ArchiveKind,
  type Manifest,
} from './archive.js';
import { bypassesRls, quoteIdent, readPartitions, readSequences, readTables } from './catalog.js';
import { namedConnectionString } from '../platform/server-sessions.js';

export interface BackupProgress {
  table: string;
  rows: number;
  estimatedTotalRows: number;
}

export interface WriteBackupOptions {
  connectionString: string;
  kind: ArchiveKind;
  file: string;
  kluisVersion: string;
  /** Tenants to read table by table where RLS is forced on the owner (from the data database). */
  tenantIds?: readonly number[];
  masterKeyCheck?: string;
  now?: Date;
  onProgress?: (progress: BackupProgress) => void;
}

/**
 * Writes a logical backup of one database: every table of its schema with COPY … TO, all in
 * one repeatable-read snapshot, streamed into a ZIP (constant memory whatever the size). The
 * file appears under its name only when complete (written as `<file>.partial`, then renamed).
 */
export async function writeBackup(options: WriteBackupOptions): Promise<Manifest> {
  const client = new pg.Client({
    connectionString: namedConnectionString(options.connectionString, 'kluis-backup'),
  });
  warnOnConnectionLoss(client, undefined, 'kluis-backup');
  await client.connect();
  const partial = `${options.file}.partial`;
  const zip = new yazl.ZipFile();
  const written = pipeline(zip.outputStream, createWriteStream(partial, { mode: 0o600 }));
  // The output must be consumed from the start; failures surface when awaited below.
  written.catch(() => undefined);
  const mtime = options.now ?? new Date();
  try {
    await client.query('begin isolation level repeatable read read only');
    const migrations = await appliedMigrations(client);
    const tables = await readTables(client);
    const partitions = await readPartitions(client);
    const sequences = await readSequences(client);
    const bypass = await bypassesRls(client);
    const tenantIds =
      options.tenantIds ??
      (tables.some((table) => table.name === 'tenants')
        ? (await client.query<{ id: number }>('select tenant_id as id from tenants order by 1')).rows.map(
            (row) => row.id,
          )
        : []);
    const estimatedTotalRows = tables.reduce((sum, table) => sum + table.estimatedRows, 0);
    let rowsSoFar = 0;
    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      formatVersion: ARCHIVE_FORMAT_VERSION,
      kind: options.kind,
      kluisVersion: options.kluisVersion,
      createdAt: mtime.toISOString(),
      migrationLevel: migrations.reduce((level, migration) => Math.max(level, migration.version), 0),
      migrations,
      tables: [],
      partitions,
      sequences,
      ...(options.masterKeyCheck ? { masterKeyCheck: options.masterKeyCheck } : {}),
    };
    for (const table of tables) {
      const columns = table.columns.map(quoteIdent).join(', ');
      const perTenant = table.forcedRls && table.hasTenantId && !bypass;
      const statements = perTenant
        ? tenantIds.map((id) => ({
            tenant: id,
            sql: `COPY (SELECT ${columns} FROM ${quoteIdent(table.name)} WHERE tenant_id = ${Number(id)}) TO STDOUT`,
          }))
        : [{ tenant: undefined, sql: `COPY (SELECT ${columns} FROM ${quoteIdent(table.name)}) TO STDOUT` }];
      const source = Readable.from(copyAll(client, statements));
      const meter = new Meter((progress) =>
        options.onProgress?.({
          table: table.name,
          rows: rowsSoFar + progress.rows,
          estimatedTotalRows: Math.max(estimatedTotalRows, rowsSoFar + progress.rows),
        }),
      );
      const entry = `tables/${table.name}.copy`;
      zip.addReadStream(source.pipe(meter), entry, { mtime, mode: 0o100600 });
      await finished(meter);
      rowsSoFar += meter.rows;
      manifest.tables.push({
        name: table.name,
        entry,
        columns: table.columns,
        rows: meter.rows,
        bytes: meter.bytes,
        sha256: meter.digest(),
      });
    }
    await client.query('commit');
    zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), MANIFEST_ENTRY, {
      mtime,
      mode: 0o100600,
    });
    zip.end();
    await written;
    await rename(partial, options.file);
    return manifest;
  } catch (cause) {
    (zip.outputStream as Readable).destroy();
    await rm(partial, { force: true });
    if (cause instanceof BackupError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new BackupError(`backup of the ${options.kind} database failed: ${reason}`, { cause });
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function* copyAll(
  client: pg.Client,
  statements: ReadonlyArray<{ tenant: number | undefined; sql: string }>,
): AsyncGenerator<Buffer> {
  for (const statement of statements) {
    if (statement.tenant !== undefined) {
      await client.query(`select set_config('app.tenant', $1, true)`, [String(statement.tenant)]);
    }
    for await (const chunk of client.query(copyTo(statement.sql))) yield chunk as Buffer;
  }
}

async function appliedMigrations(client: pg.Client): Promise<Manifest['migrations']> {
  const { rows } = await client.query<{ exists: boolean }>(
    `select to_regclass('public.schema_migrations') is not null as exists`,
  );
  if (!rows[0]?.exists) throw new BackupError('the database has no Kluis schema (no migrations applied)');
  const applied = await client.query<Manifest['migrations'][number]>(
    'select version, name, checksum from schema_migrations order by version',
  );
  return applied.rows;
}
