import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../../test/cli.js';
import { crashEnv, fulfilErasureInChild, serveUntilExit } from '../../../test/crash.js';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { deliverLetters } from '../../kernel/letters/index.js';
import { systemClock } from '../../platform/clock.js';
import { DATA_MAP } from '../data-map.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { fulfilByStaff, registerStaffRequest, type RequestsDeps } from './index.js';

/*
 * The erasure letter goes through the letter outbox (issue 11, decision 0190): written, sealed,
 * in the erasure's own transaction and sent by the letter-sender job. Children die by SIGKILL at
 * a KLUIS_TEST_HOOK point; a restarted server sends what is left, to a real SMTP server.
 */

const masterKey = randomBytes(32);
const officer = { kind: 'staff', staffId: 1, role: 'privacy_officer' } as const;
let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let smtp: SmtpSink;
let deps: RequestsDeps;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  smtp = await startSmtpSink();
  deps = {
    kernel,
    mailer: smtp.mailer,
    dataMap: DATA_MAP,
    publicUrl: 'http://localhost',
    logger: testLogger,
    // The queue "takes" the letter and never sends it: only a server started below does.
    wakeLetterSender: () => Promise.resolve(),
  };
});
afterAll(async () => {
  await smtp.close();
  await database.close();
});

const childEnv = (extra: Record<string, string> = {}): Record<string, string> =>
  crashEnv(database, masterKey, {
    KLUIS_SMTP_URL: smtp.url,
    KLUIS_SMTP_DELIVERS: 'false',
    KLUIS_PORT: '0',
    KLUIS_DEMO: 'false',
    ...extra,
  });

let serial = 0;
async function customerWithErasureRequest(): Promise<{
  email: string;
  subjectId: number;
  requestId: string;
}> {
  serial += 1;
  const email = `an.peeters${serial}@mail.example`;
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    { subjectType: 'customer', familyName: `Peeters${serial}`, givenName: 'An', email },
  );
  const request = await registerStaffRequest(
    deps,
    { tenantId: tenant.tenantId, actor: officer },
    { kind: 'erasure', channel: 'phone', subjectId: person.subjectId, verificationMethod: 'id_card_seen' },
  );
  return { email, subjectId: person.subjectId, requestId: request.requestId };
}

async function letters(): Promise<
  Array<{ kind: string; state: string; sealed: boolean; keyDestroyed: boolean }>
> {
  const rows = await runAsOwner<{ letter_id: string; kind: string; state: string; sealed: boolean }>(
    database.ownerUrl,
    `select letter_id, kind, state, sealed is not null as sealed from sealed_letters
      where tenant_id = $1 and kind = 'request.fulfilled' order by created_at`,
    [tenant.tenantId],
  );
  const keys = await runAsOwner<{ owner_ref: string; live: boolean }>(
    database.keystoreOwnerUrl,
    `select owner_ref, wrapped is not null as live from data_keys where tenant_id = $1 and owner_kind = 'letter'`,
    [tenant.tenantId],
  );
  const live = new Map(keys.rows.map((row) => [row.owner_ref, row.live]));
  return rows.rows.map((row) => ({
    kind: row.kind,
    state: row.state,
    sealed: row.sealed,
    keyDestroyed: live.get(row.letter_id) === false,
  }));
}

async function requestState(requestId: string): Promise<string | undefined> {
  const result = await runAsOwner<{ state: string }>(
    database.ownerUrl,
    'select state from rights_requests where tenant_id = $1 and request_id = $2',
    [tenant.tenantId, requestId],
  );
  return result.rows[0]?.state;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('the erasure letter survives a crash (issue 11)', () => {
  it('VK-23: an erasure killed (SIGKILL) after its commit and before its letter was sent: the restarted server sends the letter exactly once, the request is fulfilled', async () => {
    const { email, requestId } = await customerWithErasureRequest();
    expect(
      await fulfilErasureInChild(
        tenant.tenantId,
        requestId,
        childEnv({ KLUIS_TEST_HOOK: 'erasure.committed:kill' }),
      ),
    ).toBe('SIGKILL');
    // Erased, fulfilled and the letter written, all in one transaction; nothing was mailed.
    expect(await requestState(requestId)).toBe('fulfilled');
    expect(await letters()).toEqual([
      { kind: 'request.fulfilled', state: 'pending', sealed: true, keyDestroyed: false },
    ]);
    expect(smtp.to(email)).toHaveLength(0);
    // What the outbox row holds in the database is sealed: the address is not readable in it.
    const raw = await runAsOwner<{ row: string }>(
      database.ownerUrl,
      'select sealed_letters::text as row from sealed_letters where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(raw.rows.map((row) => row.row).join('\n')).not.toContain('peeters');

    const server = await startServer(childEnv());
    try {
      const mail = await smtp.waitFor(email);
      expect(mail.subject).toMatch(/wissing|erasure|effacement/i);
      await until(async () => (await letters())[0]?.keyDestroyed === true, "the letter's key destroyed");
      // Another full run of the sender finds nothing to send.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    expect(smtp.to(email)).toHaveLength(1);
    expect(await requestState(requestId)).toBe('fulfilled');
    // Sent: the sealed body nulled and its key destroyed, so no backup copy of the row can be read.
    expect(await letters()).toEqual([
      { kind: 'request.fulfilled', state: 'sent', sealed: false, keyDestroyed: true },
    ]);
  }, 180_000);

  it('a sender killed after SMTP accepted the letter and before marking it sends it again, once, with the same Message-ID (at least once)', async () => {
    const { email, requestId } = await customerWithErasureRequest();
    await fulfilByStaff(deps, { tenantId: tenant.tenantId, actor: officer }, requestId, {});
    expect((await letters()).at(-1)).toMatchObject({ state: 'pending' });

    const killed = await serveUntilExit(childEnv({ KLUIS_TEST_HOOK: 'letters.smtp-accepted:kill' }));
    expect(killed.signal).toBe('SIGKILL');
    expect(smtp.to(email)).toHaveLength(1);
    expect((await letters()).at(-1)).toMatchObject({ state: 'pending', sealed: true });

    // The next run of the sender (here in this process: the killed server's job run stays
    // 'active' in pg-boss until it expires) sends it again.
    expect(await deliverLetters(kernel, smtp.mailer, [tenant.tenantId])).toMatchObject({ sent: 1 });
    expect(await deliverLetters(kernel, smtp.mailer, [tenant.tenantId])).toMatchObject({ sent: 0 });
    const mails = smtp.to(email);
    expect(mails).toHaveLength(2);
    expect(mails[0]?.messageId).toMatch(/^<letter\.[0-9a-f-]{36}@localhost>$/);
    expect(mails[1]?.messageId).toBe(mails[0]?.messageId);
    expect((await letters()).at(-1)).toEqual({
      kind: 'request.fulfilled',
      state: 'sent',
      sealed: false,
      keyDestroyed: true,
    });
  }, 180_000);
});
