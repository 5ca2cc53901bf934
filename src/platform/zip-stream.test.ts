import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { ZipStream } from './zip-stream.js';

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
});
