import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../src/http/app.js';
import { createPerson, type UseCaseContext } from '../src/modules/parties/index.js';
import { createApiToken, createStaffUser } from '../src/modules/staff/index.js';
import { createTenant } from '../src/modules/tenants/index.js';
import { readPersonBare } from './bare-read.js';
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
 * keep-alive connections, different people in turn), against a bare Fastify route in the same
 * process that runs the same person statement and decryption and sends the same fields. Both
 * servers are measured in turn (bare, ours, bare, ours, …) so that load spikes hit both alike.
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
  const bare = Fastify({ logger: false });
  bare.get<{ Params: { id: string } }>('/bare/people/:id', async (request, reply) => {
    const person = await readPersonBare(bench.db, kernel, tenant.tenantId, {
      subjectId: Number(request.params.id),
    });
    return person ? person : reply.status(404).send({ code: 'not_found' });
  });
  const origin = async (server: FastifyInstance): Promise<string> => {
    await server.listen({ host: '127.0.0.1', port: 0 });
    return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  };
  const ourOrigin = await origin(app);
  const bareOrigin = await origin(bare);
  const load = async (target: 'ours' | 'bare', seconds: number): Promise<LoadResult> => {
    const options =
      target === 'ours'
        ? {
            origin: ourOrigin,
            path: '/api/v1/people/:id',
            headers: { authorization: `Bearer ${token}`, 'x-kluis-purpose': 'order_processing' },
          }
        : { origin: bareOrigin, path: '/bare/people/:id', headers: {} };
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
    await load('bare', 1);
    await load('ours', 1);
    const samples: Array<{ ours: LoadResult; bare: LoadResult }> = [];
    for (let i = 0; i < REPEATS; i += 1) {
      const bareRun = await load('bare', SECONDS);
      samples.push({ bare: bareRun, ours: await load('ours', SECONDS) });
    }
    const median = (values: number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    const ratios = samples.map((sample) => sample.ours.perSecond / sample.bare.perSecond);
    return [
      {
        scenario: 'http',
        metric: `GET /api/v1/people/{id} (API token, gate, audit), ${CONNECTIONS} connections from autocannon in a second process`,
        value: median(samples.map((sample) => sample.ours.perSecond)),
        unit: 'requests/s',
        baseline: {
          what: 'a bare Fastify route in the same process running the same person statement and decryption',
          value: median(samples.map((sample) => sample.bare.perSecond)),
          unit: 'requests/s',
        },
        ratio: median(ratios),
        ratioRange: [Math.min(...ratios), Math.max(...ratios)],
        goal: 0.8,
        note: `ratio = our rate / bare rate (median of ${REPEATS} paired ${SECONDS} s runs); latency p50/p99 ours ${median(samples.map((s) => s.ours.p50))}/${median(samples.map((s) => s.ours.p99))} ms, bare ${median(samples.map((s) => s.bare.p50))}/${median(samples.map((s) => s.bare.p99))} ms`,
      },
    ];
  } finally {
    await app.close();
    await bare.close();
  }
}
