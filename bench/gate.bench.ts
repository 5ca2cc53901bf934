import { readFile } from 'node:fs/promises';
import { createTenant } from '../src/modules/tenants/index.js';
import { createPerson, getPerson, type UseCaseContext } from '../src/modules/parties/index.js';
import { readPersonBare } from './bare-read.js';
import { sampleWaits } from './waits.js';
import { pairedMs, type BenchDatabase, type Figure } from './harness.js';

const READS = 200;
const CLIENTS = 8;
const REPEATS = 5;

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
  for (let i = 0; i < 64; i += 1) {
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
  const bareRead = async (subjectId: number): Promise<void> => {
    await readPersonBare(bench.db, kernel, tenant.tenantId, { subjectId });
  };
  const gatedRead = async (subjectId: number): Promise<void> => {
    await getPerson(kernel, context, subjectId);
  };
  const sequential = await pairedMs(
    REPEATS,
    async () => {
      for (let i = 0; i < READS; i += 1) await gatedRead(pick(i));
    },
    async () => {
      for (let i = 0; i < READS; i += 1) await bareRead(pick(i));
    },
  );
  // CLIENTS at once, each reading its own people: no per-tenant serialisation may show.
  const concurrently = (read: (subjectId: number) => Promise<void>) => async (): Promise<void> => {
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let i = 0; i < READS / CLIENTS; i += 1) await read(pick(client + i * CLIENTS));
      }),
    );
  };
  const parallel = await pairedMs(REPEATS, concurrently(gatedRead), concurrently(bareRead));
  // `--waits`: what the database backends were doing during one more concurrent gated pass.
  let waits = '';
  if (process.argv.includes('--waits')) {
    const sampled = await sampleWaits(bench.ownerUrl, concurrently(gatedRead));
    waits = `; backends during one concurrent gated pass (${sampled.samples} samples): ${Object.entries(
      sampled.waits,
    )
      .sort((a, b) => b[1] - a[1])
      .map(([what, n]) => `${what} ${n}`)
      .join(', ')}`;
  }
  return [
    {
      scenario: 'gate',
      metric: `${READS} reads of one person through gate + audit`,
      value: (READS / sequential.ours.median) * 1000,
      unit: 'reads/s',
      baseline: {
        what: 'the same statement and decryption in a tenant transaction, no gate, no audit',
        value: (READS / sequential.baseline.median) * 1000,
        unit: 'reads/s',
      },
      ratio: sequential.ratio.median,
      ratioRange: [sequential.ratio.min, sequential.ratio.max],
      goal: 0.8,
      note: 'ratio = our rate / baseline rate (median of paired repeats)',
    },
    {
      scenario: 'gate',
      metric: `${READS} reads by ${CLIENTS} concurrent clients (different people, one tenant) through gate + audit`,
      value: (READS / parallel.ours.median) * 1000,
      unit: 'reads/s',
      baseline: {
        what: `the same reads by ${CLIENTS} concurrent clients, no gate, no audit`,
        value: (READS / parallel.baseline.median) * 1000,
        unit: 'reads/s',
      },
      ratio: parallel.ratio.median,
      ratioRange: [parallel.ratio.min, parallel.ratio.max],
      goal: 0.8,
      note: `ratio = our rate / baseline rate (median of paired repeats)${waits}`,
    },
  ];
}
