import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { AnchorSourceError, encodeSetBack, FileAnchors, GENESIS_HASH } from '../kernel/audit/index.js';
import type { KeyManagementService } from '../kernel/keyring/kms.js';

/** A tenant whose audit chain a restore sets back behind checkpoints signed before it (1270). */
export interface PlannedSetBack {
  tenantId: number;
  /** The restored chain's head. */
  headSeq: number;
  headHash: Buffer;
  /** The highest seq anchored outside the data database before the restore. */
  earlierSeq: number;
  /** How many of those checkpoints lie beyond the restored head or do not match it. */
  leftBehind: number;
}

export interface SetBackPlanOptions {
  /** KLUIS_AUDIT_ANCHOR_FILE, when configured: its checkpoints count too. */
  anchorFile?: string | undefined;
  /**
   * When the data comes from an archive: when it was made (its manifest's `createdAt`, taken
   * before its snapshot). A checkpoint signed before it that the archive's chain does not hold
   * shows a chain cut before the backup, not a restore's set-back (attack S27-2).
   */
  archiveMadeAt?: Date | undefined;
}

/**
 * A tenant whose restored chain was cut before the data backup was made (attack S27-2): a
 * checkpoint signed before the backup lies beyond the backup's chain or does not match it. No
 * set-back is recorded for it, so verification keeps reading the cut as broken.
 */
export interface CutBeforeBackup {
  tenantId: number;
  headSeq: number;
  /** The first such checkpoint. */
  seq: number;
  signedAt: Date;
}

/** What a restore records: the set-backs, and the tenants it refuses one for (S27-2). */
export interface SetBackPlan {
  setBacks: PlannedSetBack[];
  cutBeforeBackup: CutBeforeBackup[];
}

interface SignedPoint {
  seq: number;
  headHash: Buffer;
  signedAt: Date;
}

/**
 * Per tenant of the data that will be in use, compares the restored audit chain with the
 * checkpoints the key store that will be in use (and the anchor file) holds: a tenant with a
 * checkpoint beyond the restored head, or one that does not match the entry of its number, is set
 * back (attack S25-5, decision 1270). Both clients in their restore (or read-only) transaction.
 * Only the timeline in use counts: checkpoints signed before an earlier set-back were named by it
 * (attack S27-3). A checkpoint left behind that was signed before the data archive was made is a
 * cut the backup already held, not the restore's: no set-back for that tenant (attack S27-2).
 */
export async function planAuditSetBacks(
  data: pg.ClientBase,
  keys: pg.ClientBase,
  options: SetBackPlanOptions = {},
): Promise<SetBackPlan> {
  const plan: SetBackPlan = { setBacks: [], cutBeforeBackup: [] };
  if (!(await hasTable(data, 'audit_heads')) || !(await hasTable(keys, 'audit_anchors'))) return plan;
  const { rows: tenants } = await data.query<{ id: number }>(
    'select tenant_id as id from tenants order by 1',
  );
  const file = options.anchorFile === undefined ? undefined : new FileAnchors(options.anchorFile);
  const setBacksKept = await hasTable(keys, 'audit_setbacks');
  for (const { id: tenantId } of tenants) {
    await setTenant(data, tenantId);
    await setTenant(keys, tenantId);
    const { rows: anchorRows } = await keys.query<{ seq: number; head_hash: Buffer; signed_at: Date }>(
      'select seq, head_hash, signed_at from audit_anchors where tenant_id = $1',
      [tenantId],
    );
    const signed: SignedPoint[] = anchorRows.map((row) => ({
      seq: Number(row.seq),
      headHash: row.head_hash,
      signedAt: row.signed_at,
    }));
    if (file) {
      try {
        signed.push(...(await file.list(tenantId)));
      } catch (error) {
        // Unreadable: verification names it; the key store decides the set-back alone.
        if (!(error instanceof AnchorSourceError)) throw error;
      }
    }
    // An earlier restore's set-back begins the timeline in use: its head is signed too, and the
    // checkpoints signed before it are an earlier timeline's, already named (attack S27-3).
    const earlierRestores = setBacksKept ? await readSetBackHeads(keys, tenantId) : [];
    signed.push(...earlierRestores.filter((setBack) => setBack.seq > 0));
    const anchors = signed.filter(
      (point) => !earlierRestores.some((setBack) => setBack.signedAt.getTime() > point.signedAt.getTime()),
    );
    if (anchors.length === 0) continue;
    const { rows: heads } = await data.query<{ seq: number; hash: Buffer }>(
      'select seq, hash from audit_heads where tenant_id = $1',
      [tenantId],
    );
    const headSeq = Number(heads[0]?.seq ?? 0);
    const headHash = heads[0]?.hash ?? GENESIS_HASH;
    const within = [...new Set(anchors.filter((a) => a.seq <= headSeq).map((a) => a.seq))];
    const { rows: entries } = await data.query<{ seq: number; hash: Buffer }>(
      'select seq, hash from audit_log where tenant_id = $1 and seq = any($2::bigint[])',
      [tenantId, within],
    );
    const hashes = new Map(entries.map((entry) => [Number(entry.seq), entry.hash]));
    const leftBehind = anchors.filter(
      (anchor) => anchor.seq > headSeq || !hashes.get(anchor.seq)?.equals(anchor.headHash),
    );
    if (leftBehind.length === 0) continue;
    const madeAt = options.archiveMadeAt?.getTime();
    const beforeBackup = leftBehind
      .filter((anchor) => madeAt !== undefined && anchor.signedAt.getTime() < madeAt)
      .sort((a, b) => a.seq - b.seq)[0];
    if (beforeBackup) {
      plan.cutBeforeBackup.push({
        tenantId,
        headSeq,
        seq: beforeBackup.seq,
        signedAt: beforeBackup.signedAt,
      });
      continue;
    }
    plan.setBacks.push({
      tenantId,
      headSeq,
      headHash,
      earlierSeq: Math.max(...anchors.map((anchor) => anchor.seq)),
      leftBehind: leftBehind.length,
    });
  }
  return plan;
}

/** The heads of the tenant's earlier set-backs, as signed points of the timelines they began. */
async function readSetBackHeads(keys: pg.ClientBase, tenantId: number): Promise<SignedPoint[]> {
  const { rows } = await keys.query<{ head_seq: number; head_hash: Buffer; set_at: Date }>(
    'select head_seq, head_hash, set_at from audit_setbacks where tenant_id = $1',
    [tenantId],
  );
  return rows.map((row) => ({ seq: Number(row.head_seq), headHash: row.head_hash, signedAt: row.set_at }));
}

/**
 * Writes the planned set-backs into the key store in its open transaction, each signed with the
 * tenant's audit key (the keyring's 'audit-checkpoint' secret, unwrapped with the master key)
 * over encodeSetBack. A tenant without that key has signed no checkpoint: none is planned for it.
 * Returns false when the key store predates the set-backs table (an archive older than
 * migration 1270): nothing written.
 */
export async function writeAuditSetBacks(
  keys: pg.ClientBase,
  plans: readonly PlannedSetBack[],
  kms: KeyManagementService,
  setAt: Date,
): Promise<boolean> {
  if (plans.length === 0) return true;
  if (!(await hasTable(keys, 'audit_setbacks'))) return false;
  for (const plan of plans) {
    await setTenant(keys, plan.tenantId);
    const { rows } = await keys.query<{ kek_version: number; wrapped: Buffer | null }>(
      `select kek_version, wrapped from data_keys
        where tenant_id = $1 and owner_kind = 'secret' and owner_ref = 'audit-checkpoint'`,
      [plan.tenantId],
    );
    const wrapped = rows[0]?.wrapped;
    if (!rows[0] || !wrapped) continue;
    const secret = await kms.unwrap(plan.tenantId, rows[0].kek_version, 'secret:audit-checkpoint', wrapped);
    const mac = createHmac('sha256', secret)
      .update(
        encodeSetBack({
          tenantId: plan.tenantId,
          headSeq: plan.headSeq,
          headHash: plan.headHash,
          setAt,
          earlierSeq: plan.earlierSeq,
        }),
      )
      .digest();
    await keys.query(
      `insert into audit_setbacks (tenant_id, head_seq, head_hash, set_at, earlier_seq, mac)
       values ($1, $2, $3, $4, $5, $6)`,
      [plan.tenantId, plan.headSeq, plan.headHash, setAt, plan.earlierSeq, mac],
    );
  }
  return true;
}

async function hasTable(client: pg.ClientBase, table: string): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(`select to_regclass($1) is not null as ok`, [
    `public.${table}`,
  ]);
  return rows[0]?.ok === true;
}

async function setTenant(client: pg.ClientBase, tenantId: number): Promise<void> {
  await client.query(`select set_config('app.tenant', $1, true)`, [String(tenantId)]);
}
