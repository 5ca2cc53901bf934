import { sql } from 'kysely';
import type { Tx } from '../../platform/db.js';
import { oneLineText } from '../../platform/one-line.js';
import { z } from 'zod';
import { AccessDenied, NOT_AVAILABLE, type Actor, type Grant } from '../../kernel/gate/gate.js';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { authorityPurposeKeys, findPurpose } from '../../kernel/policy/policy.query.js';
import { registerSubject } from '../../kernel/subjects/index.js';
import { normalisePhoneNumber } from '../../kernel/identifiers/phone.js';
import {
  assertFreeTextAllowed,
  refuseSensitiveText,
  tableMap,
  type FreeTextValue,
} from '../../kernel/datamap/free-text.js';
import { partiesDataMap } from './datamap.js';
import { AppError, type UnreadableRecord } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import {
  insertPerson,
  PERSON_COLUMN_CATEGORIES as C,
  PERSON_SOURCES,
  selectPeople,
  peopleOfRows,
  peopleRowsSelect,
  selectSameTypeByEmail,
  selectSubjectIdsByBlindIndex,
  selectSubjectIdsByName,
  selectSubjectIdsPage,
  updatePersonRow,
  type PersonRecord,
} from './people.repository.js';

/** Who acts, for what, from where: plain data, never an HTTP request. */
export interface UseCaseContext {
  tenantId: number;
  actor: Actor;
  purpose: string;
  requestId?: string;
}

export const PERSON_CATEGORIES = C;

const isoDate = z.iso.date('expected a date as YYYY-MM-DD');

// Strict, like the token body (1002): an unknown key (`subjectId`, `id`) is a 400 naming it, so
// no client believes it chose what the server chooses (decision 1170).
export const createPersonInputSchema = z.strictObject({
  subjectType: z.string().regex(/^[a-z][a-z0-9_]*$/),
  familyName: oneLineText(200),
  givenName: oneLineText(200),
  gender: z.enum(['female', 'male', 'x']).nullish(),
  preferredLanguage: z.enum(['nl', 'fr', 'en', 'de']).nullish(),
  email: z.string().trim().toLowerCase().email('expected an e-mail address').nullish(),
  phone: z.string().trim().min(3).max(40).nullish(),
  birthDate: isoDate.nullish(),
  address: z
    .strictObject({
      street: oneLineText(200),
      postalCode: oneLineText(20),
      city: oneLineText(100),
      country: z
        .string()
        .regex(/^[A-Z]{2}$/, 'expected an ISO 3166 country code')
        .default('BE'),
    })
    .nullish(),
  jobTitle: oneLineText(200).nullish(),
  jobFunction: oneLineText(200).nullish(),
  decisionAuthority: z.boolean().nullish(),
  notes: z.string().trim().min(1).max(10_000).nullish(),
  organisationId: z.number().int().positive().nullish(),
  // Staff typing what the person told them (at the counter, on the phone) record the person as
  // the source: Art. 13, the statement's default for a category without a source (decision 1170).
  source: z.enum(PERSON_SOURCES).default('data_subject'),
});

export type CreatePersonInput = z.input<typeof createPersonInputSchema>;
export type Person = PersonRecord;

/** Normalised e-mail as stored and blind-indexed. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function normalisePhone(phone: string): string {
  const result = normalisePhoneNumber(phone, { defaultCountry: 'BE' });
  if (!result.ok) {
    throw new AppError('validation_failed', 'invalid phone number', {
      publicMessage: `phone: not a valid phone number (${result.reason})`,
    });
  }
  return result.e164;
}

/**
 * VK-16: free text is scanned before it is stored. A note holding a national register number,
 * an IBAN, a card number or special-category data is refused, naming the kind found, never
 * the value, unless the purpose is based on explicit consent for such data.
 */
export function assertNoForbiddenData(text: string, field: string, allowSpecial: boolean): void {
  if (!allowSpecial) refuseSensitiveText(text, field, 'all');
}

const PEOPLE_MAP = tableMap(partiesDataMap, 'people');

/** The free text of a person's fields, by the people table's data map (VK-16). */
function freeTextOf(data: {
  familyName?: string | null | undefined;
  givenName?: string | null | undefined;
  jobTitle?: string | null | undefined;
  jobFunction?: string | null | undefined;
  address?: { street: string; city: string } | null | undefined;
  notes?: string | null | undefined;
}): FreeTextValue[] {
  return [
    { column: 'family_name', field: 'familyName', value: data.familyName },
    { column: 'given_name', field: 'givenName', value: data.givenName },
    { column: 'job_title', field: 'jobTitle', value: data.jobTitle },
    { column: 'job_function', field: 'jobFunction', value: data.jobFunction },
    { column: 'address_enc', field: 'address.street', value: data.address?.street },
    { column: 'address_enc', field: 'address.city', value: data.address?.city },
    { column: 'notes_enc', field: 'notes', value: data.notes },
  ];
}

/** Age in whole years on a given day (both YYYY-MM-DD). */
export function ageOn(birthDate: string, day: string): number {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

export function addYears(date: string, years: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  // 29 February + N years falls on 1 March in a common year: the day the person has the age.
  const result = new Date(Date.UTC(y + years, m - 1, d));
  return result.toISOString().slice(0, 10);
}

function categoriesOf(data: z.output<typeof createPersonInputSchema>, phone: string | null): string[] {
  const categories: string[] = [C.name];
  if (data.gender) categories.push(C.gender);
  if (data.preferredLanguage) categories.push(C.language);
  if (data.email) categories.push(C.email);
  if (phone) categories.push(C.phone);
  if (data.birthDate) categories.push(C.birthDate);
  if (data.address) categories.push(C.address);
  if (data.jobTitle || data.jobFunction || data.decisionAuthority != null) categories.push(C.job);
  if (data.notes) categories.push(C.notes);
  return categories;
}

/**
 * The roles that do not register people: the privacy officer oversees the processing and advises
 * on it, so deciding whom the company records would make them judge their own work (GDPR Art.
 * 38(6), decision 1111). Rights requests, breaches and authority requests reach people on record
 * through their own doors.
 */
export const NON_REGISTERING_ROLES: ReadonlySet<string> = new Set(['privacy_officer']);

/** Refuses a role that does not register people (decision 1111): 403, nothing written. */
export function assertMayRegisterPeople(role: string): void {
  if (!NON_REGISTERING_ROLES.has(role)) return;
  throw new AppError('role_not_allowed', `role ${role} may not register people`, {
    publicMessage: `role ${role} may not register people: the privacy officer oversees the processing and does not decide whom the company records`,
  });
}

export interface CreatePersonOptions {
  /**
   * Refuse (409 `duplicate_person`, naming the existing person) when a person of the tenant has
   * this e-mail address: the staff route's double click or client retry (attack S20-4, decision 0953).
   */
  refuseDuplicateEmail?: boolean;
  /**
   * With `refuseDuplicateEmail`: the subjects of a type whose newsletter sign-up at the address is
   * confirmed or still waiting (the consent module's, given by the composition root). Such a
   * subscriber is the person being recorded (decisions 1020, 1140).
   */
  subscribersAt?: SubscribersAt;
}

/** The subjects of `subjectType`, not erased or restricted, with a confirmed or waiting sign-up at `email`. */
export type SubscribersAt = (
  tx: Tx,
  grant: Grant,
  subjectType: string,
  email: string,
  now: Date,
) => Promise<number[]>;

/** The lock per tenant and address under which a person's address is looked up and recorded (0953). */
async function lockPersonEmail(tx: Tx, grant: Grant, email: string): Promise<void> {
  const index = await grant.blindIndex(C.email, 'email', email);
  await sql`select pg_advisory_xact_lock(hashtextextended(${`kluis.person_email:${index.toString('hex')}`}, ${grant.tenantId}))`.execute(
    tx,
  );
}

/**
 * The person on record of a type, neither erased nor restricted, with this address (its blind
 * index through the caller's grant), under the same lock as the staff route's look-up: the public
 * newsletter form asks that person instead of making a second subject (attack S23-4, decision
 * 1140). Another module's door; it takes this lock before its own, the order the staff route
 * takes them in.
 */
export async function findPersonOfTypeAt(
  tx: Tx,
  grant: Grant,
  subjectType: string,
  email: string,
): Promise<number | undefined> {
  await lockPersonEmail(tx, grant, email);
  const [found] = await selectSameTypeByEmail(tx, grant, subjectType, email);
  return found;
}

/**
 * Under a lock per tenant and address (so five at once make one person), looks the address up by
 * its blind index among the people of the same type the caller's purpose writes; a match is
 * refused with the existing person's id. A person of another type (an applicant who is also a
 * customer) or one who restricted processing is not looked at: it would tell the caller of
 * someone its purpose does not reach (attack S21-B-1, S21-B-6). A subscriber of the same type at
 * the address (public form, or asked by staff), confirmed or still waiting for the click, is found
 * too (attack S21-B-4, S23-4; decisions 1020, 1140): one already on record is refused like any
 * person; one the form made, with no record, is returned — the new person's record is theirs, so
 * one subject holds the address, consents and record, whenever the click comes.
 */
async function findPersonWithEmail(
  atx: AuditedTx,
  grant: Grant,
  subjectType: string,
  email: string,
  subscribersAt: SubscribersAt | undefined,
  now: Date,
): Promise<number | undefined> {
  await lockPersonEmail(atx.tx, grant, email);
  const duplicate = (existing: number): AppError =>
    new AppError('duplicate_person', 'a person with this e-mail address exists', {
      publicMessage: `a person with this e-mail address exists: ${existing}`,
      details: { existingSubjectId: existing },
    });
  const [existing] = await selectSameTypeByEmail(atx.tx, grant, subjectType, email);
  if (existing !== undefined) throw duplicate(existing);
  const subscribers = (await subscribersAt?.(atx.tx, grant, subjectType, email, now)) ?? [];
  if (subscribers.length === 0) return undefined;
  const onRecord = await atx.tx
    .selectFrom('people')
    .select('subject_id')
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val(subscribers)))
    .orderBy('subject_id')
    .executeTakeFirst();
  if (onRecord) throw duplicate(onRecord.subject_id);
  return subscribers[0];
}

/**
 * Registers a person as a data subject and stores their data under the context's purpose; the
 * gate refuses any category the purpose does not cover. A birth date showing the person is
 * younger than the policy's age marks them as a minor (VK-15) until that day.
 */
export async function createPerson(
  kernel: Kernel,
  context: UseCaseContext,
  input: CreatePersonInput,
  options: CreatePersonOptions = {},
): Promise<Person> {
  const data = parseInput(createPersonInputSchema, input);
  const phone = data.phone ? normalisePhone(data.phone) : null;
  const { policy } = await kernel.policies.current(context.tenantId);
  assertFreeTextAllowed(PEOPLE_MAP, freeTextOf(data), {
    allowSpecial: findPurpose(policy, context.purpose)?.consent?.explicit === true,
  });
  const now = kernel.clock.now();
  const today = now.toISOString().slice(0, 10);
  if (data.birthDate && data.birthDate > today) {
    throw new AppError('validation_failed', 'birth date in the future', {
      publicMessage: 'birthDate: lies in the future',
    });
  }
  const minorAge = policy.minors.parentalConsentBelowAge;
  const minorUntil =
    data.birthDate && ageOn(data.birthDate, today) < minorAge ? addYears(data.birthDate, minorAge) : null;
  return kernel.transact(context.tenantId, async (atx) => {
    const categories = categoriesOf(data, phone);
    const authorizeWrite = (subjectIds: number[]): Promise<Grant> =>
      kernel.gate.authorize(atx, context.actor, {
        purpose: context.purpose,
        action: 'write',
        categories,
        subjectIds,
        ...(context.requestId ? { requestId: context.requestId } : {}),
      });
    // A subscriber the caller's purpose may not write to (an objection, a withdrawn consent) is
    // not named by a refusal: the person is then recorded as a new subject, as before 1020.
    const isWritable = async (candidate: number): Promise<boolean> => {
      try {
        await authorizeWrite([candidate]);
        return true;
      } catch (error) {
        if (error instanceof AccessDenied) return false;
        throw error;
      }
    };
    const subscriber =
      options.refuseDuplicateEmail && data.email
        ? await findPersonWithEmail(
            atx,
            await authorizeWrite([]),
            data.subjectType,
            data.email,
            options.subscribersAt,
            now,
          )
        : undefined;
    const subjectId =
      (subscriber !== undefined && (await isWritable(subscriber)) ? subscriber : undefined) ??
      (await registerSubject(atx, data.subjectType, now));
    if (minorUntil)
      await atx.tx
        .updateTable('data_subjects')
        .set({ minor_until: minorUntil })
        .where('subject_id', '=', subjectId)
        .execute();
    if (data.organisationId) {
      const organisation = await atx.tx
        .selectFrom('organisations')
        .select('organisation_id')
        .where('organisation_id', '=', data.organisationId)
        .executeTakeFirst();
      if (!organisation)
        throw new AppError('not_found', 'no such organisation', {
          publicMessage: 'organisationId: no such organisation',
        });
    }
    const grant = await authorizeWrite([subjectId]);
    await insertPerson(atx.tx, grant, {
      subjectId,
      familyName: data.familyName,
      givenName: data.givenName,
      gender: data.gender ?? null,
      preferredLanguage: data.preferredLanguage ?? null,
      email: data.email ?? null,
      phone,
      birthDate: data.birthDate ?? null,
      address: data.address ?? null,
      jobTitle: data.jobTitle ?? null,
      jobFunction: data.jobFunction ?? null,
      decisionAuthority: data.decisionAuthority ?? null,
      notes: data.notes ?? null,
      organisationId: data.organisationId ?? null,
      source: data.source,
      at: now,
    });
    const [created] = await selectPeople(atx.tx, grant, [subjectId]);
    if (!created) throw new AppError('internal', 'person vanished');
    return created;
  });
}

async function readUnderPurpose(
  kernel: Kernel,
  context: UseCaseContext,
  subjectIds: number[],
): Promise<Person[]> {
  if (subjectIds.length === 0) return [];
  const categories = await personCategoriesOfPurpose(kernel, context);
  const { policy } = await kernel.policies.current(context.tenantId);
  // An undeclared purpose is the gate's refusal (purpose_not_allowed, audited), not this one.
  if (categories.length === 0 && findPurpose(policy, context.purpose)) {
    // A purpose that covers no data of people (call records, the dossier) reads no person at all.
    // The gate refuses it (the role first, then the categories) and records the refusal like any
    // other (attack S7-4); the error below is only reached should the gate ever allow it.
    await kernel.transact(context.tenantId, (atx) =>
      kernel.gate.authorize(atx, context.actor, {
        purpose: context.purpose,
        action: 'read',
        categories: Object.values(C),
        subjectIds,
        ...(context.requestId ? { requestId: context.requestId } : {}),
      }),
    );
    throw new AppError('category_not_allowed', 'purpose covers no person data', {
      publicMessage: `purpose ${context.purpose} covers no data of people`,
    });
  }
  return kernel.transact(context.tenantId, (atx) =>
    readPeopleIn(kernel, atx, context, categories, subjectIds),
  );
}

/** The people as they read under the purpose, inside `atx`: the gate decides and records the read. */
async function readPeopleIn(
  kernel: Kernel,
  atx: AuditedTx,
  context: UseCaseContext,
  categories: string[],
  subjectIds: number[],
): Promise<Person[]> {
  // The subjects' states and their rows in one statement (decision 0370).
  const read = await kernel.gate.authorizeRead(
    atx,
    context.actor,
    {
      purpose: context.purpose,
      action: 'read',
      categories,
      subjectIds,
      ...(context.requestId ? { requestId: context.requestId } : {}),
    },
    peopleRowsSelect(atx.tx, subjectIds),
  );
  return peopleOfRows(read.grant, read.rows);
}

/** Refusals that depend on the subjects, not on the role or purpose: a list leaves those out. */
const SUBJECT_DENIALS: ReadonlySet<string> = new Set([
  'not_found',
  'subject_restricted',
  'subject_objected',
  'consent_missing',
  'subject_erased',
]);

/** What a list read gives: the people shown and those held back as unreadable (decision 1150). */
interface ListRead {
  subjectIds: number[];
  people: Person[];
  unreadable: UnreadableRecord[];
}

/** A list's batch read refused because of some of its people: rolled back, recorded by nobody. */
class RefusedForSomeOfTheList extends Error {}

/**
 * Reads a list under the purpose: one gate decision for the whole batch; when that is refused
 * because of some of the people (another subject type than the purpose's, restricted, objected,
 * erased …), that attempt rolls back without an audit entry, each person is decided alone, and only
 * the refused ones are left out, so one person the purpose does not cover neither empties the list
 * nor shows up as a refusal. Each person of the batch gets exactly one entry: the one "allowed"
 * entry of the people shown, or their own refusal (attack S7-3, decision 0520). A refusal of the
 * role or purpose itself still refuses the whole list. With `holdBackUnreadable`, a person whose
 * encrypted field does not open with this key store is left out and named in `unreadable` rather
 * than failing the whole list (attack S23B-3, decision 1150).
 */
async function readListUnderPurpose(
  kernel: Kernel,
  context: UseCaseContext,
  select: (atx: AuditedTx) => Promise<number[]>,
  holdBackUnreadable = false,
): Promise<ListRead> {
  const categories = await personCategoriesOfPurpose(kernel, context);
  if (categories.length === 0) {
    // No category of people under the purpose: the gate's refusal of the whole read (attack S7-4).
    const subjectIds = await kernel.transact(context.tenantId, select);
    return { subjectIds, people: await readUnderPurpose(kernel, context, subjectIds), unreadable: [] };
  }
  const request = {
    purpose: context.purpose,
    action: 'read' as const,
    categories,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  };
  let decideEach = false;
  // A person whose state changes between the per-person decisions and the read is sorted out again.
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await kernel.transact(context.tenantId, async (atx) => {
        // The selection (and its search entry) is redone with each attempt: one commit for both.
        const subjectIds = await select(atx);
        if (subjectIds.length === 0) return { subjectIds, people: [], unreadable: [] };
        let shown = subjectIds;
        if (decideEach) {
          const { allowed, refusals } = await kernel.gate.decideEach(atx, context.actor, {
            ...request,
            subjectIds,
          });
          // This transaction commits, so each refusal is recorded with it, in its own person's name.
          for (const refusal of refusals.values()) atx.audit.record(refusal.auditEvent);
          if (allowed.length === 0) return { subjectIds, people: [], unreadable: [] };
          shown = allowed;
        }
        try {
          const read = await kernel.gate.authorizeRead(
            atx,
            context.actor,
            { ...request, subjectIds: shown },
            peopleRowsSelect(atx.tx, shown),
          );
          if (holdBackUnreadable)
            return {
              subjectIds,
              ...(await peopleOfRows(read.grant, read.rows, { holdBackUnreadable: true })),
            };
          return { subjectIds, people: await peopleOfRows(read.grant, read.rows), unreadable: [] };
        } catch (error) {
          if (error instanceof AccessDenied && SUBJECT_DENIALS.has(error.code) && attempt < 3)
            throw new RefusedForSomeOfTheList();
          throw error;
        }
      });
    } catch (error) {
      if (!(error instanceof RefusedForSomeOfTheList)) throw error;
      decideEach = true;
    }
  }
}

/**
 * The person's fields that the purpose covers; the rest is left out (need to know). A person who
 * does not exist and one the purpose does not reach get the same answer (NOT_AVAILABLE, 404).
 */
export async function getPerson(kernel: Kernel, context: UseCaseContext, subjectId: number): Promise<Person> {
  const [person] = await readUnderPurpose(kernel, context, [subjectId]);
  if (!person) throw new AppError('not_found', 'no such person', { publicMessage: NOT_AVAILABLE });
  return person;
}

/**
 * Finds people by exact e-mail or phone through the blind index, then reads them under the purpose.
 * A person whose field does not open fails the search (`field_unreadable`): a rights request or a
 * portal account matched by address must not miss its person silently.
 */
export async function findPeopleByContact(
  kernel: Kernel,
  context: UseCaseContext,
  query: { email?: string; phone?: string },
): Promise<Person[]> {
  return (await searchPeopleByContact(kernel, context, query, false)).people;
}

/**
 * findPeopleByContact for the people list's search: a person whose field does not open is held
 * back and named in `unreadable` (attack S23B-3, decision 1150).
 */
export async function searchPeopleByContact(
  kernel: Kernel,
  context: UseCaseContext,
  query: { email?: string; phone?: string },
  holdBackUnreadable = true,
): Promise<{ people: Person[]; unreadable: UnreadableRecord[] }> {
  const byEmail = query.email !== undefined;
  const category = byEmail ? C.email : C.phone;
  const value = byEmail ? normaliseEmail(query.email ?? '') : normalisePhone(query.phone ?? '');
  // The search and the read of the people found commit together (one durable commit, not two).
  const found = await readListUnderPurpose(
    kernel,
    context,
    async (atx) => {
      const search = await kernel.gate.authorize(atx, context.actor, {
        purpose: context.purpose,
        action: 'read',
        categories: [category],
        subjectIds: [],
        ...(context.requestId ? { requestId: context.requestId } : {}),
      });
      const index = await search.blindIndex(category, byEmail ? 'email' : 'phone', value);
      return selectSubjectIdsByBlindIndex(atx.tx, byEmail ? 'email_bidx' : 'phone_bidx', index);
    },
    holdBackUnreadable,
  );
  return { people: found.people, unreadable: found.unreadable };
}

export interface PeoplePage {
  items: Person[];
  nextCursor: string | null;
  /** People the purpose may read but whose encrypted fields do not open: held back (decision 1150). */
  unreadable: UnreadableRecord[];
}

/**
 * A page of people, optionally by name or organisation, paged over the people the purpose may
 * read: the ids are taken in batches after the cursor and each batch is read under the purpose,
 * until the page is full or no id is left. The cursor is the id of the page's last item, so a page
 * (its items, its cursor, whether it has one) says nothing about a person it leaves out (decision
 * 0476; before, the cursor was the last id matched, a hidden person's id and a name oracle). A
 * batch asks for no more ids than the page still needs, so nobody is read who is not shown.
 */
export async function listPeople(
  kernel: Kernel,
  context: UseCaseContext,
  query: { name?: string; organisationId?: number; limit: number; cursor?: string },
): Promise<PeoplePage> {
  const afterSubjectId = query.cursor ? Number.parseInt(query.cursor, 10) : 0;
  if (!Number.isInteger(afterSubjectId) || afterSubjectId < 0 || afterSubjectId > 2 ** 31 - 1)
    throw new AppError('validation_failed', 'bad cursor', { publicMessage: 'cursor: invalid' });
  const organisation = query.organisationId !== undefined ? { organisationId: query.organisationId } : {};
  const items: Person[] = [];
  const unreadable: UnreadableRecord[] = [];
  let after = afterSubjectId;
  let searched = false;
  for (;;) {
    const page = { limit: query.limit - items.length, afterSubjectId: after, ...organisation };
    // A batch's ids and its people are read in one transaction (one durable commit).
    const batch = await readListUnderPurpose(
      kernel,
      context,
      async (atx) => {
        if (!searched)
          // The search itself (names of people) once per request; the gate decides each person below.
          await kernel.gate.authorize(atx, context.actor, {
            purpose: context.purpose,
            action: 'read',
            categories: [C.name],
            subjectIds: [],
            ...(context.requestId ? { requestId: context.requestId } : {}),
          });
        return query.name
          ? selectSubjectIdsByName(atx.tx, query.name, page)
          : selectSubjectIdsPage(atx.tx, page);
      },
      true,
    );
    // Only once committed: an attempt rolled back (decision 0520) took its search entry with it.
    searched = true;
    items.push(...batch.people);
    unreadable.push(...batch.unreadable);
    const ids = batch.subjectIds;
    const last = ids.at(-1);
    if (last === undefined || ids.length < page.limit || items.length >= query.limit) break;
    after = last;
  }
  const lastItem = items.at(-1);
  return {
    items,
    nextCursor: items.length === query.limit && lastItem ? String(lastItem.subjectId) : null,
    unreadable,
  };
}

async function personCategoriesOfPurpose(kernel: Kernel, context: UseCaseContext): Promise<string[]> {
  const { policy } = await kernel.policies.current(context.tenantId);
  // Under an authority's purpose a person is read only to be named in an authority request: what
  // goes to the authority leaves through the approved request's disclosure (decision 0816).
  const covered = new Set(findPurpose(policy, context.purpose)?.categories ?? []);
  if (authorityPurposeKeys(policy).includes(context.purpose)) return covered.has(C.name) ? [C.name] : [];
  return Object.values(C).filter((category) => covered.has(category));
}

/** The fields a person may have corrected (Art. 16). */
const CORRECTABLE = {
  familyName: true,
  givenName: true,
  gender: true,
  preferredLanguage: true,
  email: true,
  phone: true,
  address: true,
  jobTitle: true,
  jobFunction: true,
} as const;

export const rectificationSchema = createPersonInputSchema
  .pick(CORRECTABLE)
  .partial()
  .refine((changes) => Object.keys(changes).length > 0, 'name at least one field to correct');

export type Rectification = z.input<typeof rectificationSchema>;

/**
 * The staff route's PATCH: the corrections above plus the notes staff keep about the person
 * (category kluis.communication.correspondence), null to clear them. A rights request's
 * corrections stay without notes (decision 1220).
 */
export const personUpdateSchema = createPersonInputSchema
  .pick({ ...CORRECTABLE, notes: true })
  .partial()
  .refine((changes) => Object.keys(changes).length > 0, 'name at least one field to change');

export type PersonUpdate = z.input<typeof personUpdateSchema>;

/**
 * What rectifyPerson refuses, checked before anything is stored (a rights request is filed only
 * for corrections that can be applied): free text holding forbidden data (VK-16), a phone number
 * that is not one. The schema itself is the caller's to parse.
 */
export function checkRectification(changes: z.output<typeof rectificationSchema>): void {
  assertFreeTextAllowed(PEOPLE_MAP, freeTextOf(changes));
  if (changes.phone) normalisePhone(changes.phone);
}

/**
 * GDPR Art. 16: applies corrections to a person. The old values are overwritten (not kept); the
 * audit entry names the categories that changed, never the values.
 */
export async function rectifyPerson(
  kernel: Kernel,
  context: UseCaseContext,
  subjectId: number,
  input: Rectification,
): Promise<string[]> {
  const correction = prepareRectification(input);
  return kernel.transact(context.tenantId, async (atx) => {
    await applyRectification(kernel, atx, context, subjectId, correction);
    return correction.categories;
  });
}

/**
 * `rectifyPerson` inside the caller's transaction: the correction commits with what the caller
 * writes (a rights request marked fulfilled under its row lock, decision 0893). Returns the
 * categories that changed.
 */
export async function rectifyPersonWithin(
  kernel: Kernel,
  atx: AuditedTx,
  context: UseCaseContext,
  subjectId: number,
  input: Rectification,
): Promise<string[]> {
  const correction = prepareRectification(input);
  await applyRectification(kernel, atx, context, subjectId, correction);
  return correction.categories;
}

/**
 * A correction and the person as it now reads under the purpose, in ONE transaction with both
 * entries (the write's and the read's): the answer is what was committed, and a lost database
 * leaves either both or neither (attack S12-3, decision 0725). A read the gate refuses (a category
 * of the purpose this person's type does not have) refuses the correction with it.
 */
export async function rectifyAndReadPerson(
  kernel: Kernel,
  context: UseCaseContext,
  subjectId: number,
  input: PersonUpdate,
): Promise<Person> {
  const correction = prepareChanges(parseInput(personUpdateSchema, input));
  const categories = await personCategoriesOfPurpose(kernel, context);
  return kernel.transact(context.tenantId, async (atx) => {
    await applyRectification(kernel, atx, context, subjectId, correction);
    const [person] = await readPeopleIn(kernel, atx, context, categories, [subjectId]);
    if (!person) throw new AppError('internal', 'corrected person vanished');
    return person;
  });
}

interface PreparedRectification {
  changes: z.output<typeof personUpdateSchema>;
  categories: string[];
}

/** Parses and checks a correction before any transaction (VK-16, the phone number). */
function prepareRectification(input: Rectification): PreparedRectification {
  return prepareChanges(parseInput(rectificationSchema, input));
}

/** Checks parsed changes before any transaction (VK-16, the phone number) and names their categories. */
function prepareChanges(parsed: z.output<typeof personUpdateSchema>): PreparedRectification {
  assertFreeTextAllowed(PEOPLE_MAP, freeTextOf(parsed));
  const phone = parsed.phone ? normalisePhone(parsed.phone) : parsed.phone;
  const changes = { ...parsed, ...(phone !== undefined ? { phone } : {}) };
  const categories = new Set<string>();
  if (changes.familyName !== undefined || changes.givenName !== undefined) categories.add(C.name);
  if (changes.gender !== undefined) categories.add(C.gender);
  if (changes.preferredLanguage !== undefined) categories.add(C.language);
  if (changes.email !== undefined) categories.add(C.email);
  if (phone !== undefined) categories.add(C.phone);
  if (changes.address !== undefined) categories.add(C.address);
  if (changes.jobTitle !== undefined || changes.jobFunction !== undefined) categories.add(C.job);
  if (changes.notes !== undefined) categories.add(C.notes);
  return { changes, categories: [...categories] };
}

async function applyRectification(
  kernel: Kernel,
  atx: AuditedTx,
  context: UseCaseContext,
  subjectId: number,
  correction: PreparedRectification,
): Promise<void> {
  const grant = await kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action: 'write',
    categories: correction.categories,
    subjectIds: [subjectId],
    ...(context.requestId ? { requestId: context.requestId } : {}),
  });
  await updatePersonRow(atx.tx, grant, subjectId, correction.changes, kernel.clock.now());
}
