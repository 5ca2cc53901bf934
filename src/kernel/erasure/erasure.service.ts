import { sql } from 'kysely';
import type { AuditedTx } from '../audit/index.js';
import type { TableDataMap } from '../datamap/datamap.js';
import type { Actor } from '../gate/gate.js';
import { kernelCore, keyringOf, type Kernel } from '../kernel.js';
import { AppError, isAppError } from '../../platform/errors.js';
import { authorizeBatch } from '../gate/access.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import { belgianDay } from '../../platform/calendar.js';

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
  /**
   * For staff only, never in the person's letter or pages (decision 0470): rows kept because an
   * authority request that names the person forbids telling them, until that silence ends (its
   * last day); a later erasure of the subject deletes them then.
   */
  keptSilently: Array<{ table: string; rows: number; kind: string; until: string }>;
  /** True when the data key is destroyed (no encrypted data under a hold remained). */
  keyDestroyed: boolean;
  /**
   * 'scheduled': the key's destruction was recorded with the erasure and finishes after commit
   * (at once, or by the erasure-finisher job after a crash); 'not_needed': held data keeps it.
   */
  keyDestruction: 'scheduled' | 'not_needed';
  /** The subject had been erased before: nothing was left to erase, and nothing failed. */
  alreadyErased: boolean;
}

export interface EraseOptions {
  tenantId: number;
  actor: Actor;
  purpose: string;
  subjectId: number;
  requestId?: string;
  /**
   * Runs inside the erasure's transaction, after the data is gone: what must commit with the
   * erasure or not at all (a rights request marks itself fulfilled here).
   */
  withinErasure?: (atx: AuditedTx, outcome: ErasureOutcome) => Promise<void>;
}

/**
 * Erases a data subject everywhere the data map says they are: rows deleted or their personal
 * columns nulled, except what a legal hold keeps, and the subject marked erased so the gate
 * refuses any later access. In the same transaction the destruction of the subject's data key
 * (crypto-shredding) is recorded, unless held encrypted data still needs it; right after commit
 * the key is destroyed in the key store. A crash in between leaves the destruction pending for
 * the erasure-finisher job, and erasing an already erased subject succeeds (and finishes it).
 */
export async function eraseSubject(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: EraseOptions,
  /**
   * 'journal': the erasure-journal replay after a restore (erasure-replay.ts, not exported from
   * this folder): the erasure was authorised when it was first made, so it is re-applied and
   * audited as such, whatever the policy in force says now.
   */
  mode: 'gate' | 'journal' = 'gate',
): Promise<ErasureOutcome> {
  const { policy } = await kernel.policies.current(options.tenantId);
  const result = await kernel.transact(options.tenantId, async (atx) => {
    const subject = await atx.tx
      .selectFrom('data_subjects')
      .select(['erased_at'])
      .where('subject_id', '=', options.subjectId)
      .forUpdate()
      .executeTakeFirst();
    const alreadyErased = subject !== undefined && subject.erased_at !== null;
    const categories = [
      ...new Set(dataMap.flatMap((map) => Object.values(map.personal).map((column) => column.category))),
    ].filter((category) => policy.categories[category] !== undefined);
    if (alreadyErased) {
      // The gate refuses every access to an erased subject, and finishing an erasure is none; the
      // actor must still be one who may erase under this purpose.
      if (mode === 'gate') {
        await kernel.gate.authorize(atx, options.actor, {
          purpose: options.purpose,
          action: 'erase',
          categories,
          subjectIds: [],
          ...(options.requestId ? { requestId: options.requestId } : {}),
        });
      }
      atx.audit.record({
        actor: { kind: 'system', id: 'erasure' },
        role: null,
        purpose: options.purpose,
        action: 'erase',
        subjectIds: [options.subjectId],
        decision: 'allowed',
        reason: 'already_erased',
        ...(options.requestId ? { requestId: options.requestId } : {}),
      });
    } else if (mode === 'journal') {
      atx.audit.record({
        actor: { kind: 'system', id: 'erasure-journal' },
        role: null,
        purpose: null,
        action: 'erase',
        subjectIds: [options.subjectId],
        decision: 'allowed',
        reason: 'journal_replay',
      });
    } else {
      await kernel.gate.authorize(atx, options.actor, {
        purpose: options.purpose,
        action: 'erase',
        categories,
        subjectIds: [options.subjectId],
        ...(options.requestId ? { requestId: options.requestId } : {}),
      });
      // Art. 17(3)(e): a person under an open hold is not erased at all (decision 0415).
      const holds = (
        await findErasureHolds(atx.tx, dataMap, [options.subjectId], belgianDay(kernel.clock.now()))
      ).get(options.subjectId);
      if (holds) throw erasureHeld(holds);
    }
    const outcome: ErasureOutcome = {
      subjectId: options.subjectId,
      erased: [],
      kept: [],
      keptSilently: [],
      keyDestroyed: false,
      keyDestruction: 'not_needed',
      alreadyErased,
    };
    let heldEncrypted = false;
    const today = belgianDay(kernel.clock.now());
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
        outcome.kept.push({
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
      if (map.keptWhileSilent) {
        const silenced = (await silencedRowsOf(atx, map, [options.subjectId], today)).get(options.subjectId);
        if (silenced)
          outcome.keptSilently.push({ table: map.table, kind: map.keptWhileSilent.kind, ...silenced });
      }
      const rows =
        map.erasure.kind === 'delete_rows'
          ? await deleteRows(atx, map, options.subjectId, today)
          : await nullPersonal(atx, map, options.subjectId);
      if (rows > 0) outcome.erased.push({ table: map.table, rows, categories: tableCategories });
    }
    if (!alreadyErased) {
      await atx.tx
        .updateTable('data_subjects')
        .set({
          erased_at: kernel.clock.now(),
          restricted_at: null,
          restriction_lift_on: null,
          minor_until: null,
          parental_consent_at: null,
        })
        .where('subject_id', '=', options.subjectId)
        .execute();
      await atx.tx.deleteFrom('subject_purpose_states').where('subject_id', '=', options.subjectId).execute();
    }
    if (!heldEncrypted) {
      outcome.keyDestruction = 'scheduled';
      await atx.tx
        .insertInto('subject_key_destructions')
        .values({
          tenant_id: options.tenantId,
          subject_id: options.subjectId,
          requested_at: kernel.clock.now(),
        })
        .onConflict((conflict) => conflict.columns(['tenant_id', 'subject_id', 'key_scope']).doNothing())
        .execute();
    }
    // The technical dossier's key is never held (VX-7): its destruction is recorded whatever keeps
    // the subject's own key, so a crash after commit cannot leave it alive (migration 0120).
    await atx.tx
      .insertInto('subject_key_destructions')
      .values({
        tenant_id: options.tenantId,
        subject_id: options.subjectId,
        key_scope: 'dossier',
        requested_at: kernel.clock.now(),
      })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'subject_id', 'key_scope']).doNothing())
      .execute();
    await options.withinErasure?.(atx, outcome);
    return outcome;
  });
  await reachTestHook('erasure.committed');
  // Outside the data, so a restore of an older data backup erases the person again. Best effort
  // like the key destruction: every start and every restore journals what this missed.
  await kernelCore(kernel)
    .erasureJournal.record(options.tenantId, options.subjectId)
    .catch(() => undefined);
  if (result.keyDestruction === 'scheduled') {
    // Best effort now; if the key store is unreachable the erasure-finisher job completes it.
    result.keyDestroyed = await finishKeyDestruction(kernel, options.tenantId, options.subjectId).catch(
      () => false,
    );
  }
  // The dossier's key, recorded in the erasure: now, or by the erasure-finisher job.
  await finishKeyDestruction(kernel, options.tenantId, options.subjectId, 'dossier').catch(() => false);
  return result;
}

/**
 * Destroys a subject's data key whose destruction an erasure recorded, then marks it done and
 * audits it. Idempotent: the key store tombstone stays, a second run finds nothing left to do.
 * Returns true when the key is destroyed (now or before).
 */
export async function finishKeyDestruction(
  kernel: Kernel,
  tenantId: number,
  subjectId: number,
  scope: 'subject' | 'dossier' = 'subject',
): Promise<boolean> {
  const keyring = keyringOf(kernel);
  // The dossier's key never outlives the subject's (it is never held).
  if (scope === 'subject') await keyring.destroySubjectKey(tenantId, subjectId, 'dossier');
  const destroyedNow = await keyring.destroySubjectKey(tenantId, subjectId, scope);
  await reachTestHook(scope === 'subject' ? 'erasure.key-destroyed' : 'erasure.dossier-key-destroyed');
  const state = destroyedNow ? 'destroyed' : await keyring.subjectKeyState(tenantId, subjectId, scope);
  if (state === 'live') return false;
  await kernel.transact(tenantId, async (atx) => {
    const marked = await atx.tx
      .updateTable('subject_key_destructions')
      .set({ destroyed_at: kernel.clock.now() })
      .where('subject_id', '=', subjectId)
      .where('key_scope', '=', scope)
      .where('destroyed_at', 'is', null)
      .returning('subject_id')
      .executeTakeFirst();
    // Most subjects never had a dossier: no entry for a key that never existed.
    if (!marked || (scope === 'dossier' && state === 'none')) return;
    atx.audit.record({
      actor: { kind: 'system', id: 'erasure' },
      role: null,
      purpose: null,
      action: 'key.destroy',
      subjectIds: [subjectId],
      decision: 'allowed',
      reason:
        scope === 'dossier' ? 'dossier_key_shredded' : state === 'destroyed' ? 'crypto_shredded' : 'no_key',
    });
  });
  return true;
}

/**
 * The erasure-finisher: destroys every data key whose destruction was recorded but not done
 * (a crash or an unreachable key store after the erasure committed). Safe to run anywhere, any
 * number of times. Returns how many it finished.
 */
export async function finishPendingKeyDestructions(
  kernel: Kernel,
  tenantIds: readonly number[],
): Promise<number> {
  let finished = 0;
  for (const tenantId of tenantIds) {
    const pending = await kernel.plain(tenantId, (tx) =>
      tx
        .selectFrom('subject_key_destructions')
        .select(['subject_id', 'key_scope'])
        .where('destroyed_at', 'is', null)
        .orderBy('subject_id')
        .orderBy('key_scope')
        .execute(),
    );
    for (const row of pending) {
      if (await finishKeyDestruction(kernel, tenantId, row.subject_id, row.key_scope)) finished += 1;
    }
  }
  return finished;
}

export interface EraseSubjectsOptions {
  tenantId: number;
  actor: Actor;
  purpose: string;
  /** The subjects to erase whole, all of one tenant (a retention sweep's batch). */
  subjectIds: readonly number[];
  /**
   * Runs inside the batch's transaction after the data is gone, with each erased subject's
   * outcome (deletion certificates are written here).
   */
  withinErasure?: (atx: AuditedTx, outcomes: readonly ErasureOutcome[]) => Promise<void>;
}

export interface BatchErasureResult {
  /** One per subject erased (or found already erased), in subject order. */
  outcomes: ErasureOutcome[];
  /** Subjects the gate refused (each refusal audited); nothing of theirs was touched. */
  refused: number[];
  /** Subjects under an open hold (an officer's legal hold, a dispute): nothing of theirs was touched. */
  held: number[];
}

/**
 * `eraseSubject` for many subjects of one tenant in one transaction (decision 0191): one gate
 * decision for the batch (a subject it refuses is decided alone, audited and left out), one
 * statement per table of the data map, the subjects marked erased, and each subject's key
 * destructions recorded, all committing together. After commit the erasure journal gets the
 * batch in one write and the keys are destroyed in one key-store statement per scope; a crash
 * in between leaves them for the erasure-finisher and the start-up journal reconcile, as for one
 * subject. Erasing a subject already erased changes nothing and is reported as such.
 */
export async function eraseSubjects(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: EraseSubjectsOptions,
): Promise<BatchErasureResult> {
  const ids = [...new Set(options.subjectIds)].sort((a, b) => a - b);
  if (ids.length === 0) return { outcomes: [], refused: [], held: [] };
  const { tenantId } = options;
  const { policy } = await kernel.policies.current(tenantId);
  const now = kernel.clock.now();
  const result = await kernel.transact(tenantId, async (atx) => {
    const subjects = await atx.tx
      .selectFrom('data_subjects')
      .select(['subject_id', 'erased_at'])
      .where('subject_id', 'in', ids)
      .orderBy('subject_id')
      .forUpdate()
      .execute();
    const erasedBefore = new Set(
      subjects.filter((row) => row.erased_at !== null).map((row) => row.subject_id),
    );
    const categories = [
      ...new Set(dataMap.flatMap((map) => Object.values(map.personal).map((column) => column.category))),
    ].filter((category) => policy.categories[category] !== undefined);
    const context = { tenantId, actor: options.actor, purpose: options.purpose };
    // Subjects not erased yet (and unknown numbers, which the gate refuses as not found).
    const fresh = ids.filter((id) => !erasedBefore.has(id));
    const { refused } =
      fresh.length > 0
        ? await authorizeBatch(kernel, atx, context, 'erase', categories, fresh)
        : { refused: [] as number[] };
    const again = ids.filter((id) => erasedBefore.has(id));
    if (again.length > 0) {
      // As for one subject: the actor must still be one who may erase under this purpose.
      await authorizeBatch(kernel, atx, context, 'erase', categories, []);
      atx.audit.record({
        actor: { kind: 'system', id: 'erasure' },
        role: null,
        purpose: options.purpose,
        action: 'erase',
        subjectIds: again,
        decision: 'allowed',
        reason: 'already_erased',
      });
    }
    // Subjects under an open hold are left out whole, like the refused (decision 0415).
    const heldSubjects = await findErasureHolds(
      atx.tx,
      dataMap,
      fresh.filter((id) => !refused.includes(id)),
      belgianDay(now),
    );
    const held = [...heldSubjects.keys()].sort((a, b) => a - b);
    const refusedSet = new Set([...refused, ...held]);
    const erasing = ids.filter((id) => !refusedSet.has(id));
    const outcomes = new Map<number, ErasureOutcome>(
      erasing.map((subjectId) => [
        subjectId,
        {
          subjectId,
          erased: [],
          kept: [],
          keptSilently: [],
          keyDestroyed: false,
          keyDestruction: 'not_needed',
          alreadyErased: erasedBefore.has(subjectId),
        },
      ]),
    );
    const heldEncrypted = new Set<number>();
    if (erasing.length > 0) {
      for (const map of dataMap) {
        if (!map.subjectColumn || !map.erasure) continue;
        const tableCategories = [...new Set(Object.values(map.personal).map((column) => column.category))];
        if (map.erasure.kind === 'held') {
          const hold = policy.legalHolds[map.erasure.legalHold];
          const counts = await countRowsOf(atx, map, erasing);
          if (counts.size === 0) continue;
          if (!hold)
            throw new AppError('invalid_policy', `legal hold ${map.erasure.legalHold} is not in the policy`);
          const retention = policy.retentionRules[hold.retention];
          const encrypted = Object.values(map.personal).some((column) => column.encrypted);
          for (const [subjectId, rows] of counts) {
            outcomes.get(subjectId)?.kept.push({
              table: map.table,
              rows,
              categories: tableCategories,
              legalHold: map.erasure.legalHold,
              legalReference: hold.legalReference,
              retention: retention ? describeRetention(retention) : hold.retention,
            });
            if (encrypted) heldEncrypted.add(subjectId);
          }
          continue;
        }
        const rule = map.keptWhileSilent;
        if (rule)
          for (const [subjectId, silenced] of await silencedRowsOf(atx, map, erasing, belgianDay(now)))
            outcomes.get(subjectId)?.keptSilently.push({ table: map.table, kind: rule.kind, ...silenced });
        const counts =
          map.erasure.kind === 'delete_rows'
            ? await deleteRowsOf(atx, map, erasing, belgianDay(now))
            : await nullColumnsOf(atx, map, erasing, Object.keys(map.personal));
        for (const [subjectId, rows] of counts)
          outcomes.get(subjectId)?.erased.push({ table: map.table, rows, categories: tableCategories });
      }
      const newlyErased = erasing.filter((id) => !erasedBefore.has(id));
      if (newlyErased.length > 0) {
        await atx.tx
          .updateTable('data_subjects')
          .set({
            erased_at: now,
            restricted_at: null,
            restriction_lift_on: null,
            minor_until: null,
            parental_consent_at: null,
          })
          .where('subject_id', 'in', newlyErased)
          .execute();
        await atx.tx.deleteFrom('subject_purpose_states').where('subject_id', 'in', newlyErased).execute();
      }
      const destructions = erasing.flatMap((subjectId) => {
        const scopes: Array<'subject' | 'dossier'> = heldEncrypted.has(subjectId)
          ? ['dossier']
          : ['subject', 'dossier'];
        return scopes.map((scope) => ({
          tenant_id: tenantId,
          subject_id: subjectId,
          key_scope: scope,
          requested_at: now,
        }));
      });
      for (let start = 0; start < destructions.length; start += 5000) {
        await atx.tx
          .insertInto('subject_key_destructions')
          .values(destructions.slice(start, start + 5000))
          .onConflict((conflict) => conflict.columns(['tenant_id', 'subject_id', 'key_scope']).doNothing())
          .execute();
      }
      for (const subjectId of erasing)
        if (!heldEncrypted.has(subjectId)) {
          const outcome = outcomes.get(subjectId);
          if (outcome) outcome.keyDestruction = 'scheduled';
        }
    }
    const list = [...outcomes.values()];
    await options.withinErasure?.(atx, list);
    // Everything written, nothing committed: a kill here rolls the whole batch back.
    await reachTestHook('erasure.batch-written');
    return { outcomes: list, refused, held };
  });
  await reachTestHook('erasure.batch-committed');
  const erased = result.outcomes.map((outcome) => outcome.subjectId);
  if (erased.length === 0) return result;
  await kernelCore(kernel)
    .erasureJournal.recordMany(tenantId, erased)
    .catch(() => undefined);
  const scheduled = result.outcomes
    .filter((outcome) => outcome.keyDestruction === 'scheduled')
    .map((outcome) => outcome.subjectId);
  // Best effort now, like one subject's; the erasure-finisher completes what this misses.
  const destroyed = await finishKeyDestructions(kernel, tenantId, scheduled, 'subject').catch(
    () => new Set<number>(),
  );
  for (const outcome of result.outcomes) outcome.keyDestroyed = destroyed.has(outcome.subjectId);
  await finishKeyDestructions(kernel, tenantId, erased, 'dossier').catch(() => undefined);
  return result;
}

/**
 * `finishKeyDestruction` for many subjects: one key-store statement, one data transaction that
 * marks the records and writes one `key.destroy` entry per reason naming the subjects. Returns the
 * subjects whose key is destroyed (now or before).
 */
export async function finishKeyDestructions(
  kernel: Kernel,
  tenantId: number,
  subjectIds: readonly number[],
  scope: 'subject' | 'dossier',
): Promise<Set<number>> {
  const done = new Set<number>();
  if (subjectIds.length === 0) return done;
  const keyring = keyringOf(kernel);
  if (scope === 'subject') await keyring.destroySubjectKeys(tenantId, subjectIds, 'dossier');
  const destroyedNow = await keyring.destroySubjectKeys(tenantId, subjectIds, scope);
  await reachTestHook(scope === 'subject' ? 'erasure.key-destroyed' : 'erasure.dossier-key-destroyed');
  const states = await keyring.subjectKeyStates(tenantId, subjectIds, scope);
  const reasons = new Map<string, number[]>();
  const finished: number[] = [];
  for (const subjectId of subjectIds) {
    const state = destroyedNow.has(subjectId) ? 'destroyed' : (states.get(subjectId) ?? 'none');
    if (state === 'live') continue;
    finished.push(subjectId);
    done.add(subjectId);
  }
  if (finished.length === 0) return done;
  await kernel.transact(tenantId, async (atx) => {
    const marked = await atx.tx
      .updateTable('subject_key_destructions')
      .set({ destroyed_at: kernel.clock.now() })
      .where('subject_id', 'in', finished)
      .where('key_scope', '=', scope)
      .where('destroyed_at', 'is', null)
      .returning('subject_id')
      .execute();
    for (const { subject_id: subjectId } of marked) {
      const state = destroyedNow.has(subjectId) ? 'destroyed' : (states.get(subjectId) ?? 'none');
      if (scope === 'dossier' && state === 'none') continue;
      const reason =
        scope === 'dossier' ? 'dossier_key_shredded' : state === 'destroyed' ? 'crypto_shredded' : 'no_key';
      reasons.set(reason, [...(reasons.get(reason) ?? []), subjectId]);
    }
    for (const [reason, subjects] of reasons)
      atx.audit.record({
        actor: { kind: 'system', id: 'erasure' },
        role: null,
        purpose: null,
        action: 'key.destroy',
        subjectIds: subjects,
        decision: 'allowed',
        reason,
      });
  });
  return done;
}

/**
 * Journals the erasures of a tenant that the key store's journal lacks (a crash between an
 * erasure's commit and its journal write). Idempotent; the server does it at every start, the
 * retention sweep before it runs.
 */
export async function journalPendingErasures(kernel: Kernel, tenantId: number): Promise<number> {
  return kernelCore(kernel).erasureJournal.reconcile(tenantId);
}

export interface EraseCategoriesOptions {
  tenantId: number;
  actor: Actor;
  purpose: string;
  subjectId: number;
  /** The categories to erase; the subject's other data stays, and so does the subject. */
  categories: readonly string[];
  /** Runs inside the erasure's transaction, after the data is gone (a deletion certificate). */
  withinErasure?: (atx: AuditedTx, outcome: CategoryErasureOutcome) => Promise<void>;
  /**
   * The journal replay: when each category was first erased. The data is marked with that time,
   * not now, so the replayed database is exactly up to the journal and a later backup of it that
   * holds data given again is not taken for one from before the erasure.
   */
  erasedAt?: ReadonlyMap<string, Date>;
}

export interface CategoryErasureOutcome {
  subjectId: number;
  erased: Array<{ table: string; rows: number; categories: string[] }>;
}

/**
 * Erases some categories of a subject (retention: a rule ended for them, not for the person), on
 * the same data-map walk and under the same erase grant as `eraseSubject`: a table whose personal
 * columns all fall in the categories is erased by its own rule (rows deleted or personal columns
 * nulled); otherwise only the columns of those categories are nulled. Tables under a legal hold
 * are left alone, and so is the subject's key (the rest of their data still needs it). Erasing
 * what is already gone changes nothing and reports nothing. The erasure is marked in the data
 * (subject_category_erasures, same transaction) and journalled in the key store right after
 * commit, so a restore of an older backup erases the categories again (decision 0111).
 */
export async function eraseCategories(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: EraseCategoriesOptions,
  /** 'journal': the replay after a restore; authorised when first made, audited as such. */
  mode: 'gate' | 'journal' = 'gate',
): Promise<CategoryErasureOutcome> {
  const wanted = new Set(options.categories);
  const result = await kernel.transact(options.tenantId, async (atx) => {
    // As a whole erasure does (decision 0622): a document drafted from the subject's data holds the
    // row FOR KEY SHARE (0584) and is committed first; one asked meanwhile waits for this erasure
    // and drafts from what is left.
    await atx.tx
      .selectFrom('data_subjects')
      .select('subject_id')
      .where('subject_id', '=', options.subjectId)
      .forUpdate()
      .execute();
    if (mode === 'journal') {
      atx.audit.record({
        actor: { kind: 'system', id: 'erasure-journal' },
        role: null,
        purpose: null,
        action: 'erase',
        categories: [...wanted],
        subjectIds: [options.subjectId],
        decision: 'allowed',
        reason: 'journal_replay',
      });
    } else {
      await kernel.gate.authorize(atx, options.actor, {
        purpose: options.purpose,
        action: 'erase',
        categories: [...wanted],
        subjectIds: [options.subjectId],
      });
    }
    const outcome: CategoryErasureOutcome = { subjectId: options.subjectId, erased: [] };
    for (const map of dataMap) {
      if (!map.subjectColumn || !map.erasure || map.erasure.kind === 'held') continue;
      const all = Object.entries(map.personal);
      const due = all.filter(([, column]) => wanted.has(column.category));
      if (due.length === 0) continue;
      const categories = [...new Set(due.map(([, column]) => column.category))];
      let rows: number;
      if (due.length === all.length) {
        rows =
          map.erasure.kind === 'delete_rows'
            ? await deleteRows(atx, map, options.subjectId, belgianDay(kernel.clock.now()))
            : await nullPersonal(atx, map, options.subjectId);
      } else {
        rows = await nullColumns(
          atx,
          map,
          options.subjectId,
          due.map(([column]) => column),
        );
      }
      if (rows > 0) outcome.erased.push({ table: map.table, rows, categories });
    }
    const erasedAt = kernel.clock.now();
    await atx.tx
      .insertInto('subject_category_erasures')
      .values(
        [...wanted].map((category) => ({
          tenant_id: options.tenantId,
          subject_id: options.subjectId,
          category,
          erased_at: options.erasedAt?.get(category) ?? erasedAt,
        })),
      )
      .onConflict((conflict) =>
        conflict.columns(['tenant_id', 'subject_id', 'category']).doUpdateSet({
          erased_at: sql<Date>`greatest(subject_category_erasures.erased_at, excluded.erased_at)`,
        }),
      )
      .execute();
    await options.withinErasure?.(atx, outcome);
    return outcome;
  });
  await reachTestHook('category-erasure.committed');
  // Best effort, like the person journal: every start and restore journals what this missed.
  await kernelCore(kernel)
    .erasureJournal.recordCategories(options.tenantId, options.subjectId)
    .catch(() => undefined);
  return result;
}

/**
 * Finishes what erasures kept under an authority's silence (decision 0470) once the silence has
 * ended: deletes the `keptWhileSilent` rows of erased subjects that no running silence covers
 * today. No gate decision: the subjects are erased already and these rows are what their erasure
 * left for later; the deletion is audited as an erasure of those subjects. Returns the rows
 * deleted. The retention sweep runs it.
 */
export async function eraseEndedSilences(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  tenantId: number,
): Promise<number> {
  const today = belgianDay(kernel.clock.now());
  return kernel.transact(tenantId, async (atx) => {
    let deleted = 0;
    const subjects = new Set<number>();
    for (const map of dataMap) {
      if (!map.keptWhileSilent || !map.subjectColumn) continue;
      const subject = sql.ref(`${map.table}.${map.subjectColumn}`);
      const result = await sql<{ subject_id: string | number }>`delete from ${sql.table(map.table)}
        where exists (select 1 from data_subjects erased where erased.tenant_id = ${sql.ref(`${map.table}.tenant_id`)}
                        and erased.subject_id = ${subject} and erased.erased_at is not null)
          ${notSilenced(map, today)}
        returning ${subject} as subject_id`.execute(atx.tx);
      deleted += result.rows.length;
      for (const row of result.rows) subjects.add(Number(row.subject_id));
    }
    if (subjects.size > 0)
      atx.audit.record({
        actor: { kind: 'system', id: 'erasure' },
        role: null,
        purpose: null,
        action: 'erase',
        subjectIds: [...subjects].sort((a, b) => a - b),
        records: deleted,
        decision: 'allowed',
        reason: 'silence_ended',
      });
    return deleted;
  });
}

/** An open hold that keeps a person from erasure: its kind, last day (none: until it is closed) and ground. */
export interface ErasureHold {
  kind: string;
  endsOn: string | null;
  ground: 'legal_claim' | 'running_contract';
}

/**
 * The open holds on subjects, from the data map's `holdsSubject` tables (decision 0415): a row
 * holds while its `openWhileNull` column is NULL and, with an `endsOn` column, up to that day (a
 * NULL end holds without end where the rule says so: a running contract, decision 0940).
 * Per subject, one entry per kind (the latest end; an open-ended one wins).
 */
export async function findErasureHolds(
  tx: AuditedTx['tx'],
  dataMap: readonly TableDataMap[],
  subjectIds: readonly number[],
  today: string,
): Promise<Map<number, ErasureHold[]>> {
  const found = new Map<number, ErasureHold[]>();
  if (subjectIds.length === 0) return found;
  for (const map of dataMap) {
    const rule = map.holdsSubject;
    if (!rule || !map.subjectColumn) continue;
    const subject = sql.ref(map.subjectColumn);
    const endsOn = rule.endsOn ? sql.ref(rule.endsOn) : undefined;
    const endless = endsOn !== undefined && rule.endlessWhileEndsOnNull === true;
    const ends = !endsOn
      ? sql`null::text`
      : endless
        ? sql`case when bool_or(${endsOn} is null) then null else max(${endsOn})::text end`
        : sql`max(${endsOn})::text`;
    const open = rule.openWhileNull ? sql`and ${sql.ref(rule.openWhileNull)} is null` : sql``;
    const stillRunning = !endsOn
      ? sql``
      : endless
        ? sql`and (${endsOn} is null or ${endsOn} >= ${today}::date)`
        : sql`and ${endsOn} >= ${today}::date`;
    const result = await sql<{
      subject_id: string | number;
      ends_on: string | null;
    }>`select ${subject} as subject_id, ${ends} as ends_on from ${sql.table(map.table)}
        where ${subject} = any(${[...subjectIds]}::bigint[]) ${open} ${stillRunning}
        group by ${subject}`.execute(tx);
    for (const row of result.rows) {
      const subjectId = Number(row.subject_id);
      const hold: ErasureHold = {
        kind: rule.kind,
        endsOn: row.ends_on,
        ground: rule.ground ?? 'legal_claim',
      };
      found.set(subjectId, [...(found.get(subjectId) ?? []), hold]);
    }
  }
  return found;
}

/** Whether an error is the refusal of an erasure under open holds (a legal claim or a running contract). */
export function isErasureHeld(error: unknown): boolean {
  return isAppError(error) && (error.code === 'erasure_held' || error.code === 'erasure_contract_running');
}

/**
 * The open holds that would stop an erasure of the subject now (the portal's erase page says so
 * before the person asks). Reads only whether a hold runs and until when, as the erasure does.
 */
export async function erasureHoldsOn(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  tenantId: number,
  subjectId: number,
): Promise<ErasureHold[]> {
  const today = belgianDay(kernel.clock.now());
  const found = await kernel.plain(tenantId, (tx) => findErasureHolds(tx, dataMap, [subjectId], today));
  return found.get(subjectId) ?? [];
}

/**
 * The refusal of an erasure under open holds: their kinds and ends, never their reasons. A legal
 * claim answers `erasure_held` (Art. 17(3)(e)); running contracts alone answer
 * `erasure_contract_running`: the contract still needs the data, end it first (decision 0940).
 */
function erasureHeld(holds: readonly ErasureHold[]): AppError {
  const words = holds
    .map((hold) =>
      hold.ground === 'running_contract'
        ? `${hold.kind} ${hold.endsOn ? `running until ${hold.endsOn}` : 'running without an end date'}`
        : hold.endsOn
          ? `${hold.kind} until ${hold.endsOn}`
          : `${hold.kind} until it is closed`,
    )
    .join(', ');
  const details = { holds: holds.map((hold) => ({ kind: hold.kind, endsOn: hold.endsOn })) };
  if (holds.every((hold) => hold.ground === 'running_contract')) {
    const message = `the person holds a contract that still runs (${words}); its data are needed to deliver and bill it (GDPR Art. 6(1)(b)): terminate the contract, then erase after its last day; nothing was erased`;
    return new AppError('erasure_contract_running', message, { publicMessage: message, details });
  }
  const message = `the person is kept for a legal claim (GDPR Art. 17(3)(e)): ${words}; nothing was erased`;
  return new AppError('erasure_held', message, { publicMessage: message, details });
}

async function countRows(atx: AuditedTx, map: TableDataMap, subjectId: number): Promise<number> {
  const result = await sql<{
    n: number;
  }>`select count(*)::int as n from ${sql.table(map.table)} where ${sql.ref(map.subjectColumn ?? '')} = ${subjectId}`.execute(
    atx.tx,
  );
  return result.rows[0]?.n ?? 0;
}

async function deleteRows(
  atx: AuditedTx,
  map: TableDataMap,
  subjectId: number,
  today: string,
): Promise<number> {
  const result =
    await sql`delete from ${sql.table(map.table)} where ${sql.ref(map.subjectColumn ?? '')} = ${subjectId} ${notSilenced(map, today)}`.execute(
      atx.tx,
    );
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * The condition that leaves out a table's rows under a running silence (`keptWhileSilent`,
 * decision 0470): none for other tables.
 */
function notSilenced(map: TableDataMap, today: string) {
  const rule = map.keptWhileSilent;
  if (!rule) return sql``;
  const linked = sql.ref(`${map.table}.${rule.via}`);
  return sql`and not exists (select 1 from ${sql.table(rule.table)} silence
    where silence.tenant_id = ${sql.ref(`${map.table}.tenant_id`)} and ${sql.ref(`silence.${rule.via}`)} = ${linked}
      and ${sql.ref(`silence.${rule.until}`)} >= ${today}::date)`;
}

/** Per subject: the rows of a `keptWhileSilent` table under a running silence, and its last day. */
async function silencedRowsOf(
  atx: AuditedTx,
  map: TableDataMap,
  subjectIds: readonly number[],
  today: string,
): Promise<Map<number, { rows: number; until: string }>> {
  const rule = map.keptWhileSilent;
  if (!rule || subjectIds.length === 0) return new Map();
  const subject = sql.ref(`${map.table}.${map.subjectColumn ?? ''}`);
  const result = await sql<{
    subject_id: string | number;
    n: number;
    until: string;
  }>`select ${subject} as subject_id, count(*)::int as n, max(${sql.ref(`silence.${rule.until}`)})::text as until
      from ${sql.table(map.table)} join ${sql.table(rule.table)} silence
        on silence.tenant_id = ${sql.ref(`${map.table}.tenant_id`)} and ${sql.ref(`silence.${rule.via}`)} = ${sql.ref(`${map.table}.${rule.via}`)}
     where ${subject} = any(${[...subjectIds]}::bigint[]) and ${sql.ref(`silence.${rule.until}`)} >= ${today}::date
     group by ${subject}`.execute(atx.tx);
  return new Map(result.rows.map((row) => [Number(row.subject_id), { rows: row.n, until: row.until }]));
}

async function nullPersonal(atx: AuditedTx, map: TableDataMap, subjectId: number): Promise<number> {
  return nullColumns(atx, map, subjectId, Object.keys(map.personal));
}

async function nullColumns(
  atx: AuditedTx,
  map: TableDataMap,
  subjectId: number,
  columns: readonly string[],
): Promise<number> {
  if (columns.length === 0) return 0;
  const assignments = columns.map((column) => sql`${sql.ref(column)} = null`);
  // Only rows that still hold something count: erasing again reports nothing erased.
  const holding = columns.map((column) => sql`${sql.ref(column)} is not null`);
  const result =
    await sql`update ${sql.table(map.table)} set ${sql.join(assignments)} where ${sql.ref(map.subjectColumn ?? '')} = ${subjectId} and (${sql.join(holding, sql` or `)})`.execute(
      atx.tx,
    );
  return Number(result.numAffectedRows ?? 0n);
}

/** Rows per subject of a table, for many subjects. */
async function countRowsOf(
  atx: AuditedTx,
  map: TableDataMap,
  subjectIds: readonly number[],
): Promise<Map<number, number>> {
  const column = sql.ref(map.subjectColumn ?? '');
  const result = await sql<{
    subject_id: string | number;
    n: number;
  }>`select ${column} as subject_id, count(*)::int as n from ${sql.table(map.table)} where ${column} = any(${[...subjectIds]}::bigint[]) group by ${column}`.execute(
    atx.tx,
  );
  return new Map(result.rows.map((row) => [Number(row.subject_id), row.n]));
}

/** Deletes many subjects' rows of a table in one statement; rows per subject. */
async function deleteRowsOf(
  atx: AuditedTx,
  map: TableDataMap,
  subjectIds: readonly number[],
  today: string,
): Promise<Map<number, number>> {
  const column = sql.ref(map.subjectColumn ?? '');
  const result = await sql<{
    subject_id: string | number;
  }>`delete from ${sql.table(map.table)} where ${column} = any(${[...subjectIds]}::bigint[]) ${notSilenced(map, today)} returning ${column} as subject_id`.execute(
    atx.tx,
  );
  return tally(result.rows);
}

/** Nulls columns of many subjects' rows in one statement (rows still holding something); rows per subject. */
async function nullColumnsOf(
  atx: AuditedTx,
  map: TableDataMap,
  subjectIds: readonly number[],
  columns: readonly string[],
): Promise<Map<number, number>> {
  if (columns.length === 0) return new Map();
  const column = sql.ref(map.subjectColumn ?? '');
  const assignments = columns.map((name) => sql`${sql.ref(name)} = null`);
  const holding = columns.map((name) => sql`${sql.ref(name)} is not null`);
  const result = await sql<{
    subject_id: string | number;
  }>`update ${sql.table(map.table)} set ${sql.join(assignments)} where ${column} = any(${[...subjectIds]}::bigint[]) and (${sql.join(holding, sql` or `)}) returning ${column} as subject_id`.execute(
    atx.tx,
  );
  return tally(result.rows);
}

function tally(rows: ReadonlyArray<{ subject_id: string | number }>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const row of rows) {
    const subjectId = Number(row.subject_id);
    counts.set(subjectId, (counts.get(subjectId) ?? 0) + 1);
  }
  return counts;
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
