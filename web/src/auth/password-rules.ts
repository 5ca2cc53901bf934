import type { TFunction } from 'i18next';
import { ApiError } from '../api/client.js';

/** The server's bounds of a new password (src/platform/password-rules.ts, decision 1060). */
export const PASSWORD_MIN_LENGTH = 12;
const PASSWORD_MAX_LENGTH = 200;

/** The rules' stable codes the server answers in `details.rule` of a 400 (decision 1060). */
const PASSWORD_RULES = [
  'password_too_short',
  'password_too_long',
  'password_repeated_character',
  'password_unchanged',
  'password_context',
  'password_common',
] as const;

type PasswordRule = (typeof PASSWORD_RULES)[number];

const isPasswordRule = (value: unknown): value is PasswordRule =>
  typeof value === 'string' && (PASSWORD_RULES as readonly string[]).includes(value);

/**
 * The rule a refused new password broke, said in the screen's language (the server's sentence is
 * English); undefined for any other error, which the problem box then says.
 */
export function passwordRuleMessage(error: unknown, t: TFunction): string | undefined {
  if (!(error instanceof ApiError) || error.code !== 'validation_failed') return undefined;
  const rule = error.details?.['rule'];
  if (!isPasswordRule(rule)) return undefined;
  const count =
    rule === 'password_too_short'
      ? PASSWORD_MIN_LENGTH
      : rule === 'password_too_long'
        ? PASSWORD_MAX_LENGTH
        : undefined;
  return t(`password.rule.${rule}`, count === undefined ? {} : { count });
}
