import { randomBytes } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import { keyringOf, type Kernel } from '../src/kernel/kernel.js';
import { withTenant, type Db } from '../src/platform/db.js';
import { ownerQuery } from './harness.js';

/** What the baselines hand back: the person's row with e-mail and phone decrypted. */
export interface BarePerson {
  subjectId: number;
  subjectType: string;
  familyName: string | null;
  givenName: string | null;
  email: string | null;
  phone: string | null;
}

/**
 * An INSERT written by the bare read's statement (the second baseline of the gate figure: a read
 * that durably records itself): its text with parameters numbered after the select's `offset`.
 */
export type BareRecord = (offset: number) => { text: string; values: unknown[] };

/**
 * The physical limit of reading one person: the statement `selectPeople` runs (the row and its
 * subject type, by id or by e-mail blind index), and the decryption of e-mail and phone, in a
 * tenant transaction; no gate, no subject-state check, no audit. The baseline of the gate, HTTP
 * and search figures. With `record`, the same statement also inserts a row (the read's own
 * record), which makes the transaction a writing one whose commit waits for the WAL flush.
 */
export async function readPersonBare(
  db: Db,
  kernel: Kernel,
  tenantId: number,
  where: { subjectId: number } | { emailBidx: Buffer },
  options: { record?: BareRecord } = {},
): Promise<BarePerson | undefined> {
  return withTenant(db, tenantId, async (tx) => {
    let query = tx
      .selectFrom('people as p')
      .innerJoin('data_subjects as s', (join) =>
        join.onRef('s.tenant_id', '=', 'p.tenant_id').onRef('s.subject_id', '=', 'p.subject_id'),
      )
      .selectAll('p')
      .select('s.subject_type');
    query =
      'subjectId' in where
        ? query.where('p.subject_id', '=', (eb) => eb.fn.any(eb.val([where.subjectId])))
        : query.where('p.email_bidx', '=', where.emailBidx);
    const select = query.orderBy('p.subject_id').limit(100);
    let row: Awaited<ReturnType<typeof select.executeTakeFirst>>;
    if (options.record) {
      // The same select with the record's INSERT as a data-modifying CTE: still one statement.
      const compiled = select.compile();
      const { text, values } = options.record(compiled.parameters.length);
      const result = await tx.executeQuery<NonNullable<typeof row>>(
        CompiledQuery.raw(`with bench_record as (${text}) ${compiled.sql}`, [
          ...compiled.parameters,
          ...values,
        ]),
      );
      row = result.rows[0];
    } else {
      row = await select.executeTakeFirst();
    }
    if (!row) return undefined;
    const decrypt = async (column: 'email_enc' | 'phone_enc'): Promise<string | null> => {
      const value = row[column];
      return value
        ? keyringOf(kernel).decrypt(
            tenantId,
            row.subject_id,
            { table: 'people', column, rowId: String(row.subject_id) },
            value,
          )
        : null;
    };
    return {
      subjectId: row.subject_id,
      subjectType: row.subject_type,
      familyName: row.family_name,
      givenName: row.given_name,
      email: await decrypt('email_enc'),
      phone: await decrypt('phone_enc'),
    };
  });
}

/** Columns of audit_log that an entry fills (16 values, the shape of the read's entry). */
const RECORD_COLUMNS = `tenant_id, seq, at, actor_kind, actor_id, role, purpose, action, subject_pseudonyms,
  categories, records, decision, request_id, prev_hash, hash, mac`;

/**
 * The record of the durable baseline (decision 0450): creates `table` with audit_log's columns and
 * indexes (primary key and GIN; no chain, no head, no MAC computed) and answers an INSERT of one
 * row of the audit entry's shape per read, so that the read's commit waits for the WAL flush.
 */
export async function durableRecord(ownerUrl: string, tenantId: number, table: string): Promise<BareRecord> {
  await ownerQuery(
    ownerUrl,
    `create table ${table} (like audit_log including defaults including constraints including indexes)`,
  );
  await ownerQuery(ownerUrl, `grant insert on ${table} to kluis_app`);
  let recordSeq = 0;
  return (offset) => {
    recordSeq += 1;
    const values = [
      tenantId,
      recordSeq,
      new Date(),
      'staff',
      '1',
      'billing',
      'order_processing',
      'read',
      [randomBytes(32).toString('hex')],
      ['customer.identity', 'customer.contact'],
      1,
      'allowed',
      `req-${recordSeq}`,
      randomBytes(32),
      randomBytes(32),
      randomBytes(32),
    ];
    const placeholders = values.map((_, i) => `$${offset + i + 1}`).join(', ');
    return { text: `insert into ${table} (${RECORD_COLUMNS}) values (${placeholders})`, values };
  };
}
