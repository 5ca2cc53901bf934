import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp } from '../../../test/http.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { STAFF_LOGIN_LIMITS } from './login-limits.js';
import { createStaffUser } from './staff.service.js';

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let tenant: Tenant;
let env: Record<string, string>;

beforeAll(async () => {
  // The CLI opens its own kernel on the same database and master key.
  workspace = await openCliWorkspace('kluis-staff-unlock-');
  ({ database, kernel, env } = workspace);
  app = await createTestApp(kernel);
  tenant = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await app.close();
  await workspace.close();
});

const login = (email: string, password: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { tenant: tenant.slug, email, password },
  });

describe('kluis staff unlock', () => {
  it('VK-8: kluis staff unlock lifts a lock and forgets the failed logins; the right password then gets in at once', async () => {
    const email = 'locked.out@staff.example';
    const staff = await createStaffUser(
      kernel,
      tenant.tenantId,
      { kind: 'system', job: 'test' },
      { email, displayName: 'Locked Out', role: 'billing' },
    );
    for (let i = 0; i < STAFF_LOGIN_LIMITS.account.max; i += 1)
      expect((await login(email, `wrong-${i}`)).statusCode).toBe(401);
    // As after five wrong second-factor codes (auth.routes.test.ts shows how a lock comes about).
    await runAsOwner(
      database.ownerUrl,
      "update staff_users set locked_until = now() + interval '15 minutes' where staff_id = $1",
      [staff.staffId],
    );
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the 1 s slow-down
    const locked = await login(email, staff.oneTimePassword);
    expect(locked.statusCode).toBe(423);
    expect(locked.json()).toMatchObject({ code: 'account_locked' });

    const unknown = await runCli(
      ['staff', 'unlock', '--tenant', tenant.slug, '--email', 'nobody@staff.example'],
      env,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no such staff account');

    const unlocked = await runCli(
      ['staff', 'unlock', '--tenant', tenant.slug, '--email', email.toUpperCase()],
      env,
    );
    expect(unlocked.stderr).toBe('');
    expect(unlocked.code).toBe(0);
    expect(unlocked.stdout).toContain(`staff ${staff.staffId} in ${tenant.slug} unlocked`);
    const counters = await runAsOwner<{ count: string }>(
      database.ownerUrl,
      "select count(*) from throttle_counters where tenant_id = $1 and bucket = 'staff-login.account'",
      [tenant.tenantId],
    );
    expect(Number(counters.rows[0]?.count)).toBe(0);
    expect((await login(email, staff.oneTimePassword)).statusCode).toBe(200);
    const audit = await runAsOwner<{ action: string }>(
      database.ownerUrl,
      "select action from audit_log where tenant_id = $1 and action = 'staff.unlock'",
      [tenant.tenantId],
    );
    expect(audit.rows).toHaveLength(1);
  });
});
