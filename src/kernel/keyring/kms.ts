import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Wraps and unwraps data keys under a tenant's key-encryption key (KEK). This is the only
 * place the master key is used. The interface fits an external KMS such as Vault's transit
 * engine (encrypt/decrypt with a per-tenant key, a key version, and a derivation context).
 */
export interface KeyManagementService {
  wrap(tenantId: number, kekVersion: number, context: string, dataKey: Buffer): Promise<Buffer>;
  unwrap(tenantId: number, kekVersion: number, context: string, wrapped: Buffer): Promise<Buffer>;
}

export class KeyUnwrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyUnwrapError';
  }
}

const WRAP_FORMAT = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The master key lives with the operator: KLUIS_MASTER_KEY, or a 0600 file in the data folder. */
export class LocalKeyManagementService implements KeyManagementService {
  readonly #master: Buffer;
  readonly #keks = new Map<string, Buffer>();

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('the master key must be 32 bytes');
    this.#master = Buffer.from(masterKey);
  }

  #kek(tenantId: number, version: number): Buffer {
    const id = `${tenantId}:${version}`;
    let kek = this.#keks.get(id);
    if (!kek) {
      kek = Buffer.from(
        hkdfSync('sha256', this.#master, 'kluis-kek', `tenant:${tenantId}:kek:v${version}`, 32),
      );
      this.#keks.set(id, kek);
    }
    return kek;
  }

  wrap(tenantId: number, kekVersion: number, context: string, dataKey: Buffer): Promise<Buffer> {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#kek(tenantId, kekVersion), nonce);
    cipher.setAAD(Buffer.from(`wrap|${tenantId}|${kekVersion}|${context}`));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return Promise.resolve(Buffer.concat([Buffer.of(WRAP_FORMAT), nonce, body, cipher.getAuthTag()]));
  }

  unwrap(tenantId: number, kekVersion: number, context: string, wrapped: Buffer): Promise<Buffer> {
    if (wrapped[0] !== WRAP_FORMAT || wrapped.length < 1 + NONCE_BYTES + TAG_BYTES) {
      return Promise.reject(new KeyUnwrapError('unknown wrapped-key format'));
    }
    const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
    const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
    const body = wrapped.subarray(1 + NONCE_BYTES, wrapped.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#kek(tenantId, kekVersion), nonce);
      decipher.setAAD(Buffer.from(`wrap|${tenantId}|${kekVersion}|${context}`));
      decipher.setAuthTag(tag);
      return Promise.resolve(Buffer.concat([decipher.update(body), decipher.final()]));
    } catch {
      return Promise.reject(new KeyUnwrapError('a data key could not be unwrapped (wrong master key?)'));
    }
  }
}

export const MASTER_KEY_FILE = 'master.key';

/** The master key from KLUIS_MASTER_KEY, else from `<dataDir>/master.key` (created 0600 on first run). */
export async function loadMasterKey(options: {
  fromEnvironment: string | undefined;
  dataDir: string;
}): Promise<Buffer> {
  if (options.fromEnvironment) return Buffer.from(options.fromEnvironment, 'base64');
  const file = path.join(options.dataDir, MASTER_KEY_FILE);
  try {
    const text = (await readFile(file, 'utf8')).trim();
    const key = Buffer.from(text, 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(options.dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return key;
}
