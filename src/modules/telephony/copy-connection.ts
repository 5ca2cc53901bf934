import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { clientSocket, endSilentClient } from '../../platform/client-socket.js';
import { APP_ROLE, warnOnConnectionLoss, type Db } from '../../platform/db.js';
import type { Logger } from '../../platform/logger.js';
import { namedConnectionString } from '../../platform/server-sessions.js';

export interface CopyConnectionOptions {
  connectionString: string;
  /** Same meaning as createAppDb's: SET ROLE kluis_app before the first query. */
  assumeAppRole: boolean;
  /** Where a lost connection is reported (warn); the import itself fails at its next statement. */
  logger?: Logger;
  /**
   * How long a statement (or the connect) may go without a byte from the server before the
   * connection is given up as lost (decision 0703); `DATABASE_SILENCE_MS` unless a test sets it.
   */
  silenceMs?: number;
}

/**
 * The silence after which a database that keeps its connections open but answers nothing (a
 * frozen server, a network partition) is taken as lost (decision 0703): far above any one
 * statement of an import (a batch's COPY and merge), far below the operating system's TCP timeout.
 */
export const DATABASE_SILENCE_MS = 5 * 60 * 1000;

/**
 * One connection that both Kysely and `COPY` use. Kysely's pool never hands out its pg client,
 * and COPY must run inside the same transaction as the gate decision and the audit entry, so
 * the bulk path owns a single client and gives Kysely a "pool" of exactly that client.
 * Queries on it run one at a time; callers never start two transactions at once.
 */
export interface CopyConnection {
  client: pg.Client;
  db: Db;
  /** One statement on this connection, under its silence limit (use this, not `client.query`). */
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Streams text-format COPY data into `copySql` (… FROM STDIN) on this connection. */
  copyIn(copySql: string, chunks: Iterable<Buffer | string>): Promise<void>;
  close(): Promise<void>;
}

export async function openCopyConnection(options: CopyConnectionOptions): Promise<CopyConnection> {
  const silenceMs = options.silenceMs ?? DATABASE_SILENCE_MS;
  const client = new pg.Client({
    connectionString: namedConnectionString(options.connectionString, 'kluis-cdr'),
    connectionTimeoutMillis: silenceMs,
  });
  warnOnConnectionLoss(client, options.logger, 'kluis-cdr');
  await client.connect();
  const whileWaiting = silenceLimit(client, silenceMs);
  if (options.assumeAppRole) {
    // Fail closed: a connection that cannot take the role is closed, never used as the login.
    try {
      await client.query(`SET ROLE ${APP_ROLE}`);
    } catch (error) {
      await client.end();
      throw error;
    }
  }
  // Kysely asks text and values only here (no cursor is used on this connection).
  const query = (text: string, values: readonly unknown[]) =>
    whileWaiting(() => client.query(text, [...values]));
  const single = {
    connect: () => Promise.resolve({ query, release: () => undefined }),
    end: () => Promise.resolve(),
  };
  const pool = single as unknown as PostgresPool;
  const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return {
    client,
    db,
    query: (text, values) => whileWaiting(() => client.query(text, values)),
    copyIn: (copySql, chunks) =>
      whileWaiting(async () => {
        const stream = client.query(copyFrom(copySql));
        await pipeline(Readable.from(chunks, { objectMode: false }), stream);
      }),
    close: async () => {
      await db.destroy();
      // A silent server would never answer the goodbye either.
      await whileWaiting(() => client.end());
    },
  };
}

/**
 * Runs work on `client` while its socket may not stay silent (nothing read, nothing written) for
 * `silenceMs`; if it does, the socket is destroyed with an ETIMEDOUT error, which fails the work
 * as a lost database (`isDatabaseUnavailable`). An idle connection (the lock connection while its
 * import runs) is never timed: only work in flight is.
 */
function silenceLimit(client: pg.Client, silenceMs: number): <T>(work: () => Promise<T>) => Promise<T> {
  const socket = clientSocket(client);
  if (!socket) throw new Error('silenceLimit: the client is not connected');
  let inFlight = 0;
  socket.on('timeout', () => {
    if (inFlight === 0) return;
    endSilentClient(client, `the database was silent for ${silenceMs / 1000} s`);
  });
  return async (work) => {
    inFlight += 1;
    if (inFlight === 1) socket.setTimeout(silenceMs);
    try {
      return await work();
    } finally {
      inFlight -= 1;
      if (inFlight === 0) socket.setTimeout(0);
    }
  };
}
