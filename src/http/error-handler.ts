import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { isDatabaseUnavailable } from '../platform/db.js';
import { describeUnexpected, isAppError, type ErrorCode } from '../platform/errors.js';

/** The only place where an error code becomes an HTTP status. */
export const STATUS_BY_CODE = {
  validation_failed: 400,
  sensitive_data_refused: 422,
  not_found: 404,
  tenant_not_found: 404,
  conflict: 409,
  unauthenticated: 401,
  forbidden: 403,
  rate_limited: 429,
  invalid_policy: 422,
  purpose_not_allowed: 403,
  role_not_allowed: 403,
  category_not_allowed: 403,
  subject_restricted: 403,
  subject_objected: 403,
  consent_missing: 403,
  subject_erased: 410,
  database_unavailable: 503,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}

const GENERIC_MESSAGE: Partial<Record<ErrorCode, string>> = {
  internal: 'internal error',
  unauthenticated: 'authentication required',
  forbidden: 'not allowed',
};

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const requestId = request.id;
  if (hasZodFastifySchemaValidationErrors(error)) {
    // Paths and expectations only; zod issues do not carry the rejected input.
    const details = error.validation.map((issue) => ({
      path: `${error.validationContext ?? 'body'}${issue.instancePath}`,
      message: issue.message,
    }));
    return send(reply, 'validation_failed', 'the request does not match the schema', requestId, details);
  }
  if (isAppError(error)) {
    const level = STATUS_BY_CODE[error.code] >= 500 ? 'error' : 'info';
    request.log[level]({ code: error.code, err: { message: error.message } }, 'request failed');
    const message = error.publicMessage ?? GENERIC_MESSAGE[error.code] ?? error.code.replaceAll('_', ' ');
    return send(reply, error.code, message, requestId, error.details);
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: { message: error.message } }, 'response did not match its schema');
    return send(reply, 'internal', 'internal error', requestId);
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported media type).
    return send(reply, 'validation_failed', error.message, requestId);
  }
  if (isDatabaseUnavailable(error)) {
    // Not the caller's fault and not an answer about their input (a login is not "wrong password").
    request.log.error({ err: describeUnexpected(error) }, 'database unavailable');
    return send(reply, 'database_unavailable', 'the database is unavailable; try again shortly', requestId);
  }
  if (isRejectedInputValue(error)) {
    // A value that passed the schema but that PostgreSQL cannot hold (an id beyond its integer
    // range, a NUL character in text): bad input, not a fault of ours.
    request.log.info({ err: describeUnexpected(error) }, 'request value refused by the database');
    return send(reply, 'validation_failed', 'a value in the request is out of range or not valid', requestId);
  }
  request.log.error({ err: describeUnexpected(error) }, 'unexpected error');
  return send(reply, 'internal', 'internal error', requestId);
}

/** PostgreSQL data exceptions that only a request value can cause (SQLSTATE class 22). */
const INPUT_SQLSTATES = new Set([
  '22003', // numeric_value_out_of_range
  '22007', // invalid_datetime_format
  '22008', // datetime_field_overflow
  '22021', // character_not_in_repertoire (NUL in text)
  '22P02', // invalid_text_representation
  '22P05', // untranslatable_character
]);

function isRejectedInputValue(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return error instanceof Error && typeof code === 'string' && INPUT_SQLSTATES.has(code);
}

function send(
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  requestId: string,
  details?: unknown,
): FastifyReply {
  const body: ErrorBody = {
    error: { code, message, requestId, ...(details === undefined ? {} : { details }) },
  };
  const status = STATUS_BY_CODE[code];
  // RFC 9110: a 401 names how to authenticate (an API token; the session cookie is not an HTTP scheme).
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="kluis"');
  return reply.status(status).type('application/json').send(body);
}
