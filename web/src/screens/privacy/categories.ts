import type { TFunction } from 'i18next';
import './messages.js';

/** A data category of the policy in the staff member's words (the key when the screen has none). */
export function categoryLabel(t: TFunction, category: string): string {
  return t(`privacyWork.category.${category.replaceAll('.', '_')}`, { defaultValue: category });
}
