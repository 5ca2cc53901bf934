import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { stopStreamOfHead } from './head.js';

// Decision 0580: Fastify answers HEAD through the GET handler and reads a stream body to its end;
// the app-wide net stops it instead.
const CHUNKS = 1_000;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A GET route whose body is a generator counting the chunks anyone pulled from it. */
async function appWithCountedStream(net: boolean): Promise<{ app: FastifyInstance; pulled: () => number }> {
  let pulled = 0;
  const built = Fastify();
  if (net)
    built.addHook('onSend', async (request, _reply, payload: unknown) => stopStreamOfHead(request, payload));
  built.get('/export.csv', async (_request, reply) => {
    function* rows(): Generator<string> {
      for (let row = 0; row < CHUNKS; row += 1) {
        pulled += 1;
        yield `${row}\n`;
      }
    }
    return reply.type('text/csv').send(Readable.from(rows()));
  });
  await built.ready();
  return { app: built, pulled: () => pulled };
}

describe('HEAD of a streamed GET (decision 0580)', () => {
  it('the net stops the stream body of a HEAD (nothing read on), where Fastify alone reads it to the end; a GET is whole', async () => {
    const bare = await appWithCountedStream(false);
    app = bare.app;
    expect((await bare.app.inject({ method: 'HEAD', url: '/export.csv' })).statusCode).toBe(200);
    // Fastify's own HEAD handling drains the body in the background.
    await expect.poll(bare.pulled).toBe(CHUNKS);
    await bare.app.close();

    const guarded = await appWithCountedStream(true);
    app = guarded.app;
    const head = await guarded.app.inject({ method: 'HEAD', url: '/export.csv' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toBe('text/csv');
    expect(head.body).toBe('');
    await new Promise((resolve) => setImmediate(resolve));
    expect(guarded.pulled()).toBe(0);
    const get = await guarded.app.inject({ method: 'GET', url: '/export.csv' });
    expect(get.body.split('\n').filter(Boolean)).toHaveLength(CHUNKS);
  });
});
