/**
 * The closed set of error codes Kluis reports. `http/error-handler.ts` maps each to a status
 * with `satisfies Record<ErrorCode, number>`, so a new code without a status does not compile.
 */
export const ERROR_CODES = [
  'validation_failed',
  'malformed_request',
  'unsupported_media_type',
  'headers_too_large',
  'request_timeout',
  'sensitive_data_refused',
  'not_found',
  'tenant_not_found',
  'conflict',
  'idempotency_key_reused',
  'idempotency_in_progress',
  'unauthenticated',
  'forbidden',
  'step_up_required',
  'rate_limited',
  'export_in_progress',
  'exports_busy',
  'account_locked',
  'invalid_policy',
  'purpose_not_allowed',
  'role_not_allowed',
  'category_not_allowed',
  'recipient_not_allowed',
  'transfer_not_allowed',
  'subject_restricted',
  'subject_objected',
  'consent_missing',
  'subject_erased',
  'erasure_held',
  'erasure_contract_running',
  'holder_not_billable',
  'relation_ended',
  'duplicate_person',
  'mail_not_signed',
  'payload_too_large',
  'database_unavailable',
  'database_busy',
  'server_stopping',
  'audit_unavailable',
  'field_unreadable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One problem located in the input: a field path (`body/email`, `query/limit`) or a file line. */
export interface ProblemIssue {
  path: string;
  message: string;
  /** 1-based, for problems in an uploaded file (CSV, policy YAML). */
  line?: number;
  column?: number;
}

/**
 * The one shape of an error's `details`: an object; problems located in the input are always
 * listed under `issues`, other facts (e.g. `validPurposes`, `stage`) are named members.
 * Never personal data or secrets.
 */
export interface ProblemDetails {
  issues?: ProblemIssue[];
  [member: string]: unknown;
}

export interface AppErrorOptions {
  /** Safe to show to the caller; never contains personal data or secrets. */
  publicMessage?: string;
  /** Structured, non-personal details (which field failed, which values are valid). */
  details?: ProblemDetails;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly publicMessage: string | undefined;
  readonly details: ProblemDetails | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.publicMessage = options.publicMessage;
    this.details = options.details;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/**
 * What is logged of an unexpected error: its kind and where it came from, not its message or
 * details — PostgreSQL puts row values there ("Failing row contains …", the rejected input).
 */
export function describeUnexpected(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const fields = error as Error & {
    code?: unknown;
    constraint?: unknown;
    routine?: unknown;
    table?: unknown;
  };
  return {
    type: error.name,
    code: typeof fields.code === 'string' ? fields.code : undefined,
    constraint: typeof fields.constraint === 'string' ? fields.constraint : undefined,
    table: typeof fields.table === 'string' ? fields.table : undefined,
    routine: typeof fields.routine === 'string' ? fields.routine : undefined,
    stack: error.stack?.split('\n').slice(1, 8).join('\n'),
  };
}

/** A `validation_failed` whose message is safe to show (it names fields, never values). */
export function validationError(message: string, details?: ProblemDetails): AppError {
  return new AppError('validation_failed', message, {
    publicMessage: message,
    ...(details ? { details } : {}),
  });
}

export function notFoundError(what: string): AppError {
  return new AppError('not_found', `no such ${what}`, { publicMessage: `no such ${what}` });
}

export function conflictError(message: string): AppError {
  return new AppError('conflict', message, { publicMessage: message });
}

/** A record a list left out because one of its encrypted fields does not open (decision 1150). */
export interface UnreadableRecord {
  table: string;
  column: string;
  rowId: string;
}

/** The record `error` names when it is `field_unreadable` (a field of that row); otherwise undefined. */
export function unreadableRecordOf(error: unknown, rowId: string): UnreadableRecord | undefined {
  if (!(error instanceof AppError) || error.code !== 'field_unreadable') return undefined;
  const { table, column } = error.details ?? {};
  return {
    table: typeof table === 'string' ? table : 'unknown',
    column: typeof column === 'string' ? column : 'unknown',
    rowId,
  };
}

/**
 * The hold-back of a read that goes on without a record it cannot open (decisions 1150, 1241):
 * `decrypt`'s value; or, when it fails with `field_unreadable` and the caller holds such records
 * back (gives `unreadable`), `undefined`, with the record (table, column, `rowId`: nothing
 * personal) named in `unreadable`. Any other error, or any error without `unreadable`, is thrown.
 */
export async function decryptOrHoldBack<T>(
  rowId: string,
  unreadable: UnreadableRecord[] | undefined,
  decrypt: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await decrypt();
  } catch (error) {
    const record = unreadable && unreadableRecordOf(error, rowId);
    if (!record) throw error;
    unreadable?.push(record);
    return undefined;
  }
}
