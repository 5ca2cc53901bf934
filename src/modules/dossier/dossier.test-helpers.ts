// Shared by the dossier's HTTP tests: calls under the dossier purpose, the audit trail, raw rows.
import type { FastifyInstance } from 'fastify';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import type { StaffSession } from '../../../test/http.js';
import type { Tenant } from '../tenants/index.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** A staff call declaring the dossier purpose (decision 0061: never filled in by the server). */
export function dossierCall(
  app: FastifyInstance,
  session: StaffSession,
  method: Method,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method,
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      'x-kluis-purpose': 'technical_dossier',
      ...headers,
    },
    ...(payload === undefined
      ? {}
      : typeof payload === 'string'
        ? { payload }
        : { payload: payload as Record<string, unknown> }),
  });
}

export async function ownerRows<R extends Record<string, unknown>>(
  database: TestDatabase,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  return (await runAsOwner<R>(database.ownerUrl, text, values)).rows;
}

export interface AuditRow {
  seq: number;
  action: string;
  role: string | null;
  actor_kind: string;
  decision: string;
  reason: string | null;
}

/** The audit entries of a tenant after a given sequence number. */
export async function auditSince(database: TestDatabase, tenant: Tenant, seq: number): Promise<AuditRow[]> {
  return ownerRows<AuditRow & Record<string, unknown>>(
    database,
    'select seq::int, action, role, actor_kind, decision, reason from audit_log where tenant_id = $1 and seq > $2 order by seq',
    [tenant.tenantId, seq],
  );
}

export async function auditHead(database: TestDatabase, tenant: Tenant): Promise<number> {
  const [row] = await ownerRows<{ seq: number }>(
    database,
    'select coalesce(max(seq), 0)::int as seq from audit_log where tenant_id = $1',
    [tenant.tenantId],
  );
  return row?.seq ?? 0;
}
