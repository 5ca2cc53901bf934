import type { FastifyRequest } from 'fastify';
import type { UnreadableRecord } from '../platform/errors.js';

/**
 * Each record a list held back as unreadable, at error level for the operator: table, column,
 * tenant and row id, nothing personal (attack S23B-3, decision 1150).
 */
export function logUnreadable(
  request: FastifyRequest,
  tenantId: number,
  unreadable: readonly UnreadableRecord[],
): void {
  for (const record of unreadable) {
    request.log.error(
      { code: 'field_unreadable', tenantId, table: record.table, column: record.column, rowId: record.rowId },
      'a record left out of a list: an encrypted field cannot be opened with this key store (data and key store of different backups?)',
    );
  }
}
