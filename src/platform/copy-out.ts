import { sql, type Kysely, type Transaction } from 'kysely';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { endSilentClient } from './client-socket.js';

// `COPY (…) TO STDOUT` inside a running Kysely transaction (decision 0430). Kysely never hands out
// the pg client a transaction runs on, and a COPY must run on that client to stay inside the
// transaction (its tenant, its row-level security, its gate decision). So the app's pools
// remember their clients by server process id, and a transaction finds its own client by asking
// the server for `pg_backend_pid()`.

const CLIENTS = new WeakMap<object, Map<number, pg.Client>>();

/**
 * How long `copyOut` waits for the server's next bytes before it takes the database as lost
 * (decision 0704): a server that stopped answering without closing the connection (a freeze, a
 * partition) would otherwise hold the export, its pooled connection and the person's export slot
 * until the operating system gives up on the socket.
 */
export const COPY_SILENCE_MS = 60 * 1000;

/** The silence limit of each tracked client (its pool's). */
const SILENCE = new WeakMap<pg.Client, number>();

/** Remembers the clients `pool` connects, by server process id, for copyOutClient on `db`. */
export function trackPoolClients(db: object, pool: pg.Pool, silenceMs = COPY_SILENCE_MS): void {
  const clients = new Map<number, pg.Client>();
  CLIENTS.set(db, clients);
  pool.on('connect', (client) => {
    SILENCE.set(client, silenceMs);
    // node-postgres keeps the process id from BackendKeyData; @types/pg does not declare it.
    const pid = (client as { processID?: unknown }).processID;
    if (typeof pid !== 'number') return;
    clients.set(pid, client);
    client.once('end', () => {
      if (clients.get(pid) === client) clients.delete(pid);
    });
  });
}

/** The pg client the transaction `tx` of `db` runs on, or undefined for a database made otherwise. */
export async function copyOutClient<DB>(db: Kysely<DB>, tx: Transaction<DB>): Promise<pg.Client | undefined> {
  const clients = CLIENTS.get(db);
  if (!clients) return undefined;
  const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
  const pid = rows[0]?.pid;
  return pid === undefined ? undefined : clients.get(pid);
}

/**
 * The bytes of `COPY (…) TO STDOUT` (`statement`) on `client`, as the server sends them; read at
 * the reader's pace (a slow reader pauses the socket, so memory stays flat). A reader that stops
 * before the end (a broken download) ends the connection: the server then stops the statement and
 * rolls the transaction back, and the pool drops the client instead of reusing it mid-COPY.
 */
export async function* copyOut(client: pg.Client, statement: string): AsyncGenerator<Buffer> {
  const query = new CopyOutQuery(statement);
  // A Submittable: node-postgres calls `submit` when the connection is free (decision 0610).
  client.query(query as unknown as pg.Submittable);
  let state: 'reading' | 'done' | 'failed' = 'reading';
  const silenceMs = SILENCE.get(client) ?? COPY_SILENCE_MS;
  try {
    for (;;) {
      const text = await withinSilence(client, silenceMs, () => query.next());
      if (text === undefined) break;
      if (text.length > 0) yield text;
    }
    state = 'done';
  } catch (error) {
    state = 'failed';
    throw error;
  } finally {
    if (state === 'reading') {
      query.stop();
      await client.end().catch(() => undefined);
    }
  }
}

/**
 * Waits for `next` (the server's next bytes; the reader's own pace is not timed: the read-ahead
 * answers at once while it holds text). If the server sends nothing for `silenceMs`, the socket is
 * destroyed with an ETIMEDOUT error: the COPY fails as on a lost database, and the pool drops the
 * client.
 */
async function withinSilence<T>(client: pg.Client, silenceMs: number, next: () => Promise<T>): Promise<T> {
  const timer = setTimeout(
    () => endSilentClient(client, `the database was silent for ${silenceMs / 1000} s`),
    silenceMs,
  );
  try {
    return await next();
  } finally {
    clearTimeout(timer);
  }
}

// Protocol message codes (https://www.postgresql.org/docs/current/protocol-message-formats.html).
const COPY_DATA = 0x64; // d
const COPY_DONE = 0x63; // c
const COPY_OUT_RESPONSE = 0x48; // H
const NOTICE_RESPONSE = 0x4e; // N
const PARAMETER_STATUS = 0x53; // S
const NOTIFICATION_RESPONSE = 0x41; // A

/** COPY text read ahead of a busy reader (decision 0610). */
const AHEAD_BYTES = 1024 * 1024;

interface PgConnection {
  /** The socket (the client's bytes arrive as Buffers). */
  stream: Readable;
  query(text: string): void;
}

/**
 * `COPY … TO STDOUT` read straight off the connection's socket (decision 0610). While the COPY
 * runs, the connection's bytes are taken from node-postgres (as pg-copy-streams does) and the
 * protocol's framing — a 5-byte header before each CopyData message, one row each — is removed in
 * place: the rows of a socket chunk are moved together over the headers (`copyWithin`, no object
 * per row) and the chunk is given as COPY text. pg-copy-streams made a Buffer view per row and
 * concatenated them per chunk, through a Readable; the bare COPY baseline still does.
 * The socket is read as soon as it has bytes, up to AHEAD_BYTES ahead of the reader: read only at
 * the reader's pace, the server waited for each turn of a busy reader (wall time 2–3 × the CPU on
 * a loaded machine). At CopyDone (or an ErrorResponse, or anything unexpected) the rest goes back
 * to node-postgres, which then reports the command's end or the error to this query.
 */
class CopyOutQuery {
  readonly #text: string;
  #connection: PgConnection | undefined;
  #pgDataHandler: ((chunk: Buffer) => void) | undefined;
  readonly #onReadable = (): void => {
    this.#fill();
    this.#wake();
  };
  /** COPY text read off the socket ahead of the reader, up to AHEAD_BYTES. */
  readonly #ahead: Buffer[] = [];
  #aheadBytes = 0;
  /** The message header read so far (a header may be split between socket chunks). */
  readonly #header = Buffer.alloc(5);
  #headerBytes = 0;
  #code = 0;
  /** Payload bytes of the current message not yet read. */
  #remaining = 0;
  /** The connection is node-postgres's again (the COPY's rows are all read, or an error came). */
  #detached = false;
  /** node-postgres reported the command's end: nothing more will come. */
  #finished = false;
  #failure: Error | undefined;
  #waiting: (() => void) | undefined;

  constructor(text: string) {
    this.#text = text;
  }

  /** node-postgres reports an error returned here through handleError. */
  submit(connection: PgConnection): Error | undefined {
    this.#connection = connection;
    const stream = connection.stream;
    const [handler, ...others] = stream.listeners('data') as Array<(chunk: Buffer) => void>;
    if (!handler || others.length > 0) return new Error('copyOut: the connection has unexpected listeners');
    this.#pgDataHandler = handler;
    stream.removeListener('data', handler);
    stream.pause();
    stream.on('readable', this.#onReadable);
    connection.query(this.#text);
    return undefined;
  }

  handleError(error: Error): void {
    this.#failure = error;
    this.#wake();
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    this.#finished = true;
    this.#wake();
  }

  /** The next COPY text (possibly empty), or undefined at the end; waits for the socket. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      const text = this.#ahead.shift();
      if (text !== undefined) {
        this.#aheadBytes -= text.length;
        this.#fill();
        return text;
      }
      if (this.#failure) throw this.#failure;
      if (this.#finished) return undefined;
      // After the COPY the socket is node-postgres's: only its report (end or error) is awaited.
      const chunk = this.#detached ? null : ((this.#connection?.stream.read() as Buffer | null) ?? null);
      if (chunk !== null) return this.#strip(chunk);
      await new Promise<void>((resolve) => {
        this.#waiting = resolve;
      });
    }
  }

  /** The reader left before the end: no more reading (the caller ends the connection). */
  stop(): void {
    this.#finished = true;
    this.#ahead.length = 0;
    const stream = this.#connection?.stream;
    if (!stream || this.#detached) return;
    stream.removeListener('readable', this.#onReadable);
    // Flowing without a listener: the rest of the COPY is dropped until the connection ends.
    stream.resume();
  }

  /**
   * Reads what the socket holds while the reader is busy, up to AHEAD_BYTES: the server keeps
   * sending instead of waiting for each of the reader's turns (decision 0610).
   */
  #fill(): void {
    const stream = this.#connection?.stream;
    while (stream && !this.#detached && !this.#finished && this.#aheadBytes < AHEAD_BYTES) {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) return;
      const text = this.#strip(chunk);
      if (text.length === 0) continue;
      this.#ahead.push(text);
      this.#aheadBytes += text.length;
    }
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  /** The CopyData payloads of `chunk`, moved together at its start; the framing left out. */
  #strip(chunk: Buffer): Buffer {
    let read = 0;
    let write = 0;
    while (read < chunk.length) {
      if (this.#remaining > 0) {
        const bytes = Math.min(this.#remaining, chunk.length - read);
        if (this.#code === COPY_DATA) {
          if (write !== read) chunk.copyWithin(write, read, read + bytes);
          write += bytes;
        }
        read += bytes;
        this.#remaining -= bytes;
        continue;
      }
      if (this.#headerBytes === 0) {
        const code = chunk[read] ?? 0;
        if (!isCopyMessage(code)) {
          // An ErrorResponse, or anything else not part of a COPY: node-postgres reads on from it.
          this.#detach(chunk.subarray(read));
          return chunk.subarray(0, write);
        }
      }
      while (this.#headerBytes < 5 && read < chunk.length)
        this.#header[this.#headerBytes++] = chunk[read++] ?? 0;
      if (this.#headerBytes < 5) break;
      this.#headerBytes = 0;
      this.#code = this.#header[0] ?? 0;
      this.#remaining = this.#header.readUInt32BE(1) - 4;
      if (this.#code === COPY_DONE && this.#remaining === 0) {
        this.#detach(chunk.subarray(read));
        return chunk.subarray(0, write);
      }
    }
    return chunk.subarray(0, write);
  }

  /** Gives the connection back to node-postgres with the bytes after the COPY. */
  #detach(rest: Buffer): void {
    const connection = this.#connection;
    const handler = this.#pgDataHandler;
    if (!connection || !handler) return;
    const stream = connection.stream;
    this.#detached = true;
    stream.removeListener('readable', this.#onReadable);
    stream.on('data', handler);
    this.#pgDataHandler = undefined;
    // node-postgres parses the command's end (or the error) and reports it to this query.
    if (rest.length > 0) handler(rest);
    process.nextTick(() => stream.resume());
  }
}

/** The messages of a running COPY: its data and what the server may send between them. */
function isCopyMessage(code: number): boolean {
  return (
    code === COPY_DATA ||
    code === COPY_DONE ||
    code === COPY_OUT_RESPONSE ||
    code === NOTICE_RESPONSE ||
    code === PARAMETER_STATUS ||
    code === NOTIFICATION_RESPONSE
  );
}
