import { sql, type CompiledQuery } from 'kysely';
import { boundQuery, type Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { decryptOrHoldBack, type UnreadableRecord } from '../../platform/errors.js';

export interface PostalAddress {
  street: string;
  postalCode: string;
  city: string;
  country: string;
}

/** A person as read under a grant: only the fields whose category the grant covers are set. */
export interface PersonRecord {
  subjectId: number;
  subjectType: string;
  source: string;
  organisationId: number | null;
  familyName?: string | null;
  givenName?: string | null;
  gender?: 'female' | 'male' | 'x' | null;
  preferredLanguage?: 'nl' | 'fr' | 'en' | 'de' | null;
  email?: string | null;
  phone?: string | null;
  birthDate?: string | null;
  address?: PostalAddress | null;
  jobTitle?: string | null;
  jobFunction?: string | null;
  decisionAuthority?: boolean | null;
  notes?: string | null;
}

/**
 * Where a person's data came from (GDPR Art. 13 or 14; the access report's "source"): the person
 * themselves, or the one outside source the seed policies declare, a credit reference agency.
 * A fixed list (decision 1170): a new source comes with the policy's words for it.
 */
export const PERSON_SOURCES = ['data_subject', 'credit_bureau'] as const;

export type PersonSource = (typeof PERSON_SOURCES)[number];

export interface NewPersonRow {
  subjectId: number;
  familyName: string;
  givenName: string;
  gender: 'female' | 'male' | 'x' | null;
  preferredLanguage: 'nl' | 'fr' | 'en' | 'de' | null;
  email: string | null;
  phone: string | null;
  birthDate: string | null;
  address: PostalAddress | null;
  jobTitle: string | null;
  jobFunction: string | null;
  decisionAuthority: boolean | null;
  notes: string | null;
  organisationId: number | null;
  source: PersonSource;
  at: Date;
}

export const PERSON_COLUMN_CATEGORIES = {
  name: 'user.name',
  gender: 'user.demographic.gender',
  language: 'user.demographic.language',
  email: 'user.contact.email',
  phone: 'user.contact.phone_number',
  birthDate: 'user.demographic.date_of_birth',
  address: 'user.contact.address',
  job: 'user.job_title',
  notes: 'kluis.communication.correspondence',
} as const;

const C = PERSON_COLUMN_CATEGORIES;
const ref = (column: string, subjectId: number) => ({ table: 'people', column, rowId: String(subjectId) });

async function encryptOptional(
  grant: Grant,
  category: string,
  subjectId: number,
  column: string,
  value: string | null,
): Promise<Buffer | null> {
  return value === null ? null : grant.encrypt(category, subjectId, ref(column, subjectId), value);
}

/** Writes a person; e-mail, phone, birth date, address and notes are encrypted through the grant. */
export async function insertPerson(tx: Tx, grant: Grant, row: NewPersonRow): Promise<void> {
  await insertPeopleRows(tx, grant, [row]);
}

/** Writes many people with multi-row inserts (1,000 rows per statement, under PostgreSQL's parameter limit). */
export async function insertPeopleRows(tx: Tx, grant: Grant, rows: readonly NewPersonRow[]): Promise<void> {
  grant.assertWritable();
  const values = [];
  for (const row of rows) {
    grant.assertCovers(C.name, row.subjectId);
    const id = row.subjectId;
    values.push({
      tenant_id: grant.tenantId,
      subject_id: id,
      family_name: row.familyName,
      given_name: row.givenName,
      gender: row.gender,
      preferred_language: row.preferredLanguage,
      email_enc: await encryptOptional(grant, C.email, id, 'email_enc', row.email),
      email_bidx: row.email === null ? null : await grant.blindIndex(C.email, 'email', row.email),
      phone_enc: await encryptOptional(grant, C.phone, id, 'phone_enc', row.phone),
      phone_bidx: row.phone === null ? null : await grant.blindIndex(C.phone, 'phone', row.phone),
      birth_date_enc: await encryptOptional(grant, C.birthDate, id, 'birth_date_enc', row.birthDate),
      address_enc: await encryptOptional(
        grant,
        C.address,
        id,
        'address_enc',
        row.address && JSON.stringify(row.address),
      ),
      job_title: row.jobTitle,
      job_function: row.jobFunction,
      decision_authority: row.decisionAuthority,
      notes_enc: await encryptOptional(grant, C.notes, id, 'notes_enc', row.notes),
      organisation_id: row.organisationId,
      source: row.source,
      created_at: row.at,
      updated_at: row.at,
    });
  }
  for (let start = 0; start < values.length; start += 1000) {
    await tx
      .insertInto('people')
      .values(values.slice(start, start + 1000))
      .execute();
  }
}

/** The people a read could open, and those it held back (`holdBackUnreadable`). */
export interface ReadablePeople {
  people: PersonRecord[];
  unreadable: UnreadableRecord[];
}

/** How a read of people goes (selectPeople, peopleOfRows). */
export interface PeopleReadOptions {
  /**
   * The caller's load of these people's data keys (`grant.loadKeys`), awaited only once the rows
   * are in: the read and the key store's answer overlap (decision 0750).
   */
  keysLoading?: Promise<void>;
  /**
   * For a list or a batch that goes on without a person it cannot open (decisions 1150, 1241): a
   * person with a field that does not open with this key store is held back and named in
   * `unreadable` (table, column, row id: nothing personal) instead of failing the read. Any other
   * error still fails it.
   */
  holdBackUnreadable?: boolean;
}

/** Reads people, returning only the fields whose category the grant covers (need to know). */
export async function selectPeople(
  tx: Tx,
  grant: Grant,
  subjectIds: readonly number[],
  options?: PeopleReadOptions & { holdBackUnreadable?: false },
): Promise<PersonRecord[]>;
export async function selectPeople(
  tx: Tx,
  grant: Grant,
  subjectIds: readonly number[],
  options: PeopleReadOptions & { holdBackUnreadable: true },
): Promise<ReadablePeople>;
export async function selectPeople(
  tx: Tx,
  grant: Grant,
  subjectIds: readonly number[],
  options: PeopleReadOptions = {},
): Promise<PersonRecord[] | ReadablePeople> {
  const holdBack = options.holdBackUnreadable === true;
  if (subjectIds.length === 0) return holdBack ? { people: [], unreadable: [] } : [];
  const rows = await peopleRowsQuery(tx, subjectIds).execute();
  await options.keysLoading;
  return holdBack ? peopleOfRows(grant, rows, { holdBackUnreadable: true }) : peopleOfRows(grant, rows);
}

/**
 * The statement selectPeople runs, unexecuted: a gated read hands it to the gate, which runs it
 * with the subject-state check in one round trip and gives the rows back only with its decision
 * (kernel.gate.authorizeRead, decision 0370). The rows go to peopleOfRows under that grant.
 */
export function peopleRowsQuery(tx: Tx, subjectIds: readonly number[]) {
  return tx
    .selectFrom('people as p')
    .innerJoin('data_subjects as s', (join) =>
      join.onRef('s.tenant_id', '=', 'p.tenant_id').onRef('s.subject_id', '=', 'p.subject_id'),
    )
    .selectAll('p')
    .select('s.subject_type')
    .where('p.subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .orderBy('p.subject_id');
}

/**
 * peopleRowsQuery's statement for a gated read: its text is the same for any list (one array
 * parameter), so it is compiled once and only the ids are bound per read (decision 0855).
 */
export function peopleRowsSelect(tx: Tx, subjectIds: readonly number[]): CompiledQuery<PersonRow> {
  peopleRowsTemplate ??= peopleRowsQuery(tx, []).compile();
  return boundQuery(peopleRowsTemplate, [[...subjectIds]]);
}
let peopleRowsTemplate: CompiledQuery<PersonRow> | undefined;

export type PersonRow = Awaited<ReturnType<ReturnType<typeof peopleRowsQuery>['execute']>>[number];

/**
 * People from their rows, with only the fields whose category the grant covers (need to know);
 * with `holdBackUnreadable`, without those it cannot open (named in `unreadable`).
 */
export async function peopleOfRows(
  grant: Grant,
  rows: readonly PersonRow[],
  options?: { holdBackUnreadable?: false },
): Promise<PersonRecord[]>;
export async function peopleOfRows(
  grant: Grant,
  rows: readonly PersonRow[],
  options: { holdBackUnreadable: true },
): Promise<ReadablePeople>;
export async function peopleOfRows(
  grant: Grant,
  rows: readonly PersonRow[],
  options: { holdBackUnreadable?: boolean } = {},
): Promise<PersonRecord[] | ReadablePeople> {
  await loadKeysOfRows(grant, rows);
  const people: PersonRecord[] = [];
  const unreadable: UnreadableRecord[] | undefined = options.holdBackUnreadable ? [] : undefined;
  for (const row of rows) {
    const person = await decryptOrHoldBack(String(row.subject_id), unreadable, () => personOfRow(grant, row));
    if (person) people.push(person);
  }
  return unreadable ? { people, unreadable } : people;
}

function coversEncrypted(grant: Grant): boolean {
  return [C.email, C.phone, C.birthDate, C.address, C.notes].some((category) =>
    grant.categories.has(category),
  );
}

/** One key-store read for the list's keys, not one per person (decision 0605). */
async function loadKeysOfRows(grant: Grant, rows: readonly PersonRow[]): Promise<void> {
  if (coversEncrypted(grant) && rows.length > 1) await grant.loadKeys(rows.map((row) => row.subject_id));
}

async function personOfRow(grant: Grant, row: PersonRow): Promise<PersonRecord> {
  const covers = (category: string): boolean => grant.categories.has(category);
  const id = row.subject_id;
  const decrypt = async (category: string, column: string, value: Buffer | null): Promise<string | null> =>
    value === null ? null : grant.decrypt(category, id, ref(column, id), value);
  const person: PersonRecord = {
    subjectId: id,
    subjectType: row.subject_type,
    source: row.source,
    organisationId: row.organisation_id,
  };
  if (covers(C.name)) {
    grant.assertCovers(C.name, id);
    person.familyName = row.family_name;
    person.givenName = row.given_name;
  }
  if (covers(C.gender)) person.gender = row.gender;
  if (covers(C.language)) person.preferredLanguage = row.preferred_language;
  if (covers(C.email)) person.email = await decrypt(C.email, 'email_enc', row.email_enc);
  if (covers(C.phone)) person.phone = await decrypt(C.phone, 'phone_enc', row.phone_enc);
  if (covers(C.birthDate))
    person.birthDate = await decrypt(C.birthDate, 'birth_date_enc', row.birth_date_enc);
  if (covers(C.address)) {
    const address = await decrypt(C.address, 'address_enc', row.address_enc);
    person.address = address === null ? null : (JSON.parse(address) as PostalAddress);
  }
  if (covers(C.job)) {
    person.jobTitle = row.job_title;
    person.jobFunction = row.job_function;
    person.decisionAuthority = row.decision_authority;
  }
  if (covers(C.notes)) person.notes = await decrypt(C.notes, 'notes_enc', row.notes_enc);
  return person;
}

/** Exact-match search through the blind index: no table is decrypted to find a person. */
export async function selectSubjectIdsByBlindIndex(
  tx: Tx,
  column: 'email_bidx' | 'phone_bidx',
  index: Buffer,
): Promise<number[]> {
  const rows = await tx
    .selectFrom('people')
    .select('subject_id')
    .where(column, '=', index)
    .orderBy('subject_id')
    .limit(100)
    .execute();
  return rows.map((row) => row.subject_id);
}

/**
 * The people of one subject type with this e-mail address (its blind index), neither erased nor
 * restricted: the duplicates a purpose that writes that type would also find by searching
 * (decision 0953 amended). Ids only.
 */
export async function selectSameTypeByEmail(
  tx: Tx,
  grant: Grant,
  subjectType: string,
  email: string,
): Promise<number[]> {
  const index = await grant.blindIndex(C.email, 'email', email);
  const rows = await tx
    .selectFrom('people as p')
    .innerJoin('data_subjects as s', (join) =>
      join.onRef('s.tenant_id', '=', 'p.tenant_id').onRef('s.subject_id', '=', 'p.subject_id'),
    )
    .select('p.subject_id')
    .where('p.email_bidx', '=', index)
    .where('s.subject_type', '=', subjectType)
    .where('s.erased_at', 'is', null)
    .where('s.restricted_at', 'is', null)
    .orderBy('p.subject_id')
    .limit(1)
    .execute();
  return rows.map((row) => row.subject_id);
}

/** Whether a subject has a person record (a subject the public form made may get one later, 1140). */
export async function hasPersonRecord(tx: Tx, subjectId: number): Promise<boolean> {
  const row = await tx
    .selectFrom('people')
    .select('subject_id')
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Search by (the start of) the family or given name, case-insensitive; a page of ids. */
export async function selectSubjectIdsByName(
  tx: Tx,
  name: string,
  page: { limit: number; afterSubjectId: number; organisationId?: number },
): Promise<number[]> {
  const pattern = `${name.toLowerCase().replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_')}%`;
  let query = tx
    .selectFrom('people')
    .select('subject_id')
    .where((eb) =>
      eb.or([eb(sql`lower(family_name)`, 'like', pattern), eb(sql`lower(given_name)`, 'like', pattern)]),
    )
    .where('subject_id', '>', page.afterSubjectId)
    .orderBy('subject_id')
    .limit(page.limit);
  if (page.organisationId !== undefined) query = query.where('organisation_id', '=', page.organisationId);
  const rows = await query.execute();
  return rows.map((row) => row.subject_id);
}

/** A page of all people's ids (for lists without a search). */
export async function selectSubjectIdsPage(
  tx: Tx,
  page: { limit: number; afterSubjectId: number; organisationId?: number },
): Promise<number[]> {
  let query = tx
    .selectFrom('people')
    .select('subject_id')
    .where('subject_id', '>', page.afterSubjectId)
    .orderBy('subject_id')
    .limit(page.limit);
  if (page.organisationId !== undefined) query = query.where('organisation_id', '=', page.organisationId);
  const rows = await query.execute();
  return rows.map((row) => row.subject_id);
}

export interface PersonChanges {
  familyName?: string | undefined;
  givenName?: string | undefined;
  gender?: 'female' | 'male' | 'x' | null | undefined;
  preferredLanguage?: 'nl' | 'fr' | 'en' | 'de' | null | undefined;
  email?: string | null | undefined;
  phone?: string | null | undefined;
  address?: PostalAddress | null | undefined;
  jobTitle?: string | null | undefined;
  jobFunction?: string | null | undefined;
  notes?: string | null | undefined;
}

/** Overwrites the given fields (encrypted ones re-encrypted, blind indexes recomputed). */
export async function updatePersonRow(
  tx: Tx,
  grant: Grant,
  subjectId: number,
  changes: PersonChanges,
  at: Date,
): Promise<void> {
  grant.assertWritable();
  const id = subjectId;
  const set: Record<string, unknown> = { updated_at: at };
  if (changes.familyName !== undefined) set.family_name = changes.familyName;
  if (changes.givenName !== undefined) set.given_name = changes.givenName;
  if (changes.gender !== undefined) set.gender = changes.gender;
  if (changes.preferredLanguage !== undefined) set.preferred_language = changes.preferredLanguage;
  if (changes.email !== undefined) {
    set.email_enc = await encryptOptional(grant, C.email, id, 'email_enc', changes.email);
    set.email_bidx = changes.email === null ? null : await grant.blindIndex(C.email, 'email', changes.email);
  }
  if (changes.phone !== undefined) {
    set.phone_enc = await encryptOptional(grant, C.phone, id, 'phone_enc', changes.phone);
    set.phone_bidx = changes.phone === null ? null : await grant.blindIndex(C.phone, 'phone', changes.phone);
  }
  if (changes.address !== undefined) {
    set.address_enc = await encryptOptional(
      grant,
      C.address,
      id,
      'address_enc',
      changes.address && JSON.stringify(changes.address),
    );
  }
  if (changes.jobTitle !== undefined) set.job_title = changes.jobTitle;
  if (changes.jobFunction !== undefined) set.job_function = changes.jobFunction;
  if (changes.notes !== undefined)
    set.notes_enc = await encryptOptional(grant, C.notes, id, 'notes_enc', changes.notes);
  if (changes.familyName !== undefined || changes.givenName !== undefined) grant.assertCovers(C.name, id);
  if (changes.jobTitle !== undefined || changes.jobFunction !== undefined) grant.assertCovers(C.job, id);
  if (changes.gender !== undefined) grant.assertCovers(C.gender, id);
  if (changes.preferredLanguage !== undefined) grant.assertCovers(C.language, id);
  await tx.updateTable('people').set(set).where('subject_id', '=', id).execute();
}
