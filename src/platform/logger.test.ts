import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('structured logger', () => {
  it('redacts secret-looking fields at any of the first three levels', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    logger.info(
      {
        password: 'pw-1',
        user: { token: 'tok-2', nested: { secret: 'sec-3' } },
        req: { headers: { authorization: 'Bearer b-4' } },
      },
      'event',
    );
    const line = lines.join('');
    for (const secret of ['pw-1', 'tok-2', 'sec-3', 'b-4']) expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
    expect(JSON.parse(line)).toMatchObject({ msg: 'event', service: 'kluis' });
  });
});
