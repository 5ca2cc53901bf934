import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { createCustomer } from '../../modules/billing/billing.test-helpers.js';
import type { Tenant } from '../../modules/tenants/index.js';
import { keyringOf, type Kernel } from '../kernel.js';
import { encodeCheckpoint } from './audit.canonical.js';
import { chainForgedWithWaitingNonce, holdChainHead, runAsAppRole, tamper } from './audit.test-helpers.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;
let officer: StaffSession;
let sales: StaffSession;
let admin: StaffSession;
let customer: number;

const as = (session: StaffSession, purpose?: string) => ({
  cookie: session.cookie,
  'x-csrf-token': session.csrfToken,
  ...(purpose ? { 'x-kluis-purpose': purpose } : {}),
});

interface TrailEntry {
  seq: number;
  actor: { kind: string; id: string };
  role: string | null;
  purpose: string | null;
  action: string;
  categories: string[];
  decision: string;
}

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  officer = await loginAs(app, kernel, voiceking, 'privacy_officer');
  sales = await loginAs(app, kernel, voiceking, 'sales');
  admin = await loginAs(app, kernel, voiceking, 'admin');
  customer = await createCustomer(kernel, voiceking, { familyName: 'Gekeken' });
}, 60_000);

afterAll(async () => {
  await app.close();
  await database.close();
});

describe('GET /api/v1/people/:id/audit — who looked at a person and why (issue 20)', () => {
  it('VK-7: the privacy officer sees who read the person, in which role, under which purpose, and that read is audited too', async () => {
    const read = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${customer}`,
      headers: as(sales, 'order_processing'),
    });
    expect(read.statusCode).toBe(200);

    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${customer}/audit`,
      headers: as(officer),
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{
      items: TrailEntry[];
      labels: { purposes: Record<string, { en: string }> };
    }>();
    const items = body.items;
    expect(body.labels.purposes.order_processing?.en).toMatch(/\w/);
    const seqs = items.map((item) => item.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(items).toContainEqual(
      expect.objectContaining({
        actor: { kind: 'staff', id: String(sales.staffId) },
        role: 'sales',
        purpose: 'order_processing',
        action: 'read',
        decision: 'allowed',
        categories: expect.arrayContaining(['user.name']) as unknown as string[],
      }),
    );

    // The read of the trail is on record, by the privacy officer, under the rights purpose,
    // naming the person by pseudonym (DESIGN.md point 5).
    const pseudonym = await keyringOf(kernel).pseudonym(voiceking.tenantId, customer);
    const recorded = await runAsOwner<{ actor_id: string; role: string; purpose: string }>(
      database.ownerUrl,
      `select actor_id, role, purpose from audit_log
        where tenant_id = $1 and action = 'audit.read' and subject_pseudonyms @> array[$2]::text[]`,
      [voiceking.tenantId, pseudonym],
    );
    expect(recorded.rows).toEqual([
      { actor_id: String(officer.staffId), role: 'privacy_officer', purpose: 'rights_requests' },
    ]);

    // …so the next read of the trail shows the first one.
    const again = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${customer}/audit`,
      headers: as(officer, 'rights_requests'),
    });
    expect(again.json<{ items: TrailEntry[] }>().items[0]).toMatchObject({
      actor: { kind: 'staff', id: String(officer.staffId) },
      action: 'audit.read',
      purpose: 'rights_requests',
    });
  });

  it('S8-4: an entry of a list read shows in each listed person’s trail as a batch (batchSize, records null), never as that many records of theirs; a read of the person alone shows records 1', async () => {
    const listed: number[] = [];
    for (const name of ['Lijstaert', 'Lijstmans', 'Lijstens', 'Lijstbroeck'])
      listed.push(await createCustomer(kernel, voiceking, { familyName: name }));
    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/people?name=Lijst&limit=10',
      headers: as(sales, 'order_processing'),
    });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json<{ items: unknown[] }>().items).toHaveLength(4);
    const [first] = listed;
    const alone = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${first}`,
      headers: as(sales, 'order_processing'),
    });
    expect(alone.statusCode).toBe(200);

    const trail = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${first}/audit`,
      headers: as(officer),
    });
    expect(trail.statusCode).toBe(200);
    const reads = trail
      .json<{ items: Array<TrailEntry & { records: number | null; batchSize: number }> }>()
      .items.filter((entry) => entry.action === 'read' && entry.role === 'sales');
    // Newest first: the read of the person alone, then the list read.
    expect(reads.map(({ records, batchSize }) => ({ records, batchSize }))).toEqual([
      { records: 1, batchSize: 1 },
      { records: null, batchSize: 4 },
    ]);
    // The signed entry itself is unchanged: it still counts the batch (decision 0581).
    const stored = await runAsOwner<{ records: number }>(
      database.ownerUrl,
      `select records from audit_log
        where tenant_id = $1 and action = 'read' and role = 'sales' and cardinality(subject_pseudonyms) = 4`,
      [voiceking.tenantId],
    );
    expect(stored.rows).toEqual([{ records: 4 }]);
  });

  it('pages newest first with a cursor and Link rel="next"', async () => {
    const first = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${customer}/audit?limit=1`,
      headers: as(officer),
    });
    expect(first.statusCode).toBe(200);
    const page = first.json<{ items: TrailEntry[]; nextCursor: string | null }>();
    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).not.toBeNull();
    expect(first.headers.link).toContain('rel="next"');
    const second = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${customer}/audit?limit=1&cursor=${page.nextCursor ?? ''}`,
      headers: as(officer),
    });
    const next = second.json<{ items: TrailEntry[] }>().items[0];
    expect(next?.seq).toBeLessThan(page.items[0]?.seq ?? 0);
    const bad = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${customer}/audit?cursor=abc`,
      headers: as(officer),
    });
    expect(bad.statusCode).toBe(400);
  });

  it('is refused to other roles, under another purpose, and for another tenant’s person (404), and the refusal is audited', async () => {
    for (const [session, purpose] of [
      [sales, 'order_processing'],
      [admin, undefined],
    ] as const) {
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/people/${customer}/audit`,
        headers: as(session, purpose),
      });
      expect(response.statusCode).toBe(403);
    }
    const otherPurpose = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${customer}/audit`,
      headers: as(officer, 'legal_disclosure'),
    });
    expect(otherPurpose.statusCode).toBe(403);
    expect(otherPurpose.json<{ code: string }>().code).toBe('purpose_not_allowed');

    const stranger = await createCustomer(kernel, voxtra, { familyName: 'Vreemd' });
    const crossed = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${stranger}/audit`,
      headers: as(officer),
    });
    expect(crossed.statusCode).toBe(404);
    const refusedRole = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log
        where tenant_id = $1 and actor_id = $2 and decision = 'denied' and purpose = 'rights_requests'`,
      [voiceking.tenantId, String(admin.staffId)],
    );
    expect(refusedRole.rows[0]?.n).toBe(1);
  });
});

describe('GET /api/v1/audit/verify — the chain, proved over HTTP (issue 20)', () => {
  it('says the chain is intact up to its last entry, for the admin and the privacy officer; refuses sales', async () => {
    for (const session of [admin, officer]) {
      const response = await app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: as(session) });
      expect(response.statusCode).toBe(200);
      const body = response.json<{ ok: boolean; entries: number; firstBadSeq: number | null }>();
      const head = await runAsOwner<{ seq: number }>(
        database.ownerUrl,
        'select seq::int as seq from audit_heads where tenant_id = $1',
        [voiceking.tenantId],
      );
      expect(body).toMatchObject({ ok: true, firstBadSeq: null });
      expect(body.entries).toBe(head.rows[0]?.seq);
    }
    const refused = await app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: as(sales) });
    expect(refused.statusCode).toBe(403);
  });

  it('names the first broken entry of a tampered chain (its own tenant’s only)', async () => {
    const tampered = await createPolicyTenant(kernel, 'voxtra');
    const tamperedAdmin = await loginAs(app, kernel, tampered, 'admin');
    await createCustomer(kernel, tampered, { familyName: 'Vervalst' });
    await tamper(database.ownerUrl, (client) =>
      client.query('update audit_log set records = records + 1 where tenant_id = $1 and seq = 2', [
        tampered.tenantId,
      ]),
    );
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/verify',
      headers: as(tamperedAdmin),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      ok: false,
      entries: 1,
      firstBadSeq: 2,
      problem: 'hash_mismatch',
      pendingCopies: null,
      displacedPending: [],
    });
    // Another tenant's chain is untouched and says so.
    const own = await app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: as(admin) });
    expect(own.json<{ ok: boolean }>().ok).toBe(true);
  });

  it('S25-11: a signed checkpoint that disagrees counts as intact only the entries before the first one it names, as the field says', async () => {
    const rewritten = await createPolicyTenant(kernel, 'voxtra');
    const rewrittenAdmin = await loginAs(app, kernel, rewritten, 'admin');
    await createCustomer(kernel, rewritten, { familyName: 'Herschreven' });
    // A checkpoint signed with the tenant's key over another head than the chain's last entry:
    // the whole chain since the (absent) earlier checkpoint may have been rewritten.
    const head = await runAsOwner<{ seq: number }>(
      database.ownerUrl,
      'select seq::int as seq from audit_heads where tenant_id = $1',
      [rewritten.tenantId],
    );
    const seq = head.rows[0]?.seq ?? 0;
    expect(seq).toBeGreaterThan(2);
    const headHash = Buffer.alloc(32, 7);
    const signedAt = new Date();
    const mac = await keyringOf(kernel).checkpointMac(
      rewritten.tenantId,
      encodeCheckpoint({ tenantId: rewritten.tenantId, seq, headHash, signedAt }),
    );
    await tamper(database.ownerUrl, (client) =>
      client.query(
        'insert into audit_checkpoints (tenant_id, seq, head_hash, signed_at, mac) values ($1, $2, $3, $4, $5)',
        [rewritten.tenantId, seq, headHash, signedAt, mac],
      ),
    );
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/verify',
      headers: as(rewrittenAdmin),
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ entries: number; firstBadSeq: number; message: string }>();
    expect(body).toMatchObject({ ok: false, problem: 'checkpoint_mismatch', firstBadSeq: 1, setBacks: [] });
    expect(body.message).toContain(`entries 1-${seq} were rewritten`);
    // Before: entries ${seq - 1}, firstBadSeq 1 ("the first N hold. Entry 1 does not").
    expect(body.entries).toBe(body.firstBadSeq - 1);
  });

  it('lists the pending copies as `kluis audit verify` does (decision 0686): a copy of a waiting entry, inserted as the app role, is named by its pending number while the chain says intact', async () => {
    const copied = await createPolicyTenant(kernel, 'voiceking');
    const copiedAdmin = await loginAs(app, kernel, copied, 'admin');
    const copiedSales = await loginAs(app, kernel, copied, 'sales');
    const person = await createCustomer(kernel, copied, { familyName: 'Gekopieerd' });
    const verify = async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/audit/verify',
        headers: as(copiedAdmin),
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json<{ ok: boolean; pendingCopies: number[] | null }>();
    };
    expect(await verify()).toMatchObject({ ok: true, pendingCopies: [] });

    // A read whose entry waits in audit_pending behind a held head; the app role copies it there.
    const release = await holdChainHead(database.ownerUrl, copied.tenantId);
    let copyId: number;
    try {
      const read = await app.inject({
        method: 'GET',
        url: `/api/v1/people/${person}`,
        headers: as(copiedSales, 'order_processing'),
      });
      expect(read.statusCode, read.body).toBe(200);
      const columns = `tenant_id, at, actor_kind, actor_id, role, purpose, action, subject_pseudonyms,
        categories, records, decision, reason, request_id, mac, nonce`;
      const copy = await runAsAppRole(database.ownerUrl, copied.tenantId, [
        `insert into audit_pending (${columns})
         select ${columns} from audit_pending where tenant_id = $1 and request_id = $2 returning pending_id`,
        [copied.tenantId, String(read.headers['x-request-id'])],
      ]);
      expect(copy.rowCount).toBe(1);
      copyId = Number((copy.rows[0] as { pending_id: string }).pending_id);
    } finally {
      await release();
    }
    expect(await verify()).toMatchObject({
      ok: true,
      firstBadSeq: null,
      pendingCopies: [copyId],
      pendingCopyCount: 1,
    });
    const left = await runAsOwner<{ id: string }>(
      database.ownerUrl,
      'select pending_id as id from audit_pending where tenant_id = $1',
      [copied.tenantId],
    );
    expect(left.rows.map((row) => Number(row.id))).toEqual([copyId]);
  });

  it("S13-4 (decision 0760): a read's entry whose nonce the app role gave a forged chained row is named the genuine record, in the words of kluis audit verify and the log", async () => {
    const squattedTenant = await createPolicyTenant(kernel, 'voiceking');
    const squattedAdmin = await loginAs(app, kernel, squattedTenant, 'admin');
    const squattedSales = await loginAs(app, kernel, squattedTenant, 'sales');
    const person = await createCustomer(kernel, squattedTenant, { familyName: 'Verdrongen' });
    const squatted = await chainForgedWithWaitingNonce(
      database.ownerUrl,
      squattedTenant.tenantId,
      async () => {
        const read = await app.inject({
          method: 'GET',
          url: `/api/v1/people/${person}`,
          headers: as(squattedSales, 'order_processing'),
        });
        expect(read.statusCode, read.body).toBe(200);
      },
    );
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/audit/verify',
      headers: as(squattedAdmin),
    });
    expect(response.statusCode, response.body).toBe(200);
    const tenant = String(squattedTenant.tenantId);
    const pending = String(squatted.pendingId);
    const seq = String(squatted.seq);
    expect(response.json()).toMatchObject({
      ok: false,
      firstBadSeq: squatted.seq,
      problem: 'entry_mac_invalid',
      pendingCopies: null,
      displacedPending: [
        {
          pendingId: squatted.pendingId,
          seq: squatted.seq,
          rows: 1,
          message: `chained entry ${seq} of tenant ${tenant} carries the nonce of pending entry ${pending} but was not written by Kluis (its signature does not match): pending entry ${pending} is the genuine record and entry ${seq} the forgery; it is not a copy, is never chained and stays in audit_pending: keep it`,
        },
      ],
    });
    const left = await runAsOwner<{ id: string }>(
      database.ownerUrl,
      'select pending_id as id from audit_pending where tenant_id = $1',
      [squattedTenant.tenantId],
    );
    expect(left.rows.map((row) => Number(row.id))).toEqual([squatted.pendingId]);
  });
});
