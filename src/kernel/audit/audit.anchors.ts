import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { withTenant } from '../../platform/db.js';
import type { KeystoreDb } from '../keyring/keystore.tables.js';

/** A signed checkpoint of a tenant's chain head, as kept outside the data database. */
export interface AuditAnchor {
  tenantId: number;
  seq: number;
  headHash: Buffer;
  signedAt: Date;
  mac: Buffer;
}

/**
 * A restore that set a tenant's chain back to an earlier head (decision 1270), kept in the key
 * store and signed with the tenant's audit key over its own encoding (encodeSetBack). Anchors
 * signed before `setAt` that lie beyond its head, or do not match the chain, are of the earlier
 * timeline.
 */
export interface AuditSetBack {
  tenantId: number;
  headSeq: number;
  headHash: Buffer;
  setAt: Date;
  /** The highest seq the earlier timeline had anchored in the key store when it was set back. */
  earlierSeq: number;
  mac: Buffer;
}

/** Thrown when a place holding anchors cannot be read as such (a damaged or foreign file). */
export class AnchorSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnchorSourceError';
  }
}

/**
 * A place outside the data database where checkpoints are appended: the key store, the operator's
 * append-only file. `list` returns a tenant's anchors in the order they were written.
 */
export interface AnchorSource {
  readonly name: string;
  list(tenantId: number): Promise<AuditAnchor[]>;
  append(anchor: AuditAnchor): Promise<void>;
  /** The tenant's set-backs in the order written, where the place keeps them (the key store). */
  listSetBacks?(tenantId: number): Promise<AuditSetBack[]>;
}

/** Anchors in the key store database (migrations-keystore/0070_audit_anchors.sql). */
export class KeystoreAnchors implements AnchorSource {
  readonly name = 'key store';
  readonly #keystore: KeystoreDb;

  constructor(keystore: KeystoreDb) {
    this.#keystore = keystore;
  }

  async list(tenantId: number): Promise<AuditAnchor[]> {
    const rows = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .selectFrom('audit_anchors')
        .select(['tenant_id', 'seq', 'head_hash', 'signed_at', 'mac'])
        .where('tenant_id', '=', tenantId)
        .orderBy('written_no')
        .execute(),
    );
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      seq: row.seq,
      headHash: row.head_hash,
      signedAt: row.signed_at,
      mac: row.mac,
    }));
  }

  async append(anchor: AuditAnchor): Promise<void> {
    await withTenant(this.#keystore, anchor.tenantId, (tx) =>
      tx
        .insertInto('audit_anchors')
        .values({
          tenant_id: anchor.tenantId,
          seq: anchor.seq,
          head_hash: anchor.headHash,
          signed_at: anchor.signedAt,
          mac: anchor.mac,
        })
        // The same signed head once; the same seq again after a set-back (decision 1270).
        .onConflict((conflict) => conflict.columns(['tenant_id', 'seq', 'head_hash']).doNothing())
        .execute(),
    );
  }

  async listSetBacks(tenantId: number): Promise<AuditSetBack[]> {
    const rows = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .selectFrom('audit_setbacks')
        .select(['tenant_id', 'head_seq', 'head_hash', 'set_at', 'earlier_seq', 'mac'])
        .where('tenant_id', '=', tenantId)
        .orderBy('setback_no')
        .execute(),
    );
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      headSeq: Number(row.head_seq),
      headHash: row.head_hash,
      setAt: row.set_at,
      earlierSeq: Number(row.earlier_seq),
      mac: row.mac,
    }));
  }
}

const LINE_KIND = 'kluis.audit-anchor.v1';

/**
 * Anchors appended as JSON lines to a file the operator names (KLUIS_AUDIT_ANCHOR_FILE), meant to
 * live on write-once or remote storage. Lines are only ever appended (O_APPEND, fsync); they hold
 * hashes and MACs, nothing personal. One line:
 * {"kind":"kluis.audit-anchor.v1","tenantId":1,"seq":12,"headHash":"…","signedAt":"…","mac":"…"}
 */
export class FileAnchors implements AnchorSource {
  readonly name = 'anchor file';
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  async list(tenantId: number): Promise<AuditAnchor[]> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new AnchorSourceError(
        `the anchor file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    const anchors: AuditAnchor[] = [];
    const lines = text.split('\n');
    for (const [index, line] of lines.entries()) {
      if (line.trim() === '') continue;
      const anchor = parseLine(line);
      if (!anchor) throw new AnchorSourceError(`line ${index + 1} of the anchor file is not an anchor`);
      if (anchor.tenantId === tenantId) anchors.push(anchor);
    }
    return anchors;
  }

  async append(anchor: AuditAnchor): Promise<void> {
    const line = `${JSON.stringify({
      kind: LINE_KIND,
      tenantId: anchor.tenantId,
      seq: anchor.seq,
      headHash: anchor.headHash.toString('hex'),
      signedAt: anchor.signedAt.toISOString(),
      mac: anchor.mac.toString('hex'),
    })}\n`;
    const handle = await open(this.#file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      await handle.write(line);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

function parseLine(line: string): AuditAnchor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const { tenantId, seq, headHash, signedAt, mac } = record;
  if (
    record.kind !== LINE_KIND ||
    !Number.isSafeInteger(tenantId) ||
    !Number.isSafeInteger(seq) ||
    typeof headHash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(headHash) ||
    typeof mac !== 'string' ||
    !/^[0-9a-f]{64}$/.test(mac) ||
    typeof signedAt !== 'string' ||
    Number.isNaN(Date.parse(signedAt))
  )
    return undefined;
  return {
    tenantId: tenantId as number,
    seq: seq as number,
    headHash: Buffer.from(headHash, 'hex'),
    signedAt: new Date(signedAt),
    mac: Buffer.from(mac, 'hex'),
  };
}
