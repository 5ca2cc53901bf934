import { constants } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kernelCore, type Kernel } from './kernel/kernel.js';
import { parsePolicy } from './kernel/policy/policy.loader.js';
import type { Logger } from './platform/logger.js';
import { isAppError } from './platform/errors.js';
import { reachTestHook } from './platform/test-hooks.js';
import { createTenant, type Tenant } from './modules/tenants/index.js';
import { createStaffUser, issueOneTimePassword, listStaff, type StaffView } from './modules/staff/index.js';
import { demoStaffAccounts, seedDemoData } from './demo/demo-data.js';

export interface FirstRunLogin {
  tenantSlug: string;
  email: string;
  role: string;
  oneTimePassword: string;
}

export interface FirstRunResult {
  /** Logins in the operator's file whose one-time password has not been changed yet. */
  pending: FirstRunLogin[];
  /** True when this start created (or re-issued) one of them: print them. */
  issuedNow: boolean;
  /** The operator's file (mode 0600 in KLUIS_DATA_DIR). */
  file: string;
}

export const FIRST_RUN_LOGINS_FILE = 'first-run-logins.txt';

const BOOTSTRAP_ACTOR = { kind: 'system', job: 'bootstrap' } as const;

/**
 * Creates a tenant from a policy file: name from the policy's controller, slug given or taken
 * from the file name, the policy installed as version 1.
 */
export async function createTenantFromPolicy(kernel: Kernel, file: string, slug?: string): Promise<Tenant> {
  const source = await readFile(file, 'utf8');
  const policy = parsePolicy(source, file);
  const tenant = await createTenant(kernelCore(kernel).db, {
    slug: slug ?? path.basename(file, path.extname(file)),
    name: `${policy.controller.legalName} ${policy.controller.legalForm}`,
  });
  await kernel.policies.install(tenant.tenantId, source, path.relative(process.cwd(), file) || file);
  return tenant;
}

/**
 * The first run of an empty installation: one tenant per policy file in the policy folder (the
 * demo providers `voiceking` and `voxtra`), each with an admin (and, with demo data, one login
 * per role). The plan is stored before anything is created, and every step checks what exists,
 * so a start interrupted half-way (Ctrl-C, kill -9) is completed by the next one, tenant by
 * tenant. Each one-time password is appended to a file only the operator can read as soon as
 * its account exists; one lost in a crash is re-issued. Lines disappear once the password has
 * been changed (the login was handed over), and the file with the last one. Never logged.
 */
export async function bootstrapFirstRun(
  kernel: Kernel,
  options: { policyDir: string; demoData: boolean; dataDir: string },
  logger: Logger,
): Promise<FirstRunResult> {
  const file = path.join(options.dataDir, FIRST_RUN_LOGINS_FILE);
  let issuedNow = false;
  for (const row of await loadPlan(kernel, options.policyDir)) {
    if (row.completed_at !== null) continue;
    await reachTestHook(`first-run.before-tenant:${row.slug}`);
    const tenant = await ensureTenant(kernel, row.slug, row.policy_file);
    const accounts = [
      { email: `admin@${tenant.slug}.example`, displayName: `${tenant.name} administrator`, role: 'admin' },
      ...(options.demoData ? await demoStaffAccounts(kernel, tenant) : []),
    ];
    const saved = await readLoginsFile(file);
    const staff = await allStaff(kernel, tenant.tenantId);
    for (const account of accounts) {
      if (saved.logins.some((login) => login.tenantSlug === tenant.slug && login.email === account.email))
        continue;
      const existing = staff.find((member) => member.email === account.email);
      let oneTimePassword: string;
      if (!existing) {
        oneTimePassword = (await createStaffUser(kernel, tenant.tenantId, BOOTSTRAP_ACTOR, account))
          .oneTimePassword;
        await reachTestHook(`first-run.login-created:${tenant.slug}`);
      } else if (existing.mustChangePassword) {
        // Created by a start that died before saving its password: give it a new one.
        oneTimePassword = await issueOneTimePassword(
          kernel,
          tenant.tenantId,
          BOOTSTRAP_ACTOR,
          existing.staffId,
        );
      } else continue;
      await appendLogin(options.dataDir, file, {
        tenantSlug: tenant.slug,
        email: account.email,
        role: account.role,
        oneTimePassword,
      });
      issuedNow = true;
    }
    if (options.demoData && row.demo_done_at === null) {
      const seeded = await seedDemoData(kernel, tenant, tenant.slug, {
        people: 300,
        organisations: 40,
        seed: tenant.tenantId,
        // Business customers and last month's invoices: HTML, PDF and UBL to look at (issue 22).
        invoices: true,
      });
      await kernelCore(kernel)
        .db.updateTable('first_run_plan')
        .set({ demo_done_at: new Date() })
        .where('slug', '=', row.slug)
        .execute();
      logger.info({ tenant: tenant.slug, ...seeded }, 'first run: demo data created');
    }
    await kernelCore(kernel)
      .db.updateTable('first_run_plan')
      .set({ completed_at: new Date() })
      .where('slug', '=', row.slug)
      .execute();
    logger.info({ tenant: tenant.slug }, 'first run: tenant set up from its policy');
  }
  return { pending: await pruneHandedOver(kernel, file), issuedNow, file };
}

/** The stored plan; on an empty installation it is written first, one row per policy file. */
async function loadPlan(
  kernel: Kernel,
  policyDir: string,
): Promise<
  Array<{ slug: string; policy_file: string; demo_done_at: Date | null; completed_at: Date | null }>
> {
  const read = () =>
    kernelCore(kernel)
      .db.selectFrom('first_run_plan')
      .select(['slug', 'policy_file', 'demo_done_at', 'completed_at'])
      .orderBy('slug')
      .execute();
  const plan = await read();
  if (plan.length > 0) return plan;
  // Tenants but no plan: installed before plans existed, or tenants made with the CLI.
  if ((await kernel.tenants.list()).length > 0) return [];
  const files = (await readdir(policyDir)).filter((file) => file.endsWith('.yaml')).sort();
  if (files.length === 0) return [];
  await kernelCore(kernel)
    .db.insertInto('first_run_plan')
    .values(
      files.map((file) => ({ slug: path.basename(file, '.yaml'), policy_file: path.join(policyDir, file) })),
    )
    .onConflict((conflict) => conflict.column('slug').doNothing())
    .execute();
  return read();
}

async function ensureTenant(kernel: Kernel, slug: string, policyFile: string): Promise<Tenant> {
  const existing = await kernel.tenants.bySlug(slug).catch((error: unknown) => {
    if (isAppError(error) && error.code === 'tenant_not_found') return undefined;
    throw error;
  });
  if (!existing) return createTenantFromPolicy(kernel, policyFile, slug);
  // Created by a start that died before installing its policy.
  const hasPolicy = await kernel.policies.current(existing.tenantId).then(
    () => true,
    (error: unknown) => {
      if (isAppError(error) && error.code === 'invalid_policy') return false;
      throw error;
    },
  );
  if (!hasPolicy) {
    const source = await readFile(policyFile, 'utf8');
    await kernel.policies.install(
      existing.tenantId,
      source,
      path.relative(process.cwd(), policyFile) || policyFile,
    );
  }
  return existing;
}

async function allStaff(kernel: Kernel, tenantId: number): Promise<StaffView[]> {
  const staff: StaffView[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await listStaff(kernel, tenantId, BOOTSTRAP_ACTOR, { limit: 100, after });
    staff.push(...page.items);
    if (page.nextAfter === null) return staff;
    after = page.nextAfter;
  }
}

const LINE = /^tenant (\S+)\s+(\S+)\s+role (\S+)\s+password (\S+)$/;

/** The banner line and the file line are the same text. */
export function formatLogin(login: FirstRunLogin): string {
  return `tenant ${login.tenantSlug.padEnd(10)} ${login.email.padEnd(36)} role ${login.role.padEnd(16)} password ${login.oneTimePassword}`;
}

async function readLoginsFile(file: string): Promise<{ logins: FirstRunLogin[]; other: string[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { logins: [], other: [] };
    throw error;
  }
  const logins: FirstRunLogin[] = [];
  const other: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line.trim());
    if (match?.[1] && match[2] && match[3] && match[4])
      logins.push({ tenantSlug: match[1], email: match[2], role: match[3], oneTimePassword: match[4] });
    else other.push(line); // kept: never throw away what the operator may still need
  }
  return { logins, other };
}

const FILE_HEADER =
  '# Kluis first-run staff logins not yet handed over. Each line disappears once its password is changed.\n';

/** Appended and flushed to disk before the caller goes on: a password is never only in memory. */
async function appendLogin(dataDir: string, file: string, login: FirstRunLogin): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const handle = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    await handle.chmod(0o600);
    const { size } = await handle.stat();
    await handle.write(`${size === 0 ? FILE_HEADER : ''}${formatLogin(login)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Drops the lines of logins whose one-time password was changed; removes the file when none is left. */
async function pruneHandedOver(kernel: Kernel, file: string): Promise<FirstRunLogin[]> {
  const { logins, other } = await readLoginsFile(file);
  if (logins.length === 0 && other.length === 0) {
    await rm(file, { force: true });
    return [];
  }
  const pending: FirstRunLogin[] = [];
  const tenants = await kernel.tenants.list();
  const staffBySlug = new Map<string, StaffView[]>();
  for (const login of logins) {
    const tenant = tenants.find((candidate) => candidate.slug === login.tenantSlug);
    if (!tenant) continue;
    let staff = staffBySlug.get(tenant.slug);
    if (!staff) {
      staff = await allStaff(kernel, tenant.tenantId);
      staffBySlug.set(tenant.slug, staff);
    }
    if (staff.some((member) => member.email === login.email && member.mustChangePassword))
      pending.push(login);
  }
  if (pending.length === logins.length) return pending;
  if (pending.length === 0 && other.length === 0) {
    await rm(file, { force: true });
    return [];
  }
  const next = `${file}.next`;
  await writeFile(next, FILE_HEADER + [...other, ...pending.map(formatLogin)].join('\n') + '\n', {
    mode: 0o600,
  });
  await chmod(next, 0o600);
  await rename(next, file);
  return pending;
}
