/**
 * TEMPORARY AuditKeys for the CLI until the keyring (src/kernel/keyring/) is wired in: the lead
 * swaps `loadLocalAuditKeys` for the keyring's `pseudonym` / `checkpointMac`. Keys are derived
 * from the 32-byte master key with HKDF-SHA256, one per tenant and use; the master key comes
 * from KLUIS_MASTER_KEY (base64) or `<KLUIS_DATA_DIR>/master.key` (base64, created 0600).
 *
 * When swapping: pseudonyms and checkpoint MACs written with these keys will not match the
 * keyring's, so swap before any real data, or keep these derivations for existing tenants.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuditKeys } from './audit.service.js';

const MASTER_KEY_FILE = 'master.key';

/** AuditKeys from a master key: HKDF-SHA256 per tenant and use, HMAC-SHA256 over the input. */
export function createLocalAuditKeys(masterKey: Buffer): AuditKeys {
  if (masterKey.length !== 32) throw new Error('the master key must be 32 bytes');
  const master = Buffer.from(masterKey);
  const derived = new Map<string, Buffer>();
  const deriveKey = (tenantId: number, use: string): Buffer => {
    const id = `${use}:${tenantId}`;
    let key = derived.get(id);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', master, 'kluis-audit', `tenant:${tenantId}:${use}:v1`, 32));
      derived.set(id, key);
    }
    return key;
  };
  return {
    pseudonym: (tenantId, subjectId) =>
      Promise.resolve(
        createHmac('sha256', deriveKey(tenantId, 'pseudonym')).update(`subject:${subjectId}`).digest('hex'),
      ),
    checkpointMac: (tenantId, data) =>
      Promise.resolve(createHmac('sha256', deriveKey(tenantId, 'audit-checkpoint')).update(data).digest()),
  };
}

/** The master key from the environment (base64), else from `<dataDir>/master.key`, created if absent. */
export async function loadLocalMasterKey(options: {
  fromEnvironment: string | undefined;
  dataDir: string;
}): Promise<Buffer> {
  if (options.fromEnvironment) return Buffer.from(options.fromEnvironment, 'base64');
  const file = path.join(options.dataDir, MASTER_KEY_FILE);
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(options.dataDir, { recursive: true });
  const key = randomBytes(32);
  // 'wx': if another process created the file meanwhile, fail rather than overwrite its key.
  await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return key;
}

/** AuditKeys for the CLI, from the configured master key. */
export async function loadLocalAuditKeys(config: {
  masterKey: string | undefined;
  dataDir: string;
}): Promise<AuditKeys> {
  return createLocalAuditKeys(
    await loadLocalMasterKey({ fromEnvironment: config.masterKey, dataDir: config.dataDir }),
  );
}
