import pg from 'pg';
import { warnOnConnectionLoss } from '../../platform/db.js';
import type { TableDataMap } from '../datamap/datamap.js';
import { kernelCore, type Kernel } from '../kernel.js';
import { eraseCategories, eraseSubject } from './erasure.service.js';
import { namedConnectionString } from '../../platform/server-sessions.js';

/** Erasures replayed from the journal run as the system; they were authorised when first made. */
export const JOURNAL_REPLAY_ACTOR = { kind: 'system', job: 'erasure-journal' } as const;
const REPLAY_PURPOSE = 'erasure_journal';

export interface ReplayOptions {
  /** Owner login of the data database: moves the subject id sequence past the journal. */
  ownerUrl: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ReplayResult {
  /** Erasures the data had that the journal lacked (now journalled). */
  journaled: number;
  /** Subjects that were back un-erased (an older data backup) and are erased again. */
  replayed: number;
  /** Category erasures the data had that the journal lacked (now journalled). */
  categoriesJournaled: number;
  /** Subjects some of whose categories were back (an older data backup) and are erased again. */
  categoriesReplayed: number;
}

/**
 * Brings the data up to the erasure journal: every person erased after the data backup was
 * made is erased again, by the same data-map walk as the first time (names, call records and
 * everything else no key protects; their encrypted fields stay unreadable because the key was
 * destroyed). Runs after every restore and at every start, before Kluis serves.
 */
export async function replayErasureJournal(
  kernel: Kernel,
  dataMap: readonly TableDataMap[],
  options: ReplayOptions,
): Promise<ReplayResult> {
  const tenants = await kernelCore(kernel)
    .db.selectFrom('tenants')
    .select(['tenant_id'])
    .orderBy('tenant_id')
    .execute();
  const result: ReplayResult = { journaled: 0, replayed: 0, categoriesJournaled: 0, categoriesReplayed: 0 };
  const work: Array<{ tenantId: number; subjectIds: number[] }> = [];
  let highest = 0;
  for (const { tenant_id: tenantId } of tenants) {
    result.journaled += await kernelCore(kernel).erasureJournal.reconcile(tenantId);
    highest = Math.max(
      highest,
      await kernelCore(kernel).erasureJournal.highestSubjectId(tenantId),
      await kernelCore(kernel).erasureJournal.highestKeyedSubjectId(tenantId),
    );
    const subjectIds = await kernelCore(kernel).erasureJournal.behind(tenantId);
    if (subjectIds.length > 0) work.push({ tenantId, subjectIds });
  }
  // A subject number of an erased person, or one with a data key (a person the restored data
  // lost, attack S25-8), is never handed to a new person.
  await moveSubjectSequencePast(options.ownerUrl, highest);
  const total = work.reduce((sum, item) => sum + item.subjectIds.length, 0);
  for (const { tenantId, subjectIds } of work) {
    for (const subjectId of subjectIds) {
      await eraseSubject(
        kernel,
        dataMap,
        { tenantId, actor: JOURNAL_REPLAY_ACTOR, purpose: REPLAY_PURPOSE, subjectId },
        'journal',
      );
      result.replayed += 1;
      options.onProgress?.(result.replayed, total);
    }
  }
  // Then the categories erased by themselves (retention) of people who are still there.
  for (const { tenant_id: tenantId } of tenants) {
    result.categoriesJournaled += await kernelCore(kernel).erasureJournal.reconcileCategories(tenantId);
    const behind = await kernelCore(kernel).erasureJournal.categoriesBehind(tenantId);
    for (const [subjectId, categories] of behind) {
      await eraseCategories(
        kernel,
        dataMap,
        {
          tenantId,
          actor: JOURNAL_REPLAY_ACTOR,
          purpose: REPLAY_PURPOSE,
          subjectId,
          categories: [...categories.keys()],
          erasedAt: categories,
        },
        'journal',
      );
      result.categoriesReplayed += 1;
    }
  }
  return result;
}

async function moveSubjectSequencePast(ownerUrl: string, highest: number): Promise<void> {
  if (highest === 0) return;
  const client = new pg.Client({ connectionString: namedConnectionString(ownerUrl, 'kluis-restore') });
  warnOnConnectionLoss(client, undefined, 'kluis-restore');
  await client.connect();
  try {
    const { rows } = await client.query<{ seq: string }>(
      `select pg_get_serial_sequence('data_subjects', 'subject_id') as seq`,
    );
    const seq = rows[0]?.seq;
    if (!seq) return;
    const current = await client.query<{ last_value: string }>(`select last_value from ${seq}`);
    if (Number(current.rows[0]?.last_value ?? 0) < highest) {
      await client.query('select setval($1::regclass, $2::bigint)', [seq, highest]);
    }
  } finally {
    await client.end();
  }
}
