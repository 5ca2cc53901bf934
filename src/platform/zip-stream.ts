import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TransformOptions, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
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

/**
 * A deflate that takes 512 KiB before it makes its writer wait, in 64 KiB pieces: each wait is a
 * round trip through libuv's thread pool, which on a loaded machine costs more than the deflate of
 * a 64 KiB piece (decision 0492). The writer keeps producing while the pool deflates.
 */
function deflateOptions(level: number): zlib.ZlibOptions {
  // zlib passes its options on to the Transform it is, which takes the high-water mark.
  const options: zlib.ZlibOptions & TransformOptions = {
    level,
    chunkSize: 64 * 1024,
    highWaterMark: 512 * 1024,
  };
  return options;
}

const DEFLATE_CLOSED = 'deflate closed';

/** The deflate closed under a writer: its output went away or its spool was disposed of. */
function deflateClosed(error: unknown): boolean {
  return error instanceof Error && error.message === DEFLATE_CLOSED;
}

/**
 * Writes `bytes` into `deflate` and waits while it is behind; `consumed` is called once the deflate
 * has read them (never after a failure: a piece it may still hold is not handed back). A deflate
 * closed meanwhile (its output went away) ends the wait with an error.
 */
async function writeDeflated(
  deflate: zlib.DeflateRaw,
  bytes: Buffer,
  consumed: ((piece: Buffer) => void) | undefined,
): Promise<void> {
  if (deflate.destroyed) throw new Error(DEFLATE_CLOSED);
  const done = consumed && ((error?: Error | null) => (error ? undefined : consumed(bytes)));
  if (deflate.write(bytes, done)) return;
  if (deflate.destroyed) throw new Error(DEFLATE_CLOSED);
  const waiting = new AbortController();
  try {
    await Promise.race([
      once(deflate, 'drain', { signal: waiting.signal }),
      once(deflate, 'close', { signal: waiting.signal }).then(() => {
        throw new Error(DEFLATE_CLOSED);
      }),
    ]);
  } finally {
    waiting.abort();
  }
}

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

  /**
   * Adds one file whose content is `data` (text is written as UTF-8), deflated as it is read.
   * `consumed` is called with each Buffer piece once the deflate is done with it: its producer may
   * then write into that memory again (decision 0660).
   */
  async entry(
    name: string,
    data: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
    consumed?: (piece: Buffer) => void,
  ): Promise<void> {
    const entry = await this.#start(name);
    const deflate = zlib.createDeflateRaw(deflateOptions(this.#options.level));
    // The deflated bytes go to the output while the next pieces are read and deflated.
    const copied = (async () => {
      for await (const chunk of deflate as AsyncIterable<Buffer>) {
        entry.compressedSize += chunk.length;
        await this.#write(chunk);
      }
    })();
    // Awaited below; until then a failed output only has to stop the loop (the deflate closes).
    copied.catch(() => undefined);
    try {
      for await (const piece of data as AsyncIterable<string | Buffer>) {
        const bytes: Buffer = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
        if (bytes.length === 0) continue;
        entry.crc = zlib.crc32(bytes, entry.crc);
        entry.size += bytes.length;
        await writeDeflated(deflate, bytes, typeof piece === 'string' ? undefined : consumed);
      }
      deflate.end();
    } catch (error) {
      deflate.destroy();
      // The output's own failure, when that is what closed the deflate, says more.
      const outputFailure = await copied.then(
        () => undefined,
        (failure: unknown) => failure,
      );
      throw deflateClosed(error) && outputFailure !== undefined ? outputFailure : error;
    }
    await copied;
    await this.#finish(entry);
  }

  /**
   * Adds one file deflated beforehand (a DeflateSpool filled while another entry was written):
   * its compressed bytes are copied as they are.
   */
  async spooledEntry(name: string, spool: DeflateSpool): Promise<void> {
    const entry = await this.#start(name);
    const { crc, size } = await spool.finish();
    entry.crc = crc;
    entry.size = size;
    for await (const chunk of spool.read()) {
      entry.compressedSize += chunk.length;
      await this.#write(chunk);
    }
    await this.#finish(entry);
  }

  /** Writes an entry's local header; its CRC and sizes follow in the data descriptor. */
  async #start(name: string): Promise<WrittenEntry> {
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
    return entry;
  }

  /** Writes an entry's data descriptor and keeps it for the central directory. */
  async #finish(entry: WrittenEntry): Promise<void> {
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

interface SealedFile {
  path: string;
  out: WriteStream;
  cipher: CipherGCM;
  key: Buffer;
  iv: Buffer;
}

/** Compressed bytes a spool keeps in memory; beyond them it writes to a sealed temporary file. */
export const SPOOL_MEMORY_BYTES = 8 * 1024 * 1024;

/**
 * The deflated content of one ZIP entry, made while another entry is written (the portability
 * export writes a table's JSON and its CSV from one read, decision 0492): `write` the entry's
 * bytes, then hand the spool to `ZipStream#spooledEntry`, and `dispose` it in any case. The
 * compressed bytes stay in memory up to `memoryBytes`; beyond that they go to a temporary file
 * sealed with a key that exists only in this object (AES-256-GCM): personal data on disk is
 * unreadable without the process, and the file is removed by `dispose`.
 */
export class DeflateSpool {
  readonly #deflate: zlib.DeflateRaw;
  readonly #memoryBytes: number;
  readonly #chunks: Buffer[] = [];
  #inMemory = 0;
  #crc = 0;
  #size = 0;
  #file: SealedFile | undefined;
  /** Set with the first chunk that does not fit in memory: every later chunk follows it to the file. */
  #spilled = false;
  #pending = 0;
  /** The write to the sealed file in progress (the deflate's output is written in order). */
  #spilling: Promise<void> = Promise.resolve();
  #failed: Error | undefined;
  readonly #done: Promise<void>;

  constructor(level: number, memoryBytes = SPOOL_MEMORY_BYTES) {
    this.#memoryBytes = memoryBytes;
    this.#deflate = zlib.createDeflateRaw(deflateOptions(level));
    this.#deflate.on('data', (chunk: Buffer) => this.#keep(chunk));
    this.#done = new Promise((resolve, reject) => {
      this.#deflate.once('end', resolve);
      this.#deflate.once('error', reject);
    });
    // Awaited by `finish`; a spool disposed of without finishing leaves it unread.
    this.#done.catch(() => undefined);
  }

  /**
   * Adds the entry's next bytes (text as UTF-8); waits while the deflate is behind. `consumed` is
   * called with a Buffer piece once the deflate is done with it (as for `ZipStream#entry`).
   */
  async write(piece: string | Buffer, consumed?: (piece: Buffer) => void): Promise<void> {
    const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
    if (bytes.length === 0) return;
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#deflate.destroyed) throw new Error('spool closed');
    this.#crc = zlib.crc32(bytes, this.#crc);
    this.#size += bytes.length;
    try {
      await writeDeflated(this.#deflate, bytes, typeof piece === 'string' ? undefined : consumed);
    } catch (error) {
      // A spool disposed of meanwhile (the download went away) ends the wait with an error.
      throw this.#failed ?? (deflateClosed(error) ? new Error('spool closed') : error);
    }
  }

  /** Ends the entry: its CRC-32 and uncompressed size. */
  async finish(): Promise<{ crc: number; size: number }> {
    this.#deflate.end();
    await this.#done;
    await this.#spilling;
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#file) {
      const file = this.#file;
      file.out.end(file.cipher.final());
      await finished(file.out);
    }
    return { crc: this.#crc, size: this.#size };
  }

  /** The compressed bytes, in order (after `finish`). */
  async *read(): AsyncGenerator<Buffer> {
    yield* this.#chunks;
    const file = this.#file;
    if (!file) return;
    const decipher = createDecipheriv('aes-256-gcm', file.key, file.iv);
    decipher.setAuthTag(file.cipher.getAuthTag());
    // The tag is checked at the end: a changed file fails the entry (and so the download).
    for await (const chunk of createReadStream(file.path).pipe(decipher)) yield chunk as Buffer;
  }

  /** Removes the sealed file, if any; the spool cannot be read afterwards. */
  async dispose(): Promise<void> {
    this.#deflate.destroy();
    const file = this.#file;
    if (!file) return;
    file.out.destroy();
    file.key.fill(0);
    await rm(path.dirname(file.path), { recursive: true, force: true });
  }

  #keep(chunk: Buffer): void {
    if (!this.#spilled && this.#inMemory + chunk.length <= this.#memoryBytes) {
      this.#chunks.push(chunk);
      this.#inMemory += chunk.length;
      return;
    }
    this.#spilled = true;
    // The deflate waits while the file is behind (its input then waits for it: memory stays flat).
    this.#pending += 1;
    this.#deflate.pause();
    this.#spilling = this.#spilling.then(async () => {
      try {
        const file = this.#file ?? (await this.#open());
        if (!file.out.write(file.cipher.update(chunk))) await once(file.out, 'drain');
      } catch (error) {
        this.#failed ??= error instanceof Error ? error : new Error('spool failed');
        this.#deflate.destroy(this.#failed);
      } finally {
        this.#pending -= 1;
        if (this.#pending === 0) this.#deflate.resume();
      }
    });
  }

  async #open(): Promise<SealedFile> {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'kluis-spool-'));
    const file = path.join(directory, 'entry');
    const key = randomBytes(32);
    const iv = randomBytes(12);
    this.#file = {
      path: file,
      out: createWriteStream(file, { mode: 0o600 }),
      cipher: createCipheriv('aes-256-gcm', key, iv),
      key,
      iv,
    };
    return this.#file;
  }
}
