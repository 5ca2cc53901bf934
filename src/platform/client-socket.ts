import type { Socket } from 'node:net';
import type pg from 'pg';

/**
 * The socket node-postgres keeps on a client's connection (`client.connection.stream`); @types/pg
 * does not declare it. Undefined before the client has connected.
 */
export function clientSocket(client: pg.ClientBase): Socket | undefined {
  return (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
}

/**
 * Ends a client whose database fell silent: its socket is destroyed with an ETIMEDOUT error
 * carrying `reason`, so the statement under way fails as on a lost database
 * (`isDatabaseUnavailable`) and a pool drops the client.
 */
export function endSilentClient(client: pg.ClientBase, reason: string): void {
  clientSocket(client)?.destroy(Object.assign(new Error(reason), { code: 'ETIMEDOUT' }));
}
