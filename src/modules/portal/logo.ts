import { createHash } from 'node:crypto';
import { crc32, inflateSync } from 'node:zlib';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';

/** The largest logo accepted (bytes). A header logo needs far less; the limit keeps pages light. */
export const LOGO_MAX_BYTES = 200 * 1024;
/** The largest side in pixels: a small file can still claim a huge image (a decoding bomb). */
export const LOGO_MAX_SIDE = 4096;

export type LogoType = 'image/png' | 'image/jpeg';

export interface LogoFacts {
  contentType: LogoType;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
}

export interface StoredLogo extends LogoFacts {
  updatedAt: Date;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const refused = (message: string): AppError =>
  new AppError('validation_failed', `logo refused: ${message}`, {
    publicMessage: message,
    details: { issues: [{ path: 'body/contentBase64', message }] },
  });

/** Width and height from a PNG's IHDR chunk (the first chunk, right after the signature). */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Channels per colour type, and the bit depths each allows (PNG specification, 11.2.2). */
const PNG_COLOUR_TYPES: Record<number, { channels: number; depths: readonly number[] }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, depths: [8, 16] },
  3: { channels: 1, depths: [1, 2, 4, 8] },
  4: { channels: 2, depths: [8, 16] },
  6: { channels: 4, depths: [8, 16] },
};

/** Adam7's passes: first column and row, column and row steps. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** The scanlines of the image, pass by pass: rows and bytes per row (its filter byte included). */
function pngScanlines(
  width: number,
  height: number,
  bitsPerPixel: number,
  interlaced: boolean,
): Array<{ rows: number; rowBytes: number }> {
  const passes = interlaced ? ADAM7 : ([[0, 0, 1, 1]] as const);
  return passes.flatMap(([x0, y0, dx, dy]) => {
    const columns = width > x0 ? Math.ceil((width - x0) / dx) : 0;
    const rows = height > y0 ? Math.ceil((height - y0) / dy) : 0;
    return columns === 0 || rows === 0
      ? []
      : [{ rows, rowBytes: 1 + Math.ceil((columns * bitsPerPixel) / 8) }];
  });
}

/**
 * What is wrong with a PNG whose header was read, or undefined when it is whole (attack A20: a
 * file cut after its header was accepted). Walks every chunk: lengths within the file, CRC-32 of
 * each, IHDR first and valid, PLTE before the image data of a palette image, the IDAT chunks
 * together, no unknown critical chunk, IEND last with nothing after it; then inflates the image
 * data, which must hold exactly the scanlines the header announces, each with a known filter.
 */
function pngDamage(bytes: Buffer): string | undefined {
  let offset = 8;
  let seenIhdr = false;
  let seenPlte = false;
  let idatDone = false;
  let ended = false;
  const idat: Buffer[] = [];
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | undefined;
  while (offset < bytes.length) {
    if (ended) return 'bytes follow its end (IEND)';
    if (offset + 12 > bytes.length) return 'it is cut off in a chunk header';
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    if (!/^[A-Za-z]{4}$/.test(type)) return 'a chunk has no valid type';
    if (length > 0x7fffffff || offset + 12 + length > bytes.length) return `it is cut off in chunk ${type}`;
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== bytes.readUInt32BE(offset + 8 + length))
      return `chunk ${type} fails its checksum`;
    offset += 12 + length;
    if (!seenIhdr && type !== 'IHDR') return 'it does not start with IHDR';
    if (type !== 'IDAT' && idat.length > 0) idatDone = true;
    switch (type) {
      case 'IHDR': {
        if (seenIhdr || length !== 13) return 'its IHDR chunk is invalid';
        seenIhdr = true;
        header = {
          width: data.readUInt32BE(0),
          height: data.readUInt32BE(4),
          depth: data[8] ?? 0,
          colour: data[9] ?? 0,
          interlace: data[12] ?? 0,
        };
        const kind = PNG_COLOUR_TYPES[header.colour];
        if (!kind || !kind.depths.includes(header.depth)) return 'its colour type or bit depth is invalid';
        if (data[10] !== 0 || data[11] !== 0 || header.interlace > 1)
          return 'its compression, filter or interlace method is invalid';
        break;
      }
      case 'PLTE':
        if (seenPlte || idat.length > 0 || length === 0 || length % 3 !== 0) return 'its palette is invalid';
        seenPlte = true;
        break;
      case 'IDAT':
        if (idatDone) return 'its image data is split by other chunks';
        idat.push(data);
        break;
      case 'IEND':
        if (length !== 0) return 'its IEND chunk is invalid';
        ended = true;
        break;
      default:
        // An unknown critical chunk (upper-case first letter) means the image cannot be shown.
        if (type.charCodeAt(0) < 0x61) return `it holds an unknown critical chunk ${type}`;
    }
  }
  if (!ended) return 'it is cut off before its end (IEND)';
  if (!header || idat.length === 0) return 'it holds no image data';
  if (header.colour === 3 && !seenPlte) return 'its palette is missing';
  const kind = PNG_COLOUR_TYPES[header.colour];
  const scanlines = pngScanlines(
    header.width,
    header.height,
    header.depth * (kind?.channels ?? 1),
    header.interlace === 1,
  );
  const expected = scanlines.reduce((sum, pass) => sum + pass.rows * pass.rowBytes, 0);
  let pixels: Buffer;
  try {
    // Bounded by what the header announces (at most 4096 px a side, checked before).
    pixels = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch {
    return 'its image data is cut off or corrupt';
  }
  if (pixels.length !== expected) return 'its image data does not match its size';
  let row = 0;
  for (const pass of scanlines)
    for (let line = 0; line < pass.rows; line += 1, row += pass.rowBytes)
      if ((pixels[row] ?? 5) > 4) return 'its image data is corrupt';
  return undefined;
}

/** What is wrong with a JPEG whose frame size was read, or undefined: it must end with EOI. */
function jpegDamage(bytes: Buffer): string | undefined {
  return bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9
    ? undefined
    : 'it is cut off before its end (EOI)';
}

/** Width and height from a JPEG's first start-of-frame marker, walking the segments to it. */
function jpegSize(bytes: Buffer): { width: number; height: number } | undefined {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] ?? 0;
    // Fill bytes and markers without a length.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      offset += 2;
      continue;
    }
    const length = bytes.readUInt16BE(offset + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    if (length < 2) return undefined;
    offset += 2 + length;
  }
  return undefined;
}

/**
 * What an uploaded logo is, from its bytes alone (a declared type is never asked for or trusted):
 * PNG or JPEG with a size the header can show, and whole: every chunk of a PNG checked and its
 * image data inflated to the size its header announces; a JPEG ending with its end marker. SVG is refused (docs/decisions/0291): it is a
 * document that can carry script and links, not a picture.
 */
export function inspectLogo(bytes: Buffer): LogoFacts {
  if (bytes.length === 0) throw refused('the logo is empty');
  if (bytes.length > LOGO_MAX_BYTES)
    throw refused(
      `the logo may be at most ${LOGO_MAX_BYTES / 1024} kB (this one is ${Math.ceil(bytes.length / 1024)} kB)`,
    );
  let contentType: LogoType;
  let size: { width: number; height: number } | undefined;
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
    contentType = 'image/png';
    size = pngSize(bytes);
  } else if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    contentType = 'image/jpeg';
    size = jpegSize(bytes);
  } else {
    const head = bytes.subarray(0, 512).toString('utf8').trimStart().toLowerCase();
    if (head.startsWith('<svg') || head.startsWith('<?xml') || head.includes('<svg'))
      throw refused('SVG logos are refused (an SVG can carry script); upload a PNG or JPEG');
    throw refused('the logo must be a PNG or JPEG image (its bytes are neither)');
  }
  if (!size) throw refused('the image is damaged: its size cannot be read');
  if (size.width < 1 || size.height < 1 || size.width > LOGO_MAX_SIDE || size.height > LOGO_MAX_SIDE)
    throw refused(`the logo may be at most ${LOGO_MAX_SIDE}×${LOGO_MAX_SIDE} pixels`);
  // The whole file, not only its header (attack A20), once its size is known to be sane.
  const damage = contentType === 'image/png' ? pngDamage(bytes) : jpegDamage(bytes);
  if (damage) throw refused(`the image is damaged: ${damage}`);
  return {
    contentType,
    ...size,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** Decodes the Base64 of an upload (strict: only the alphabet and padding), then inspects it. */
export function decodeLogo(base64: string): { bytes: Buffer; facts: LogoFacts } {
  const compact = base64.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact))
    throw refused('contentBase64 is not Base64');
  const bytes = Buffer.from(compact, 'base64');
  return { bytes, facts: inspectLogo(bytes) };
}

export async function savePortalLogo(
  kernel: Kernel,
  tenantId: number,
  upload: { bytes: Buffer; facts: LogoFacts },
): Promise<StoredLogo> {
  const now = kernel.clock.now();
  const values = {
    content_type: upload.facts.contentType,
    content: upload.bytes,
    width: upload.facts.width,
    height: upload.facts.height,
    sha256: upload.facts.sha256,
    updated_at: now,
  };
  await kernel.plain(tenantId, (tx) =>
    tx
      .insertInto('portal_logos')
      .values({ tenant_id: tenantId, ...values })
      .onConflict((conflict) => conflict.column('tenant_id').doUpdateSet(values))
      .execute(),
  );
  return { ...upload.facts, updatedAt: now };
}

/** The logo's facts (no content), or undefined when the tenant has none. */
export async function readPortalLogoFacts(kernel: Kernel, tenantId: number): Promise<StoredLogo | undefined> {
  const row = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('portal_logos')
      .select([
        'content_type',
        'width',
        'height',
        'sha256',
        'updated_at',
        (eb) => eb.fn<number>('octet_length', ['content']).as('bytes'),
      ])
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst(),
  );
  return row
    ? {
        contentType: row.content_type,
        width: row.width,
        height: row.height,
        bytes: Number(row.bytes),
        sha256: row.sha256,
        updatedAt: row.updated_at,
      }
    : undefined;
}

/** The logo's bytes and type, for the public image route. */
export async function readPortalLogo(
  kernel: Kernel,
  tenantId: number,
): Promise<{ contentType: LogoType; content: Buffer; sha256: string } | undefined> {
  const row = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('portal_logos')
      .select(['content_type', 'content', 'sha256'])
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst(),
  );
  return row ? { contentType: row.content_type, content: row.content, sha256: row.sha256 } : undefined;
}

export async function deletePortalLogo(kernel: Kernel, tenantId: number): Promise<boolean> {
  const result = await kernel.plain(tenantId, (tx) =>
    tx.deleteFrom('portal_logos').where('tenant_id', '=', tenantId).executeTakeFirst(),
  );
  return Number(result.numDeletedRows) > 0;
}
