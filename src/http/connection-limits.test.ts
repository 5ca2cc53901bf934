import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/database.js';
import { createTestApp } from '../../test/http.js';
import { createTestKernel } from '../../test/kernel.js';
import { waitUntil } from '../../test/processes.js';
import { defaultConnectionLimits } from './connection-limits.js';

/**
 * Attack S16-5 (decision 0817): connections that never finish their headers (slow-loris) took every
 * file descriptor of the process. Small limits here; the defaults are 20 s and half the file limit.
 */
const LIMITS = {
  ...defaultConnectionLimits(),
  headersTimeoutMs: 1_000,
  checkEveryMs: 250,
  maxConnections: 5,
};

let database: TestDatabase;
let app: FastifyInstance;
let origin: URL;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await createTestApp(createTestKernel(database), { connectionLimits: LIMITS });
  origin = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
}, 120_000);
afterAll(async () => {
  await app?.close();
  await database?.close();
});

/** A connection that sends a request line and then one header line every 200 ms, never the end. */
function trickle(): { socket: net.Socket; closed: Promise<string> } {
  const socket = net.connect(Number(origin.port), origin.hostname);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  socket.on('error', () => undefined);
  socket.write(`GET /health HTTP/1.1\r\nHost: ${origin.host}\r\n`);
  const timer = setInterval(() => socket.write('X-Slow: yes\r\n'), 200);
  const closed = new Promise<string>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(text);
    }),
  );
  return { socket, closed };
}

async function health(): Promise<number> {
  const answer = await fetch(new URL('/health', origin), { signal: AbortSignal.timeout(5_000) });
  return answer.status;
}

describe('what one client may hold of the server (attack S16-5)', () => {
  it('a connection that never finishes its headers is ended with 408 after the headers limit, and a full server refuses new connections at once instead of running out of files; it serves again once they are gone', async () => {
    const slow = Array.from({ length: LIMITS.maxConnections }, () => trickle());
    // Every slot held: a new connection is closed by the server at once, nothing is served on it.
    await waitUntil(async () => (await connectionCount()) === LIMITS.maxConnections, 5_000);
    await expect(health()).rejects.toThrow();
    const answers = await Promise.all(slow.map(({ closed }) => closed));
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(await health()).toBe(200);
  });

  it('a client that never reads the 408 does not keep its connection: the server closes its side too (attack S17-1)', async () => {
    // A fetch's keep-alive connection may still be open from before: it is not one of these.
    const before = await connectionCount();
    // No data listener and paused: the 408 and the FIN stay unread, so the client never closes.
    const deaf = Array.from({ length: 3 }, () => {
      const socket = net.connect(Number(origin.port), origin.hostname);
      socket.on('error', () => undefined);
      socket.pause();
      socket.write(`GET /health HTTP/1.1\r\nHost: ${origin.host}\r\n`);
      return socket;
    });
    try {
      await waitUntil(async () => (await connectionCount()) >= 3, 5_000);
      await waitUntil(async () => (await connectionCount()) <= before, 10_000);
      expect(deaf.every((socket) => !socket.destroyed)).toBe(true);
      expect(await health()).toBe(200);
    } finally {
      for (const socket of deaf) socket.destroy();
    }
  });

  it('the defaults: headers within 20 s, checked every 5 s, connections at most half the open-file limit', () => {
    const limits = defaultConnectionLimits();
    expect(limits).toMatchObject({ headersTimeoutMs: 20_000, checkEveryMs: 5_000 });
    expect(limits.maxConnections).toBeGreaterThanOrEqual(64);
    expect(limits.maxConnections).toBeLessThanOrEqual(10_000);
  });
});

function connectionCount(): Promise<number> {
  return new Promise((resolve, reject) =>
    app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}
