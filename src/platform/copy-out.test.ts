import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { copyOut } from './copy-out.js';

// copyOut reads `COPY … TO` off the socket and strips the protocol's framing itself (decision
// 0610): the same bytes as pg-copy-streams, however the socket cuts the messages; errors,
// notices, an early stop and the connection afterwards as node-postgres would have them.

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.ownerUrl });
  await client.connect();
});
afterAll(async () => {
  await client.end().catch(() => undefined);
  await database.close();
});

async function readAll(statement: string, on = client): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of copyOut(on, statement)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The same COPY through pg-copy-streams: the reference bytes. */
async function readByCopyStreams(statement: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of client.query(copyTo(statement)) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

// Rows of every length from empty to ~2 KB, escapes and non-ASCII: message headers and rows fall
// across socket reads at every place.
const MANY_ROWS = `COPY (select g, repeat(chr(233) || E'\\t\\\\x', g % 300), case when g % 7 = 0 then null else 'r' || g end
  from generate_series(1, 10000) g) TO STDOUT`;

describe('copyOut', () => {
  it('gives the bytes pg-copy-streams gives, for a long COPY cut anywhere by the socket, to a fast and a slow reader, and the connection goes on', async () => {
    const ours = await readAll(MANY_ROWS);
    expect(ours.length).toBeGreaterThan(5_000_000);
    expect(ours.equals(await readByCopyStreams(MANY_ROWS))).toBe(true);
    // A slow reader: the socket is read ahead of it while it waits; the bytes are the same.
    const slow: Buffer[] = [];
    for await (const chunk of copyOut(client, MANY_ROWS)) {
      slow.push(chunk);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(Buffer.concat(slow).equals(ours)).toBe(true);
    expect((await client.query('select 41 + 1 as answer')).rows).toEqual([{ answer: 42 }]);
    expect((await readAll('COPY (select 1 where false) TO STDOUT')).length).toBe(0);
  });

  it('leaves out the notices the server sends between the rows (as pg-copy-streams did)', async () => {
    await client.query(`create function pg_temp.noisy(n int) returns int language plpgsql as $$
      begin if n % 100 = 0 then raise notice 'row %', n; end if; return n; end $$`);
    const statement = 'COPY (select pg_temp.noisy(g) from generate_series(1, 5000) g) TO STDOUT';
    const text = (await readAll(statement)).toString('utf8');
    expect(text).toBe(Array.from({ length: 5000 }, (_, index) => `${index + 1}\n`).join(''));
    expect((await readByCopyStreams(statement)).toString('utf8')).toBe(text);
  });

  it('fails with the server error of a COPY that breaks off after rows were sent; the connection goes on', async () => {
    const statement =
      'COPY (select 1 / (30000 - g), repeat($$x$$, 200) from generate_series(1, 40000) g) TO STDOUT';
    let rows = 0;
    await expect(
      (async () => {
        for await (const chunk of copyOut(client, statement))
          rows += chunk.toString('utf8').split('\n').length - 1;
      })(),
    ).rejects.toThrow(/division by zero/);
    expect(rows).toBeGreaterThan(0);
    await expect(readAll('COPY (select nosuchcolumn) TO STDOUT')).rejects.toThrow(/nosuchcolumn/);
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('a reader that stops before the end ends the connection instead of leaving the COPY running', async () => {
    const own = new pg.Client({ connectionString: database.ownerUrl });
    await own.connect();
    const ended = new Promise<void>((resolve) => own.once('end', resolve));
    for await (const chunk of copyOut(own, MANY_ROWS)) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    await ended;
    await expect(own.query('select 1')).rejects.toThrow();
  });
});
