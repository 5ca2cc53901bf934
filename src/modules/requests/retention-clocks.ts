import { sql } from 'kysely';
import type { Tx } from '../../platform/db.js';
import { brusselsDate } from './deadlines.js';
import { MAX_DOWNLOAD_STARTS } from './requests.service.js';
import type { RequestState } from './requests.tables.js';

/**
 * When each subject's latest rights request was received: the request file is kept for a period
 * after it (the policy's rights purpose). Instants only; subjects without requests are absent.
 */
export async function readLastRequests(tx: Tx, subjectIds: readonly number[]): Promise<Map<number, Date>> {
  const last = new Map<number, Date>();
  if (subjectIds.length === 0) return last;
  const rows = await tx
    .selectFrom('rights_requests')
    .select((eb) => ['subject_id', eb.fn.max('received_at').as('last_request')])
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...subjectIds])))
    .groupBy('subject_id')
    .execute();
  for (const row of rows) {
    if (row.subject_id !== null && row.last_request !== null)
      last.set(Number(row.subject_id), new Date(row.last_request));
  }
  return last;
}

/**
 * An access or portability request that keeps the person's data from the retention sweep
 * (VK-14, decision 0970): `open` while it is received and not answered, through its due date;
 * `download` once answered by a link, while the link works and nothing was downloaded to the end.
 */
export interface RequestHold {
  request: 'access' | 'portability';
  stage: 'open' | 'download';
  /** The day the request was received (Brussels). */
  receivedOn: string;
  /** The last day the hold keeps the data (YYYY-MM-DD): the due date, or the link's last day. */
  until: string;
}

/**
 * Per subject, the request hold that runs on `today` and ends last; subjects without one are
 * absent; `'everyone'` answers every subject with a hold (the call-record purge asks so). Reads
 * request kinds, states and dates only, never what the request said.
 */
export async function readRequestHolds(
  tx: Tx,
  subjectIds: readonly number[] | 'everyone',
  today: string,
): Promise<Map<number, RequestHold>> {
  const holds = new Map<number, RequestHold>();
  if (subjectIds !== 'everyone' && subjectIds.length === 0) return holds;
  const whose = subjectIds === 'everyone' ? sql`true` : sql`r.subject_id = any(${[...subjectIds]}::bigint[])`;
  const rows = await sql<{
    subject_id: string;
    kind: 'access' | 'portability';
    state: RequestState;
    received_at: Date;
    due_on: string;
    link_expires_at: Date | null;
  }>`
    select r.subject_id, r.kind, r.state, r.received_at,
           coalesce(r.extended_due_on, r.due_on)::text as due_on,
           (select max(d.expires_at) from export_downloads d
             where d.tenant_id = r.tenant_id and d.request_id = r.request_id
               and d.completed_at is null and d.used_at is null
               and d.attempts < ${MAX_DOWNLOAD_STARTS}) as link_expires_at
      from rights_requests r
     where ${whose}
       and r.subject_id is not null
       and r.kind in ('access', 'portability')
       and (r.state in ('awaiting_verification', 'verified')
            or r.state = 'fulfilled')`.execute(tx);
  for (const row of rows.rows) {
    const open = row.state === 'awaiting_verification' || row.state === 'verified';
    // A request left open past its due date holds nothing more (decision 0970).
    const until = open ? row.due_on : row.link_expires_at && brusselsDate(row.link_expires_at);
    if (!until || until < today) continue;
    const subjectId = Number(row.subject_id);
    const known = holds.get(subjectId);
    if (known && known.until >= until) continue;
    holds.set(subjectId, {
      request: row.kind,
      stage: open ? 'open' : 'download',
      receivedOn: brusselsDate(row.received_at),
      until,
    });
  }
  return holds;
}
