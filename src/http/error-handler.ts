import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { CommitOutcomeUnknown, isDatabaseBusy, isDatabaseUnavailable } from '../platform/db.js';
import { committedDuring } from '../platform/request-scope.js';
import { answerStoppedHead } from './head.js';
import {
  describeUnexpected,
  ERROR_CODES,
  isAppError,
  type ErrorCode,
  type ProblemDetails,
} from '../platform/errors.js';

/** The only place where an error code becomes an HTTP status. */
export const STATUS_BY_CODE = {
  validation_failed: 400,
  malformed_request: 400,
  unsupported_media_type: 415,
  headers_too_large: 431,
  request_timeout: 408,
  sensitive_data_refused: 422,
  not_found: 404,
  tenant_not_found: 404,
  conflict: 409,
  idempotency_key_reused: 422,
  idempotency_in_progress: 409,
  unauthenticated: 401,
  forbidden: 403,
  step_up_required: 403,
  rate_limited: 429,
  export_in_progress: 429,
  exports_busy: 429,
  account_locked: 423,
  invalid_policy: 422,
  purpose_not_allowed: 403,
  role_not_allowed: 403,
  category_not_allowed: 403,
  recipient_not_allowed: 403,
  transfer_not_allowed: 403,
  subject_restricted: 403,
  subject_objected: 403,
  consent_missing: 403,
  subject_erased: 410,
  erasure_held: 409,
  erasure_contract_running: 409,
  holder_not_billable: 422,
  relation_ended: 409,
  duplicate_person: 409,
  mail_not_signed: 409,
  payload_too_large: 413,
  database_unavailable: 503,
  database_busy: 503,
  server_stopping: 503,
  audit_unavailable: 503,
  field_unreadable: 500,
  internal: 500,
} as const satisfies Record<ErrorCode, number>;

/** The short, fixed summary of each problem type (RFC 9457 `title`); `detail` says what happened. */
export const TITLE_BY_CODE = {
  validation_failed: 'The request is not valid',
  malformed_request: 'Malformed request',
  unsupported_media_type: 'Unsupported media type',
  headers_too_large: 'Request headers too large',
  request_timeout: 'Request timeout',
  sensitive_data_refused: 'Sensitive data refused',
  not_found: 'Not found',
  tenant_not_found: 'No such tenant',
  conflict: 'Conflict with the current state',
  idempotency_key_reused: 'Idempotency key reused for a different request',
  idempotency_in_progress: 'A request with this idempotency key is still running',
  unauthenticated: 'Authentication required',
  forbidden: 'Not allowed',
  step_up_required: 'A recent second factor is required',
  rate_limited: 'Too many requests',
  export_in_progress: 'An export of this data is already running',
  exports_busy: 'Every export connection is in use; try again shortly',
  account_locked: 'Account locked',
  invalid_policy: 'The policy is not valid',
  purpose_not_allowed: 'Purpose not allowed',
  role_not_allowed: 'Role not allowed',
  category_not_allowed: 'Data category not allowed',
  recipient_not_allowed: 'Recipient not allowed',
  transfer_not_allowed: 'Transfer outside the allowed region refused',
  subject_restricted: 'Processing restricted',
  subject_objected: 'The person objected',
  consent_missing: 'Consent missing',
  subject_erased: 'Erased',
  erasure_held: 'Kept under a legal hold',
  erasure_contract_running: 'A contract of the person still runs',
  holder_not_billable: 'No billing purpose covers this contract holder',
  relation_ended: 'The customer relation has ended',
  duplicate_person: 'A person with this e-mail address exists',
  mail_not_signed: "Mail would leave without the tenant's sender and DKIM signature",
  payload_too_large: 'Payload too large',
  database_unavailable: 'Database unavailable',
  database_busy: 'Every database connection is in use; try again shortly',
  server_stopping: 'The server is stopping; try again shortly',
  audit_unavailable: 'The audit log cannot take new entries',
  field_unreadable: 'An encrypted field cannot be read with this key store',
  internal: 'Internal error',
} as const satisfies Record<ErrorCode, string>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Where a problem type is described (RFC 9457 `type`, a URI reference resolved against the API). */
export function problemType(code: ErrorCode): string {
  return `/api/problems/${code}`;
}

/**
 * Every error leaves as an RFC 9457 problem: the standard members plus the stable `code`, the
 * request id and, when there is something structured to say, `details` (one shape: ProblemDetails).
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ErrorCode;
  requestId: string;
  details?: ProblemDetails;
}

const GENERIC_MESSAGE: Partial<Record<ErrorCode, string>> = {
  internal: 'internal error',
  unauthenticated: 'authentication required',
  forbidden: 'not allowed',
};

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (answerStoppedHead(request, reply, error)) return reply;
  // Answered 408 and closed while its body was arriving (decision 0865): the body's break-off that
  // follows (the parser's, the upload's) is that, already logged; the answer goes nowhere.
  if (ENDED_WHILE_ARRIVING.has(request.raw))
    return sendProblem(request, reply, 'request_timeout', FRAMEWORK_DETAIL.request_timeout);
  if (hasZodFastifySchemaValidationErrors(error)) {
    // Paths and expectations only; zod issues do not carry the rejected input.
    const issues = error.validation.flatMap((issue) => {
      const path = `${error.validationContext ?? 'body'}${issue.instancePath}`;
      // A strict body's unknown keys (1002, 1170): one issue at each key's own path, so a client
      // (and a form) sees which field was not taken.
      const keys: unknown = issue.keyword === 'unrecognized_keys' ? issue.params['keys'] : undefined;
      if (Array.isArray(keys) && keys.length > 0)
        // The key is the caller's own text: a few, cut short, as zod's message already said them.
        return keys.slice(0, 20).map((key) => {
          const name = String(key).slice(0, 100);
          return {
            path: `${path.replace(/\/$/, '')}/${name}`,
            message: `unknown field ${JSON.stringify(name)}`,
          };
        });
      return [{ path, message: issue.message ?? 'invalid' }];
    });
    return sendProblem(request, reply, 'validation_failed', 'the request does not match the schema', {
      issues,
    });
  }
  if (isAppError(error)) {
    const level = STATUS_BY_CODE[error.code] >= 500 ? 'error' : 'info';
    request.log[level]({ code: error.code, err: { message: error.message } }, 'request failed');
    const message = error.publicMessage ?? GENERIC_MESSAGE[error.code] ?? error.code.replaceAll('_', ' ');
    const retryAfter = error.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    return sendProblem(request, reply, error.code, message, error.details);
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: { message: error.message } }, 'response did not match its schema');
    return sendProblem(request, reply, 'internal', 'internal error');
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported media type). A fixed
    // detail: their messages can quote the body (JSON.parse does).
    const code = frameworkErrorCode(error.statusCode, error.code);
    request.log.info({ code, err: { code: error.code } }, 'request refused by the framework');
    return sendProblem(request, reply, code, FRAMEWORK_DETAIL[code], { reason: error.code });
  }
  if (error instanceof CommitOutcomeUnknown) {
    // The one 503 after which the change may exist: said, so a client checks or repeats safely.
    request.log.error({ err: describeUnexpected(error.cause) }, 'database lost during a commit');
    void reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    return sendProblem(request, reply, 'database_unavailable', COMMIT_OUTCOME_UNKNOWN, {
      outcome: 'unknown',
    });
  }
  if (isDatabaseBusy(error)) {
    // Every connection stayed in use while the server answers: not a lost database (decision 0787),
    // also after one of the request's transactions committed (decision 0812).
    request.log.warn({ err: describeUnexpected(error) }, 'database busy: no free connection');
    void reply.header('retry-after', String(BUSY_RETRY_AFTER_SECONDS));
    if (committedDuring(request))
      return sendProblem(request, reply, 'database_busy', BUSY_PARTLY_COMMITTED, { outcome: 'partial' });
    return sendProblem(
      request,
      reply,
      'database_busy',
      'every database connection is in use; nothing of this request was done; try again shortly',
    );
  }
  if (isDatabaseUnavailable(error)) {
    // Not the caller's fault and not an answer about their input (a login is not "wrong password").
    request.log.error({ err: describeUnexpected(error) }, 'database unavailable');
    void reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    if (committedDuring(request)) {
      // A request of several transactions lost the database after one of them committed: not
      // "nothing changed" (decision 0762).
      return sendProblem(request, reply, 'database_unavailable', PARTLY_COMMITTED, { outcome: 'partial' });
    }
    return sendProblem(
      request,
      reply,
      'database_unavailable',
      'the database is unavailable; try again shortly',
    );
  }
  if (isUniqueViolation(error)) {
    // Two requests that create the same thing at once: the loser's unique violation is the 409 the
    // later of two sequential ones answers (attack S20-3; decision 0920). The constraint is logged,
    // never sent: its detail quotes the values.
    request.log.info({ err: describeUnexpected(error) }, 'request refused: a unique key is taken');
    if (committedDuring(request))
      return sendProblem(request, reply, 'conflict', UNIQUE_TAKEN_PARTLY_COMMITTED, { outcome: 'partial' });
    return sendProblem(request, reply, 'conflict', UNIQUE_TAKEN);
  }
  if (isRejectedInputValue(error)) {
    // A value that passed the schema but that PostgreSQL cannot hold (an id beyond its integer
    // range, a NUL character in text): bad input, not a fault of ours.
    request.log.info({ err: describeUnexpected(error) }, 'request value refused by the database');
    return sendProblem(
      request,
      reply,
      'validation_failed',
      'a value in the request is out of range or not valid',
    );
  }
  request.log.error({ err: describeUnexpected(error) }, 'unexpected error');
  return sendProblem(request, reply, 'internal', 'internal error');
}

/** How long a client is asked to wait after `503 database_busy` (decision 0787). */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * How long a client is asked to wait after `503 database_unavailable` (decisions 0767, 0813): the
 * embedded server restarted by the watchdog answers within a few seconds; a frozen or lost one is
 * asked about again by the next request, which answers 503 again if it is still gone.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The detail of a 503 whose commit's outcome is unknown (decision 0725). */
export const COMMIT_OUTCOME_UNKNOWN =
  'the database was lost while this request was being committed: its changes may have been saved or not. ' +
  'A PATCH, PUT or DELETE can be repeated as it is; a POST only with the same Idempotency-Key, or after ' +
  'checking whether what it creates exists';

/** The detail of a 503 after one of the request's transactions committed (decision 0762). */
export const PARTLY_COMMITTED =
  'the database was lost part-way through this request, after one of its transactions had committed: ' +
  'part of its work may have been saved (an attempt counted, a step of a longer task). Check the state ' +
  'before repeating it; a PATCH, PUT or DELETE can be repeated as it is';

/** The detail of a `503 database_busy` after one of the request's transactions committed (decision 0812). */
export const BUSY_PARTLY_COMMITTED =
  'every database connection stayed in use part-way through this request, after one of its transactions had ' +
  'committed: part of its work may have been saved (an attempt counted, a step of a longer task). Check the ' +
  'state before repeating it; a PATCH, PUT or DELETE can be repeated as it is';

type FrameworkErrorCode =
  | 'validation_failed'
  | 'malformed_request'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'headers_too_large'
  | 'request_timeout';

const FRAMEWORK_DETAIL: Record<FrameworkErrorCode, string> = {
  validation_failed: 'the request does not match the schema',
  malformed_request:
    'the request is malformed (a body that is not what its Content-Type says, a bad header or length)',
  payload_too_large: 'the request body is larger than this route accepts',
  unsupported_media_type: 'this route does not accept a body of this Content-Type',
  headers_too_large: 'the request headers are too large',
  request_timeout: 'the request was not received in time',
};

/** The stable code of a client error Fastify or Node's HTTP parser raised, by its status. */
function frameworkErrorCode(status: number, code: string | undefined): FrameworkErrorCode {
  if (code === 'FST_ERR_VALIDATION') return 'validation_failed';
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 431) return 'headers_too_large';
  if (status === 408) return 'request_timeout';
  return 'malformed_request';
}

/**
 * Node's HTTP parser refuses some requests before Fastify sees them (headers too large, a bad
 * header name, a request that never ends): answered as problems like any other, on the socket
 * itself, then the connection is closed (its parser state is lost). Installed as Fastify's
 * `clientErrorHandler`.
 */
export function writeClientErrorProblem(
  error: Error & { code?: string; rawPacket?: unknown },
  socket: {
    writable: boolean;
    destroyed: boolean;
    end(data: string, flushed: () => void): void;
    destroy(): void;
  },
): void {
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  const code: FrameworkErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'headers_too_large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request_timeout'
        : 'malformed_request';
  const status = STATUS_BY_CODE[code];
  const requestId = randomUUID();
  const body = JSON.stringify({
    type: problemType(code),
    title: TITLE_BY_CODE[code],
    status,
    detail: FRAMEWORK_DETAIL[code],
    instance: `urn:kluis:request:${requestId}`,
    code,
    requestId,
    ...(error.code === undefined ? {} : { details: { reason: error.code } }),
  } satisfies Problem);
  socket.end(
    `HTTP/1.1 ${status} ${TITLE_BY_CODE[code]}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    // end() only half-closes, and the server's sockets allow half-open: a client that never reads
    // would keep this one, and its file, for as long as it lives (attack S17-1). Closed once the
    // answer is handed to the kernel, which still delivers it before the FIN.
    () => socket.destroy(),
  );
}

/** Requests whose body did not arrive in time, answered and closed by endWhileArriving. */
const ENDED_WHILE_ARRIVING = new WeakSet<IncomingMessage>();

/**
 * Ends a request whose body is not arriving in time (decision 0865) as Node ends one past its
 * `requestTimeout`: `408 request_timeout` on the socket, which is then destroyed.
 */
export function endWhileArriving(request: IncomingMessage, socket: Socket): void {
  ENDED_WHILE_ARRIVING.add(request);
  writeClientErrorProblem(
    Object.assign(new Error('body not received in time'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }),
    socket,
  );
}

/** The detail of a 409 from a unique violation (decision 0920): names neither table nor values. */
export const UNIQUE_TAKEN =
  'what this request would create already exists (it was made at the same moment by another request); nothing was changed';

/** The same after one of the request's transactions committed (decision 0762). */
export const UNIQUE_TAKEN_PARTLY_COMMITTED =
  'what this request would create already exists (it was made at the same moment by another request); part of ' +
  'its work may have been saved before that. Check the state before repeating it';

/**
 * PostgreSQL's unique violation (23505) on a table a request writes. The audit chain's own key is
 * left out: a taken seq is a broken chain (decision 0680), handled where it is appended.
 */
function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const fields = error as Error & { code?: unknown; constraint?: unknown };
  return fields.code === '23505' && fields.constraint !== 'audit_log_pkey';
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

/** Sends an error as `application/problem+json`; also used for unknown routes. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  details?: ProblemDetails,
): FastifyReply {
  const status = STATUS_BY_CODE[code];
  const body: Problem = {
    type: problemType(code),
    title: TITLE_BY_CODE[code],
    status,
    detail,
    // The occurrence, by request id: the URL may hold a token, so it is not echoed.
    instance: `urn:kluis:request:${request.id}`,
    code,
    requestId: request.id,
    ...(details === undefined ? {} : { details }),
  };
  // RFC 9110: a 401 names how to authenticate (an API token; the session cookie is not an HTTP scheme).
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="kluis"');
  // Sent as text: a route's response schema for its own page (e.g. `404: z.string()` of an HTML
  // page) must not serialize the problem, or the refusal becomes a 500.
  return reply.status(status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** A short page per problem type, so that `type` resolves to its description. */
export function describeProblemType(
  code: string,
): { code: ErrorCode; title: string; status: number } | undefined {
  const known = ERROR_CODES.find((candidate) => candidate === code);
  return known === undefined
    ? undefined
    : { code: known, title: TITLE_BY_CODE[known], status: STATUS_BY_CODE[known] };
}
