import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp } from '../../test/http.js';
import { createTestKernel } from '../../test/kernel.js';
import { STOPPING_RETRY_AFTER_SECONDS } from './app.js';

let database: TestDatabase;
let app: FastifyInstance;
let origin: URL;
/** Resolves when the held request has started; `release` lets it answer. */
let held: Promise<void>;
let release: () => void = () => undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await createTestApp(createTestKernel(database));
  let started: () => void = () => undefined;
  held = new Promise((resolve) => {
    started = resolve;
  });
  const answered = new Promise<void>((resolve) => {
    release = resolve;
  });
  // A request that is still running when the server begins to close.
  app.get('/test/held', async () => {
    started();
    await answered;
    return { done: true };
  });
  origin = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
}, 120_000);
afterAll(async () => {
  release();
  await app?.close();
  await database?.close();
});

/** The HTTP/1.1 responses read off one socket until the server closes it. */
function readAll(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('a request that arrives while the server stops', () => {
  it('answers 503 server_stopping in the problem format with its request id and Retry-After, while the running request finishes', async () => {
    const socket = net.connect(Number(origin.port), origin.hostname);
    const received = readAll(socket);
    const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: ${origin.host}\r\n\r\n`;
    socket.write(request('/test/held'));
    await held;
    const closed = app.close();
    // Pipelined on the connection of the running request: the one way a request still reaches a
    // closing server (idle connections are closed and no new one is accepted).
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(request('/api/problems/internal'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    await closed;
    const text = await received;

    const [first, second] = text.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    expect(first).toContain('{"done":true}');
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    const headers = (second ?? '').split('\r\n\r\n')[0] ?? '';
    expect(headers).toMatch(/\r\ncontent-type: application\/problem\+json/i);
    expect(headers).toMatch(new RegExp(`\\r\\nretry-after: ${STOPPING_RETRY_AFTER_SECONDS}\\r\\n`, 'i'));
    const requestId = /\r\nx-request-id: (\S+)/i.exec(headers)?.[1];
    const body = JSON.parse((second ?? '').split('\r\n\r\n')[1] ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({
      type: '/api/problems/server_stopping',
      status: 503,
      code: 'server_stopping',
      requestId,
      instance: `urn:kluis:request:${requestId}`,
    });
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
