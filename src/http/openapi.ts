import type { RouteOptions } from 'fastify';
import { z } from 'zod';
import { ERROR_CODES } from '../platform/errors.js';
import { PROBLEM_CONTENT_TYPE } from './error-handler.js';
import { SESSION_COOKIE, STAFF_AUTH, type StaffAuthMarker } from './auth.js';
import { REQUEST_BODY_EXAMPLES } from './openapi-examples.js';

/**
 * The OpenAPI document's common parts (decision 0087): security schemes, the problem schema and,
 * added to every route as it is registered, an operationId, a description, tags, the security the
 * route's onRequest hook enforces, and the error responses it can give.
 */

export const SECURITY_SCHEMES = {
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description:
      'Staff session from POST /api/v1/auth/login (HttpOnly, SameSite=Strict). In this reference the browser sends it by itself once you are logged in on the same origin.',
  },
  csrfToken: {
    type: 'apiKey',
    in: 'header',
    name: 'x-csrf-token',
    description: 'The csrfToken answered by the login; required with the session cookie on writes.',
  },
  bearerToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (kluis_…) made by an admin: POST /api/v1/tokens. Scoped to one role.',
  },
} as const;

const problemSchema = z
  .object({
    type: z.string().describe('URI reference of the problem type: GET it for its description'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    code: z.enum(ERROR_CODES).describe('stable, machine-readable'),
    requestId: z.string(),
    details: z
      .object({
        issues: z
          .array(
            z.looseObject({
              path: z.string(),
              message: z.string(),
              line: z.number().int().optional(),
              column: z.number().int().optional(),
            }),
          )
          .optional(),
      })
      .catchall(z.unknown())
      .optional(),
  })
  .describe('RFC 9457 problem details (application/problem+json)')
  .meta({
    example: {
      type: '/api/problems/validation_failed',
      title: 'The request is not valid',
      status: 400,
      detail: 'the request does not match the schema',
      instance: 'urn:kluis:request:6f1c2b1e-8d0a-4c55-9a43-3f0e2a7d9b10',
      code: 'validation_failed',
      requestId: '6f1c2b1e-8d0a-4c55-9a43-3f0e2a7d9b10',
      details: { issues: [{ path: 'body/email', message: 'Invalid email address' }] },
    },
  });

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `GET /api/v1/invoices/:id/credit-notes` → `getInvoicesByIdCreditNotes`. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1\//, '/')
    .split('/')
    .filter((segment) => segment !== '')
    .flatMap((segment) => (segment.startsWith(':') ? ['by', segment.slice(1)] : segment.split(/[-_.]/)));
  return [method.toLowerCase(), ...words.map((word) => word.charAt(0).toUpperCase() + word.slice(1))].join(
    '',
  );
}

function staffAuthOf(route: RouteOptions): { tokens: boolean } | undefined {
  const hooks = route.onRequest === undefined ? [] : [route.onRequest].flat();
  for (const hook of hooks) {
    const marker = (hook as StaffAuthMarker)[STAFF_AUTH];
    if (marker) return marker;
  }
  return undefined;
}

/**
 * The body schema with its example (decision 0110): the one declared on the schema, else the
 * registry's. An example its own schema refuses stops the registration: it would teach integrators
 * a request the server answers with 400.
 */
function bodyWithExample(key: string, body: unknown): unknown {
  if (!(body instanceof z.ZodType)) return body;
  const declared = (body.meta() as { example?: unknown } | undefined)?.example;
  const example = declared ?? REQUEST_BODY_EXAMPLES[key];
  if (example === undefined) return body;
  const checked = body.safeParse(example);
  if (!checked.success) {
    throw new Error(`the OpenAPI example of ${key} does not match its body schema: ${checked.error.message}`);
  }
  return declared === undefined ? body.meta({ example }) : body;
}

/** The onRoute hook: completes each route's schema for the OpenAPI document. */
export function describeRoute(route: RouteOptions): void {
  const schema = (route.schema ?? {}) as Record<string, unknown> & { hide?: boolean };
  if (schema.hide) return;
  const method = [route.method].flat()[0] ?? 'GET';
  if (method === 'HEAD') return;
  const auth = staffAuthOf(route);
  const isWrite = WRITE_METHODS.has(method);
  const session: Record<string, string[]> = isWrite
    ? { sessionCookie: [], csrfToken: [] }
    : { sessionCookie: [] };
  const security: Record<string, string[]>[] = auth
    ? [session, ...(auth.tokens ? [{ bearerToken: [] }] : [])]
    : [];
  const summary = typeof schema.summary === 'string' ? schema.summary : undefined;
  const problem = (description: string) => ({
    description,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
  });
  const errors: Record<number, ReturnType<typeof problem>> = {
    400: problem('The request is not valid (details.issues names the fields)'),
    404: problem('No such resource or route'),
    500: problem('Unexpected error (the requestId is in the logs)'),
    503: problem('The database is unavailable'),
  };
  if (auth) {
    errors[401] = problem('Not authenticated (WWW-Authenticate: Bearer)');
    errors[403] = problem('Refused: role, purpose, data category or the person’s state');
  }
  if (isWrite) {
    errors[409] = problem('Conflict with the current state');
    errors[422] = problem('Refused content (e.g. sensitive data, a reused Idempotency-Key)');
  }
  const response = { ...errors, ...((schema.response as Record<string, unknown> | undefined) ?? {}) };
  route.schema = {
    ...schema,
    ...(schema.body === undefined ? {} : { body: bodyWithExample(`${method} ${route.url}`, schema.body) }),
    operationId:
      typeof schema.operationId === 'string' ? schema.operationId : operationIdOf(method, route.url),
    ...(schema.description === undefined && summary !== undefined ? { description: summary } : {}),
    tags: Array.isArray(schema.tags) && schema.tags.length > 0 ? schema.tags : ['system'],
    security,
    response,
  };
}
