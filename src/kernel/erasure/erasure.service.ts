import { sql } from 'kysely';
import type { AuditedTx } from '../audit/index.js';
import type { TableDataMap } from '../datamap/datamap.js';
import type { Actor } from '../gate/gate.js';
import type { Kernel } from '../kernel.js';
import { AppError } from '../../platform/errors.js';

export interface ErasureOutcome {
  subjectId: number;
  erased: Array<{ table: string; rows: number; categories: string[] }>;
  /** Data kept under a legal hold: why and under which rule (the answer letter lists it). */
  kept: Array<{
    table: string;
    rows: number;
    categories: string[];
    legalHold: string;
    legalReference: string;
    retention: string;
  }>;
  /** True when the data key was destroyed (no encrypted data under a hold remained). */
  keyDestroyed: boolean;
}

export interface EraseOptions {
  tenantId: number;
  actor: Actor;
  purpose: string;
  subjectId: number;
  requestId?: string;
}

/**
 * Erases a data subject everywhere the data map says they are: rows deleted or their personal
 * columns nulled, except what a legal hold keeps; then the subject's data key is destroyed
 * (crypto-shredding) unless held encrypted data still needs it, and the subject is marked
 * erased so the gate refuses any later access. One transaction, audited.
 */
export async function eraseSubject(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: EraseOptions,
): Promise<ErasureOutcome> {
  const { policy } = await kernel.policies.current(options.tenantId);
  const outcome = await kernel.transact(options.tenantId, async (atx) => {
    const categories = [
      ...new Set(dataMap.flatMap((map) => Object.values(map.personal).map((column) => column.category))),
    ].filter((category) => policy.categories[category] !== undefined);
    await kernel.gate.authorize(atx, options.actor, {
      purpose: options.purpose,
      action: 'erase',
      categories,
      subjectIds: [options.subjectId],
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    const result: ErasureOutcome = {
      subjectId: options.subjectId,
      erased: [],
      kept: [],
      keyDestroyed: false,
    };
    let heldEncrypted = false;
    for (const map of dataMap) {
      if (!map.subjectColumn || !map.erasure) continue;
      const tableCategories = [...new Set(Object.values(map.personal).map((column) => column.category))];
      if (map.erasure.kind === 'held') {
        const rows = await countRows(atx, map, options.subjectId);
        if (rows === 0) continue;
        const hold = policy.legalHolds[map.erasure.legalHold];
        if (!hold)
          throw new AppError('invalid_policy', `legal hold ${map.erasure.legalHold} is not in the policy`);
        const retention = policy.retentionRules[hold.retention];
        result.kept.push({
          table: map.table,
          rows,
          categories: tableCategories,
          legalHold: map.erasure.legalHold,
          legalReference: hold.legalReference,
          retention: retention ? describeRetention(retention) : hold.retention,
        });
        if (Object.values(map.personal).some((column) => column.encrypted)) heldEncrypted = true;
        continue;
      }
      const rows =
        map.erasure.kind === 'delete_rows'
          ? await deleteRows(atx, map, options.subjectId)
          : await nullPersonal(atx, map, options.subjectId);
      if (rows > 0) result.erased.push({ table: map.table, rows, categories: tableCategories });
    }
    await atx.tx
      .updateTable('data_subjects')
      .set({
        erased_at: kernel.clock.now(),
        restricted_at: null,
        minor_until: null,
        parental_consent_at: null,
      })
      .where('subject_id', '=', options.subjectId)
      .execute();
    await atx.tx.deleteFrom('subject_purpose_states').where('subject_id', '=', options.subjectId).execute();
    return { result, heldEncrypted };
  });
  if (!outcome.heldEncrypted) {
    // After commit: if the erasure had rolled back, the key must still exist.
    outcome.result.keyDestroyed = await kernel.keyring.destroySubjectKey(options.tenantId, options.subjectId);
    await kernel.transact(options.tenantId, (atx) => {
      atx.audit.record({
        actor: { kind: 'system', id: 'erasure' },
        role: null,
        purpose: options.purpose,
        action: 'key.destroy',
        subjectIds: [options.subjectId],
        decision: 'allowed',
        reason: outcome.result.keyDestroyed ? 'crypto_shredded' : 'no_key',
      });
      return Promise.resolve();
    });
  }
  return outcome.result;
}

async function countRows(atx: AuditedTx, map: TableDataMap, subjectId: number): Promise<number> {
  const result = await sql<{
    n: number;
  }>`select count(*)::int as n from ${sql.table(map.table)} where ${sql.ref(map.subjectColumn ?? '')} = ${subjectId}`.execute(
    atx.tx,
  );
  return result.rows[0]?.n ?? 0;
}

async function deleteRows(atx: AuditedTx, map: TableDataMap, subjectId: number): Promise<number> {
  const result =
    await sql`delete from ${sql.table(map.table)} where ${sql.ref(map.subjectColumn ?? '')} = ${subjectId}`.execute(
      atx.tx,
    );
  return Number(result.numAffectedRows ?? 0n);
}

async function nullPersonal(atx: AuditedTx, map: TableDataMap, subjectId: number): Promise<number> {
  const assignments = Object.keys(map.personal).map((column) => sql`${sql.ref(column)} = null`);
  const result =
    await sql`update ${sql.table(map.table)} set ${sql.join(assignments)} where ${sql.ref(map.subjectColumn ?? '')} = ${subjectId}`.execute(
      atx.tx,
    );
  return Number(result.numAffectedRows ?? 0n);
}

function describeRetention(rule: { kind: string; years?: number; months?: number }): string {
  const span =
    rule.years !== undefined
      ? `${rule.years} years`
      : rule.months !== undefined
        ? `${rule.months} months`
        : '';
  return span ? `${rule.kind} (${span})` : rule.kind;
}
