import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { warnOnConnectionLoss } from './db.js';
import type { Logger } from './logger.js';
import { namedConnectionString, serverSessions } from './server-sessions.js';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');
/** The key store is its own database with its own migrations (docs/decisions/0004). */
export const KEYSTORE_MIGRATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../migrations-keystore',
);

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// Any constant works; it only has to be the same for every Kluis process.
const MIGRATION_LOCK_KEY = 7_412_093_001;

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`${file}: migration files are named NNNN_lowercase_name.sql`);
    const text = await readFile(path.join(dir, file), 'utf8');
    const version = Number(match[1]);
    if (migrations.some((migration) => migration.version === version)) {
      throw new MigrationError(`${file}: version ${version} is used twice`);
    }
    migrations.push({
      version,
      name: match[2] ?? file,
      file,
      sql: text,
      checksum: createHash('sha256').update(text).digest('hex'),
    });
  }
  return migrations;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so
 * two starting processes cannot race. A migration that was applied and whose file has since
 * changed is refused: forward-only means a new file, never an edit.
 */
export async function migrate(
  connectionString: string,
  logger: Logger,
  dir = MIGRATIONS_DIR,
): Promise<MigrateResult> {
  const migrations = await readMigrations(dir);
  const client = new pg.Client({
    connectionString: namedConnectionString(connectionString, 'kluis-migrate'),
  });
  warnOnConnectionLoss(client, logger, 'kluis-migrate');
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const rows = await readAppliedMigrations(client);
    verifyApplied(rows, migrations);
    const appliedVersions = new Set(rows.map((row) => row.version));
    const pending = migrations.filter((migration) => !appliedVersions.has(migration.version));
    if (pending.length > 0) await refuseWhileServersRun(client, pending);
    const applied: string[] = [];
    for (const migration of pending) {
      await applyOne(client, migration);
      logger.info({ migration: migration.file }, 'migration applied');
      applied.push(migration.file);
    }
    return { applied, alreadyApplied: appliedVersions.size };
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

/**
 * A server still running on the database is an older Kluis (a server applies every migration it
 * knows before it serves): once the schema moves on, what it writes may be refused half-way (a
 * pending audit entry without 0686's nonce) or misread. An upgrade stops every server first
 * (decision 0740). A server whose connections are all closed is not seen; its next statement on
 * the newer schema may fail, never write outside it.
 */
async function refuseWhileServersRun(client: pg.Client, pending: readonly Migration[]): Promise<void> {
  const sessions = await serverSessions(client);
  if (sessions.length === 0) return;
  const who = sessions
    .map(
      (session) =>
        `pid ${session.pid} ${session.applicationName} from ${session.clientAddress ?? 'a local socket'}`,
    )
    .join(', ');
  throw new MigrationError(
    `a running Kluis is connected to this database (${who}): stop every Kluis process before applying ${pending.length} new migration(s) from ${pending[0]?.file ?? ''} on, then start the new version`,
  );
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

/** The migrations a database has, creating the bookkeeping table when it is new. */
export async function readAppliedMigrations(client: pg.ClientBase): Promise<AppliedMigration[]> {
  await client.query(`create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
  )`);
  const { rows } = await client.query<AppliedMigration>(
    'select version, name, checksum from schema_migrations order by version',
  );
  return rows;
}

/**
 * Applies exactly the given migration versions, in order, inside the caller's transaction (a
 * restore builds the schema a backup was made at and loads its rows in one all-or-nothing
 * transaction).
 */
export async function applyMigrationsInTransaction(
  client: pg.ClientBase,
  migrations: readonly Migration[],
  versions: ReadonlySet<number>,
): Promise<void> {
  await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
  const applied = new Set((await readAppliedMigrations(client)).map((row) => row.version));
  for (const migration of migrations) {
    if (!versions.has(migration.version) || applied.has(migration.version)) continue;
    try {
      await client.query(await withoutSatisfiedSteps(client, migration.sql));
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new MigrationError(`migration ${migration.file} failed: ${reason}`, { cause });
    }
    await client.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [
      migration.version,
      migration.name,
      migration.checksum,
    ]);
  }
}

function verifyApplied(rows: AppliedMigration[], migrations: Migration[]): void {
  for (const row of rows) {
    const migration = migrations.find((candidate) => candidate.version === row.version);
    if (!migration) {
      throw new MigrationError(
        `the database has migration ${row.version} (${row.name}) that this version of Kluis does not know; refusing to run an older Kluis on a newer schema`,
      );
    }
    if (migration.checksum !== row.checksum) {
      throw new MigrationError(
        `migration ${migration.file} was changed after it was applied (checksum differs); migrations are forward-only: restore the file and add a new migration instead`,
      );
    }
  }
}

/**
 * Steps of old migrations (which are never edited) that a login without CREATEROLE cannot run,
 * but whose effect an administrator provides beforehand (README, "External PostgreSQL"). Such a
 * step is left out only when its effect already holds, so the schema is the same either way; the
 * checksum stays that of the file.
 */
const SATISFIABLE_STEPS: ReadonlyArray<{ statement: string; holds: string }> = [
  {
    // Since PostgreSQL 16 granting a role needs ADMIN OPTION on it, even to an existing member.
    statement: 'GRANT kluis_app TO CURRENT_USER;',
    holds: `select pg_has_role(current_user, 'kluis_app', 'MEMBER') as holds`,
  },
];

/**
 * Steps of old migrations that read every tenant's rows in one statement: under forced row-level
 * security a login that is subject to it (no superuser, no BYPASSRLS: the README's external
 * setup) fails on them, since no tenant is named. A later migration does the same work tenant by
 * tenant; for such a login the step is left out (the checksum stays that of the file).
 */
const ALL_TENANT_STEPS: ReadonlyArray<{ from: string; to: string; redoneBy: string }> = [
  {
    // 0500's fill of the call totals from the calls already stored; 0502 fills them per tenant.
    from: '-- The totals of the calls already stored.\nINSERT INTO call_record_month_totals',
    to: ' GROUP BY 1, 2, 3, 4;',
    redoneBy: '0502',
  },
];

async function withoutAllTenantSteps(client: pg.ClientBase, sql: string): Promise<string> {
  const steps = ALL_TENANT_STEPS.filter((step) => sql.includes(step.from));
  if (steps.length === 0) return sql;
  const { rows } = await client.query<{ bypasses: boolean }>(
    'select rolsuper or rolbypassrls as bypasses from pg_roles where rolname = current_user',
  );
  if (rows[0]?.bypasses) return sql;
  let result = sql;
  for (const step of steps) {
    const start = result.indexOf(step.from);
    const end = result.indexOf(step.to, start);
    if (end < 0) continue;
    result = `${result.slice(0, start)}-- left out for a login under row-level security: migration ${step.redoneBy} does it per tenant${result.slice(end + step.to.length)}`;
  }
  return result;
}

/** The migration's SQL without the steps whose effect already holds. */
export async function withoutSatisfiedSteps(client: pg.ClientBase, sql: string): Promise<string> {
  let result = await withoutAllTenantSteps(client, sql);
  for (const step of SATISFIABLE_STEPS) {
    const lines = result.split('\n');
    if (!lines.some((line) => line.trim() === step.statement)) continue;
    const exists = await client.query<{ exists: boolean }>(
      `select exists (select from pg_roles where rolname = 'kluis_app') as exists`,
    );
    if (!exists.rows[0]?.exists) continue;
    const { rows } = await client.query<{ holds: boolean }>(step.holds);
    if (!rows[0]?.holds) continue;
    result = lines
      .map((line) => (line.trim() === step.statement ? `-- already holds: ${step.statement}` : line))
      .join('\n');
  }
  return result;
}

async function applyOne(client: pg.Client, migration: Migration): Promise<void> {
  await client.query('begin');
  try {
    await client.query(await withoutSatisfiedSteps(client, migration.sql));
    await client.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [
      migration.version,
      migration.name,
      migration.checksum,
    ]);
    await client.query('commit');
  } catch (cause) {
    await client.query('rollback').catch(() => undefined);
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new MigrationError(`migration ${migration.file} failed and was rolled back: ${reason}`, { cause });
  }
}
