import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '../src/kernel/kernel.js';
import { registerSubject } from '../src/kernel/subjects/index.js';
import { runCli } from './cli.js';
import { openCliWorkspace, type CliWorkspace } from './cli-workspace.js';
import { runAsOwner, type TestDatabase } from './database.js';
import { createPolicyTenant } from './kernel.js';

/** The rough edges of the CLI that issue 12 lists, each through the CLI as an operator types it. */
let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-cli-polish-');
  ({ database, kernel, dir, env } = workspace);
});
afterAll(async () => workspace.close());

async function countSubjects(tenantId: number): Promise<number> {
  const result = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    'select count(*)::int as n from data_subjects where tenant_id = $1',
    [tenantId],
  );
  return result.rows[0]?.n ?? -1;
}

describe('a CLI that answers clearly (issue 12)', () => {
  it('tenant create says an admin is needed next; tenant list has a header; staff list has one and says when it is empty', async () => {
    const created = await runCli(['tenant', 'create', '--name', 'Acme BV', '--slug', 'acme'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(
      'next: create its first admin: kluis staff create --tenant acme --email <e-mail> --role admin',
    );
    const tenants = await runCli(['tenant', 'list'], env);
    expect(tenants.code).toBe(0);
    const [header, ...rows] = tenants.stdout.trim().split('\n');
    expect(header).toMatch(/^SLUG\s+ID\s+CREATED\s+NAME$/);
    expect(rows.some((row) => /^acme\s+\d+\s+\d{4}-\d{2}-\d{2}\s+Acme BV$/.test(row))).toBe(true);

    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const empty = await runCli(['staff', 'list', '--tenant', tenant.slug], env);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe(
      `no staff accounts in ${tenant.slug}: create the first admin with kluis staff create --tenant ${tenant.slug} --email <e-mail> --role admin\n`,
    );
    await runCli(
      ['staff', 'create', '--tenant', tenant.slug, '--email', 'a@voxtra.example', '--role', 'admin'],
      env,
    );
    const listed = await runCli(['staff', 'list', '--tenant', tenant.slug], env);
    expect(listed.stdout.split('\n')[0]).toBe('ID\tE-MAIL\tROLE\tSTATUS');
    expect(listed.stdout).toMatch(/^\d+\ta@voxtra\.example\tadmin\tactive/m);
  });

  it('dates are echoed as given (--from 2026-10-01), and --term abc, --people abc, an unknown tenant and a tenant without a demo plan are clear errors with exit 1', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const subjectId = await kernel.transact(tenant.tenantId, (atx) =>
      registerSubject(atx, 'customer', kernel.clock.now()),
    );
    const assigned = await runCli(
      [
        'numbers',
        'assign',
        '--tenant',
        tenant.slug,
        '--number',
        '+32471000077',
        '--subject',
        String(subjectId),
        '--from',
        '2026-10-01',
      ],
      env,
    );
    expect(assigned.stderr).toBe('');
    expect(assigned.stdout).toBe(`+32471000077 assigned to subject ${subjectId} from 2026-10-01\n`);
    const list = await runCli(['numbers', 'list', '--tenant', tenant.slug], env);
    expect(list.stdout).toContain(`+32471000077\tsubject ${subjectId}\t2026-10-01\topen`);

    const term = await runCli(
      ['billing', 'settings', '--tenant', tenant.slug, '--iban', 'BE71096123456769', '--term', 'abc'],
      env,
    );
    expect(term.code).toBe(1);
    expect(term.stderr).toContain('--term: expected a whole number from 1 to 365');
    expect(term.stderr).not.toMatch(/NaN|unexpected error/);

    const people = await runCli(['demo', '--tenant', tenant.slug, '--people', 'abc'], env);
    expect(people.code).toBe(1);
    expect(people.stderr).toContain('--people: expected a whole number');
    const unknown = await runCli(['demo', '--tenant', 'nosuch', '--people', '5'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no tenant "nosuch"');
    const noPlan = await runCli(['demo', '--tenant', 'acme', '--people', '5'], env);
    expect(noPlan.code).toBe(1);
    expect(noPlan.stderr).toContain('has no demo plan "acme": give --policy voiceking or --policy voxtra');
    for (const result of [people, unknown, noPlan]) expect(result.stderr).not.toContain('unexpected error');
  });

  it('kluis demo runs twice on a tenant whose products exist, and a run killed half-way leaves no person behind', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const first = await runCli(
      ['demo', '--tenant', tenant.slug, '--policy', 'voxtra', '--people', '40'],
      env,
    );
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/40 people and \d+ organisations created/);
    const second = await runCli(
      ['demo', '--tenant', tenant.slug, '--policy', 'voxtra', '--people', '40'],
      env,
    );
    expect(second.code).toBe(0);
    const before = await countSubjects(tenant.tenantId);
    expect(before).toBe(80);

    const killed = await runCli(
      ['demo', '--tenant', tenant.slug, '--policy', 'voxtra', '--people', '3000', '--organisations', '0'],
      { ...env, KLUIS_TEST_HOOK: 'demo.batch:kill' },
      120_000,
    );
    expect(killed.code).toBeNull(); // SIGKILL after the first batch of people was written
    expect(await countSubjects(tenant.tenantId)).toBe(before);
  });

  it('a call-record import that rejects every line exits non-zero', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const file = path.join(dir, 'nobody.csv');
    const line = (n: number) =>
      `"","+32470000${n}","+3250123456","from-internal","","SIP/1","SIP/2","Dial","x","2026-03-01 10:00:0${n}","2026-03-01 10:00:0${n}","2026-03-01 10:01:0${n}",60,60,"ANSWERED","DOCUMENTATION","u-${n}","","","u-${n}",${n}`;
    await writeFile(file, `${[1, 2, 3].map(line).join('\n')}\n`);
    const result = await runCli(
      ['cdr', 'import', '--tenant', tenant.slug, '--format', 'asterisk', file],
      env,
    );
    expect(result.stdout).toMatch(/3 lines read: 0 imported, 3 rejected/);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`every line of ${file} (not_attributed 3) was rejected`);
  });
});
