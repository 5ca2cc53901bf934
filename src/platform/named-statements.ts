import { createHash } from 'node:crypto';

/**
 * The gated statement as a named (prepared) statement on its connection (decision 0770): the
 * server parses, analyses and plans it once per connection instead of on every read. Every check
 * of the gate still runs on every read: they are in the statement, and only its plan is kept.
 */

/**
 * How many named statements a connection keeps. The least recently used one beyond it is closed
 * on the server, so a caller whose statement's text varies (a list of as many parameters as ids)
 * cannot fill a connection's memory with plans.
 */
export const NAMED_STATEMENTS_PER_CONNECTION = 16;

/** What one statement's round trip does about its name (ConnectionStatements.take). */
export interface NamedStatementSlot {
  name: string;
  text: string;
  /** Parse it: the server does not hold it, or may not hold it as it is. */
  parse: boolean;
  /** Statements to close on the server first (evicted, or this name when unsure). */
  close: string[];
}

/** pg's own record of a connection's named statements (pg/lib/connection.js). */
export interface PgStatementRecord {
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
}

/**
 * - `new`: never sent on this connection; parsed without a Close.
 * - `ready`: parsed, and its last round trip succeeded: bound and executed only.
 * - `unsure`: its Parse is on the wire, or a round trip with it failed: the server may hold it or
 *   not, so the next use closes it (not an error when absent) and parses it again.
 */
type State = 'new' | 'ready' | 'unsure';

/**
 * The named statements of ONE connection, least recently used first. node-postgres keeps its own
 * record per connection (`parsedStatements`, never emptied while the connection lives; a connection
 * the pool ends takes its statements with it on the server, and a new one starts with none): this
 * one decides instead, because pg's marks a statement parsed at the first ParseComplete of a round
 * trip (a `begin` sent in front of it, decision 0570) even when its own Parse then fails.
 */
export class ConnectionStatements {
  readonly #byText = new Map<string, { name: string; state: State }>();
  readonly #limit: number;
  #toClose: string[] = [];

  constructor(limit = NAMED_STATEMENTS_PER_CONNECTION) {
    this.#limit = limit;
  }

  /** How many this connection holds, or may hold (for tests). */
  get size(): number {
    return this.#byText.size;
  }

  /** At the moment `text` goes on the wire: its name, and whether it is parsed and what is closed. */
  take(text: string, pg: PgStatementRecord): NamedStatementSlot {
    let entry = this.#byText.get(text);
    if (entry) this.#byText.delete(text);
    else {
      entry = { name: statementName(text), state: 'new' };
      this.#evictBeyond(this.#limit - 1, pg);
    }
    this.#byText.set(text, entry);
    const close = this.#toClose;
    this.#toClose = [];
    if (entry.state === 'unsure') close.push(entry.name);
    const parse = entry.state !== 'ready';
    // A Parse on the wire may be made or not until its answer says (answered).
    if (parse) entry.state = 'unsure';
    // pg's Query.prepare sends the Parse exactly when its record does not have the name.
    if (parse) {
      delete pg.parsedStatements[entry.name];
      delete pg.submittedNamedStatements[entry.name];
    } else pg.parsedStatements[entry.name] = text;
    return { name: entry.name, text, parse, close };
  }

  /** Called synchronously with the round trip's answer, before the connection sends anything else. */
  answered(slot: NamedStatementSlot, ok: boolean): void {
    const entry = this.#byText.get(slot.text);
    if (entry?.name === slot.name) entry.state = ok ? 'ready' : 'unsure';
  }

  #evictBeyond(keep: number, pg: PgStatementRecord): void {
    for (const [text, entry] of this.#byText) {
      if (this.#byText.size <= keep) return;
      this.#byText.delete(text);
      delete pg.parsedStatements[entry.name];
      delete pg.submittedNamedStatements[entry.name];
      this.#toClose.push(entry.name);
    }
  }
}

/**
 * The name of a statement's text: two texts never share a name (a policy that changes the
 * columns read changes the text, and so the name). 128 bits of SHA-256; within NAMEDATALEN.
 */
export function statementName(text: string): string {
  return `kluis_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
}

/** SQLSTATE 0A000 with this text: the statement's result columns changed since it was parsed. */
const RESULT_TYPE_CHANGED = /cached plan must not change result type/;

/**
 * A named statement parsed before a schema change that altered its result (a column added to a
 * table it reads with `*`): PostgreSQL refuses to run it rather than answer other columns than
 * it announced. Upgrades stop every server before they migrate (decision 0740), so this needs a
 * schema changed under a running server. The statement is parsed again at its next use; this
 * read fails as the database being briefly unavailable (a 503 `database_unavailable`, try
 * again), never with another shape's columns.
 */
export class NamedStatementOutdated extends Error {
  readonly code = 'named_statement_outdated';
  constructor(cause: unknown) {
    super('a prepared statement outlived a change of the schema: it is prepared again at the next try', {
      cause,
    });
    this.name = 'NamedStatementOutdated';
  }
}

/** Whether `error` is the server's refusal of a named statement whose result changed. */
export function isResultTypeChanged(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (error as { code?: unknown }).code === '0A000' && RESULT_TYPE_CHANGED.test(error.message);
}
