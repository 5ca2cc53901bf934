import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../src/http/app.js';
import { createPerson, getPerson, type UseCaseContext } from '../src/modules/parties/index.js';
import { createApiToken, createStaffUser } from '../src/modules/staff/index.js';
import { createTenant } from '../src/modules/tenants/index.js';
import { durableRecord, readPersonBare } from './bare-read.js';
import { benchLogger, type BenchDatabase, type Figure } from './harness.js';

const run = promisify(execFile);
const PEOPLE = 64;
const CONNECTIONS = 8;
const SECONDS = Number(process.env.KLUIS_BENCH_HTTP_SECONDS ?? 5);
const REPEATS = 3;

interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

/**
 * A gated `GET /api/v1/people/{id}` (API token, declared purpose, gate, subject states, audit,
 * decryption, presenter) under load from a second process on loopback (autocannon, CONNECTIONS
 * keep-alive connections, different people in turn), against three bare Fastify routes in the same
 * process that send the same fields:
 * - the same person statement and decryption (the issue's figure);
 * - the same read whose statement also durably records itself (the gate's second baseline,
 *   decision 0450: the ceiling of any read whose record must be durable before its data leaves);
 * - the same gated read (`getPerson`: gate, states, audit, decryption) without Kluis's HTTP layer
 *   (no token, no purpose header, no hooks, no presenter), so the HTTP layer's own cost shows
 *   (decision 0730).
 * All servers are measured in turn (bare, durable, gated, ours, …) so that load spikes hit all alike.
 */
export async function benchHttp(bench: BenchDatabase): Promise<Figure[]> {
  const { kernel } = bench;
  const tenant = await createTenant(bench.db, { slug: 'bench-http', name: 'HTTP bench' });
  await kernel.policies.install(
    tenant.tenantId,
    await readFile('policies/voiceking.yaml', 'utf8'),
    'policies/voiceking.yaml',
  );
  const staff = await createStaffUser(
    kernel,
    tenant.tenantId,
    { kind: 'system', job: 'bench' },
    { email: 'billing@bench.example', displayName: 'Bench billing', role: 'billing' },
  );
  const { token } = await createApiToken(
    kernel,
    tenant.tenantId,
    { kind: 'staff', staffId: staff.staffId, role: 'billing' },
    { label: 'bench', role: 'billing' },
  );
  const sales: UseCaseContext = {
    tenantId: tenant.tenantId,
    actor: { kind: 'staff', staffId: staff.staffId, role: 'sales' },
    purpose: 'order_processing',
  };
  const ids: number[] = [];
  for (let i = 0; i < PEOPLE; i += 1) {
    const person = await createPerson(kernel, sales, {
      subjectType: 'customer',
      familyName: `Http${i}`,
      givenName: 'Reader',
      email: `http${i}@bench.example`,
      phone: `+3247100${String(i).padStart(4, '0')}`,
    });
    ids.push(person.subjectId);
  }

  const app = await buildApp({ kernel, logger: benchLogger, version: 'bench' });
  const record = await durableRecord(bench.ownerUrl, tenant.tenantId, 'bench_http_record');
  const tokenContext: UseCaseContext = {
    tenantId: tenant.tenantId,
    actor: { kind: 'staff', staffId: staff.staffId, role: 'billing' },
    purpose: 'order_processing',
  };
  const bare = Fastify({ logger: false });
  bare.get<{ Params: { id: string } }>('/bare/people/:id', async (request, reply) => {
    const person = await readPersonBare(bench.db, kernel, tenant.tenantId, {
      subjectId: Number(request.params.id),
    });
    return person ? person : reply.status(404).send({ code: 'not_found' });
  });
  bare.get<{ Params: { id: string } }>('/durable/people/:id', async (request, reply) => {
    const person = await readPersonBare(
      bench.db,
      kernel,
      tenant.tenantId,
      { subjectId: Number(request.params.id) },
      { record },
    );
    return person ? person : reply.status(404).send({ code: 'not_found' });
  });
  bare.get<{ Params: { id: string } }>('/gated/people/:id', async (request) =>
    getPerson(kernel, tokenContext, Number(request.params.id)),
  );
  const origin = async (server: FastifyInstance): Promise<string> => {
    await server.listen({ host: '127.0.0.1', port: 0 });
    return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  };
  const ourOrigin = await origin(app);
  const bareOrigin = await origin(bare);
  type Target = 'ours' | 'bare' | 'durable' | 'gated';
  const load = async (target: Target, seconds: number): Promise<LoadResult> => {
    const options =
      target === 'ours'
        ? {
            origin: ourOrigin,
            path: '/api/v1/people/:id',
            headers: { authorization: `Bearer ${token}`, 'x-kluis-purpose': 'order_processing' },
          }
        : { origin: bareOrigin, path: `/${target}/people/:id`, headers: {} };
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/http-load.ts',
        JSON.stringify({ ...options, ids, connections: CONNECTIONS, seconds }),
      ],
      { maxBuffer: 1 << 20 },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as LoadResult;
    if (result.failures > 0 || result.requests === 0) {
      throw new Error(
        `bench http: ${target} answered ${result.failures} of ${result.requests} requests badly`,
      );
    }
    return result;
  };
  try {
    const targets: Target[] = ['bare', 'durable', 'gated', 'ours'];
    for (const target of targets) await load(target, 1);
    const samples: Array<Record<Target, LoadResult>> = [];
    for (let i = 0; i < REPEATS; i += 1) {
      const sample: Partial<Record<Target, LoadResult>> = {};
      for (const target of targets) sample[target] = await load(target, SECONDS);
      samples.push(sample as Record<Target, LoadResult>);
    }
    const median = (values: number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    const figure = (
      baselineTarget: Exclude<Target, 'ours'>,
      metric: string,
      what: string,
      extra: { goal?: number; note?: string },
    ): Figure => {
      const ratios = samples.map((sample) => sample.ours.perSecond / sample[baselineTarget].perSecond);
      const latency = (target: Target): string =>
        `${median(samples.map((s) => s[target].p50))}/${median(samples.map((s) => s[target].p99))} ms`;
      return {
        scenario: 'http',
        metric,
        value: median(samples.map((sample) => sample.ours.perSecond)),
        unit: 'requests/s',
        baseline: {
          what,
          value: median(samples.map((sample) => sample[baselineTarget].perSecond)),
          unit: 'requests/s',
        },
        ratio: median(ratios),
        ratioRange: [Math.min(...ratios), Math.max(...ratios)],
        ...(extra.goal === undefined ? {} : { goal: extra.goal }),
        note: `ratio = our rate / baseline rate (median of ${REPEATS} paired ${SECONDS} s runs); latency p50/p99 ours ${latency('ours')}, baseline ${latency(baselineTarget)}${extra.note ? `; ${extra.note}` : ''}`,
      };
    };
    const ours = `GET /api/v1/people/{id} (API token, gate, audit), ${CONNECTIONS} connections from autocannon in a second process`;
    return [
      figure(
        'bare',
        ours,
        'a bare Fastify route in the same process running the same person statement and decryption',
        { goal: 0.8 },
      ),
      figure(
        'durable',
        `${ours}, against a bare route whose read durably records itself`,
        "a bare Fastify route running the same read whose statement also inserts one row of the audit entry's shape (durable commit)",
        { note: 'the ceiling of a read whose record must be durable before its data leaves (decision 0450)' },
      ),
      figure(
        'gated',
        `${ours}, against a bare route running the same gated read`,
        'a bare Fastify route running the same gated read (gate, states, audit, decryption) with no token, purpose header, hooks or presenter',
        { note: "Kluis's HTTP layer's own cost (decision 0730)" },
      ),
    ];
  } finally {
    await app.close();
    await bare.close();
  }
}
