import { readdir } from 'node:fs/promises';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import { waitUntil } from '../../test/processes.js';
import type { Kernel } from '../kernel/kernel.js';
import { createStaffUser } from '../modules/staff/index.js';
import { answeredCall, tempDir } from '../modules/telephony/telephony.test-helpers.js';
import type { Tenant } from '../modules/tenants/index.js';
import { defaultConnectionLimits } from './connection-limits.js';

/**
 * Attack S18-4 (decision 0865): a body trickling after complete headers held a connection for the
 * 30 minutes meant for a call-record upload. Small bounds here; the defaults are 20 s and 60 s.
 */
const LIMITS = {
  ...defaultConnectionLimits(),
  bodyTimeoutMs: 1_500,
  bodyIdleTimeoutMs: 1_500,
  checkEveryMs: 250,
};

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let origin: URL;
let voxtra: Tenant;
let billing: StaffSession;
let spoolDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  spoolDir = await tempDir();
  app = await createTestApp(kernel, {
    connectionLimits: LIMITS,
    cdrUploads: { spoolDir, maxBytes: 1024 * 1024 },
  });
  origin = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  billing = await loginAs(app, kernel, voxtra, 'billing');
}, 120_000);
afterAll(async () => {
  await app?.close();
  await database?.close();
});

interface RawExchange {
  socket: net.Socket;
  /** What the server sent, once it closed the connection; with when that was (ms after the headers). */
  closed: Promise<{ text: string; afterMs: number }>;
}

/** Sends complete headers at once, then the body's chunks, one every `everyMs` (none after the last). */
function rawRequest(head: string, chunks: readonly string[], everyMs: number): RawExchange {
  const socket = net.connect(Number(origin.port), origin.hostname);
  socket.setEncoding('utf8');
  let text = '';
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  socket.on('error', () => undefined);
  const started = Date.now();
  socket.write(head);
  let next = 0;
  const timer = setInterval(() => {
    const chunk = chunks[next++];
    if (chunk === undefined) clearInterval(timer);
    else if (!socket.destroyed) socket.write(chunk);
  }, everyMs);
  const closed = new Promise<{ text: string; afterMs: number }>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ text, afterMs: Date.now() - started });
    }),
  );
  return { socket, closed };
}

function connectionCount(): Promise<number> {
  return new Promise((resolve, reject) =>
    app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

function uploadHead(name: string, length: number): string {
  return (
    `POST /api/v1/call-record-imports?name=${name} HTTP/1.1\r\nHost: ${origin.host}\r\n` +
    `Cookie: ${billing.cookie}\r\nX-CSRF-Token: ${billing.csrfToken}\r\n` +
    `Content-Type: text/csv\r\nContent-Length: ${length}\r\n\r\n`
  );
}

async function uploadsRecorded(): Promise<number> {
  const result = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    "select count(*)::int as n from call_record_imports where tenant_id = $1 and source = 'upload'",
    [voxtra.tenantId],
  );
  return result.rows[0]?.n ?? 0;
}

describe('a request body that does not arrive is ended in seconds (attack S18-4, decision 0865)', () => {
  it('a login body trickling one byte per 250 ms is answered 408 request_timeout within the body bound and the server closes the connection; a normal login still works', async () => {
    const before = await connectionCount();
    const body = '{"tenant":"voxtra","email":"x@y.example","password":"' + 'a'.repeat(4_900) + '"}';
    const slow = rawRequest(
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: ${origin.host}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
      [...body],
      250,
    );
    const { text, afterMs } = await slow.closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toMatch(/connection: close/i);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 408,
      code: 'request_timeout',
    });
    // The bound (1.5 s) plus at most one look (250 ms), with room for a loaded machine.
    expect(afterMs).toBeGreaterThanOrEqual(LIMITS.bodyTimeoutMs);
    expect(afterMs).toBeLessThan(LIMITS.bodyTimeoutMs + 3_000);
    // The client never ends its side: the server closed the connection, and its slot is free.
    await waitUntil(async () => (await connectionCount()) <= before, 5_000);

    const staff = await createStaffUser(
      kernel,
      voxtra.tenantId,
      { kind: 'system', job: 'test' },
      { email: 'arrives@staff.example', displayName: 'Arrives', role: 'sales' },
    );
    const login = await fetch(new URL('/api/v1/auth/login', origin), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tenant: voxtra.slug,
        email: 'arrives@staff.example',
        password: staff.oneTimePassword,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(login.status).toBe(200);
  });

  it('an upload that keeps sending is not cut by the whole-body bound; one that stops sending is answered 408 after the idle bound, leaves no part file and records no import', async () => {
    const lines = Array.from(
      { length: 40 },
      (_, index) => `${answeredCall(`s.${index}`, '056223344', '0470123456', '2024-06-03 09:00:00', 60)}\n`,
    );
    const file = lines.join('');
    // Eight chunks, one every 500 ms: 4 s, well past the 1.5 s of a small body, never idle.
    const chunkSize = Math.ceil(file.length / 8);
    const chunks = Array.from({ length: 8 }, (_, index) =>
      file.slice(index * chunkSize, (index + 1) * chunkSize),
    );
    const steady = rawRequest(uploadHead('steady.csv', Buffer.byteLength(file)), chunks, 500);
    await waitUntil(() => steady.socket.bytesWritten >= Buffer.byteLength(file), 10_000);
    await waitUntil(async () => (await uploadsRecorded()) === 1, 5_000);
    steady.socket.end();
    const answered = await steady.closed;
    expect(answered.text).toMatch(/^HTTP\/1\.1 202 /);
    expect(answered.afterMs).toBeGreaterThan(LIMITS.bodyTimeoutMs + 1_000);

    // Half the file, then nothing: ended once nothing arrived for the idle bound.
    const stalled = rawRequest(uploadHead('stalled.csv', Buffer.byteLength(file)), chunks.slice(0, 4), 200);
    const ended = await stalled.closed;
    expect(ended.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(ended.text).toContain('"code":"request_timeout"');
    expect(ended.afterMs).toBeGreaterThanOrEqual(4 * 200 + LIMITS.bodyIdleTimeoutMs);
    expect(ended.afterMs).toBeLessThan(4 * 200 + LIMITS.bodyIdleTimeoutMs + 3_000);
    // The part file is removed once the body broke off; only the whole upload was recorded.
    await waitUntil(async () => (await readdir(spoolDir)).every((name) => !name.endsWith('.part')), 5_000);
    expect(await uploadsRecorded()).toBe(1);
  });

  it('the defaults: a small body within 20 s of its headers, a large or streamed one with no pause of 60 s', () => {
    expect(defaultConnectionLimits()).toMatchObject({ bodyTimeoutMs: 20_000, bodyIdleTimeoutMs: 60_000 });
  });
  it('an answer given before its body is in (a GET sent a trickling body) closes the connection at once, whatever its status (attack S18-4 retest, decision 0865)', async () => {
    const exchange = rawRequest(
      `GET /health HTTP/1.1\r\nHost: ${origin.host}\r\nContent-Length: 5000\r\n\r\nabc`,
      Array.from({ length: 40 }, () => 'x'),
      100,
    );
    const { text, afterMs } = await exchange.closed;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text.toLowerCase()).toContain('connection: close');
    // Closed by the server well before the body's bound (1.5 s) or its forty drips (4 s).
    expect(afterMs).toBeLessThan(1_400);
  });
});
