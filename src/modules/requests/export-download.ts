import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { Transform, type Writable } from 'node:stream';
import type { Kernel } from '../../kernel/kernel.js';
import { isHeadRequest, sendHeadersOnly } from '../../http/head.js';
import { AppError, describeUnexpected } from '../../platform/errors.js';

/**
 * How long a person whose export is still running is asked to wait (`Retry-After`, decision
 * 0490): the report or package of a long call history takes a few seconds to write.
 */
export const EXPORT_RETRY_AFTER_SECONDS = 10;

/**
 * How exports use the server (attack S8-1, decision 0531): an export holds a pooled connection and
 * its transaction while the client reads, so at most `connections` of them run at once in a
 * process (the application pool has 10: the back office keeps the rest), and one whose client
 * takes no bytes for `stallMs` is ended, its transaction rolled back.
 */
export interface ExportPace {
  connections: number;
  stallMs: number;
}

export const DEFAULT_EXPORT_PACE: ExportPace = { connections: 4, stallMs: 30_000 };

/** Exports running now, per kernel (one per server process). */
const runningExports = new WeakMap<Kernel, { count: number }>();

/**
 * Takes one of the process's export connections (decision 0531); when all are taken the answer is
 * 429 `exports_busy` with Retry-After, before anything is read or a download link is spent.
 * Returns the release.
 */
export function takeServerExportSlot(kernel: Kernel, pace: ExportPace = DEFAULT_EXPORT_PACE): () => void {
  let running = runningExports.get(kernel);
  if (!running) {
    running = { count: 0 };
    runningExports.set(kernel, running);
  }
  if (running.count >= pace.connections)
    throw new AppError('exports_busy', 'every export connection of this process is in use', {
      publicMessage: 'many downloads are being written right now; try again in a moment',
      details: { retryAfterSeconds: EXPORT_RETRY_AFTER_SECONDS },
    });
  running.count += 1;
  const taken = running;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    taken.count -= 1;
  };
}

/**
 * Ends a response whose client took no bytes for `stallMs` (the socket's idle timer: while the
 * client reads, bytes leave and the timer starts again). Returns the undo, for a kept-alive socket.
 */
export function endWhenStalled(
  response: ServerResponse,
  stallMs: number,
  log: FastifyRequest['log'],
): () => void {
  const socket = response.socket;
  // An injected request (tests, light-my-request) has a stand-in socket without timers.
  if (!socket || typeof socket.setTimeout !== 'function') return () => undefined;
  const before = socket.timeout ?? 0;
  const onStall = (): void => {
    log.info({ stallMs }, 'export download ended: the client took no bytes');
    response.destroy();
  };
  socket.setTimeout(stallMs);
  socket.on('timeout', onStall);
  return () => {
    socket.off('timeout', onStall);
    socket.setTimeout(before);
  };
}

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
  /** The process's export limits; the defaults unless a test or deployment sets others. */
  pace?: ExportPace;
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
  const headers = (): void => {
    void reply.type(download.type).header('cache-control', 'no-store');
    if (download.filename)
      void reply.header('content-disposition', `attachment; filename="${download.filename}"`);
  };
  // A HEAD gets what a GET's headers would say, and nothing runs: no slot, no read, no audit entry
  // (attack S8-4, decision 0580).
  if (isHeadRequest(request)) {
    headers();
    return sendHeadersOnly(reply);
  }
  const pace = download.pace ?? DEFAULT_EXPORT_PACE;
  const releaseServer = takeServerExportSlot(download.kernel, pace);
  let release: () => void = () => undefined;
  let keepSocket: () => void = () => undefined;
  try {
    release = takeExportSlot(download.kernel, download.tenantId, download.subjectId);
    keepSocket = endWhenStalled(reply.raw, pace.stallMs, request.log);
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
    headers();
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
    keepSocket();
    release();
    releaseServer();
  }
}
