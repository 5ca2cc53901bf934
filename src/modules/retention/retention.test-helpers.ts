import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp } from '../../../test/http.js';
import { createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Clock } from '../../platform/clock.js';
import { SYSTEM, startContract } from '../billing/billing.test-helpers.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import type { RetentionPlan } from './index.js';

/**
 * What a test that files something over HTTP and then sweeps with `kluis retention run` needs: a
 * CLI workspace, a kernel on the test's clock (to write data "in the past"), an SMTP sink and an
 * app that mails through it.
 */
export interface SweepWorkspace {
  readonly database: TestDatabase;
  readonly kernel: Kernel;
  /** The environment of a CLI child against this database. */
  readonly env: Record<string, string>;
  readonly app: FastifyInstance;
  readonly smtp: SmtpSink;
  /** The `n` of a `select count(*)::int as n …`, run as the database owner (-1 without a row). */
  readonly count: (sql: string, params: unknown[]) => Promise<number>;
  close(): Promise<void>;
}

export async function openSweepWorkspace(prefix: string, clock: Clock): Promise<SweepWorkspace> {
  const workspace = await openCliWorkspace(prefix);
  const { database, env } = workspace;
  const kernel = createTestKernel(database, clock, workspace.masterKey);
  const smtp = await startSmtpSink();
  const app = await createTestApp(kernel, { mailer: smtp.mailer, publicUrl: 'https://privacy.example' });
  return {
    database,
    kernel,
    env,
    app,
    smtp,
    count: async (sql, params) =>
      (await runAsOwner<{ n: number }>(database.ownerUrl, sql, params)).rows[0]?.n ?? -1,
    close: async () => {
      await app.close();
      await smtp.close();
      await workspace.close();
    },
  };
}

/** `kluis retention plan --json` for the tenant (with extra arguments), which must succeed quietly. */
export async function retentionPlanOf(
  env: Record<string, string>,
  tenant: Tenant,
  extra: string[] = [],
): Promise<RetentionPlan> {
  const result = await runCli(['retention', 'plan', '--tenant', tenant.slug, '--json', ...extra], env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as RetentionPlan;
}

/**
 * A customer Lies `familyName` (mailed at `<familyname>@mail.example`), recorded for `purpose`, with
 * one contract on `productId` from `startDate` to `endDate`; answers the subject id.
 */
export async function customerUnderContract(
  kernel: Kernel,
  tenant: Tenant,
  customer: { familyName: string; purpose: string },
  contract: { productId: number; startDate: string; endDate: string },
): Promise<number> {
  const { familyName, purpose } = customer;
  const id = (
    await createPerson(
      kernel,
      { tenantId: tenant.tenantId, actor: SYSTEM, purpose },
      {
        subjectType: 'customer',
        familyName,
        givenName: 'Lies',
        email: `${familyName.toLowerCase()}@mail.example`,
      },
    )
  ).subjectId;
  await startContract(kernel, tenant, id, {
    startDate: contract.startDate,
    endDate: contract.endDate,
    lines: [{ productId: contract.productId }],
  });
  return id;
}
