import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import type { Kernel } from '../../kernel/kernel.js';
import { registerSubject } from '../../kernel/subjects/index.js';
import type { Tenant } from '../tenants/index.js';
import type { CopyConnectionOptions } from './copy-connection.js';

export const TELEPHONY_SERVICE = 'telephony_service';

export function bulkConnection(database: TestDatabase): CopyConnectionOptions {
  return { connectionString: database.ownerUrl, assumeAppRole: true };
}

export async function registerCustomers(kernel: Kernel, tenant: Tenant, count: number): Promise<number[]> {
  return kernel.transact(tenant.tenantId, async (atx) => {
    const ids: number[] = [];
    for (let i = 0; i < count; i += 1) ids.push(await registerSubject(atx, 'customer', kernel.clock.now()));
    return ids;
  });
}

export async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'kluis-cdr-'));
}

export async function writeLines(dir: string, name: string, lines: readonly string[]): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** One 21-column Master.csv line (fields as the switch quotes them). */
export function asteriskLine(call: {
  src: string;
  dst: string;
  start: string;
  answer?: string;
  end: string;
  duration: number;
  billsec: number;
  disposition?: string;
  uniqueId: string;
  sequence: number;
  channel?: string;
  name?: string;
}): string {
  const channel = call.channel ?? 'SIP/201-00000001';
  const name = call.name ?? 'Klant';
  return [
    '""',
    `"${call.src}"`,
    `"${call.dst}"`,
    '"from-internal"',
    `"""${name.replaceAll('"', '""')}"" <${call.src}>"`,
    `"${channel}"`,
    '"SIP/trunk-00000002"',
    '"Dial"',
    '"SIP/trunk"',
    `"${call.start}"`,
    `"${call.answer ?? ''}"`,
    `"${call.end}"`,
    String(call.duration),
    String(call.billsec),
    `"${call.disposition ?? (call.answer ? 'ANSWERED' : 'NO ANSWER')}"`,
    '"DOCUMENTATION"',
    `"${call.uniqueId}"`,
    '""',
    '""',
    `"${call.uniqueId}"`,
    String(call.sequence),
  ].join(',');
}

/** One Master.csv line of a call from `src` answered at `start` (UTC, `YYYY-MM-DD HH:MM:SS`) lasting `seconds`. */
export function answeredCall(
  uniqueId: string,
  src: string,
  dst: string,
  start: string,
  seconds: number,
): string {
  const end = new Date(Date.parse(`${start.replace(' ', 'T')}Z`) + seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .slice(0, 19);
  return asteriskLine({
    src,
    dst,
    start,
    answer: start,
    end,
    duration: seconds,
    billsec: seconds,
    uniqueId,
    sequence: 1,
  });
}

/** Every call record of a tenant as the owner sees it, in key order, tenant and subject ids mapped out. */
export async function dumpCallRecords(ownerUrl: string, tenantId: number): Promise<string[]> {
  const result = await runAsOwner<{ row: string }>(
    ownerUrl,
    `select concat_ws('|', started_at, dedup_key, subject_id, caller_e164, destination, answered_at, ended_at,
                      duration_seconds, billable_seconds, disposition, is_billable_leg, linked_id, cost_micros) as row
       from call_records where tenant_id = $1 order by started_at, dedup_key`,
    [tenantId],
  );
  return result.rows.map((row) => row.row);
}

export const TARIFF_CSV = [
  'prefix,price_per_minute,minimum_seconds,increment_seconds,connection_fee,valid_from,valid_to',
  // Belgian mobiles: 30/6, 0.12 €/min, 0.05 € connection fee.
  '3247,0.12,30,6,0.05,2020-01-01,',
  // Belgium as a whole: 60/60, 0.06 €/min.
  '32,0.06,60,60,0,2020-01-01,',
  // The Netherlands: per second.
  '31,0.10,1,1,0,2020-01-01,',
].join('\n');
