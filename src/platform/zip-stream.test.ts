import { randomBytes, randomFillSync } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import { DeflateSpool, ZipStream } from './zip-stream.js';

/** Each entry's name, stored CRC-32 and content, read back by yauzl (a strict reader). */
async function readZip(buffer: Buffer): Promise<Array<{ name: string; crc: number; content: Buffer }>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(buffer, { lazyEntries: true, strictFileNames: true }, (error, file) =>
      error ? reject(error) : resolve(file),
    ),
  );
  const entries: Array<{ name: string; crc: number; content: Buffer }> = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', reject);
        stream.on('end', () => {
          entries.push({ name: entry.fileName, crc: entry.crc32, content: Buffer.concat(chunks) });
          zip.readEntry();
        });
      });
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  return entries;
}

function collect(): Writable & { bytes(): Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  }) as Writable & { bytes(): Buffer };
  sink.bytes = () => Buffer.concat(chunks);
  return sink;
}

describe('ZipStream', () => {
  it('writes entries a strict reader opens, with their CRC-32, UTF-8 names, empty files and text in many pieces', async () => {
    const sink = collect();
    const zip = new ZipStream(sink, { level: 1, modified: new Date('2026-03-04T05:06:08Z') });
    const big = randomBytes(300_000);
    const lines = Array.from({ length: 5000 }, (_, index) => `{"n":${index},"é":"漢字"}\n`);
    await zip.entry('manifest.json', ['{"a":1}\n']);
    await zip.entry('empty.csv', []);
    await zip.entry('données.json', lines);
    await zip.entry(
      'random.bin',
      (function* () {
        for (let offset = 0; offset < big.length; offset += 70_000)
          yield big.subarray(offset, offset + 70_000);
      })(),
    );
    await zip.end();
    const entries = await readZip(sink.bytes());
    expect(entries.map((entry) => entry.name)).toEqual([
      'manifest.json',
      'empty.csv',
      'données.json',
      'random.bin',
    ]);
    const expected = [Buffer.from('{"a":1}\n'), Buffer.alloc(0), Buffer.from(lines.join('')), big];
    entries.forEach((entry, index) => {
      expect(entry.content.equals(expected[index] ?? Buffer.alloc(1))).toBe(true);
      expect(entry.crc).toBe(zlib.crc32(entry.content));
    });
  });

  it('hands each piece back once the deflate has read it, so that its producer writes into it again (entry and spool)', async () => {
    const sink = collect();
    const zip = new ZipStream(sink, { level: 1, modified: new Date('2026-03-04T05:06:08Z') });
    const spool = new DeflateSpool(1);
    // Two buffers for each file: a piece is overwritten as soon as it is handed back, so a hand-back
    // before the deflate is done with it would change what the archive holds.
    const free: Record<'entry' | 'spool', Buffer[]> = {
      entry: [Buffer.alloc(65_536), Buffer.alloc(65_536)],
      spool: [Buffer.alloc(32_768), Buffer.alloc(32_768)],
    };
    const expected = { entry: [] as Buffer[], spool: [] as Buffer[] };
    const handedBack = { entry: 0, spool: 0 };
    const next = async (file: 'entry' | 'spool'): Promise<Buffer> => {
      for (;;) {
        const piece = free[file].pop();
        if (piece) {
          randomFillSync(piece);
          expected[file].push(Buffer.from(piece));
          return piece;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const back = (file: 'entry' | 'spool') => (piece: Buffer) => {
      handedBack[file] += 1;
      free[file].push(piece);
    };
    try {
      await zip.entry(
        'reused.bin',
        (async function* () {
          for (let index = 0; index < 60; index += 1) {
            await spool.write(await next('spool'), back('spool'));
            yield await next('entry');
          }
          // Text is made into bytes by the writer itself: nothing to hand back.
          yield 'end\n';
        })(),
        back('entry'),
      );
      await zip.spooledEntry('reused-aside.bin', spool);
      await zip.end();
    } finally {
      await spool.dispose();
    }
    expect(handedBack).toEqual({ entry: 60, spool: 60 });
    const entries = await readZip(sink.bytes());
    expect(entries[0]?.content.equals(Buffer.concat([...expected.entry, Buffer.from('end\n')]))).toBe(true);
    expect(entries[1]?.content.equals(Buffer.concat(expected.spool))).toBe(true);
  });

  it('reads its source only as fast as the output takes it, and stops reading when the output goes away', async () => {
    // An output nobody reads: its buffer fills and stays full.
    const output = new PassThrough({ highWaterMark: 16_384 });
    const zip = new ZipStream(output, { level: 1, modified: new Date() });
    let pulled = 0;
    let stopped = false;
    const written = zip.entry(
      'history.bin',
      (function* () {
        try {
          for (; pulled < 2000; pulled += 1) yield randomBytes(65_536);
        } finally {
          stopped = true;
        }
      })(),
    );
    written.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // 2000 pieces are 131 MB; a handful fill the buffers between source and output.
    expect(pulled).toBeLessThan(50);
    output.destroy();
    await expect(written).rejects.toThrow();
    expect(stopped).toBe(true);
  });

  it('copies in an entry deflated aside while another was written, kept in memory or, beyond its limit, in a sealed temporary file removed afterwards', async () => {
    const spools = async (): Promise<string[]> =>
      (await readdir(os.tmpdir())).filter((name) => name.startsWith('kluis-spool-'));
    const before = await spools();
    const sink = collect();
    const zip = new ZipStream(sink, { level: 1, modified: new Date('2026-03-04T05:06:08Z') });
    // Random bytes do not compress: 2 MB spill over a 64 kB memory limit into the file.
    const big = randomBytes(2_000_000);
    const marker = Buffer.from('VERA-VEELBELLER-+32470000001\n'.repeat(1000));
    const small = new DeflateSpool(1);
    const sealed = new DeflateSpool(1, 65_536);
    try {
      await zip.entry(
        'first.json',
        (async function* () {
          for (let offset = 0; offset < big.length; offset += 100_000) {
            await small.write('a,b\r\n');
            await sealed.write(big.subarray(offset, offset + 100_000));
            await sealed.write(marker);
            yield `{"offset":${offset}}\n`;
          }
        })(),
      );
      const made = (await spools()).filter((name) => !before.includes(name));
      expect(made).toHaveLength(1);
      await zip.spooledEntry('small.csv', small);
      await zip.spooledEntry('sealed.bin', sealed);
      await zip.end();
    } finally {
      await small.dispose();
      await sealed.dispose();
    }
    expect((await spools()).filter((name) => !before.includes(name))).toEqual([]);
    const entries = await readZip(sink.bytes());
    expect(entries.map((entry) => entry.name)).toEqual(['first.json', 'small.csv', 'sealed.bin']);
    for (const entry of entries) expect(entry.crc).toBe(zlib.crc32(entry.content));
    expect(entries[1]?.content.toString('utf8')).toBe('a,b\r\n'.repeat(20));
    const expected = Buffer.concat(
      Array.from({ length: 20 }, (_, index) => [
        big.subarray(index * 100_000, (index + 1) * 100_000),
        marker,
      ]).flat(),
    );
    expect(entries[2]?.content.equals(expected)).toBe(true);
  });
});
