import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { type Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { parseDateOrInstant } from './date-input.js';
import { addLineIdentifier } from './line-identifier.service.js';
import { assignNumber } from './number.service.js';
import { importTariff } from './tariff.service.js';
import { registerCustomers, TARIFF_CSV, TELEPHONY_SERVICE } from './telephony.test-helpers.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const brussels = (text: string): Date => parseDateOrInstant(text, 'Europe/Brussels', 'test');

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-attribution-');
  ({ database, kernel, env, dir } = workspace);
});
afterAll(async () => workspace.close());

/** One Master.csv line with all 21 columns, as cdr_csv quotes them. */
function masterLine(call: {
  accountCode?: string;
  src: string;
  dst: string;
  context: string;
  channel: string;
  dstChannel?: string;
  start: string;
  answer?: string;
  end: string;
  billsec: number;
  uniqueId: string;
  sequence: number;
}): string {
  const quote = (text: string): string => `"${text.replaceAll('"', '""')}"`;
  const duration =
    (Date.parse(`${call.end.replace(' ', 'T')}Z`) - Date.parse(`${call.start.replace(' ', 'T')}Z`)) / 1000;
  return [
    quote(call.accountCode ?? ''),
    quote(call.src),
    quote(call.dst),
    quote(call.context),
    quote(`"Caller" <${call.src}>`),
    quote(call.channel),
    quote(call.dstChannel ?? ''),
    quote('Dial'),
    quote(''),
    quote(call.start),
    call.answer === undefined ? '' : quote(call.answer),
    quote(call.end),
    String(duration),
    String(call.billsec),
    quote(call.answer === undefined ? 'NO ANSWER' : 'ANSWERED'),
    quote('DOCUMENTATION'),
    quote(call.uniqueId),
    quote(''),
    quote(''),
    quote(call.uniqueId),
    String(call.sequence),
  ].join(',');
}

interface StoredCall {
  dedup_key: string;
  subject_id: number;
  caller_e164: string;
  destination: string;
  direction: string;
  is_billable_leg: boolean;
  cost_micros: string | null;
  linked_id: string | null;
}

async function storedCalls(tenant: Tenant): Promise<Map<string, StoredCall>> {
  const result = await runAsOwner<StoredCall>(
    database.ownerUrl,
    `select dedup_key, subject_id::int as subject_id, caller_e164, destination, direction, is_billable_leg,
            cost_micros::text as cost_micros, linked_id
       from call_records where tenant_id = $1`,
    [tenant.tenantId],
  );
  return new Map(result.rows.map((row) => [row.dedup_key, row]));
}

async function chargedPerCustomer(tenant: Tenant): Promise<Record<number, number>> {
  const result = await runAsOwner<{ subject_id: number; cost: number }>(
    database.ownerUrl,
    `select subject_id::int as subject_id, sum(cost_micros)::int as cost from call_records
      where tenant_id = $1 and is_billable_leg and cost_micros > 0 group by 1`,
    [tenant.tenantId],
  );
  return Object.fromEntries(result.rows.map((row) => [row.subject_id, row.cost]));
}

function summaryOf(stdout: string): {
  lines: number;
  imported: number;
  rejected: number;
  duplicates: number;
} {
  const match = /(\d+) lines read: (\d+) imported, (\d+) rejected, (\d+) skipped as duplicates/.exec(stdout);
  if (!match) throw new Error(`no summary in: ${stdout}`);
  return {
    lines: Number(match[1]),
    imported: Number(match[2]),
    rejected: Number(match[3]),
    duplicates: Number(match[4]),
  };
}

describe('who pays for a call (VX-5, issue 13)', () => {
  it(
    'VX-5: hosted-PBX traffic through the CLI: account codes, a trunk with withheld caller ID, inbound IVR and DID calls, internal calls, a forwarded leg and short codes are each stored with their direction and charged to the right customer',
    { timeout: 240_000 },
    async () => {
      const tenant = await createPolicyTenant(kernel, 'voxtra');
      // C: a hosted-PBX customer (account cust318, extensions in its context, an IVR, a DID).
      // D: a customer whose own PBX reaches us over a SIP trunk. B: a customer with a plain line.
      const [c, d, b] = (await registerCustomers(kernel, tenant, 3)) as [number, number, number];
      const context = {
        tenantId: tenant.tenantId,
        actor: { kind: 'system' as const, job: 'test' },
        purpose: TELEPHONY_SERVICE,
      };
      const from = brussels('2024-01-01');

      const added = await runCli(
        [
          'identifiers',
          'add',
          '--tenant',
          tenant.slug,
          '--subject',
          String(c),
          '--kind',
          'account_code',
          '--value',
          'cust318',
          '--from',
          '2024-01-01',
        ],
        env,
      );
      expect(added.stderr).toBe('');
      expect(added.stdout).toMatch(
        /^identifier \d+: account_code cust318 held by subject \d+ from 2024-01-01/,
      );
      const trunk = await runCli(
        [
          'identifiers',
          'add',
          '--tenant',
          tenant.slug,
          '--subject',
          String(d),
          '--kind',
          'channel',
          '--value',
          'PJSIP/trunk-',
          '--from',
          '2024-01-01',
        ],
        env,
      );
      expect(trunk.code).toBe(0);
      for (const extension of ['1001', '1002'])
        await addLineIdentifier(kernel, context, {
          subjectId: c,
          kind: 'extension',
          value: extension,
          context: 'cust318-internal',
          from,
        });
      await addLineIdentifier(kernel, context, {
        subjectId: c,
        kind: 'extension',
        value: 's',
        context: 'cust318-ivr',
        from,
      });
      await assignNumber(kernel, context, { number: '050 11 22 33', subjectId: c, from });
      await assignNumber(kernel, context, { number: '056 22 33 44', subjectId: b, from });
      await importTariff(kernel, tenant.tenantId, TARIFF_CSV);

      const listed = await runCli(
        ['identifiers', 'list', '--tenant', tenant.slug, '--subject', String(c)],
        env,
      );
      expect(listed.stdout).toContain('4 identifier(s)');
      expect(listed.stdout).toMatch(/extension\ts\tcust318-ivr\tsubject \d+/);

      const lines = [
        // 1. extension 1001 of C calls a Belgian fixed number: C's account code, 65 s at 60/60.
        masterLine({
          accountCode: 'cust318',
          src: '1001',
          dst: '022345678',
          context: 'cust318-internal',
          channel: 'SIP/1001-00000001',
          dstChannel: 'SIP/carrier-00000002',
          start: '2024-05-10 10:00:00',
          answer: '2024-05-10 10:00:05',
          end: '2024-05-10 10:01:10',
          billsec: 65,
          uniqueId: 'pbx-1715328000.1',
          sequence: 1,
        }),
        // 2. 1001 calls 1002 inside C: internal, free.
        masterLine({
          accountCode: 'cust318',
          src: '1001',
          dst: '1002',
          context: 'cust318-internal',
          channel: 'SIP/1001-00000003',
          dstChannel: 'SIP/1002-00000004',
          start: '2024-05-10 10:05:00',
          answer: '2024-05-10 10:05:02',
          end: '2024-05-10 10:06:02',
          billsec: 60,
          uniqueId: 'pbx-1715328300.3',
          sequence: 2,
        }),
        // 3. an outside caller reaches C's IVR (extension s of cust318-ivr): inbound, never charged.
        masterLine({
          src: '0471999999',
          dst: 's',
          context: 'cust318-ivr',
          channel: 'SIP/carrier-00000005',
          start: '2024-05-10 11:00:00',
          answer: '2024-05-10 11:00:01',
          end: '2024-05-10 11:02:01',
          billsec: 120,
          uniqueId: 'pbx-1715331600.5',
          sequence: 3,
        }),
        // 4. an outside caller dials C's number: inbound.
        masterLine({
          src: '+3222345678',
          dst: '050112233',
          context: 'from-trunk',
          channel: 'SIP/carrier-00000006',
          dstChannel: 'SIP/1001-00000007',
          start: '2024-05-10 11:10:00',
          answer: '2024-05-10 11:10:03',
          end: '2024-05-10 11:11:03',
          billsec: 60,
          uniqueId: 'pbx-1715332200.6',
          sequence: 4,
        }),
        // 5. D's PBX calls a mobile over its trunk with caller ID withheld: D, by the trunk. 40 s at 30/6 + fee.
        masterLine({
          src: 'anonymous',
          dst: '0470123456',
          context: 'from-trunk-d',
          channel: 'PJSIP/trunk-00000008',
          dstChannel: 'SIP/carrier-00000009',
          start: '2024-05-10 12:00:00',
          answer: '2024-05-10 12:00:02',
          end: '2024-05-10 12:00:42',
          billsec: 40,
          uniqueId: 'pbx-1715335200.8',
          sequence: 5,
        }),
        // 6. B calls C, whose line forwards to a Dutch number: the forwarding leg carries B's caller ID
        //    but C's account code; C pays it (30 s per second at 0.10 €/min), not B.
        masterLine({
          accountCode: 'cust318',
          src: '056223344',
          dst: '0031201234567',
          context: 'cust318-forward',
          channel: 'SIP/carrier-0000000a',
          dstChannel: 'SIP/carrier-0000000b',
          start: '2024-05-10 13:00:00',
          answer: '2024-05-10 13:00:03',
          end: '2024-05-10 13:00:33',
          billsec: 30,
          uniqueId: 'pbx-1715338800.10',
          sequence: 6,
        }),
        // 7. B's own call from its number: attributed by the number, 28 s at 60/60.
        masterLine({
          src: '056223344',
          dst: '022345678',
          context: 'from-internal',
          channel: 'SIP/b-0000000c',
          dstChannel: 'SIP/carrier-0000000d',
          start: '2024-05-10 14:00:00',
          answer: '2024-05-10 14:00:02',
          end: '2024-05-10 14:00:30',
          billsec: 28,
          uniqueId: 'pbx-1715342400.12',
          sequence: 7,
        }),
        // 8-9. short codes dialled by C's extension: kept as dialled, chargeable, for the tariff to rate.
        masterLine({
          accountCode: 'cust318',
          src: '1002',
          dst: '112',
          context: 'cust318-internal',
          channel: 'SIP/1002-0000000e',
          dstChannel: 'SIP/carrier-0000000f',
          start: '2024-05-10 15:00:00',
          answer: '2024-05-10 15:00:01',
          end: '2024-05-10 15:01:01',
          billsec: 60,
          uniqueId: 'pbx-1715346000.14',
          sequence: 8,
        }),
        masterLine({
          accountCode: 'cust318',
          src: '1002',
          dst: '1207',
          context: 'cust318-internal',
          channel: 'SIP/1002-00000010',
          dstChannel: 'SIP/carrier-00000011',
          start: '2024-05-10 15:10:00',
          answer: '2024-05-10 15:10:01',
          end: '2024-05-10 15:10:21',
          billsec: 20,
          uniqueId: 'pbx-1715346600.16',
          sequence: 9,
        }),
        // 10. nothing names a customer: rejected.
        masterLine({
          src: '0499000000',
          dst: '022345678',
          context: 'from-trunk',
          channel: 'SIP/carrier-00000012',
          start: '2024-05-10 16:00:00',
          answer: '2024-05-10 16:00:01',
          end: '2024-05-10 16:00:11',
          billsec: 10,
          uniqueId: 'pbx-1715349600.18',
          sequence: 10,
        }),
      ];
      const file = path.join(dir, 'hosted-pbx.csv');
      await writeFile(file, `${lines.join('\n')}\n`);
      const result = await runCli(['cdr', 'import', '--tenant', tenant.slug, file], env, 120_000);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(summaryOf(result.stdout)).toEqual({ lines: 10, imported: 9, rejected: 1, duplicates: 0 });
      expect(result.stdout).toContain('rejects: ');
      expect(result.stdout).toContain('not_attributed 1');

      const calls = await storedCalls(tenant);
      const view = (key: string): unknown => {
        const call = calls.get(key);
        return call && [call.subject_id, call.direction, call.is_billable_leg, call.cost_micros];
      };
      expect(view('pbx-1715328000.1#1')).toEqual([c, 'outbound', true, '120000']);
      expect(view('pbx-1715328300.3#2')).toEqual([c, 'internal', false, '0']);
      expect(view('pbx-1715331600.5#3')).toEqual([c, 'inbound', false, '0']);
      expect(view('pbx-1715332200.6#4')).toEqual([c, 'inbound', false, '0']);
      expect(view('pbx-1715335200.8#5')).toEqual([d, 'outbound', true, '134000']);
      expect(view('pbx-1715338800.10#6')).toEqual([c, 'forwarded', true, '50000']);
      expect(view('pbx-1715342400.12#7')).toEqual([b, 'outbound', true, '60000']);
      expect(calls.get('pbx-1715346000.14#8')).toMatchObject({
        subject_id: c,
        destination: '112',
        direction: 'outbound',
        is_billable_leg: true,
      });
      expect(calls.get('pbx-1715346600.16#9')).toMatchObject({
        subject_id: c,
        destination: '1207',
        direction: 'outbound',
        is_billable_leg: true,
      });
      // What is stored of the two ends: the IVR's extension as dialled, a withheld caller as empty.
      expect(calls.get('pbx-1715331600.5#3')).toMatchObject({
        caller_e164: '+32471999999',
        destination: 's',
      });
      expect(calls.get('pbx-1715335200.8#5')).toMatchObject({ caller_e164: '', destination: '+32470123456' });
      expect(calls.get('pbx-1715328000.1#1')).toMatchObject({
        caller_e164: '1001',
        destination: '+3222345678',
      });

      // Who is charged what (short codes aside, which the tariff has no prefix for here).
      expect(await chargedPerCustomer(tenant)).toEqual({ [c]: 170_000, [d]: 134_000, [b]: 60_000 });
      const rejects = (await readFile(`${file}.rejects.csv`, 'utf8')).trim().split('\n');
      expect(rejects.slice(1).map((line) => line.split(',').slice(0, 2).join(','))).toEqual([
        '10,not_attributed',
      ]);
    },
  );

  it(
    'VX-5: FreeSWITCH a- and b-legs through the CLI are one call charged once, in either order and across two files; a forwarded b-leg of an inbound call is charged to the forwarding customer',
    { timeout: 240_000 },
    async () => {
      const tenant = await createPolicyTenant(kernel, 'voxtra');
      const [e, f] = (await registerCustomers(kernel, tenant, 2)) as [number, number];
      const context = {
        tenantId: tenant.tenantId,
        actor: { kind: 'system' as const, job: 'test' },
        purpose: TELEPHONY_SERVICE,
      };
      const from = brussels('2024-01-01');
      await assignNumber(kernel, context, { number: '+32 9 300 12 34', subjectId: e, from });
      await assignNumber(kernel, context, { number: '+32 9 300 55 55', subjectId: f, from });
      await addLineIdentifier(kernel, context, { subjectId: f, kind: 'account_code', value: 'f-acct', from });
      await importTariff(kernel, tenant.tenantId, TARIFF_CSV);

      // The "example" template: name, number, destination, context, start, answer, end, duration,
      // billsec, cause, uuid, bleg_uuid, accountcode, read codec, write codec.
      const leg = (l: {
        caller: string;
        dst: string;
        start: string;
        answer: string;
        end: string;
        billsec: number;
        uuid: string;
        bleg?: string;
        account?: string;
      }): string =>
        `"Name","${l.caller}","${l.dst}","public","${l.start}","${l.answer}","${l.end}","${l.billsec + 2}","${l.billsec}","NORMAL_CLEARING","${l.uuid}","${l.bleg ?? ''}","${l.account ?? ''}","PCMA","PCMA"`;
      const call1a = leg({
        caller: '+3293001234',
        dst: '+32470111222',
        start: '2024-05-14 09:00:00',
        answer: '2024-05-14 09:00:02',
        end: '2024-05-14 09:01:02',
        billsec: 60,
        uuid: 'aaaa0001-0000-4000-8000-000000000001',
        bleg: 'bbbb0001-0000-4000-8000-000000000001',
      });
      const call1b = leg({
        caller: '+3293001234',
        dst: '+32470111222',
        start: '2024-05-14 09:00:00',
        answer: '2024-05-14 09:00:02',
        end: '2024-05-14 09:01:02',
        billsec: 60,
        uuid: 'bbbb0001-0000-4000-8000-000000000001',
      });
      const call2a = leg({
        caller: '+3293001234',
        dst: '+31201234567',
        start: '2024-05-14 10:00:00',
        answer: '2024-05-14 10:00:01',
        end: '2024-05-14 10:00:31',
        billsec: 30,
        uuid: 'aaaa0002-0000-4000-8000-000000000002',
        bleg: 'bbbb0002-0000-4000-8000-000000000002',
      });
      const call2b = leg({
        caller: '+3293001234',
        dst: '+31201234567',
        start: '2024-05-14 10:00:01',
        answer: '2024-05-14 10:00:01',
        end: '2024-05-14 10:00:31',
        billsec: 30,
        uuid: 'bbbb0002-0000-4000-8000-000000000002',
      });
      // An outside caller reaches F's number (inbound a-leg); F's line forwards it to a mobile (b-leg, F's account).
      const call3a = leg({
        caller: '+3222345678',
        dst: '+3293005555',
        start: '2024-05-14 11:00:00',
        answer: '2024-05-14 11:00:01',
        end: '2024-05-14 11:01:01',
        billsec: 60,
        uuid: 'aaaa0003-0000-4000-8000-000000000003',
        bleg: 'bbbb0003-0000-4000-8000-000000000003',
        account: 'f-acct',
      });
      const call3b = leg({
        caller: '+3222345678',
        dst: '+32470111222',
        start: '2024-05-14 11:00:01',
        answer: '2024-05-14 11:00:05',
        end: '2024-05-14 11:01:01',
        billsec: 56,
        uuid: 'bbbb0003-0000-4000-8000-000000000003',
        account: 'f-acct',
      });
      const first = path.join(dir, 'fs-1.csv');
      const second = path.join(dir, 'fs-2.csv');
      // b-leg before its a-leg (FreeSWITCH writes at hangup), call 2's b-leg only in the next file.
      await writeFile(first, `${[call1b, call1a, call2a, call3a, call3b].join('\n')}\n`);
      await writeFile(second, `${[call2b].join('\n')}\n`);
      const one = await runCli(
        ['cdr', 'import', '--tenant', tenant.slug, '--batch-size', '2', first],
        env,
        120_000,
      );
      expect(one.stderr).toBe('');
      expect(summaryOf(one.stdout)).toEqual({ lines: 5, imported: 5, rejected: 0, duplicates: 0 });
      const two = await runCli(['cdr', 'import', '--tenant', tenant.slug, second], env, 120_000);
      expect(summaryOf(two.stdout)).toEqual({ lines: 1, imported: 1, rejected: 0, duplicates: 0 });

      const calls = await storedCalls(tenant);
      const view = (key: string): unknown => {
        const call = calls.get(key);
        return (
          call && [call.subject_id, call.direction, call.is_billable_leg, call.cost_micros, call.linked_id]
        );
      };
      const a = (n: number): string => `aaaa000${n}-0000-4000-8000-00000000000${n}`;
      const b = (n: number): string => `bbbb000${n}-0000-4000-8000-00000000000${n}`;
      // Each leg: subject, direction, billable leg, cost, linked id.
      const expected = {
        // 60 s to a Belgian mobile at 30/6: 0.12 + 0.05 connection fee, once.
        [a(1)]: [e, 'outbound', true, '170000', a(1)],
        [b(1)]: [e, 'outbound', false, '0', a(1)],
        [a(2)]: [e, 'outbound', true, '50000', a(2)],
        [b(2)]: [e, 'outbound', false, '0', a(2)],
        [a(3)]: [f, 'inbound', false, '0', a(3)],
        // 56 s at 30/6 → 60 s: 0.12 + 0.05.
        [b(3)]: [f, 'forwarded', true, '170000', null],
      };
      expect(Object.fromEntries(Object.keys(expected).map((key) => [key, view(key)]))).toEqual(expected);
      expect(await chargedPerCustomer(tenant)).toEqual({ [e]: 220_000, [f]: 170_000 });

      // Importing both files again changes nothing.
      const again = await runCli(['cdr', 'import', '--tenant', tenant.slug, first, second], env, 120_000);
      expect(again.code).toBe(0);
      expect(await chargedPerCustomer(tenant)).toEqual({ [e]: 220_000, [f]: 170_000 });
    },
  );
});

describe('files as they come (VX-5, issue 13)', () => {
  it(
    'VX-5: 17-, 19- and 20-column Master.csv, semicolon and tab files and the generic-carrier fixture import through the CLI; --map says how columns are counted',
    { timeout: 300_000 },
    async () => {
      const tenant = await createPolicyTenant(kernel, 'voxtra');
      const [c, g] = (await registerCustomers(kernel, tenant, 2)) as [number, number];
      const context = {
        tenantId: tenant.tenantId,
        actor: { kind: 'system' as const, job: 'test' },
        purpose: TELEPHONY_SERVICE,
      };
      const from = brussels('2024-01-01');
      await addLineIdentifier(kernel, context, {
        subjectId: c,
        kind: 'account_code',
        value: 'cust318',
        from,
      });
      await assignNumber(kernel, context, { number: '0470 12 34 56', subjectId: c, from });
      await assignNumber(kernel, context, { number: '+32 56 22 33 44', subjectId: g, from });
      await importTariff(kernel, tenant.tenantId, TARIFF_CSV);

      const names = [
        'asterisk-17col.csv',
        'asterisk-17col-userfield.csv',
        'asterisk-19col.csv',
        'asterisk-20col.csv',
        'asterisk-21col-semicolon.csv',
        'asterisk-21col-tab.csv',
      ];
      const files: string[] = [];
      for (const name of names) {
        const copy = path.join(dir, name);
        await copyFile(fixture(name), copy);
        files.push(copy);
      }
      const result = await runCli(['cdr', 'import', '--tenant', tenant.slug, ...files], env, 180_000);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      for (const file of files)
        expect(result.stdout).toContain(`${file}: 1 lines read: 1 imported, 0 rejected`);
      const rows = await runAsOwner<{ subject_id: number; n: number; cost: number }>(
        database.ownerUrl,
        `select subject_id::int as subject_id, count(*)::int as n, sum(cost_micros)::int as cost
           from call_records where tenant_id = $1 group by 1`,
        [tenant.tenantId],
      );
      // Each line is a 120-s call to a Brussels number (60/60 at 0.06 €/min): 0.12 € each, all C's.
      expect(rows.rows).toEqual([{ subject_id: c, n: 6, cost: 6 * 120_000 }]);

      // The repository's own generic carrier fixture: semicolons detected, columns by header name.
      const carrier = path.join(dir, 'generic-carrier.csv');
      await copyFile(fixture('generic-carrier.csv'), carrier);
      const generic = await runCli(
        [
          'cdr',
          'import',
          '--tenant',
          tenant.slug,
          '--map',
          'start=begin,caller=from,destination=to,duration=seconds,disposition=status,uniqueId=call_id',
          carrier,
        ],
        env,
      );
      expect(generic.stderr).toBe('');
      expect(generic.stdout).toContain(`${carrier}: 2 lines read: 2 imported, 0 rejected`);
      const carrierRows = await runAsOwner<{ dedup_key: string; subject_id: number; cost: string }>(
        database.ownerUrl,
        `select dedup_key, subject_id::int as subject_id, cost_micros::text as cost from call_records
          where tenant_id = $1 and dedup_key like 'X-%' order by dedup_key`,
        [tenant.tenantId],
      );
      expect(carrierRows.rows).toEqual([
        { dedup_key: 'X-1', subject_id: g, cost: '120000' },
        { dedup_key: 'X-2', subject_id: g, cost: '0' },
      ]);
      // The same lines without the header, by column numbers with the delimiter given: counted from
      // 0, as the help says; the same calls, so both are duplicates.
      const headless = path.join(dir, 'generic-carrier-headless.csv');
      await writeFile(headless, (await readFile(carrier, 'utf8')).split('\n').slice(1).join('\n'));
      const byNumber = await runCli(
        [
          'cdr',
          'import',
          '--tenant',
          tenant.slug,
          '--delimiter',
          ';',
          '--map',
          'uniqueId=0,caller=1,destination=2,start=3,duration=4,disposition=5',
          headless,
        ],
        env,
      );
      expect(byNumber.stderr).toBe('');
      expect(byNumber.stdout).toContain(
        `${headless}: 2 lines read: 0 imported, 0 rejected, 2 skipped as duplicates`,
      );
      const help = await runCli(['cdr', 'import', '--help'], env);
      expect(help.stdout.replace(/\s+/g, ' ')).toContain(
        'a column number counted from 0 (the first column is 0)',
      );
      expect(help.stdout).toContain('--delimiter');
    },
  );

  it(
    'VX-5: a file of which every line is rejected exits non-zero and names its top reject reasons',
    { timeout: 120_000 },
    async () => {
      const tenant = await createPolicyTenant(kernel, 'voxtra');
      const lines = [
        masterLine({
          src: '0499000000',
          dst: '022345678',
          context: 'from-trunk',
          channel: 'SIP/carrier-1',
          start: '2024-05-10 16:00:00',
          answer: '2024-05-10 16:00:01',
          end: '2024-05-10 16:00:11',
          billsec: 10,
          uniqueId: 'x-1715349600.1',
          sequence: 1,
        }),
        masterLine({
          src: '0499000001',
          dst: '022345678',
          context: 'from-trunk',
          channel: 'SIP/carrier-2',
          start: '2024-05-10 16:01:00',
          answer: '2024-05-10 16:01:01',
          end: '2024-05-10 16:01:11',
          billsec: 10,
          uniqueId: 'x-1715349660.2',
          sequence: 2,
        }),
        masterLine({
          src: 'Reception',
          dst: '022345678',
          context: 'from-trunk',
          channel: 'SIP/carrier-3',
          start: '2024-05-10 16:02:00',
          answer: '2024-05-10 16:02:01',
          end: '2024-05-10 16:02:11',
          billsec: 10,
          uniqueId: 'x-1715349720.3',
          sequence: 3,
        }),
        '"","0499000002","022345678","from-trunk"',
      ];
      const file = path.join(dir, 'all-rejected.csv');
      await writeFile(file, `${lines.join('\n')}\n`);
      const result = await runCli(['cdr', 'import', '--tenant', tenant.slug, file], env);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toContain(
        `rejects: ${file}.rejects.csv (not_attributed 2, caller_not_normalisable 1, wrong_column_count 1)`,
      );
      expect(result.stderr).toContain(
        `every line of ${file} (not_attributed 2, caller_not_normalisable 1, wrong_column_count 1) was rejected`,
      );
    },
  );

  it(
    'VX-5: two imports of overlapping files at the same time both end cleanly, and the calls are stored once',
    { timeout: 300_000 },
    async () => {
      const tenant = await createPolicyTenant(kernel, 'voxtra');
      const [c] = (await registerCustomers(kernel, tenant, 1)) as [number];
      const context = {
        tenantId: tenant.tenantId,
        actor: { kind: 'system' as const, job: 'test' },
        purpose: TELEPHONY_SERVICE,
      };
      await addLineIdentifier(kernel, context, {
        subjectId: c,
        kind: 'account_code',
        value: 'cust318',
        from: brussels('2024-01-01'),
      });
      const call = (index: number): string => {
        const start = new Date(Date.UTC(2024, 4, 1) + index * 7_200_000);
        const stamp = (offset: number): string =>
          new Date(start.getTime() + offset * 1000).toISOString().slice(0, 19).replace('T', ' ');
        return masterLine({
          accountCode: 'cust318',
          src: '1001',
          dst: '022345678',
          context: 'cust318-internal',
          channel: `SIP/1001-${index}`,
          start: stamp(0),
          answer: stamp(2),
          end: stamp(32),
          billsec: 30,
          uniqueId: `pbx-${1714521600 + index}.${index}`,
          sequence: index,
        });
      };
      // Both files hold the same 6,000 calls in the same blocks of 250 (one batch each), the first
      // ascending within each block and the second descending: two batches over the same keys in
      // opposite orders at the same time, spread over many months (partitions made concurrently).
      const firstLines: string[] = [];
      const secondLines: string[] = [];
      for (let block = 0; block < 24; block += 1) {
        const indexes = Array.from({ length: 250 }, (_, i) => block * 250 + i);
        firstLines.push(...indexes.map(call));
        secondLines.push(...indexes.reverse().map(call));
      }
      const first = path.join(dir, 'overlap-1.csv');
      const second = path.join(dir, 'overlap-2.csv');
      await writeFile(first, `${firstLines.join('\n')}\n`);
      await writeFile(second, `${secondLines.join('\n')}\n`);
      const [one, two] = await Promise.all([
        runCli(['cdr', 'import', '--tenant', tenant.slug, '--batch-size', '250', first], env, 240_000),
        runCli(['cdr', 'import', '--tenant', tenant.slug, '--batch-size', '250', second], env, 240_000),
      ]);
      expect(one.stderr).toBe('');
      expect(two.stderr).toBe('');
      expect([one.code, two.code]).toEqual([0, 0]);
      const a = summaryOf(one.stdout);
      const b = summaryOf(two.stdout);
      expect(a.imported + b.imported).toBe(6_000);
      expect(a.duplicates + b.duplicates).toBe(6_000);
      const count = await runAsOwner<{ n: number }>(
        database.ownerUrl,
        'select count(*)::int as n from call_records where tenant_id = $1',
        [tenant.tenantId],
      );
      expect(count.rows[0]?.n).toBe(6_000);
    },
  );

  it(
    '`kluis identifiers add --purpose __proto__` is a clean unknown-purpose error like any other unknown key, and stores nothing',
    { timeout: 240_000 },
    async () => {
      const tenant = await createPolicyTenant(kernel, 'voxtra');
      const [holder] = (await registerCustomers(kernel, tenant, 1)) as [number];
      const add = (purpose: string) =>
        runCli(
          [
            'identifiers',
            'add',
            '--tenant',
            tenant.slug,
            '--subject',
            String(holder),
            '--kind',
            'account_code',
            '--value',
            'proto1',
            '--from',
            '2024-01-01',
            '--purpose',
            purpose,
          ],
          env,
        );
      for (const purpose of ['__proto__', 'constructor', 'toString', 'nope']) {
        const result = await add(purpose);
        expect(result.code, purpose).not.toBe(0);
        expect(result.stderr, purpose).toContain(`the policy has no purpose "${purpose}"`);
        expect(result.stderr, purpose).not.toMatch(/audit event|prototype|TypeError/);
      }
      const stored = await runAsOwner(
        database.ownerUrl,
        'select 1 from line_identifiers where tenant_id = $1',
        [tenant.tenantId],
      );
      expect(stored.rowCount).toBe(0);
    },
  );
});
