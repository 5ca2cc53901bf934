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
