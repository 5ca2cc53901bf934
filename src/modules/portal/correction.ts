import { normalisePhoneNumber } from '../../kernel/identifiers/phone.js';
import { normaliseEmail, type Person } from '../parties/index.js';
import type { CorrectableField } from './texts.js';

/** What the "correct my data" form posts: each field as typed (trimmed), '' when left empty. */
export type TypedCorrection = Record<CorrectableField, string>;

export interface FormCorrection {
  /** The rectification to file: only what changed (the address whole, as the service takes it). */
  changes: Record<string, unknown>;
  /** The form's fields whose value changed, in the form's order: what the person is told. */
  changed: CorrectableField[];
}

const ADDRESS_PARTS = ['street', 'postalCode', 'city'] as const;

/** A typed phone number in the form it is stored in, or as typed when it is not one (the service refuses it). */
function phoneAsStored(typed: string): string {
  const result = normalisePhoneNumber(typed, { defaultCountry: 'BE' });
  return result.ok ? result.e164 : typed;
}

/**
 * The corrections a posted form asks for: only the fields whose value differs from the stored one
 * as the service would store it (an e-mail address in other capitals, a phone number in another
 * notation is no change). An empty name, e-mail or phone field asks for nothing. The address is one
 * value to the service: it is sent when one of its parts changed, and only those parts are counted.
 */
export function correctionOf(person: Person | undefined, typed: TypedCorrection): FormCorrection {
  const changed = new Set<CorrectableField>();
  for (const field of ['givenName', 'familyName'] as const)
    if (typed[field] !== '' && typed[field] !== (person?.[field] ?? '')) changed.add(field);
  if (typed.email !== '' && normaliseEmail(typed.email) !== (person?.email ?? '')) changed.add('email');
  if (typed.phone !== '' && phoneAsStored(typed.phone) !== (person?.phone ?? '')) changed.add('phone');
  const before = person?.address ?? undefined;
  for (const part of ADDRESS_PARTS) if (typed[part] !== (before?.[part] ?? '')) changed.add(part);

  const changes: Record<string, unknown> = {};
  for (const field of ['givenName', 'familyName', 'email', 'phone'] as const)
    if (changed.has(field)) changes[field] = typed[field];
  if (ADDRESS_PARTS.some((part) => changed.has(part)))
    changes.address = {
      street: typed.street,
      postalCode: typed.postalCode,
      city: typed.city,
      country: before?.country ?? 'BE',
    };
  const order: readonly CorrectableField[] = ['givenName', 'familyName', 'email', 'phone', ...ADDRESS_PARTS];
  return { changes, changed: order.filter((field) => changed.has(field)) };
}

/** The changed fields named in the page's address after a saved correction (`?done=street,city`). */
export function changedFieldsOf(
  done: string | undefined,
  fields: readonly CorrectableField[],
): CorrectableField[] {
  const named = new Set((done ?? '').split(','));
  return fields.filter((field) => named.has(field));
}
