import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCdrStream, type CdrParseResult, type ParseCdrOptions } from './cdr.parse.js';
import { splitRecord } from './cdr.split.js';
import { sharedPath } from '../../../test/shared.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const REAL_SAMPLE = sharedPath('cdr-samples', 'asterisk-21col-real.csv');

async function run(
  input: () => Parameters<typeof parseCdrStream>[0],
  options: ParseCdrOptions,
): Promise<CdrParseResult[] | string> {
  const results: CdrParseResult[] = [];
  try {
    for await (const result of parseCdrStream(input(), options)) results.push(result);
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  return results;
}

async function expectSameResults(
  input: () => Parameters<typeof parseCdrStream>[0],
  options: ParseCdrOptions = {},
): Promise<void> {
  const slow = await run(input, options);
  const fast = await run(input, { ...options, fastSplit: true });
  expect(fast).toEqual(slow);
}

describe('fast line splitter (bulk import path)', () => {
  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).
  it.each([
    'asterisk-16col.csv',
    'asterisk-17col.csv',
    'asterisk-18col.csv',
    'asterisk-21col-edge.csv',
    'freeswitch-13col.csv',
    'freeswitch-15col.csv',
  ])('gives the same records and rejections as csv-parse on %s', async (name) => {
    await expectSameResults(() => createReadStream(fixture(name)));
    await expectSameResults(() => createReadStream(fixture(name)), { format: 'asterisk' });
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('gives the same records as csv-parse on the real 21-column sample, in 7-byte chunks too', async () => {
    await expectSameResults(() => createReadStream(REAL_SAMPLE), { timeZone: 'UTC' });
    await expectSameResults(() => createReadStream(REAL_SAMPLE, { highWaterMark: 7 }), { timeZone: 'UTC' });
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('irregular quoting, a name over two lines, CRLF, a BOM and an unclosed quote agree with csv-parse', async () => {
    const line = (src: string, name: string, id: number): string =>
      `"","${src}","022345678","from-internal",${name},"SIP/201-1","SIP/trunk-2","Dial","","2024-06-03 14:00:00","2024-06-03 14:00:04","2024-06-03 14:02:04",124,120,"ANSWERED","DOCUMENTATION","17.${id}","","","17.${id}",${id}`;
    const text = [
      `\ufeff${line('0470123456', '"""Ann"" <0470123456>"', 1)}`,
      line('0470123456', 'Bob "the" Builder', 2),
      line('0470123456', '"Cé"x', 3),
      line('0470123456', '"two\nlines"', 4),
      `${line('0470123456', '"crlf"', 5)}\r`,
      '',
      line('0470123456', '"never closed', 6),
      line('0470123456', '"x"', 7),
    ].join('\n');
    await expectSameResults(() => [Buffer.from(text, 'utf8')]);
  });

  it('splits quoted and bare fields, doubled quotes and empty fields', () => {
    expect(splitRecord('"a","b""c",,12, "d"')).toEqual({ kind: 'ok', fields: ['a', 'b"c', '', '12', 'd'] });
    expect(splitRecord('"open')).toEqual({ kind: 'open' });
    expect(splitRecord('a"b,c')).toEqual({ kind: 'irregular' });
    expect(splitRecord('"a"b,c')).toEqual({ kind: 'irregular' });
  });
});
