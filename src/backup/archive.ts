import { createHash, createHmac, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { z } from 'zod';

/**
 * A Kluis backup is a ZIP file: one entry per table (`tables/<name>.copy`, PostgreSQL's COPY text
 * format, deflated) and `manifest.json` last, which says what the archive is and holds each
 * entry's SHA-256 and row count. Data and key store are separate archives (README, "Keys and
 * backups"): they are kept for different lengths of time.
 */
export const ARCHIVE_FORMAT = 'kluis-backup';
export const ARCHIVE_FORMAT_VERSION = 1;
export const MANIFEST_ENTRY = 'manifest.json';

export const archiveKindSchema = z.enum(['data', 'keys']);
export type ArchiveKind = z.infer<typeof archiveKindSchema>;

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'expected a lower-case SQL identifier');

export const manifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.literal(ARCHIVE_FORMAT_VERSION),
  kind: archiveKindSchema,
  kluisVersion: z.string(),
  createdAt: z.string().datetime(),
  /** The schema's migration level: the restore rebuilds exactly this schema, then loads rows. */
  migrationLevel: z.number().int().nonnegative(),
  migrations: z.array(z.object({ version: z.number().int(), name: z.string(), checksum: z.string() })),
  tables: z.array(
    z.object({
      name: identifier,
      entry: z.string(),
      columns: z.array(identifier),
      rows: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  /** Partitions made at run time (monthly call records); the restore creates them first. */
  partitions: z.array(z.object({ name: identifier, parent: identifier, bound: z.string() })),
  sequences: z.array(z.object({ name: identifier, lastValue: z.number().int().nullable() })),
  /** Key-store archives: a MAC under the master key, so a restore with another key is refused. */
  masterKeyCheck: z.string().optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** Passes bytes through, counting them and the rows (one newline per row in COPY text format). */
export class Meter extends Transform {
  bytes = 0;
  rows = 0;
  readonly #hash: Hash = createHash('sha256');
  readonly #onChunk: ((meter: Meter) => void) | undefined;

  constructor(onChunk?: (meter: Meter) => void) {
    super();
    this.#onChunk = onChunk;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.rows += 1;
    this.#hash.update(chunk);
    this.#onChunk?.(this);
    done(null, chunk);
  }

  digest(): string {
    return this.#hash.digest('hex');
  }
}

export class BackupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackupError';
  }
}

/**
 * Identifies a master key without revealing it: a key-store archive records this, and a restore
 * with another master key (whose data keys it could never unwrap) is refused before it starts.
 */
export function masterKeyCheck(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('kluis backup: master key check').digest('hex').slice(0, 32);
}
