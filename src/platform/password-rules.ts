import { dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from './errors.js';

/**
 * The one rule a new password must meet, for staff accounts and privacy-portal accounts alike
 * (NIST SP 800-63B §5.1.1.2; docs/decisions/1060). Pure and offline: the list of common passwords
 * ships inside the `@zxcvbn-ts/language-common` package (about 49,000 passwords seen most often in
 * breaches, lower-case), read once at start.
 */

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 200;

/** The stable codes of the rule, in the order they are checked (`details.rule` of the 400). */
export const PASSWORD_RULES = [
  'password_too_short',
  'password_too_long',
  'password_repeated_character',
  'password_unchanged',
  'password_context',
  'password_common',
] as const;

export type PasswordRule = (typeof PASSWORD_RULES)[number];

/** What a new password is compared with. */
export interface PasswordContext {
  /** The password being replaced, when known in plain (the caller verified it). */
  previous?: string | undefined;
  /** The account's e-mail address: neither it nor its local part may be in the password. */
  email?: string | undefined;
  /** Other words of the service: the tenant's slug, the controller's name. */
  words: readonly string[];
}

/** One English sentence per rule, naming the rule and never the password (for the API's 400). */
export const PASSWORD_RULE_MESSAGES: Record<PasswordRule, string> = {
  password_too_short: `at least ${PASSWORD_MIN_LENGTH} characters`,
  password_too_long: `at most ${PASSWORD_MAX_LENGTH} characters`,
  password_repeated_character:
    'must not be a short or easily guessed part repeated (like ababab… or dragondragon…)',
  password_unchanged: 'must differ from the current password',
  password_context: 'must not contain the e-mail address, the organisation’s name or the tenant’s name',
  password_common: 'is a commonly used or breached password (or one with only digits or symbols added)',
};

const COMMON = new Set(dictionary['passwords-common']);

/** Letters and digits only, lower-cased: "Voice-King" and "voiceking" are one word here. */
const squash = (value: string): string => value.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/**
 * The password as the checks read it: NFKC-folded (full-width "ＰＡＳＳ" and ligatures become
 * plain letters, so they cannot pass for something new) and lower-cased.
 */
const fold = (value: string): string => value.normalize('NFKC').toLowerCase();

// The usual substitutions undone, so that "P@ssw0rd" reads as "password" and "v0!c3k!ng" as
// "voiceking". `1`, `!` and `|` stand for "i" as often as for "l": both readings are tried.
const UNLEET: Record<string, string> = {
  '0': 'o',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '+': 't',
};
const unleetAs = (value: string, stroke: 'i' | 'l'): string =>
  value
    .replace(/\\\//g, 'v')
    .replace(/[03457@$+]/g, (c) => UNLEET[c] ?? c)
    .replace(/[1!|]/g, stroke);
/** The readings of a folded value with the substitutions undone (one per reading of `1!|`). */
const unleet = (value: string): string[] => [unleetAs(value, 'i'), unleetAs(value, 'l')];

/**
 * Whether the password is on the list, or is a listed password with digits or symbols put before
 * or after it ("Password123!", "2026dragon!!"), with or without the usual substitutions.
 */
function isCommon(folded: string): boolean {
  const listed = (value: string): boolean => COMMON.has(value) || COMMON.has(squash(value));
  // The core without what was put before or after it; a leading or trailing symbol may itself
  // stand for a letter ("$ecret-2026"), so the core is also tried with either end kept.
  const lead = /^[^\p{L}]*/u.exec(folded)?.[0] ?? '';
  const trail = /[^\p{L}]*$/u.exec(folded.slice(lead.length))?.[0] ?? '';
  const middle = folded.slice(lead.length, folded.length - trail.length);
  const cores = [middle, lead + middle, middle + trail].filter((value) => [...value].length >= 4);
  return [folded, ...cores].some((value) => listed(value) || unleet(value).some(listed));
}

/**
 * The unit a value repeats to its whole length at least twice, the last time possibly cut short
 * (`abab…` → `ab`, `dragondragondrag` → `dragon`); undefined when it repeats nothing.
 */
function repeatedUnit(value: string): string | undefined {
  const chars = [...value];
  for (let unit = 1; unit * 2 <= chars.length; unit += 1) {
    if (chars.every((char, i) => char === chars[i % unit])) return chars.slice(0, unit).join('');
  }
  return undefined;
}

/** A short end that may be put on a repetition: one to four digits or symbols, or one letter. */
const ADDED_HEAD = /^(?:[^\p{L}]{1,4}|\p{L})/u;
const ADDED_TAIL = /(?:[^\p{L}]{1,4}|\p{L})$/u;

/**
 * A reading with every short end that may have been put on it taken off, one end or both:
 * `dragondragondragon2026` and `1dragondragondragon` read `dragondragondragon`, `aaaaaaaaaaaab`
 * reads `aaaaaaaaaaaa`. Each run of one to four digits or symbols, and each single letter, is tried.
 */
function withoutAddedEnds(reading: string): string[] {
  const heads = [''];
  const tails = [''];
  const chars = [...reading];
  for (let size = 1; size <= 4 && size < chars.length; size += 1) {
    const head = chars.slice(0, size).join('');
    const tail = chars.slice(chars.length - size).join('');
    if (ADDED_HEAD.exec(head)?.[0] === head) heads.push(head);
    if (ADDED_TAIL.exec(tail)?.[0] === tail) tails.push(tail);
  }
  const cut: string[] = [];
  for (const head of heads) {
    for (const tail of tails) {
      if (head.length + tail.length === 0 || head.length + tail.length >= reading.length) continue;
      cut.push(reading.slice(head.length, reading.length - tail.length));
    }
  }
  return cut;
}

/**
 * The reading's letters alone, when its digits and symbols are fewer than its letters (so
 * `dragon1dragon2dragon3` reads `dragondragondragon`); undefined for a reading mostly of digits
 * and symbols, whose few letters say nothing of a repetition (`a8472916385a`).
 */
function lettersOnly(reading: string): string | undefined {
  const letters = reading.replace(/[^\p{L}]/gu, '');
  const others = [...reading].length - [...letters].length;
  return others > 0 && others < [...letters].length ? letters : undefined;
}

/**
 * Whether the password is one unit repeated that would be refused as a password of its own: NIST's
 * "repetitive" passwords. `dragondragondragon` is as easy to guess as `dragon`, so the unit is
 * judged by the whole rule (too short, common, context, the current one); a good passphrase said
 * twice stays a good passphrase. Read as the other checks read it: folded, with the substitutions
 * undone, and with the separators dropped (`Dragon-Dragon-Dragon!`); and, as a few digits add
 * little to a guess, also with a short end taken off (`dragondragondragon2026`) and with the
 * digits and symbols dropped (`dragon1dragon2dragon3`).
 */
function isRepetitive(folded: string, context: PasswordContext): boolean {
  const plain = new Set([folded, ...unleet(folded)].flatMap((value) => [value, squash(value)]));
  const readings = new Set(
    [...plain].flatMap((value) => [value, ...withoutAddedEnds(value), lettersOnly(value) ?? value]),
  );
  return [...readings].some((reading) => {
    const unit = repeatedUnit(reading);
    // The unit is shorter than the password, so this ends.
    return unit !== undefined && passwordProblem(unit, context) !== undefined;
  });
}

/** The context words to look for: each squashed, the short ones (under 4 characters) left out. */
function contextWords(context: PasswordContext): string[] {
  const words = [...context.words];
  if (context.email) {
    // The whole local part, not its pieces: "admin" of first-admin@… is a word, not the person.
    words.push(context.email, context.email.split('@')[0] ?? '');
  }
  return words.map((word) => squash(fold(word))).filter((word) => word.length >= 4);
}

/** The first rule the new password breaks, or undefined when it may be used. */
export function passwordProblem(password: string, context: PasswordContext): PasswordRule | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return 'password_too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'password_too_long';
  const folded = fold(password);
  if (isRepetitive(folded, context)) return 'password_repeated_character';
  if (context.previous !== undefined && folded === fold(context.previous)) return 'password_unchanged';
  const readings = [folded, ...unleet(folded)].map(squash);
  if (contextWords(context).some((word) => readings.some((reading) => reading.includes(word))))
    return 'password_context';
  if (isCommon(folded)) return 'password_common';
  return undefined;
}

/** The 400 for a refused new password: the rule's stable code in `details.rule`, the field named. */
export function passwordRefused(rule: PasswordRule, field: string): AppError {
  const message = `${field}: ${PASSWORD_RULE_MESSAGES[rule]}`;
  return new AppError('validation_failed', `new password refused (${rule})`, {
    publicMessage: message,
    details: { rule, issues: [{ path: `body/${field}`, message }] },
  });
}
