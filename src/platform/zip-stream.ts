import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

// A ZIP written to a stream one entry after the other, each entry deflated while its data is
// read (decision 0430). yazl did the same through four chained streams and a CRC-32 in
// JavaScript (buffer-crc32), which cost as much time as the deflate itself on a large export;
// here the CRC is zlib's (native, node:zlib crc32) and the deflate runs on libuv's thread pool
// while the data is produced. Sizes are not known in advance, so each entry ends with a data
// descriptor (general purpose bit 3); ZIP64 fields are written when a size or offset needs them.

const LOCAL_HEADER = 0x04034b50;
const DATA_DESCRIPTOR = 0x08074b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
/** Sizes follow in a data descriptor (bit 3); names are UTF-8 (bit 11). */
const FLAGS = 0x0008 | 0x0800;
const DEFLATE = 8;
/** Made by Unix (3), spec 6.3: the external attributes hold a file mode. */
const MADE_BY = (3 << 8) | 63;
const MODE = 0o100644;
const MAX32 = 0xffffffff;

interface WrittenEntry {
  name: Buffer;
  crc: number;
  size: number;
  compressedSize: number;
  offset: number;
}

export interface ZipStreamOptions {
  /** zlib deflate level, 1 (fastest) to 9 (smallest). */
  level: number;
  /** The entries' modification time (written as MS-DOS local time, taken as UTC). */
  modified: Date;
}

/**
 * Writes a ZIP to `output` at the output's pace (a slow reader pauses the data sources, so memory
 * stays flat). Call `entry` for each file in turn, then `end`. An output that is destroyed makes
 * the pending `entry` fail and stops reading its source.
 */
export class ZipStream {
  readonly #output: Writable;
  readonly #options: ZipStreamOptions;
  readonly #entries: WrittenEntry[] = [];
  readonly #time: number;
  readonly #date: number;
  #offset = 0;

  constructor(output: Writable, options: ZipStreamOptions) {
    this.#output = output;
    this.#options = options;
    const at = options.modified;
    this.#time = (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2);
    this.#date =
      (Math.max(0, at.getUTCFullYear() - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate();
  }

  /** Adds one file whose content is `data` (text is written as UTF-8), deflated as it is read. */
  async entry(name: string, data: AsyncIterable<string | Buffer> | Iterable<string | Buffer>): Promise<void> {
    const entry: WrittenEntry = {
      name: Buffer.from(name, 'utf8'),
      crc: 0,
      size: 0,
      compressedSize: 0,
      offset: 0,
    };
    entry.offset = this.#offset;
    const header = Buffer.alloc(30);
    header.writeUInt32LE(LOCAL_HEADER, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(FLAGS, 6);
    header.writeUInt16LE(DEFLATE, 8);
    header.writeUInt16LE(this.#time, 10);
    header.writeUInt16LE(this.#date, 12);
    // crc, sizes: 0, in the data descriptor.
    header.writeUInt16LE(entry.name.length, 26);
    await this.#write(Buffer.concat([header, entry.name]));
    await pipeline(
      async function* () {
        for await (const piece of data) {
          const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
          if (bytes.length === 0) continue;
          entry.crc = zlib.crc32(bytes, entry.crc);
          entry.size += bytes.length;
          yield bytes;
        }
      },
      zlib.createDeflateRaw({ level: this.#options.level }),
      async (deflated: AsyncIterable<Buffer>) => {
        for await (const chunk of deflated) {
          entry.compressedSize += chunk.length;
          await this.#write(chunk);
        }
      },
    );
    const zip64 = entry.size >= MAX32 || entry.compressedSize >= MAX32;
    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(DATA_DESCRIPTOR, 0);
    descriptor.writeUInt32LE(entry.crc >>> 0, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(entry.compressedSize), 8);
      descriptor.writeBigUInt64LE(BigInt(entry.size), 16);
    } else {
      descriptor.writeUInt32LE(entry.compressedSize, 8);
      descriptor.writeUInt32LE(entry.size, 12);
    }
    await this.#write(descriptor);
    this.#entries.push(entry);
  }

  /** Writes the central directory and ends the output. */
  async end(): Promise<void> {
    const start = this.#offset;
    const headers: Buffer[] = [];
    for (const entry of this.#entries) {
      const extra: bigint[] = [];
      if (entry.size >= MAX32) extra.push(BigInt(entry.size));
      if (entry.compressedSize >= MAX32) extra.push(BigInt(entry.compressedSize));
      if (entry.offset >= MAX32) extra.push(BigInt(entry.offset));
      const header = Buffer.alloc(46 + (extra.length > 0 ? 4 + 8 * extra.length : 0));
      header.writeUInt32LE(CENTRAL_HEADER, 0);
      header.writeUInt16LE(MADE_BY, 4);
      header.writeUInt16LE(extra.length > 0 ? 45 : 20, 6);
      header.writeUInt16LE(FLAGS, 8);
      header.writeUInt16LE(DEFLATE, 10);
      header.writeUInt16LE(this.#time, 12);
      header.writeUInt16LE(this.#date, 14);
      header.writeUInt32LE(entry.crc >>> 0, 16);
      header.writeUInt32LE(Math.min(entry.compressedSize, MAX32), 20);
      header.writeUInt32LE(Math.min(entry.size, MAX32), 24);
      header.writeUInt16LE(entry.name.length, 28);
      header.writeUInt16LE(extra.length > 0 ? 4 + 8 * extra.length : 0, 30);
      // comment length, disk, internal attributes: 0.
      header.writeUInt32LE((MODE << 16) >>> 0, 38);
      header.writeUInt32LE(Math.min(entry.offset, MAX32), 42);
      if (extra.length > 0) {
        header.writeUInt16LE(0x0001, 46);
        header.writeUInt16LE(8 * extra.length, 48);
        extra.forEach((value, index) => header.writeBigUInt64LE(value, 50 + 8 * index));
      }
      headers.push(header.subarray(0, 46), entry.name, header.subarray(46));
    }
    const directory = Buffer.concat(headers);
    await this.#write(directory);
    const count = this.#entries.length;
    const zip64 = count >= 0xffff || start >= MAX32 || directory.length >= MAX32;
    const tail: Buffer[] = [];
    if (zip64) {
      const record = Buffer.alloc(56);
      record.writeUInt32LE(ZIP64_END, 0);
      record.writeBigUInt64LE(44n, 4);
      record.writeUInt16LE(MADE_BY, 12);
      record.writeUInt16LE(45, 14);
      record.writeBigUInt64LE(BigInt(count), 24);
      record.writeBigUInt64LE(BigInt(count), 32);
      record.writeBigUInt64LE(BigInt(directory.length), 40);
      record.writeBigUInt64LE(BigInt(start), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(ZIP64_LOCATOR, 0);
      locator.writeBigUInt64LE(BigInt(start + directory.length), 8);
      locator.writeUInt32LE(1, 16);
      tail.push(record, locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
    end.writeUInt16LE(Math.min(count, 0xffff), 8);
    end.writeUInt16LE(Math.min(count, 0xffff), 10);
    end.writeUInt32LE(Math.min(directory.length, MAX32), 12);
    end.writeUInt32LE(Math.min(start, MAX32), 16);
    tail.push(end);
    await this.#write(Buffer.concat(tail));
    this.#output.end();
  }

  /** Writes and waits while the output is full; fails when the output went away. */
  async #write(bytes: Buffer): Promise<void> {
    const output = this.#output;
    if (output.destroyed || output.writableEnded) throw new Error('zip output closed');
    this.#offset += bytes.length;
    if (output.write(bytes)) return;
    if (output.destroyed) throw new Error('zip output closed');
    const waiting = new AbortController();
    try {
      await Promise.race([
        once(output, 'drain', { signal: waiting.signal }),
        once(output, 'close', { signal: waiting.signal }).then(() => {
          throw new Error('zip output closed');
        }),
      ]);
    } finally {
      waiting.abort();
    }
  }
}
