import { readFile } from 'node:fs/promises';
import { createTenant } from '../src/modules/tenants/index.js';
import { createPerson, getPerson, type UseCaseContext } from '../src/modules/parties/index.js';
import { durableRecord, readPersonBare } from './bare-read.js';
import { nodeCpuPerOperation, sampleWaits, timeStatements, walCounters, walDelta } from './waits.js';
import { ownerQuery, pairedMs, type BenchDatabase, type Figure } from './harness.js';

const READS = 200;
const CLIENTS = 8;
const REPEATS = 5;

/**
 * What the privacy core costs on a typical read: one person by id through the gate (policy and
 * subject-state check, audit entry, decryption) against the same row read and decrypted in a
 * tenant transaction without gate and audit; and against a second baseline that is the physical
 * limit of a read that must durably record itself (decision 0450): the same read whose statement
 * also inserts one row of the audit entry's shape into a table with audit_log's columns and
 * indexes (no chain, no head, no MAC computed), so that its commit waits for the WAL flush.
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
  const record = await durableRecord(bench.ownerUrl, tenant.tenantId, 'bench_read_record');
  const recordedRead = async (subjectId: number): Promise<void> => {
    await readPersonBare(bench.db, kernel, tenant.tenantId, { subjectId }, { record });
  };
  const gatedRead = async (subjectId: number): Promise<void> => {
    await getPerson(kernel, context, subjectId);
  };
  // `--commit-delay=µs`: group commit on the bench's own server (commit_delay, commit_siblings 2),
  // to measure whether concurrent audited commits share more WAL flushes with it (decision 0450).
  const commitDelay = process.argv.find((arg) => arg.startsWith('--commit-delay='))?.split('=')[1];
  if (commitDelay !== undefined && !process.env.KLUIS_BENCH_DATABASE_URL) {
    await ownerQuery(bench.ownerUrl, `alter system set commit_delay = ${Number.parseInt(commitDelay, 10)}`);
    await ownerQuery(bench.ownerUrl, 'alter system set commit_siblings = 2');
    await ownerQuery(bench.ownerUrl, 'select pg_reload_conf()');
  }
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
  const sequentialDurable = await pairedMs(
    REPEATS,
    async () => {
      for (let i = 0; i < READS; i += 1) await gatedRead(pick(i));
    },
    async () => {
      for (let i = 0; i < READS; i += 1) await recordedRead(pick(i));
    },
  );
  const parallelDurable = await pairedMs(REPEATS, concurrently(gatedRead), concurrently(recordedRead));
  // `--waits`: what the database backends were doing during one more concurrent gated pass, the
  // time of each kind of statement and the WAL each kind of read writes.
  let waits = '';
  let profile = '';
  if (process.argv.includes('--waits')) {
    const kindOf = (text: string): string =>
      text.startsWith('begin') || text.startsWith('start transaction')
        ? 'begin+tenant'
        : text.startsWith('with g as materialized')
          ? 'gated statement'
          : text.startsWith('with bench_record')
            ? 'read+insert'
            : text.startsWith('select "p".*')
              ? 'bare select'
              : text === 'commit'
                ? 'commit'
                : text.slice(0, 24);
    const passes: Array<[string, (subjectId: number) => Promise<void>]> = [
      ['bare', bareRead],
      ['bare+insert', recordedRead],
      ['gated', gatedRead],
    ];
    if (!process.env.KLUIS_BENCH_DATABASE_URL) {
      // The bench's own throwaway server: time the WAL fsyncs too (pg_stat_io.fsync_time).
      await ownerQuery(bench.ownerUrl, 'alter system set track_wal_io_timing = on');
      await ownerQuery(bench.ownerUrl, 'select pg_reload_conf()');
    }
    for (const [name, read] of passes) {
      const before = await walCounters(bench.ownerUrl);
      const started = process.hrtime.bigint();
      const statements = await timeStatements(kindOf, async () => {
        for (let i = 0; i < READS; i += 1) await read(pick(i));
      });
      const perRead = Number(process.hrtime.bigint() - started) / 1e6 / READS;
      const after = await walCounters(bench.ownerUrl);
      const wal = before && after ? `; ${walDelta(before, after, READS)}` : '';
      profile += `; ${name}: ${perRead.toFixed(2)} ms per read (${Object.entries(statements)
        .map(([kind, { median, count }]) => `${kind} ${median.toFixed(2)} ms ×${count}`)
        .join(', ')})${wal}`;
    }
    // Node CPU per read, one client and CLIENTS at once, each pass after the statement timer is gone.
    const cpu: string[] = [];
    for (const [name, read] of passes) {
      const one = await nodeCpuPerOperation(READS, async () => {
        for (let i = 0; i < READS; i += 1) await read(pick(i));
      });
      const many = await nodeCpuPerOperation(READS, concurrently(read));
      cpu.push(`${name} ${one.toFixed(0)} / ${many.toFixed(0)} µs`);
    }
    profile += `; Node CPU per read, one client / ${CLIENTS} clients: ${cpu.join(', ')}`;
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
      note: `ratio = our rate / baseline rate (median of paired repeats)${profile ? `; statements, one client, ${READS} reads each${profile}` : ''}`,
    },
    {
      scenario: 'gate',
      metric: `${READS} reads of one person through gate + audit, against a read that durably records itself`,
      value: (READS / sequentialDurable.ours.median) * 1000,
      unit: 'reads/s',
      baseline: {
        what: "the same bare read whose statement also inserts one row of the audit entry's shape (durable commit)",
        value: (READS / sequentialDurable.baseline.median) * 1000,
        unit: 'reads/s',
      },
      ratio: sequentialDurable.ratio.median,
      ratioRange: [sequentialDurable.ratio.min, sequentialDurable.ratio.max],
      note: 'ratio = our rate / baseline rate (median of paired repeats); the physical limit of an audited read (decision 0450)',
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
    {
      scenario: 'gate',
      metric: `${READS} reads by ${CLIENTS} concurrent clients through gate + audit, against reads that durably record themselves`,
      value: (READS / parallelDurable.ours.median) * 1000,
      unit: 'reads/s',
      baseline: {
        what: `the same bare reads, each also inserting one row of the audit entry's shape, by ${CLIENTS} concurrent clients`,
        value: (READS / parallelDurable.baseline.median) * 1000,
        unit: 'reads/s',
      },
      ratio: parallelDurable.ratio.median,
      ratioRange: [parallelDurable.ratio.min, parallelDurable.ratio.max],
      note: 'ratio = our rate / baseline rate (median of paired repeats); the physical limit of an audited read (decision 0450)',
    },
  ];
}
