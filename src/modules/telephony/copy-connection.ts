import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { APP_ROLE, warnOnConnectionLoss, type Db } from '../../platform/db.js';
import type { Logger } from '../../platform/logger.js';

export interface CopyConnectionOptions {
  connectionString: string;
  /** Same meaning as createAppDb's: SET ROLE kluis_app before the first query. */
  assumeAppRole: boolean;
  /** Where a lost connection is reported (warn); the import itself fails at its next statement. */
  logger?: Logger;
}

/**
 * One connection that both Kysely and `COPY` use. Kysely's pool never hands out its pg client,
 * and COPY must run inside the same transaction as the gate decision and the audit entry, so
 * the bulk path owns a single client and gives Kysely a "pool" of exactly that client.
 * Queries on it run one at a time; callers never start two transactions at once.
 */
export interface CopyConnection {
  client: pg.Client;
  db: Db;
  /** Streams text-format COPY data into `copySql` (… FROM STDIN) on this connection. */
  copyIn(copySql: string, chunks: Iterable<Buffer | string>): Promise<void>;
  close(): Promise<void>;
}

export async function openCopyConnection(options: CopyConnectionOptions): Promise<CopyConnection> {
  const client = new pg.Client({ connectionString: options.connectionString, application_name: 'kluis-cdr' });
  warnOnConnectionLoss(client, options.logger, 'kluis-cdr');
  await client.connect();
  if (options.assumeAppRole) {
    // Fail closed: a connection that cannot take the role is closed, never used as the login.
    try {
      await client.query(`SET ROLE ${APP_ROLE}`);
    } catch (error) {
      await client.end();
      throw error;
    }
  }
  const single = {
    connect: () => Promise.resolve({ query: client.query.bind(client), release: () => undefined }),
    end: () => Promise.resolve(),
  };
  // pg.Client's query overloads are a superset of what Kysely calls.
  const pool: PostgresPool = single;
  const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return {
    client,
    db,
    copyIn: async (copySql, chunks) => {
      const stream = client.query(copyFrom(copySql));
      await pipeline(Readable.from(chunks, { objectMode: false }), stream);
    },
    close: async () => {
      await db.destroy();
      await client.end();
    },
  };
}
