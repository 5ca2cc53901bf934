import type { FastifyInstance } from 'fastify';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { dumpTables, dumpWholeDatabase, restoreTables } from '../../../test/dump.js';
import { createTestApp, loginAs, requestAs, totpCode, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, fixedClock } from '../../../test/kernel.js';
import { createDomainEventSubscribers } from '../../jobs/domain-events.job.js';
import { createKernel, type Kernel } from '../../kernel/kernel.js';
import { LocalKeyManagementService } from '../../kernel/keyring/kms.js';
import { createAppDb } from '../../platform/db.js';
import { withDatabase } from '../../platform/database-url.js';
import { createCustomer, prepareTenant, startContract } from '../billing/billing.test-helpers.js';
import type { Tenant } from '../tenants/index.js';
import { revealSecret } from './index.js';
import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from '../../../test/cli.js';
import {
  auditHead as auditHeadIn,
  auditSince as auditSinceIn,
  dossierCall,
  ownerRows,
  type Method,
} from './dossier.test-helpers.js';

// Thursday 5 November 2026; October is billed, contracts started on 1 October.
const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));
const masterKey = randomBytes(32);

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let voiceking: Tenant;
let subscription: number;
let technician: StaffSession;
let sales: StaffSession;
let billing: StaffSession;

const PASSWORD = 'Pr1nter-Adm1n!zz';
// A Base32 seed as an authenticator app shows it.
const SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createKernel({
    db: database.db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock,
  });
  app = await createTestApp(kernel, { events: createDomainEventSubscribers(kernel, testLogger) });
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  subscription = (await prepareTenant(kernel, voxtra)).subscription;
  technician = await loginAs(app, kernel, voxtra, 'technician');
  sales = await loginAs(app, kernel, voxtra, 'sales');
  billing = await loginAs(app, kernel, voxtra, 'billing');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(
  session: StaffSession,
  method: Method,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return dossierCall(app, session, method, url, payload, { 'x-kluis-purpose': purposeFor(url), ...headers });
}

/** The purpose each call declares (decision 0061: never filled in by the server). */
function purposeFor(url: string): string {
  if (url.includes('/dossier')) return 'technical_dossier';
  if (url.includes('/contracts')) return 'customer_administration';
  return 'invoicing';
}

const owner = <R extends Record<string, unknown>>(text: string, values: unknown[] = []) =>
  ownerRows<R>(database, text, values);
const auditSince = (tenant: Tenant, seq: number) => auditSinceIn(database, tenant, seq);
const auditHead = (tenant: Tenant) => auditHeadIn(database, tenant);

/** A customer with a dossier built over HTTP by the technician: one asset, one credential, one licence. */
async function customerWithDossier(familyName: string, hostname: string) {
  const subjectId = await createCustomer(kernel, voxtra, { familyName });
  const asset = await call(technician, 'POST', `/api/v1/customers/${subjectId}/dossier/assets`, {
    kind: 'printer',
    brand: 'Brother',
    model: 'MFC-L3770CDW',
    serial: 'E78 123-A45',
    location: 'onthaal',
    hostname,
    ipAddress: '192.168.10.20',
    purchasedOn: '2024-03-01',
    warrantyUntil: '2027-03-01',
  });
  expect(asset.statusCode, asset.body).toBe(201);
  const credential = await call(technician, 'POST', `/api/v1/customers/${subjectId}/dossier/credentials`, {
    system: 'Microsoft 365 mailbox',
    url: 'https://outlook.office.com',
    username: `info-${familyName.toLowerCase()}`,
    password: PASSWORD,
    totpSeed: SEED.match(/.{4}/g)?.join(' ').toLowerCase(),
  });
  expect(credential.statusCode, credential.body).toBe(201);
  const fact = await call(technician, 'POST', `/api/v1/customers/${subjectId}/dossier/facts`, {
    kind: 'licence',
    label: 'Microsoft 365 Business Standard',
    seats: 5,
    expiresOn: '2027-01-31',
  });
  expect(fact.statusCode, fact.body).toBe(201);
  return {
    subjectId,
    assetId: asset.json<{ assetId: number }>().assetId,
    credentialId: credential.json<{ credentialId: number }>().credentialId,
  };
}

const reveal = (session: StaffSession, credentialId: number, body: Record<string, unknown>) =>
  call(session, 'POST', `/api/v1/dossier/credentials/${credentialId}/reveal`, body);
const REASON = 'mailbox of the customer does not sync, ticket T-4711';

describe('technical dossier and credentials vault (VX-4)', () => {
  it('VX-4: a technician keeps a dossier over HTTP; every value is ciphertext under the dossier key, secrets come back masked, search by hostname and serial works', async () => {
    const { subjectId, assetId, credentialId } = await customerWithDossier('Verstraete', 'PRN-Onthaal.');

    const dossier = await call(technician, 'GET', `/api/v1/customers/${subjectId}/dossier`);
    expect(dossier.statusCode).toBe(200);
    expect(dossier.headers['cache-control']).toBe('no-store');
    expect(dossier.json()).toMatchObject({
      subjectId,
      assets: [
        { assetId, kind: 'printer', brand: 'Brother', serial: 'E78 123-A45', hostname: 'PRN-Onthaal.' },
      ],
      credentials: [{ credentialId, system: 'Microsoft 365 mailbox', password: '********', hasTotp: true }],
      facts: [{ kind: 'licence', seats: 5, expiresOn: '2027-01-31' }],
    });
    expect(dossier.body).not.toContain(PASSWORD);
    expect(dossier.body).not.toContain(SEED);

    // Nothing of the dossier is readable in the database; the key is the dossier's own.
    const everything = await dumpWholeDatabase(database.ownerUrl);
    for (const plain of [
      PASSWORD,
      SEED,
      'MFC-L3770CDW',
      'prn-onthaal',
      'info-verstraete',
      'Business Standard',
    ])
      expect(everything.toLowerCase()).not.toContain(plain.toLowerCase());
    const keys = await runAsOwner<{ owner_kind: string }>(
      database.keystoreOwnerUrl,
      "select owner_kind from data_keys where tenant_id = $1 and owner_ref = $2 and wrapped is not null and owner_kind in ('subject', 'dossier') order by owner_kind",
      [voxtra.tenantId, String(subjectId)],
    );
    expect(keys.rows.map((row) => row.owner_kind)).toEqual(['dossier', 'subject']);

    // Exact-match search on normalised hostname and serial, across customers.
    const byHost = await call(technician, 'GET', '/api/v1/dossier/assets?hostname=prn-onthaal');
    expect(byHost.json<{ items: Array<{ assetId: number }> }>().items.map((item) => item.assetId)).toEqual([
      assetId,
    ]);
    const bySerial = await call(technician, 'GET', '/api/v1/dossier/assets?serial=e78123a45');
    expect(bySerial.json<{ items: Array<{ assetId: number }> }>().items.map((item) => item.assetId)).toEqual([
      assetId,
    ]);
    expect((await call(technician, 'GET', '/api/v1/dossier/assets?serial=nope')).json()).toEqual({
      items: [],
      unreadable: 0,
    });

    // Bad input: a clear 400 naming the field, nothing written.
    const before = await owner<{ n: number }>('select count(*)::int as n from dossier_credentials');
    const bad = await call(technician, 'POST', `/api/v1/customers/${subjectId}/dossier/credentials`, {
      system: 'VPN',
      totpSeed: 'not base32!',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });
    expect(bad.body).not.toContain('not base32');
    expect(await owner('select count(*)::int as n from dossier_credentials')).toEqual(before);
  });

  it('VX-4: only a technician with a typed reason and a second factor from the last 5 minutes may reveal a secret; every other role, a missing reason or a stale factor is refused, and all of it is audited', async () => {
    const { subjectId, credentialId } = await customerWithDossier('Desmet', 'pc-desmet');
    const start = await auditHead(voxtra);

    // A fresh second factor (the login's, seconds ago) and a reason: the secret.
    const allowed = await reveal(technician, credentialId, { field: 'password', reason: REASON });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.headers['cache-control']).toBe('no-store');
    expect(allowed.json()).toEqual({ field: 'password', value: PASSWORD });

    // No reason, or one too short: refused, audited.
    const noReason = await reveal(technician, credentialId, { field: 'password' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json()).toMatchObject({
      code: 'validation_failed',
      details: { issues: [{ path: 'body/reason' }] },
    });
    expect(
      (await reveal(technician, credentialId, { field: 'password', reason: 'because' })).statusCode,
    ).toBe(400);

    // Every other role of the Voxtra policy, each with a reason (and a second factor where the role has one).
    for (const role of ['admin', 'privacy_officer', 'sales', 'billing', 'support']) {
      const session = await loginAs(app, kernel, voxtra, role);
      const refused = await reveal(session, credentialId, { field: 'password', reason: REASON });
      expect(refused.statusCode, role).toBe(403);
      expect(refused.json(), role).toMatchObject({ code: 'role_not_allowed' });
      expect(refused.body).not.toContain(PASSWORD);
      // Not even the masked dossier.
      const dossier = await call(session, 'GET', `/api/v1/customers/${subjectId}/dossier`);
      expect(dossier.statusCode, role).toBe(403);
    }

    // Six minutes later the second factor is stale: refused until a step-up.
    clock.advance(6 * 60 * 1000);
    const stale = await reveal(technician, credentialId, { field: 'totpSeed', reason: REASON });
    expect(stale.statusCode).toBe(403);
    expect(stale.json()).toMatchObject({ code: 'step_up_required' });
    const wrong = await call(technician, 'POST', '/api/v1/auth/mfa/step-up', { code: '000000' });
    expect(wrong.statusCode).toBe(403);
    const stepUp = await call(technician, 'POST', '/api/v1/auth/mfa/step-up', {
      code: await totpCode(kernel, technician.totpSecret ?? ''),
    });
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    const seed = await reveal(technician, credentialId, { field: 'totpSeed', reason: REASON });
    expect(seed.statusCode, seed.body).toBe(200);
    expect(seed.json()).toEqual({ field: 'totpSeed', value: SEED });

    const entries = (await auditSince(voxtra, start)).filter((entry) => entry.action.startsWith('dossier.'));
    expect(entries.map((entry) => [entry.action, entry.role, entry.decision, entry.reason])).toEqual([
      ['dossier.reveal', 'technician', 'allowed', `password revealed: ${REASON}`],
      ['dossier.reveal', 'technician', 'denied', 'reason_missing'],
      ['dossier.reveal', 'technician', 'denied', 'reason_missing'],
      ['dossier.reveal', 'technician', 'denied', 'second_factor_stale'],
      ['dossier.reveal', 'technician', 'allowed', `TOTP seed revealed: ${REASON}`],
    ]);
    const gate = (await auditSince(voxtra, start)).filter(
      (entry) => entry.action === 'read' && entry.decision === 'denied',
    );
    expect(gate.map((entry) => [entry.role, entry.reason])).toEqual(
      expect.arrayContaining([
        ['admin', 'role_not_allowed'],
        ['privacy_officer', 'role_not_allowed'],
        ['sales', 'role_not_allowed'],
        ['billing', 'role_not_allowed'],
        ['support', 'role_not_allowed'],
      ]),
    );
    expect(
      (await auditSince(voxtra, start))
        .filter((entry) => entry.action === 'login.step-up')
        .map((entry) => entry.decision),
    ).toEqual(['denied', 'allowed']);
    const log = await dumpWholeDatabase(database.ownerUrl);
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain(SEED);
  });

  it('VX-4: the current TOTP code is shown without the seed, under the same rule, audited', async () => {
    const { credentialId } = await customerWithDossier('Claeys', 'nas-claeys');
    const step = await call(technician, 'POST', '/api/v1/auth/mfa/step-up', {
      code: await totpCode(kernel, technician.totpSecret ?? '', 30),
    });
    // The code of the next step also proves the factor (one step of clock drift is allowed).
    expect(step.statusCode, step.body).toBe(200);
    const start = await auditHead(voxtra);
    const shown = await call(technician, 'POST', `/api/v1/dossier/credentials/${credentialId}/totp-code`, {
      reason: 'log in to the customer admin portal for ticket T-4712',
    });
    expect(shown.statusCode, shown.body).toBe(200);
    const epoch = Math.floor(clock.now().getTime() / 1000);
    expect(shown.json()).toEqual({
      code: await generate({ secret: SEED, epoch }),
      validForSeconds: 30 - (epoch % 30),
    });
    expect(shown.body).not.toContain(SEED);
    const refused = await call(sales, 'POST', `/api/v1/dossier/credentials/${credentialId}/totp-code`, {
      reason: 'log in to the customer admin portal',
    });
    expect(refused.statusCode).toBe(403);
    const entries = (await auditSince(voxtra, start)).filter((entry) => entry.action === 'dossier.totp-code');
    expect(entries).toEqual([
      expect.objectContaining({
        role: 'technician',
        decision: 'allowed',
        reason: 'TOTP code shown: log in to the customer admin portal for ticket T-4712',
      }),
    ]);
  });

  it('VX-4: the seeds services hand out, of 80, 128 and 160 bits (16, 26 and 32 Base32 characters, unpadded), each give their current code (attack S19-2: 500 below 160 bits)', async () => {
    const subjectId = await createCustomer(kernel, voxtra, { familyName: 'Kortzaad' });
    // A step later, so that the step-up's code is not the one the test before used.
    clock.advance(30_000);
    const step = await call(technician, 'POST', '/api/v1/auth/mfa/step-up', {
      code: await totpCode(kernel, technician.totpSecret ?? '', 30),
    });
    expect(step.statusCode, step.body).toBe(200);
    // RFC 6238's example seed as authenticator apps show it (10 bytes), and longer ones.
    for (const seed of [
      'JBSWY3DPEHPK3PXP',
      'JBSWY3DPEHPK3PXPGEZDGNBVGY',
      'JBSWY3DPEHPK3PXPGEZDGNBVGY3TQOJQ',
    ]) {
      const created = await call(technician, 'POST', `/api/v1/customers/${subjectId}/dossier/credentials`, {
        system: `Firewall ${seed.length}`,
        username: 'admin',
        password: PASSWORD,
        totpSeed: seed,
      });
      expect(created.statusCode, created.body).toBe(201);
      const { credentialId } = created.json<{ credentialId: number }>();
      const shown = await call(technician, 'POST', `/api/v1/dossier/credentials/${credentialId}/totp-code`, {
        reason: 'firewall login for ticket T-4713',
      });
      expect(shown.statusCode, shown.body).toBe(200);
      const epoch = Math.floor(clock.now().getTime() / 1000);
      expect({ seed, code: shown.json<{ code: string }>().code }).toEqual({
        seed,
        code: rfc6238Code(seed, epoch),
      });
    }
  });

  it('VX-4: VoiceKing keeps no technical dossier: its routes answer a clear 403 and store nothing', async () => {
    const vkTechnician = await loginAs(app, kernel, voiceking, 'technician');
    const response = await requestAs(app, vkTechnician)('POST', '/api/v1/customers/1/dossier/assets', {
      kind: 'printer',
    });
    expect(response.statusCode).toBe(403);
    const problem = response.json<{ code: string; detail: string }>();
    expect(problem.code).toBe('purpose_not_allowed');
    expect(problem.detail).toContain('no technical dossier');
    expect(
      await owner('select count(*)::int as n from dossier_assets where tenant_id = $1', [voiceking.tenantId]),
    ).toEqual([{ n: 0 }]);
  });

  it("a technician of another tenant cannot read this tenant's dossier", async () => {
    const { subjectId } = await customerWithDossier('Maes', 'fw-maes');
    const other = await createPolicyTenant(kernel, 'voxtra');
    const foreign = await loginAs(app, kernel, other, 'technician');
    const response = await call(foreign, 'GET', `/api/v1/customers/${subjectId}/dossier`);
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('Brother');
  });
});

describe('erasure on written termination (VX-7)', () => {
  it('VX-7: a written termination over HTTP erases the dossier at once; a dump taken before cannot be decrypted, the invoices stay readable', async () => {
    const { subjectId, credentialId } = await customerWithDossier('Wouters', 'srv-wouters');
    const contractId = await startContract(kernel, voxtra, subjectId, {
      startDate: '2026-10-01',
      lines: [{ productId: subscription }],
    });
    const run = await call(billing, 'POST', '/api/v1/invoice-runs', {
      period: '2026-10',
      callsPurpose: 'call_billing',
    });
    expect(run.statusCode, run.body).toBe(200);
    const invoices = await call(billing, 'GET', '/api/v1/invoices?period=2026-10', undefined, {
      'x-kluis-purpose': 'invoicing',
    });
    const invoice = invoices
      .json<{ items: Array<{ invoiceId: number; subjectId: number }> }>()
      .items.find((item) => item.subjectId === subjectId);
    if (!invoice) throw new Error('no invoice for the customer');

    // The backup, taken before the termination.
    const tables = [
      'tenants',
      'tenant_policies',
      'data_subjects',
      'people',
      'dossier_assets',
      'dossier_credentials',
      'dossier_facts',
    ];
    const backup = await dumpTables(database.ownerUrl, tables);
    expect(backup.get('dossier_credentials')).toContain(String(credentialId));
    const start = await auditHead(voxtra);

    const terminated = await call(sales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
      terminatedOn: '2026-11-30',
      channel: 'written',
      reasonCode: 'moved_abroad',
    });
    expect(terminated.statusCode, terminated.body).toBe(200);

    // At once: rows gone, key destroyed, certificate in the audit log.
    for (const table of ['dossier_assets', 'dossier_credentials', 'dossier_facts'])
      expect(
        await owner(`select count(*)::int as n from ${table} where subject_id = $1`, [subjectId]),
      ).toEqual([{ n: 0 }]);
    const key = await runAsOwner<{ wrapped: Buffer | null; destroyed_at: Date | null }>(
      database.keystoreOwnerUrl,
      "select wrapped, destroyed_at from data_keys where tenant_id = $1 and owner_kind = 'dossier' and owner_ref = $2",
      [voxtra.tenantId, String(subjectId)],
    );
    expect(key.rows.map((row) => [row.wrapped, row.destroyed_at instanceof Date])).toEqual([[null, true]]);
    const entries = (await auditSince(voxtra, start)).filter((entry) =>
      ['key.destroy', 'dossier.erase'].includes(entry.action),
    );
    expect(entries).toEqual([
      expect.objectContaining({ action: 'key.destroy', decision: 'allowed', reason: 'crypto_shredded' }),
      expect.objectContaining({
        action: 'dossier.erase',
        decision: 'allowed',
        reason:
          'certificate: technical dossier erased on written termination; removed 1 assets, 1 credentials, 1 network facts and licences, 0 attachments; dossier key destroyed',
      }),
    ]);
    const gone = await call(technician, 'GET', `/api/v1/customers/${subjectId}/dossier`);
    expect(gone.json()).toMatchObject({ assets: [], credentials: [], facts: [] });

    // The invoice stays readable for accounting: the customer's own key was not touched.
    const kept = await call(billing, 'GET', `/api/v1/invoices/${invoice.invoiceId}/html`);
    expect(kept.statusCode).toBe(200);
    expect(kept.body).toContain('Wouters');

    // The backup restored next to the current key store: the dumped ciphertexts cannot be decrypted.
    const restoredName = `${database.name}_restored`;
    const serverUrl = inject('serverUrl');
    await runAsOwner(serverUrl, `create database ${restoredName} template kluis_template`);
    const { db: restoredDb } = createAppDb({
      connectionString: withDatabase(serverUrl, restoredName),
      assumeAppRole: true,
      logger: testLogger,
    });
    try {
      await restoreTables(withDatabase(serverUrl, restoredName), backup, tables);
      const restored = createKernel({
        db: restoredDb,
        keystore: database.keystore,
        kms: new LocalKeyManagementService(masterKey),
        clock,
      });
      await expect(
        revealSecret(
          restored,
          {
            tenantId: voxtra.tenantId,
            actor: { kind: 'staff', staffId: technician.staffId, role: 'technician' },
            purpose: 'technical_dossier',
            secondFactorAt: clock.now(),
          },
          credentialId,
          { field: 'password', reason: 'restore test after the termination' },
        ),
      ).rejects.toMatchObject({ code: 'subject_erased' });
    } finally {
      await restoredDb.destroy();
      await runAsOwner(serverUrl, `drop database ${restoredName} with (force)`);
    }
  });

  it('VX-7: while another contract still runs, a written termination keeps the dossier (audited deferral); the termination that ends the relation erases it', async () => {
    const { subjectId } = await customerWithDossier('Jacobs', 'ap-jacobs');
    const first = await startContract(kernel, voxtra, subjectId, {
      startDate: '2026-10-01',
      lines: [{ productId: subscription }],
    });
    const second = await startContract(kernel, voxtra, subjectId, {
      startDate: '2026-10-01',
      lines: [{ productId: subscription }],
    });
    const start = await auditHead(voxtra);
    const written = await call(sales, 'POST', `/api/v1/contracts/${first}/terminate`, {
      terminatedOn: '2026-11-30',
      channel: 'written',
      reasonCode: 'fewer_lines',
    });
    expect(written.statusCode, written.body).toBe(200);
    expect(
      await owner('select count(*)::int as n from dossier_credentials where subject_id = $1', [subjectId]),
    ).toEqual([{ n: 1 }]);
    expect((await auditSince(voxtra, start)).map((entry) => entry.action)).toContain(
      'dossier.erase.deferred',
    );

    // The last contract ends by phone: the written notice on record still ends the dossier.
    const last = await call(sales, 'POST', `/api/v1/contracts/${second}/terminate`, {
      terminatedOn: '2026-12-31',
      channel: 'phone',
      reasonCode: 'moved_abroad',
    });
    expect(last.statusCode, last.body).toBe(200);
    expect(
      await owner('select count(*)::int as n from dossier_credentials where subject_id = $1', [subjectId]),
    ).toEqual([{ n: 0 }]);
    expect((await auditSince(voxtra, start)).map((entry) => entry.action)).toContain('dossier.erase');
  });
  it('VX-7: notice by e-mail or through the portal is notice in writing and erases the dossier at once; notice by phone does not (attack S18-16, decision 0874)', async () => {
    for (const [channel, left] of [
      ['email', 0],
      ['portal', 0],
      ['phone', 1],
    ] as const) {
      const { subjectId } = await customerWithDossier(`Notice-${channel}`, `srv-${channel}`);
      const contractId = await startContract(kernel, voxtra, subjectId, {
        startDate: '2026-10-01',
        lines: [{ productId: subscription }],
      });
      const terminated = await call(sales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
        terminatedOn: '2027-03-31',
        channel,
        reasonCode: 'moved_abroad',
      });
      expect(terminated.statusCode, terminated.body).toBe(200);
      expect(
        await owner('select count(*)::int as n from dossier_credentials where subject_id = $1', [subjectId]),
        channel,
      ).toEqual([{ n: left }]);
    }
  });
});

describe('a dossier write after its erasure (VX-7, attack S16-7)', () => {
  it('VX-7: once a written termination erased the dossier, a technician’s new credential, asset or fact is refused 410 subject_erased and nothing is kept', async () => {
    const { subjectId } = await customerWithDossier('Dewulf', 'srv-dewulf');
    const contractId = await startContract(kernel, voxtra, subjectId, {
      startDate: '2026-10-01',
      lines: [{ productId: subscription }],
    });
    const terminated = await call(sales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
      terminatedOn: '2026-12-31',
      channel: 'written',
      reasonCode: 'moving',
    });
    expect(terminated.statusCode, terminated.body).toBe(200);
    for (const [path, body] of [
      ['credentials', { system: 'mail', password: 'New-After-Termination-1' }],
      ['assets', { kind: 'printer', brand: 'Brother', model: 'HL-L2350DW' }],
      ['facts', { kind: 'licence', label: 'Office', seats: 1, expiresOn: '2027-01-31' }],
    ] as const) {
      const answer = await call(technician, 'POST', `/api/v1/customers/${subjectId}/dossier/${path}`, body);
      expect({ path, status: answer.statusCode }).toEqual({ path, status: 410 });
      expect(answer.json()).toMatchObject({ code: 'subject_erased' });
    }
    expect(
      await owner(
        `select (select count(*) from dossier_assets where subject_id = $1)::int
              + (select count(*) from dossier_credentials where subject_id = $1)::int as n`,
        [subjectId],
      ),
    ).toEqual([{ n: 0 }]);
  });
});

describe('two terminations at once (VX-7, attack S16-2)', () => {
  it('VX-7: a customer whose two contracts are terminated in writing at the same moment loses the dossier: the termination that commits second sees the first and erases it', async () => {
    const customers = await Promise.all(
      ['Peeters', 'Claes', 'Goossens', 'Maes'].map(async (name) => {
        const { subjectId } = await customerWithDossier(name, `srv-${name.toLowerCase()}`);
        const contracts = [];
        for (let i = 0; i < 2; i += 1)
          contracts.push(
            await startContract(kernel, voxtra, subjectId, {
              startDate: '2026-10-01',
              lines: [{ productId: subscription }],
            }),
          );
        return { subjectId, contracts };
      }),
    );
    const start = await auditHead(voxtra);
    const answers = await Promise.all(
      customers.flatMap(({ contracts }) =>
        contracts.map((contractId) =>
          call(sales, 'POST', `/api/v1/contracts/${contractId}/terminate`, {
            terminatedOn: '2026-12-01',
            channel: 'written',
            reasonCode: 'moving',
          }),
        ),
      ),
    );
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
    const ids = customers.map(({ subjectId }) => subjectId);
    expect(
      await owner(
        `select (select count(*) from dossier_assets where subject_id = any($1::bigint[]))::int as assets,
                (select count(*) from dossier_credentials where subject_id = any($1::bigint[]))::int as credentials`,
        [ids],
      ),
    ).toEqual([{ assets: 0, credentials: 0 }]);
    const actions = (await auditSince(voxtra, start)).map((entry) => entry.action);
    // One deferral (the first to commit) and one erasure per customer, each delivered once.
    expect(actions.filter((action) => action === 'dossier.erase.deferred')).toHaveLength(customers.length);
    expect(actions.filter((action) => action === 'dossier.erase')).toHaveLength(customers.length);
  });
});

describe('import from other tools (issue 17)', () => {
  it('imports the password exports of ITFlow, Hudu and IT Glue into a customer’s dossier, encrypted; a bad row imports nothing', async () => {
    const subjectId = await createCustomer(kernel, voxtra, { familyName: 'Importeur' });
    const importFile = async (format: string, file: string) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/customers/${subjectId}/dossier/import?format=${format}`,
        headers: {
          cookie: technician.cookie,
          'x-csrf-token': technician.csrfToken,
          'x-kluis-purpose': 'technical_dossier',
          'content-type': 'text/csv',
        },
        payload: await readFile(path.join(ROOT, 'test/fixtures/dossier', file), 'utf8'),
      });
    for (const [format, file, count] of [
      ['itflow', 'itflow-credentials.csv', 2],
      ['hudu', 'hudu-passwords.csv', 1],
      ['itglue', 'itglue-passwords.csv', 2],
    ] as const) {
      const response = await importFile(format, file);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({ imported: count });
    }
    const dossier = await call(technician, 'GET', `/api/v1/customers/${subjectId}/dossier`);
    const credentials = dossier.json<{
      credentials: Array<{
        system: string;
        username: string | null;
        url: string | null;
        password: string | null;
        hasTotp: boolean;
      }>;
    }>().credentials;
    expect(credentials.map((c) => [c.system, c.username, c.password, c.hasTotp])).toEqual([
      ['Microsoft 365 admin', 'admin@bakkerij-example.onmicrosoft.com', '********', true],
      ['Router', 'admin', '********', false],
      ['Synology NAS', 'nasadmin', '********', false],
      ['Wi-Fi gasten', null, '********', false],
      ['Boekhoudpakket', 'boekhouding', '********', true],
    ]);
    const everything = await dumpWholeDatabase(database.ownerUrl);
    for (const secret of ['Itfl0w-Imp0rt!aa', 'Hud0-Imp0rt!cc', 'ItGlu3-B00k!ee', 'Synology'])
      expect(everything).not.toContain(secret);

    // A row without a name: 400 naming the line, and nothing of the file is kept.
    const before = await owner<{ n: number }>(
      'select count(*)::int as n from dossier_credentials where subject_id = $1',
      [subjectId],
    );
    const bad = await app.inject({
      method: 'POST',
      url: `/api/v1/customers/${subjectId}/dossier/import?format=hudu`,
      headers: {
        cookie: technician.cookie,
        'x-csrf-token': technician.csrfToken,
        'x-kluis-purpose': 'technical_dossier',
        'content-type': 'text/csv',
      },
      payload: 'name,username,password\nGood,u,Secret-One!1\n,u,Secret-Two!2\n',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'validation_failed' });
    expect(bad.json<{ detail: string }>().detail).toContain('line 3');
    expect(bad.body).not.toContain('Secret-');
    expect(
      await owner('select count(*)::int as n from dossier_credentials where subject_id = $1', [subjectId]),
    ).toEqual(before);
  });

  it('the asset search across customers holds back an asset whose details do not open and counts it in unreadable; the other customer’s asset is found; that customer’s own dossier still answers 500 field_unreadable (attack S23B-3)', async () => {
    const asset = async (familyName: string) => {
      const subjectId = await createCustomer(kernel, voxtra, { familyName });
      const made = await call(technician, 'POST', `/api/v1/customers/${subjectId}/dossier/assets`, {
        kind: 'switch',
        brand: 'Cisco',
        serial: 'UNREAD-0001',
        hostname: `sw-${familyName.toLowerCase()}`,
      });
      expect(made.statusCode, made.body).toBe(201);
      return made.json<{ assetId: number }>().assetId;
    };
    const readable = await asset('Leesbaar');
    const broken = await asset('Onleesbaar');
    // Another dossier key's ciphertext in the row: what a key store of another lineage looks like.
    await owner(
      'update dossier_assets set details_enc = (select details_enc from dossier_assets where asset_id = $1) where asset_id = $2',
      [readable, broken],
    );
    const found = await call(technician, 'GET', '/api/v1/dossier/assets?serial=unread0001');
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json()).toMatchObject({
      items: [{ assetId: readable, hostname: 'sw-leesbaar' }],
      unreadable: 1,
    });
    expect(found.json<{ items: unknown[] }>().items).toHaveLength(1);
    // The customer's own dossier is one customer's read: it still answers 500 field_unreadable.
    const ownerOf = await owner<{ subject_id: number }>(
      'select subject_id from dossier_assets where asset_id = $1',
      [broken],
    );
    const dossier = await call(technician, 'GET', `/api/v1/customers/${ownerOf[0]?.subject_id}/dossier`);
    expect(dossier.statusCode).toBe(500);
    expect(dossier.json()).toMatchObject({ code: 'field_unreadable' });
  });
});

describe('one-time share links (VX-4)', () => {
  it('VX-4: a technician shares one secret by a one-time link: it opens once, an expired one never, and every step is audited', async () => {
    const { credentialId } = await customerWithDossier('Peeters', 'pbx-peeters');
    clock.advance(2 * 60 * 1000);
    const stepUp = await call(technician, 'POST', '/api/v1/auth/mfa/step-up', {
      code: await totpCode(kernel, technician.totpSecret ?? ''),
    });
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    const start = await auditHead(voxtra);
    const share = (body: Record<string, unknown>, session = technician) =>
      call(session, 'POST', `/api/v1/dossier/credentials/${credentialId}/share`, body);

    expect((await share({ field: 'password', reason: REASON }, sales)).statusCode).toBe(403);
    expect((await share({ field: 'password' })).statusCode).toBe(400);
    const created = await share({ field: 'password', reason: REASON, expiresInHours: 2 });
    expect(created.statusCode, created.body).toBe(201);
    const { url } = created.json<{ url: string }>();
    expect(url).toMatch(
      new RegExp(`^http://localhost:3000/t/${voxtra.slug}/dossier/shares/[A-Za-z0-9_-]{43}$`),
    );
    expect(created.body).not.toContain(PASSWORD);
    const path = url.replace('http://localhost:3000', '');
    // Only a hash of the token is stored.
    const token = path.split('/').at(-1) ?? '';
    expect(await dumpWholeDatabase(database.ownerUrl)).not.toContain(token);

    // Looking at the link (a mail scanner's GET) does not use it up; opening it does, once.
    const beforeLook = await auditHead(voxtra);
    const described = await app.inject({ method: 'GET', url: path });
    expect(described.statusCode).toBe(200);
    expect(described.json()).toMatchObject({ field: 'password' });
    expect(described.body).not.toContain(PASSWORD);
    // Even which secret a link gives is read under the link's authority: a gate decision, audited.
    expect(
      (await auditSince(voxtra, beforeLook)).map((entry) => [entry.actor_kind, entry.action, entry.decision]),
    ).toEqual([['system', 'read', 'allowed']]);
    const opened = await app.inject({ method: 'POST', url: `${path}/open` });
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.headers['cache-control']).toBe('no-store');
    expect(opened.json()).toEqual({ field: 'password', value: PASSWORD });
    const again = await app.inject({ method: 'POST', url: `${path}/open` });
    expect(again.statusCode).toBe(404);
    expect(again.body).not.toContain(PASSWORD);

    // A link not opened in time is refused.
    const late = await share({ field: 'totpSeed', reason: REASON, expiresInHours: 1 });
    expect(late.statusCode, late.body).toBe(201);
    clock.advance(61 * 60 * 1000);
    const latePath = late.json<{ url: string }>().url.replace('http://localhost:3000', '');
    expect((await app.inject({ method: 'POST', url: `${latePath}/open` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: latePath })).statusCode).toBe(404);

    const entries = (await auditSince(voxtra, start)).filter((entry) =>
      entry.action.startsWith('dossier.share'),
    );
    expect(entries.map((entry) => [entry.action, entry.decision, entry.reason])).toEqual([
      ['dossier.share.create', 'denied', 'reason_missing'],
      ['dossier.share.create', 'allowed', `one-time link to the password (2 h): ${REASON}`],
      ['dossier.share.view', 'allowed', 'one-time link opened'],
      ['dossier.share.view', 'denied', 'share_used'],
      ['dossier.share.create', 'allowed', `one-time link to the TOTP seed (1 h): ${REASON}`],
      ['dossier.share.view', 'denied', 'share_expired'],
    ]);
  });

  it('A20: a browser opening a share link gets a page in its language with one button (the GET opens nothing); the button shows the secret once; a used link answers a page saying so', async () => {
    // A fresh session: the test before let an hour pass.
    technician = await loginAs(app, kernel, voxtra, 'technician');
    const { credentialId } = await customerWithDossier('Claes', 'pbx-claes');
    clock.advance(2 * 60 * 1000);
    const stepUp = await call(technician, 'POST', '/api/v1/auth/mfa/step-up', {
      code: await totpCode(kernel, technician.totpSecret ?? ''),
    });
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    const created = await call(technician, 'POST', `/api/v1/dossier/credentials/${credentialId}/share`, {
      field: 'password',
      reason: REASON,
    });
    expect(created.statusCode, created.body).toBe(201);
    const path = created.json<{ url: string }>().url.replace('http://localhost:3000', '');
    const browser = {
      accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      'accept-language': 'fr-BE,fr;q=0.9,en;q=0.5',
    };

    const page = await app.inject({ method: 'GET', url: path, headers: browser });
    expect(page.statusCode, page.body).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('<html lang="fr"');
    expect(page.body).toContain('Partagé par notre technicien');
    expect(page.body).toContain('Mot de passe');
    expect(page.body).not.toContain(PASSWORD);
    const action = /<form method="post" action="([^"]+)"/.exec(page.body)?.[1];
    expect(action).toBe(path);
    const csrf = /<input type="hidden" name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const formCookie = page.cookies.find((cookie) => cookie.name === 'kluis_form')?.value ?? '';
    // Looking again (a scanner, a reload, a HEAD) opens nothing.
    expect((await app.inject({ method: 'HEAD', url: path, headers: browser })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: path, headers: browser })).statusCode).toBe(200);

    const press = (fields: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: path,
        headers: { ...browser, 'content-type': 'application/x-www-form-urlencoded' },
        cookies: { kluis_form: formCookie },
        payload: new URLSearchParams(fields).toString(),
      });
    // Without the page's form token nothing opens.
    const forged = await press({ csrf: 'not-the-token' });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).not.toContain(PASSWORD);
    const shown = await press({ csrf });
    expect(shown.statusCode, shown.body).toBe(200);
    expect(shown.headers['content-type']).toMatch(/^text\/html/);
    expect(shown.headers['cache-control']).toBe('no-store');
    expect(shown.body).toContain(PASSWORD);
    expect(shown.body).toContain('Ce lien est maintenant utilisé');

    // Used: the page says so (404), in the same language; the button's post too.
    const used = await app.inject({ method: 'GET', url: path, headers: browser });
    expect(used.statusCode).toBe(404);
    expect(used.headers['content-type']).toMatch(/^text\/html/);
    expect(used.body).toContain('Ce lien est inconnu, déjà utilisé ou expiré');
    const again = await press({ csrf });
    expect(again.statusCode).toBe(404);
    expect(again.body).not.toContain(PASSWORD);
    // A JSON client still gets JSON.
    const json = await app.inject({ method: 'GET', url: path, headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(404);
    expect(json.json()).toMatchObject({ code: 'not_found' });
  });
});

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) of a Base32 seed, computed here without otplib. */
function rfc6238Code(base32Seed: string, epoch: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = [...base32Seed].map((char) => alphabet.indexOf(char).toString(2).padStart(5, '0')).join('');
  // Whole bytes only: the bits past the last one are dropped, as authenticator apps do.
  const key = Buffer.from(bits.match(/.{8}/g)?.map((byte) => Number.parseInt(byte, 2)) ?? []);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(epoch / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = (mac.at(-1) ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
