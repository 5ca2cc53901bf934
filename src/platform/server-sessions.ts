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

/** Kluis's commands that must not run beside each other on one database (restore checks them). */
export type ToolApplicationName = 'kluis-migrate' | 'kluis-backup' | 'kluis-restore';

/**
 * The connection string with Kluis's own `application_name` in it. node-postgres takes a URL's
 * `application_name` over its config's, so a name an operator put in `DATABASE_URL` (to tell apps
 * apart in `pg_stat_activity`) would otherwise rename every connection and hide a running server
 * from the migrator and the restore (attack S13-1, decision 0740).
 */
export function namedConnectionString(
  connectionString: string,
  name: ServerApplicationName | ToolApplicationName,
): string {
  const url = new URL(connectionString);
  url.searchParams.set('application_name', name);
  return url.toString();
}

export interface ServerSession {
  pid: number;
  applicationName: string;
  /** The server's address as PostgreSQL sees it; null for a Unix socket. */
  clientAddress: string | null;
}

/** The sessions of running Kluis servers (or of other `extraNames`) on the client's database. */
export async function serverSessions(
  client: pg.ClientBase,
  extraNames: readonly ToolApplicationName[] = [],
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
