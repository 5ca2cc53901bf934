import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp } from '../../test/http.js';
import { createTestKernel } from '../../test/kernel.js';
import { REQUEST_BODY_EXAMPLES } from './openapi-examples.js';

let database: TestDatabase;
let app: FastifyInstance;
beforeAll(async () => {
  database = await createTestDatabase();
  app = await createTestApp(createTestKernel(database));
});
afterAll(async () => {
  await app.close();
  await database.close();
});

interface Operation {
  requestBody?: { content: Record<string, { schema: Record<string, unknown>; example?: unknown }> };
  operationId?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

interface OpenApiDocument {
  components: {
    securitySchemes: Record<string, { type: string; in?: string; name?: string; scheme?: string }>;
  };
  paths: Record<string, Record<string, Operation>>;
}

// Public: health, problem types, the login and logout, and the tenant-facing pages under /t/ (the portal has its own cookie).
const PUBLIC = /^\/(health|t\/|api\/problems\/|\.well-known\/)|^\/api\/v1\/auth\/(login|logout)$/;

describe('the OpenAPI document', () => {
  it('declares the session cookie, the CSRF header and the bearer token as security schemes', async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/docs/json' })).json<OpenApiDocument>();
    expect(document.components.securitySchemes).toMatchObject({
      sessionCookie: { type: 'apiKey', in: 'cookie', name: 'kluis_session' },
      csrfToken: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
      bearerToken: { type: 'http', scheme: 'bearer' },
    });
  });

  it('every operation has a unique operationId, a description, tags, its security (unless public) and problem error responses', async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/docs/json' })).json<OpenApiDocument>();
    const ids = new Set<string>();
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );
    expect(operations.length).toBeGreaterThan(60);
    for (const { path, method, operation } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(ids.has(operation.operationId ?? ''), `${where}: duplicate operationId`).toBe(false);
      ids.add(operation.operationId ?? '');
      expect(operation.description, where).toBeTruthy();
      expect(operation.tags?.length, where).toBeGreaterThan(0);
      expect(operation.security, where).toBeDefined();
      if (!PUBLIC.test(path)) {
        expect(operation.security?.length, `${where} must state its security`).toBeGreaterThan(0);
        expect(Object.keys(operation.responses ?? {}), where).toContain('401');
      }
      for (const status of ['400', '500']) {
        expect(operation.responses?.[status]?.content, `${where} ${status}`).toHaveProperty(
          'application/problem+json',
        );
      }
    }
  });

  it('a write with a session needs the CSRF header as well; a token alone suffices', async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/docs/json' })).json<OpenApiDocument>();
    expect(document.paths['/api/v1/invoices/{id}/credit-notes']?.post?.security).toEqual([
      { sessionCookie: [], csrfToken: [] },
      { bearerToken: [] },
    ]);
    expect(document.paths['/api/v1/invoices']?.get?.security).toEqual([
      { sessionCookie: [] },
      { bearerToken: [] },
    ]);
    expect(document.paths['/health']?.get?.security).toEqual([]);
  });

  it('every operation with a request body has an example, and each example passes its own schema as published', async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/docs/json' })).json<OpenApiDocument>();
    // The document is OpenAPI 3.0: `nullable` and a boolean `exclusiveMinimum` become JSON Schema.
    const toJsonSchema = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(toJsonSchema);
      if (node === null || typeof node !== 'object') return node;
      const source = node as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(source)) {
        if (key === 'nullable' || key === 'example') continue;
        out[key] = key === 'properties' ? mapValues(value, toJsonSchema) : toJsonSchema(value);
      }
      if (source.exclusiveMinimum === true) {
        out.exclusiveMinimum = source.minimum;
        delete out.minimum;
      }
      if (source.nullable === true) return { anyOf: [out, { type: 'null' }] };
      return out;
    };
    const mapValues = (value: unknown, map: (node: unknown) => unknown): Record<string, unknown> =>
      Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, map(v)]));
    const ajv = new Ajv({ strict: false, allErrors: true });
    // ajv-formats is CommonJS: under NodeNext its callable is the default export's default.
    ajvFormats.default(ajv);
    let bodies = 0;
    // Every problem at once, so one run names every route that lacks an example.
    const problems: string[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
          const where = `${method.toUpperCase()} ${path} (${type})`;
          bodies += 1;
          const example = media.example ?? media.schema.example;
          if (example === undefined) {
            problems.push(`${where} has no example`);
            continue;
          }
          const validate = ajv.compile(toJsonSchema(media.schema) as object);
          if (!validate(example)) problems.push(`${where}: ${ajv.errorsText(validate.errors)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(bodies).toBeGreaterThan(40);
    // No example for a route that no longer exists (the registry would rot unnoticed).
    const registered = new Set(
      Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    for (const key of Object.keys(REQUEST_BODY_EXAMPLES)) expect(registered, key).toContain(key);
  });

  it('the reference page offers to authorise and try calls', async () => {
    const init = await app.inject({ method: 'GET', url: '/api/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain('persistAuthorization');
    expect(init.body).toContain('tryItOutEnabled');
  });
});
