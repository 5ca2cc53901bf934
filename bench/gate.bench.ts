import { readFile } from 'node:fs/promises';
import { withTenant } from '../src/platform/db.js';
import { keyringOf } from '../src/kernel/kernel.js';
import { createTenant } from '../src/modules/tenants/index.js';
import { createPerson, getPerson, type UseCaseContext } from '../src/modules/parties/index.js';
import { medianMs, type BenchDatabase, type Figure } from './harness.js';

const READS = 200;

/**
 * What the privacy core costs on a typical read: one person by id through the gate (policy and
 * subject-state check, audit entry, decryption) against the same row read and decrypted in a
 * tenant transaction without gate and audit.
 */
export async function benchGate(bench: BenchDatabase): Promise<Figure[]> {
  const { kernel } = bench;
  const tenant = await createTenant(bench.db, { slug: 'bench-gate', name: 'Gate bench' });
  await kernel.policies.install(
    tenant.tenantId,
    await readFile('policies/voiceking.yaml', 'utf8'),
    'policies/voiceking.yaml',
  );
  const context: UseCaseContext = {
    tenantId: tenant.tenantId,
    actor: { kind: 'staff', staffId: 1, role: 'billing' },
    purpose: 'order_processing',
  };
  const ids: number[] = [];
  for (let i = 0; i < 50; i += 1) {
    const person = await createPerson(
      kernel,
      { ...context, actor: { kind: 'staff', staffId: 1, role: 'sales' } },
      {
        subjectType: 'customer',
        familyName: `Bench${i}`,
        givenName: 'Reader',
        email: `reader${i}@bench.example`,
        phone: `+3247000${String(i).padStart(4, '0')}`,
      },
    );
    ids.push(person.subjectId);
  }
  const pick = (i: number): number => ids[i % ids.length] ?? 0;
  const bare = await medianMs(5, async () => {
    for (let i = 0; i < READS; i += 1) {
      const subjectId = pick(i);
      await withTenant(bench.db, tenant.tenantId, async (tx) => {
        const row = await tx
          .selectFrom('people')
          .select(['family_name', 'given_name', 'email_enc', 'phone_enc'])
          .where('subject_id', '=', subjectId)
          .executeTakeFirstOrThrow();
        if (row.email_enc)
          await keyringOf(kernel).decrypt(
            tenant.tenantId,
            subjectId,
            { table: 'people', column: 'email_enc', rowId: String(subjectId) },
            row.email_enc,
          );
        if (row.phone_enc)
          await keyringOf(kernel).decrypt(
            tenant.tenantId,
            subjectId,
            { table: 'people', column: 'phone_enc', rowId: String(subjectId) },
            row.phone_enc,
          );
      });
    }
  });
  const gated = await medianMs(5, async () => {
    for (let i = 0; i < READS; i += 1) await getPerson(kernel, context, pick(i));
  });
  return [
    {
      scenario: 'gate',
      metric: `${READS} reads of one person through gate + audit`,
      value: (READS / gated) * 1000,
      unit: 'reads/s',
      baseline: {
        what: 'same reads and decryption in a tenant transaction, no gate, no audit',
        value: (READS / bare) * 1000,
        unit: 'reads/s',
      },
      ratio: bare / gated,
      note: 'ratio = our rate / baseline rate',
    },
  ];
}
