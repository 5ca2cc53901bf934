import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { DATA_MAP } from '../src/modules/data-map.js';
import { runRetentionSweep } from '../src/modules/retention/index.js';
import { createTenant } from '../src/modules/tenants/index.js';
import type { BenchDatabase, Figure } from './harness.js';

/** People in the swept tenant (issue 16: 1,000,000); one in ten is due. Smaller to try it quickly. */
const PEOPLE = Number(process.env.KLUIS_BENCH_SWEEP_PEOPLE ?? 1_000_000);
/** Persons erased per transaction (decision 0191); unset = the sweep's default. 1 = one by one. */
const BATCH = process.env.KLUIS_BENCH_SWEEP_BATCH;

/**
 * Fills a tenant with PEOPLE prospects (VoiceKing policy: inactivity_3y), one in ten inactive for
 * four years, straight through SQL (the load is not what is measured).
 */
async function fill(ownerUrl: string, tenantId: number): Promise<number> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query('begin');
    await client.query("select set_config('app.tenant', $1, true)", [String(tenantId)]);
    await client.query(
      `insert into data_subjects (tenant_id, subject_type, last_activity_at, last_received_at, created_at)
       select $1::int, 'prospect',
              case when g % 10 = 0 then now() - interval '4 years' else now() - interval '1 year' end,
              now() - interval '5 years', now() - interval '5 years'
         from generate_series(1, $2::int) g`,
      [tenantId, PEOPLE],
    );
    await client.query(
      `insert into people (tenant_id, subject_id, family_name, given_name, source)
       select tenant_id, subject_id, 'Bench' || subject_id, 'Jo', 'data_subject'
         from data_subjects where tenant_id = $1::int`,
      [tenantId],
    );
    const due = await client.query<{ n: number }>(
      `select count(*)::int as n from data_subjects where tenant_id = $1::int and last_activity_at < now() - interval '3 years'`,
      [tenantId],
    );
    await client.query('commit');
    await client.query('analyze data_subjects');
    await client.query('analyze people');
    return due.rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

/**
 * Issue 16's scale figure: the retention sweep over a tenant of PEOPLE persons of whom a tenth are
 * due (each erased through the data-map walk with a deletion certificate), as a ratio against a
 * bare `DELETE` of the same rows from an identical second tenant in the same run; peak RSS growth.
 */
export async function benchRetentionSweep(bench: BenchDatabase): Promise<Figure[]> {
  const { kernel } = bench;
  const policy = await readFile('policies/voiceking.yaml', 'utf8');
  const swept = await createTenant(bench.db, { slug: 'bench-sweep', name: 'Sweep bench' });
  const bare = await createTenant(bench.db, { slug: 'bench-sweep-bare', name: 'Sweep baseline' });
  for (const tenant of [swept, bare]) {
    await kernel.policies.install(tenant.tenantId, policy, 'policies/voiceking.yaml');
  }
  const due = await fill(bench.ownerUrl, swept.tenantId);
  await fill(bench.ownerUrl, bare.tenantId);

  const client = new pg.Client({ connectionString: bench.ownerUrl });
  await client.connect();
  let bareMs: number;
  try {
    const started = process.hrtime.bigint();
    await client.query('begin');
    await client.query("select set_config('app.tenant', $1, true)", [String(bare.tenantId)]);
    await client.query(
      `delete from people where tenant_id = $1::int and subject_id in (
         select subject_id from data_subjects where tenant_id = $1::int and last_activity_at < now() - interval '3 years')`,
      [bare.tenantId],
    );
    await client.query('commit');
    bareMs = Number(process.hrtime.bigint() - started) / 1e6;
  } finally {
    await client.end();
  }

  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const started = process.hrtime.bigint();
  const result = await runRetentionSweep(
    kernel,
    DATA_MAP,
    swept.tenantId,
    BATCH === undefined ? {} : { batchSize: Number(BATCH) },
  );
  const sweepMs = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(sampler);
  if (result.peopleErased !== due) {
    throw new Error(`the sweep erased ${result.peopleErased} people, ${due} were due`);
  }
  return [
    {
      scenario: 'retention-sweep',
      metric: `sweep of ${PEOPLE} people, ${due} due (erased with a certificate each${BATCH === undefined ? '' : `, batches of ${BATCH}`})`,
      value: sweepMs,
      unit: 'ms',
      baseline: { what: 'bare DELETE of the same people rows (identical tenant)', value: bareMs, unit: 'ms' },
      ratio: bareMs / sweepMs,
      note: 'ratio = baseline time / our time',
    },
    {
      scenario: 'retention-sweep',
      metric: 'peak RSS growth during the sweep',
      value: (peak - rssBefore) / 1e6,
      unit: 'MB',
    },
  ];
}
