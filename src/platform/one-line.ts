import { z } from 'zod';

/**
 * What a one-line field (a name, a street, a file name) never holds: control characters (CR, LF,
 * TAB, NUL …), line and paragraph separators, bidirectional overrides and isolates (U+202E shows
 * "txt.exe" as "exe.txt"), zero-width spaces and byte-order marks. Joiners (U+200C, U+200D) stay:
 * names in some scripts need them. Decision 0396.
 */
const NOT_ONE_LINE = /[\p{Cc}\u2028\u2029\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/u;

export const ONE_LINE_MESSAGE = 'one line of text, without control or text-direction characters';

/** A trimmed, non-empty one-line text of at most `max` characters. */
export function oneLineText(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !NOT_ONE_LINE.test(value), ONE_LINE_MESSAGE);
}
