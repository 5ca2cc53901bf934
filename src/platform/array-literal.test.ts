import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { arrayLiteral } from './array-literal.js';

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.ownerUrl });
  await client.connect();
});
afterAll(async () => {
  await client.end();
  await database.close();
});

describe('array parameters as one literal (decision 0720)', () => {
  it('reads back exactly what pg sends for an array: quotes, backslashes, NULL, the string "NULL", empty strings, commas, braces, unicode, numbers and booleans', async () => {
    const texts = [
      'a',
      '',
      'NULL',
      null,
      'say "hi"',
      'back\\slash',
      '{x,y}',
      ' spaced ',
      'é€—',
      'a\nb',
      undefined,
    ];
    const numbers = [1, -2, 0, null, 9_007_199_254_740_991];
    const flags = [true, false, null];
    const read = async (literal: unknown, type: string) =>
      (await client.query<{ v: unknown }>(`select $1::${type}[] as v`, [literal])).rows[0]?.v;
    for (const [values, type] of [
      [texts, 'text'],
      [numbers, 'bigint'],
      [flags, 'boolean'],
    ] as const) {
      const ours = await read(arrayLiteral(values), type);
      expect(ours).toEqual(await read(values, type));
    }
    expect(await read(arrayLiteral(texts), 'text')).toEqual(texts.map((text) => text ?? null));
  });
});
