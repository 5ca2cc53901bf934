import { createHash } from 'node:crypto';

/**
 * The canonical encoding the chain hashes: a JSON array with a version tag and every field in a
 * fixed order (arrays keep no object keys whose order could vary). Any verifier can rebuild it:
 *
 *   sha256(JSON.stringify(["kluis.audit.v1", tenant_id, seq, at_iso, actor_kind, actor_id, role,
 *     purpose, action, [subject_pseudonyms…], [categories…], records, decision, reason,
 *     request_id, prev_hash_hex]))
 *
 * `at` is the ISO string with milliseconds (what timestamptz round-trips); nulls stay null.
 */
export const AUDIT_ENCODING_VERSION = 'kluis.audit.v1';
export const CHECKPOINT_ENCODING_VERSION = 'kluis.audit-checkpoint.v1';

/** prev_hash of the first entry of every chain. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

export interface ChainedEntry {
  tenantId: number;
  seq: number;
  at: Date;
  actorKind: 'staff' | 'subject' | 'system';
  actorId: string;
  role: string | null;
  purpose: string | null;
  action: string;
  subjectPseudonyms: readonly string[];
  categories: readonly string[];
  records: number;
  decision: 'allowed' | 'denied';
  reason: string | null;
  requestId: string | null;
  prevHash: Buffer;
}

/**
 * A stored instant as it is hashed and shown: ISO 8601. A timestamp JavaScript cannot hold
 * (`infinity`, a year past 275760: node-postgres gives a number or an Invalid Date) was never
 * written by Kluis, whose entries carry its clock's instants; it is encoded as text no ISO instant
 * can equal, so the row's hash or MAC does not match and it is named as not Kluis's, instead of the
 * chainer or verification failing on it (attack S14-1, decision 0766).
 */
export function instantText(at: Date): string {
  return at instanceof Date && Number.isFinite(at.getTime())
    ? at.toISOString()
    : `not an instant: ${String(at)}`;
}

/** The bytes hashed for one entry. */
export function encodeAuditEntry(entry: ChainedEntry): Buffer {
  return Buffer.from(
    JSON.stringify([
      AUDIT_ENCODING_VERSION,
      entry.tenantId,
      entry.seq,
      instantText(entry.at),
      entry.actorKind,
      entry.actorId,
      entry.role,
      entry.purpose,
      entry.action,
      entry.subjectPseudonyms,
      entry.categories,
      entry.records,
      entry.decision,
      entry.reason,
      entry.requestId,
      entry.prevHash.toString('hex'),
    ]),
    'utf8',
  );
}

/** SHA-256 of the canonical encoding: the entry's `hash`, and the next entry's `prev_hash`. */
export function hashAuditEntry(entry: ChainedEntry): Buffer {
  return createHash('sha256').update(encodeAuditEntry(entry)).digest();
}

/** The bytes a checkpoint's MAC covers. */
export function encodeCheckpoint(checkpoint: {
  tenantId: number;
  seq: number;
  headHash: Buffer;
  signedAt: Date;
}): Buffer {
  return Buffer.from(
    JSON.stringify([
      CHECKPOINT_ENCODING_VERSION,
      checkpoint.tenantId,
      checkpoint.seq,
      checkpoint.headHash.toString('hex'),
      instantText(checkpoint.signedAt),
    ]),
    'utf8',
  );
}

export const SETBACK_ENCODING_VERSION = 'kluis.audit-setback.v1';

/**
 * The bytes a set-back's MAC covers (decision 1270): a restore set the tenant's chain back to
 * `headSeq`/`headHash` at `setAt`; the earlier timeline was anchored up to `earlierSeq`. Its own
 * version tag: an anchor's MAC never verifies as a set-back's (a copied anchor hides nothing).
 */
export function encodeSetBack(setBack: {
  tenantId: number;
  headSeq: number;
  headHash: Buffer;
  setAt: Date;
  earlierSeq: number;
}): Buffer {
  return Buffer.from(
    JSON.stringify([
      SETBACK_ENCODING_VERSION,
      setBack.tenantId,
      setBack.headSeq,
      setBack.headHash.toString('hex'),
      instantText(setBack.setAt),
      setBack.earlierSeq,
    ]),
    'utf8',
  );
}

export const ENTRY_MAC_ENCODING_VERSION = 'kluis.audit-entry-mac.v1';

/**
 * The bytes an entry's own MAC covers: its place and its hash (which covers everything else).
 * Without the tenant's key nobody can append or rewrite an entry that verifies, even with every
 * hash recomputed.
 */
export function encodeEntryMac(entry: { tenantId: number; seq: number; hash: Buffer }): Buffer {
  return Buffer.from(
    JSON.stringify([ENTRY_MAC_ENCODING_VERSION, entry.tenantId, entry.seq, entry.hash.toString('hex')]),
    'utf8',
  );
}

export const PENDING_MAC_ENCODING_VERSION = 'kluis.audit-pending-mac.v1';
export const PENDING_MAC_NONCE_ENCODING_VERSION = 'kluis.audit-pending-mac.v2';

/**
 * The bytes a pending entry's MAC covers (docs/decisions/0340): everything the chained entry will
 * hold except its place (seq, prev_hash), which only the chainer knows; and its nonce (decision
 * 0686), so that a copy of a pending row, which keeps the nonce, is known as a copy. Entries
 * without a nonce (written before migration 0686) keep the first encoding. The chainer links only
 * entries whose MAC holds, so no entry reaches the chain that Kluis did not write.
 */
export function encodePendingMac(
  entry: Omit<ChainedEntry, 'seq' | 'prevHash'> & { nonce: Buffer | null },
): Buffer {
  const content = [
    entry.tenantId,
    instantText(entry.at),
    entry.actorKind,
    entry.actorId,
    entry.role,
    entry.purpose,
    entry.action,
    entry.subjectPseudonyms,
    entry.categories,
    entry.records,
    entry.decision,
    entry.reason,
    entry.requestId,
  ];
  const encoded = entry.nonce
    ? [PENDING_MAC_NONCE_ENCODING_VERSION, ...content, entry.nonce.toString('hex')]
    : [PENDING_MAC_ENCODING_VERSION, ...content];
  return Buffer.from(JSON.stringify(encoded), 'utf8');
}
