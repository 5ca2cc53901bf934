import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.js';
import { createTestDatabase, testLogger, type TestDatabase } from '../../test/database.js';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createAppDb, createDatabaseProbe, pingDatabase } from '../platform/db.js';
import { createTestKernel } from '../../test/kernel.js';
import { createKernel } from '../kernel/kernel.js';
import { LocalKeyManagementService } from '../kernel/keyring/kms.js';
import { systemClock } from '../platform/clock.js';
import { buildApp } from './app.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.close());

describe('HTTP foundation', () => {
  it('GET /health answers ok when the database is reachable, with a request id', async () => {
    const app = await buildApp({ kernel: createTestKernel(database), logger: testLogger, version: 'test' });
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', db: 'ok' });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await app.close();
  });

  it('GET /health answers 503 when the database is unreachable', async () => {
    const { db } = createAppDb({
      connectionString: 'postgres://nobody:x@127.0.0.1:1/none',
      assumeAppRole: false,
      logger: testLogger,
    });
    const kernel = createKernel({
      db,
      keystore: database.keystore,
      kms: new LocalKeyManagementService(randomBytes(32)),
      clock: systemClock,
    });
    const app = await buildApp({ kernel, logger: testLogger, version: 'test' });
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'degraded', db: 'unreachable', recovery: 'reconnecting' });
    await app.close();
    await db.destroy();
  });

  it('A14: GET /health answers 200 while long work holds every connection of the app pool', async () => {
    const { db } = createAppDb({
      connectionString: database.ownerUrl,
      assumeAppRole: true,
      logger: testLogger,
      max: 2,
    });
    const kernel = createKernel({
      db,
      keystore: database.keystore,
      kms: new LocalKeyManagementService(randomBytes(32)),
      clock: systemClock,
    });
    const probe = createDatabaseProbe({
      connectionString: database.ownerUrl,
      assumeAppRole: true,
      logger: testLogger,
    });
    const app = await buildApp({ kernel, logger: testLogger, version: 'test', databaseProbe: probe });
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holders: Array<Promise<void>> = [];
    let started = 0;
    const bothStarted = new Promise<void>((resolve) => {
      const work = () =>
        db.transaction().execute(async (tx) => {
          await sql`select 1`.execute(tx);
          started += 1;
          if (started === 2) resolve();
          await released;
        });
      holders.push(work(), work());
    });
    try {
      await bothStarted;
      // The pool is exhausted: a query through it waits for a slot.
      expect(await pingDatabase(db, 300)).toBe(false);
      const response = await app.inject({ method: 'GET', url: '/health' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: 'ok', db: 'ok' });
    } finally {
      release();
      await Promise.all(holders);
      await app.close();
      await probe.close();
      await db.destroy();
    }
  });

  it("makes its own request id, keeping a caller's well-formed x-request-id only as clientRequestId in the log lines; reports unknown routes with a stable code", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = await buildApp({
      kernel: createTestKernel(database),
      logger: createLogger({ level: 'info', destination }),
      version: 'test',
    });
    const response = await app.inject({
      method: 'GET',
      url: '/nope',
      headers: { 'x-request-id': 'abc-12345678' },
    });
    await app.close();
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const requestId = String(response.headers['x-request-id']);
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(response.json()).toMatchObject({
      status: 404,
      code: 'not_found',
      detail: 'no such route',
      requestId,
    });
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const ofRequest = logged.filter((entry) => entry.reqId === requestId);
    expect(ofRequest.length).toBeGreaterThan(0);
    for (const entry of ofRequest) expect(entry.clientRequestId).toBe('abc-12345678');
    expect(logged.some((entry) => entry.reqId === 'abc-12345678')).toBe(false);
  });

  it('serves the OpenAPI document and a readable API reference', async () => {
    const app = await buildApp({ kernel: createTestKernel(database), logger: testLogger, version: 'test' });
    const spec = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(spec.statusCode).toBe(200);
    const document = spec.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toContain('/health');
    const docs = await app.inject({ method: 'GET', url: '/api/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
    await app.close();
  });
});

describe('request logs', () => {
  it('log the route pattern, never the URL with its tokens', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = await buildApp({
      kernel: createTestKernel(database),
      logger: createLogger({ level: 'info', destination }),
      version: 'test',
    });
    const secret = 'SeCrEtToKeN1234567890abcdefghijklmnopqrstuvw';
    await app.inject({ method: 'GET', url: `/t/voiceking/privacy/downloads/${secret}` });
    await app.inject({ method: 'POST', url: `/t/voiceking/privacy/downloads/${secret}`, payload: {} });
    await app.inject({
      method: 'GET',
      url: `/t/voiceking/privacy/requests/00000000-0000-0000-0000-000000000000?token=${secret}`,
    });
    await app.inject({ method: 'GET', url: `/nowhere?token=${secret}` });
    await app.close();
    const log = lines.join('');
    expect(log).toContain('/t/:slug/privacy/downloads/:token');
    expect(log).not.toContain(secret);
  });

  it('an AppError keeps its code in the log line; secrets and the codes people type are redacted by path', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const app = await buildApp({ kernel: createTestKernel(database), logger, version: 'test' });
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { tenant: 'no-such-tenant', email: 'a@b.example', password: 'Pa55word-typed' },
    });
    await app.close();
    expect(response.statusCode).toBe(401);
    const failed = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry.msg === 'request failed');
    expect(failed?.code).toBe('unauthenticated');
    logger.info({ body: { code: '123456' }, err: { code: '23505' }, password: 'pw-typed' }, 'probe');
    const probe = JSON.parse(lines.at(-1) ?? '{}') as { body: { code: string }; err: { code: string } };
    expect(probe.err.code).toBe('23505');
    expect(probe.body.code).toBe('[redacted]');
    expect(lines.join('')).not.toContain('pw-typed');
    expect(lines.join('')).not.toContain('Pa55word-typed');
  });
});
