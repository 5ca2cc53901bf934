import { AsyncLocalStorage } from 'node:async_hooks';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  sql,
  type DatabaseConnection,
  type ConnectionProvider,
  type Dialect,
  type Driver,
  type QueryResult,
  type QueryCompiler,
  Transaction,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import { clientSocket, endSilentClient } from './client-socket.js';
import { trackPoolClients } from './copy-out.js';
import type { Database } from './database.js';
import type { Logger } from './logger.js';
import { scrubbedMessage } from './process-guard.js';
import { metSilentDatabase, noteCommitted, noteSilentDatabase } from './request-scope.js';
import {
  ConnectionStatements,
  isResultTypeChanged,
  NamedStatementOutdated,
  type NamedStatementSlot,
  type PgStatementRecord,
} from './named-statements.js';
import { namedConnectionString } from './server-sessions.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
export type TenantId = number;

/** The role the application runs as: no superuser, no BYPASSRLS, owns nothing. */
export const APP_ROLE = 'kluis_app';

// int8 (bigint) as JS number: our counts and ids stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));
// date stays 'YYYY-MM-DD': a calendar date, not an instant (pg would make a local-midnight Date,
// which shifts a day in any time zone west of the server's).
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
// numeric stays a string (money is integer cents elsewhere; exact decimals must not turn into floats).

export interface AppPoolOptions {
  connectionString: string;
  logger: Logger;
  /** Switch every connection to APP_ROLE, for when the login itself may bypass RLS. */
  assumeAppRole: boolean;
  max?: number;
  /**
   * How long a caller may wait for a connection (a free one, or a new one to be opened and take
   * the app role) before it fails as on a lost database: by default the statement silence limit
   * and the probe's together (decision 0767); for ever when the silence limit is 0.
   */
  connectionTimeoutMillis?: number;
  /** How long an export's COPY may wait for the server's next bytes (decision 0704; tests). */
  copySilenceMs?: number;
  /**
   * How long `destroy()` waits for the server to close the pool's connections before it closes
   * them from this side (decision 0735): CLOSE_WAIT_MS unless a test says less.
   */
  closeWaitMs?: number;
  /**
   * How long a statement may go unanswered before the pool asks the server, on a connection of its
   * own, whether it is there (decision 0726; default 30 s, tests shorter). `0`: never.
   */
  statementSilenceMs?: number;
  /**
   * Send the statements marked by preparedQuery (the gated statement) as named statements, parsed
   * and planned once per connection (decision 0770). Default true; false for a pooler in
   * transaction mode that does not keep them (PgBouncer before 1.21): KLUIS_PREPARED_STATEMENTS.
   */
  namedStatements?: boolean;
}

/** How long `destroy()` waits for the server to close a pool's connections (decision 0735). */
const CLOSE_WAIT_MS = 5000;
const SQLSTATE = /^[0-9A-Z]{5}$/;
/** A statement unanswered this long makes the pool ask whether the server is there (decision 0726). */
const STATEMENT_SILENCE_MS = 30_000;
/** How long that question may take before the server counts as gone. */
const PROBE_TIMEOUT_MS = 5_000;
/**
 * The commit of a transaction, with the question whether it wrote (it has a transaction id: a row
 * written or locked, an audit entry, a key; decision 0762, amended) in the same round trip.
 */
const WROTE_SQL = 'select pg_current_xact_id_if_assigned() is not null as wrote';
export const COMMIT_NOTING_WRITES = `${WROTE_SQL};\ncommit`;
/** SQLSTATE of a statement sent in a transaction a failed statement aborted. */
const IN_FAILED_TRANSACTION = '25P02';

/**
 * The pool the application uses. When the login is the owner/superuser (embedded server, or
 * a DATABASE_URL without a separate app login), each new connection does `SET ROLE kluis_app`
 * before it is handed out, so row-level security applies to everything the app runs. A
 * connection that cannot take the role is closed and the query that asked for it fails: it is
 * never used as the login itself, which could bypass row-level security (docs/decisions/0065).
 */
export function createAppDb<DB = Database>(options: AppPoolOptions): { db: Kysely<DB>; pool: pg.Pool } {
  // pg-pool awaits `onConnect` before it hands a new client out; when it rejects, the client is
  // ended and the caller's connect() rejects (@types/pg types the hook as returning void).
  const connectLimitMs = connectLimitOf(options);
  const config: Omit<pg.PoolConfig, 'onConnect'> & { onConnect?: (client: pg.ClientBase) => Promise<void> } =
    {
      connectionString: namedConnectionString(options.connectionString, 'kluis'),
      max: options.max ?? 10,
      ...(connectLimitMs === undefined ? {} : { connectionTimeoutMillis: connectLimitMs }),
    };
  if (options.assumeAppRole)
    config.onConnect = (client) => assumeAppRole(client, options.logger, connectLimitMs);
  const pool = new pg.Pool(config);
  pool.on('error', (err) =>
    options.logger.warn({ err: { message: err.message } }, 'idle database connection failed'),
  );
  const endPool = endWhenClosed(pool, options.logger, options.closeWaitMs);
  // A connection that is checked out (a transaction between two queries) has no pool listener:
  // its 'error' (the server died under it) would be unhandled and end the process. Its work fails
  // at its next query instead, and the pool drops it.
  pool.on('connect', (client) => {
    client.on('error', (err) =>
      options.logger.warn({ err: { message: err.message } }, 'database connection failed'),
    );
  });
  const silence = silenceWatch(options);
  const end = async () => {
    await silence.end();
    await endPool();
  };
  const dialect = new TenantBeginDialect(pool, end, silence, options.namedStatements ?? true);
  const db = new Kysely<DB>({ dialect });
  if (!dialect.driver) throw new Error('createAppDb: Kysely made no driver');
  // A transaction's own client, for `COPY … TO` inside it (copy-out.ts, decision 0430).
  trackPoolClients(db, pool, options.copySilenceMs);
  // A one-statement tenant transaction without Kysely's (runAloneInTenant, decision 0650), and a
  // transaction that begins at its first statement (withTenantOnFirstStatement, decision 0690).
  POOLS.set(db, { pool, driver: dialect.driver, silence });
  return { db, pool };
}

/**
 * A pooled client as Kysely's connection (decision 0780: one object per client, made once, and one
 * async step per statement between Kysely and node-postgres). Two differences from Kysely's own:
 * - A text of several statements (a simple query, which node-postgres answers with one result per
 *   statement) answers with the rows of its last statement that returns rows, where Kysely would
 *   read no rows at all (an audit append sent together with its commit, decision 0481).
 * - A tenant transaction's `begin` (withTenant) is not sent on its own: it goes to the server in
 *   front of the transaction's first statement, in the same round trip (decision 0570). A text
 *   without parameters is sent as one simple query behind it; a statement with parameters goes
 *   behind it in the extended protocol, every statement before one Sync (BehindBegin). A
 *   transaction that sent nothing ends without a round trip: nothing began on the server.
 * Every statement sent is under the silence watch (decision 0726).
 */
class PoolConnection implements DatabaseConnection {
  readonly client: pg.PoolClient;
  readonly #silence: SilenceWatch;
  /** This connection's named statements (decision 0770); they end with it on the server. */
  readonly #named: ConnectionStatements | undefined;
  /** The `begin` statements of a tenant transaction not sent yet. */
  #deferred: readonly string[] | undefined;
  /** Whether a statement of this connection is on the wire: the next waits for it (#inTurn). */
  #onTheWire = false;
  /** The statements sent while another was on the wire, in the order sent. */
  readonly #waiting: Array<() => void> = [];
  /**
   * A statement was refused unsent (decision 0810): the transaction it belonged to is left open on
   * the server, so the connection is dropped, not pooled again.
   */
  #refused = false;

  constructor(client: pg.PoolClient, silence: SilenceWatch, namedStatements: boolean) {
    this.client = client;
    this.#silence = silence;
    this.#named = namedStatements ? new ConnectionStatements() : undefined;
  }

  /** The tenant transaction's `begin`: sent in front of its first statement. */
  deferBegin(begin: readonly string[]): void {
    this.#deferred = begin;
  }

  /**
   * Commits the transaction and answers whether it wrote (decision 0762, amended): the server is
   * asked whether the transaction has an id, in the commit's own round trip (one simple query of
   * two statements). A transaction that sent nothing ends without a round trip and wrote nothing.
   * A transaction a failed statement aborted refuses the question and the server skips the commit
   * behind it: the commit alone then ends it as before (the server rolls it back), nothing written.
   */
  async commitNotingWrites(): Promise<boolean> {
    if (this.#deferred !== undefined) {
      this.#deferred = undefined;
      return false;
    }
    try {
      const { rows } = await this.executeQuery<{ wrote: boolean }>(CompiledQuery.raw(COMMIT_NOTING_WRITES));
      return rows[0]?.wrote !== false;
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== IN_FAILED_TRANSACTION) throw error;
      await this.executeQuery(CompiledQuery.raw('commit'));
      return false;
    }
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { sql: text, parameters } = compiledQuery;
    const begin = this.#deferred;
    this.#deferred = undefined;
    // The transaction sent nothing: nothing began on the server, nothing to end.
    if (begin !== undefined && (text === 'commit' || text === 'rollback')) return { rows: [] };
    const named = PREPARED.has(compiledQuery) ? this.#named : undefined;
    let result: pg.QueryResult;
    try {
      result = await this.#inTurn(() => {
        if (refusesSilent(this.#silence)) {
          this.#refused = true;
          // Thrown, not returned: nothing is sent, so the next statement's turn comes (#sendNow).
          throw new DatabaseSilentError();
        }
        return this.#silence.watch(this.client, this.#send(text, parameters, begin, named));
      });
    } catch (error) {
      throw withCallerStack(error);
    }
    const { command, rowCount } = result;
    const changed =
      command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
    return {
      ...(changed ? { numAffectedRows: BigInt(rowCount ?? 0) } : {}),
      rows: (result.rows ?? []) as R[],
    };
  }

  /**
   * Statements a work sends at once on one transaction go to the server one after the other, in
   * the order sent, as node-postgres's own queue did; node-postgres now warns on stderr (and pg 9
   * will refuse) when a query is sent while another runs (decision 0793). The usual lone
   * statement is sent at once and costs nothing more: no promise of its own, no async step
   * (decision 0795). `send`'s answer must call #nextInTurn when it settles (#send does).
   */
  #inTurn<T>(send: () => Promise<T>): Promise<T> {
    if (!this.#onTheWire) return this.#sendNow(send);
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => {
        this.#sendNow(send).then(resolve, reject);
      });
    });
  }

  #sendNow<T>(send: () => Promise<T>): Promise<T> {
    this.#onTheWire = true;
    try {
      return send();
    } catch (error) {
      // Nothing went to the server: the next may go.
      this.#nextInTurn();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The statement on the wire has its answer or its error: the next one sent goes. */
  #nextInTurn(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#onTheWire = false;
  }

  /** A streamed query needs a cursor, which the pool has not (as Kysely's without one). */
  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streamed queries are not supported on the application pool');
  }

  release(error?: Error): void {
    this.#deferred = undefined;
    const refused = this.#refused;
    this.#refused = false;
    this.client.release(error ?? (refused ? new DatabaseSilentError() : undefined));
  }

  /**
   * The statement's result: of its last statement that returns rows, for a text of several. When
   * it settles, the next statement of the connection goes (#inTurn), in the same step.
   */
  #send(
    text: string,
    parameters: readonly unknown[],
    begin: readonly string[] | undefined,
    named: ConnectionStatements | undefined,
  ): Promise<pg.QueryResult> {
    const failed = (error: unknown): never => {
      this.#nextInTurn();
      throw error;
    };
    if (named) {
      const before = begin ?? [];
      const statement = new BehindBegin(before, text, parameters, named);
      this.client.query(statement);
      return statement.answer.then((all) => {
        this.#nextInTurn();
        return lastResult(all.slice(before.length));
      }, failed);
    }
    if (begin === undefined)
      return this.client.query(text, [...parameters]).then((result) => {
        this.#nextInTurn();
        return lastResult(result);
      }, failed);
    if (parameters.length === 0)
      return this.client.query(`${begin.join('; ')};\n${text}`).then((all) => {
        this.#nextInTurn();
        const results = all as unknown as pg.QueryResult[];
        return lastResult(results.length === begin.length + 1 ? results.at(-1) : results.slice(begin.length));
      }, failed);
    const behind = new BehindBegin(begin, text, parameters);
    this.client.query(behind);
    return behind.answer.then((all) => {
      this.#nextInTurn();
      return lastResult(all.slice(begin.length));
    }, failed);
  }
}

/** One result, or of several (a simple query of several statements) the last that returns rows. */
function lastResult(result: pg.QueryResult | pg.QueryResult[] | undefined): pg.QueryResult {
  if (!Array.isArray(result)) return result as pg.QueryResult;
  if (result.length === 1) return result[0] as pg.QueryResult;
  const last = result.findLast((part) => part.fields.length > 0) ?? result.at(-1);
  return {
    command: last?.command ?? '',
    rowCount: last?.rowCount ?? 0,
    rows: last?.rows ?? [],
    oid: 0,
    fields: last?.fields ?? [],
  };
}

/** The error of a failed statement, with the stack of the code that sent it (as Kysely's connection). */
function withCallerStack(error: unknown): unknown {
  const caller = new Error().stack;
  if (error instanceof Error && typeof error.stack === 'string' && caller)
    error.stack += `\n${caller.split('\n').slice(1).join('\n')}`;
  return error;
}

interface SilenceWatch {
  /** `answer`, after ending `client`'s connection if the server is silent AND a probe says it is gone. */
  watch<T>(client: pg.PoolClient, answer: Promise<T>): Promise<T>;
  /**
   * Whether the server answers `select 1` on the probe's own connection within PROBE_TIMEOUT_MS;
   * callers asking at the same time share one question (decisions 0785, 0787).
   */
  serverAnswers(): Promise<boolean>;
  /** When a probe last got no answer and nothing of this pool was answered since (ms), if so. */
  silentSince(): number | undefined;
  /**
   * Records that the server left a new connection of the pool unanswered for the whole connect
   * limit: as telling as a probe's silence (decision 0810).
   */
  noteSilence(): void;
  /** Settles at the next silence a probe finds (or noteSilence), or at once when silentSince() is set. */
  whenSilent(): { silent: Promise<void>; cancel: () => void };
  end(): Promise<void>;
}

/**
 * Decision 0726: a statement unanswered for `statementSilenceMs` makes the pool ask the server, on
 * a connection of its own (one, opened only then), to answer `select 1` within PROBE_TIMEOUT_MS.
 * An answer means the server is there and the statement works or waits for a lock: nothing is cut,
 * and it is asked again after the next silence. No answer means a frozen or unreachable server:
 * the statement's socket is destroyed with ETIMEDOUT, so the statement fails as on a lost database
 * (a 503) and the pool drops the connection instead of holding it for as long as the socket lives.
 */
function silenceWatch(options: AppPoolOptions): SilenceWatch {
  const silenceMs = options.statementSilenceMs ?? STATEMENT_SILENCE_MS;
  let probe: pg.Pool | undefined;
  let endProbe: (() => Promise<void>) | undefined;
  /** The last word of the server: an answer (a statement's or the probe's) or a probe's silence. */
  let lastAnswerAt = 0;
  let lastSilenceAt = 0;
  let asking: Promise<boolean> | undefined;
  /** Those waiting for the next silence (whenSilent). */
  const waitingForSilence = new Set<() => void>();
  const noteSilence = () => {
    lastSilenceAt = Date.now();
    for (const wake of waitingForSilence) wake();
    waitingForSilence.clear();
  };
  const askProbe = async (): Promise<boolean> => {
    probe ??= new pg.Pool({
      // Named as the server's own connections: the upgrade guard sees it too (decision 0740).
      connectionString: namedConnectionString(options.connectionString, 'kluis'),
      max: 1,
      connectionTimeoutMillis: PROBE_TIMEOUT_MS,
      idleTimeoutMillis: 1_000,
    });
    // Its connection is closed as the pool's are: a stop asks the probe first (decision 0785), and
    // the server stopped next must find none of its sessions open (decision 0735).
    endProbe ??= endWhenClosed(probe, options.logger, options.closeWaitMs);
    // An idle probe connection lost with the server: nothing waits on it.
    if (probe.listenerCount('error') === 0) probe.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    });
    // An error the server itself sent (a SQLSTATE: too many connections, say) is an answer too.
    const asked = probe.query('select 1').then(
      () => true,
      (error: unknown) => SQLSTATE.test(String((error as { code?: unknown }).code)),
    );
    try {
      const answered = await Promise.race([asked, late]);
      if (answered) lastAnswerAt = Date.now();
      else noteSilence();
      return answered;
    } finally {
      clearTimeout(timer);
    }
  };
  const serverAnswers = (): Promise<boolean> => {
    asking ??= askProbe().finally(() => {
      asking = undefined;
    });
    return asking;
  };
  const silentSince = () => (lastSilenceAt > lastAnswerAt ? lastSilenceAt : undefined);
  const watchOfPool: SilenceWatch = {
    serverAnswers,
    silentSince,
    noteSilence,
    whenSilent: () => {
      let wake: () => void = () => undefined;
      const silent = new Promise<void>((resolve) => {
        wake = resolve;
      });
      if (silentSince() !== undefined) wake();
      else waitingForSilence.add(wake);
      return { silent, cancel: () => waitingForSilence.delete(wake) };
    },
    watch: (client, answer) => {
      if (silenceMs <= 0) return answer;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const check = () => {
        timer = setTimeout(() => {
          void serverAnswers().then((alive) => {
            if (settled) return;
            if (alive) return check();
            options.logger.error(
              { silentMs: silenceMs },
              'a statement went unanswered and the database did not answer a probe: connection ended',
            );
            endSilentClient(
              client,
              `the database was silent for ${silenceMs / 1000} s and did not answer a probe`,
            );
          });
        }, silenceMs);
      };
      check();
      // The answer itself goes back to the caller (no async step of the watch's own in between).
      const answered = () => {
        settled = true;
        clearTimeout(timer);
        lastAnswerAt = Date.now();
      };
      // An error the server sent (a SQLSTATE) is its answer too. A statement lost while the probe
      // says the server is silent (this one cut, or another): the request it runs for has met the
      // silence, and its later statements on this pool fail at once (decision 0810). The callback
      // runs in the request's async context (the watch's).
      const failed = (error: unknown) => {
        settled = true;
        clearTimeout(timer);
        if (SQLSTATE.test(String((error as { code?: unknown }).code))) lastAnswerAt = Date.now();
        else if (silentSince() !== undefined) noteSilentDatabase(watchOfPool);
      };
      answer.then(answered, failed);
      return answer;
    },
    end: async () => {
      await endProbe?.();
    },
  };
  return watchOfPool;
}

/**
 * Whether a statement or connection wait of the request this call runs for must fail at once
 * (decision 0810): the request has already found the database silent on this pool (a statement
 * cut after an unanswered probe, a connection wait that ran out on a silent server), and nothing
 * of the pool has been answered since. The bound of decisions 0726 and 0767 (30 s + 5 s) is then
 * one per request, not one per statement.
 */
function refusesSilent(silence: SilenceWatch): boolean {
  return metSilentDatabase(silence) && silence.silentSince() !== undefined;
}

/**
 * A statement or connection wait refused unsent: earlier in the same request the database was
 * found silent and has answered nothing since (decision 0810). Classed as a lost database.
 */
export class DatabaseSilentError extends Error {
  readonly code = 'KLUIS_DATABASE_SILENT';
  constructor() {
    super('the database was found silent earlier in this request and has not answered since');
    this.name = 'DatabaseSilentError';
  }
}

/**
 * `work`'s value, or undefined as soon as the pool of `db` (a database createAppDb made) finds the
 * database silent, or at once when that is its last word (decision 0810). For after-work a request
 * waits for but does not need for its answer (the chain run after a commit, whose entries are
 * durable in audit_pending): one silent statement of it ends the wait, not each of its statements.
 */
export async function unlessDatabaseSilent<T, DB>(db: Kysely<DB>, work: Promise<T>): Promise<T | undefined> {
  const made = POOLS.get(db);
  if (!made) return work;
  const silence = made.silence.whenSilent();
  try {
    return await Promise.race([work, silence.silent.then(() => undefined)]);
  } finally {
    silence.cancel();
  }
}

/**
 * Tracks `pool`'s connections (call it before the pool connects) and answers the function that
 * ends the pool and resolves once the server has closed every one of its connections. pg-pool's
 * `end()` resolves as soon as it has *asked* each connection to end: the backend may not have read
 * the goodbye yet. PostgreSQL stopped right then (`kluis serve`'s shutdown stops the embedded
 * server next) terminates that session, and the ending connection still reads the server's
 * "terminating connection due to administrator command" (57P01) and reports it as a failed
 * connection (decision 0735). A server that has not closed them within `waitMs` (a frozen one, a
 * partition) has them closed from this side: nothing arrives on them afterwards. Used by the app's
 * pools (createAppDb) and by the job queue's (decision 0763).
 */
export function endWhenClosed(pool: pg.Pool, logger: Logger, waitMs = CLOSE_WAIT_MS): () => Promise<void> {
  /** The pool's connections the server has not closed yet. */
  const open = new Set<pg.PoolClient>();
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => open.delete(client));
  });
  return () => endPool(pool, open, waitMs, logger);
}

async function endPool(
  pool: pg.Pool,
  open: ReadonlySet<pg.PoolClient>,
  waitMs: number,
  logger: Logger,
): Promise<void> {
  await pool.end();
  if (open.size === 0) return;
  const closing = [...open];
  const closed = Promise.all(
    closing.map((client) => new Promise<void>((resolve) => client.once('end', () => resolve()))),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), waitMs);
  });
  try {
    if ((await Promise.race([closed, late])) !== 'late') return;
  } finally {
    clearTimeout(timer);
  }
  logger.warn(
    { connections: open.size, waitMs },
    'the database did not close its connections in time: closed from this side',
  );
  for (const client of closing) clientSocket(client)?.destroy();
  await closed;
}

/** The protocol messages node-postgres's connection writes (pg/lib/connection.js). */
interface ProtocolConnection extends PgStatementRecord {
  close(message: { type: 'S'; name: string }): void;
  parse(query: { text: string; name: string; types: number[] }): void;
  bind(config: { portal: string; statement: string; values: unknown[]; binary: boolean }): void;
  describe(message: { type: 'P'; name: string }): void;
  execute(config: { portal: string; rows: number }): void;
}

/**
 * A statement with parameters behind a transaction's `begin` statements (none when it began
 * already), in ONE round trip: each `begin` statement as Parse, Bind, Describe, Execute, then the
 * statement as node-postgres sends any (ending with the one Sync). The explicit `begin` makes the
 * transaction outlive the Sync; an error anywhere skips the rest, and the caller rolls the
 * transaction back as after any failed statement. Answers every statement's result, the `begin`
 * statements' first. With `named` (decision 0770) the statement is the connection's named
 * statement of its text: Close messages for the statements it no longer keeps go first (nothing
 * before them can fail, so the server always runs them), and the Parse only when needed.
 */
class BehindBegin extends pg.Query {
  readonly answer: Promise<pg.QueryResult[]>;
  /** What went to the server, as one text (for tests and the bench's statement timer). */
  readonly sentText: string;
  readonly #text: string;
  readonly #begin: readonly string[];
  readonly #named: ConnectionStatements | undefined;
  #slot: NamedStatementSlot | undefined;

  constructor(
    begin: readonly string[],
    text: string,
    values: readonly unknown[],
    named?: ConnectionStatements,
  ) {
    // A named statement always goes in the extended protocol, with parameters or without.
    super({ text, values: [...values], ...(named ? { queryMode: 'extended' as const } : {}) });
    this.#text = text;
    this.#begin = begin;
    this.#named = named;
    this.sentText = begin.length === 0 ? text : `${begin.join('; ')};\n${text}`;
    this.answer = new Promise((resolve, reject) => {
      // node-postgres calls it once, with every result of the round trip (several: an array; one
      // alone when no `begin` went in front), before the connection sends its next query: the
      // named statement's state is settled before anything else can use it.
      (
        this as unknown as {
          callback: (error: Error | null, result: pg.QueryResult[] | pg.QueryResult) => void;
        }
      ).callback = (error, result) => {
        if (this.#slot) this.#named?.answered(this.#slot, !error);
        if (!error) return resolve(Array.isArray(result) ? result : [result]);
        reject(this.#slot && isResultTypeChanged(error) ? new NamedStatementOutdated(error) : error);
      };
    });
  }

  /** Called by node-postgres's Query.submit (it corks the socket around it: one write). */
  prepare(connection: ProtocolConnection): void {
    if (this.#named) {
      this.#slot = this.#named.take(this.#text, connection);
      // Query.prototype.prepare sends the Parse when pg's record lacks the name (take saw to it).
      (this as unknown as { name: string }).name = this.#slot.name;
      for (const name of this.#slot.close) connection.close({ type: 'S', name });
    }
    for (const text of this.#begin) {
      connection.parse({ text, name: '', types: [] });
      connection.bind({ portal: '', statement: '', values: [], binary: false });
      connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '', rows: 0 });
    }
    // Query.prototype.prepare: not in @types/pg.
    (pg.Query.prototype as unknown as { prepare(connection: ProtocolConnection): void }).prepare.call(
      this,
      connection,
    );
  }
}

/**
 * How long a caller waits for a connection (decision 0767). pg-pool's limit covers the wait for a
 * free connection and the opening of a new one (a frozen server completes the TCP handshake and
 * never answers the startup), not the `SET ROLE` after it, which assumeAppRole watches itself.
 */
function connectLimitOf(options: AppPoolOptions): number | undefined {
  if (options.connectionTimeoutMillis !== undefined) return options.connectionTimeoutMillis;
  const silenceMs = options.statementSilenceMs ?? STATEMENT_SILENCE_MS;
  return silenceMs === 0 ? undefined : silenceMs + PROBE_TIMEOUT_MS;
}

/** Switches a fresh connection to APP_ROLE; rejects (the connection is then closed) when it cannot. */
async function assumeAppRole(
  client: pg.ClientBase,
  logger: Logger,
  limitMs: number | undefined,
): Promise<void> {
  // A server that answered the startup and then froze: the connection is ended, as a silent one.
  const timer =
    limitMs === undefined
      ? undefined
      : setTimeout(
          () => endSilentClient(client, `the database did not answer SET ROLE within ${limitMs / 1000} s`),
          limitMs,
        );
  try {
    await client.query(`SET ROLE ${APP_ROLE}`);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    const code = (error as { code?: unknown }).code;
    logger.error({ code }, 'could not switch to the application role: connection closed');
    throw new AppRoleError(typeof code === 'string' ? code : undefined);
  } finally {
    clearTimeout(timer);
  }
}

/** A database connection could not take the application role; nothing ran on it. */
export class AppRoleError extends Error {
  readonly code: string | undefined;
  constructor(code: string | undefined) {
    super(`database connection could not switch to ${APP_ROLE}`);
    this.name = 'AppRoleError';
    this.code = code;
  }
}

/** How a tenant transaction starts, beyond the tenant: isolation, access mode, commit durability. */
export interface TenantTransactionOptions {
  isolationLevel?: 'repeatable read' | 'serializable';
  accessMode?: 'read only' | 'read write';
  /**
   * `off`: this transaction's commit does not wait for the WAL flush. Only for work whose loss
   * after a database crash is harmless (the audit chainer, decision 0340); never for an audited
   * transaction.
   */
  synchronousCommit?: 'off';
}

/**
 * Runs `work` in a transaction scoped to one tenant: row-level security policies read
 * `app.tenant`, which `set_config(…, true)` sets for this transaction only. The `begin` and the
 * settings go to the server in front of the work's first statement, in its round trip (decisions
 * 0370, 0570): simple queries take no parameters, so the tenant id is inlined, after checking it is
 * a safe integer (it is a number type, never text from outside, and is written as its digits
 * only). The pooled connection is taken before the work runs; the transaction commits when the
 * work returns and rolls back when it throws (TenantTransaction, decision 0780).
 */
export async function withTenant<T, DB = Database>(
  db: Kysely<DB>,
  tenantId: TenantId,
  work: (tx: Transaction<DB>) => Promise<T>,
  options: TenantTransactionOptions = {},
): Promise<T> {
  const settings = tenantSettingsSql(tenantId, options);
  const made = POOLS.get(db);
  if (!made) return withTenantElsewhere(db, tenantId, settings, work);
  const transaction = new TenantTransaction(db, tenantId, made.driver, [beginSql(options), settings]);
  await transaction.connect();
  return transaction.run(work, undefined);
}

/**
 * withTenant on a database made without createAppDb (a dedicated connection's own Kysely): a
 * Kysely transaction that begins with a plain `begin`, the settings as a statement of their own.
 */
async function withTenantElsewhere<T, DB>(
  db: Kysely<DB>,
  tenantId: TenantId,
  settings: string,
  work: (tx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (tx) => {
    await sql.raw(settings).execute(tx);
    const open: OpenTransaction = { db, tenantId, tx, open: true };
    try {
      return await OPEN_TRANSACTION.run(open, () => work(tx));
    } finally {
      open.open = false;
    }
  });
}

interface OpenTransaction {
  db: object;
  tenantId: TenantId;
  tx: object;
  open: boolean;
}

/** The tenant transaction the current call runs inside (withTenant's work), if any. */
const OPEN_TRANSACTION = new AsyncLocalStorage<OpenTransaction>();

/**
 * The still open transaction of `db` for `tenantId` that the current call runs inside, if any: a
 * short read the kernel makes on the side (the policy in force) runs in it rather than taking a
 * second pooled connection while this one is held. N requests each holding a connection and
 * waiting for one more starved a pool of N for ever (billing.test.ts hung so, decision 0583).
 */
export function openTransactionOf<DB>(db: Kysely<DB>, tenantId: TenantId): Transaction<DB> | undefined {
  const open = OPEN_TRANSACTION.getStore();
  if (!open?.open || open.db !== db || open.tenantId !== tenantId) return undefined;
  return open.tx as Transaction<DB>;
}

/** What a tenant transaction begun at its first statement does once its work has returned. */
export interface TenantTransactionEnd<T, R, DB> {
  /** The work sent a statement: runs inside its transaction, before the commit. */
  within(value: T, tx: Transaction<DB>): Promise<R>;
  /** The work sent nothing: no transaction began, and the work's `tx` is closed by then. */
  alone(value: T): Promise<R>;
}

/**
 * withTenant whose transaction takes its pooled connection and begins at the work's first
 * statement (decision 0690). When the work sends a statement, this is withTenant: the same
 * connection, `begin` and tenant for the whole work, `end.within` before the commit, a rollback
 * when anything throws. When it sends none, no connection was taken and `end.alone` runs after
 * it, outside any transaction (an audit-only withAudit then sends its entries as one query of
 * their own, decision 0650). The work's `tx` is also the open transaction of 0583's store, so a
 * read made on the side begins it rather than taking a second connection. Once the work has
 * returned, `tx` refuses every statement: one the work did not await, sent after that, would
 * otherwise run outside the transaction or after its end. Statements sent before the transaction
 * had its connection end before its commit or rollback, awaited or not; later ones queue on that
 * connection as in withTenant.
 */
export async function withTenantOnFirstStatement<T, R, DB = Database>(
  db: Kysely<DB>,
  tenantId: TenantId,
  work: (tx: Transaction<DB>) => Promise<T>,
  end: TenantTransactionEnd<T, R, DB>,
): Promise<R> {
  // Refused before the work runs, as withTenant refuses it before its transaction.
  const settings = tenantSettingsSql(tenantId, {});
  const made = POOLS.get(db);
  if (!made) return withTenant(db, tenantId, async (tx) => end.within(await work(tx), tx));
  const transaction = new TenantTransaction(db, tenantId, made.driver, [beginSql({}), settings]);
  return transaction.run(work, end);
}

/** A refused statement on the `tx` of a tenant transaction whose work has returned. */
export class FinishedTransactionError extends Error {
  constructor() {
    super('statement on a finished tenant transaction: await every statement inside the work');
    this.name = 'FinishedTransactionError';
  }
}

/** The driver of a tenant transaction's `tx`: the transaction begins and ends itself. */
const NO_DRIVER: Driver = {
  init: () => Promise.resolve(),
  acquireConnection: () => Promise.reject(new Error('a tenant transaction cannot open another connection')),
  beginTransaction: () => Promise.reject(new Error('a tenant transaction cannot begin another one')),
  commitTransaction: () => Promise.reject(new Error('a tenant transaction commits when its work returns')),
  rollbackTransaction: () =>
    Promise.reject(new Error('a tenant transaction rolls back when its work throws')),
  releaseConnection: () => Promise.resolve(),
  destroy: () => Promise.reject(new Error('a tenant transaction cannot destroy its database')),
};

/**
 * A tenant transaction of a createAppDb database: the one implementation behind withTenant and
 * withTenantOnFirstStatement (decision 0780). It holds one pooled connection, taken through the
 * database's executor (so the pool's release runs on every path) either before the work
 * (`connect()`, withTenant) or at the work's first statement. Its `tx` hands that connection to
 * each statement directly: one Kysely Transaction per transaction, no connection or transaction
 * builder of Kysely's around it. `begin`, commit and rollback are the driver's (TenantBeginDriver:
 * the `begin` sent with the first statement, the statement sent with the commit, a commit lost
 * with the database), in the same order as Kysely's transaction: a failed work or `within` and a
 * failed commit roll back, and a failed rollback is what is thrown.
 */
class TenantTransaction<DB> {
  /** The work's transaction: refuses statements once the work has returned. */
  readonly tx: Transaction<DB>;
  readonly #db: Kysely<DB>;
  readonly #tenantId: TenantId;
  readonly #driver: TenantBeginDriver;
  readonly #begin: readonly string[];
  #workOpen = true;
  #connection: DatabaseConnection | undefined;
  #connecting: Promise<DatabaseConnection> | undefined;
  /** The executor's hold on the pooled connection: settles once the transaction has ended. */
  #held: Promise<unknown> | undefined;
  /** The statements sent before the transaction had its connection, and not yet answered. */
  readonly #unanswered = new Set<Promise<unknown>>();
  #finish!: (end: (connection: DatabaseConnection) => Promise<unknown>) => void;
  #abort!: (error: unknown) => void;

  constructor(db: Kysely<DB>, tenantId: TenantId, driver: TenantBeginDriver, begin: readonly string[]) {
    this.#db = db;
    this.#tenantId = tenantId;
    this.#driver = driver;
    this.#begin = begin;
    this.tx = this.#transaction({
      provideConnection: (consumer) => {
        if (!this.#workOpen) return Promise.reject(new FinishedTransactionError());
        return this.#provide(consumer);
      },
    });
  }

  /** Takes the pooled connection and begins (the `begin` waits for the first statement). */
  connect(): Promise<DatabaseConnection> {
    if (this.#connecting) return this.#connecting;
    // What ends the transaction, told once the work has ended (#finish, #abort): made here, as a
    // work that sends nothing takes no connection and needs none (decision 0795).
    const ending = new Promise<(connection: DatabaseConnection) => Promise<unknown>>((resolve, reject) => {
      this.#finish = resolve;
      this.#abort = reject;
    });
    // Rejected on a work's failure, which may come before #hold awaits it.
    ending.catch(() => undefined);
    this.#connecting = new Promise<DatabaseConnection>((resolve, reject) => {
      this.#held = this.#db
        .getExecutor()
        .provideConnection((connection) => this.#hold(connection, resolve, ending));
      // A transaction that could not take its connection: its statements fail with the reason.
      this.#held.catch(reject);
    });
    return this.#connecting;
  }

  /**
   * Runs `work` with `tx` as the open transaction of 0583's store, then ends the transaction:
   * `end.within` and the commit after a work that sent statements, `end.alone` after one that
   * sent none (no end: the work's value, committed), a rollback after one that threw.
   */
  async run<T, R>(
    work: (tx: Transaction<DB>) => Promise<T>,
    end: TenantTransactionEnd<T, R, DB> | undefined,
  ): Promise<R> {
    const open: OpenTransaction = { db: this.#db, tenantId: this.#tenantId, tx: this.tx, open: true };
    let value: T;
    try {
      value = await OPEN_TRANSACTION.run(open, () => work(this.tx));
    } catch (error) {
      open.open = false;
      this.#workOpen = false;
      return this.#rollBack(error);
    }
    open.open = false;
    this.#workOpen = false;
    if (!this.#held) return end ? end.alone(value) : (value as unknown as R);
    // Usually none is left: no promise, no step (decision 0795).
    if (this.#unanswered.size > 0) await this.#settled();
    this.#finish(async (connection) => {
      if (!end) return value;
      const within = this.#transaction({ provideConnection: (consumer) => consumer(connection) });
      TX_CONNECTION.set(within, connection);
      const store: OpenTransaction = { db: this.#db, tenantId: this.#tenantId, tx: within, open: true };
      try {
        return await OPEN_TRANSACTION.run(store, () => end.within(value, within));
      } finally {
        store.open = false;
      }
    });
    return (await this.#held) as R;
  }

  /** After the work threw: its transaction, if it began, rolls back; then the error is thrown. */
  async #rollBack(error: unknown): Promise<never> {
    if (this.#held) {
      if (this.#unanswered.size > 0) await this.#settled();
      this.#abort(error);
      // Rejects with the error, or with the rollback's own failure.
      await this.#held;
    }
    throw error;
  }

  /** Statements sent before the transaction had its connection end before its commit or rollback. */
  async #settled(): Promise<void> {
    await Promise.allSettled(this.#unanswered);
  }

  #provide<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    // On its connection in the order sent: node-postgres queues them.
    if (this.#connection) return consumer(this.#connection);
    const statement = this.connect().then(consumer);
    this.#unanswered.add(statement);
    const answered = () => this.#unanswered.delete(statement);
    statement.then(answered, answered);
    return statement;
  }

  /** The executor's consumer: begins, hands the connection out, ends when told, then returns it. */
  async #hold(
    connection: DatabaseConnection,
    connected: (connection: DatabaseConnection) => void,
    ending: Promise<(connection: DatabaseConnection) => Promise<unknown>>,
  ): Promise<unknown> {
    try {
      this.#driver.beginTenant(connection, this.#begin);
      this.#connection = connection;
      TX_CONNECTION.set(this.tx, connection);
      connected(connection);
      try {
        const result = await (await ending)(connection);
        await this.#driver.commitTransaction(connection);
        return result;
      } catch (error) {
        await this.#driver.rollbackTransaction(connection);
        throw error;
      }
    } finally {
      COMMIT_WITH.delete(connection);
    }
  }

  #transaction(provider: ConnectionProvider): Transaction<DB> {
    const dialect = this.#driver.dialect;
    return new Transaction<DB>({
      config: { dialect },
      dialect,
      driver: NO_DRIVER,
      executor: this.#db.getExecutor().withConnectionProvider(provider),
    });
  }
}

/** The pool and driver of each database createAppDb made. */
const POOLS = new WeakMap<object, { pool: pg.Pool; driver: TenantBeginDriver; silence: SilenceWatch }>();

/** Whether runAloneInTenant can run on `db` (a database createAppDb made). */
export function canRunAlone<DB>(db: Kysely<DB>): boolean {
  return POOLS.has(db);
}

/**
 * Runs `statement` (a text without parameters: values inlined as literals) as a tenant
 * transaction of its own: the `begin`, the tenant's setting, the statement, the question whether it
 * wrote (COMMIT_NOTING_WRITES) and the `commit` go to
 * the server as ONE simple query on a pooled client, answered in one read (decision 0650). For
 * a transaction that is this one statement and nothing else (an audit-only append): it skips
 * Kysely's transaction and the open-transaction store, as nothing else runs inside it. When any
 * part fails, the server skips the rest and nothing commits: the transaction is rolled back and
 * the error thrown. Answers the statement's rows; undefined (nothing sent) for a database made
 * without createAppDb, whose caller then uses withTenant.
 */
export function runAloneInTenant<R, DB = Database>(
  db: Kysely<DB>,
  tenantId: TenantId,
  statement: string,
): Promise<R[]> | undefined {
  const made = POOLS.get(db);
  if (!made) return undefined;
  const text = `${beginSql({})}; ${tenantSettingsSql(tenantId, {})};\n${statement};\n${COMMIT_NOTING_WRITES}`;
  return runAlone<R>(made.pool, made.silence, text);
}

async function runAlone<R>(pool: pg.Pool, silence: SilenceWatch, text: string): Promise<R[]> {
  const client = await connectExplained(pool, silence);
  let results: pg.QueryResult[];
  try {
    results = (await silence.watch(client, client.query(text))) as unknown as pg.QueryResult[];
  } catch (error) {
    await rollBackAndRelease(client);
    throw error;
  }
  client.release();
  // One result per statement: begin, the settings, the statement, whether it wrote, commit.
  const parts = Array.isArray(results) && results.length === 5 ? results : undefined;
  // Only a commit that saved something makes a later 503 "partial" (decisions 0762, 0812).
  if ((parts?.[3]?.rows[0] as { wrote?: boolean } | undefined)?.wrote !== false) noteCommitted();
  const answer = parts?.[2];
  if (!answer)
    throw new Error('runAloneInTenant: the statement was not one statement (it ran and committed)');
  return answer.rows as R[];
}

/**
 * After a failed statement of runAlone the transaction may still be open (aborted): it is rolled
 * back before the client goes back to the pool; a client that cannot do even that is dropped.
 */
async function rollBackAndRelease(client: pg.PoolClient): Promise<void> {
  try {
    await client.query('rollback');
    client.release();
  } catch (error) {
    client.release(error instanceof Error ? error : new Error('rollback failed'));
  }
}

/** `select set_config(…)` for the tenant and the options; throws on anything but a safe integer id. */
function tenantSettingsSql(tenantId: TenantId, options: TenantTransactionOptions): string {
  if (!Number.isSafeInteger(tenantId)) throw new Error('withTenant: the tenant id must be a safe integer');
  const settings = [`set_config('app.tenant', '${String(tenantId)}', true)`];
  if (options.synchronousCommit === 'off') settings.push(`set_config('synchronous_commit', 'off', true)`);
  return `select ${settings.join(', ')}`;
}

function beginSql(options: TenantTransactionOptions): string {
  if (!options.isolationLevel && !options.accessMode) return 'begin';
  return [
    'start transaction',
    options.isolationLevel && `isolation level ${options.isolationLevel}`,
    options.accessMode,
  ]
    .filter(Boolean)
    .join(' ');
}

/**
 * Sends `statement` (a text without parameters: values inlined as literals) together with the
 * commit of the tenant transaction `tx`, as one simple query: one round trip for the last
 * statement and the commit (decision 0481). Call it at the end of the transaction's work, and
 * await the answer only after the transaction has ended: it holds the statement's rows once the
 * commit succeeded. When the statement fails, the commit is not made: the transaction rolls back
 * and withTenant throws. Undefined for a transaction whose database cannot do this (one made
 * without createAppDb): the caller then sends the statement itself.
 */
export function commitWith<R, DB = Database>(
  tx: Transaction<DB>,
  statement: string,
): Promise<R[]> | undefined {
  const connection = TX_CONNECTION.get(tx);
  if (!connection) return undefined;
  if (COMMIT_WITH.has(connection)) throw new Error('commitWith: one statement per commit');
  return new Promise<R[]>((resolve, reject) => {
    COMMIT_WITH.set(connection, {
      statement,
      resolve: (rows) => resolve(rows as R[]),
      reject,
    });
  });
}

/** Statements preparedQuery marked; a connection other than PoolConnection never looks. */
const PREPARED = new WeakSet<CompiledQuery>();

/**
 * `query`, sent by the application pool as a named statement of its connection, parsed and
 * planned once per connection (the gated statement, decision 0770), when the pool sends named
 * statements (AppPoolOptions.namedStatements); on any other connection as any statement. Its name
 * is a hash of its text: two texts never share one.
 */
export function preparedQuery<R>(query: CompiledQuery<R>): CompiledQuery<R> {
  PREPARED.add(query);
  return query;
}

/** The connection a tenant transaction of a TenantBeginDialect database runs on. */
const TX_CONNECTION = new WeakMap<object, DatabaseConnection>();

/** What a connection's next commit sends before the `commit` (commitWith). */
const COMMIT_WITH = new WeakMap<
  DatabaseConnection,
  { statement: string; resolve: (rows: unknown[]) => void; reject: (error: unknown) => void }
>();

/** Connections whose commit failed for want of the database, until Kysely's rollback after it. */
const LOST_AT_COMMIT = new WeakMap<DatabaseConnection, unknown>();

/**
 * The database went away while a commit was under way: the server may have made it or not, and
 * nothing on this side can tell (decision 0725). Classed as database unavailability (a 503), whose
 * answer says that the changes may have been saved.
 */
export class CommitOutcomeUnknown extends Error {
  constructor(cause: unknown) {
    super('the connection was lost during a commit: its outcome is unknown', { cause });
    this.name = 'CommitOutcomeUnknown';
  }
}

/**
 * PostgreSQL as Kysely's dialect gives it, on the application pool's own connections
 * (PoolConnection): a tenant transaction begins in one round trip.
 */
class TenantBeginDialect extends PostgresDialect {
  readonly #pool: pg.Pool;
  readonly #end: () => Promise<void>;
  readonly #silence: SilenceWatch;
  readonly #namedStatements: boolean;
  /** The driver Kysely made (it makes one, in its constructor), for the tenant transactions. */
  driver: TenantBeginDriver | undefined;

  constructor(pool: pg.Pool, end: () => Promise<void>, silence: SilenceWatch, namedStatements: boolean) {
    // Kysely's driver only writes the `begin`, `commit`, `rollback` and savepoint statements here:
    // the connections are the pool's own (TenantBeginDriver).
    super({
      pool: { connect: () => Promise.reject(new Error('not this pool')), end: () => Promise.resolve() },
    });
    this.#pool = pool;
    this.#end = end;
    this.#silence = silence;
    this.#namedStatements = namedStatements;
  }

  override createDriver(): Driver {
    this.driver = new TenantBeginDriver(super.createDriver(), this, this.#pool, this.#end, this.#silence, {
      namedStatements: this.#namedStatements,
    });
    return this.driver;
  }
}

class TenantBeginDriver implements Driver {
  /** Kysely's PostgreSQL driver, for the statements it writes on a connection. */
  readonly #inner: Driver;
  readonly dialect: Dialect;
  readonly #pool: pg.Pool;
  readonly #end: () => Promise<void>;
  readonly #silence: SilenceWatch;
  readonly #namedStatements: boolean;
  readonly #connections = new WeakMap<pg.PoolClient, PoolConnection>();

  constructor(
    inner: Driver,
    dialect: Dialect,
    pool: pg.Pool,
    end: () => Promise<void>,
    silence: SilenceWatch,
    options: { namedStatements: boolean },
  ) {
    this.#inner = inner;
    this.dialect = dialect;
    this.#pool = pool;
    this.#end = end;
    this.#silence = silence;
    this.#namedStatements = options.namedStatements;
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const client = await connectExplained(this.#pool, this.#silence);
    let connection = this.#connections.get(client);
    if (!connection) {
      connection = new PoolConnection(client, this.#silence, this.#namedStatements);
      this.#connections.set(client, connection);
    }
    return connection;
  }

  /** A transaction that is not a tenant transaction (Kysely's own `db.transaction()`). */
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  /**
   * A tenant transaction's `begin` (TenantTransaction): not sent now, the connection sends it in
   * front of the transaction's first statement, in one round trip (PoolConnection, decision 0570).
   * A failure of the `begin` or its settings is then that statement's failure, and the
   * transaction rolls back.
   */
  beginTenant(connection: DatabaseConnection, begin: readonly string[]): void {
    if (!(connection instanceof PoolConnection)) throw new Error('a tenant transaction needs the pool');
    connection.deferBegin(begin);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      // Only a commit that saved something makes a later 503 "partial" (decisions 0762, 0812).
      if (await this.#commit(connection)) noteCommitted();
    } catch (error) {
      // A commit refused unsent (decision 0810) was not made: its outcome is known.
      if (!isDatabaseUnavailable(error) || error instanceof DatabaseSilentError) throw error;
      // The commit may have been made before the connection went: nobody here can tell.
      LOST_AT_COMMIT.set(connection, error);
      throw new CommitOutcomeUnknown(error);
    }
  }

  /** Commits; answers whether the transaction wrote (when unsure: it did). */
  async #commit(connection: DatabaseConnection): Promise<boolean> {
    const last = COMMIT_WITH.get(connection);
    if (last === undefined) {
      if (connection instanceof PoolConnection) return connection.commitNotingWrites();
      await this.#inner.commitTransaction(connection);
      return true;
    }
    COMMIT_WITH.delete(connection);
    try {
      // No parameters: one simple query. When the statement fails the server skips the commit;
      // Kysely then rolls the (aborted) transaction back. The statement sent with the commit writes
      // (commitWith's uses: an audit append, a chain run's unparking): the transaction wrote.
      const result = await connection.executeQuery(CompiledQuery.raw(`${last.statement};\ncommit`));
      last.resolve([...result.rows]);
      return true;
    } catch (error) {
      last.reject(error);
      throw error;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lost = LOST_AT_COMMIT.get(connection);
    LOST_AT_COMMIT.delete(connection);
    try {
      await this.#inner.rollbackTransaction(connection);
    } catch (error) {
      // Kysely rolls back after a failed commit and throws the rollback's error, which would hide
      // that the commit's outcome is unknown (attack S12-3).
      if (lost !== undefined) throw new CommitOutcomeUnknown(lost);
      throw error;
    }
  }

  async savepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.#inner.savepoint) throw new Error('savepoints are not supported by this driver');
    return this.#inner.savepoint(connection, savepointName, compileQuery);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.#inner.rollbackToSavepoint) throw new Error('savepoints are not supported by this driver');
    return this.#inner.rollbackToSavepoint(connection, savepointName, compileQuery);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.#inner.releaseSavepoint) throw new Error('savepoints are not supported by this driver');
    return this.#inner.releaseSavepoint(connection, savepointName, compileQuery);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof PoolConnection) connection.release();
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    return this.#end();
  }
}

/** True when the database answers a trivial query within the timeout. */
export async function pingDatabase<DB>(db: Kysely<DB>, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([sql`select 1`.execute(db).then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The database probe of /health: a connection of its own, outside the application's pool. */
export interface DatabaseProbe {
  /** True when the database answers `select 1` within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A probe with one connection of its own (attack note A14): when every connection of the app's
 * pool is busy with long work (a few big invoices), /health still asks the server itself instead
 * of waiting for a free slot and reading "pool busy" as "database unreachable". Same login and
 * role as the app pool, so it fails when the app could not connect either.
 */
export function createDatabaseProbe(options: Omit<AppPoolOptions, 'max'>): DatabaseProbe {
  const { db } = createAppDb({ ...options, max: 1 });
  return {
    ping: (timeoutMs) => pingDatabase(db, timeoutMs),
    close: () => db.destroy(),
  };
}

/** pg-pool's error when a caller waited its whole limit for a free connection of a full pool. */
const FULL_POOL_TIMEOUT = 'timeout exceeded when trying to connect';

/**
 * Every connection of the pool stayed in use for the caller's whole wait while the server itself
 * answers (decision 0787): "busy, try again", not "the database is unavailable". Nothing was sent.
 */
export class DatabaseBusyError extends Error {
  readonly code = 'KLUIS_DATABASE_BUSY';
  constructor(options: { cause: unknown }) {
    super('every connection of the pool stayed in use while the database answers', options);
    this.name = 'DatabaseBusyError';
  }
}

/**
 * A connection of `pool`. When the wait for a free one ran out (the pool is full), the probe asks the
 * server on its own connection: an answer makes the failure a DatabaseBusyError; silence, or a
 * probe that last reported silence with nothing answered since, leaves it pg-pool's timeout, which
 * reads as a lost database. A new connection that was not answered fails with pg-pool's other
 * message and is not asked about: the server did not answer it.
 */
async function connectExplained(pool: pg.Pool, silence: SilenceWatch): Promise<pg.PoolClient> {
  if (refusesSilent(silence)) throw new DatabaseSilentError();
  try {
    return await pool.connect();
  } catch (error) {
    if (isUnansweredConnection(error)) {
      // The server did not answer a new connection (its startup or SET ROLE) for the whole limit.
      silence.noteSilence();
      noteSilentDatabase(silence);
      throw error;
    }
    // The process has no file descriptor left for a new connection (too many clients held open,
    // attack S16-5): busy, to be tried again, not a lost database nor a 500 (decision 0817).
    if (isOutOfDescriptors(error)) throw new DatabaseBusyError({ cause: error });
    if (!(error instanceof Error) || error.message !== FULL_POOL_TIMEOUT) throw error;
    if (silence.silentSince() === undefined && (await silence.serverAnswers()))
      throw new DatabaseBusyError({ cause: error });
    // The pool stayed full and the server is silent: this request has met the silence.
    noteSilentDatabase(silence);
    throw error;
  }
}

/** pg-pool's error for a new connection unanswered within the limit, or SET ROLE's (assumeAppRole). */
function isUnansweredConnection(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.message === 'Connection terminated due to connection timeout' ||
    (error as { code?: unknown }).code === 'ETIMEDOUT'
  );
}

function isOutOfDescriptors(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** True for a DatabaseBusyError, alone or among the errors of an AggregateError. */
export function isDatabaseBusy(error: unknown): boolean {
  if (error instanceof DatabaseBusyError) return true;
  return error instanceof AggregateError && error.errors.some((inner) => isDatabaseBusy(inner));
}

/**
 * Whether the server of `db` (a database createAppDb made) answers now, on the pool's probe
 * connection, within PROBE_TIMEOUT_MS; false at once when the pool's last word from it was a
 * probe's silence (decision 0726), nothing having been answered since. For a stop that must not
 * wait on a frozen database (decision 0785).
 */
export async function databaseAnswers<DB>(db: Kysely<DB>): Promise<boolean> {
  const made = POOLS.get(db);
  if (!made) return pingDatabase(db, PROBE_TIMEOUT_MS);
  if (made.silence.silentSince() !== undefined) return false;
  return made.silence.serverAnswers();
}

/** SQLSTATE classes and codes that mean "the database cannot serve now", not "this query is wrong". */
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[123]|53300|3D000|28000|28P01)$/;
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);

/**
 * True for errors that say the database is unreachable (refused, reset, shut down, terminated,
 * too many connections, pool timeout): worth a 503 "try again", never an answer about the input.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (
    error instanceof CommitOutcomeUnknown ||
    error instanceof NamedStatementOutdated ||
    error instanceof DatabaseBusyError ||
    error instanceof DatabaseSilentError
  )
    return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_NODE_CODES.has(code)))
    return true;
  // pg and pg-pool report a lost or timed-out connection without a code; a client whose connection
  // failed refuses every later query (the rollback after the failed statement) with its own message.
  if (
    /^Connection terminated|timeout exceeded when trying to connect|^Client (has encountered a connection error|was closed) and is not queryable/.test(
      error.message,
    )
  )
    return true;
  return error instanceof AggregateError && error.errors.some((inner) => isDatabaseUnavailable(inner));
}

/**
 * Gives a client made outside the pool an 'error' listener. Without one, the server going away
 * between two queries emits an unhandled 'error' that ends the process (exit 70, decision 0620)
 * instead of failing the work at its next statement (attack S10-2, decision 0626).
 */
export function warnOnConnectionLoss(
  client: pg.Client,
  logger: Logger | undefined,
  connection: string,
): void {
  client.on('error', (err) =>
    logger?.warn({ err: { message: scrubbedMessage(err) }, connection }, 'database connection failed'),
  );
}
