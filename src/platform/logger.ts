import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Field names that hold a secret wherever they appear (pino's redaction needs explicit paths, so
 * each is listed at the top level and one and two levels down). `code` is not one of them: error
 * codes and SQLSTATEs must stay readable. The codes people type (verification codes, second
 * factors, recovery codes) are redacted by path instead, below.
 */
const SECRET_FIELDS = [
  'password',
  'newPassword',
  'currentPassword',
  'oneTimePassword',
  'passwordHash',
  'token',
  'sessionToken',
  'statusToken',
  'csrfToken',
  'accessToken',
  'refreshToken',
  'secret',
  'totpSecret',
  'recoveryCodes',
  'verificationCode',
  'totpCode',
  'recoveryCode',
  'apiKey',
  'masterKey',
  'dataKey',
  'privateKey',
  'cookie',
  'authorization',
  'connectionString',
  'databaseUrl',
  'DATABASE_URL',
  'KLUIS_MASTER_KEY',
];

/** Where a typed code travels: request bodies and use-case inputs, never an error's `code`. */
const TYPED_CODE_PATHS = ['body.code', 'input.code', 'req.body.code', '*.body.code', '*.input.code'];

export const REDACTED_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.*.${field}`),
  ...TYPED_CODE_PATHS,
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  level: string;
  destination?: DestinationStream;
}

interface LoggedRequest {
  method?: string;
  id?: string;
  routeOptions?: { url?: string };
}

/**
 * Requests are logged by route pattern (`/t/:slug/privacy/downloads/:token`), never by their URL:
 * paths and query strings carry single-use tokens, status tokens and login links.
 */
function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  return { method: request.method, route: request.routeOptions?.url ?? '(no route)', id: request.id };
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'kluis' },
    serializers: { req: serializeRequest },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
