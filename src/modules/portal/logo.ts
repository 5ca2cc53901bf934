import { createHash } from 'node:crypto';
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
 * PNG or JPEG with a size the header can show. SVG is refused (docs/decisions/0291): it is a
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
