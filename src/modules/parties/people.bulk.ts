import { AppError } from '../../platform/errors.js';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { registerSubjects } from '../../kernel/subjects/index.js';
import { insertPeopleRows, PERSON_COLUMN_CATEGORIES as C, type NewPersonRow } from './people.repository.js';
import type { UseCaseContext } from './people.service.js';

export type BulkPerson = Omit<NewPersonRow, 'subjectId' | 'at'> & { subjectType: string };

/**
 * Bulk path for demo data and migrations from other systems: one gate decision, one key-store
 * insert and a few multi-row inserts per batch instead of a round trip per person. Input must be
 * valid and normalised already (E.164 phones, lower-case e-mails): no per-row validation here.
 */
export async function createPeopleInBulk(
  kernel: Kernel,
  context: UseCaseContext,
  people: readonly BulkPerson[],
): Promise<number[]> {
  if (people.length === 0) return [];
  return kernel.transact(context.tenantId, (atx) => createPeopleInBulkWithin(kernel, atx, context, people));
}

/**
 * The same inside the caller's transaction, so a caller can make many batches all or nothing
 * (`kluis demo`: 20,000 people, or none when anything fails).
 */
export async function createPeopleInBulkWithin(
  kernel: Kernel,
  atx: AuditedTx,
  context: UseCaseContext,
  people: readonly BulkPerson[],
): Promise<number[]> {
  if (people.length === 0) return [];
  if (people.length > 5000)
    throw new AppError('validation_failed', 'bulk batch too large', {
      publicMessage: 'at most 5000 people per batch',
    });
  const categories = new Set<string>([C.name]);
  for (const person of people) {
    if (person.gender) categories.add(C.gender);
    if (person.preferredLanguage) categories.add(C.language);
    if (person.email) categories.add(C.email);
    if (person.phone) categories.add(C.phone);
    if (person.birthDate) categories.add(C.birthDate);
    if (person.address) categories.add(C.address);
    if (person.jobTitle || person.jobFunction || person.decisionAuthority !== null) categories.add(C.job);
    if (person.notes) categories.add(C.notes);
  }
  const at = kernel.clock.now();
  const subjectIds = await registerSubjects(
    atx,
    people.map((person) => person.subjectType),
    at,
  );
  await kernel.keys.createSubjectKeys(context.tenantId, subjectIds);
  const grant = await kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action: 'write',
    categories: [...categories],
    subjectIds,
  });
  const rows = people.map((person, index) => ({ ...person, subjectId: subjectIds[index] ?? 0, at }));
  await insertPeopleRows(atx.tx, grant, rows);
  return subjectIds;
}
