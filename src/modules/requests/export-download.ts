import type { FastifyReply, FastifyRequest } from 'fastify';
import { Transform, type Writable } from 'node:stream';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError, describeUnexpected } from '../../platform/errors.js';

/**
 * How long a person whose export is still running is asked to wait (`Retry-After`, decision
 * 0490): the report or package of a long call history takes a few seconds to write.
 */
export const EXPORT_RETRY_AFTER_SECONDS = 10;

/** The people whose export download is running, per kernel (one per server process, decision 0490). */
const running = new WeakMap<Kernel, Set<string>>();

/**
 * Takes the person's one export slot (decision 0490): their own-data JSON, access report or
 * portability ZIP. A second export while one runs is 429 `export_in_progress` with Retry-After.
 * Returns the release.
 */
export function takeExportSlot(kernel: Kernel, tenantId: number, subjectId: number): () => void {
  let slots = running.get(kernel);
  if (!slots) {
    slots = new Set();
    running.set(kernel, slots);
  }
  const key = `${tenantId}:${subjectId}`;
  if (slots.has(key))
    throw new AppError('export_in_progress', 'an export of this person is running', {
      publicMessage: 'a download of your data is still running; try again when it has finished',
      details: { retryAfterSeconds: EXPORT_RETRY_AFTER_SECONDS },
    });
  slots.add(key);
  const taken = slots;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    taken.delete(key);
  };
}

export interface ExportDownload {
  kernel: Kernel;
  tenantId: number;
  subjectId: number;
  /** The answer's content type. */
  type: string;
  /** Set for a file to save (content-disposition: attachment). */
  filename?: string;
}

/**
 * Answers with a document that `write` writes while the rows are read (memory stays flat),
 * holding the person's export slot while it runs (decision 0490). The status line goes out with
 * the first byte: a refusal before it (the gate, an erased person) is the usual 4xx. After it,
 * a client that hangs up is not a failure (one info line, the writer stops, its transaction
 * rolls back); any other failure breaks the download off and is logged, never answered with a
 * second status (attack S7-8).
 */
export async function sendExport(
  request: FastifyRequest,
  reply: FastifyReply,
  download: ExportDownload,
  write: (output: Writable) => Promise<void>,
): Promise<FastifyReply> {
  const release = takeExportSlot(download.kernel, download.tenantId, download.subjectId);
  try {
    let started: () => void = () => undefined;
    const firstByte = new Promise<void>((resolve) => {
      started = resolve;
    });
    const output = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        started();
        done(null, chunk);
      },
    });
    // A client that hangs up closes the response before it is finished (fastify then destroys
    // `output`, and the writer's next write fails).
    let hungUp = false;
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) hungUp = true;
    });
    const writing = write(output);
    // A writer that fails before its first byte throws here: nothing is sent yet.
    await Promise.race([firstByte, writing]);
    void reply.type(download.type).header('cache-control', 'no-store');
    if (download.filename)
      void reply.header('content-disposition', `attachment; filename="${download.filename}"`);
    void reply.send(output);
    try {
      await writing;
    } catch (error) {
      if (hungUp) {
        request.log.info('export download interrupted by the client');
      } else {
        request.log.error({ err: describeUnexpected(error) }, 'export download failed after its first byte');
        output.destroy();
      }
    }
    return reply;
  } finally {
    release();
  }
}
