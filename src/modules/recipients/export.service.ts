import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { disclose } from '../../kernel/disclosure/index.js';
import type { AccessContext } from '../../kernel/gate/access.js';
import type { Kernel } from '../../kernel/kernel.js';
import { csvRecord } from '../../platform/csv.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { readPeopleUnderGrant, type Person } from '../parties/index.js';

/**
 * The columns of a person a recipient's file can carry, by policy category, in the order the
 * file lists them. A recipient gets the columns of the categories it may receive, nothing more:
 * VoiceKing's e-mail processor (name, first name, language, gender, e-mail: VK-11) gets exactly
 * family_name, given_name, language, gender, email.
 */
const COLUMNS: ReadonlyArray<{ category: string; column: string; value: (person: Person) => unknown }> = [
  { category: 'user.name', column: 'family_name', value: (person) => person.familyName },
  { category: 'user.name', column: 'given_name', value: (person) => person.givenName },
  { category: 'user.demographic.language', column: 'language', value: (person) => person.preferredLanguage },
  { category: 'user.demographic.gender', column: 'gender', value: (person) => person.gender },
  { category: 'user.contact.email', column: 'email', value: (person) => person.email },
  { category: 'user.contact.phone_number', column: 'phone', value: (person) => person.phone },
  { category: 'user.contact.address', column: 'street', value: (person) => person.address?.street },
  { category: 'user.contact.address', column: 'postal_code', value: (person) => person.address?.postalCode },
  { category: 'user.contact.address', column: 'city', value: (person) => person.address?.city },
  { category: 'user.contact.address', column: 'country', value: (person) => person.address?.country },
];
const EXPORTABLE = new Set(COLUMNS.map((column) => column.category));

export const exportInputSchema = z.strictObject({
  subjectIds: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).min(1).max(10_000),
  /** Default: every category the recipient may receive that a person's file holds. */
  categories: z.array(z.string().max(120)).min(1).max(30).optional(),
});
export type ExportInput = z.infer<typeof exportInputSchema>;

export interface RecipientExport {
  disclosureId: number | null;
  reference: string;
  columns: string[];
  /** The file: a header line and one line per person disclosed. */
  csv: string;
  disclosed: number;
  /** Persons left out because of their own state (objection, restriction, other type). */
  leftOut: number;
}

/**
 * A file for a recipient in the layout import tools take (VK-11, VX-6): CSV with one column per
 * field the recipient may receive, one line per person. Goes through the kernel's door: the
 * recipient, the purpose and every category are checked against the policy, the persons against
 * the gate, and the disclosure is logged with the file's reference in the same transaction.
 * Reads user.name, user.demographic.*, user.contact.* under the context's purpose.
 */
export async function exportForRecipient(
  kernel: Kernel,
  context: AccessContext,
  recipientKey: string,
  input: unknown,
): Promise<RecipientExport> {
  const data = parseInput(exportInputSchema, input);
  const { policy } = await kernel.policies.current(context.tenantId);
  const recipient = Object.hasOwn(policy.recipients, recipientKey)
    ? policy.recipients[recipientKey]
    : undefined;
  const categories =
    data.categories ?? recipient?.categories.filter((category) => EXPORTABLE.has(category)) ?? [];
  const unsupported = categories.filter((category) => !EXPORTABLE.has(category));
  if (recipient && unsupported.length === 0 && categories.length === 0) {
    throw new AppError('validation_failed', 'nothing exportable', {
      publicMessage: `recipient ${recipientKey} receives nothing a person's file holds; a file for it cannot be made here`,
    });
  }
  const reference = `export:${randomUUID()}`;
  return kernel.transact(context.tenantId, async (atx) => {
    // The door first: an unknown recipient or a category it may not receive is refused as such.
    const disclosure = await disclose(kernel, atx, context.actor, {
      recipient: recipientKey,
      purpose: context.purpose,
      categories,
      subjectIds: data.subjectIds,
      reference,
      skipRefusedSubjects: true,
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    if (unsupported.length > 0) {
      throw new AppError('validation_failed', 'unsupported export categories', {
        publicMessage: `a person's file holds no ${unsupported.join(', ')}: export those another way`,
      });
    }
    const chosen = new Set(categories);
    const columns = COLUMNS.filter((column) => chosen.has(column.category));
    const people = await readPeopleUnderGrant(atx.tx, disclosure.grant, disclosure.subjectIds);
    const lines = [csvRecord(columns.map((column) => column.column))];
    for (const person of people) lines.push(csvRecord(columns.map((column) => column.value(person) ?? null)));
    return {
      disclosureId: disclosure.disclosureId,
      reference,
      columns: columns.map((column) => column.column),
      csv: lines.join(''),
      disclosed: people.length,
      leftOut: new Set(data.subjectIds).size - people.length,
    };
  });
}
