/** Opaque page cursors for keyset pagination on more than one column (decision 0085). */

/** Encodes a compound keyset position (e.g. due date + id) as an opaque cursor. */
export function encodeCursor(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** The parts of an opaque cursor, or undefined when it was not made by encodeCursor. */
export function decodeCursor(cursor: string, count: number): string[] | undefined {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(parts) || parts.length !== count) return undefined;
    return parts.every((part) => typeof part === 'string') ? parts : undefined;
  } catch {
    return undefined;
  }
}
