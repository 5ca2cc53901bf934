import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CdrLayoutError, detectDelimiter, parseCdrStream } from './cdr.parse.js';
import type { CallRecord, CdrParseResult, ParseCdrOptions, Rejection } from './cdr.parse.js';
import { sharedPath } from '../../../test/shared.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const REAL_SAMPLE = sharedPath('cdr-samples', 'asterisk-21col-real.csv');

async function collect(
  input: Parameters<typeof parseCdrStream>[0],
  options?: ParseCdrOptions,
): Promise<CdrParseResult[]> {
  const results: CdrParseResult[] = [];
  for await (const result of parseCdrStream(input, options)) results.push(result);
  return results;
}

const records = (results: CdrParseResult[]): CallRecord[] =>
  results.filter((r): r is CallRecord => r.kind === 'record');
const rejections = (results: CdrParseResult[]): Rejection[] =>
  results.filter((r): r is Rejection => r.kind === 'rejection');

function recordAt(results: CdrParseResult[], line: number): CallRecord {
  const found = results.find((r) => r.lineNumber === line);
  if (found?.kind !== 'record') throw new Error(`line ${line} is not a record`);
  return found;
}

describe('call-record parsing: the real Asterisk sample', () => {
  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).
  it('all 84 lines of the public 21-column Master.csv parse, none rejected', async () => {
    const results = await collect(createReadStream(REAL_SAMPLE), { timeZone: 'UTC' });
    expect(results).toHaveLength(84);
    expect(rejections(results)).toEqual([]);
    expect(results.map((r) => r.lineNumber)).toEqual(Array.from({ length: 84 }, (_, i) => i + 1));
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('fields of the first line: caller, destination, times, durations, ids', async () => {
    const first = recordAt(await collect(createReadStream(REAL_SAMPLE), { timeZone: 'UTC' }), 1);
    expect(first).toMatchObject({
      uniqueId: '1706368044.0#0',
      linkedId: '1706368044.0',
      callerRaw: '89245555937',
      destinationRaw: '211474',
      durationSeconds: 27,
      billableSeconds: 27,
      disposition: 'answered',
      isBillableLeg: true,
    });
    // this switch logs UTC: the epoch in its uniqueid is the start time
    expect(first.startedAt.getTime()).toBe(1706368044 * 1000);
    expect(first.endedAt.toISOString()).toBe('2024-01-27T15:07:51.000Z');
    expect(first.recordHash).toMatch(/^[0-9a-f]{64}$/);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('unanswered legs have no answer time and no billable seconds', async () => {
    const line7 = recordAt(await collect(createReadStream(REAL_SAMPLE), { timeZone: 'UTC' }), 7);
    expect(line7).toMatchObject({
      answeredAt: null,
      billableSeconds: 0,
      disposition: 'no_answer',
      isBillableLeg: false,
    });
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('multi-leg calls stay separate records; every leg has its own id and hash; one leg per answered conversation is billable', async () => {
    const results = records(await collect(createReadStream(REAL_SAMPLE), { timeZone: 'UTC' }));
    expect(new Set(results.map((r) => r.uniqueId)).size).toBe(84);
    expect(new Set(results.map((r) => r.recordHash)).size).toBe(84);
    const legsOfOneCall = results.filter((r) => r.linkedId === '1706407446.50');
    expect(legsOfOneCall).toHaveLength(5);
    const charged = legsOfOneCall.filter(
      (r) => r.isBillableLeg && r.disposition === 'answered' && r.billableSeconds > 0,
    );
    expect(charged.map((r) => r.billableSeconds)).toEqual([17]);
    expect(results.filter((r) => r.linkedId === 'mainserverdss-1706420300.0').map((r) => r.uniqueId)).toEqual(
      ['mainserverdss-1706420300.0#0', 'mainserverdss-1706420300.0#3'],
    );
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('non-ASCII bytes in caller names do not break the line; names are not carried', async () => {
    const results = await collect(createReadStream(REAL_SAMPLE), { timeZone: 'UTC' });
    const line41 = recordAt(results, 41);
    expect(line41.callerRaw).toBe('81079246516548');
    // the clid was "8107924651\xa5\xa5b" <81079246516548>; only the number is kept
    expect(JSON.stringify(results)).not.toContain('\u00a5');
    expect(Object.keys(line41)).not.toContain('clid');
  });

  it('parsing twice gives the same hashes (the dedup key when there is no unique id)', async () => {
    const first = records(await collect(createReadStream(REAL_SAMPLE), { timeZone: 'UTC' }));
    const second = records(await collect(createReadStream(REAL_SAMPLE), { timeZone: 'UTC' }));
    expect(second.map((r) => r.recordHash)).toEqual(first.map((r) => r.recordHash));
  });
});

describe('call-record parsing: Asterisk layouts', () => {
  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).
  it('16 columns: doubled quotes in the caller name, empty answer time, Brussels local time', async () => {
    const results = await collect(createReadStream(fixture('asterisk-16col.csv')));
    expect(rejections(results)).toEqual([]);
    const [answered, unanswered, busy] = records(results);
    expect(answered).toMatchObject({
      callerRaw: '0470123456',
      destinationRaw: '056223344',
      uniqueId: null,
      linkedId: null,
      durationSeconds: 158,
      billableSeconds: 151,
      disposition: 'answered',
    });
    expect(answered?.startedAt.toISOString()).toBe('2024-05-14T07:15:02.000Z');
    expect(answered?.answeredAt?.toISOString()).toBe('2024-05-14T07:15:09.000Z');
    expect(unanswered).toMatchObject({
      destinationRaw: '+32499887766',
      answeredAt: null,
      billableSeconds: 0,
      disposition: 'no_answer',
    });
    expect(busy).toMatchObject({ destinationRaw: '003215123456', disposition: 'busy' });
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('18 columns: the uniqueid alone is not a record key (forked legs share it), the hash is used', async () => {
    const [first, second] = records(await collect(createReadStream(fixture('asterisk-18col.csv'))));
    expect(first).toMatchObject({ uniqueId: null, billableSeconds: 60 });
    expect(first?.startedAt.toISOString()).toBe('2024-02-01T07:00:00.000Z');
    expect(second?.recordHash).not.toBe(first?.recordHash);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('21-column edge cases: Local/ legs, Latin-1 and UTF-8 names, and each bad line rejected with its line and reason', async () => {
    const results = await collect(createReadStream(fixture('asterisk-21col-edge.csv')));
    expect(results.map((r) => [r.lineNumber, r.kind === 'record' ? 'record' : r.reason])).toEqual([
      [1, 'record'],
      [2, 'record'],
      [3, 'record'],
      [4, 'end_before_start'],
      [5, 'invalid_timestamp'],
      [6, 'invalid_duration'],
      [7, 'wrong_column_count'],
      [8, 'empty_line'],
      [9, 'record'],
    ]);
    expect(recordAt(results, 1).isBillableLeg).toBe(true);
    expect(recordAt(results, 2).isBillableLeg).toBe(false);
    expect(recordAt(results, 3)).toMatchObject({ callerRaw: '3256223344', answeredAt: null });
    expect(JSON.stringify(results)).not.toMatch(/Ren|Zo|Dupont/);
    expect(rejections(results).find((r) => r.lineNumber === 7)?.message).toBe(
      'the line has 20 columns; expected 21 (an Asterisk Master.csv with 21 columns)',
    );
  });

  it('rejection messages never quote the line', async () => {
    const results = await collect(createReadStream(fixture('asterisk-21col-edge.csv')));
    for (const rejection of rejections(results))
      expect(rejection.message).not.toMatch(/3256223344|3225551234/);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('every Master.csv width from 16 to 21 columns parses: 17 and 20 tell the unique id from the user field by its shape', async () => {
    const cases: Array<[string, { uniqueId: string | null; linkedId: string | null; accountCode: string }]> =
      [
        ['asterisk-16col.csv', { uniqueId: null, linkedId: null, accountCode: 'acme' }],
        ['asterisk-17col.csv', { uniqueId: null, linkedId: null, accountCode: '' }],
        ['asterisk-17col-userfield.csv', { uniqueId: null, linkedId: null, accountCode: 'cust318' }],
        ['asterisk-18col.csv', { uniqueId: null, linkedId: null, accountCode: '' }],
        ['asterisk-19col.csv', { uniqueId: null, linkedId: '1717416000.11', accountCode: 'cust318' }],
        [
          'asterisk-20col.csv',
          { uniqueId: 'pbx1-1717416000.21#7', linkedId: 'pbx1-1717416000.21', accountCode: 'cust318' },
        ],
        [
          'asterisk-21col-edge.csv',
          { uniqueId: '1717416000.1#1', linkedId: '1717416000.1', accountCode: '' },
        ],
      ];
    for (const [file, expected] of cases) {
      const first = records(await collect(createReadStream(fixture(file))))[0];
      expect({ file, ...first }).toMatchObject({ file, ...expected });
      expect(first?.startedAt).toBeInstanceOf(Date);
    }
    const userfield = records(await collect(createReadStream(fixture('asterisk-17col-userfield.csv'))))[0];
    expect(userfield).toMatchObject({
      sourceChannel: 'SIP/cust318-1001-00000001',
      destinationChannel: 'SIP/carrier-00000002',
      context: 'cust318-internal',
      billableSeconds: 120,
    });
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('semicolon and tab files are detected and read like comma files; a comma reading of them says to look at the delimiter', async () => {
    const { readFile } = await import('node:fs/promises');
    for (const [file, delimiter] of [
      ['asterisk-21col-semicolon.csv', ';'],
      ['asterisk-21col-tab.csv', '\t'],
      ['asterisk-21col-edge.csv', ','],
      ['generic-carrier.csv', ';'],
    ] as const) {
      expect(detectDelimiter(await readFile(fixture(file), 'latin1'))).toBe(delimiter);
    }
    for (const file of ['asterisk-21col-semicolon.csv', 'asterisk-21col-tab.csv']) {
      const delimiter = detectDelimiter(await readFile(fixture(file), 'latin1'));
      const [record] = records(
        await collect(createReadStream(fixture(file)), { delimiter, fastSplit: true }),
      );
      expect(record).toMatchObject({
        callerRaw: '1001',
        destinationRaw: '3225551234',
        accountCode: 'cust318',
        billableSeconds: 120,
      });
      expect(record?.linkedId).toMatch(/^1717416000\.\d+$/);
      await expect(collect(createReadStream(fixture(file)))).rejects.toThrow('see --delimiter');
    }
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('a stated format that does not fit is refused (an Asterisk file read as FreeSWITCH)', async () => {
    await expect(
      collect(createReadStream(fixture('asterisk-16col.csv')), { format: 'freeswitch' }),
    ).rejects.toThrow(/line 1 has 16 columns; FreeSWITCH/);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('a header line or a wrong field shape on line 1 is refused even when the column count fits', async () => {
    const header =
      'accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration,billsec,disposition,amaflags\n';
    const text =
      header +
      '"","0470123456","056223344","x","","SIP/1","","Dial","","2024-05-14 09:15:02","","2024-05-14 09:15:09",7,0,"NO ANSWER","BILLING"\n';
    await expect(collect([text])).rejects.toThrow(
      'line 1 column 10 (start) is not a YYYY-MM-DD HH:MM:SS timestamp; this is not an Asterisk Master.csv with 16 columns',
    );
  });

  it('a layout error after good-looking empty lines still yields nothing', async () => {
    const yielded: CdrParseResult[] = [];
    await expect(async () => {
      for await (const result of parseCdrStream(['\n\n"a","b"\n'])) yielded.push(result);
    }).rejects.toThrow(CdrLayoutError);
    expect(yielded).toEqual([]);
  });

  it('an empty file is refused', async () => {
    await expect(collect([''])).rejects.toThrow('the file holds no call records');
  });
});

describe('call-record parsing: FreeSWITCH layouts', () => {
  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).
  it('the default 13-column template (with its space before accountcode)', async () => {
    const results = await collect(createReadStream(fixture('freeswitch-13col.csv')));
    expect(rejections(results)).toEqual([]);
    const [answered, unanswered, busy] = records(results);
    expect(answered).toMatchObject({
      uniqueId: 'a1b2c3d4-0000-4000-8000-000000000001',
      callerRaw: '0470123456',
      destinationRaw: '056223344',
      durationSeconds: 158,
      billableSeconds: 151,
      disposition: 'answered',
    });
    expect(unanswered).toMatchObject({ answeredAt: null, billableSeconds: 0, disposition: 'no_answer' });
    expect(busy).toMatchObject({ disposition: 'busy' });
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('the 15-column "example" template, across both DST changes of Europe/Brussels', async () => {
    const results = await collect(createReadStream(fixture('freeswitch-15col.csv')));
    expect(rejections(results)).toEqual([]);
    const [spring, autumn, cancelled] = records(results);
    // 01:59:50 CET → 03:00:40 CEST is 50 seconds
    expect(spring?.startedAt.toISOString()).toBe('2024-03-31T00:59:50.000Z');
    expect(spring?.endedAt.toISOString()).toBe('2024-03-31T01:00:40.000Z');
    // 02:59:30 (first, CEST) → 02:00:20 (second, CET): the pair that matches the 50 s duration
    expect(autumn?.startedAt.toISOString()).toBe('2024-10-27T00:59:30.000Z');
    expect(autumn?.answeredAt?.toISOString()).toBe('2024-10-27T00:59:40.000Z');
    expect(autumn?.endedAt.toISOString()).toBe('2024-10-27T01:00:20.000Z');
    expect(cancelled).toMatchObject({ disposition: 'no_answer', billableSeconds: 0, answeredAt: null });
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('timestamps read as UTC when the switch is configured so', async () => {
    const [answered] = records(
      await collect(createReadStream(fixture('freeswitch-13col.csv')), { timeZone: 'UTC' }),
    );
    expect(answered?.startedAt.toISOString()).toBe('2024-05-14T09:15:02.000Z');
  });

  it('an unknown time zone is refused', async () => {
    await expect(
      collect(createReadStream(fixture('freeswitch-13col.csv')), { timeZone: 'Europe/Kortrijk' }),
    ).rejects.toThrow(RangeError);
  });
});

describe('call-record parsing: generic CSV with a column mapping', () => {
  const mapping = {
    uniqueId: 'call_id',
    caller: 'from',
    destination: 'to',
    start: 'begin',
    duration: 'seconds',
    disposition: 'status',
  };

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('maps columns by header name, semicolons, CRLF, ISO times with offsets', async () => {
    const results = await collect(createReadStream(fixture('generic-carrier.csv')), {
      format: 'generic',
      mapping,
      delimiter: ';',
    });
    expect(rejections(results)).toEqual([]);
    const [first, second] = records(results);
    expect(first).toMatchObject({
      lineNumber: 2,
      uniqueId: 'X-1',
      callerRaw: '+3256223344',
      destinationRaw: '+3225551234',
      durationSeconds: 120,
      billableSeconds: 120,
      disposition: 'answered',
    });
    expect(first?.startedAt.toISOString()).toBe('2024-06-03T12:00:04.000Z');
    expect(first?.endedAt.toISOString()).toBe('2024-06-03T12:02:04.000Z');
    expect(second).toMatchObject({ lineNumber: 3, disposition: 'no_answer', billableSeconds: 0 });
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('maps columns by index without a header', async () => {
    const text = '+3256223344,+3225551234,2024-06-03 14:00:00,2024-06-03 14:01:00,60\n';
    const [record] = records(
      await collect([text], {
        format: 'generic',
        mapping: { caller: 0, destination: 1, start: 2, end: 3, billsec: 4 },
      }),
    );
    expect(record).toMatchObject({
      lineNumber: 1,
      durationSeconds: 60,
      billableSeconds: 60,
      disposition: 'answered',
    });
    expect(record?.startedAt.toISOString()).toBe('2024-06-03T12:00:00.000Z');
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('a mapping that names a missing column is refused before anything is yielded', async () => {
    await expect(
      collect(createReadStream(fixture('generic-carrier.csv')), {
        format: 'generic',
        mapping: { ...mapping, start: 'started' },
        delimiter: ';',
      }),
    ).rejects.toThrow('the header on line 1 has no column "started" (mapped to start)');
    await expect(collect([''], { format: 'generic' })).rejects.toThrow(
      'a generic CSV needs a column mapping',
    );
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('a first data line that does not fit the mapping is refused before anything is yielded', async () => {
    const text = 'from,to,begin,seconds\n+3256223344,+3225551234,yesterday,60\n';
    await expect(
      collect([text], {
        format: 'generic',
        mapping: { caller: 'from', destination: 'to', start: 'begin', duration: 'seconds' },
      }),
    ).rejects.toThrow('line 2 column 3 (start) is not a YYYY-MM-DD HH:MM:SS timestamp');
  });
});

describe('call-record parsing: streaming', () => {
  it('reads lines split across chunks at any byte, and stops reading when the consumer stops', async () => {
    const line =
      '"","0470123456","056223344","x","""Zoë"" <1>","SIP/1","","Dial","","2024-05-14 09:15:02","","2024-05-14 09:15:09",7,0,"NO ANSWER","BILLING"\n';
    const bytes = Buffer.from(line.repeat(3), 'utf8');
    const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(records(await collect(chunks))).toHaveLength(3);

    let produced = 0;
    function* endless(): Generator<string> {
      for (;;) {
        produced += 1;
        yield line.repeat(100);
      }
    }
    let seen = 0;
    for await (const result of parseCdrStream(endless())) {
      expect(result.kind).toBe('record');
      seen += 1;
      if (seen === 250) break;
    }
    expect(produced).toBeLessThan(1000);
  });

  it('a quote left open at the end of the file is one malformed_csv rejection, not a crash', async () => {
    const good =
      '"","0470123456","056223344","x","","SIP/1","","Dial","","2024-05-14 09:15:02","","2024-05-14 09:15:09",7,0,"NO ANSWER","BILLING"\n';
    const results = await collect([good + '"","0470123456","x\n']);
    expect(results.map((r) => (r.kind === 'record' ? 'record' : r.reason))).toEqual([
      'record',
      'malformed_csv',
    ]);
    expect(results[1]?.lineNumber).toBe(2);
  });
});
