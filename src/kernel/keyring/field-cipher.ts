import { createDecipheriv } from 'node:crypto';

/**
 * The format of a field sealed by the Keyring: a format byte, the nonce, the AES-256-GCM body and
 * its tag, bound to where the field lives. Pure functions over a data key the caller already
 * holds: no key store, no master key (those stay in the Keyring).
 */

/** Where an encrypted value lives; bound as associated data so a ciphertext cannot be moved. */
export interface FieldRef {
  table: string;
  column: string;
  rowId: string;
}

export const FIELD_FORMAT = 0x01;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export function associatedData(tenantId: number, ref: FieldRef): Buffer {
  return Buffer.from(`field|${tenantId}|${ref.table}|${ref.column}|${ref.rowId}`);
}

/**
 * Opens a field sealed by `Keyring.encrypt` with its data key; undefined when the key is not the
 * one it was sealed with, or the ciphertext was altered or moved. A restore checks a sample of
 * fields with this before it commits (decision 1120).
 */
export function openField(
  key: Buffer,
  tenantId: number,
  ref: FieldRef,
  ciphertext: Buffer,
): string | undefined {
  if (ciphertext[0] !== FIELD_FORMAT || ciphertext.length < 1 + NONCE_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, ciphertext.subarray(1, 1 + NONCE_BYTES));
    decipher.setAAD(associatedData(tenantId, ref));
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
    const body = ciphertext.subarray(1 + NONCE_BYTES, ciphertext.length - TAG_BYTES);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
