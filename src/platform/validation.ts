import type { z } from 'zod';
import { AppError } from './errors.js';

/** `path: message; …` of every issue: what is wrong and where, never the rejected value. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
}

/** Parses input at a service boundary; bad input is a `validation_failed` naming each problem. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const message = describeIssues(parsed.error);
    throw new AppError('validation_failed', message, { publicMessage: message });
  }
  return parsed.data;
}
