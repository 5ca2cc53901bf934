import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { writeMailSettings } from './index.js';
import { queuedMailingTo } from './mailing.test-helpers.js';

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let smtp: SmtpSink;
let tenant: Tenant;
let env: Record<string, string>;

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-mailings-cli-');
  ({ database, kernel } = workspace);
  smtp = await startSmtpSink();
  env = workspace.envFor(database.ownerUrl, {
    KLUIS_SMTP_URL: smtp.url,
    KLUIS_SMTP_DELIVERS: 'false',
    KLUIS_PUBLIC_URL: 'https://news.example',
  });
  tenant = await createPolicyTenant(kernel, 'voiceking');
  await writeMailSettings(kernel, tenant.tenantId, {
    fromAddress: 'news@voiceking.be',
    dkim: null,
    ratePerSecond: 1000,
  });
}, 60_000);
afterAll(async () => {
  await smtp.close();
  await workspace.close();
});

describe('kluis mailings send|status', () => {
  it('VK-17: a sender killed half-way and restarted sends every remaining mail once', async () => {
    const { mailingId, addresses, pending } = await queuedMailingTo(kernel, tenant, 'Crash', 6);
    expect(pending).toBe(6);

    // Killed right after the SMTP server accepted the third mail, before it was marked sent.
    const killed = await runCli(['mailings', 'send', '--tenant', tenant.slug], {
      ...env,
      KLUIS_TEST_HOOK: 'mailing.after-send-3:kill',
    });
    expect(killed.code).not.toBe(0);
    expect(smtp.messages).toHaveLength(3);
    const halfway = await runCli(
      ['mailings', 'status', '--tenant', tenant.slug, '--mailing', String(mailingId)],
      env,
    );
    expect(halfway.stdout).toContain('sending; pending 3, sending 1, sent 2');

    const resumed = await runCli(['mailings', 'send', '--tenant', tenant.slug], env);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('3 sent');
    expect(resumed.stdout).toContain('1 uncertain');
    // Twice: nothing left to send.
    const again = await runCli(['mailings', 'send', '--tenant', tenant.slug], env);
    expect(again.stdout).toContain('0 sent');
    for (const address of addresses) expect(smtp.to(address)).toHaveLength(1);
    expect(smtp.messages).toHaveLength(6);
    const done = await runCli(
      ['mailings', 'status', '--tenant', tenant.slug, '--mailing', String(mailingId)],
      env,
    );
    expect(done.stdout).toContain(
      `mailing ${mailingId} (newsletter_customers): sent; pending 0, sending 0, sent 5, skipped 0, uncertain 1, bounced 0`,
    );
    const states = await runAsOwner<{ state: string; count: number }>(
      database.ownerUrl,
      'select state, count(*)::int as count from mailing_recipients where tenant_id = $1 group by state order by state',
      [tenant.tenantId],
    );
    expect(states.rows).toEqual([
      { state: 'sent', count: 5 },
      { state: 'uncertain', count: 1 },
    ]);
  }, 120_000);

  it('status of an unknown mailing or another tenant’s says so and exits 1', async () => {
    const other = await createPolicyTenant(kernel, 'voxtra');
    const result = await runCli(['mailings', 'status', '--tenant', other.slug, '--mailing', '1'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no such mailing');
    const bad = await runCli(['mailings', 'status', '--tenant', other.slug, '--mailing', 'abc'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--mailing');
  }, 60_000);
});
