import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { streamPortabilityZip, writeAccessReportJson } from '../src/kernel/access-report/index.js';
import { DATA_MAP } from '../src/modules/data-map.js';
import { createPerson } from '../src/modules/parties/index.js';
import { createTenant } from '../src/modules/tenants/index.js';
import { pairedMs, type BenchDatabase, type Figure } from './harness.js';

const CALLS = Number(process.env.KLUIS_BENCH_EXPORT_CALLS ?? 200_000);
const REPEATS = 3;

/** Counts bytes, keeps nothing: the export's memory is what is measured, not the sink's. */
function byteCounter(): Writable & { bytes: number } {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      sink.bytes += chunk.length;
      done();
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}

/**
 * VK-21 / VK-25 for one person with a long history (CALLS call records over a year): the access
 * report (JSON) and the streamed portability ZIP, each as a ratio against a bare `COPY (SELECT …)
 * TO STDOUT` of the same person's rows in the same run; peak RSS growth of the streamed export.
 */
export async function benchRightsExport(bench: BenchDatabase): Promise<Figure[]> {
  const { kernel } = bench;
  const tenant = await createTenant(bench.db, { slug: 'bench-rights', name: 'Rights bench' });
  await kernel.policies.install(
    tenant.tenantId,
    await readFile('policies/voiceking.yaml', 'utf8'),
    'policies/voiceking.yaml',
  );
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: 'Veelbeller',
      givenName: 'Vic',
      email: 'vic@bench.example',
      phone: '+32470000001',
    },
  );
  const owner = new pg.Client({ connectionString: bench.ownerUrl });
  await owner.connect();
  try {
    await owner.query('begin');
    await owner.query("select set_config('app.tenant', $1, true)", [String(tenant.tenantId)]);
    for (let month = 0; month < 12; month += 1)
      await owner.query('select kluis_ensure_call_record_partition($1::date)', [
        `2026-${String(month + 1).padStart(2, '0')}-01`,
      ]);
    await owner.query(
      `insert into call_records (tenant_id, started_at, dedup_key, subject_id, caller_e164, destination, answered_at, ended_at,
         duration_seconds, billable_seconds, disposition, is_billable_leg, linked_id, cost_micros)
       select $1::int, timestamptz '2026-01-01' + ((g - 1) * (interval '364 days' / $3::int)), 'k' || g, $2::bigint, '+32470000001',
              '+3256' || lpad((g % 1000000)::text, 6, '0'), timestamptz '2026-01-01' + ((g - 1) * (interval '364 days' / $3::int)) + interval '2 seconds',
              timestamptz '2026-01-01' + ((g - 1) * (interval '364 days' / $3::int)) + interval '95 seconds', 95, 93, 'answered', true, null, 12000
         from generate_series(1, $3::int) g`,
      [tenant.tenantId, person.subjectId, CALLS],
    );
    await owner.query('commit');
    await owner.query('analyze call_records');
  } finally {
    await owner.end();
  }
  const options = {
    tenantId: tenant.tenantId,
    actor: { kind: 'system' as const, job: 'bench' },
    purpose: 'rights_requests',
    subjectId: person.subjectId,
    language: 'nl' as const,
  };

  const bareCopy = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: bench.ownerUrl });
    await client.connect();
    try {
      await pipeline(
        client.query(
          copyTo(
            `COPY (SELECT * FROM call_records WHERE tenant_id = ${tenant.tenantId} AND subject_id = ${person.subjectId}) TO STDOUT`,
          ),
        ),
        byteCounter(),
      );
    } finally {
      await client.end();
    }
  };
  /** Peak RSS growth over the runs of `work` (sampled every 20 ms), from a collected heap. */
  const peakGrowth = async <T>(work: () => Promise<T>): Promise<{ result: T; growthMb: number }> => {
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      const result = await work();
      peak = Math.max(peak, process.memoryUsage().rss);
      return { result, growthMb: (peak - before) / 1e6 };
    } finally {
      clearInterval(sampler);
    }
  };
  /**
   * Node's CPU time (all its threads: the deflate runs on libuv's pool) per run of `work`: on a
   * loaded machine a steadier measure than the wall clock (decision 0430).
   */
  const cpuOf = (work: () => Promise<void>): { run: () => Promise<void>; perRunMs: () => number } => {
    let total = 0;
    let runs = 0;
    return {
      run: async () => {
        const start = process.cpuUsage();
        await work();
        const used = process.cpuUsage(start);
        total += (used.user + used.system) / 1000;
        runs += 1;
      },
      perRunMs: () => (runs === 0 ? 0 : total / runs),
    };
  };
  const baselineCpu = cpuOf(bareCopy);
  let reportBytes = 0;
  const reportCpu = cpuOf(async () => {
    const sink = byteCounter();
    await writeAccessReportJson(kernel, DATA_MAP, options, sink);
    reportBytes = sink.bytes;
  });
  const report = await peakGrowth(() => pairedMs(REPEATS, reportCpu.run, baselineCpu.run));
  let zipBytes = 0;
  const zipCpu = cpuOf(async () => {
    const sink = byteCounter();
    await streamPortabilityZip(kernel, DATA_MAP, options, sink);
    zipBytes = sink.bytes;
  });
  const zip = await peakGrowth(() => pairedMs(REPEATS, zipCpu.run, baselineCpu.run));
  const baseline = (timing: { median: number }) => ({
    what: 'bare COPY (SELECT …) TO STDOUT of the same rows',
    value: timing.median,
    unit: 'ms',
  });
  return [
    {
      scenario: 'rights-export',
      metric: `access report (JSON, streamed, ${(reportBytes / 1e6).toFixed(1)} MB) for one person with ${CALLS} call records`,
      value: report.result.ours.median,
      unit: 'ms',
      baseline: baseline(report.result.baseline),
      ratio: report.result.ratio.median,
      ratioRange: [report.result.ratio.min, report.result.ratio.max],
      goal: 0.5,
      note: 'ratio = baseline time / our time',
    },
    {
      scenario: 'rights-export',
      metric: 'peak RSS growth during the streamed access report',
      value: report.growthMb,
      unit: 'MB',
    },
    {
      scenario: 'rights-export',
      metric: `portability ZIP (streamed, ${(zipBytes / 1e6).toFixed(1)} MB) for one person with ${CALLS} call records`,
      value: zip.result.ours.median,
      unit: 'ms',
      baseline: baseline(zip.result.baseline),
      ratio: zip.result.ratio.median,
      ratioRange: [zip.result.ratio.min, zip.result.ratio.max],
      goal: 0.5,
      note: 'ratio = baseline time / our time',
    },
    {
      scenario: 'rights-export',
      metric: 'peak RSS growth during the streamed portability ZIP',
      value: zip.growthMb,
      unit: 'MB',
      note: 'goal < 64 MB',
    },
    {
      scenario: 'rights-export',
      metric: 'Node CPU per run (all threads): access report',
      value: reportCpu.perRunMs(),
      unit: 'ms',
      baseline: { what: 'Node CPU per bare COPY run', value: baselineCpu.perRunMs(), unit: 'ms' },
    },
    {
      scenario: 'rights-export',
      metric: 'Node CPU per run (all threads): portability ZIP',
      value: zipCpu.perRunMs(),
      unit: 'ms',
      baseline: { what: 'Node CPU per bare COPY run', value: baselineCpu.perRunMs(), unit: 'ms' },
    },
  ];
}
