import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import type { Actor } from '../../kernel/gate/gate.js';
import { registerSubject } from '../../kernel/subjects/index.js';
import { normalisePhoneNumber } from '../../kernel/identifiers/phone.js';
import { AppError } from '../../platform/errors.js';
import {
  insertPerson,
  selectPeople,
  selectSubjectIdsByBlindIndex,
  type PersonRecord,
} from './people.repository.js';

/** Who acts, for what, from where: plain data, never an HTTP request. */
export interface UseCaseContext {
  tenantId: number;
  actor: Actor;
  purpose: string;
  requestId?: string;
}

export const PERSON_CATEGORIES = {
  name: 'user.name',
  gender: 'user.demographic.gender',
  language: 'user.demographic.language',
  email: 'user.contact.email',
  phone: 'user.contact.phone_number',
} as const;

export const createPersonInputSchema = z.object({
  subjectType: z.string().regex(/^[a-z][a-z0-9_]*$/),
  familyName: z.string().trim().min(1).max(200),
  givenName: z.string().trim().min(1).max(200),
  gender: z.enum(['female', 'male', 'x']).nullish(),
  preferredLanguage: z.enum(['nl', 'fr', 'en', 'de']).nullish(),
  email: z.string().trim().toLowerCase().email('expected an e-mail address').nullish(),
  phone: z.string().trim().min(3).max(40).nullish(),
  source: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .default('data_subject'),
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
 * Registers a person as a data subject and stores their identifying and contact data under the
 * context's purpose (categories: user.name and, when given, gender, language, e-mail, phone).
 */
export async function createPerson(
  kernel: Kernel,
  context: UseCaseContext,
  input: CreatePersonInput,
): Promise<Person> {
  const parsed = createPersonInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError('validation_failed', 'invalid person', {
      publicMessage: parsed.error.issues
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; '),
    });
  }
  const data = parsed.data;
  const phone = data.phone ? normalisePhone(data.phone) : null;
  const categories: string[] = [PERSON_CATEGORIES.name];
  if (data.gender) categories.push(PERSON_CATEGORIES.gender);
  if (data.preferredLanguage) categories.push(PERSON_CATEGORIES.language);
  if (data.email) categories.push(PERSON_CATEGORIES.email);
  if (phone) categories.push(PERSON_CATEGORIES.phone);
  return kernel.transact(context.tenantId, async (atx) => {
    const at = kernel.clock.now();
    const subjectId = await registerSubject(atx, data.subjectType, at);
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'write',
      categories,
      subjectIds: [subjectId],
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    await insertPerson(atx.tx, grant, {
      subjectId,
      familyName: data.familyName,
      givenName: data.givenName,
      gender: data.gender ?? null,
      preferredLanguage: data.preferredLanguage ?? null,
      email: data.email ?? null,
      phone,
      source: data.source,
      at,
    });
    return {
      subjectId,
      subjectType: data.subjectType,
      familyName: data.familyName,
      givenName: data.givenName,
      gender: data.gender ?? null,
      preferredLanguage: data.preferredLanguage ?? null,
      email: data.email ?? null,
      phone,
      source: data.source,
    };
  });
}

/** The person's fields that the purpose covers; the rest is left out (need to know). */
export async function getPerson(kernel: Kernel, context: UseCaseContext, subjectId: number): Promise<Person> {
  return kernel.transact(context.tenantId, async (atx) => {
    const categories = await personCategoriesOfPurpose(kernel, context);
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories,
      subjectIds: [subjectId],
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    const [person] = await selectPeople(atx.tx, grant, [subjectId]);
    if (!person) throw new AppError('not_found', 'no such person', { publicMessage: 'no such person' });
    return person;
  });
}

/** Finds people by exact e-mail or phone through the blind index, then reads them under the purpose. */
export async function findPeopleByContact(
  kernel: Kernel,
  context: UseCaseContext,
  query: { email?: string; phone?: string },
): Promise<Person[]> {
  const byEmail = query.email !== undefined;
  const category = byEmail ? PERSON_CATEGORIES.email : PERSON_CATEGORIES.phone;
  const value = byEmail ? normaliseEmail(query.email ?? '') : normalisePhone(query.phone ?? '');
  return kernel.transact(context.tenantId, async (atx) => {
    const search = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [category],
      subjectIds: [],
    });
    const index = await search.blindIndex(category, byEmail ? 'email' : 'phone', value);
    const subjectIds = await selectSubjectIdsByBlindIndex(
      atx.tx,
      byEmail ? 'email_bidx' : 'phone_bidx',
      index,
    );
    if (subjectIds.length === 0) return [];
    const categories = await personCategoriesOfPurpose(kernel, context);
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories,
      subjectIds,
    });
    return selectPeople(atx.tx, grant, subjectIds);
  });
}

async function personCategoriesOfPurpose(kernel: Kernel, context: UseCaseContext): Promise<string[]> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const purpose = policy.purposes[context.purpose];
  const covered = new Set(purpose?.categories ?? []);
  return Object.values(PERSON_CATEGORIES).filter((category) => covered.has(category));
}
