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
  password_repeated_character: 'must not be one character repeated',
  password_unchanged: 'must differ from the current password',
  password_context: 'must not contain the e-mail address, the organisation’s name or the tenant’s name',
  password_common: 'is a commonly used or breached password (or one with only digits or symbols added)',
};

const COMMON = new Set(dictionary['passwords-common']);

/** Letters and digits only, lower-cased: "Voice-King" and "voiceking" are one word here. */
const squash = (value: string): string => value.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

// The usual substitutions undone, so that "P@ssw0rd" reads as "password".
const UNLEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
};
const unleet = (value: string): string => value.replace(/[013457@$]/g, (c) => UNLEET[c] ?? c);

/**
 * Whether the password is on the list, or is a listed password with digits or symbols put before
 * or after it ("Password123!", "2026dragon!!"), with or without the usual substitutions.
 */
function isCommon(password: string): boolean {
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || COMMON.has(squash(lower))) return true;
  const core = lower.replace(/^[^\p{L}]+/u, '').replace(/[^\p{L}]+$/u, '');
  if (core.length < 4) return false;
  return COMMON.has(core) || COMMON.has(unleet(core)) || COMMON.has(squash(unleet(core)));
}

/** The context words to look for: each squashed, the short ones (under 4 characters) left out. */
function contextWords(context: PasswordContext): string[] {
  const words = [...context.words];
  if (context.email) {
    // The whole local part, not its pieces: "admin" of first-admin@… is a word, not the person.
    words.push(context.email, context.email.split('@')[0] ?? '');
  }
  return words.map(squash).filter((word) => word.length >= 4);
}

/** The first rule the new password breaks, or undefined when it may be used. */
export function passwordProblem(password: string, context: PasswordContext): PasswordRule | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return 'password_too_short';
  if (length > PASSWORD_MAX_LENGTH) return 'password_too_long';
  if (/^(.)\1*$/su.test(password)) return 'password_repeated_character';
  if (context.previous !== undefined && password.toLowerCase() === context.previous.toLowerCase())
    return 'password_unchanged';
  const squashed = squash(password);
  const unleeted = squash(unleet(password.toLowerCase()));
  if (contextWords(context).some((word) => squashed.includes(word) || unleeted.includes(word)))
    return 'password_context';
  if (isCommon(password)) return 'password_common';
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
