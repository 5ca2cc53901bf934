import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Logger } from '../platform/logger.js';
import { BODY_IDLE_TIMEOUT_MS, BODY_TIMEOUT_MS, type BodyArrivalLimits } from './body-arrival.js';

/**
 * What one client may hold of the server (attack S16-5, decision 0817): a client that opens
 * connections and never finishes a request's headers (slow-loris) took every file descriptor of
 * the process, and the database's new connections failed with EMFILE.
 */
export interface ConnectionLimits extends BodyArrivalLimits {
  /** A request's headers must arrive whole within this (Node's `headersTimeout`); 408 after it. */
  headersTimeoutMs: number;
  /** How often Node looks for requests past their time (Node's default is 30 s), and Kluis for bodies (0865). */
  checkEveryMs: number;
  /** Connections held at once; a new one past it is closed at once (Node's `maxConnections`). */
  maxConnections: number;
}

/** Headers of a real request arrive in milliseconds; 20 s leaves room for a phone on a bad line. */
const HEADERS_TIMEOUT_MS = 20_000;
const CHECK_EVERY_MS = 5_000;
/** When the process's file limit cannot be read: well below the common default soft limit of 1,024. */
const FALLBACK_MAX_CONNECTIONS = 500;
const MAX_CONNECTIONS_CAP = 10_000;

/** The defaults: half the process's open-file limit for clients, the rest for the database, files and logs. */
export function defaultConnectionLimits(): ConnectionLimits {
  const files = openFileLimit();
  const maxConnections =
    files === undefined
      ? FALLBACK_MAX_CONNECTIONS
      : Math.max(64, Math.min(MAX_CONNECTIONS_CAP, Math.floor(files / 2)));
  return {
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: BODY_TIMEOUT_MS,
    bodyIdleTimeoutMs: BODY_IDLE_TIMEOUT_MS,
    checkEveryMs: CHECK_EVERY_MS,
    maxConnections,
  };
}

/** The soft "Max open files" of this process (Linux); undefined elsewhere or when unlimited. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((candidate) => candidate.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isSafeInteger(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

/** Warn about connections refused at the limit, at most once per this many milliseconds. */
const DROP_LOG_EVERY_MS = 10_000;

/**
 * Applies the limits to the server before it listens (Node reads the checking interval when it
 * starts listening). Connections refused at the limit are counted and logged at warn, one line per
 * ten seconds at most, so that an operator sees the server is full without a line per connection.
 */
export function limitConnections(server: Server, limits: ConnectionLimits, logger: Logger): void {
  server.headersTimeout = limits.headersTimeoutMs;
  // A constructor option in @types/node; Node keeps it on the server and reads it at 'listening'.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    limits.checkEveryMs;
  server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let lastLog = 0;
  server.on('drop', () => {
    dropped += 1;
    const now = Date.now();
    if (now - lastLog < DROP_LOG_EVERY_MS) return;
    logger.warn(
      { dropped, maxConnections: limits.maxConnections },
      'connections refused: the server holds its most connections',
    );
    dropped = 0;
    lastLog = now;
  });
}
