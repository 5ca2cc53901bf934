import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Field names whose values are never written to a log, at any depth we can name.
 * pino's redaction needs explicit paths, so each name is listed at the top level and one
 * and two levels down.
 */
const SECRET_FIELDS = [
  'password',
  'newPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'totpSecret',
  'apiKey',
  'masterKey',
  'key',
  'code',
  'cookie',
  'authorization',
  'connectionString',
  'databaseUrl',
  'DATABASE_URL',
  'KLUIS_MASTER_KEY',
];

export const REDACTED_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((field) => `*.${field}`),
  ...SECRET_FIELDS.map((field) => `*.*.${field}`),
  'req.headers.authorization',
  'req.headers.cookie',
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
