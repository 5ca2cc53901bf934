import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';

/** A plain-text dump of tables (COPY … TO, as pg_dump writes data), as the owner sees them. */
export async function dumpTables(
  connectionString: string,
  tables: readonly string[],
): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  const dump = new Map<string, string>();
  try {
    for (const table of tables) {
      let text = '';
      await pipeline(
        client.query(copyTo(`COPY ${table} TO STDOUT`)),
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            text += chunk.toString('utf8');
            done();
          },
        }),
      );
      dump.set(table, text);
    }
  } finally {
    await client.end();
  }
  return dump;
}

/** Loads a dump into (empty) tables of another database, in the given order. */
export async function restoreTables(
  connectionString: string,
  dump: Map<string, string>,
  order: readonly string[],
): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    for (const table of order) {
      const text = dump.get(table) ?? '';
      await pipeline(Readable.from([text]), client.query(copyFrom(`COPY ${table} FROM STDIN`)));
    }
  } finally {
    await client.end();
  }
}

/** Every value of every table of a database as one string, for "is this value anywhere?" checks. */
export async function dumpWholeDatabase(connectionString: string): Promise<string> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  let tables: string[];
  try {
    const result = await client.query<{ name: string }>(
      `select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r'`,
    );
    tables = result.rows.map((row) => row.name);
  } finally {
    await client.end();
  }
  const dump = await dumpTables(connectionString, tables);
  return [...dump.values()].join('\n');
}
