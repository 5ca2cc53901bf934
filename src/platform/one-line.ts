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

/**
 * What a free text meant to span lines (a description, a letter's paragraph) never holds: control
 * characters other than tab and line feed, and bidirectional overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069), which make a mailed text read otherwise than it was written. Decisions 0396, 0895.
 */
const NOT_MULTI_LINE = /(?![\n\t])[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

export const MULTI_LINE_MESSAGE =
  'text without control characters (other than line feed and tab) or text-direction overrides';

/**
 * A trimmed text of `min` to `max` characters that may span lines (decision 0895). Line ends are
 * taken as line feeds (a form's textarea posts CR LF).
 */
export function multiLineText(min: number, max: number) {
  return z
    .string()
    .overwrite((value) => value.replace(/\r\n?/g, '\n'))
    .trim()
    .min(min)
    .max(max)
    .refine((value) => !NOT_MULTI_LINE.test(value), MULTI_LINE_MESSAGE);
}
