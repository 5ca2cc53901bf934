import { sql, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

// `COPY (…) TO STDOUT` inside a running Kysely transaction (decision 0430). Kysely never hands out
// the pg client a transaction runs on, and a COPY must run on that client to stay inside the
// transaction (its tenant, its row-level security, its gate decision). So the app's pools
// remember their clients by server process id, and a transaction finds its own client by asking
// the server for `pg_backend_pid()`.

const CLIENTS = new WeakMap<object, Map<number, pg.Client>>();

/** Remembers the clients `pool` connects, by server process id, for copyOutClient on `db`. */
export function trackPoolClients(db: object, pool: pg.Pool): void {
  const clients = new Map<number, pg.Client>();
  CLIENTS.set(db, clients);
  pool.on('connect', (client) => {
    // node-postgres keeps the process id from BackendKeyData; @types/pg does not declare it.
    const pid = (client as { processID?: unknown }).processID;
    if (typeof pid !== 'number') return;
    clients.set(pid, client);
    client.once('end', () => {
      if (clients.get(pid) === client) clients.delete(pid);
    });
  });
}

/** The pg client the transaction `tx` of `db` runs on, or undefined for a database made otherwise. */
export async function copyOutClient<DB>(db: Kysely<DB>, tx: Transaction<DB>): Promise<pg.Client | undefined> {
  const clients = CLIENTS.get(db);
  if (!clients) return undefined;
  const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
  const pid = rows[0]?.pid;
  return pid === undefined ? undefined : clients.get(pid);
}

/**
 * The bytes of `COPY (…) TO STDOUT` (`statement`) on `client`, as the server sends them; read at
 * the reader's pace (a slow reader pauses the socket, so memory stays flat). A reader that stops
 * before the end (a broken download) ends the connection: the server then stops the statement and
 * rolls the transaction back, and the pool drops the client instead of reusing it mid-COPY.
 */
export async function* copyOut(client: pg.Client, statement: string): AsyncGenerator<Buffer> {
  const stream = client.query(copyTo(statement));
  // Errors after the reader left (the connection ended under the stream) have no one to go to.
  stream.on('error', () => undefined);
  let state: 'reading' | 'done' | 'failed' = 'reading';
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
    state = 'done';
  } catch (error) {
    state = 'failed';
    throw error;
  } finally {
    if (state === 'reading') {
      stream.destroy();
      await client.end().catch(() => undefined);
    }
  }
}
