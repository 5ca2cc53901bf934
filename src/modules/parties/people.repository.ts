import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';

export interface PersonRecord {
  subjectId: number;
  subjectType: string;
  familyName?: string | null;
  givenName?: string | null;
  gender?: 'female' | 'male' | 'x' | null;
  preferredLanguage?: 'nl' | 'fr' | 'en' | 'de' | null;
  email?: string | null;
  phone?: string | null;
  source: string;
}

export interface NewPersonRow {
  subjectId: number;
  familyName: string;
  givenName: string;
  gender: 'female' | 'male' | 'x' | null;
  preferredLanguage: 'nl' | 'fr' | 'en' | 'de' | null;
  email: string | null;
  phone: string | null;
  source: string;
  at: Date;
}

const ref = (column: string, subjectId: number) => ({ table: 'people', column, rowId: String(subjectId) });

/** Writes a person; e-mail and phone are encrypted and blind-indexed through the grant. */
export async function insertPerson(tx: Tx, grant: Grant, row: NewPersonRow): Promise<void> {
  grant.assertWritable();
  grant.assertCovers('user.name', row.subjectId);
  const email =
    row.email === null
      ? null
      : await grant.encrypt('user.contact.email', row.subjectId, ref('email_enc', row.subjectId), row.email);
  const phone =
    row.phone === null
      ? null
      : await grant.encrypt(
          'user.contact.phone_number',
          row.subjectId,
          ref('phone_enc', row.subjectId),
          row.phone,
        );
  await tx
    .insertInto('people')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      family_name: row.familyName,
      given_name: row.givenName,
      gender: row.gender,
      preferred_language: row.preferredLanguage,
      email_enc: email,
      email_bidx:
        row.email === null ? null : await grant.blindIndex('user.contact.email', 'email', row.email),
      phone_enc: phone,
      phone_bidx:
        row.phone === null ? null : await grant.blindIndex('user.contact.phone_number', 'phone', row.phone),
      source: row.source,
      created_at: row.at,
      updated_at: row.at,
    })
    .execute();
}

/** Reads people, returning only the fields whose category the grant covers (need to know). */
export async function selectPeople(
  tx: Tx,
  grant: Grant,
  subjectIds: readonly number[],
): Promise<PersonRecord[]> {
  if (subjectIds.length === 0) return [];
  const rows = await tx
    .selectFrom('people as p')
    .innerJoin('data_subjects as s', (join) =>
      join.onRef('s.tenant_id', '=', 'p.tenant_id').onRef('s.subject_id', '=', 'p.subject_id'),
    )
    .select([
      'p.subject_id',
      's.subject_type',
      'p.family_name',
      'p.given_name',
      'p.gender',
      'p.preferred_language',
      'p.email_enc',
      'p.phone_enc',
      'p.source',
    ])
    .where('p.subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .orderBy('p.subject_id')
    .execute();
  const covers = (category: string) => grant.categories.has(category);
  const people: PersonRecord[] = [];
  for (const row of rows) {
    const person: PersonRecord = {
      subjectId: row.subject_id,
      subjectType: row.subject_type,
      source: row.source,
    };
    if (covers('user.name')) {
      grant.assertCovers('user.name', row.subject_id);
      person.familyName = row.family_name;
      person.givenName = row.given_name;
    }
    if (covers('user.demographic.gender')) person.gender = row.gender;
    if (covers('user.demographic.language')) person.preferredLanguage = row.preferred_language;
    if (covers('user.contact.email')) {
      person.email =
        row.email_enc &&
        (await grant.decrypt(
          'user.contact.email',
          row.subject_id,
          ref('email_enc', row.subject_id),
          row.email_enc,
        ));
    }
    if (covers('user.contact.phone_number')) {
      person.phone =
        row.phone_enc &&
        (await grant.decrypt(
          'user.contact.phone_number',
          row.subject_id,
          ref('phone_enc', row.subject_id),
          row.phone_enc,
        ));
    }
    people.push(person);
  }
  return people;
}

/** Exact-match search through the blind index: no table is decrypted to find a person. */
export async function selectSubjectIdsByBlindIndex(
  tx: Tx,
  column: 'email_bidx' | 'phone_bidx',
  index: Buffer,
): Promise<number[]> {
  const rows = await tx.selectFrom('people').select('subject_id').where(column, '=', index).execute();
  return rows.map((row) => row.subject_id);
}
