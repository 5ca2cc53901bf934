import { sql } from 'kysely';
import { withTenant, type Db } from '../../platform/db.js';
import type { KeystoreDb } from '../keyring/keystore.tables.js';

const BATCH = 1000;

export interface JournalEntry {
  subjectId: number;
  subjectCreatedAt: Date;
  erasedAt: Date;
}

/**
 * The erasure journal in the key store (migrations-keystore/0015): one line per erased subject,
 * no personal data. A data backup made before an erasure still holds the person's unencrypted
 * data (names, call records); every restore, and every start whose data is behind the journal,
 * erases them again from it (erasure-replay.ts).
 */
export class ErasureJournal {
  readonly #db: Db;
  readonly #keystore: KeystoreDb;

  constructor(db: Db, keystore: KeystoreDb) {
    this.#db = db;
    this.#keystore = keystore;
  }

  /** Records an erasure that the data database has committed (idempotent). */
  async record(tenantId: number, subjectId: number): Promise<void> {
    const subject = await withTenant(this.#db, tenantId, (tx) =>
      tx
        .selectFrom('data_subjects')
        .select(['subject_id', 'created_at', 'erased_at'])
        .where('subject_id', '=', subjectId)
        .executeTakeFirst(),
    );
    if (!subject?.erased_at) return;
    await this.#insert(tenantId, [
      { subjectId, subjectCreatedAt: subject.created_at, erasedAt: subject.erased_at },
    ]);
  }

  /** Records the erasures of many subjects the data database has committed, in one write (idempotent). */
  async recordMany(tenantId: number, subjectIds: readonly number[]): Promise<void> {
    if (subjectIds.length === 0) return;
    const subjects = await withTenant(this.#db, tenantId, (tx) =>
      tx
        .selectFrom('data_subjects')
        .select(['subject_id', 'created_at', 'erased_at'])
        .where('subject_id', 'in', [...subjectIds])
        .where('erased_at', 'is not', null)
        .execute(),
    );
    await this.#insert(
      tenantId,
      subjects.map((subject) => ({
        subjectId: subject.subject_id,
        subjectCreatedAt: subject.created_at,
        erasedAt: subject.erased_at ?? subject.created_at,
      })),
    );
  }

  /**
   * Journals every erased subject of the data that the journal lacks: an erasure whose process
   * died between its commit and the journal write, or a data backup newer than the key store.
   */
  async reconcile(tenantId: number): Promise<number> {
    let added = 0;
    let after = 0;
    for (;;) {
      const rows = await withTenant(this.#db, tenantId, (tx) =>
        tx
          .selectFrom('data_subjects')
          .select(['subject_id', 'created_at', 'erased_at'])
          .where('erased_at', 'is not', null)
          .where('subject_id', '>', after)
          .orderBy('subject_id')
          .limit(BATCH)
          .execute(),
      );
      if (rows.length === 0) return added;
      added += await this.#insert(
        tenantId,
        rows.map((row) => ({
          subjectId: row.subject_id,
          subjectCreatedAt: row.created_at,
          erasedAt: row.erased_at ?? row.created_at,
        })),
      );
      after = rows[rows.length - 1]?.subject_id ?? after;
    }
  }

  /**
   * The journalled subjects that the data holds again un-erased (restored from an older
   * backup). A subject number that was reused by a later person does not match: the creation
   * time differs.
   */
  async behind(tenantId: number): Promise<number[]> {
    const pending: number[] = [];
    let after = 0;
    for (;;) {
      const entries = await withTenant(this.#keystore, tenantId, (tx) =>
        tx
          .selectFrom('erasure_journal')
          .select(['subject_id', 'subject_created_at'])
          .where('subject_id', '>', after)
          .orderBy('subject_id')
          .limit(BATCH)
          .execute(),
      );
      if (entries.length === 0) return pending;
      const live = await withTenant(this.#db, tenantId, (tx) =>
        tx
          .selectFrom('data_subjects')
          .select(['subject_id', 'created_at'])
          .where(
            'subject_id',
            'in',
            entries.map((entry) => entry.subject_id),
          )
          .where('erased_at', 'is', null)
          .execute(),
      );
      const createdAt = new Map(live.map((row) => [row.subject_id, row.created_at.getTime()]));
      for (const entry of entries) {
        if (createdAt.get(entry.subject_id) === entry.subject_created_at.getTime()) {
          pending.push(entry.subject_id);
        }
      }
      after = entries[entries.length - 1]?.subject_id ?? after;
    }
  }

  /**
   * Journals the category erasures of a subject that the data has committed
   * (subject_category_erasures; idempotent). Called right after `eraseCategories` commits.
   */
  async recordCategories(tenantId: number, subjectId: number): Promise<void> {
    await this.#journalCategories(tenantId, subjectId, subjectId);
  }

  /** Journals every category erasure of the data that the journal lacks (see `reconcile`). */
  async reconcileCategories(tenantId: number): Promise<number> {
    return this.#journalCategories(tenantId, 1, Number.MAX_SAFE_INTEGER);
  }

  /**
   * The categories, per live subject, whose latest journalled erasure the data does not have
   * (restored from a backup made before it): they are erased again. A subject erased as a whole is
   * the person journal's; a reused subject number does not match (creation time).
   */
  async categoriesBehind(tenantId: number): Promise<Map<number, Map<string, Date>>> {
    const pending = new Map<number, Map<string, Date>>();
    let after = 0;
    for (;;) {
      const page = await withTenant(this.#keystore, tenantId, (tx) =>
        tx
          .selectFrom('category_erasure_journal')
          .select('subject_id')
          .distinct()
          .where('subject_id', '>', after)
          .orderBy('subject_id')
          .limit(BATCH)
          .execute(),
      );
      const ids = page.map((row) => row.subject_id);
      if (ids.length === 0) return pending;
      const entries = await withTenant(this.#keystore, tenantId, (tx) =>
        tx
          .selectFrom('category_erasure_journal')
          .select(['subject_id', 'subject_created_at', 'category'])
          .select((eb) => eb.fn.max('erased_at').as('erased_at'))
          .where('subject_id', 'in', ids)
          .groupBy(['subject_id', 'subject_created_at', 'category'])
          .execute(),
      );
      const [live, markers] = await withTenant(this.#db, tenantId, async (tx) => [
        await tx
          .selectFrom('data_subjects')
          .select(['subject_id', 'created_at'])
          .where('subject_id', 'in', ids)
          .where('erased_at', 'is', null)
          .execute(),
        await tx
          .selectFrom('subject_category_erasures')
          .select(['subject_id', 'category', 'erased_at'])
          .where('subject_id', 'in', ids)
          .execute(),
      ]);
      const createdAt = new Map(live.map((row) => [row.subject_id, row.created_at.getTime()]));
      const marked = new Map(
        markers.map((row) => [`${row.subject_id} ${row.category}`, row.erased_at.getTime()]),
      );
      for (const entry of entries) {
        if (createdAt.get(entry.subject_id) !== entry.subject_created_at.getTime()) continue;
        const journalled = new Date(entry.erased_at);
        const mark = marked.get(`${entry.subject_id} ${entry.category}`) ?? -Infinity;
        if (mark >= journalled.getTime()) continue;
        const categories = pending.get(entry.subject_id) ?? new Map<string, Date>();
        categories.set(entry.category, journalled);
        pending.set(entry.subject_id, categories);
      }
      after = ids[ids.length - 1] ?? after;
    }
  }

  async #journalCategories(tenantId: number, fromSubject: number, toSubject: number): Promise<number> {
    let added = 0;
    let after = { subjectId: fromSubject - 1, category: '' };
    for (;;) {
      const rows = await withTenant(this.#db, tenantId, (tx) =>
        tx
          .selectFrom('subject_category_erasures as e')
          .innerJoin('data_subjects as s', (join) =>
            join.onRef('s.tenant_id', '=', 'e.tenant_id').onRef('s.subject_id', '=', 'e.subject_id'),
          )
          .select(['e.subject_id', 'e.category', 'e.erased_at', 's.created_at'])
          .where((eb) =>
            eb.or([
              eb('e.subject_id', '>', after.subjectId),
              eb.and([eb('e.subject_id', '=', after.subjectId), eb('e.category', '>', after.category)]),
            ]),
          )
          .where('e.subject_id', '<=', toSubject)
          .orderBy('e.subject_id')
          .orderBy('e.category')
          .limit(BATCH)
          .execute(),
      );
      if (rows.length === 0) return added;
      const result = await withTenant(this.#keystore, tenantId, (tx) =>
        tx
          .insertInto('category_erasure_journal')
          .values(
            rows.map((row) => ({
              tenant_id: tenantId,
              subject_id: row.subject_id,
              subject_created_at: row.created_at,
              category: row.category,
              erased_at: row.erased_at,
            })),
          )
          .onConflict((oc) => oc.columns(['tenant_id', 'subject_id', 'category', 'erased_at']).doNothing())
          .executeTakeFirst(),
      );
      added += Number(result.numInsertedOrUpdatedRows ?? 0n);
      const last = rows[rows.length - 1];
      if (!last) return added;
      after = { subjectId: last.subject_id, category: last.category };
    }
  }

  /** The highest journalled subject number of a tenant (a restore moves the id sequence past it). */
  async highestSubjectId(tenantId: number): Promise<number> {
    const row = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .selectFrom('erasure_journal')
        .select((eb) => eb.fn.max('subject_id').as('highest'))
        .executeTakeFirst(),
    );
    return Number(row?.highest ?? 0);
  }

  /**
   * The highest subject number of a tenant with a data key in the key store, live or destroyed:
   * after a restore of older data, a person made since the backup still has a key there, and a
   * new person given that number would be sealed with it (attack S25-8).
   */
  async highestKeyedSubjectId(tenantId: number): Promise<number> {
    const row = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .selectFrom('data_keys')
        .select(sql<string | null>`max(owner_ref::bigint)`.as('highest'))
        .where('owner_kind', 'in', ['subject', 'dossier'])
        .executeTakeFirst(),
    );
    return Number(row?.highest ?? 0);
  }

  async #insert(tenantId: number, entries: JournalEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const result = await withTenant(this.#keystore, tenantId, (tx) =>
      tx
        .insertInto('erasure_journal')
        .values(
          entries.map((entry) => ({
            tenant_id: tenantId,
            subject_id: entry.subjectId,
            subject_created_at: entry.subjectCreatedAt,
            erased_at: entry.erasedAt,
          })),
        )
        .onConflict((oc) => oc.columns(['tenant_id', 'subject_id']).doNothing())
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
}
