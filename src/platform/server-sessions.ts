import type pg from 'pg';

/**
 * The `application_name` of every connection a running Kluis server holds: its pool, the job
 * queue's pool and its two own connections, and the call-record bulk copy. A migrator and a
 * restorer look for them to tell whether a server is running on a database.
 */
export const SERVER_APPLICATION_NAMES = [
  'kluis',
  'kluis-jobs',
  'kluis-job-locks',
  'kluis-job-checks',
  'kluis-cdr',
] as const;

export type ServerApplicationName = (typeof SERVER_APPLICATION_NAMES)[number];

export interface ServerSession {
  pid: number;
  applicationName: string;
  /** The server's address as PostgreSQL sees it; null for a Unix socket. */
  clientAddress: string | null;
}

/** The sessions of running Kluis servers (or of other `extraNames`) on the client's database. */
export async function serverSessions(
  client: pg.ClientBase,
  extraNames: readonly string[] = [],
): Promise<ServerSession[]> {
  const { rows } = await client.query<ServerSession>(
    `select pid, application_name as "applicationName", host(client_addr) as "clientAddress"
       from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()
        and application_name = any($1::text[])
      order by pid`,
    [[...SERVER_APPLICATION_NAMES, ...extraNames]],
  );
  return rows;
}
