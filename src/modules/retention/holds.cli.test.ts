import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { addDays, addYears, belgianDay } from './dates.js';

/*
 * `kluis retention holds …` and `kluis retention cases …` (issue 16): a privacy officer's holds
 * from the console, through the same service and gate as the API; the sweep then keeps the
 * persons held, and erases them once the holds are released.
 */

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let env: Record<string, string>;
// People are made "in the past" on an injected clock; the CLI children run on the real day.
const clock = fixedClock(new Date());
const today = belgianDay(new Date());

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-holds-cli-');
  ({ database, env } = workspace);
  kernel = createTestKernel(database, clock, workspace.masterKey);
});
afterAll(async () => workspace.close());

/** A prospect inactive for three years and a day: the sweep erases them today unless held. */
async function dueProspect(tenant: Tenant, familyName: string): Promise<number> {
  clock.set(new Date(`${addDays(addYears(today, -3), -1)}T10:00:00Z`));
  const created = await createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose: 'answering_questions' },
    {
      subjectType: 'prospect',
      familyName,
      givenName: 'Els',
      email: `${familyName.toLowerCase()}@mail.example`,
    },
  );
  return created.subjectId;
}

async function kluis(args: string[]) {
  return runCli(['retention', ...args], env);
}

describe('kluis retention holds / cases (issue 16)', () => {
  it('a hold on a person and a case placed from the console keep them from the sweep; released, the next sweep erases them; each step audited', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const alone = await dueProspect(tenant, 'Houvast');
    const first = await dueProspect(tenant, 'Dossiera');
    const second = await dueProspect(tenant, 'Dossierb');
    const until = addDays(today, 30);
    const t = ['--tenant', tenant.slug];

    const placed = await kluis([
      'holds',
      'place',
      ...t,
      '--subject',
      String(alone),
      '--reason',
      'Geschil voor de ondernemingsrechtbank',
      '--ends-on',
      until,
    ]);
    expect(placed.stderr).toBe('');
    expect(placed.code).toBe(0);
    const holdId = /^hold (\d+) subject (\d+) until (\S+) active: (.*)$/m.exec(placed.stdout);
    expect(holdId?.slice(2)).toEqual([String(alone), until, 'Geschil voor de ondernemingsrechtbank']);

    const opened = await kluis([
      'cases',
      'place',
      ...t,
      '--name',
      'Onderzoek toezichthouder 2026',
      '--reason',
      'Vraag van de Gegevensbeschermingsautoriteit',
      '--ends-on',
      until,
      '--subjects',
      String(first),
    ]);
    expect(opened.stderr).toBe('');
    const caseId = /^case (\d+) "Onderzoek toezichthouder 2026" until (\S+) active, 1 people$/m.exec(
      opened.stdout,
    )?.[1];
    expect(caseId).toBeDefined();
    const added = await kluis(['cases', 'add', ...t, '--case', String(caseId), '--subjects', String(second)]);
    expect(added.stdout).toMatch(/, 2 people$/m);
    expect((await kluis(['cases', 'list', ...t])).stdout).toContain(
      `case ${caseId} "Onderzoek toezichthouder 2026" until ${until} active, 2 people`,
    );
    const listed = await kluis(['holds', 'list', ...t, '--subject', String(first)]);
    expect(listed.stdout).toMatch(
      new RegExp(`^hold \\d+ subject ${first} case ${caseId} until ${until} active: `, 'm'),
    );

    const held = await kluis(['run', ...t]);
    expect(held.stderr).toBe('');
    expect(held.stdout).toMatch(/0 people erased, 0 partly erased, 3 held, 0 refused/);

    expect((await kluis(['holds', 'release', ...t, '--hold', String(holdId?.[1])])).stdout).toBe(
      `hold ${holdId?.[1]} released\n`,
    );
    expect((await kluis(['cases', 'release', ...t, '--case', String(caseId)])).stdout).toBe(
      `case ${caseId} released\n`,
    );
    const swept = await kluis(['run', ...t]);
    expect(swept.stdout).toMatch(/3 people erased, 0 partly erased, 0 held, 0 refused/);

    const audit = await runAsOwner<{ action: string }>(
      database.ownerUrl,
      `select action from audit_log where tenant_id = $1 and action like 'retention.%' and action <> 'retention.certificate' order by seq`,
      [tenant.tenantId],
    );
    expect(audit.rows.map((row) => row.action)).toEqual(
      expect.arrayContaining([
        'retention.hold.place',
        'retention.case.place',
        'retention.hold.release',
        'retention.case.release',
      ]),
    );
  }, 240_000);

  it('bad arguments are refused with a message naming the option, and nothing is held', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const person = await dueProspect(tenant, 'Foutief');
    const t = ['--tenant', tenant.slug];
    const refusals: Array<[string[], RegExp]> = [
      [
        ['holds', 'place', ...t, '--subject', 'abc', '--reason', 'Geschil', '--ends-on', addDays(today, 5)],
        /--subject/,
      ],
      [
        [
          'holds',
          'place',
          ...t,
          '--subject',
          String(person),
          '--reason',
          'Geschil',
          '--ends-on',
          addDays(today, -5),
        ],
        /endsOn: lies in the past/,
      ],
      [
        [
          'holds',
          'place',
          ...t,
          '--subject',
          String(person),
          '--reason',
          'Rijksregister 85.07.30-033.28',
          '--ends-on',
          addDays(today, 5),
        ],
        /reason/,
      ],
      [
        [
          'cases',
          'place',
          ...t,
          '--name',
          'Zaak',
          '--reason',
          'Onderzoek',
          '--ends-on',
          addDays(today, 5),
          '--subjects',
          '1,,2',
        ],
        /--subjects/,
      ],
      [['holds', 'list', ...t, '--subject', String(person), '--purpose', 'no_such_purpose'], /--purpose/],
    ];
    for (const [args, message] of refusals) {
      const result = await kluis(args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr).not.toContain('85.07.30');
    }
    const holds = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from legal_holds where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(holds.rows[0]?.n).toBe(0);
  }, 240_000);
});
