import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';
import type { Logger } from './logger.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
export type TenantId = number;

/** The role the application runs as: no superuser, no BYPASSRLS, owns nothing. */
export const APP_ROLE = 'kluis_app';

// int8 (bigint) as JS number: our counts and ids stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));
// date stays 'YYYY-MM-DD': a calendar date, not an instant (pg would make a local-midnight Date,
// which shifts a day in any time zone west of the server's).
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
// numeric stays a string (money is integer cents elsewhere; exact decimals must not turn into floats).

export interface AppPoolOptions {
  connectionString: string;
  logger: Logger;
  /** Switch every connection to APP_ROLE, for when the login itself may bypass RLS. */
  assumeAppRole: boolean;
  max?: number;
}

/**
 * The pool the application uses. When the login is the owner/superuser (embedded server, or
 * a DATABASE_URL without a separate app login), each new connection does `SET ROLE kluis_app`
 * before it is handed out, so row-level security applies to everything the app runs. A
 * connection that cannot take the role is closed and the query that asked for it fails: it is
 * never used as the login itself, which could bypass row-level security (docs/decisions/0065).
 */
export function createAppDb<DB = Database>(options: AppPoolOptions): { db: Kysely<DB>; pool: pg.Pool } {
  // pg-pool awaits `onConnect` before it hands a new client out; when it rejects, the client is
  // ended and the caller's connect() rejects (@types/pg types the hook as returning void).
  const config: Omit<pg.PoolConfig, 'onConnect'> & { onConnect?: (client: pg.ClientBase) => Promise<void> } =
    {
      connectionString: options.connectionString,
      max: options.max ?? 10,
      application_name: 'kluis',
    };
  if (options.assumeAppRole) config.onConnect = (client) => assumeAppRole(client, options.logger);
  const pool = new pg.Pool(config);
  pool.on('error', (err) =>
    options.logger.warn({ err: { message: err.message } }, 'idle database connection failed'),
  );
  // A connection that is checked out (a transaction between two queries) has no pool listener:
  // its 'error' (the server died under it) would be unhandled and end the process. Its work fails
  // at its next query instead, and the pool drops it.
  pool.on('connect', (client) => {
    client.on('error', (err) =>
      options.logger.warn({ err: { message: err.message } }, 'database connection failed'),
    );
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool };
}

/** Switches a fresh connection to APP_ROLE; rejects (the connection is then closed) when it cannot. */
async function assumeAppRole(client: pg.ClientBase, logger: Logger): Promise<void> {
  try {
    await client.query(`SET ROLE ${APP_ROLE}`);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    logger.error({ code }, 'could not switch to the application role: connection closed');
    throw new AppRoleError(typeof code === 'string' ? code : undefined);
  }
}

/** A database connection could not take the application role; nothing ran on it. */
export class AppRoleError extends Error {
  readonly code: string | undefined;
  constructor(code: string | undefined) {
    super(`database connection could not switch to ${APP_ROLE}`);
    this.name = 'AppRoleError';
    this.code = code;
  }
}

/**
 * Runs `work` in a transaction scoped to one tenant: row-level security policies read
 * `app.tenant`, which `set_config(…, true)` sets for this transaction only.
 */
export async function withTenant<T, DB = Database>(
  db: Kysely<DB>,
  tenantId: TenantId,
  work: (tx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (tx) => {
    await sql`select set_config('app.tenant', ${String(tenantId)}, true)`.execute(tx);
    return work(tx);
  });
}

/** True when the database answers a trivial query within the timeout. */
export async function pingDatabase<DB>(db: Kysely<DB>, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([sql`select 1`.execute(db).then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** SQLSTATE classes and codes that mean "the database cannot serve now", not "this query is wrong". */
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[123]|53300|3D000|28000|28P01)$/;
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);

/**
 * True for errors that say the database is unreachable (refused, reset, shut down, terminated,
 * too many connections, pool timeout): worth a 503 "try again", never an answer about the input.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_NODE_CODES.has(code)))
    return true;
  // pg and pg-pool report a lost or timed-out connection without a code.
  if (/^Connection terminated|timeout exceeded when trying to connect/.test(error.message)) return true;
  return error instanceof AggregateError && error.errors.some((inner) => isDatabaseUnavailable(inner));
}
