import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createAppDb, withTenant } from '../../platform/db.js';
import type { Tenant } from '../tenants/index.js';
import { createApiToken, createStaffUser, revokeApiToken } from './index.js';
import { sha256 } from './auth.service.js';
import { authenticateApiToken } from './token.service.js';
import {
  keepToken,
  reusedToken,
  tokenGeneration,
  tokenKey,
  TOKEN_REUSE_MS,
  forgetFoundTokens,
} from './token-cache.js';

// Decision 0370, step 3: an API token is resolved in one statement, without a transaction of
// its own, by a database function that scopes itself to the token's tenant.

let database: TestDatabase;
let kernel: Kernel;
let voiceking: Tenant;
// A second tenant with the same policy (Voxtra's needs a second factor for every token maker).
let other: Tenant;
const sent: string[] = [];
let closeRecording: () => Promise<void>;
const clock = fixedClock(new Date('2026-11-29T10:00:00Z'));

beforeAll(async () => {
  database = await createTestDatabase();
  const recording = createAppDb({
    connectionString: database.ownerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 4,
  });
  recording.pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    // Wraps node-postgres's overloaded query(): records each statement text.
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const text =
        typeof args[0] === 'string' ? args[0] : (args[0] as { sentText?: string } | undefined)?.sentText;
      if (text !== undefined) sent.push(text.replace(/\s+/g, ' ').trim());
      return query(...args);
    };
  });
  closeRecording = () => recording.db.destroy();
  kernel = createTestKernel({ ...database, db: recording.db }, clock);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  other = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await closeRecording();
  await database.close();
});

async function tokenOf(tenant: Tenant, role = 'billing'): Promise<{ token: string; tokenId: number }> {
  const maker = await createStaffUser(
    kernel,
    tenant.tenantId,
    { kind: 'system', job: 'test' },
    {
      email: `${role}-${Math.random().toString(36).slice(2)}@example.be`,
      displayName: 'Maker',
      role,
    },
  );
  const { token, view } = await createApiToken(
    kernel,
    tenant.tenantId,
    { kind: 'staff', staffId: maker.staffId, role },
    { label: 'sync', role },
  );
  return { token, tokenId: view.tokenId };
}

async function lastUsedAt(tokenId: number): Promise<Date | null> {
  const rows = await runAsOwner<{ last_used_at: Date | null }>(
    database.ownerUrl,
    'select last_used_at from staff_api_tokens where token_id = $1',
    [tokenId],
  );
  return rows.rows[0]?.last_used_at ?? null;
}

describe('API token look-up', () => {
  it('resolves a token in one statement: no begin, no commit', async () => {
    const { token } = await tokenOf(voiceking);
    sent.length = 0;
    const principal = await authenticateApiToken(kernel, token);
    expect(principal).toMatchObject({ tenantId: voiceking.tenantId, role: 'billing', via: 'token' });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(
      /^select token_id, role, created_by, creator_role, slug from kluis_find_api_token\(/,
    );
  });

  it('records the last use at most once a minute, as before', async () => {
    const { token, tokenId } = await tokenOf(voiceking);
    expect(await lastUsedAt(tokenId)).toBeNull();
    await authenticateApiToken(kernel, token);
    const first = await lastUsedAt(tokenId);
    expect(first?.toISOString()).toBe(clock.now().toISOString());
    clock.advance(30_000);
    await authenticateApiToken(kernel, token);
    expect((await lastUsedAt(tokenId))?.toISOString()).toBe(first?.toISOString());
    clock.advance(31_000);
    await authenticateApiToken(kernel, token);
    expect((await lastUsedAt(tokenId))?.toISOString()).toBe(clock.now().toISOString());
  });

  it("another tenant's id in front of a genuine secret finds nothing", async () => {
    const { token } = await tokenOf(voiceking);
    const secret = token.split('_').slice(2).join('_');
    await expect(authenticateApiToken(kernel, `kluis_${other.tenantId}_${secret}`)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });

  it("called inside another tenant's transaction, the function leaves that transaction's tenant as it was", async () => {
    const { token } = await tokenOf(other);
    const secret = token.split('_').slice(2).join('_');
    const seen = await withTenant(database.db, voiceking.tenantId, async (tx) => {
      const found = await sql<{ slug: string }>`select slug from kluis_find_api_token(
          ${other.tenantId}, ${sha256(secret)}, now(), now())`.execute(tx);
      const tenant = await sql<{ tenant: string }>`select current_setting('app.tenant') as tenant`.execute(
        tx,
      );
      const staff = await tx.selectFrom('staff_users').select('tenant_id').execute();
      return { found: found.rows, tenant: tenant.rows[0]?.tenant, staff };
    });
    expect(seen.found).toEqual([{ slug: other.slug }]);
    expect(seen.tenant).toBe(String(voiceking.tenantId));
    expect(new Set(seen.staff.map((row) => row.tenant_id))).toEqual(new Set([voiceking.tenantId]));
    // Outside any transaction the setting does not outlive the statement.
    const after = await sql<{
      tenant: string | null;
    }>`select current_setting('app.tenant', true) as tenant`.execute(database.db);
    expect(after.rows[0]?.tenant ?? '').toBe('');
  });
});

// Decision 0730: a token found is reused for a second by the kernel that found it.
describe('API token reuse', () => {
  const lookups = (): number => sent.filter((text) => text.includes('kluis_find_api_token')).length;

  it('a token found is reused for a second: one look-up for many requests, then the database again', async () => {
    const { token } = await tokenOf(voiceking);
    sent.length = 0;
    for (let i = 0; i < 5; i += 1) await authenticateApiToken(kernel, token);
    expect(lookups()).toBe(1);
    clock.advance(TOKEN_REUSE_MS);
    await authenticateApiToken(kernel, token);
    expect(lookups()).toBe(2);
  });

  it('a revoked token is refused at the next request, also right after it was found', async () => {
    const { token, tokenId } = await tokenOf(voiceking, 'support');
    const principal = await authenticateApiToken(kernel, token);
    await revokeApiToken(kernel, voiceking.tenantId, { kind: 'system', job: 'test' }, tokenId);
    await expect(authenticateApiToken(kernel, token)).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(principal.tokenId).toBe(tokenId);
  });

  it('an unknown token is never kept: every request with it asks the database', async () => {
    sent.length = 0;
    const unknown = `kluis_${voiceking.tenantId}_${'A'.repeat(43)}`;
    for (let i = 0; i < 3; i += 1)
      await expect(authenticateApiToken(kernel, unknown)).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(lookups()).toBe(3);
  });

  it('a look-up that was under way when the tokens were forgotten is not kept', () => {
    const key = tokenKey(voiceking.tenantId, sha256('under-way'));
    const found = { token_id: 1, role: 'billing', created_by: 1, creator_role: 'billing', slug: 'x' };
    const generation = tokenGeneration(kernel);
    forgetFoundTokens(kernel);
    keepToken(kernel, key, found, generation);
    expect(reusedToken(kernel, key)).toBeUndefined();
    keepToken(kernel, key, found, tokenGeneration(kernel));
    expect(reusedToken(kernel, key)).toEqual(found);
  });
});
