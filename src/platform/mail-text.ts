/**
 * Values put into a plain-text mail body (a name, a number, a reason, a link) are one line each:
 * a CR, LF or other control character in them (a name typed as "Jan\r\nBcc: …") would otherwise
 * start a new line the builder did not write. Every mail builder folds what it interpolates.
 */
// C0 and C1 controls (TAB, CR, LF, NUL …), DEL, and the Unicode line and paragraph separators.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** The value on one line: each run of control characters becomes one space. */
export function inline(value: string): string {
  return value.replace(CONTROLS, ' ');
}

/**
 * Every string in the facts of a mail (members, arrays, nested objects) on one line; members
 * named in `keep` (text meant to span lines, e.g. a paragraph staff wrote) are left as they are.
 */
export function inlineFacts<T extends object>(facts: T, keep: readonly (keyof T)[] = []): T {
  const fold = (value: unknown): unknown => {
    if (typeof value === 'string') return inline(value);
    if (Array.isArray(value)) return value.map(fold);
    if (value !== null && typeof value === 'object' && !(value instanceof Date))
      return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, fold(member)]));
    return value;
  };
  return Object.fromEntries(
    Object.entries(facts).map(([key, value]) => [key, keep.includes(key as keyof T) ? value : fold(value)]),
  ) as T;
}
