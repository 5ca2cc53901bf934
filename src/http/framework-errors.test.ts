import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp } from '../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';

// The attack sent malformed headers, bad JSON, odd content types and oversized bodies: Fastify's
// and Node's own answers must be problems with a stable code like every other error (issue 10).
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  await createPolicyTenant(kernel, 'voiceking');
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(address).port);
});
afterAll(async () => {
  await app.close();
  await database.close();
});

/** Writes raw bytes on a fresh connection and returns all the server answered until it closed. */
function rawExchange(request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(request);
    // Sent everything; the server answers and closes (or we stop waiting).
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

function parseRaw(answer: string): { status: number; headers: string; body: Record<string, unknown> } {
  const [head = '', body = ''] = answer.split('\r\n\r\n', 2);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: JSON.parse(body) as Record<string, unknown> };
}

const login = (payload: string | Buffer, contentType: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'content-type': contentType },
    payload,
  });

describe("Fastify's and Node's own refusals are problems with a stable code", () => {
  it('a body that is not JSON is 400 malformed_request, and the answer does not quote it', async () => {
    const response = await login('{"tenant":"voiceking","password":"Geheim-123', 'application/json');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'malformed_request', status: 400 });
    expect(response.body).not.toContain('Geheim');
  });

  it('a body larger than the limit is 413 payload_too_large', async () => {
    const response = await login(
      JSON.stringify({ tenant: 'voiceking', email: 'x'.repeat(1_100_000) }),
      'application/json',
    );
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ code: 'payload_too_large', status: 413 });
  });

  it('a body of a content type the route does not take is 415 unsupported_media_type', async () => {
    const response = await login('tenant=voiceking', 'application/x-www-form-urlencoded-odd');
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ code: 'unsupported_media_type', status: 415 });
  });

  it('headers larger than Node accepts are 431 headers_too_large as problem+json, on the socket', async () => {
    const answer = await rawExchange(
      `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    const { status, headers, body } = parseRaw(answer);
    expect(status).toBe(431);
    expect(headers).toContain('content-type: application/problem+json');
    expect(body).toMatchObject({
      code: 'headers_too_large',
      status: 431,
      type: '/api/problems/headers_too_large',
    });
    expect(body.requestId).toEqual(expect.any(String));
  });

  it('a malformed header line is 400 malformed_request as problem+json, on the socket', async () => {
    const answer = await rawExchange('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: yes\r\n\r\n');
    const { status, headers, body } = parseRaw(answer);
    expect(status).toBe(400);
    expect(headers).toContain('content-type: application/problem+json');
    expect(body).toMatchObject({ code: 'malformed_request', status: 400 });
  });

  it('a Content-Length that is not a number is 400 malformed_request', async () => {
    const answer = await rawExchange(
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
    );
    const { status, body } = parseRaw(answer);
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: 'malformed_request' });
  });
});
